//===- KernelLayouts.cpp - Buffer layouts and spec fields of kernels ------===//

#include "resnetc/CodeGen/KernelLayouts.h"

#include "resnetc/Dialect/Rn/LayerBuilder.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

Dims codegen::shapeOf(Value value) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  return Dims(shape.begin(), shape.end());
}

std::string codegen::layerName(Operation *op) {
  std::string name = rn::layerNameOf(op);
  return name.empty() ? op->getName().getStringRef().str() : name;
}

BufferRef codegen::buffer(Space space, std::initializer_list<std::pair<int64_t, int64_t>> dims) {
  BufferRef ref;
  ref.space = space;
  for (auto [extent, stride] : dims) {
    ref.extents.push_back(int32_t(extent));
    ref.strides.push_back(int32_t(stride));
  }
  return ref;
}

BufferRef codegen::nhwc(Space space, const Dims &s, int64_t offset, int32_t activation) {
  BufferRef ref =
      buffer(space, {{s[1], 1}, {s[3], s[1]}, {s[2], s[1] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
  ref.offset = offset;
  ref.activation = activation;
  return ref;
}

BufferRef codegen::nchw(Space space, const Dims &s) {
  return buffer(space, {{s[3], 1}, {s[2], s[3]}, {s[1], s[2] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
}

BufferRef codegen::matrix(Space space, const Dims &s) {
  return buffer(space, {{s[1], 1}, {s[0], s[1]}});
}

BufferRef codegen::vector(Space space, int64_t size) { return buffer(space, {{size, 1}}); }

BufferRef codegen::oihw(Space space, const Dims &s) {
  return buffer(space, {{s[3], 1}, {s[2], s[3]}, {s[1], s[2] * s[3]}, {s[0], s[1] * s[2] * s[3]}});
}

BufferRef codegen::packedConv(Space space, const Dims &s) {
  return buffer(space, {{s[0], 1}, {s[1], s[0]}, {s[3], s[0] * s[1]}, {s[2], s[0] * s[1] * s[3]}});
}

BufferRef codegen::winogradFilter(Space space, const Dims &s, int64_t tile) {
  const int64_t alpha = tile + 2, kc = s[0] * s[1];
  return buffer(space, {{s[0], 1}, {s[1], s[0]}, {alpha, kc}, {alpha, kc * alpha}});
}

BufferRef codegen::activationLike(Value value) {
  Dims shape = shapeOf(value);
  return shape.size() == 4   ? nhwc(Space::Arena, shape)
         : shape.size() == 2 ? matrix(Space::Arena, shape)
                             : vector(Space::Arena, shape[0]);
}

BufferRef codegen::flat(BufferRef ref) {
  int64_t elements = ref.bytes() / int64_t(sizeof(float));
  ref.extents = {int32_t(elements)};
  ref.strides = {1};
  return ref;
}

KernelSpec codegen::specOf(KernelKind kind, llvm::ArrayRef<int64_t> input,
                           llvm::ArrayRef<int64_t> weight) {
  KernelSpec spec;
  spec.kind = kind;
  spec.input.assign(input.begin(), input.end());
  spec.weight.assign(weight.begin(), weight.end());
  return spec;
}

KernelSpec codegen::windowed(KernelSpec spec, llvm::ArrayRef<int64_t> strides,
                             llvm::ArrayRef<int64_t> padding) {
  spec.strideH = strides[0];
  spec.strideW = strides[1];
  spec.padH = padding[0];
  spec.padW = padding[1];
  return spec;
}

KernelSpec codegen::withEpsilon(KernelSpec spec, llvm::APFloat epsilon) {
  spec.epsilon = float(epsilon.convertToDouble());
  return spec;
}

KernelSpec codegen::poolSpec(KernelKind kind, Value input, llvm::ArrayRef<int64_t> kernel,
                             llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> padding) {
  KernelSpec spec = windowed(specOf(kind, shapeOf(input)), strides, padding);
  spec.kernelH = kernel[0];
  spec.kernelW = kernel[1];
  return spec;
}
