//===- KernelLayouts.h - Buffer layouts and spec fields of kernels -*- C++ -*-===//
//
// The layouts of targets/kernelgen/README.md as BufferRefs, and the spec
// fields ops share, for the ops' lowerings (KernelOpInterface).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELLAYOUTS_H
#define RESNETC_CODEGEN_KERNELLAYOUTS_H

#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/KernelSpec/KernelSpec.h"

#include "mlir/IR/Value.h"
#include "llvm/ADT/APFloat.h"

namespace resnetc::codegen {

using Dims = llvm::SmallVector<int64_t, 4>;

/// The static shape of a ranked tensor value.
Dims shapeOf(mlir::Value value);
/// The layer an op belongs to (its DSL name), or the op's name.
std::string layerName(mlir::Operation *op);

/// A buffer of `space` with Halide dimensions (extent, stride), innermost first.
BufferRef buffer(Space space, std::initializer_list<std::pair<int64_t, int64_t>> dims);
/// An N, C, H, W tensor stored channels innermost.
BufferRef nhwc(Space space, const Dims &shape, int64_t offset = 0, int32_t activation = -1);
/// An N, C, H, W tensor stored as named (the caller's input).
BufferRef nchw(Space space, const Dims &shape);
/// Rows x columns, columns innermost.
BufferRef matrix(Space space, const Dims &shape);
BufferRef vector(Space space, int64_t size);
/// A K, C, R, S conv weight as stored in files.
BufferRef oihw(Space space, const Dims &shape);
/// A K, C, R, S conv weight in the kernels' layout (k, c, s, r; k innermost).
BufferRef packedConv(Space space, const Dims &shape);
/// A K, C, 3, 3 filter transformed for F(tile x tile, 3 x 3): (k, c, u, v),
/// k innermost (conv2d's weights=winograd).
BufferRef winogradFilter(Space space, const Dims &shape, int64_t tile);
/// An activation-like buffer of `value`: NHWC, matrix or vector by rank.
BufferRef activationLike(mlir::Value value);
/// A flat 1-D view of a dense buffer, for element-wise kernels.
BufferRef flat(BufferRef ref);

/// A spec of `kind` on `input` (and `weight`): the fields every kind uses.
KernelSpec specOf(KernelKind kind, llvm::ArrayRef<int64_t> input,
                  llvm::ArrayRef<int64_t> weight = {});
/// A conv's or pool's strides and padding (H, W).
KernelSpec windowed(KernelSpec spec, llvm::ArrayRef<int64_t> strides,
                    llvm::ArrayRef<int64_t> padding);
/// A conv-like op's (conv2d, fused_conv2d, conv2d_grad_*) strides, padding,
/// groups and dilations.
template <typename ConvLikeOp> KernelSpec convWindow(KernelSpec spec, ConvLikeOp op) {
  spec = windowed(std::move(spec), op.getStrides(), op.getPadding());
  spec.groups = int64_t(op.getGroups());
  if (std::optional<llvm::ArrayRef<int64_t>> dilations = op.getDilations()) {
    spec.dilationH = (*dilations)[0];
    spec.dilationW = (*dilations)[1];
  }
  return spec;
}
KernelSpec withEpsilon(KernelSpec spec, llvm::APFloat epsilon);
KernelSpec poolSpec(KernelKind kind, mlir::Value input, llvm::ArrayRef<int64_t> kernel,
                    llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> padding);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_KERNELLAYOUTS_H
