//===- TrainingOps.cpp - Kernels of the training step's ops ---------------===//
//
// KernelOpInterface for the ops of @train_step that inference never sees:
// unfused forward ops, batch norm on batch statistics, the gradients and the
// loss.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

struct Conv2DKernel : KernelOpInterface::ExternalModel<Conv2DKernel, rn::Conv2DOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto conv = cast<rn::Conv2DOp>(op);
    if (conv.getBias())
      return conv.emitOpError("with a bias is not trained yet");
    KernelStep step(plan, op);
    FailureOr<BufferRef> weight = plan.packed(op, conv.getWeight());
    if (failed(step.read(conv.getInput())) || failed(weight))
      return failure();
    step.append(*weight);
    step.write(conv.getResult(), nhwc(Space::Arena, shapeOf(conv.getResult())));
    KernelSpec spec = convWindow(
        specOf(KernelKind::Conv2D, shapeOf(conv.getInput()), shapeOf(conv.getWeight())), conv);
    if (spec.isWinogradShape())
      spec.winogradTile = trainingWinogradTile(conv);
    return step.emit(spec);
  }
};

struct AddKernel : KernelOpInterface::ExternalModel<AddKernel, rn::AddOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto add = cast<rn::AddOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({add.getLhs(), add.getRhs()})))
      return failure();
    Dims shape = shapeOf(add.getResult());
    if (shape.size() == 4) {
      step.write(add.getResult(), nhwc(Space::Arena, shape));
      return step.emit(specOf(KernelKind::Add, shape));
    }
    // Gradients of 2-D or 1-D values: added as 1 x E x 1 x 1.
    BufferRef sum = step.write(add.getResult(), activationLike(add.getResult()));
    int64_t elements = sum.bytes() / int64_t(sizeof(float));
    for (BufferRef &arg : step.arguments())
      arg = nhwc(arg.space, {1, 1, 1, elements}, arg.offset, arg.activation);
    return step.emit(specOf(KernelKind::Add, {1, 1, 1, elements}));
  }
};

/// Dropout in a training step (the inference pipeline strips it), and its
/// gradient (the same op on the output's gradient).
struct DropoutKernel : KernelOpInterface::ExternalModel<DropoutKernel, rn::DropoutOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto dropout = cast<rn::DropoutOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(dropout.getInput())))
      return failure();
    // {seed, step}: the scalars' fourth slot, written by the runtime.
    BufferRef seed = buffer(Space::Scalars, {{2, 1}});
    seed.offset = 3 * kScalarSlotBytes;
    seed.type = ElementType::I32;
    step.append(seed);
    step.write(dropout.getResult(), activationLike(dropout.getResult()));
    KernelSpec spec = specOf(KernelKind::Dropout, shapeOf(dropout.getInput()));
    spec.rate = float(dropout.getRate().convertToDouble());
    spec.stream = dropout.getStream();
    return step.emit(spec);
  }
};

struct Conv2DGradInputKernel
    : KernelOpInterface::ExternalModel<Conv2DGradInputKernel, rn::Conv2DGradInputOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::Conv2DGradInputOp>(op);
    KernelStep step(plan, op);
    FailureOr<BufferRef> weight = plan.packed(op, grad.getWeight());
    if (failed(step.read(grad.getOutputGrad())) || failed(weight))
      return failure();
    step.append(*weight);
    // The epilogue's inputs follow the weight (the kernel's order).
    if (failed(step.read({grad.getAddend(), grad.getReluOutput()})))
      return failure();
    Dims shape = shapeOf(grad.getInputGrad());
    step.write(grad.getInputGrad(), nhwc(Space::Arena, shape));
    KernelSpec spec =
        convWindow(specOf(KernelKind::Conv2DGradInput, shape, shapeOf(grad.getWeight())), grad);
    spec.residual = bool(grad.getAddend());
    spec.relu = bool(grad.getReluOutput());
    return step.emit(spec);
  }
};

struct Conv2DGradWeightKernel
    : KernelOpInterface::ExternalModel<Conv2DGradWeightKernel, rn::Conv2DGradWeightOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::Conv2DGradWeightOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({grad.getOutputGrad(), grad.getInput()})))
      return failure();
    Dims weight = shapeOf(grad.getWeightGrad());
    // In the layout of the weight it updates.
    step.write(grad.getWeightGrad(), packedConv(Space::Arena, weight));
    return step.emit(
        convWindow(specOf(KernelKind::Conv2DGradWeight, shapeOf(grad.getInput()), weight), grad));
  }
};

struct ChannelSumKernel : KernelOpInterface::ExternalModel<ChannelSumKernel, rn::ChannelSumOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto sum = cast<rn::ChannelSumOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(sum.getInput())))
      return failure();
    step.write(sum.getOutput(), vector(Space::Arena, shapeOf(sum.getOutput())[0]));
    return step.emit(specOf(KernelKind::ChannelSum, shapeOf(sum.getInput())));
  }
};

struct ChannelDotKernel : KernelOpInterface::ExternalModel<ChannelDotKernel, rn::ChannelDotOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto dot = cast<rn::ChannelDotOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({dot.getLhs(), dot.getRhs()})))
      return failure();
    step.write(dot.getOutput(), vector(Space::Arena, shapeOf(dot.getOutput())[0]));
    return step.emit(specOf(KernelKind::ChannelDot, shapeOf(dot.getLhs())));
  }
};

struct DenseGradInputKernel
    : KernelOpInterface::ExternalModel<DenseGradInputKernel, rn::DenseGradInputOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::DenseGradInputOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({grad.getOutputGrad(), grad.getWeight()})))
      return failure();
    Dims input = shapeOf(grad.getInputGrad());
    step.write(grad.getInputGrad(), matrix(Space::Arena, input));
    return step.emit(specOf(KernelKind::DenseGradInput, input, shapeOf(grad.getWeight())));
  }
};

struct DenseGradWeightKernel
    : KernelOpInterface::ExternalModel<DenseGradWeightKernel, rn::DenseGradWeightOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::DenseGradWeightOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({grad.getOutputGrad(), grad.getInput()})))
      return failure();
    Dims weight = shapeOf(grad.getWeightGrad());
    step.write(grad.getWeightGrad(), matrix(Space::Arena, weight));
    return step.emit(specOf(KernelKind::DenseGradWeight, shapeOf(grad.getInput()), weight));
  }
};

struct MaxPool2DGradKernel
    : KernelOpInterface::ExternalModel<MaxPool2DGradKernel, rn::MaxPool2DGradOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::MaxPool2DGradOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({grad.getOutputGrad(), grad.getInput()})))
      return failure();
    step.write(grad.getInputGrad(), nhwc(Space::Arena, shapeOf(grad.getInput())));
    return step.emit(poolSpec(KernelKind::MaxPool2DGrad, grad.getInput(), grad.getKernel(),
                              grad.getStrides(), grad.getPadding()));
  }
};

struct GlobalAvgPoolGradKernel
    : KernelOpInterface::ExternalModel<GlobalAvgPoolGradKernel, rn::GlobalAvgPoolGradOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::GlobalAvgPoolGradOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(grad.getOutputGrad())))
      return failure();
    Dims shape = shapeOf(grad.getInputGrad());
    step.write(grad.getInputGrad(), nhwc(Space::Arena, shape));
    return step.emit(specOf(KernelKind::GlobalAvgPoolGrad, shape));
  }
};

struct ZeroPadShortcutGradKernel
    : KernelOpInterface::ExternalModel<ZeroPadShortcutGradKernel, rn::ZeroPadShortcutGradOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::ZeroPadShortcutGradOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(grad.getOutputGrad())))
      return failure();
    Dims shape = shapeOf(grad.getInputGrad());
    step.write(grad.getInputGrad(), nhwc(Space::Arena, shape));
    KernelSpec spec = specOf(KernelKind::ZeroPadShortcutGrad, shape);
    spec.outChannels = shapeOf(grad.getOutputGrad())[1];
    spec.stride = grad.getStride();
    return step.emit(spec);
  }
};

/// One kernel: the loss, its gradient (the result of the loss's
/// rn.softmax_cross_entropy_grad, which has no kernel of its own) and the
/// number correct.
struct SoftmaxCrossEntropyKernel
    : KernelOpInterface::ExternalModel<SoftmaxCrossEntropyKernel, rn::SoftmaxCrossEntropyOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto loss = cast<rn::SoftmaxCrossEntropyOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(loss.getLogits())))
      return failure();
    Dims logits = shapeOf(loss.getLogits());
    BufferRef labels = buffer(Space::Labels, {{logits[0], 1}});
    labels.type = ElementType::I32;
    BufferRef lossOut = buffer(Space::Scalars, {{1, 1}});
    lossOut.offset = kScalarSlotBytes;
    BufferRef correct = buffer(Space::Scalars, {{1, 1}});
    correct.offset = 2 * kScalarSlotBytes;
    correct.type = ElementType::I32;
    step.append(labels);
    step.append(lossOut);
    rn::SoftmaxCrossEntropyGradOp gradient;
    for (Operation *user : loss.getLogits().getUsers())
      if (auto grad = dyn_cast<rn::SoftmaxCrossEntropyGradOp>(user))
        gradient = grad;
    if (!gradient)
      return loss.emitOpError("has no gradient: run rn-autodiff");
    step.write(gradient.getLogitsGrad(), matrix(Space::Arena, logits));
    step.append(correct);
    return step.emit(specOf(KernelKind::SoftmaxCrossEntropy, logits));
  }
};

template <typename OpT>
struct MadeByAnotherKernel : KernelOpInterface::ExternalModel<MadeByAnotherKernel<OpT>, OpT> {
  LogicalResult planKernels(Operation *, KernelPlanBuilder &) const { return success(); }
};

} // namespace

void codegen::attachTrainingKernels(MLIRContext *context) {
  rn::Conv2DOp::attachInterface<Conv2DKernel>(*context);
  rn::AddOp::attachInterface<AddKernel>(*context);
  rn::DropoutOp::attachInterface<DropoutKernel>(*context);
  rn::Conv2DGradInputOp::attachInterface<Conv2DGradInputKernel>(*context);
  rn::Conv2DGradWeightOp::attachInterface<Conv2DGradWeightKernel>(*context);
  rn::ChannelSumOp::attachInterface<ChannelSumKernel>(*context);
  rn::ChannelDotOp::attachInterface<ChannelDotKernel>(*context);
  rn::DenseGradInputOp::attachInterface<DenseGradInputKernel>(*context);
  rn::DenseGradWeightOp::attachInterface<DenseGradWeightKernel>(*context);
  rn::MaxPool2DGradOp::attachInterface<MaxPool2DGradKernel>(*context);
  rn::GlobalAvgPoolGradOp::attachInterface<GlobalAvgPoolGradKernel>(*context);
  rn::ZeroPadShortcutGradOp::attachInterface<ZeroPadShortcutGradKernel>(*context);
  rn::SoftmaxCrossEntropyOp::attachInterface<SoftmaxCrossEntropyKernel>(*context);
  rn::SoftmaxCrossEntropyGradOp::attachInterface<
      MadeByAnotherKernel<rn::SoftmaxCrossEntropyGradOp>>(*context);
}
