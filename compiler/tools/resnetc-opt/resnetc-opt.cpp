//===- resnetc-opt.cpp - Run rn passes one at a time ----------------------===//
//
// mlir-opt with the rn dialect and resnetc's passes, for lit tests and for
// looking at one pass in isolation.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<resnetc::rn::RnDialect, mlir::func::FuncDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  resnetc::registerResnetcPasses();
  resnetc::registerPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "resnetc optimizer driver\n", registry));
}
