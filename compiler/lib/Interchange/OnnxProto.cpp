//===- OnnxProto.cpp - Tensors and attributes of ONNX protobufs -----------===//

#include "OnnxProto.h"

#include "llvm/Support/Endian.h"

#include <cstring>

using namespace llvm;
using namespace resnetc::onnximport;

int64_t resnetc::onnximport::elementCount(ArrayRef<int64_t> dims) {
  // The product of the non-zero dims is bounded too, so that strides over a
  // tensor with a zero dimension cannot overflow either.
  int64_t count = 1, nonZero = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return -1;
    if (d == 0) {
      count = 0;
      continue;
    }
    if (nonZero > kMaxConstantValues / d)
      return -1;
    nonZero *= d;
    count *= d;
  }
  return count;
}

std::string resnetc::onnximport::formatList(ArrayRef<int64_t> values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

namespace {

/// Bytes per value of the types read from raw_data; 0 for the others.
size_t rawWidth(int32_t type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    return 4;
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::DOUBLE:
    return 8;
  case onnx::TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

const char *typeName(int32_t type) {
  return onnx::TensorProto::DataType_IsValid(type)
             ? onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(type)).c_str()
             : "an unknown type";
}

/// Reads little-endian raw_data (ONNX stores it so on every platform).
void readRaw(const std::string &raw, int32_t type, int64_t count, Constant &out) {
  const char *p = raw.data();
  for (int64_t i = 0; i < count; ++i) {
    switch (type) {
    case onnx::TensorProto::FLOAT: {
      uint32_t bits = support::endian::read32le(p + 4 * i);
      float v;
      std::memcpy(&v, &bits, 4);
      out.floats.push_back(v);
      break;
    }
    case onnx::TensorProto::DOUBLE: {
      uint64_t bits = support::endian::read64le(p + 8 * i);
      double v;
      std::memcpy(&v, &bits, 8);
      out.floats.push_back(float(v));
      break;
    }
    case onnx::TensorProto::INT32:
      out.ints.push_back(int32_t(support::endian::read32le(p + 4 * i)));
      break;
    case onnx::TensorProto::INT64:
      out.ints.push_back(int64_t(support::endian::read64le(p + 8 * i)));
      break;
    default: // BOOL
      out.ints.push_back(p[i] != 0);
      break;
    }
  }
}

} // namespace

bool resnetc::onnximport::readTensor(const onnx::TensorProto &tensor, Constant &out,
                                     std::string &error) {
  std::string label = "tensor '" + tensor.name() + "'";
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    error = label + " keeps its data in an external file, which is not supported (save the "
                    "model as one file)";
    return false;
  }
  if (tensor.has_segment()) {
    error = label + " is split into segments, which is not supported";
    return false;
  }
  int32_t type = tensor.data_type();
  size_t width = rawWidth(type);
  if (!width) {
    error = label + " is of type " + typeName(type) +
            "; only FLOAT, DOUBLE, INT64, INT32 and BOOL tensors are read";
    return false;
  }
  out = Constant();
  out.isFloat = type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE;
  out.dims.assign(tensor.dims().begin(), tensor.dims().end());
  int64_t count = elementCount(out.dims);
  if (count < 0) {
    error = label + " has dims " + formatList(out.dims) +
            ", which are negative or hold more than 2^26 values";
    return false;
  }
  int64_t stored = 0;
  if (tensor.has_raw_data()) {
    stored = int64_t(tensor.raw_data().size() / width);
    if (tensor.raw_data().size() % width)
      stored = -1;
  } else if (type == onnx::TensorProto::FLOAT) {
    stored = tensor.float_data_size();
  } else if (type == onnx::TensorProto::DOUBLE) {
    stored = tensor.double_data_size();
  } else if (type == onnx::TensorProto::INT64) {
    stored = tensor.int64_data_size();
  } else {
    stored = tensor.int32_data_size();
  }
  if (stored != count) {
    error = label + " holds " +
            (stored < 0 ? std::string("a partial value") : std::to_string(stored) + " values") +
            ", its dims " + formatList(out.dims) + " say " + std::to_string(count);
    return false;
  }
  if (tensor.has_raw_data()) {
    readRaw(tensor.raw_data(), type, count, out);
  } else if (type == onnx::TensorProto::FLOAT) {
    out.floats.assign(tensor.float_data().begin(), tensor.float_data().end());
  } else if (type == onnx::TensorProto::DOUBLE) {
    for (double v : tensor.double_data())
      out.floats.push_back(float(v));
  } else if (type == onnx::TensorProto::INT64) {
    out.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
  } else {
    out.ints.assign(tensor.int32_data().begin(), tensor.int32_data().end());
  }
  return true;
}

std::string resnetc::onnximport::nodeLabel(const onnx::NodeProto &node, int index) {
  return node.name().empty() ? "#" + std::to_string(index) : node.name();
}

const onnx::AttributeProto *resnetc::onnximport::findAttribute(const onnx::NodeProto &node,
                                                               StringRef name) {
  for (const onnx::AttributeProto &attribute : node.attribute())
    if (attribute.name() == name)
      return &attribute;
  return nullptr;
}

std::optional<int64_t> resnetc::onnximport::intAttribute(const onnx::NodeProto &node,
                                                         StringRef name) {
  const onnx::AttributeProto *a = findAttribute(node, name);
  if (!a || !a->has_i())
    return std::nullopt;
  return a->i();
}

std::optional<float> resnetc::onnximport::floatAttribute(const onnx::NodeProto &node,
                                                         StringRef name) {
  const onnx::AttributeProto *a = findAttribute(node, name);
  if (!a || !a->has_f())
    return std::nullopt;
  return a->f();
}

std::optional<std::string> resnetc::onnximport::stringAttribute(const onnx::NodeProto &node,
                                                                StringRef name) {
  const onnx::AttributeProto *a = findAttribute(node, name);
  if (!a || !a->has_s())
    return std::nullopt;
  return a->s();
}

std::optional<std::vector<int64_t>> resnetc::onnximport::intsAttribute(const onnx::NodeProto &node,
                                                                       StringRef name) {
  const onnx::AttributeProto *a = findAttribute(node, name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}
