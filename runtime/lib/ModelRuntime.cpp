//===- ModelRuntime.cpp - The runtime every generated model library holds -===//
//
// Contexts, weights loading and kernel invocation. Errors are returned as
// codes with a message kept in the context; nothing here aborts, and Halide's
// default error handler (which aborts) is replaced.
//
//===----------------------------------------------------------------------===//

#include "resnetc/runtime/ModelRuntime.h"
#include "resnetc/runtime/DeviceSpaces.h"
#include "resnetc/runtime/HugePages.h"
#include "resnetc/runtime/ParallelLoops.h"
#include "resnetc/runtime/RankAverager.h"
#include "resnetc/runtime/ScratchCache.h"
#include "resnetc/runtime/WeightsFile.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kLiveMagic = 0x7265736e65746321ull; // "resnetc!"

struct Context {
  uint64_t magic = kLiveMagic;
  const resnetc_rt_model *model = nullptr;
  uint8_t *arena = nullptr;
  uint8_t *weights = nullptr;
  /// GPU targets: the device copies of the spaces (inactive on CPUs).
  std::optional<resnetc::DeviceSpaces> device;
  bool weightsLoaded = false;
  std::vector<std::pair<std::string, double>> checkpointValues;
  /// From the last weights loaded, or set by the application (a trainer):
  /// written again by every save, so deployment facts are never lost.
  resnetc::InputInfo input;
  std::vector<std::string> classes;
  /// Data-parallel training: the buckets averaged over the ranks.
  resnetc::RankAverager ranks;
  /// Training: the learning rate in; the loss and the number correct out;
  /// dropout's {seed, step} in. Slots RESNETC_RT_SCALAR_SLOT_BYTES apart,
  /// where the kernels expect them.
  union alignas(64) {
    float f;
    int32_t i;
    int32_t pair[2];
    uint8_t slot[RESNETC_RT_SCALAR_SLOT_BYTES];
  } scalars[4] = {};
  /// Dropout's masks are a function of (seed, steps taken, layer, element):
  /// the steps are saved in checkpoints, so a resumed run draws the same.
  uint32_t randomSeed = 0;
  uint64_t trainSteps = 0;
  /// A backbone's training step is train_forward, then train_backward: the
  /// images kept between them, and whether the arena still holds the forward.
  std::vector<float> trainImages;
  bool forwardPending = false;
  char error[1024] = "";
};

/// The checkpoint's count of training steps (dropout's masks depend on it).
constexpr const char *kTrainStepsKey = "resnetc.train_steps";

Context *live(void *context) {
  auto *ctx = static_cast<Context *>(context);
  return ctx && ctx->magic == kLiveMagic ? ctx : nullptr;
}

int32_t fail(Context *ctx, int32_t code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(ctx->error, sizeof(ctx->error), format, args);
  va_end(args);
  return code;
}

uint8_t *allocate(int64_t bytes) {
  // 64-byte alignment for vector loads; at least one byte so malloc never
  // returns null for 0. Large blocks on huge pages (HugePages.h): at batch 1
  // the kernels stream the weights from memory.
  return static_cast<uint8_t *>(resnetc::allocateMaybeHuge(bytes ? size_t(bytes) : 64, 64));
}

/// Halide reports kernel errors here, with the context as user_context.
void onHalideError(void *userContext, const char *message) {
  if (Context *ctx = live(userContext))
    std::snprintf(ctx->error, sizeof(ctx->error), "kernel error: %s", message);
}

int64_t elementsOf(const int64_t *shape, int64_t rank) {
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i)
    count *= shape[i];
  return count;
}

} // namespace

extern "C" int32_t resnetc_rt_invoke(void *context, int (*kernel)(void **), int64_t count,
                                     const resnetc_rt_buffer *buffers, uint8_t *const *spaces) {
  constexpr int kMaxArgs = 16;
  if (count > kMaxArgs)
    return -1;
  halide_buffer_t halide[kMaxArgs];
  halide_dimension_t dims[kMaxArgs][4];
  uint64_t boundFlags[kMaxArgs];
  void *args[kMaxArgs + 1];
  args[0] = &context; // user_context is passed by address, like every scalar
  Context *ctx = live(context);
  resnetc::DeviceSpaces *device = ctx && ctx->device->active() ? &*ctx->device : nullptr;
  int64_t bound = 0;
  int32_t status = 0;
  for (int64_t i = 0; i < count; ++i) {
    const resnetc_rt_buffer &b = buffers[i];
    std::memset(&halide[i], 0, sizeof(halide_buffer_t));
    uint8_t *base = spaces[b.space];
    halide[i].host = base ? base + b.offset : nullptr;
    halide[i].type = b.type == RESNETC_RT_I32 ? halide_type_t(halide_type_int, 32)
                                              : halide_type_t(halide_type_float, 32);
    halide[i].dimensions = int32_t(b.rank);
    halide[i].dim = dims[i];
    for (int64_t d = 0; d < b.rank; ++d)
      dims[i][d] = halide_dimension_t(0, int32_t(b.extent[d]), int32_t(b.stride[d]));
    args[i + 1] = &halide[i];
    // GPU targets: the argument is a view of its space's device copy.
    if (device) {
      status = device->bind(ctx, int(b.space), b.offset, base, halide[i]);
      if (status != 0)
        break;
      boundFlags[i] = halide[i].flags;
      bound = i + 1;
    }
  }
  if (status == 0)
    status = kernel(args);
  for (int64_t i = 0; i < bound; ++i) {
    int32_t released = device->unbind(ctx, int(buffers[i].space), halide[i], boundFlags[i]);
    if (status == 0)
      status = released;
  }
  return status;
}

namespace {

// Halide's scratch memory goes through the scratch cache (ScratchCache.h).
// A block that another allocator made before (the application's own Halide
// code) goes back to the free function that was installed then.
std::once_flag scratchInstalled;
halide_free_t previousFree = nullptr;
/// Contexts alive: when the last is destroyed, the cached scratch blocks (up
/// to 256 MiB) go back to the system.
std::atomic<int> liveContexts{0};

void freeScratch(void *userContext, void *block) {
  if (!block || resnetc::scratchOwns(block))
    resnetc::scratchFree(userContext, block);
  else if (previousFree)
    previousFree(userContext, block);
}

} // namespace

extern "C" void *resnetc_rt_create(const resnetc_rt_model *model) {
  if (!model)
    return nullptr;
  halide_set_error_handler(onHalideError);
  std::call_once(scratchInstalled, [] {
    halide_set_custom_malloc(resnetc::scratchMalloc);
    previousFree = halide_set_custom_free(freeScratch);
    resnetc::useChunkedParallelLoops(0); // until resnetc_rt_set_threads
  });
  auto *ctx = new (std::nothrow) Context;
  if (!ctx)
    return nullptr;
  liveContexts.fetch_add(1);
  ctx->model = model;
  int64_t arenaBytes = resnetc::DeviceSpaces::paddedBytes(model->arena_bytes);
  int64_t weightsBytes = resnetc::DeviceSpaces::paddedBytes(model->weights_bytes);
  int64_t spaceBytes[RESNETC_RT_SPACES] = {};
  spaceBytes[RESNETC_RT_INPUT] = elementsOf(model->input_shape, 4) * int64_t(sizeof(float));
  spaceBytes[RESNETC_RT_OUTPUT] = elementsOf(model->output_shape, 2) * int64_t(sizeof(float));
  spaceBytes[RESNETC_RT_ARENA] = arenaBytes;
  spaceBytes[RESNETC_RT_WEIGHTS] = weightsBytes;
  spaceBytes[RESNETC_RT_LABELS] = model->input_shape[0] * int64_t(sizeof(int32_t));
  spaceBytes[RESNETC_RT_SCALARS] = int64_t(sizeof(ctx->scalars));
  ctx->device.emplace(model->device_interface ? model->device_interface() : nullptr, spaceBytes);
  ctx->arena = allocate(arenaBytes);
  ctx->weights = allocate(weightsBytes);
  if (!ctx->arena || !ctx->weights) {
    resnetc_rt_destroy(ctx);
    return nullptr;
  }
  // Momentum buffers start at zero; the rest is filled when weights load.
  std::memset(ctx->weights, 0, size_t(model->weights_bytes));
  return ctx;
}

extern "C" void resnetc_rt_destroy(void *context) {
  Context *ctx = live(context);
  if (!ctx)
    return;
  ctx->magic = 0; // a later call with this pointer is detected while the memory is untouched
  ctx->device->release(ctx);
  std::free(ctx->arena);
  std::free(ctx->weights);
  delete ctx;
  if (liveContexts.fetch_sub(1) == 1)
    resnetc::scratchTrim();
}

namespace {

/// Copies each slot's tensor from `file` into the weights space.
int32_t copySlots(Context *ctx, const resnetc::WeightsFile &file, const resnetc_rt_weight *slots,
                  int64_t count, const std::string &prefix) {
  for (int64_t i = 0; i < count; ++i) {
    const resnetc_rt_weight &slot = slots[i];
    std::string name = prefix + slot.name;
    const resnetc::NamedTensor *tensor = file.find(name);
    if (!tensor)
      return fail(ctx, RESNETC_ERROR_WEIGHTS, "the file has no tensor '%s'", name.c_str());
    bool sameShape = int64_t(tensor->shape.size()) == slot.rank;
    for (int64_t d = 0; sameShape && d < slot.rank; ++d)
      sameShape = tensor->shape[d] == slot.shape[d];
    if (!sameShape)
      return fail(
          ctx, RESNETC_ERROR_WEIGHTS, "tensor '%s' has shape %s, the network expects %s",
          name.c_str(), resnetc::formatShape(tensor->shape).c_str(),
          resnetc::formatShape(std::vector<int64_t>(slot.shape, slot.shape + slot.rank)).c_str());
    for (size_t j = 0; j < tensor->values.size(); ++j)
      if (!std::isfinite(tensor->values[j]))
        return fail(ctx, RESNETC_ERROR_WEIGHTS,
                    "tensor '%s' holds a non-finite value (%g at element %zu)", name.c_str(),
                    double(tensor->values[j]), j);
    std::memcpy(ctx->weights + slot.offset, tensor->values.data(),
                size_t(elementsOf(slot.shape, slot.rank)) * sizeof(float));
  }
  return RESNETC_OK;
}

/// Loads weights (and, for checkpoints, momentum) from a parsed file, then
/// prepares them for the kernels.
int32_t loadParsed(Context *ctx, const resnetc::WeightsFile &file, bool checkpoint) {
  const resnetc_rt_model *model = ctx->model;
  std::string error;
  if (!resnetc::checkArchitecture(file, model->name, model->architecture_hash, error))
    return fail(ctx, RESNETC_ERROR_WEIGHTS, "%s", error.c_str());
  ctx->weightsLoaded = false;
  ctx->forwardPending = false;
  // The slots are written over the host copy: it must hold the rest of the
  // space (momentum, statistics) as the kernels left it.
  if (int32_t status = ctx->device->toHost(ctx, RESNETC_RT_WEIGHTS, ctx->weights)) {
    std::string message = ctx->error;
    return fail(ctx, RESNETC_ERROR_KERNEL, "reading the weights from the device failed (%d): %s",
                status, message.c_str());
  }
  ctx->device->hostWritten(RESNETC_RT_WEIGHTS);
  if (int32_t status = copySlots(ctx, file, model->weights, model->num_weights, ""))
    return status;
  if (checkpoint)
    if (int32_t status = copySlots(ctx, file, model->momentum, model->num_momentum, "momentum/"))
      return status;
  uint8_t *spaces[RESNETC_RT_SPACES] = {nullptr,      nullptr, ctx->arena,
                                        ctx->weights, nullptr, nullptr};
  if (int32_t status = model->prepare(ctx, spaces)) {
    std::string message = ctx->error;
    return fail(ctx, RESNETC_ERROR_KERNEL, "preparing the weights failed (%d): %s", status,
                message.c_str());
  }
  if (checkpoint && model->import_state)
    if (int32_t status = model->import_state(ctx, spaces)) {
      std::string message = ctx->error;
      return fail(ctx, RESNETC_ERROR_KERNEL, "restoring the momentum failed (%d): %s", status,
                  message.c_str());
    }
  ctx->weightsLoaded = true;
  ctx->input = file.input;
  ctx->classes = file.classes;
  ctx->error[0] = '\0';
  return RESNETC_OK;
}

/// Reads a whole file; RESNETC_OK or RESNETC_ERROR_IO.
int32_t readFile(Context *ctx, const char *path, std::string &bytes) {
  FILE *file = std::fopen(path, "rb");
  if (!file)
    return fail(ctx, RESNETC_ERROR_IO, "cannot open '%s': %s", path, std::strerror(errno));
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0)
    bytes.append(chunk, n);
  bool readError = std::ferror(file);
  std::fclose(file);
  if (readError)
    return fail(ctx, RESNETC_ERROR_IO, "cannot read '%s'", path);
  return RESNETC_OK;
}

/// After a step whose loss is not finite: the first weight tensor (in the
/// file's order) holding a NaN or an infinity, for the error message.
std::string firstNonFiniteWeight(Context *ctx) {
  const resnetc_rt_model *model = ctx->model;
  uint8_t *spaces[RESNETC_RT_SPACES] = {nullptr,      nullptr, ctx->arena,
                                        ctx->weights, nullptr, nullptr};
  if ((model->export_state && model->export_state(ctx, spaces) != 0) ||
      ctx->device->toHost(ctx, RESNETC_RT_WEIGHTS, ctx->weights) != 0)
    return "the weights could not be inspected";
  for (int64_t i = 0; i < model->num_weights; ++i) {
    const resnetc_rt_weight &slot = model->weights[i];
    const float *data = reinterpret_cast<const float *>(ctx->weights + slot.offset);
    int64_t count = elementsOf(slot.shape, slot.rank);
    for (int64_t j = 0; j < count; ++j)
      if (!std::isfinite(data[j]))
        return std::string("the first weight with a non-finite value is '") + slot.name +
               "' (element " + std::to_string(j) + ")";
  }
  return "every weight is still finite: the forward pass overflowed (learning rate too high?)";
}

/// Runs export_state (training libraries), then writes the weights, and with
/// `checkpoint` the momentum and the numbers, atomically.
int32_t saveState(Context *ctx, const char *path, bool checkpoint, const char *const *keys,
                  const double *values, int64_t count) {
  const resnetc_rt_model *model = ctx->model;
  if (model->export_state) {
    uint8_t *spaces[RESNETC_RT_SPACES] = {nullptr,      nullptr, ctx->arena,
                                          ctx->weights, nullptr, nullptr};
    if (int32_t status = model->export_state(ctx, spaces)) {
      std::string message = ctx->error;
      return fail(ctx, RESNETC_ERROR_KERNEL, "saving failed (%d): %s", status, message.c_str());
    }
  }
  if (int32_t status = ctx->device->toHost(ctx, RESNETC_RT_WEIGHTS, ctx->weights)) {
    std::string message = ctx->error;
    return fail(ctx, RESNETC_ERROR_KERNEL, "reading the weights from the device failed (%d): %s",
                status, message.c_str());
  }
  resnetc::WeightsFile file;
  file.model = model->name;
  file.architectureHash = model->architecture_hash;
  auto addSlots = [&](const resnetc_rt_weight *slots, int64_t n, const std::string &prefix) {
    for (int64_t i = 0; i < n; ++i) {
      const resnetc_rt_weight &slot = slots[i];
      resnetc::NamedTensor tensor;
      tensor.name = prefix + slot.name;
      tensor.shape.assign(slot.shape, slot.shape + slot.rank);
      const float *data = reinterpret_cast<const float *>(ctx->weights + slot.offset);
      tensor.values.assign(data, data + elementsOf(slot.shape, slot.rank));
      file.tensors.push_back(std::move(tensor));
    }
  };
  addSlots(model->weights, model->num_weights, "");
  file.input = ctx->input;
  file.classes = ctx->classes;
  if (checkpoint) {
    addSlots(model->momentum, model->num_momentum, "momentum/");
    for (int64_t i = 0; i < count; ++i)
      file.metadata.emplace_back(keys[i], values[i]);
    file.metadata.emplace_back(kTrainStepsKey, double(ctx->trainSteps));
  }
  std::string error;
  if (!resnetc::writeWeightsFile(path, file, error))
    return fail(ctx, RESNETC_ERROR_IO, "%s", error.c_str());
  return RESNETC_OK;
}

} // namespace

extern "C" int32_t resnetc_rt_load_weights(void *context, const void *data, size_t size) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!data)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "load_weights: data is null");
  resnetc::WeightsFile file;
  std::string error;
  if (!resnetc::parseWeights(static_cast<const uint8_t *>(data), size, file, error))
    return fail(ctx, RESNETC_ERROR_WEIGHTS, "%s", error.c_str());
  return loadParsed(ctx, file, /*checkpoint=*/false);
}

extern "C" int32_t resnetc_rt_load_weights_file(void *context, const char *path) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!path)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "load_weights_file: path is null");
  std::string bytes;
  if (int32_t status = readFile(ctx, path, bytes))
    return status;
  int32_t status = resnetc_rt_load_weights(ctx, bytes.data(), bytes.size());
  if (status == RESNETC_ERROR_WEIGHTS) {
    std::string message = ctx->error;
    return fail(ctx, status, "%s: %s", path, message.c_str());
  }
  return status;
}

extern "C" int32_t resnetc_rt_set_threads(void *context, int32_t threads) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (threads < 0)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "set_threads: %d threads", threads);
  // Halide's pool keeps the workers it has started: restart it so that a
  // smaller count takes effect. No kernel may be running meanwhile.
  halide_shutdown_thread_pool();
  halide_set_num_threads(threads); // 0: one per core
  resnetc::useChunkedParallelLoops(threads);
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_run(void *context, const float *input, size_t input_count,
                                  float *output, size_t output_count) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  const resnetc_rt_model *model = ctx->model;
  if (!input || !output)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "run: %s is null", input ? "output" : "input");
  size_t expectedInput = size_t(elementsOf(model->input_shape, 4));
  size_t expectedOutput = size_t(elementsOf(model->output_shape, 2));
  if (input_count != expectedInput || output_count != expectedOutput)
    return fail(ctx, RESNETC_ERROR_SIZE,
                "run: expected %zu input and %zu output values, got %zu and %zu", expectedInput,
                expectedOutput, input_count, output_count);
  if (!ctx->weightsLoaded)
    return fail(ctx, RESNETC_ERROR_NO_WEIGHTS, "run: no weights loaded");
  uint8_t *spaces[RESNETC_RT_SPACES] = {reinterpret_cast<uint8_t *>(const_cast<float *>(input)),
                                        reinterpret_cast<uint8_t *>(output),
                                        ctx->arena,
                                        ctx->weights,
                                        nullptr,
                                        nullptr};
  ctx->forwardPending = false; // the arena is reused
  ctx->device->hostWritten(RESNETC_RT_INPUT);
  ctx->device->discard(RESNETC_RT_OUTPUT);
  int32_t status = model->forward(ctx, spaces);
  if (status == 0)
    status = ctx->device->toHost(ctx, RESNETC_RT_OUTPUT, reinterpret_cast<uint8_t *>(output));
  if (status != 0) {
    std::string message = ctx->error;
    return fail(ctx, RESNETC_ERROR_KERNEL, "run failed (%d): %s", status, message.c_str());
  }
  ctx->error[0] = '\0';
  return RESNETC_OK;
}

extern "C" const char *resnetc_rt_error_message(const void *context) {
  Context *ctx = live(const_cast<void *>(context));
  if (!ctx)
    return "invalid context (null or destroyed)";
  return ctx->error;
}

namespace {

/// What every training call checks first: a training library of the right
/// kind (a classifier trains on labels, a backbone on its outputs'
/// gradients) and `count` finite image values.
int32_t checkTrainingCall(Context *ctx, const char *call, bool backbone, const float *images,
                          size_t count) {
  const resnetc_rt_model *model = ctx->model;
  if (!model->train)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "%s: this library was compiled without --train", call);
  if (backbone != (model->train_backward != nullptr))
    return fail(ctx, RESNETC_ERROR_ARGUMENT,
                backbone ? "%s: this network is a classifier: train it with train_step"
                         : "%s: this network has named outputs and no classifier: train it with "
                           "train_forward and train_backward",
                call);
  if (!images)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "%s: images is null", call);
  size_t expected = size_t(elementsOf(model->input_shape, 4));
  if (count != expected)
    return fail(ctx, RESNETC_ERROR_SIZE, "%s: expected %zu image values, got %zu", call, expected,
                count);
  // One NaN pixel would spread to every weight: refuse the batch untouched.
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(images[i])) {
      size_t perImage = count / size_t(model->input_shape[0]);
      return fail(ctx, RESNETC_ERROR_ARGUMENT,
                  "%s: image %zu holds a non-finite value (%g) at index %zu", call, i / perImage,
                  double(images[i]), i % perImage);
    }
  return RESNETC_OK;
}

/// The learning rate, then the weights: the last checks of an update.
int32_t checkLearningRateAndWeights(Context *ctx, const char *call, float learningRate) {
  if (!(learningRate >= 0) || !std::isfinite(learningRate))
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "%s: learning rate %g", call, double(learningRate));
  if (!ctx->weightsLoaded)
    return fail(ctx, RESNETC_ERROR_NO_WEIGHTS, "%s: no weights loaded", call);
  return RESNETC_OK;
}

/// Runs a training entry point on `spaces` (the scalars set by the caller);
/// `written` are the spaces the host has filled.
int32_t runTrainingEntry(Context *ctx, const char *call, resnetc_rt_entry entry,
                         uint8_t *const *spaces, std::initializer_list<int> written) {
  for (int space : written)
    ctx->device->hostWritten(space);
  int32_t status = entry(ctx, spaces);
  if (status == 0)
    status = ctx->device->toHost(ctx, RESNETC_RT_SCALARS, spaces[RESNETC_RT_SCALARS]);
  if (status != 0) {
    std::string message = ctx->error;
    return fail(ctx, RESNETC_ERROR_KERNEL, "%s failed (%d): %s", call, status, message.c_str());
  }
  return RESNETC_OK;
}

/// After an update: NaN or infinite weights are an error that says where.
int32_t checkUpdatedWeights(Context *ctx, const char *call, float loss) {
  if (!std::isfinite(loss)) {
    std::string where = firstNonFiniteWeight(ctx);
    return fail(ctx, RESNETC_ERROR_NUMERIC, "%s: the %s is %g; %s", call,
                ctx->model->train_backward ? "output" : "loss", double(loss), where.c_str());
  }
  ctx->error[0] = '\0';
  return RESNETC_OK;
}

void setStepScalars(Context *ctx, float learningRate) {
  ctx->scalars[0].f = learningRate;
  ctx->scalars[3].pair[0] = int32_t(ctx->randomSeed);
  ctx->scalars[3].pair[1] = int32_t(uint32_t(ctx->trainSteps));
}

} // namespace

extern "C" int32_t resnetc_rt_train_step(void *context, const float *images, size_t image_count,
                                         const int32_t *labels, size_t label_count,
                                         float learning_rate, float *loss, int32_t *correct) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  const resnetc_rt_model *model = ctx->model;
  if (int32_t status = checkTrainingCall(ctx, "train_step", false, images, image_count))
    return status;
  if (!labels)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "train_step: labels is null");
  size_t batch = size_t(model->input_shape[0]);
  if (label_count != batch)
    return fail(ctx, RESNETC_ERROR_SIZE, "train_step: expected %zu labels, got %zu", batch,
                label_count);
  for (size_t i = 0; i < batch; ++i)
    if (labels[i] < 0 || labels[i] >= model->output_shape[1])
      return fail(ctx, RESNETC_ERROR_ARGUMENT,
                  "train_step: label %d of image %zu is not in [0, %lld)", labels[i], i,
                  static_cast<long long>(model->output_shape[1]));
  if (int32_t status = checkLearningRateAndWeights(ctx, "train_step", learning_rate))
    return status;
  ctx->forwardPending = false;
  setStepScalars(ctx, learning_rate);
  uint8_t *spaces[RESNETC_RT_SPACES] = {reinterpret_cast<uint8_t *>(const_cast<float *>(images)),
                                        nullptr,
                                        ctx->arena,
                                        ctx->weights,
                                        reinterpret_cast<uint8_t *>(const_cast<int32_t *>(labels)),
                                        reinterpret_cast<uint8_t *>(ctx->scalars)};
  if (int32_t status = runTrainingEntry(ctx, "train_step", model->train, spaces,
                                        {RESNETC_RT_INPUT, RESNETC_RT_LABELS, RESNETC_RT_SCALARS}))
    return status;
  ++ctx->trainSteps;
  if (loss)
    *loss = ctx->scalars[1].f;
  if (correct)
    *correct = ctx->scalars[2].i;
  return checkUpdatedWeights(ctx, "train_step", ctx->scalars[1].f);
}

extern "C" int32_t resnetc_rt_train_forward(void *context, const float *images, size_t image_count,
                                            float *outputs, size_t output_count) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  const resnetc_rt_model *model = ctx->model;
  if (int32_t status = checkTrainingCall(ctx, "train_forward", true, images, image_count))
    return status;
  size_t expected = size_t(elementsOf(model->output_shape, 2));
  if (!outputs || output_count != expected)
    return fail(ctx, outputs ? RESNETC_ERROR_SIZE : RESNETC_ERROR_ARGUMENT,
                "train_forward: expected %zu output values, got %zu%s", expected, output_count,
                outputs ? "" : " (null)");
  if (!ctx->weightsLoaded)
    return fail(ctx, RESNETC_ERROR_NO_WEIGHTS, "train_forward: no weights loaded");
  // train_backward reads the images again (the first layer's weight
  // gradient): the context keeps a copy, not the caller's pointer.
  try {
    ctx->trainImages.assign(images, images + image_count);
  } catch (const std::bad_alloc &) {
    return fail(ctx, RESNETC_ERROR_MEMORY, "train_forward: out of memory copying the images");
  }
  ctx->forwardPending = false;
  setStepScalars(ctx, 0.0f);
  uint8_t *spaces[RESNETC_RT_SPACES] = {reinterpret_cast<uint8_t *>(ctx->trainImages.data()),
                                        reinterpret_cast<uint8_t *>(outputs),
                                        ctx->arena,
                                        ctx->weights,
                                        nullptr,
                                        reinterpret_cast<uint8_t *>(ctx->scalars)};
  ctx->device->discard(RESNETC_RT_OUTPUT);
  if (int32_t status = runTrainingEntry(ctx, "train_forward", model->train, spaces,
                                        {RESNETC_RT_INPUT, RESNETC_RT_SCALARS}))
    return status;
  if (int32_t status = ctx->device->toHost(ctx, RESNETC_RT_OUTPUT, spaces[RESNETC_RT_OUTPUT]))
    return fail(ctx, RESNETC_ERROR_KERNEL, "train_forward failed (%d): %s", status, ctx->error);
  // The backbone's loss is the caller's: non-finite outputs stand in for it.
  for (size_t i = 0; i < output_count; ++i)
    if (!std::isfinite(outputs[i]))
      return checkUpdatedWeights(ctx, "train_forward", outputs[i]);
  ctx->forwardPending = true;
  ctx->error[0] = '\0';
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_train_backward(void *context, const float *output_gradients,
                                             size_t gradient_count, float learning_rate) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  const resnetc_rt_model *model = ctx->model;
  if (!model->train || !model->train_backward)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "train_backward: this library %s",
                model->train ? "is a classifier: train it with train_step"
                             : "was compiled without --train");
  if (!ctx->forwardPending)
    return fail(ctx, RESNETC_ERROR_ARGUMENT,
                "train_backward: call train_forward first (each train_forward allows one "
                "train_backward, and run, train_step or loading weights in between cancel it)");
  size_t expected = size_t(elementsOf(model->output_shape, 2));
  if (!output_gradients || gradient_count != expected)
    return fail(ctx, output_gradients ? RESNETC_ERROR_SIZE : RESNETC_ERROR_ARGUMENT,
                "train_backward: expected %zu gradient values, got %zu%s", expected, gradient_count,
                output_gradients ? "" : " (null)");
  for (size_t i = 0; i < gradient_count; ++i)
    if (!std::isfinite(output_gradients[i]))
      return fail(ctx, RESNETC_ERROR_ARGUMENT,
                  "train_backward: gradient value %zu is not finite (%g)", i,
                  double(output_gradients[i]));
  if (int32_t status = checkLearningRateAndWeights(ctx, "train_backward", learning_rate))
    return status;
  ctx->forwardPending = false;
  setStepScalars(ctx, learning_rate);
  uint8_t *spaces[RESNETC_RT_SPACES] = {
      reinterpret_cast<uint8_t *>(ctx->trainImages.data()),
      reinterpret_cast<uint8_t *>(const_cast<float *>(output_gradients)),
      ctx->arena,
      ctx->weights,
      nullptr,
      reinterpret_cast<uint8_t *>(ctx->scalars)};
  if (int32_t status = runTrainingEntry(ctx, "train_backward", model->train_backward, spaces,
                                        {RESNETC_RT_OUTPUT, RESNETC_RT_SCALARS}))
    return status;
  ++ctx->trainSteps;
  // No loss to check here: the next train_forward checks its outputs.
  ctx->error[0] = '\0';
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_save_weights(void *context, const char *path) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!path)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "save_weights: path is null");
  if (!ctx->weightsLoaded)
    return fail(ctx, RESNETC_ERROR_NO_WEIGHTS, "save_weights: no weights loaded");
  return saveState(ctx, path, /*checkpoint=*/false, nullptr, nullptr, 0);
}

extern "C" int32_t resnetc_rt_save_checkpoint(void *context, const char *path,
                                              const char *const *keys, const double *values,
                                              int64_t count) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!path || count < 0 || (count > 0 && (!keys || !values)))
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "save_checkpoint: null path, keys or values");
  for (int64_t i = 0; i < count; ++i)
    if (!keys[i])
      return fail(ctx, RESNETC_ERROR_ARGUMENT, "save_checkpoint: key %lld is null",
                  static_cast<long long>(i));
  if (!ctx->model->train)
    return fail(ctx, RESNETC_ERROR_ARGUMENT,
                "save_checkpoint: this library was compiled without --train");
  if (!ctx->weightsLoaded)
    return fail(ctx, RESNETC_ERROR_NO_WEIGHTS, "save_checkpoint: no weights loaded");
  return saveState(ctx, path, /*checkpoint=*/true, keys, values, count);
}

extern "C" int32_t resnetc_rt_load_checkpoint(void *context, const char *path) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!path)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "load_checkpoint: path is null");
  if (!ctx->model->train)
    return fail(ctx, RESNETC_ERROR_ARGUMENT,
                "load_checkpoint: this library was compiled without --train");
  std::string bytes;
  if (int32_t status = readFile(ctx, path, bytes))
    return status;
  resnetc::WeightsFile file;
  std::string error;
  if (!resnetc::parseWeights(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), file,
                             error))
    return fail(ctx, RESNETC_ERROR_WEIGHTS, "%s: %s", path, error.c_str());
  if (int32_t status = loadParsed(ctx, file, /*checkpoint=*/true)) {
    std::string message = ctx->error;
    return fail(ctx, status, "%s: %s", path, message.c_str());
  }
  ctx->checkpointValues = file.metadata;
  for (const auto &[key, value] : file.metadata)
    if (key == kTrainStepsKey)
      ctx->trainSteps = uint64_t(value);
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_set_random_seed(void *context, int32_t seed) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  ctx->randomSeed = uint32_t(seed);
  ctx->error[0] = '\0';
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_set_communicator(void *context,
                                               const resnetc_communicator *communicator) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!ctx->model->train)
    return fail(ctx, RESNETC_ERROR_ARGUMENT,
                "set_communicator: this library was compiled without --train");
  if (communicator) {
    if (communicator->size < 1 || communicator->rank < 0 ||
        communicator->rank >= communicator->size)
      return fail(ctx, RESNETC_ERROR_ARGUMENT, "set_communicator: rank %d of %d ranks",
                  communicator->rank, communicator->size);
    if (!communicator->start_allreduce_sum || !communicator->wait)
      return fail(ctx, RESNETC_ERROR_ARGUMENT,
                  "set_communicator: start_allreduce_sum and wait are needed");
    if (ctx->device->active() && communicator->size > 1)
      return fail(ctx, RESNETC_ERROR_ARGUMENT,
                  "set_communicator: data-parallel training runs on CPU targets; on GPUs it "
                  "needs a device communicator such as NCCL (docs/distributed.md)");
  }
  ctx->ranks.setCommunicator(communicator);
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_collective(void *context, int64_t operation, int64_t bucket,
                                         int64_t count, const resnetc_rt_buffer *buffers,
                                         uint8_t *const *spaces) {
  Context *ctx = live(context);
  if (!ctx)
    return -1;
  std::string error;
  bool ok = operation == RESNETC_RT_START_MEAN_OVER_RANKS
                ? ctx->ranks.start(bucket, count, buffers, spaces, error)
                : ctx->ranks.finish(bucket, count, buffers, spaces, error);
  if (!ok) {
    std::snprintf(ctx->error, sizeof(ctx->error), "%s", error.c_str());
    return -1;
  }
  return 0;
}

extern "C" int32_t resnetc_rt_checkpoint_value(const void *context, const char *key,
                                               double *value) {
  Context *ctx = live(const_cast<void *>(context));
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!key || !value)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "checkpoint_value: null key or value");
  for (const auto &[k, v] : ctx->checkpointValues)
    if (k == key) {
      *value = v;
      return RESNETC_OK;
    }
  return fail(ctx, RESNETC_ERROR_ARGUMENT, "checkpoint_value: the last checkpoint has no '%s'",
              key);
}

extern "C" int32_t resnetc_rt_device_transfers(const void *context, uint64_t *to_device,
                                               uint64_t *to_host) {
  Context *ctx = live(const_cast<void *>(context));
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!to_device || !to_host)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "device_transfers: null counter");
  *to_device = ctx->device->uploads;
  *to_host = ctx->device->downloads;
  return RESNETC_OK;
}

extern "C" size_t resnetc_rt_scratch_cached_bytes(void) { return resnetc::scratchCachedBytes(); }

namespace {

int64_t inputChannels(const Context *ctx) { return ctx->model->input_shape[1]; }

int32_t noNormalization(Context *ctx) {
  return fail(ctx, RESNETC_ERROR_WEIGHTS,
              ctx->weightsLoaded ? "the weights record no input normalisation (written by "
                                   "resnetc init or compile, or in format version 1)"
                                 : "no weights loaded");
}

} // namespace

extern "C" int32_t resnetc_rt_set_input_normalization(void *context, const float *mean,
                                                      const float *stddev, size_t channels) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!mean || !stddev)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "set_input_normalization: null mean or stddev");
  if (int64_t(channels) != inputChannels(ctx))
    return fail(ctx, RESNETC_ERROR_SIZE,
                "set_input_normalization: %zu channels given, the input has %lld", channels,
                static_cast<long long>(inputChannels(ctx)));
  resnetc::InputInfo input;
  input.layout = "NCHW";
  input.shape.assign(ctx->model->input_shape + 1, ctx->model->input_shape + 4);
  input.mean.assign(mean, mean + channels);
  input.stddev.assign(stddev, stddev + channels);
  std::string error;
  if (!resnetc::checkInputInfo(input, error))
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "set_input_normalization: %s", error.c_str());
  ctx->input = std::move(input);
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_input_normalization(const void *context, float *mean, float *stddev,
                                                  size_t channels) {
  Context *ctx = live(const_cast<void *>(context));
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!mean || !stddev)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "input_normalization: null mean or stddev");
  if (int64_t(channels) != inputChannels(ctx))
    return fail(ctx, RESNETC_ERROR_SIZE,
                "input_normalization: %zu channels asked, the input has %lld", channels,
                static_cast<long long>(inputChannels(ctx)));
  if (!ctx->input.hasNormalization())
    return noNormalization(ctx);
  std::copy(ctx->input.mean.begin(), ctx->input.mean.end(), mean);
  std::copy(ctx->input.stddev.begin(), ctx->input.stddev.end(), stddev);
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_normalize(const void *context, float *images, size_t count) {
  Context *ctx = live(const_cast<void *>(context));
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (!images)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "normalize: images is null");
  const int64_t channels = inputChannels(ctx);
  const int64_t plane = ctx->model->input_shape[2] * ctx->model->input_shape[3];
  if (count % size_t(channels * plane) != 0)
    return fail(ctx, RESNETC_ERROR_SIZE,
                "normalize: %zu values are not whole images of %lld x %lld values", count,
                static_cast<long long>(channels), static_cast<long long>(plane));
  if (!ctx->input.hasNormalization())
    return noNormalization(ctx);
  for (size_t i = 0; i < count; i += size_t(channels * plane))
    for (int64_t c = 0; c < channels; ++c) {
      float mean = ctx->input.mean[size_t(c)], scale = 1.0f / ctx->input.stddev[size_t(c)];
      float *p = images + i + size_t(c * plane);
      for (int64_t j = 0; j < plane; ++j)
        p[j] = (p[j] - mean) * scale;
    }
  return RESNETC_OK;
}

extern "C" int32_t resnetc_rt_set_class_names(void *context, const char *const *names,
                                              size_t count) {
  Context *ctx = live(context);
  if (!ctx)
    return RESNETC_ERROR_ARGUMENT;
  if (int64_t(count) != ctx->model->output_shape[1])
    return fail(ctx, RESNETC_ERROR_SIZE,
                "set_class_names: %zu names given, the network has %lld "
                "classes",
                count, static_cast<long long>(ctx->model->output_shape[1]));
  if (!names)
    return fail(ctx, RESNETC_ERROR_ARGUMENT, "set_class_names: names is null");
  std::vector<std::string> classes;
  for (size_t k = 0; k < count; ++k) {
    if (!names[k])
      return fail(ctx, RESNETC_ERROR_ARGUMENT, "set_class_names: name %zu is null", k);
    classes.emplace_back(names[k]);
  }
  ctx->classes = std::move(classes);
  return RESNETC_OK;
}

extern "C" const char *resnetc_rt_class_name(const void *context, int64_t k) {
  const Context *ctx = live(const_cast<void *>(context));
  if (!ctx || k < 0 || size_t(k) >= ctx->classes.size())
    return nullptr;
  return ctx->classes[size_t(k)].c_str();
}
