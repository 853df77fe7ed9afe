//===- KernelPlan.cpp - A model as a sequence of kernel calls -------------===//

#include "resnetc/CodeGen/KernelPlan.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/MemoryPlanner.h"
#include "resnetc/CodeGen/ObjectEmitter.h"
#include "resnetc/Dialect/Rn/LayerBuilder.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/KernelSpec/KernelSpec.h"
#include "resnetc/runtime/ModelRuntime.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

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

using Dims = llvm::SmallVector<int64_t, 4>;

Dims shapeOf(Value value) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  return Dims(shape.begin(), shape.end());
}

std::string joined(llvm::ArrayRef<int64_t> values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? "x" : "") + std::to_string(values[i]);
  return text;
}

/// A buffer of `space` with Halide dimensions (extent, stride), innermost first.
BufferRef buffer(Space space, std::initializer_list<std::pair<int64_t, int64_t>> dims) {
  BufferRef ref;
  ref.space = space;
  for (auto [extent, stride] : dims) {
    ref.extents.push_back(int32_t(extent));
    ref.strides.push_back(int32_t(stride));
  }
  return ref;
}

// The layouts of runtime/../targets/kernelgen/README.md.
BufferRef nhwc(Space space, const Dims &s, int64_t offset = 0,
               int32_t activation = -1) { // N, C, H, W
  BufferRef ref =
      buffer(space, {{s[1], 1}, {s[3], s[1]}, {s[2], s[1] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
  ref.offset = offset;
  ref.activation = activation;
  return ref;
}
BufferRef nchw(Space space, const Dims &s) {
  return buffer(space, {{s[3], 1}, {s[2], s[3]}, {s[1], s[2] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
}
BufferRef matrix(Space space, const Dims &s) { // rows, columns; columns innermost
  return buffer(space, {{s[1], 1}, {s[0], s[1]}});
}
BufferRef vector(Space space, int64_t size) { return buffer(space, {{size, 1}}); }
BufferRef oihw(Space space, const Dims &s) { // K, C, R, S
  return buffer(space, {{s[3], 1}, {s[2], s[3]}, {s[1], s[2] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
}
BufferRef packedConv(Space space, const Dims &s) { // K, C, R, S -> (k, c, s, r)
  return buffer(space, {{s[0], 1}, {s[1], s[0]}, {s[3], s[0] * s[1]}, {s[2], s[0] * s[1] * s[3]}});
}

std::string layerName(Operation *op) {
  std::string name = rn::layerNameOf(op);
  return name.empty() ? op->getName().getStringRef().str() : name;
}

using Sizes = std::vector<int64_t>;
Sizes sizes(llvm::ArrayRef<int64_t> values) { return Sizes(values.begin(), values.end()); }

/// A spec of `kind` on `input` (and `weight`): the fields every kind uses.
KernelSpec specOf(KernelKind kind, llvm::ArrayRef<int64_t> input,
                  llvm::ArrayRef<int64_t> weight = {}) {
  KernelSpec spec;
  spec.kind = kind;
  spec.input = sizes(input);
  spec.weight = sizes(weight);
  return spec;
}

/// A conv's or pool's strides and padding (H, W).
KernelSpec windowed(KernelSpec spec, llvm::ArrayRef<int64_t> strides,
                    llvm::ArrayRef<int64_t> padding) {
  spec.strideH = strides[0];
  spec.strideW = strides[1];
  spec.padH = padding[0];
  spec.padW = padding[1];
  return spec;
}

KernelSpec withEpsilon(KernelSpec spec, llvm::APFloat epsilon) {
  spec.epsilon = float(epsilon.convertToDouble());
  return spec;
}

KernelSpec convSpec(KernelKind kind, Value input, Value weight, llvm::ArrayRef<int64_t> strides,
                    llvm::ArrayRef<int64_t> padding) {
  return windowed(specOf(kind, shapeOf(input), shapeOf(weight)), strides, padding);
}

KernelSpec poolSpec(KernelKind kind, Value input, llvm::ArrayRef<int64_t> kernel,
                    llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> padding) {
  KernelSpec spec = windowed(specOf(kind, shapeOf(input)), strides, padding);
  spec.kernelH = kernel[0];
  spec.kernelW = kernel[1];
  return spec;
}

std::string describe(llvm::ArrayRef<int32_t> extents) {
  std::string text;
  for (size_t i = 0; i < extents.size(); ++i)
    text += (i ? "x" : "") + std::to_string(extents[i]);
  return text;
}

/// A flat 1-D view of a dense buffer, for element-wise kernels.
BufferRef flat(BufferRef ref) {
  int64_t elements = ref.bytes() / int64_t(sizeof(float));
  ref.extents = {int32_t(elements)};
  ref.strides = {1};
  return ref;
}

class Planner {
public:
  Planner(ModuleOp module, const PlanOptions &options) : module(module), options(options) {}
  FailureOr<KernelPlan> run();

private:
  /// A list of steps whose activations share the arena by liveness.
  struct Section {
    std::vector<Step> *steps = nullptr;
    std::vector<LiveRange> ranges;
    llvm::DenseMap<Value, BufferRef> buffers; ///< Activations and outputs of this section.
    int64_t arenaBytes = 0;
  };

  /// The arguments of the step being lowered for one op, in order.
  struct StepArgs {
    StepArgs(Planner &planner, Operation *op) : planner(planner), op(op) {}
    FailureOr<BufferRef> in(Value value) {
      FailureOr<BufferRef> ref = planner.read(op, value);
      if (succeeded(ref))
        args.push_back(*ref);
      return ref;
    }
    LogicalResult done(const KernelSpec &spec) {
      FailureOr<unsigned> k = planner.kernel(spec, args, op);
      if (failed(k))
        return failure();
      planner.addStep(*k, std::move(args), layerName(op));
      return success();
    }
    Planner &planner;
    Operation *op;
    std::vector<BufferRef> args;
  };

  /// The kernel of `spec`, shared by equal specs. Checks the spec, and that
  /// `args` are the buffers it takes (KernelSpec::arguments), on `op`.
  FailureOr<unsigned> kernel(const KernelSpec &spec, llvm::ArrayRef<BufferRef> args, Operation *op);
  BufferRef weightsBuffer(BufferRef layout);
  /// What a step reads for `value`: an activation (its read is recorded), a
  /// loaded weight, or a prepared one.
  FailureOr<BufferRef> read(Operation *user, Value value);
  /// A conv weight in the kernels' layout: prepared once per weight.
  FailureOr<BufferRef> packed(Operation *user, Value weight);
  /// Declares an activation written by the step being added.
  BufferRef write(Value value, BufferRef layout);
  void addStep(unsigned kernelIndex, std::vector<BufferRef> args, const std::string &layer);
  LogicalResult lower(Operation *op);
  LogicalResult lowerTraining(Operation *op);
  void finishSection(Section &section);
  LogicalResult planWeights(func::FuncOp forward);
  LogicalResult planTraining(func::FuncOp trainStep);
  /// The buffer the kernels train for weight `name`: packed convs' own copy,
  /// or the loaded tensor.
  BufferRef trainedBuffer(llvm::StringRef name) const {
    return packedByName.count(name) ? packedByName.lookup(name) : loaded.lookup(name);
  }

  ModuleOp module;
  const PlanOptions &options;
  KernelPlan plan;
  llvm::StringMap<unsigned> kernelBySpec;
  llvm::StringMap<BufferRef> loaded;         ///< The .rnw tensors, by name.
  llvm::StringMap<BufferRef> packedByName;   ///< Conv weights in the kernels' layout.
  llvm::DenseMap<Value, BufferRef> prepared; ///< Folded weights (inference).
  /// Folded weights packed in the blocked layout of the one conv reading them.
  llvm::DenseSet<Value> blockedWeights;
  Section *section = nullptr;
  Value returned; ///< The forward result, written to the caller's buffer.
  /// softmax_cross_entropy writes the loss's gradient with the loss.
  llvm::DenseMap<std::pair<Value, Value>, BufferRef> lossGradients;
};

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

BufferRef Planner::weightsBuffer(BufferRef layout) {
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
    it->second = weightsBuffer(packedConv(Space::Weights, shape));
    std::vector<BufferRef> packArgs{loaded.lookup(op.getName()), it->second};
    FailureOr<unsigned> k = kernel(specOf(KernelKind::PackConvWeight, {}, shape), packArgs, user);
    if (failed(k))
      return failure();
    plan.prepare.push_back({*k, std::move(packArgs), "pack " + op.getName().str()});
    if (options.training) {
      std::vector<BufferRef> unpackArgs{it->second, loaded.lookup(op.getName())};
      FailureOr<unsigned> back =
          kernel(specOf(KernelKind::UnpackConvWeight, {}, shape), unpackArgs, user);
      if (failed(back))
        return failure();
      plan.exportWeights.push_back({*back, std::move(unpackArgs), "unpack " + op.getName().str()});
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

void Planner::addStep(unsigned kernelIndex, std::vector<BufferRef> args, const std::string &layer) {
  section->steps->push_back({kernelIndex, std::move(args), layer});
}

LogicalResult Planner::lower(Operation *op) {
  StepArgs step(*this, op);
  std::vector<BufferRef> &args = step.args;
  auto in = [&](Value v) { return step.in(v); };
  auto done = [&](const KernelSpec &spec) { return step.done(spec); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](rn::WeightOp) { return success(); })
      .Case([&](func::ReturnOp) { return success(); })
      .Case([&](rn::FoldBatchNormOp fold) -> LogicalResult {
        Dims shape = shapeOf(fold.getWeight());
        KernelSpec spec =
            withEpsilon(specOf(KernelKind::FoldPackConvWeight, {}, shape), fold.getEpsilon());
        spec.bias = bool(fold.getBias());
        for (Value v : {fold.getWeight(), fold.getBias(), fold.getGamma(), fold.getBeta(),
                        fold.getMean(), fold.getVariance()})
          if (v && failed(in(v)))
            return failure();
        // Read by one conv only: packed in that conv's blocked layout (one
        // contiguous run per block of output channels; the kernel generator
        // picks the block from the conv's shape, the same for both kernels).
        Value foldedWeight = fold.getFoldedWeight();
        auto reader = foldedWeight.hasOneUse()
                          ? dyn_cast<rn::FusedConv2DOp>(*foldedWeight.getUsers().begin())
                          : rn::FusedConv2DOp();
        bool blocked = reader && reader.getWeight() == foldedWeight;
        if (blocked) {
          Dims out = shapeOf(reader.getResult());
          spec.blockedForQ = out[3];
          spec.blockedForP = out[2];
          blockedWeights.insert(foldedWeight);
        }
        BufferRef folded = weightsBuffer(
            blocked ? vector(Space::Weights, shape[0] * shape[1] * shape[2] * shape[3])
                    : packedConv(Space::Weights, shape));
        BufferRef foldedBias = weightsBuffer(vector(Space::Weights, shape[0]));
        args.push_back(folded);
        args.push_back(foldedBias);
        FailureOr<unsigned> k = kernel(spec, args, op);
        if (failed(k))
          return failure();
        plan.prepare.push_back({*k, std::move(args), "fold " + layerName(op)});
        prepared[fold.getFoldedWeight()] = folded;
        prepared[fold.getFoldedBias()] = foldedBias;
        return success();
      })
      .Case([&](rn::FusedConv2DOp conv) -> LogicalResult {
        KernelSpec spec = convSpec(KernelKind::Conv2D, conv.getInput(), conv.getWeight(),
                                   conv.getStrides(), conv.getPadding());
        spec.bias = bool(conv.getBias());
        spec.residual = bool(conv.getResidual());
        spec.relu = conv.getRelu();
        spec.blockedWeights = blockedWeights.count(conv.getWeight());
        FailureOr<BufferRef> w = packed(op, conv.getWeight());
        if (failed(in(conv.getInput())) || failed(w))
          return failure();
        args.push_back(*w);
        if ((conv.getBias() && failed(in(conv.getBias()))) ||
            (conv.getResidual() && failed(in(conv.getResidual()))))
          return failure();
        args.push_back(write(conv.getResult(), nhwc(Space::Arena, shapeOf(conv.getResult()))));
        return done(spec);
      })
      .Case([&](rn::FusedEltwiseOp eltwise) -> LogicalResult {
        Dims shape = shapeOf(eltwise.getInput());
        KernelSpec spec = specOf(KernelKind::Relu, shape);
        if (eltwise.getGamma() && eltwise.getAddend())
          return eltwise.emitOpError("batch norm and an addend in one kernel are not supported");
        if (failed(in(eltwise.getInput())))
          return failure();
        if (eltwise.getGamma()) {
          spec = withEpsilon(specOf(KernelKind::BatchNorm, shape), *eltwise.getEpsilon());
          spec.relu = eltwise.getRelu();
          for (Value v :
               {eltwise.getGamma(), eltwise.getBeta(), eltwise.getMean(), eltwise.getVariance()})
            if (failed(in(v)))
              return failure();
        } else if (eltwise.getAddend()) {
          spec.kind = KernelKind::Add;
          spec.relu = eltwise.getRelu();
          if (failed(in(eltwise.getAddend())))
            return failure();
        }
        args.push_back(write(eltwise.getResult(), nhwc(Space::Arena, shape)));
        return done(spec);
      })
      .Case([&](rn::MaxPool2DOp pool) -> LogicalResult {
        if (failed(in(pool.getInput())))
          return failure();
        args.push_back(write(pool.getResult(), nhwc(Space::Arena, shapeOf(pool.getResult()))));
        return done(poolSpec(KernelKind::MaxPool2D, pool.getInput(), pool.getKernel(),
                             pool.getStrides(), pool.getPadding()));
      })
      .Case([&](rn::GlobalAvgPoolOp pool) -> LogicalResult {
        if (failed(in(pool.getInput())))
          return failure();
        args.push_back(write(pool.getResult(), matrix(Space::Arena, shapeOf(pool.getResult()))));
        return done(specOf(KernelKind::GlobalAvgPool, shapeOf(pool.getInput())));
      })
      .Case([&](rn::DenseOp dense) -> LogicalResult {
        if (!dense.getBias())
          return dense.emitOpError("needs a bias for code generation");
        if (failed(in(dense.getInput())) || failed(in(dense.getWeight())) ||
            failed(in(dense.getBias())))
          return failure();
        args.push_back(write(dense.getResult(), matrix(Space::Arena, shapeOf(dense.getResult()))));
        KernelSpec spec =
            specOf(KernelKind::Dense, shapeOf(dense.getInput()), shapeOf(dense.getWeight()));
        spec.bias = true;
        return done(spec);
      })
      .Case([&](rn::ZeroPadShortcutOp pad) -> LogicalResult {
        if (failed(in(pad.getInput())))
          return failure();
        args.push_back(write(pad.getResult(), nhwc(Space::Arena, shapeOf(pad.getResult()))));
        KernelSpec spec = specOf(KernelKind::ZeroPadShortcut, shapeOf(pad.getInput()));
        spec.outChannels = pad.getOutChannels();
        spec.stride = pad.getStride();
        return done(spec);
      })
      .Default([&](Operation *other) { return lowerTraining(other); });
}

/// The ops of @train_grads that inference never sees.
LogicalResult Planner::lowerTraining(Operation *op) {
  StepArgs step(*this, op);
  std::vector<BufferRef> &args = step.args;
  auto in = [&](Value v) { return step.in(v); };
  auto done = [&](const KernelSpec &spec) { return step.done(spec); };
  auto activationLike = [&](Value v) {
    Dims shape = shapeOf(v);
    return shape.size() == 4   ? nhwc(Space::Arena, shape)
           : shape.size() == 2 ? matrix(Space::Arena, shape)
                               : vector(Space::Arena, shape[0]);
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](rn::Conv2DOp conv) -> LogicalResult {
        FailureOr<BufferRef> w = packed(op, conv.getWeight());
        if (failed(in(conv.getInput())) || failed(w) || conv.getBias())
          return conv.getBias() ? conv.emitOpError("with a bias is not trained yet") : failure();
        args.push_back(*w);
        args.push_back(write(conv.getResult(), nhwc(Space::Arena, shapeOf(conv.getResult()))));
        return done(convSpec(KernelKind::Conv2D, conv.getInput(), conv.getWeight(),
                             conv.getStrides(), conv.getPadding()));
      })
      .Case([&](rn::ReluOp relu) -> LogicalResult {
        if (failed(in(relu.getInput())))
          return failure();
        args.push_back(write(relu.getResult(), activationLike(relu.getResult())));
        return done(specOf(KernelKind::Relu, shapeOf(relu.getInput())));
      })
      .Case([&](rn::AddOp add) -> LogicalResult {
        if (failed(in(add.getLhs())) || failed(in(add.getRhs())))
          return failure();
        Dims shape = shapeOf(add.getResult());
        if (shape.size() != 4) { // gradients of 2-D or 1-D values: added as 1 x E x 1 x 1
          args.push_back(write(add.getResult(), activationLike(add.getResult())));
          int64_t elements = args.back().bytes() / int64_t(sizeof(float));
          for (BufferRef &arg : args)
            arg = nhwc(arg.space, {1, 1, 1, elements}, arg.offset, arg.activation);
          return done(specOf(KernelKind::Add, {1, 1, 1, elements}));
        }
        args.push_back(write(add.getResult(), nhwc(Space::Arena, shape)));
        return done(specOf(KernelKind::Add, shape));
      })
      .Case([&](rn::BatchNormTrainOp bn) -> LogicalResult {
        if (failed(in(bn.getInput())) || failed(in(bn.getGamma())) || failed(in(bn.getBeta())))
          return failure();
        Dims shape = shapeOf(bn.getInput());
        args.push_back(write(bn.getOutput(), nhwc(Space::Arena, shape)));
        args.push_back(write(bn.getMean(), vector(Space::Arena, shape[1])));
        args.push_back(write(bn.getInvStd(), vector(Space::Arena, shape[1])));
        KernelSpec spec = withEpsilon(specOf(KernelKind::BatchNormTrain, shape), bn.getEpsilon());
        spec.relu = bn.getRelu();
        return done(spec);
      })
      .Case([&](rn::BatchNormTrainGradOp grad) -> LogicalResult {
        Value reluOutput = grad.getReluOutput();
        for (Value v :
             std::initializer_list<Value>{grad.getOutputGrad(), grad.getInput(), grad.getGamma(),
                                          grad.getMean(), grad.getInvStd(), reluOutput})
          if (v && failed(in(v)))
            return failure();
        Dims shape = shapeOf(grad.getInput());
        args.push_back(write(grad.getInputGrad(), nhwc(Space::Arena, shape)));
        args.push_back(write(grad.getGammaGrad(), vector(Space::Arena, shape[1])));
        args.push_back(write(grad.getBetaGrad(), vector(Space::Arena, shape[1])));
        KernelSpec spec = specOf(KernelKind::BatchNormTrainGrad, shape);
        spec.relu = bool(reluOutput);
        return done(spec);
      })
      .Case([&](rn::ReluGradOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())) || failed(in(grad.getOutput())))
          return failure();
        args.push_back(write(grad.getInputGrad(), activationLike(grad.getInputGrad())));
        return done(specOf(KernelKind::ReluGrad, shapeOf(grad.getOutput())));
      })
      .Case([&](rn::Conv2DGradInputOp grad) -> LogicalResult {
        FailureOr<BufferRef> w = packed(op, grad.getWeight());
        if (failed(in(grad.getOutputGrad())) || failed(w))
          return failure();
        args.push_back(*w);
        // The epilogue's inputs follow the weight (the kernel's order).
        Value addend = grad.getAddend(), reluOutput = grad.getReluOutput();
        for (Value v : {addend, reluOutput})
          if (v && failed(in(v)))
            return failure();
        Dims shape = shapeOf(grad.getInputGrad());
        args.push_back(write(grad.getInputGrad(), nhwc(Space::Arena, shape)));
        KernelSpec spec =
            windowed(specOf(KernelKind::Conv2DGradInput, shape, shapeOf(grad.getWeight())),
                     grad.getStrides(), grad.getPadding());
        spec.residual = bool(addend);
        spec.relu = bool(reluOutput);
        return done(spec);
      })
      .Case([&](rn::Conv2DGradWeightOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())) || failed(in(grad.getInput())))
          return failure();
        Dims ws = shapeOf(grad.getWeightGrad());
        BufferRef dw = packedConv(Space::Arena, ws); // the layout of the weight it updates
        args.push_back(write(grad.getWeightGrad(), dw));
        return done(windowed(specOf(KernelKind::Conv2DGradWeight, shapeOf(grad.getInput()), ws),
                             grad.getStrides(), grad.getPadding()));
      })
      .Case([&](rn::ChannelSumOp sum) -> LogicalResult {
        if (failed(in(sum.getInput())))
          return failure();
        args.push_back(write(sum.getOutput(), vector(Space::Arena, shapeOf(sum.getOutput())[0])));
        return done(specOf(KernelKind::ChannelSum, shapeOf(sum.getInput())));
      })
      .Case([&](rn::DenseGradInputOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())) || failed(in(grad.getWeight())))
          return failure();
        Dims x = shapeOf(grad.getInputGrad());
        args.push_back(write(grad.getInputGrad(), matrix(Space::Arena, x)));
        return done(specOf(KernelKind::DenseGradInput, x, shapeOf(grad.getWeight())));
      })
      .Case([&](rn::DenseGradWeightOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())) || failed(in(grad.getInput())))
          return failure();
        Dims w = shapeOf(grad.getWeightGrad());
        args.push_back(write(grad.getWeightGrad(), matrix(Space::Arena, w)));
        return done(specOf(KernelKind::DenseGradWeight, shapeOf(grad.getInput()), w));
      })
      .Case([&](rn::MaxPool2DGradOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())) || failed(in(grad.getInput())))
          return failure();
        Dims shape = shapeOf(grad.getInput());
        args.push_back(write(grad.getInputGrad(), nhwc(Space::Arena, shape)));
        return done(poolSpec(KernelKind::MaxPool2DGrad, grad.getInput(), grad.getKernel(),
                             grad.getStrides(), grad.getPadding()));
      })
      .Case([&](rn::GlobalAvgPoolGradOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())))
          return failure();
        Dims shape = shapeOf(grad.getInputGrad());
        args.push_back(write(grad.getInputGrad(), nhwc(Space::Arena, shape)));
        return done(specOf(KernelKind::GlobalAvgPoolGrad, shape));
      })
      .Case([&](rn::ZeroPadShortcutGradOp grad) -> LogicalResult {
        if (failed(in(grad.getOutputGrad())))
          return failure();
        Dims shape = shapeOf(grad.getInputGrad());
        args.push_back(write(grad.getInputGrad(), nhwc(Space::Arena, shape)));
        KernelSpec spec = specOf(KernelKind::ZeroPadShortcutGrad, shape);
        spec.outChannels = shapeOf(grad.getOutputGrad())[1];
        spec.stride = grad.getStride();
        return done(spec);
      })
      .Case([&](rn::SoftmaxCrossEntropyOp loss) -> LogicalResult {
        // One kernel: the loss, its gradient and the number correct.
        if (failed(in(loss.getLogits())))
          return failure();
        Dims logits = shapeOf(loss.getLogits());
        BufferRef labels = buffer(Space::Labels, {{logits[0], 1}});
        labels.type = ElementType::I32;
        BufferRef lossOut = buffer(Space::Scalars, {{1, 1}});
        lossOut.offset = kScalarSlotBytes;
        BufferRef correct = buffer(Space::Scalars, {{1, 1}});
        correct.offset = 2 * kScalarSlotBytes;
        correct.type = ElementType::I32;
        args.push_back(labels);
        args.push_back(lossOut);
        BufferRef gradient = BufferRef();
        for (Operation *user : loss.getLogits().getUsers())
          if (auto grad = dyn_cast<rn::SoftmaxCrossEntropyGradOp>(user))
            gradient = write(grad.getLogitsGrad(), matrix(Space::Arena, logits));
        if (gradient.extents.empty())
          return loss.emitOpError("has no gradient: run rn-autodiff");
        args.push_back(gradient);
        args.push_back(correct);
        return done(specOf(KernelKind::SoftmaxCrossEntropy, logits));
      })
      .Case([&](rn::SoftmaxCrossEntropyGradOp) { return success(); }) // made with the loss
      .Case([&](rn::OptimizerStateOp state) -> LogicalResult {
        llvm::StringRef name = state.getName();
        BufferRef master = trainedBuffer(name);
        if (master.extents.empty())
          return state.emitOpError("belongs to '") << name << "', which no layer reads";
        // In the layout of the weight it follows. Checkpoints hold it in the
        // file's layout: packed conv buffers are unpacked into a slot of
        // their own when saving, packed when loading.
        BufferRef momentum = weightsBuffer(master);
        Dims shape = shapeOf(state.getResult());
        int64_t slot = momentum.offset;
        if (packedByName.count(name)) {
          BufferRef fileLayout = weightsBuffer(oihw(Space::Weights, shape));
          slot = fileLayout.offset;
          std::vector<BufferRef> unpackArgs{momentum, fileLayout}, packArgs{fileLayout, momentum};
          FailureOr<unsigned> unpack =
              kernel(specOf(KernelKind::UnpackConvWeight, {}, shape), unpackArgs, op);
          FailureOr<unsigned> pack =
              kernel(specOf(KernelKind::PackConvWeight, {}, shape), packArgs, op);
          if (failed(unpack) || failed(pack))
            return failure();
          plan.exportWeights.push_back(
              {*unpack, std::move(unpackArgs), "unpack momentum " + name.str()});
          plan.importState.push_back({*pack, std::move(packArgs), "pack momentum " + name.str()});
        }
        plan.momentum.push_back({name.str(), {shape.begin(), shape.end()}, slot});
        prepared[state.getResult()] = momentum;
        return success();
      })
      .Case([&](rn::SgdUpdateOp sgd) -> LogicalResult {
        // In place: the next weight and momentum are the buffers read.
        llvm::StringRef name = sgd.getWeight().getDefiningOp<rn::WeightOp>().getName();
        BufferRef master = trainedBuffer(name);
        FailureOr<BufferRef> momentum = read(op, sgd.getMomentumBuffer());
        FailureOr<BufferRef> grad = read(op, sgd.getGrad());
        FailureOr<BufferRef> lr = read(op, sgd.getLr());
        if (failed(momentum) || failed(grad) || failed(lr))
          return failure();
        KernelSpec spec;
        spec.kind = KernelKind::SgdUpdate;
        spec.size = master.bytes() / int64_t(sizeof(float));
        spec.momentum = float(sgd.getMomentum().convertToDouble());
        spec.weightDecay = float(sgd.getWeightDecay().convertToDouble());
        args = {flat(master), flat(*momentum), flat(*grad), *lr, flat(master), flat(*momentum)};
        FailureOr<unsigned> k = kernel(spec, args, op);
        if (failed(k))
          return failure();
        addStep(*k, std::move(args), "sgd " + name.str());
        prepared[sgd.getNewWeight()] = master;
        prepared[sgd.getNewMomentumBuffer()] = *momentum;
        return success();
      })
      .Case([&](rn::RunningStatsUpdateOp update) -> LogicalResult {
        for (Value v : {update.getRunningMean(), update.getRunningVar(), update.getMean(),
                        update.getInvStd()})
          if (failed(in(v)))
            return failure();
        BufferRef runningMean = args[0], runningVar = args[1];
        args.push_back(runningMean); // in place
        args.push_back(runningVar);
        KernelSpec spec = withEpsilon(KernelSpec(), update.getEpsilon());
        spec.kind = KernelKind::RunningStatsUpdate;
        spec.channels = shapeOf(update.getMean())[0];
        spec.count = update.getCount();
        spec.momentum = float(update.getMomentum().convertToDouble());
        FailureOr<unsigned> k = kernel(spec, args, op);
        if (failed(k))
          return failure();
        addStep(*k, std::move(args), "running statistics " + layerName(op));
        prepared[update.getNewRunningMean()] = runningMean;
        prepared[update.getNewRunningVar()] = runningVar;
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitOpError("has no kernel: run the code generation pipeline first "
                                  "(rn-expand-shortcuts, rn-fold-batch-norm, rn-fuse-epilogues)");
      });
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
    it->second = weightsBuffer(layout);
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
  if (body.getNumArguments() != 3)
    return trainStep.emitOpError("expects (images, labels, learning rate)");
  Value images = body.getArgument(0);
  Dims in = shapeOf(images);
  // The learning rate is the scalars' first slot (the loss and the number
  // correct follow, written by the loss's kernel).
  section->buffers[body.getArgument(2)] = buffer(Space::Scalars, {{1, 1}});
  std::vector<BufferRef> convert{nchw(Space::Input, in), write(images, nhwc(Space::Arena, in))};
  FailureOr<unsigned> toNhwc = kernel(specOf(KernelKind::NchwToNhwc, in), convert, trainStep);
  if (failed(toNhwc))
    return failure();
  addStep(*toNhwc, std::move(convert), "input");
  for (Operation &op : body.without_terminator())
    if (failed(lower(&op)))
      return failure();

  finishSection(train);
  return success();
}

FailureOr<KernelPlan> Planner::run() {
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  if (!forward || forward.getNumArguments() != 1 || forward.getNumResults() != 1)
    return module.emitError("expects func.func @forward with one input and one result");
  if (auto name = module->getAttrOfType<StringAttr>(rn::kModelNameAttr))
    plan.model = name.str();
  plan.architectureHash = architectureHash(module);
  Dims in = shapeOf(forward.getArgument(0));
  plan.inputShape.assign(in.begin(), in.end());
  Block &body = forward.getBody().front();
  returned = cast<func::ReturnOp>(body.getTerminator()).getOperand(0);
  Dims out = shapeOf(returned);
  plan.outputShape.assign(out.begin(), out.end());
  if (out.size() != 2)
    return forward.emitError("the network's output must be N x classes");
  if (!returned.getDefiningOp() || isa<rn::WeightOp>(returned.getDefiningOp()))
    return forward.emitError("the network's output must be computed by a layer");
  if (failed(planWeights(forward)))
    return failure();

  // Inference: the caller's NCHW input is converted once.
  Section inference;
  inference.steps = &plan.forward;
  section = &inference;
  Value argument = forward.getArgument(0);
  std::vector<BufferRef> convert{nchw(Space::Input, in), write(argument, nhwc(Space::Arena, in))};
  FailureOr<unsigned> toNhwc = kernel(specOf(KernelKind::NchwToNhwc, in), convert, forward);
  if (failed(toNhwc))
    return failure();
  addStep(*toNhwc, std::move(convert), "input");
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
  os << "  " << plan.kernels[step.kernel].name << " " << step.layer << ":";
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
  return Planner(module, options).run();
}

void resnetc::codegen::printKernelPlan(llvm::raw_ostream &os, const KernelPlan &plan) {
  os << "model " << plan.model << ": input " << joined(plan.inputShape) << ", output "
     << joined(plan.outputShape) << "\n";
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
    os << "export state (" << plan.exportWeights.size() << " steps):\n";
    for (const Step &step : plan.exportWeights)
      printStep(os, plan, step);
    os << "import state (" << plan.importState.size() << " steps):\n";
    for (const Step &step : plan.importState)
      printStep(os, plan, step);
  }
  os << "arena: " << plan.arenaBytes << " bytes\n";
}

int64_t resnetc::codegen::bufferAlignmentFor(llvm::StringRef target) {
  return targetHasFeature(target, "opencl") ? 512 : kBufferAlignment;
}
