//===- CompiledModels.h - The generated libraries linked into the tests -*- C++ -*-===//

#ifndef RESNETC_TEST_CODEGEN_COMPILEDMODELS_H
#define RESNETC_TEST_CODEGEN_COMPILEDMODELS_H

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

namespace resnetc::test {

/// One generated library's API, through plain function pointers.
struct CompiledModel {
  const char *name;
  int64_t batch, channels, height, width, classes;
  void *(*create)();
  void (*destroy)(void *);
  int32_t (*loadWeights)(void *, const void *, size_t);
  int32_t (*setThreads)(void *, int32_t);
  int32_t (*run)(void *, const float *, size_t, float *, size_t);
  const char *(*errorMessage)(const void *);
  int32_t (*saveWeights)(void *, const char *);
  int32_t (*normalize)(const void *, float *, size_t);
  int32_t (*inputNormalization)(const void *, float *, float *, size_t);
  int32_t (*setInputNormalization)(void *, const float *, const float *, size_t);
  const char *(*className)(const void *, int64_t);
  int32_t (*setClassNames)(void *, const char *const *, size_t);
};

const std::vector<CompiledModel> &compiledModels();

/// Test names and messages show the model's name, not its bytes.
inline void PrintTo(const CompiledModel &model, std::ostream *os) { *os << model.name; }

} // namespace resnetc::test

#endif // RESNETC_TEST_CODEGEN_COMPILEDMODELS_H
