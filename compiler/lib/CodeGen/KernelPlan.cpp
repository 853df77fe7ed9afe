//===- KernelPlan.cpp - A model as a sequence of kernel calls -------------===//

#include "resnetc/CodeGen/KernelPlan.h"

#include "resnetc/CodeGen/KernelLayouts.h"
#include "resnetc/CodeGen/KernelOpInterface.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/MemoryPlanner.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/KernelSpec/KernelSpec.h"
#include "resnetc/runtime/ModelRuntime.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"

#include <map>
#include <optional>

using namespace mlir;

// The plan's numbers are the runtime's ABI.
static_assert(int32_t(resnetc::codegen::Space::Input) == RESNETC_RT_INPUT &&
                  int32_t(resnetc::codegen::Space::Output) == RESNETC_RT_OUTPUT &&
                  int32_t(resnetc::codegen::Space::Arena) == RESNETC_RT_ARENA &&
                  int32_t(resnetc::codegen::Space::Weights) == RESNETC_RT_WEIGHTS &&
                  int32_t(resnetc::codegen::Space::Labels) == RESNETC_RT_LABELS &&
                  int32_t(resnetc::codegen::Space::Scalars) == RESNETC_RT_SCALARS,
              "Space numbering differs from the runtime's");
static_assert(resnetc::codegen::kScalarSlotBytes == RESNETC_RT_SCALAR_SLOT_BYTES,
              "the scalars' slots differ from the runtime's");
using namespace resnetc;
using namespace resnetc::codegen;

int64_t BufferRef::bytes() const {
  int64_t elements = 1;
  for (int32_t extent : extents)
    elements *= extent;
  return elements * int64_t(sizeof(float));
}

namespace {

std::string joined(llvm::ArrayRef<int64_t> values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? "x" : "") + std::to_string(values[i]);
  return text;
}

std::string describe(llvm::ArrayRef<int32_t> extents) {
  std::string text;
  for (size_t i = 0; i < extents.size(); ++i)
    text += (i ? "x" : "") + std::to_string(extents[i]);
  return text;
}

/// Places the buffers of a module's kernel calls; each op says its calls
/// (KernelOpInterface).
class Planner : public KernelPlanBuilder {
public:
  Planner(ModuleOp module, const PlanOptions &options) : module(module), options(options) {}
  FailureOr<KernelPlan> run();

  FailureOr<BufferRef> read(Operation *user, Value value) override;
  FailureOr<BufferRef> packed(Operation *user, Value weight) override;
  BufferRef write(Value value, BufferRef layout) override;
  BufferRef allocateWeights(BufferRef layout) override;
  void bind(Value value, BufferRef ref) override { prepared[value] = std::move(ref); }
  FailureOr<unsigned> kernel(const KernelSpec &spec, llvm::ArrayRef<BufferRef> args,
                             Operation *op) override;
  void addStep(StepList list, unsigned kernel, std::vector<BufferRef> args,
               std::string layer) override;
  BufferRef trainedBuffer(llvm::StringRef name) const override {
    return packedByName.count(name) ? packedByName.lookup(name) : loaded.lookup(name);
  }
  bool isPacked(llvm::StringRef name) const override { return packedByName.count(name); }
  void addMomentumSlot(WeightSlot slot) override { plan.momentum.push_back(std::move(slot)); }
  LogicalResult startMeanOverRanks(Operation *op, int64_t bucket, std::vector<BufferRef> args,
                                   ValueRange results) override;
  void markBlocked(Value weight) override { blockedWeights.insert(weight); }
  bool isBlocked(Value weight) const override { return blockedWeights.contains(weight); }
  bool preparesWinogradFilters() const override { return options.winogradFilters; }
  void markWinogradFilter(Value weight, int64_t tile) override { winogradTiles[weight] = tile; }
  int64_t winogradFilterTile(Value weight) const override { return winogradTiles.lookup(weight); }

private:
  /// A list of steps whose activations share the arena by liveness.
  struct Section {
    std::vector<Step> *steps = nullptr;
    std::vector<LiveRange> ranges;
    llvm::DenseMap<Value, BufferRef> buffers; ///< Activations and outputs of this section.
    int64_t arenaBytes = 0;
  };

  LogicalResult lower(Operation *op);
  /// Adds the step that finishes averaging `bucket` (started before).
  void finishMeanOverRanks(int64_t bucket);
  /// The caller's NCHW images, converted once into the section's NHWC `images`.
  LogicalResult convertInput(Operation *where, Value images);
  /// A backbone: copies the outputs `op` computes into the output space
  /// (NCHW), and before the first op that reads an output's gradient,
  /// brings the caller's gradients in from there.
  LogicalResult writeOutputs(Operation *op);
  LogicalResult readOutputGradients(Operation *op);
  void placeOutputs(func::FuncOp forward);
  void finishSection(Section &section);
  LogicalResult planWeights(func::FuncOp forward);
  LogicalResult planTraining(func::FuncOp trainStep);

  ModuleOp module;
  const PlanOptions &options;
  KernelPlan plan;
  llvm::StringMap<unsigned> kernelBySpec;
  llvm::StringMap<BufferRef> loaded;         ///< The .rnw tensors, by name.
  llvm::StringMap<BufferRef> packedByName;   ///< Conv weights in the kernels' layout.
  llvm::DenseMap<Value, BufferRef> prepared; ///< Prepared weights and optimizer state.
  /// Folded weights packed in the blocked layout of the one conv reading them.
  llvm::DenseSet<Value> blockedWeights;
  /// Folded weights transformed for their one conv's Winograd tile.
  llvm::DenseMap<Value, int64_t> winogradTiles;
  Section *section = nullptr;
  Value returned; ///< The forward result, written to the caller's buffer.
  /// A backbone's outputs in this section (each by its slot in plan.outputs),
  /// and the training step's arguments that hold their gradients.
  llvm::DenseMap<Value, llvm::SmallVector<unsigned, 1>> outputSlots;
  llvm::DenseMap<Value, unsigned> gradientSlots;
  /// Where a backbone's training step waits for the caller's gradients.
  std::optional<size_t> backwardStart;
  /// Buckets being averaged over the ranks: their buffers, and the values
  /// whose first reader finishes them.
  std::map<int64_t, std::vector<BufferRef>> unfinishedBuckets;
  llvm::DenseMap<Value, int64_t> averagedValues;
};

/// Whether `ref` covers its elements without gaps (in some dimension order).
bool isDense(const BufferRef &ref) {
  int64_t span = 1, elements = 1;
  for (auto [extent, stride] : llvm::zip(ref.extents, ref.strides)) {
    if (extent > 1)
      span += int64_t(extent - 1) * stride;
    elements *= extent;
  }
  return span == elements;
}

LogicalResult Planner::startMeanOverRanks(Operation *op, int64_t bucket,
                                          std::vector<BufferRef> args, ValueRange results) {
  if (section->steps != &plan.train)
    return op->emitOpError("averages over the ranks outside the training step");
  if (unfinishedBuckets.count(bucket))
    return op->emitOpError("starts bucket ") << bucket << ", which is already being averaged";
  for (Value input : op->getOperands())
    if (!input.hasOneUse())
      return op->emitOpError("averages a value in place that other ops also read");
  for (auto [ref, result] : llvm::zip_equal(args, results)) {
    if (!isDense(ref) || ref.type != ElementType::F32)
      return op->emitOpError("internal error: averages a buffer that is not dense float32");
    // Read in place: the result lives (and keeps the buffer) as long as its readers.
    section->buffers[result] = ref;
    averagedValues[result] = bucket;
  }
  section->steps->push_back(
      {0, args, "mean over ranks, after " + layerName(op), StepKind::StartMeanOverRanks, bucket});
  unfinishedBuckets[bucket] = std::move(args);
  return success();
}

void Planner::finishMeanOverRanks(int64_t bucket) {
  std::vector<BufferRef> args = std::move(unfinishedBuckets[bucket]);
  unfinishedBuckets.erase(bucket);
  for (auto it = averagedValues.begin(); it != averagedValues.end();) {
    auto current = it++; // erasing leaves the other iterators valid
    if (current->second == bucket)
      averagedValues.erase(current);
  }
  int step = int(section->steps->size());
  for (const BufferRef &ref : args)
    if (ref.activation >= 0)
      section->ranges[ref.activation].lastStep =
          std::max(section->ranges[ref.activation].lastStep, step);
  section->steps->push_back(
      {0, std::move(args), "mean over ranks", StepKind::FinishMeanOverRanks, bucket});
}

FailureOr<unsigned> Planner::kernel(const KernelSpec &spec, llvm::ArrayRef<BufferRef> args,
                                    Operation *op) {
  // Halide's 32-bit offsets, with headroom: said with the layer and the size,
  // before the spec's own check says the same in its terms.
  constexpr int64_t kMaxTensorValues = int64_t(1) << 29;
  for (const BufferRef &arg : args)
    if (int64_t values = arg.bytes() / int64_t(sizeof(float)); values >= kMaxTensorValues)
      return op->emitError("layer '")
             << layerName(op) << "' needs a tensor of " << values << " values ("
             << llvm::formatv("{0:F1} GiB", double(arg.bytes()) / (1 << 30))
             << "), more than a kernel indexes (2^29 values): lower --batch or the input size";
  std::string text = spec.toString(), error;
  if (!checkKernelSpec(spec, error))
    return op->emitOpError("has no kernel for '") << text << "': " << error;
  std::vector<KernelArgument> expected = spec.arguments();
  if (expected.size() != args.size())
    return op->emitOpError("internal error: kernel '")
           << text << "' takes " << expected.size() << " buffers, the plan passes " << args.size();
  for (auto [i, arg, want] : llvm::enumerate(args, expected)) {
    bool sameExtents = arg.extents.size() == want.extents.size() &&
                       std::equal(want.extents.begin(), want.extents.end(), arg.extents.begin());
    bool sameType = (arg.type == ElementType::I32) == want.isInt32;
    if (!sameExtents || !sameType)
      return op->emitOpError("internal error: kernel '")
             << text << "' takes " << want.role << " (buffer " << i << ") of extents "
             << describe(llvm::SmallVector<int32_t>(want.extents.begin(), want.extents.end()))
             << (want.isInt32 ? " (int32)" : "") << ", the plan passes " << describe(arg.extents)
             << (arg.type == ElementType::I32 ? " (int32)" : "");
  }
  auto [it, inserted] = kernelBySpec.try_emplace(text, plan.kernels.size());
  if (inserted)
    plan.kernels.push_back({plan.model + "_k" + std::to_string(it->second), std::move(text)});
  return it->second;
}

BufferRef Planner::allocateWeights(BufferRef layout) {
  layout.space = Space::Weights;
  layout.offset = plan.weightsBytes;
  int64_t alignment = options.bufferAlignment;
  plan.weightsBytes += (layout.bytes() + alignment - 1) / alignment * alignment;
  return layout;
}

FailureOr<BufferRef> Planner::read(Operation *user, Value value) {
  if (auto it = section->buffers.find(value); it != section->buffers.end()) {
    if (it->second.activation >= 0)
      section->ranges[it->second.activation].lastStep = int(section->steps->size());
    return it->second;
  }
  if (auto it = prepared.find(value); it != prepared.end())
    return it->second;
  if (auto weight = value.getDefiningOp<rn::WeightOp>())
    if (auto it = loaded.find(weight.getName()); it != loaded.end())
      return it->second;
  return user->emitOpError("reads a value the code generator cannot place");
}

FailureOr<BufferRef> Planner::packed(Operation *user, Value weight) {
  if (auto it = prepared.find(weight); it != prepared.end())
    return it->second; // folded and packed at load time
  auto op = weight.getDefiningOp<rn::WeightOp>();
  if (!op || !loaded.count(op.getName()))
    return user->emitOpError("needs its weight from rn.weight or rn.fold_batch_norm");
  auto [it, inserted] = packedByName.try_emplace(op.getName(), BufferRef());
  if (inserted) {
    Dims shape = shapeOf(weight);
    it->second = allocateWeights(packedConv(Space::Weights, shape));
    std::vector<BufferRef> packArgs{loaded.lookup(op.getName()), it->second};
    FailureOr<unsigned> k = kernel(specOf(KernelKind::PackConvWeight, {}, shape), packArgs, user);
    if (failed(k))
      return failure();
    addStep(StepList::Prepare, *k, std::move(packArgs), "pack " + op.getName().str());
    if (options.training) {
      std::vector<BufferRef> unpackArgs{it->second, loaded.lookup(op.getName())};
      FailureOr<unsigned> back =
          kernel(specOf(KernelKind::UnpackConvWeight, {}, shape), unpackArgs, user);
      if (failed(back))
        return failure();
      addStep(StepList::ExportState, *back, std::move(unpackArgs), "unpack " + op.getName().str());
    }
  }
  return it->second;
}

BufferRef Planner::write(Value value, BufferRef layout) {
  if (value == returned) {
    layout.space = Space::Output;
  } else {
    layout.space = Space::Arena;
    layout.activation = int32_t(section->ranges.size());
    int step = int(section->steps->size());
    section->ranges.push_back({layout.bytes(), step, step});
  }
  section->buffers[value] = layout;
  return layout;
}

void Planner::addStep(StepList list, unsigned kernel, std::vector<BufferRef> args,
                      std::string layer) {
  std::vector<Step> &steps = list == StepList::Run           ? *section->steps
                             : list == StepList::Prepare     ? plan.prepare
                             : list == StepList::ExportState ? plan.exportWeights
                                                             : plan.importState;
  steps.push_back({kernel, std::move(args), std::move(layer)});
}

LogicalResult Planner::lower(Operation *op) {
  // A bucket being averaged is finished before its first reader: before any
  // of the reader's reads, so that no buffer's liveness ends at this step.
  for (Value operand : op->getOperands())
    if (auto it = averagedValues.find(operand); it != averagedValues.end())
      finishMeanOverRanks(it->second);
  if (failed(readOutputGradients(op)))
    return failure();
  auto kernelOp = dyn_cast<KernelOpInterface>(op);
  if (!kernelOp)
    return op->emitOpError("has no kernel: run the code generation pipeline first "
                           "(rn-expand-shortcuts, rn-fold-batch-norm, rn-fuse-epilogues)");
  if (failed(kernelOp.planKernels(*this)))
    return failure();
  return writeOutputs(op);
}

LogicalResult Planner::writeOutputs(Operation *op) {
  for (Value result : op->getResults()) {
    auto it = outputSlots.find(result);
    if (it == outputSlots.end())
      continue;
    for (unsigned slot : it->second) {
      const OutputSlot &output = plan.outputs[slot];
      if (backwardStart)
        return op->emitOpError("internal error: computes output '")
               << output.name << "' after the backward pass has started";
      FailureOr<BufferRef> value = read(op, result);
      if (failed(value))
        return failure();
      Dims shape(output.shape.begin(), output.shape.end());
      BufferRef target = nchw(Space::Output, shape);
      target.offset = output.offset;
      std::vector<BufferRef> args{*value, target};
      FailureOr<unsigned> k = kernel(specOf(KernelKind::NhwcToNchw, shape), args, op);
      if (failed(k))
        return failure();
      addStep(StepList::Run, *k, std::move(args), "output " + output.name);
    }
  }
  return success();
}

LogicalResult Planner::readOutputGradients(Operation *op) {
  if (gradientSlots.empty() || backwardStart ||
      llvm::none_of(op->getOperands(), [&](Value v) { return gradientSlots.count(v); }))
    return success();
  // The first reader of a gradient: the forward pass is over. Every
  // gradient comes in here, so that the backward steps start after them.
  backwardStart = section->steps->size();
  for (auto [value, slot] : gradientSlots) {
    const OutputSlot &output = plan.outputs[slot];
    Dims shape(output.shape.begin(), output.shape.end());
    BufferRef source = nchw(Space::Output, shape);
    source.offset = output.offset;
    std::vector<BufferRef> args{source, write(value, nhwc(Space::Arena, shape))};
    FailureOr<unsigned> k = kernel(specOf(KernelKind::NchwToNhwc, shape), args, op);
    if (failed(k))
      return failure();
    addStep(StepList::Run, *k, std::move(args), "gradient of " + output.name);
  }
  return success();
}

void Planner::placeOutputs(func::FuncOp forward) {
  auto names = module->getAttrOfType<ArrayAttr>(rn::kOutputNamesAttr);
  ValueRange results = forward.getBody().front().getTerminator()->getOperands();
  int64_t offset = 0, perImage = 0;
  for (auto [name, value] : llvm::zip_equal(names, results)) {
    Dims shape = shapeOf(value);
    plan.outputs.push_back({cast<StringAttr>(name).str(), {shape.begin(), shape.end()}, offset});
    int64_t values = shape[0] * shape[1] * shape[2] * shape[3];
    offset += values * int64_t(sizeof(float));
    perImage += values / shape[0];
  }
  plan.outputShape = {plan.inputShape[0], perImage};
}

LogicalResult Planner::convertInput(Operation *where, Value images) {
  Dims in = shapeOf(images);
  std::vector<BufferRef> convert{nchw(Space::Input, in), write(images, nhwc(Space::Arena, in))};
  FailureOr<unsigned> toNhwc = kernel(specOf(KernelKind::NchwToNhwc, in), convert, where);
  if (failed(toNhwc))
    return failure();
  addStep(StepList::Run, *toNhwc, std::move(convert), "input");
  return success();
}

void Planner::finishSection(Section &done) {
  std::vector<int64_t> offsets = planArena(done.ranges, done.arenaBytes, options.bufferAlignment);
  for (Step &step : *done.steps)
    for (BufferRef &arg : step.args)
      if (arg.activation >= 0) {
        arg.offset = offsets[arg.activation];
        arg.activation = -1;
      }
  plan.arenaBytes = std::max(plan.arenaBytes, done.arenaBytes);
}

/// Loaded weights first, in the order the network reads them.
LogicalResult Planner::planWeights(func::FuncOp forward) {
  for (auto weight : forward.getBody().front().getOps<rn::WeightOp>()) {
    auto [it, inserted] = loaded.try_emplace(weight.getName(), BufferRef());
    if (!inserted)
      continue;
    Dims shape = shapeOf(weight.getResult());
    BufferRef layout = shape.size() == 4   ? oihw(Space::Weights, shape)
                       : shape.size() == 2 ? matrix(Space::Weights, shape)
                                           : vector(Space::Weights, shape[0]);
    it->second = allocateWeights(layout);
    plan.weights.push_back(
        {weight.getName().str(), {shape.begin(), shape.end()}, it->second.offset});
  }
  return success();
}

/// One training step: @train_step, whose optimizer updates its state in place.
LogicalResult Planner::planTraining(func::FuncOp trainStep) {
  Section train;
  train.steps = &plan.train;
  section = &train;
  returned = Value();
  Block &body = trainStep.getBody().front();
  size_t targets = plan.outputs.empty() ? 1 : plan.outputs.size();
  if (body.getNumArguments() != 2 + targets)
    return trainStep.emitOpError(
        plan.outputs.empty() ? "expects (images, labels, learning rate)"
                             : "expects (images, a gradient for each output, learning rate)");
  Value images = body.getArgument(0);
  // The learning rate is the scalars' first slot (the loss and the number
  // correct follow, written by the loss's kernel).
  section->buffers[body.getArgument(1 + targets)] = buffer(Space::Scalars, {{1, 1}});
  outputSlots.clear();
  if (!plan.outputs.empty())
    for (unsigned i = 0; i < plan.outputs.size(); ++i) {
      outputSlots[body.getTerminator()->getOperand(i)].push_back(i);
      gradientSlots[body.getArgument(1 + i)] = i;
    }
  if (failed(convertInput(trainStep, images)))
    return failure();
  for (Operation &op : body.without_terminator())
    if (failed(lower(&op)))
      return failure();
  // The step ends when every bucket has been averaged.
  while (!unfinishedBuckets.empty())
    finishMeanOverRanks(unfinishedBuckets.begin()->first);

  finishSection(train);
  if (!plan.outputs.empty()) {
    if (!backwardStart)
      return trainStep.emitOpError("never reads the gradients of its outputs");
    plan.trainBackward.assign(plan.train.begin() + *backwardStart, plan.train.end());
    plan.train.resize(*backwardStart);
  }
  return success();
}

FailureOr<KernelPlan> Planner::run() {
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  if (!forward || forward.getNumArguments() != 1 || forward.getNumResults() < 1)
    return module.emitError("expects func.func @forward with one input and a result");
  bool backbone = module->hasAttr(rn::kOutputNamesAttr);
  if (!backbone && forward.getNumResults() != 1)
    return module.emitError("@forward returns several values but the module names no outputs");
  if (auto name = module->getAttrOfType<StringAttr>(rn::kModelNameAttr))
    plan.model = name.str();
  plan.architectureHash = architectureHash(module);
  Dims in = shapeOf(forward.getArgument(0));
  plan.inputShape.assign(in.begin(), in.end());
  Block &body = forward.getBody().front();
  for (Value result : body.getTerminator()->getOperands())
    if (!result.getDefiningOp() || isa<rn::WeightOp>(result.getDefiningOp()))
      return forward.emitError("the network's outputs must be computed by layers");
  if (backbone) {
    auto names = module->getAttrOfType<ArrayAttr>(rn::kOutputNamesAttr);
    if (!names || names.size() != forward.getNumResults())
      return forward.emitError("names ") << (names ? names.size() : 0) << " outputs for "
                                         << forward.getNumResults() << " results";
    for (Value result : body.getTerminator()->getOperands())
      if (shapeOf(result).size() != 4)
        return forward.emitError("a backbone's outputs must be N x C x H x W");
    placeOutputs(forward);
    for (auto [i, result] : llvm::enumerate(body.getTerminator()->getOperands()))
      outputSlots[result].push_back(unsigned(i));
  } else {
    returned = cast<func::ReturnOp>(body.getTerminator()).getOperand(0);
    Dims out = shapeOf(returned);
    plan.outputShape.assign(out.begin(), out.end());
    if (out.size() != 2)
      return forward.emitError("the network's output must be N x classes");
  }
  if (failed(planWeights(forward)))
    return failure();

  // Inference: the caller's NCHW input is converted once.
  Section inference;
  inference.steps = &plan.forward;
  section = &inference;
  if (failed(convertInput(forward, forward.getArgument(0))))
    return failure();
  for (Operation &op : body)
    if (failed(lower(&op)))
      return failure();
  finishSection(inference);

  if (options.training) {
    auto trainStep = module.lookupSymbol<func::FuncOp>(rn::kTrainStepFunction);
    if (!trainStep)
      return module.emitError(
          "a training plan needs @train_step (run rn-autodiff, then rn-append-optimizer)");
    if (failed(planTraining(trainStep)))
      return failure();
  }
  return plan;
}

const char *spaceName(Space space) {
  switch (space) {
  case Space::Input:
    return "input";
  case Space::Output:
    return "output";
  case Space::Arena:
    return "arena";
  case Space::Weights:
    return "weights";
  case Space::Labels:
    return "labels";
  case Space::Scalars:
    return "scalars";
  }
  return "?";
}

void printStep(llvm::raw_ostream &os, const KernelPlan &plan, const Step &step) {
  if (step.kind == StepKind::Kernel)
    os << "  " << plan.kernels[step.kernel].name << " " << step.layer << ":";
  else
    os << "  " << (step.kind == StepKind::StartMeanOverRanks ? "start" : "finish") << " bucket "
       << step.bucket << " " << step.layer << ":";
  for (const BufferRef &arg : step.args) {
    os << " " << spaceName(arg.space) << "@" << arg.offset << "[";
    for (size_t i = 0; i < arg.extents.size(); ++i)
      os << (i ? "," : "") << arg.extents[i];
    os << "]";
  }
  os << "\n";
}

} // namespace

FailureOr<KernelPlan> resnetc::codegen::planKernels(ModuleOp module, const PlanOptions &options) {
  // Each op says its kernels through KernelOpInterface, attached here so
  // that every tool that plans gets it (added once per context).
  DialectRegistry registry;
  registerKernelOpInterfaceModels(registry);
  module.getContext()->appendDialectRegistry(registry);
  return Planner(module, options).run();
}

void resnetc::codegen::printKernelPlan(llvm::raw_ostream &os, const KernelPlan &plan) {
  os << "model " << plan.model << ": input " << joined(plan.inputShape) << ", output "
     << joined(plan.outputShape) << "\n";
  for (const OutputSlot &output : plan.outputs)
    os << "output " << output.name << " " << joined(output.shape) << " @" << output.offset << "\n";
  os << "kernels (" << plan.kernels.size() << "):\n";
  for (const KernelDef &k : plan.kernels)
    os << "  " << k.name << " " << k.spec << "\n";
  os << "weights (" << plan.weights.size() << " loaded, " << plan.weightsBytes
     << " bytes with prepared ones):\n";
  for (const WeightSlot &w : plan.weights)
    os << "  " << w.name << " " << joined(w.shape) << " @" << w.offset << "\n";
  os << "prepare (" << plan.prepare.size() << " steps):\n";
  for (const Step &step : plan.prepare)
    printStep(os, plan, step);
  os << "forward (" << plan.forward.size() << " steps):\n";
  for (const Step &step : plan.forward)
    printStep(os, plan, step);
  if (!plan.train.empty()) {
    os << "train (" << plan.train.size() << " steps):\n";
    for (const Step &step : plan.train)
      printStep(os, plan, step);
    if (!plan.outputs.empty()) {
      os << "train backward (" << plan.trainBackward.size() << " steps):\n";
      for (const Step &step : plan.trainBackward)
        printStep(os, plan, step);
    }
    os << "export state (" << plan.exportWeights.size() << " steps):\n";
    for (const Step &step : plan.exportWeights)
      printStep(os, plan, step);
    os << "import state (" << plan.importState.size() << " steps):\n";
    for (const Step &step : plan.importState)
      printStep(os, plan, step);
  }
  os << "arena: " << plan.arenaBytes << " bytes\n";
}
