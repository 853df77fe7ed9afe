//===- KernelPlan.cpp - A model as a sequence of kernel calls -------------===//

#include "resnetc/CodeGen/KernelPlan.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/MemoryPlanner.h"
#include "resnetc/Dialect/Rn/LayerBuilder.h"
#include "resnetc/Dialect/Rn/RnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

using namespace mlir;
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
BufferRef nhwc(Space space, const Dims &s) { // N, C, H, W
  return buffer(space, {{s[1], 1}, {s[3], s[1]}, {s[2], s[1] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
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

class Planner {
public:
  explicit Planner(ModuleOp module) : module(module) {}
  FailureOr<KernelPlan> run();

private:
  unsigned kernel(std::string spec);
  BufferRef weightsBuffer(BufferRef shape);
  BufferRef activation(Value value, int step);
  BufferRef result(Value value, BufferRef layout);
  FailureOr<BufferRef> packedWeight(Value weight);
  LogicalResult lower(Operation *op);
  void addForward(unsigned kernelIndex, std::vector<BufferRef> args, Operation *op);

  ModuleOp module;
  KernelPlan plan;
  llvm::StringMap<unsigned> kernelBySpec;
  llvm::DenseMap<Value, BufferRef> weights;       ///< Raw and prepared, in the weights space.
  llvm::DenseMap<Value, BufferRef> packedWeights; ///< Conv weights in the kernels' layout.
  Value returned;

  // Activations are planned once every step is known.
  struct Activation {
    int64_t bytes = 0;
    int first = 0, last = 0;
    bool output = false;
  };
  llvm::DenseMap<Value, unsigned> activationOf;
  std::vector<Activation> activations;
  llvm::DenseMap<Value, BufferRef> activationLayout;
  std::vector<std::tuple<size_t, size_t, unsigned>> fixups; ///< (step, arg, activation)
};

unsigned Planner::kernel(std::string spec) {
  auto [it, inserted] = kernelBySpec.try_emplace(spec, plan.kernels.size());
  if (inserted)
    plan.kernels.push_back({plan.model + "_k" + std::to_string(it->second), std::move(spec)});
  return it->second;
}

BufferRef Planner::weightsBuffer(BufferRef layout) {
  layout.space = Space::Weights;
  layout.offset = plan.weightsBytes;
  plan.weightsBytes +=
      (layout.bytes() + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  return layout;
}

/// The buffer `step` reads for activation `value`, recording the read.
BufferRef Planner::activation(Value value, int step) {
  unsigned id = activationOf.lookup(value);
  activations[id].last = std::max(activations[id].last, step);
  fixups.emplace_back(plan.forward.size(), 0, id); // arg index patched by addForward
  return activationLayout.lookup(value);
}

/// Declares the activation an op produces; the network's result goes to the
/// caller's output buffer.
BufferRef Planner::result(Value value, BufferRef layout) {
  layout.space = value == returned ? Space::Output : Space::Arena;
  unsigned id = activations.size();
  activations.push_back(
      {layout.bytes(), int(plan.forward.size()), int(plan.forward.size()), value == returned});
  activationOf[value] = id;
  activationLayout[value] = layout;
  fixups.emplace_back(plan.forward.size(), 0, id);
  return layout;
}

void Planner::addForward(unsigned kernelIndex, std::vector<BufferRef> args, Operation *op) {
  // The fix-ups of this step were recorded in argument order, but only for
  // activation arguments: match them to the argument positions now.
  size_t step = plan.forward.size();
  size_t next = 0;
  for (auto &[fixStep, fixArg, id] : fixups) {
    if (fixStep != step)
      continue;
    while (next < args.size() && args[next].space != Space::Arena &&
           args[next].space != Space::Output)
      ++next;
    fixArg = next++;
  }
  plan.forward.push_back({kernelIndex, std::move(args), op ? layerName(op) : "input"});
}

FailureOr<BufferRef> Planner::packedWeight(Value weight) {
  if (auto it = packedWeights.find(weight); it != packedWeights.end())
    return it->second;
  auto it = weights.find(weight);
  if (it == weights.end())
    return failure();
  Dims shape = shapeOf(weight);
  BufferRef packed = weightsBuffer(packedConv(Space::Weights, shape));
  unsigned k = kernel("kind=pack_conv_weight;weight=" + joined(shape));
  plan.prepare.push_back(
      {k, {it->second, packed}, "pack " + weight.getDefiningOp<rn::WeightOp>().getName().str()});
  packedWeights[weight] = packed;
  return packed;
}

LogicalResult Planner::lower(Operation *op) {
  int step = int(plan.forward.size());
  auto input = [&](Value v) { return activation(v, step); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](rn::WeightOp) { return success(); })
      .Case([&](func::ReturnOp) { return success(); })
      .Case([&](rn::FoldBatchNormOp fold) {
        Dims shape = shapeOf(fold.getWeight());
        bool bias = bool(fold.getBias());
        std::string spec =
            "kind=fold_pack_conv_weight;weight=" + joined(shape) + ";bias=" + std::to_string(bias) +
            ";epsilon=" +
            llvm::formatv("{0}", llvm::format("%.9g", fold.getEpsilon().convertToDouble())).str();
        std::vector<BufferRef> args{weights.lookup(fold.getWeight())};
        if (bias)
          args.push_back(weights.lookup(fold.getBias()));
        for (Value v : {fold.getGamma(), fold.getBeta(), fold.getMean(), fold.getVariance()})
          args.push_back(weights.lookup(v));
        BufferRef packed = weightsBuffer(packedConv(Space::Weights, shape));
        BufferRef foldedBias = weightsBuffer(vector(Space::Weights, shape[0]));
        args.push_back(packed);
        args.push_back(foldedBias);
        plan.prepare.push_back({kernel(spec), std::move(args), "fold " + layerName(op)});
        packedWeights[fold.getFoldedWeight()] = packed;
        weights[fold.getFoldedBias()] = foldedBias;
        return success();
      })
      .Case([&](rn::FusedConv2DOp conv) -> LogicalResult {
        FailureOr<BufferRef> w = packedWeight(conv.getWeight());
        if (failed(w))
          return conv.emitOpError("needs its weight from rn.weight or rn.fold_batch_norm");
        Dims in = shapeOf(conv.getInput()), ws = shapeOf(conv.getWeight());
        std::string spec = "kind=conv2d;input=" + joined(in) + ";weight=" + joined(ws) +
                           ";strides=" + joined(conv.getStrides()) +
                           ";padding=" + joined(conv.getPadding()) +
                           ";bias=" + std::to_string(bool(conv.getBias())) +
                           ";residual=" + std::to_string(bool(conv.getResidual())) +
                           ";relu=" + std::to_string(conv.getRelu());
        std::vector<BufferRef> args{input(conv.getInput()), *w};
        if (conv.getBias())
          args.push_back(weights.lookup(conv.getBias()));
        if (conv.getResidual())
          args.push_back(input(conv.getResidual()));
        args.push_back(result(conv.getResult(), nhwc(Space::Arena, shapeOf(conv.getResult()))));
        addForward(kernel(spec), std::move(args), op);
        return success();
      })
      .Case([&](rn::FusedEltwiseOp eltwise) -> LogicalResult {
        Dims shape = shapeOf(eltwise.getInput());
        std::string relu = ";relu=" + std::to_string(eltwise.getRelu());
        std::vector<BufferRef> args{input(eltwise.getInput())};
        std::string spec;
        if (eltwise.getGamma() && eltwise.getAddend())
          return eltwise.emitOpError("batch norm and an addend in one kernel are not supported");
        if (eltwise.getGamma()) {
          spec = "kind=batch_norm;input=" + joined(shape) + ";epsilon=" +
                 llvm::formatv("{0}", llvm::format("%.9g", eltwise.getEpsilon()->convertToDouble()))
                     .str() +
                 relu;
          for (Value v :
               {eltwise.getGamma(), eltwise.getBeta(), eltwise.getMean(), eltwise.getVariance()})
            args.push_back(weights.lookup(v));
        } else if (eltwise.getAddend()) {
          spec = "kind=add;input=" + joined(shape) + relu;
          args.push_back(input(eltwise.getAddend()));
        } else {
          spec = "kind=relu;input=" + joined(shape);
        }
        args.push_back(result(eltwise.getResult(), nhwc(Space::Arena, shape)));
        addForward(kernel(spec), std::move(args), op);
        return success();
      })
      .Case([&](rn::MaxPool2DOp pool) {
        std::string spec = "kind=max_pool2d;input=" + joined(shapeOf(pool.getInput())) +
                           ";kernel=" + joined(pool.getKernel()) +
                           ";strides=" + joined(pool.getStrides()) +
                           ";padding=" + joined(pool.getPadding());
        std::vector<BufferRef> args{input(pool.getInput())};
        args.push_back(result(pool.getResult(), nhwc(Space::Arena, shapeOf(pool.getResult()))));
        addForward(kernel(spec), std::move(args), op);
        return success();
      })
      .Case([&](rn::GlobalAvgPoolOp pool) {
        std::string spec = "kind=global_avg_pool;input=" + joined(shapeOf(pool.getInput()));
        std::vector<BufferRef> args{input(pool.getInput())};
        args.push_back(result(pool.getResult(), matrix(Space::Arena, shapeOf(pool.getResult()))));
        addForward(kernel(spec), std::move(args), op);
        return success();
      })
      .Case([&](rn::DenseOp dense) -> LogicalResult {
        if (!dense.getBias())
          return dense.emitOpError("needs a bias for code generation");
        std::string spec = "kind=dense;input=" + joined(shapeOf(dense.getInput())) +
                           ";weight=" + joined(shapeOf(dense.getWeight())) + ";bias=1";
        std::vector<BufferRef> args{input(dense.getInput()), weights.lookup(dense.getWeight()),
                                    weights.lookup(dense.getBias())};
        args.push_back(result(dense.getResult(), matrix(Space::Arena, shapeOf(dense.getResult()))));
        addForward(kernel(spec), std::move(args), op);
        return success();
      })
      .Case([&](rn::ZeroPadShortcutOp pad) {
        std::string spec = "kind=zero_pad_shortcut;input=" + joined(shapeOf(pad.getInput())) +
                           ";out_channels=" + std::to_string(pad.getOutChannels()) +
                           ";stride=" + std::to_string(pad.getStride());
        std::vector<BufferRef> args{input(pad.getInput())};
        args.push_back(result(pad.getResult(), nhwc(Space::Arena, shapeOf(pad.getResult()))));
        addForward(kernel(spec), std::move(args), op);
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitOpError("has no kernel: run the code generation pipeline first "
                                  "(rn-expand-shortcuts, rn-fold-batch-norm, rn-fuse-epilogues)");
      });
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

  // Loaded weights first, in the order the network reads them.
  llvm::StringMap<BufferRef> byName;
  for (auto weight : body.getOps<rn::WeightOp>()) {
    auto [it, inserted] = byName.try_emplace(weight.getName(), BufferRef());
    if (inserted) {
      Dims shape = shapeOf(weight.getResult());
      BufferRef layout = shape.size() == 4   ? oihw(Space::Weights, shape)
                         : shape.size() == 2 ? matrix(Space::Weights, shape)
                                             : vector(Space::Weights, shape[0]);
      it->second = weightsBuffer(layout);
      plan.weights.push_back(
          {weight.getName().str(), {shape.begin(), shape.end()}, it->second.offset});
    }
    weights[weight.getResult()] = it->second;
  }

  // The input arrives as NCHW in the caller's buffer.
  Value argument = forward.getArgument(0);
  BufferRef userInput = nchw(Space::Input, in);
  BufferRef converted = result(argument, nhwc(Space::Arena, in));
  addForward(kernel("kind=nchw_to_nhwc;input=" + joined(in)), {userInput, converted}, nullptr);

  for (Operation &op : body)
    if (failed(lower(&op)))
      return failure();

  // Activations share the arena by liveness; the output lives with the caller.
  std::vector<LiveRange> ranges;
  std::vector<unsigned> arenaIds;
  for (unsigned id = 0; id < activations.size(); ++id) {
    if (activations[id].output)
      continue;
    ranges.push_back({activations[id].bytes, activations[id].first, activations[id].last});
    arenaIds.push_back(id);
  }
  std::vector<int64_t> offsets = planArena(ranges, plan.arenaBytes);
  llvm::DenseMap<unsigned, int64_t> offsetOf;
  for (size_t i = 0; i < arenaIds.size(); ++i)
    offsetOf[arenaIds[i]] = offsets[i];
  for (auto [step, arg, id] : fixups)
    if (!activations[id].output)
      plan.forward[step].args[arg].offset = offsetOf.lookup(id);
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

FailureOr<KernelPlan> resnetc::codegen::planKernels(ModuleOp module) {
  return Planner(module).run();
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
  os << "arena: " << plan.arenaBytes << " bytes\n";
}
