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

namespace resnetc::train {

/// The generated C API with the context as an opaque pointer. Every function
/// returns the library's status code (0 is success).
struct ModelApi {
  std::string name;
  int64_t batch = 0, channels = 0, height = 0, width = 0, classes = 0;

  void *(*create)() = nullptr;
  void (*destroy)(void *ctx) = nullptr;
  int32_t (*setThreads)(void *ctx, int32_t threads) = nullptr;
  int32_t (*loadWeightsFile)(void *ctx, const char *path) = nullptr;
  int32_t (*run)(void *ctx, const float *input, size_t inputCount, float *logits,
                 size_t logitsCount) = nullptr;
  int32_t (*trainStep)(void *ctx, const float *images, size_t imageCount, const int32_t *labels,
                       size_t labelCount, float learningRate, float *loss,
                       int32_t *correct) = nullptr;
  int32_t (*saveWeights)(void *ctx, const char *path) = nullptr;
  int32_t (*saveCheckpoint)(void *ctx, const char *path, const char *const *keys,
                            const double *values, int64_t count) = nullptr;
  int32_t (*loadCheckpoint)(void *ctx, const char *path) = nullptr;
  int32_t (*checkpointValue)(const void *ctx, const char *key, double *value) = nullptr;
  const char *(*errorMessage)(const void *ctx) = nullptr;
  /// How inputs are fed (ModelHeader.cpp documents them). Null in a table
  /// filled by hand for a library that predates them.
  int32_t (*normalize)(const void *ctx, float *images, size_t count) = nullptr;
  int32_t (*setInputNormalization)(void *ctx, const float *mean, const float *stddev,
                                   size_t channels) = nullptr;
  int32_t (*setClassNames)(void *ctx, const char *const *names, size_t count) = nullptr;
  const char *(*className)(const void *ctx, int64_t k) = nullptr;

  int64_t imageValues() const { return channels * height * width; }
};

} // namespace resnetc::train

/// Fills a ModelApi from the functions and constants of a generated header:
/// RESNETC_FILL_MODEL_API(api, resnet20, RESNET20). The casts only change the
/// context's pointer type, which the C ABI passes alike. The arguments may be
/// macros: they are expanded before they are pasted.
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
    (api).destroy = reinterpret_cast<void (*)(void *)>(&model##_destroy);                          \
    (api).setThreads = reinterpret_cast<decltype((api).setThreads)>(&model##_set_threads);         \
    (api).loadWeightsFile =                                                                        \
        reinterpret_cast<decltype((api).loadWeightsFile)>(&model##_load_weights_file);             \
    (api).run = reinterpret_cast<decltype((api).run)>(&model##_run);                               \
    (api).trainStep = reinterpret_cast<decltype((api).trainStep)>(&model##_train_step);            \
    (api).saveWeights = reinterpret_cast<decltype((api).saveWeights)>(&model##_save_weights);      \
    (api).saveCheckpoint =                                                                         \
        reinterpret_cast<decltype((api).saveCheckpoint)>(&model##_save_checkpoint);                \
    (api).loadCheckpoint =                                                                         \
        reinterpret_cast<decltype((api).loadCheckpoint)>(&model##_load_checkpoint);                \
    (api).checkpointValue =                                                                        \
        reinterpret_cast<decltype((api).checkpointValue)>(&model##_checkpoint_value);              \
    (api).errorMessage = reinterpret_cast<decltype((api).errorMessage)>(&model##_error_message);   \
    (api).normalize = reinterpret_cast<decltype((api).normalize)>(&model##_normalize);             \
    (api).setInputNormalization = reinterpret_cast<decltype((api).setInputNormalization)>(        \
        &model##_set_input_normalization);                                                         \
    (api).setClassNames =                                                                          \
        reinterpret_cast<decltype((api).setClassNames)>(&model##_set_class_names);                 \
    (api).className = reinterpret_cast<decltype((api).className)>(&model##_class_name);            \
  } while (false)

#define RESNETC_STRINGIFY_(x) #x

#endif // RESNETC_TRAIN_MODELAPI_H
