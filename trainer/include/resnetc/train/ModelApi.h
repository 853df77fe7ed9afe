//===- ModelApi.h - A generated training library, as a table -------*- C++ -*-===//
//
// The trainer is written once for every model: it calls a generated library
// through this table of its functions and shapes. A program that links a
// library fills it with the library's functions (examples/train); `resnetc
// train` fills it from the shared object it builds and loads.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TRAIN_MODELAPI_H
#define RESNETC_TRAIN_MODELAPI_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "resnetc/runtime/ModelApiList.h"

namespace resnetc::train {

/// The generated C API with the context as an opaque pointer, one member
/// per entry of runtime/include/resnetc/runtime/ModelApiList.h. Every function
/// returns the library's status code (0 is success). Members a library lacks
/// (the training ones of an inference library) are null.
struct ModelApi {
  std::string name;
  int64_t batch = 0, channels = 0, height = 0, width = 0, classes = 0;

  void *(*create)() = nullptr;
#define CTX void *
#define CONST_CTX const void *
#define RESNETC_MODEL_API_MEMBER_(A, B, name, Field, Result, Params, Signature, Training, Doc)     \
  Result(*Field) Params = nullptr;
  RESNETC_MODEL_API_LIST(RESNETC_MODEL_API_MEMBER_, _, _)
#undef RESNETC_MODEL_API_MEMBER_
#undef CONST_CTX
#undef CTX

  int64_t imageValues() const { return channels * height * width; }
};

} // namespace resnetc::train

/// Fills a ModelApi from the functions and constants of a generated header
/// of a training library: RESNETC_FILL_MODEL_API(api, resnet20, RESNET20).
/// The casts only change the context's pointer type, which the C ABI passes
/// alike. The arguments may be macros: they are expanded before they are
/// pasted.
#define RESNETC_FILL_MODEL_API(api, model, MODEL) RESNETC_FILL_MODEL_API_(api, model, MODEL)
#define RESNETC_FILL_MODEL_API_(api, model, MODEL)                                                 \
  do {                                                                                             \
    (api).name = RESNETC_STRINGIFY_(model);                                                        \
    (api).batch = MODEL##_BATCH;                                                                   \
    (api).channels = MODEL##_INPUT_CHANNELS;                                                       \
    (api).height = MODEL##_INPUT_HEIGHT;                                                           \
    (api).width = MODEL##_INPUT_WIDTH;                                                             \
    (api).classes = MODEL##_CLASSES;                                                               \
    (api).create = reinterpret_cast<void *(*)()>(&model##_create);                                 \
    RESNETC_MODEL_API_LIST(RESNETC_FILL_MODEL_API_ONE_, api, model)                                \
  } while (false)
#define RESNETC_FILL_MODEL_API_ONE_(api, model, name, Field, Result, Params, Signature, Training,  \
                                    Doc)                                                           \
  (api).Field = reinterpret_cast<decltype((api).Field)>(&model##_##name);

#define RESNETC_STRINGIFY_(x) #x

#endif // RESNETC_TRAIN_MODELAPI_H
