//===- GateOps.cpp - Kernels of squeeze-excitation gates and 2-D values ---===//
//
// KernelOpInterface for the ops a squeeze-and-excitation unit adds (sigmoid,
// channel_mul and their gradients) and for element-wise ops on pooled N x C
// values (relu and its gradient): those run as 1 x E x 1 x 1 feature maps.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

/// Emits an element-wise kernel of `kind` reading `inputs` and writing
/// `result`. Values that are not N x C x H x W are viewed as 1 x E x 1 x 1.
LogicalResult emitElementwise(Operation *op, KernelPlanBuilder &plan, KernelKind kind,
                              std::initializer_list<Value> inputs, Value result) {
  KernelStep step(plan, op);
  if (failed(step.read(inputs)))
    return failure();
  Dims shape = shapeOf(result);
  if (shape.size() == 4) {
    step.write(result, nhwc(Space::Arena, shape));
    return step.emit(specOf(kind, shape));
  }
  BufferRef out = step.write(result, activationLike(result));
  int64_t elements = out.bytes() / int64_t(sizeof(float));
  for (BufferRef &arg : step.arguments())
    arg = nhwc(arg.space, {1, elements, 1, 1}, arg.offset, arg.activation);
  return step.emit(specOf(kind, {1, elements, 1, 1}));
}

struct ReluKernel : KernelOpInterface::ExternalModel<ReluKernel, rn::ReluOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto relu = cast<rn::ReluOp>(op);
    return emitElementwise(op, plan, KernelKind::Relu, {relu.getInput()}, relu.getResult());
  }
};

struct ReluGradKernel : KernelOpInterface::ExternalModel<ReluGradKernel, rn::ReluGradOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::ReluGradOp>(op);
    return emitElementwise(op, plan, KernelKind::ReluGrad, {grad.getOutputGrad(), grad.getOutput()},
                           grad.getInputGrad());
  }
};

struct SigmoidKernel : KernelOpInterface::ExternalModel<SigmoidKernel, rn::SigmoidOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto sigmoid = cast<rn::SigmoidOp>(op);
    return emitElementwise(op, plan, KernelKind::Sigmoid, {sigmoid.getInput()},
                           sigmoid.getResult());
  }
};

struct SigmoidGradKernel : KernelOpInterface::ExternalModel<SigmoidGradKernel, rn::SigmoidGradOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::SigmoidGradOp>(op);
    return emitElementwise(op, plan, KernelKind::SigmoidGrad,
                           {grad.getOutputGrad(), grad.getOutput()}, grad.getInputGrad());
  }
};

struct ChannelMulKernel : KernelOpInterface::ExternalModel<ChannelMulKernel, rn::ChannelMulOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto mul = cast<rn::ChannelMulOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({mul.getInput(), mul.getScale()})))
      return failure();
    step.write(mul.getResult(), nhwc(Space::Arena, shapeOf(mul.getResult())));
    return step.emit(specOf(KernelKind::ChannelMul, shapeOf(mul.getInput())));
  }
};

struct SpatialDotKernel : KernelOpInterface::ExternalModel<SpatialDotKernel, rn::SpatialDotOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto dot = cast<rn::SpatialDotOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({dot.getLhs(), dot.getRhs()})))
      return failure();
    step.write(dot.getOutput(), matrix(Space::Arena, shapeOf(dot.getOutput())));
    return step.emit(specOf(KernelKind::SpatialDot, shapeOf(dot.getLhs())));
  }
};

} // namespace

void resnetc::codegen::attachGateKernels(MLIRContext *context) {
  rn::ReluOp::attachInterface<ReluKernel>(*context);
  rn::ReluGradOp::attachInterface<ReluGradKernel>(*context);
  rn::SigmoidOp::attachInterface<SigmoidKernel>(*context);
  rn::SigmoidGradOp::attachInterface<SigmoidGradKernel>(*context);
  rn::ChannelMulOp::attachInterface<ChannelMulKernel>(*context);
  rn::SpatialDotOp::attachInterface<SpatialDotKernel>(*context);
}
