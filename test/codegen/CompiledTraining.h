//===- CompiledTraining.h - Training libraries linked into the tests -*- C++ -*-===//

#ifndef RESNETC_TEST_CODEGEN_COMPILEDTRAINING_H
#define RESNETC_TEST_CODEGEN_COMPILEDTRAINING_H

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

namespace resnetc::test {

struct TrainingModel {
  const char *name;
  int64_t batch, channels, height, width, classes;
  void *(*create)();
  void (*destroy)(void *);
  int32_t (*loadWeights)(void *, const void *, size_t);
  int32_t (*run)(void *, const float *, size_t, float *, size_t);
  int32_t (*trainStep)(void *, const float *, size_t, const int32_t *, size_t, float, float *,
                       int32_t *);
  int32_t (*saveWeights)(void *, const char *);
  int32_t (*saveCheckpoint)(void *, const char *, const char *const *, const double *, int64_t);
  int32_t (*loadCheckpoint)(void *, const char *);
  int32_t (*checkpointValue)(const void *, const char *, double *);
  const char *(*errorMessage)(const void *);
};

const std::vector<TrainingModel> &trainingModels();

inline void PrintTo(const TrainingModel &model, std::ostream *os) { *os << model.name; }

} // namespace resnetc::test

#endif // RESNETC_TEST_CODEGEN_COMPILEDTRAINING_H
