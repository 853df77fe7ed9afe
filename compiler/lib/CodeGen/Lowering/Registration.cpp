//===- Registration.cpp - Attaches KernelOpInterface to the rn ops --------===//

#include "Lowering.h"

using namespace mlir;

void resnetc::codegen::registerKernelOpInterfaceModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, rn::RnDialect *, func::FuncDialect *) {
    attachInferenceKernels(context);
    attachTrainingKernels(context);
    attachOptimizerKernels(context);
    attachDataParallelSteps(context);
    attachBatchNormTrainingKernels(context);
    attachGateKernels(context);
  });
}
