//===- InferenceOps.cpp - Kernels of the inference ops --------------------===//
//
// KernelOpInterface for the ops of an inference module after
// rn-fold-batch-norm and rn-fuse-epilogues (and those training shares).
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

/// Nothing to run: a weight is loaded, a return writes the caller's buffer.
template <typename OpT> struct NoKernel : KernelOpInterface::ExternalModel<NoKernel<OpT>, OpT> {
  LogicalResult planKernels(Operation *, KernelPlanBuilder &) const { return success(); }
};

struct FoldBatchNormKernel
    : KernelOpInterface::ExternalModel<FoldBatchNormKernel, rn::FoldBatchNormOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto fold = cast<rn::FoldBatchNormOp>(op);
    Dims shape = shapeOf(fold.getWeight());
    KernelSpec spec =
        withEpsilon(specOf(KernelKind::FoldPackConvWeight, {}, shape), fold.getEpsilon());
    spec.bias = bool(fold.getBias());
    KernelStep step(plan, op);
    if (failed(step.read({fold.getWeight(), fold.getBias(), fold.getGamma(), fold.getBeta(),
                          fold.getMean(), fold.getVariance()})))
      return failure();
    // Read by one conv only: packed in that conv's blocked layout (one
    // contiguous run per block of output channels; the kernel generator
    // picks the block from the conv's shape, the same for both kernels).
    Value foldedWeight = fold.getFoldedWeight();
    auto reader = foldedWeight.hasOneUse()
                      ? dyn_cast<rn::FusedConv2DOp>(*foldedWeight.getUsers().begin())
                      : rn::FusedConv2DOp();
    // Grouped and dilated convs read the packed layout.
    bool blocked = reader && reader.getWeight() == foldedWeight && reader.getGroups() == 1 &&
                   !reader.getDilations();
    // Or transformed for the conv's Winograd algorithm, once, not per call.
    int64_t winogradTile =
        blocked && plan.preparesWinogradFilters() ? preparedWinogradTile(reader) : 0;
    if (winogradTile) {
      spec.winogradFilterTile = winogradTile;
      plan.markWinogradFilter(foldedWeight, winogradTile);
      blocked = false;
    }
    if (blocked) {
      Dims out = shapeOf(reader.getResult());
      spec.blockedForQ = out[3];
      spec.blockedForP = out[2];
      plan.markBlocked(foldedWeight);
    }
    BufferRef folded = plan.allocateWeights(
        winogradTile ? flat(winogradFilter(Space::Weights, shape, winogradTile))
        : blocked    ? vector(Space::Weights, shape[0] * shape[1] * shape[2] * shape[3])
                     : packedConv(Space::Weights, shape));
    BufferRef foldedBias = plan.allocateWeights(vector(Space::Weights, shape[0]));
    step.append(folded);
    step.append(foldedBias);
    if (failed(step.emit(spec, StepList::Prepare, "fold " + layerName(op))))
      return failure();
    plan.bind(fold.getFoldedWeight(), folded);
    plan.bind(fold.getFoldedBias(), foldedBias);
    return success();
  }
};

struct FusedConv2DKernel : KernelOpInterface::ExternalModel<FusedConv2DKernel, rn::FusedConv2DOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto conv = cast<rn::FusedConv2DOp>(op);
    KernelSpec spec = convWindow(
        specOf(KernelKind::Conv2D, shapeOf(conv.getInput()), shapeOf(conv.getWeight())), conv);
    spec.bias = bool(conv.getBias());
    spec.residual = bool(conv.getResidual());
    spec.relu = conv.getRelu();
    spec.blockedWeights = plan.isBlocked(conv.getWeight());
    if (int64_t tile = plan.winogradFilterTile(conv.getWeight())) {
      spec.winogradWeights = true;
      spec.winogradTile = tile;
    } else if (spec.isWinogradShape()) {
      spec.winogradTile = inferenceWinogradTile(conv);
    }
    KernelStep step(plan, op);
    // The packed weight is placed before the input is read (the plan's order).
    FailureOr<BufferRef> weight = plan.packed(op, conv.getWeight());
    if (failed(step.read(conv.getInput())) || failed(weight))
      return failure();
    step.append(*weight);
    if (failed(step.read({conv.getBias(), conv.getResidual()})))
      return failure();
    step.write(conv.getResult(), nhwc(Space::Arena, shapeOf(conv.getResult())));
    return step.emit(spec);
  }
};

struct FusedEltwiseKernel
    : KernelOpInterface::ExternalModel<FusedEltwiseKernel, rn::FusedEltwiseOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto eltwise = cast<rn::FusedEltwiseOp>(op);
    Dims shape = shapeOf(eltwise.getInput());
    KernelSpec spec = specOf(KernelKind::Relu, shape);
    if (eltwise.getGamma() && eltwise.getAddend())
      return eltwise.emitOpError("batch norm and an addend in one kernel are not supported");
    KernelStep step(plan, op);
    if (failed(step.read(eltwise.getInput())))
      return failure();
    if (eltwise.getGamma()) {
      spec = withEpsilon(specOf(KernelKind::BatchNorm, shape), *eltwise.getEpsilon());
      spec.relu = eltwise.getRelu();
      if (failed(step.read(
              {eltwise.getGamma(), eltwise.getBeta(), eltwise.getMean(), eltwise.getVariance()})))
        return failure();
    } else if (eltwise.getAddend()) {
      spec.kind = KernelKind::Add;
      spec.relu = eltwise.getRelu();
      if (failed(step.read(eltwise.getAddend())))
        return failure();
    }
    step.write(eltwise.getResult(), nhwc(Space::Arena, shape));
    return step.emit(spec);
  }
};

struct MaxPool2DKernel : KernelOpInterface::ExternalModel<MaxPool2DKernel, rn::MaxPool2DOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto pool = cast<rn::MaxPool2DOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(pool.getInput())))
      return failure();
    step.write(pool.getResult(), nhwc(Space::Arena, shapeOf(pool.getResult())));
    return step.emit(poolSpec(KernelKind::MaxPool2D, pool.getInput(), pool.getKernel(),
                              pool.getStrides(), pool.getPadding()));
  }
};

struct GlobalAvgPoolKernel
    : KernelOpInterface::ExternalModel<GlobalAvgPoolKernel, rn::GlobalAvgPoolOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto pool = cast<rn::GlobalAvgPoolOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(pool.getInput())))
      return failure();
    step.write(pool.getResult(), matrix(Space::Arena, shapeOf(pool.getResult())));
    return step.emit(specOf(KernelKind::GlobalAvgPool, shapeOf(pool.getInput())));
  }
};

struct DenseKernel : KernelOpInterface::ExternalModel<DenseKernel, rn::DenseOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto dense = cast<rn::DenseOp>(op);
    if (!dense.getBias())
      return dense.emitOpError("needs a bias for code generation");
    KernelStep step(plan, op);
    if (failed(step.read({dense.getInput(), dense.getWeight(), dense.getBias()})))
      return failure();
    step.write(dense.getResult(), matrix(Space::Arena, shapeOf(dense.getResult())));
    KernelSpec spec =
        specOf(KernelKind::Dense, shapeOf(dense.getInput()), shapeOf(dense.getWeight()));
    spec.bias = true;
    return step.emit(spec);
  }
};

struct ZeroPadShortcutKernel
    : KernelOpInterface::ExternalModel<ZeroPadShortcutKernel, rn::ZeroPadShortcutOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto pad = cast<rn::ZeroPadShortcutOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(pad.getInput())))
      return failure();
    step.write(pad.getResult(), nhwc(Space::Arena, shapeOf(pad.getResult())));
    KernelSpec spec = specOf(KernelKind::ZeroPadShortcut, shapeOf(pad.getInput()));
    spec.outChannels = pad.getOutChannels();
    spec.stride = pad.getStride();
    return step.emit(spec);
  }
};

struct ScaleKernel : KernelOpInterface::ExternalModel<ScaleKernel, rn::ScaleOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto scale = cast<rn::ScaleOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({scale.getInput(), scale.getScale()})))
      return failure();
    Dims shape = shapeOf(scale.getInput());
    step.write(scale.getOutput(), nhwc(Space::Arena, shape));
    return step.emit(specOf(KernelKind::Scale, shape));
  }
};

} // namespace

void codegen::attachInferenceKernels(MLIRContext *context) {
  rn::WeightOp::attachInterface<NoKernel<rn::WeightOp>>(*context);
  func::ReturnOp::attachInterface<NoKernel<func::ReturnOp>>(*context);
  rn::FoldBatchNormOp::attachInterface<FoldBatchNormKernel>(*context);
  rn::FusedConv2DOp::attachInterface<FusedConv2DKernel>(*context);
  rn::FusedEltwiseOp::attachInterface<FusedEltwiseKernel>(*context);
  rn::MaxPool2DOp::attachInterface<MaxPool2DKernel>(*context);
  rn::GlobalAvgPoolOp::attachInterface<GlobalAvgPoolKernel>(*context);
  rn::DenseOp::attachInterface<DenseKernel>(*context);
  rn::ZeroPadShortcutOp::attachInterface<ZeroPadShortcutKernel>(*context);
  rn::ScaleOp::attachInterface<ScaleKernel>(*context);
}
