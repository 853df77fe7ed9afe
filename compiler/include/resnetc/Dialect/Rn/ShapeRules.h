//===- ShapeRules.h - Result shapes of rn operations ------------*- C++ -*-===//
//
// The shape rules of the rn ops as plain functions, shared by the ops' type
// inference and by the front end, which checks a network while it builds it
// and reports problems at the source line instead of failing inside MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_SHAPERULES_H
#define RESNETC_DIALECT_RN_SHAPERULES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>

namespace resnetc::rn {

using Shape = llvm::SmallVector<int64_t, 4>;

/// A result shape, or the reason there is none.
struct ShapeResult {
  Shape shape;
  std::string error;

  bool ok() const { return error.empty(); }
  static ShapeResult failure(std::string message) { return {{}, std::move(message)}; }
};

/// The most values one tensor may hold (2^36, 256 GiB of f32): larger
/// networks are refused with a message instead of overflowing later.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 36;

/// Checks that a shape's element count is within kMaxTensorElements without
/// overflowing; returns a message naming `what` otherwise.
std::string checkTensorSize(llvm::ArrayRef<int64_t> shape, llvm::StringRef what);

/// Shortcut kinds accepted by rn.shortcut.
bool isShortcutKind(llvm::StringRef kind);
/// Whether a shortcut of this kind is a 1x1 projection for these shapes.
bool shortcutIsProjection(llvm::StringRef kind, int64_t inChannels, int64_t outChannels,
                          int64_t stride);

/// NCHW input, OIHW weight (O x I/groups x H x W). `dilations` empty: 1.
ShapeResult inferConv2d(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                        llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> padding,
                        llvm::ArrayRef<int64_t> dilations = {}, int64_t groups = 1);
ShapeResult inferMaxPool2d(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> kernel,
                           llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> padding);
ShapeResult inferGlobalAvgPool(llvm::ArrayRef<int64_t> input);
/// NxC input, KxC weight.
ShapeResult inferDense(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight);
ShapeResult inferShortcut(llvm::ArrayRef<int64_t> input, llvm::StringRef kind, int64_t outChannels,
                          int64_t stride);
ShapeResult inferZeroPadShortcut(llvm::ArrayRef<int64_t> input, int64_t outChannels,
                                 int64_t stride);
/// Checks that a per-channel vector of `vectorSize` fits an NCHW input.
std::string checkChannelVector(llvm::ArrayRef<int64_t> input, int64_t vectorSize,
                               llvm::StringRef what);

} // namespace resnetc::rn

#endif // RESNETC_DIALECT_RN_SHAPERULES_H
