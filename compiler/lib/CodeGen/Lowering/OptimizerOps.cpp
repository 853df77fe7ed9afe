//===- OptimizerOps.cpp - Kernels of the optimizer's ops ------------------===//
//
// KernelOpInterface for what rn-append-optimizer adds to @train_step: the
// optimizer's state, the SGD update and the running-statistics update. The
// updates run in place: their results are bound to the buffers they read.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

struct OptimizerStateKernel
    : KernelOpInterface::ExternalModel<OptimizerStateKernel, rn::OptimizerStateOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto state = cast<rn::OptimizerStateOp>(op);
    llvm::StringRef name = state.getName();
    BufferRef master = plan.trainedBuffer(name);
    if (master.extents.empty())
      return state.emitOpError("belongs to '") << name << "', which no layer reads";
    // In the layout of the weight it follows. Checkpoints hold it in the
    // file's layout: packed conv buffers are unpacked into a slot of their
    // own when saving, packed when loading.
    BufferRef momentum = plan.allocateWeights(master);
    Dims shape = shapeOf(state.getResult());
    int64_t slot = momentum.offset;
    if (plan.isPacked(name)) {
      BufferRef fileLayout = plan.allocateWeights(oihw(Space::Weights, shape));
      slot = fileLayout.offset;
      KernelStep unpack(plan, op), pack(plan, op);
      unpack.append(momentum);
      unpack.append(fileLayout);
      pack.append(fileLayout);
      pack.append(momentum);
      if (failed(unpack.emit(specOf(KernelKind::UnpackConvWeight, {}, shape), StepList::ExportState,
                             "unpack momentum " + name.str())) ||
          failed(pack.emit(specOf(KernelKind::PackConvWeight, {}, shape), StepList::ImportState,
                           "pack momentum " + name.str())))
        return failure();
    }
    plan.addMomentumSlot({name.str(), {shape.begin(), shape.end()}, slot});
    plan.bind(state.getResult(), momentum);
    return success();
  }
};

struct SgdUpdateKernel : KernelOpInterface::ExternalModel<SgdUpdateKernel, rn::SgdUpdateOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto sgd = cast<rn::SgdUpdateOp>(op);
    llvm::StringRef name = sgd.getWeight().getDefiningOp<rn::WeightOp>().getName();
    BufferRef master = plan.trainedBuffer(name);
    FailureOr<BufferRef> momentum = plan.read(op, sgd.getMomentumBuffer());
    FailureOr<BufferRef> grad = plan.read(op, sgd.getGrad());
    FailureOr<BufferRef> lr = plan.read(op, sgd.getLr());
    if (failed(momentum) || failed(grad) || failed(lr))
      return failure();
    KernelSpec spec;
    spec.kind = KernelKind::SgdUpdate;
    spec.size = master.bytes() / int64_t(sizeof(float));
    spec.momentum = float(sgd.getMomentum().convertToDouble());
    spec.weightDecay = float(sgd.getWeightDecay().convertToDouble());
    KernelStep step(plan, op);
    for (const BufferRef &arg :
         {flat(master), flat(*momentum), flat(*grad), *lr, flat(master), flat(*momentum)})
      step.append(arg);
    if (failed(step.emit(spec, StepList::Run, "sgd " + name.str())))
      return failure();
    plan.bind(sgd.getNewWeight(), master);
    plan.bind(sgd.getNewMomentumBuffer(), *momentum);
    return success();
  }
};

struct RunningStatsUpdateKernel
    : KernelOpInterface::ExternalModel<RunningStatsUpdateKernel, rn::RunningStatsUpdateOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto update = cast<rn::RunningStatsUpdateOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read({update.getRunningMean(), update.getRunningVar(), update.getMean(),
                          update.getInvStd()})))
      return failure();
    BufferRef runningMean = step.arguments()[0], runningVar = step.arguments()[1];
    step.append(runningMean); // in place
    step.append(runningVar);
    KernelSpec spec = withEpsilon(KernelSpec(), update.getEpsilon());
    spec.kind = KernelKind::RunningStatsUpdate;
    spec.channels = shapeOf(update.getMean())[0];
    spec.count = update.getCount();
    spec.momentum = float(update.getMomentum().convertToDouble());
    if (failed(step.emit(spec, StepList::Run, "running statistics " + layerName(op))))
      return failure();
    plan.bind(update.getNewRunningMean(), runningMean);
    plan.bind(update.getNewRunningVar(), runningVar);
    return success();
  }
};

} // namespace

void codegen::attachOptimizerKernels(MLIRContext *context) {
  rn::OptimizerStateOp::attachInterface<OptimizerStateKernel>(*context);
  rn::SgdUpdateOp::attachInterface<SgdUpdateKernel>(*context);
  rn::RunningStatsUpdateOp::attachInterface<RunningStatsUpdateKernel>(*context);
}
