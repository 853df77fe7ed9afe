//===- RemoteModels.cpp - Cross-compiled libraries, run under qemu --------===//
//
// The tables of test/codegen (CompiledModels.h, CompiledTraining.h) for
// libraries compiled for another architecture: every API call runs
// model-tool (test/cross/target/model_tool.cpp) under qemu, and the state of
// a context (weights, then checkpoints with the momentum buffers) lives in
// files between calls. The numerics tests of test/codegen then run unchanged
// against the target's code, with the host's tolerances.
//
//===----------------------------------------------------------------------===//

#include "CompiledModels.h"
#include "CompiledTraining.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

using namespace resnetc::test;

namespace {

struct RemoteNetwork {
  const char *name;
  int64_t batch, channels, height, width, classes;
};

// The networks test/cross/target compiles (model-tool-<name>).
constexpr RemoteNetwork kNetworks[] = {{"resnet20", 4, 3, 32, 32, 10},
                                       {"train_mixed", 2, 3, 32, 32, 7},
                                       {"train_grouped", 2, 3, 16, 16, 5},
                                       {"train_wide", 3, 3, 12, 12, 4},
                                       {"train_se", 2, 3, 12, 12, 5}};

struct RemoteContext {
  const RemoteNetwork *network;
  std::string folder, state, error;
  int files = 0;

  std::string newFile(const char *suffix) {
    return folder + "/" + std::to_string(++files) + suffix;
  }

  /// Runs model-tool with `arguments`; returns its status (the library's
  /// code) and keeps its stderr as the error message, its stdout in `out`.
  int32_t call(std::vector<std::string> arguments, std::string *out = nullptr) {
    std::string tool = std::string(RESNETC_CROSS_TOOLS_DIR) + "/model-tool-" + network->name;
    std::vector<llvm::StringRef> argv = {RESNETC_QEMU, tool};
    for (const std::string &argument : arguments)
      argv.push_back(argument);
    std::string stdoutPath = newFile(".out"), stderrPath = newFile(".err");
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(stdoutPath),
                                                  llvm::StringRef(stderrPath)};
    std::string message;
    int status =
        llvm::sys::ExecuteAndWait(RESNETC_QEMU, argv, std::nullopt, redirects, 600, 0, &message);
    auto read = [](const std::string &path) {
      auto buffer = llvm::MemoryBuffer::getFile(path);
      return buffer ? (*buffer)->getBuffer().str() : std::string();
    };
    error = status < 0 ? "cannot run " + tool + " under qemu: " + message : read(stderrPath);
    while (!error.empty() && error.back() == '\n')
      error.pop_back();
    if (out)
      *out = read(stdoutPath);
    return status < 0 ? 100 : status;
  }
};

template <typename T> std::string writeValues(RemoteContext *ctx, const T *values, size_t count) {
  std::string path = ctx->newFile(".bin");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(values), std::streamsize(count * sizeof(T)));
  return path;
}

RemoteContext *as(const void *ctx) { return static_cast<RemoteContext *>(const_cast<void *>(ctx)); }

template <int Index> void *create() {
  auto *ctx = new RemoteContext{&kNetworks[Index], "", "", "", 0};
  llvm::SmallString<128> folder;
  if (llvm::sys::fs::createUniqueDirectory("resnetc-remote", folder))
    return nullptr;
  ctx->folder = folder.str().str();
  return ctx;
}

void destroy(void *ctx) {
  if (!ctx)
    return;
  llvm::sys::fs::remove_directories(as(ctx)->folder);
  delete as(ctx);
}

int32_t loadWeights(void *ctx, const void *data, size_t size) {
  std::string path = writeValues(as(ctx), static_cast<const char *>(data), size);
  int32_t status = as(ctx)->call({"load-weights", path});
  if (status == 0)
    as(ctx)->state = "weights:" + path;
  return status;
}

int32_t setThreads(void *, int32_t) { return 0; } // the tool runs with one per core

int32_t run(void *ctx, const float *input, size_t inputCount, float *logits, size_t logitsCount) {
  RemoteContext *c = as(ctx);
  std::string in = writeValues(c, input, inputCount), out = c->newFile(".f32");
  int32_t status = c->call({"run", c->state, in, out});
  if (status == 0)
    std::ifstream(out, std::ios::binary)
        .read(reinterpret_cast<char *>(logits), std::streamsize(logitsCount * sizeof(float)));
  return status;
}

int32_t trainStep(void *ctx, const float *images, size_t imageCount, const int32_t *labels,
                  size_t labelCount, float rate, float *loss, int32_t *correct) {
  RemoteContext *c = as(ctx);
  std::string in = writeValues(c, images, imageCount);
  std::string classes = writeValues(c, labels, labelCount), next = c->newFile(".ckpt");
  std::string out;
  char lr[32];
  std::snprintf(lr, sizeof(lr), "%.9g", double(rate));
  int32_t status = c->call({"train", c->state, next, in, classes, lr}, &out);
  if (status != 0)
    return status;
  c->state = "checkpoint:" + next;
  float l = 0;
  int k = 0;
  std::sscanf(out.c_str(), "%f %d", &l, &k);
  if (loss)
    *loss = l;
  if (correct)
    *correct = k;
  return 0;
}

int32_t saveWeights(void *ctx, const char *path) {
  return as(ctx)->call({"save", as(ctx)->state, path});
}

int32_t saveCheckpoint(void *ctx, const char *path, const char *const *keys, const double *values,
                       int64_t count) {
  std::vector<std::string> arguments = {"checkpoint", as(ctx)->state, path};
  for (int64_t i = 0; i < count; ++i) {
    char value[64];
    std::snprintf(value, sizeof(value), "%.17g", values[i]);
    arguments.push_back(std::string(keys[i]) + "=" + value);
  }
  return as(ctx)->call(arguments);
}

int32_t loadCheckpoint(void *ctx, const char *path) {
  int32_t status = as(ctx)->call({"load-checkpoint", path});
  if (status == 0)
    as(ctx)->state = std::string("checkpoint:") + path;
  return status;
}

int32_t checkpointValue(const void *ctx, const char *key, double *value) {
  std::string out;
  int32_t status = as(ctx)->call({"value", as(ctx)->state, key}, &out);
  if (status == 0)
    *value = std::strtod(out.c_str(), nullptr);
  return status;
}

const char *errorMessage(const void *ctx) { return as(ctx)->error.c_str(); }

template <int Index> TrainingModel trainingEntry() {
  const RemoteNetwork &n = kNetworks[Index];
  return {n.name,         n.batch,        n.channels,      n.height,    n.width,   n.classes,
          create<Index>,  destroy,        loadWeights,     run,         trainStep, saveWeights,
          saveCheckpoint, loadCheckpoint, checkpointValue, errorMessage};
}

} // namespace

const std::vector<TrainingModel> &resnetc::test::trainingModels() {
  static const std::vector<TrainingModel> models = {trainingEntry<0>(), trainingEntry<1>(),
                                                    trainingEntry<2>(), trainingEntry<3>(),
                                                    trainingEntry<4>()};
  return models;
}

template <int Index> CompiledModel compiledEntry() {
  const RemoteNetwork &n = kNetworks[Index]; // training libraries also infer
  return {n.name,        n.batch, n.channels,  n.height,   n.width, n.classes,
          create<Index>, destroy, loadWeights, setThreads, run,     errorMessage};
}

const std::vector<CompiledModel> &resnetc::test::compiledModels() {
  // ResNet-20, and the ResNet family's layers (grouped, dilated, dropout, gates).
  static const std::vector<CompiledModel> models = {compiledEntry<0>(), compiledEntry<2>(),
                                                    compiledEntry<3>(), compiledEntry<4>()};
  return models;
}
