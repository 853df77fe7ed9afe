//===- OnnxProto.h - Tensors and attributes of ONNX protobufs ---*- C++ -*-===//
//
// Internal to the ONNX reader: constants read from TensorProto (initializers,
// Constant nodes) and typed access to a node's attributes. The protobuf
// classes are those of Debian's libonnx (namespace onnx, the ONNX-ML
// variant, which ONNX_NAMESPACE and ONNX_ML select).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_LIB_INTERCHANGE_ONNXPROTO_H
#define RESNETC_LIB_INTERCHANGE_ONNXPROTO_H

#include "onnx/onnx_pb.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resnetc::onnximport {

/// A constant tensor: an initializer, a Constant node's value, or the result
/// of shape arithmetic on those. Integers (INT64, INT32, BOOL) are kept as
/// int64, floating point (FLOAT, DOUBLE) as float.
struct Constant {
  bool isFloat = false;
  std::vector<int64_t> dims;
  std::vector<int64_t> ints;
  std::vector<float> floats;

  int64_t count() const { return isFloat ? int64_t(floats.size()) : int64_t(ints.size()); }
  /// The value at `i` as a double, whatever the type.
  double at(int64_t i) const { return isFloat ? double(floats[i]) : double(ints[i]); }
};

/// Constants larger than this are refused: the largest tensor of ResNet-152
/// holds 2.4M values, and a ConstantOfShape of absurd size must not exhaust
/// memory.
inline constexpr int64_t kMaxConstantValues = int64_t(1) << 26;

/// The product of `dims`, or -1 when a dim is negative or the product of the
/// non-zero dims exceeds kMaxConstantValues.
int64_t elementCount(llvm::ArrayRef<int64_t> dims);

/// Reads a TensorProto. Errors name the tensor: "tensor 'w': ...".
bool readTensor(const onnx::TensorProto &tensor, Constant &out, std::string &error);

/// The name used in messages: the node's name, or "#<index>" when it has none.
std::string nodeLabel(const onnx::NodeProto &node, int index);

/// Attributes by name; nullopt when absent.
const onnx::AttributeProto *findAttribute(const onnx::NodeProto &node, llvm::StringRef name);
std::optional<int64_t> intAttribute(const onnx::NodeProto &node, llvm::StringRef name);
std::optional<float> floatAttribute(const onnx::NodeProto &node, llvm::StringRef name);
std::optional<std::string> stringAttribute(const onnx::NodeProto &node, llvm::StringRef name);
std::optional<std::vector<int64_t>> intsAttribute(const onnx::NodeProto &node,
                                                  llvm::StringRef name);

/// "[1, 2, 3]".
std::string formatList(llvm::ArrayRef<int64_t> values);

} // namespace resnetc::onnximport

#endif // RESNETC_LIB_INTERCHANGE_ONNXPROTO_H
