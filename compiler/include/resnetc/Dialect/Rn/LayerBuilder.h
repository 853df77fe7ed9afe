//===- LayerBuilder.h - Build rn layers together with their weights -*- C++ -*-===//
//
// A layer is its rn op plus the rn.weight ops it reads, named
// `<layer>.weight`, `<layer>.bias`, `<layer>.running_mean`, ... (PyTorch's
// names, so weights can be exchanged with it). The callers have checked the
// shapes with ShapeRules.h first: these builders assume valid operands.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_LAYERBUILDER_H
#define RESNETC_DIALECT_RN_LAYERBUILDER_H

#include "mlir/IR/Builders.h"
#include "resnetc/Dialect/Rn/RnOps.h"

namespace resnetc::rn {

struct ConvSpec {
  int64_t width = 0;
  int64_t kernelH = 3, kernelW = 3;
  int64_t stride = 1;
  int64_t paddingH = 1, paddingW = 1;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = false;
  /// A shortcut projection, not counted among the weighted layers.
  bool shortcut = false;
};

class LayerBuilder {
public:
  explicit LayerBuilder(mlir::OpBuilder &builder) : builder(builder) {}

  mlir::Value weight(mlir::Location loc, llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                     llvm::StringRef init, bool state = false);
  mlir::Value conv(mlir::Location loc, mlir::Value input, llvm::StringRef name,
                   const ConvSpec &spec);
  mlir::Value batchNorm(mlir::Location loc, mlir::Value input, llvm::StringRef name);
  mlir::Value scale(mlir::Location loc, mlir::Value input, llvm::StringRef name);
  mlir::Value dense(mlir::Location loc, mlir::Value input, llvm::StringRef name, int64_t outputs);

private:
  mlir::OpBuilder &builder;
};

/// Names a location after the layer it builds: `loc("name"(file:line:col))`.
mlir::Location layerLoc(mlir::Location loc, llvm::StringRef name);

/// The layer name in an op's location (the first of a fused location), or "".
std::string layerNameOf(mlir::Operation *op);

} // namespace resnetc::rn

#endif // RESNETC_DIALECT_RN_LAYERBUILDER_H
