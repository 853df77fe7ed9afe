//===- OnnxConstants.cpp - Evaluating shape arithmetic on constants -------===//

#include "OnnxConstants.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;
using namespace resnetc::onnximport;

namespace {

std::vector<int64_t> stridesOf(ArrayRef<int64_t> dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (int i = int(dims.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

/// A tensor of `dims` whose element i is element source(i) of `in`.
template <typename Fn> Constant gather(const Constant &in, std::vector<int64_t> dims, Fn source) {
  Constant out;
  out.isFloat = in.isFloat;
  out.dims = std::move(dims);
  int64_t count = elementCount(out.dims);
  for (int64_t i = 0; i < count; ++i) {
    int64_t from = source(i);
    if (in.isFloat)
      out.floats.push_back(in.floats[from]);
    else
      out.ints.push_back(in.ints[from]);
  }
  return out;
}

/// Reads an integer list from a constant input or, for older opsets, an
/// attribute.
bool intList(const Constant *input, std::vector<int64_t> &out) {
  if (!input || input->isFloat)
    return false;
  out = input->ints;
  return true;
}

bool normaliseAxis(int64_t &axis, int64_t rank, std::string &error) {
  if (axis < -rank || axis >= rank) {
    error = "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank);
    return false;
  }
  if (axis < 0)
    axis += rank;
  return true;
}

bool evalCast(const onnx::NodeProto &node, const Constant &in, Constant &out, std::string &error) {
  std::optional<int64_t> to = intAttribute(node, "to");
  if (!to) {
    error = "has no 'to' attribute";
    return false;
  }
  bool toFloat = *to == onnx::TensorProto::FLOAT || *to == onnx::TensorProto::DOUBLE;
  bool toInt = *to == onnx::TensorProto::INT64 || *to == onnx::TensorProto::INT32 ||
               *to == onnx::TensorProto::BOOL;
  if (!toFloat && !toInt) {
    error = "casts to type " + std::to_string(*to) + ", which is not supported";
    return false;
  }
  out = Constant();
  out.dims = in.dims;
  out.isFloat = toFloat;
  for (int64_t i = 0; i < in.count(); ++i) {
    if (toFloat)
      out.floats.push_back(float(in.at(i)));
    else if (*to == onnx::TensorProto::BOOL)
      out.ints.push_back(in.at(i) != 0);
    else
      out.ints.push_back(in.isFloat ? int64_t(std::trunc(double(in.floats[i]))) : in.ints[i]);
  }
  return true;
}

bool evalGather(const onnx::NodeProto &node, const Constant &data, const Constant &indices,
                Constant &out, std::string &error) {
  int64_t rank = int64_t(data.dims.size());
  int64_t axis = intAttribute(node, "axis").value_or(0);
  if (rank == 0 || indices.isFloat) {
    error = "needs a tensor of rank 1 or more and integer indices";
    return false;
  }
  if (!normaliseAxis(axis, rank, error))
    return false;
  std::vector<int64_t> dims(data.dims.begin(), data.dims.begin() + axis);
  dims.insert(dims.end(), indices.dims.begin(), indices.dims.end());
  dims.insert(dims.end(), data.dims.begin() + axis + 1, data.dims.end());
  if (elementCount(dims) < 0) {
    error = "would make a tensor that is too large";
    return false;
  }
  std::vector<int64_t> idx = indices.ints;
  for (int64_t &i : idx) {
    if (i < -data.dims[axis] || i >= data.dims[axis]) {
      error = "index " + std::to_string(i) + " is out of range for a dimension of " +
              std::to_string(data.dims[axis]);
      return false;
    }
    if (i < 0)
      i += data.dims[axis];
  }
  std::vector<int64_t> inStrides = stridesOf(data.dims);
  int64_t inner = inStrides[axis], outerStride = data.dims[axis] * inner;
  int64_t n = int64_t(idx.size());
  out = gather(data, dims, [&](int64_t i) {
    int64_t innerPos = i % inner, rest = i / inner;
    int64_t k = rest % n, outer = rest / n;
    return outer * outerStride + idx[k] * inner + innerPos;
  });
  return true;
}

bool evalConcat(const onnx::NodeProto &node, ArrayRef<const Constant *> inputs, Constant &out,
                std::string &error) {
  const Constant &first = *inputs[0];
  int64_t rank = int64_t(first.dims.size());
  std::optional<int64_t> axisAttr = intAttribute(node, "axis");
  if (!axisAttr || rank == 0) {
    error = "needs an 'axis' and inputs of rank 1 or more";
    return false;
  }
  int64_t axis = *axisAttr;
  if (!normaliseAxis(axis, rank, error))
    return false;
  std::vector<int64_t> dims = first.dims;
  dims[axis] = 0;
  for (const Constant *in : inputs) {
    bool same = int64_t(in->dims.size()) == rank && in->isFloat == first.isFloat;
    for (int64_t d = 0; same && d < rank; ++d)
      same = d == axis || in->dims[d] == first.dims[d];
    if (!same) {
      error = "concatenates tensors of shapes " + formatList(first.dims) + " and " +
              formatList(in->dims);
      return false;
    }
    dims[axis] += in->dims[axis];
  }
  out = Constant();
  out.isFloat = first.isFloat;
  out.dims = dims;
  int64_t outer = elementCount(ArrayRef<int64_t>(dims).take_front(axis));
  if (outer < 0 || elementCount(dims) < 0) {
    error = "would make a tensor that is too large";
    return false;
  }
  for (int64_t o = 0; o < outer; ++o)
    for (const Constant *in : inputs) {
      int64_t chunk = in->count() / std::max<int64_t>(outer, 1);
      for (int64_t i = o * chunk; i < (o + 1) * chunk; ++i) {
        if (in->isFloat)
          out.floats.push_back(in->floats[i]);
        else
          out.ints.push_back(in->ints[i]);
      }
    }
  return true;
}

bool evalReshape(const onnx::NodeProto &node, const Constant &data, const Constant &shape,
                 Constant &out, std::string &error) {
  if (shape.isFloat) {
    error = "has a non-integer target shape";
    return false;
  }
  std::vector<int64_t> dims;
  if (!reshapeDims(data.dims, shape.ints, intAttribute(node, "allowzero").value_or(0) != 0, dims,
                   error))
    return false;
  out = data;
  out.dims = dims;
  return true;
}

bool evalTranspose(const onnx::NodeProto &node, const Constant &data, Constant &out,
                   std::string &error) {
  int64_t rank = int64_t(data.dims.size());
  std::vector<int64_t> perm(rank);
  for (int64_t i = 0; i < rank; ++i)
    perm[i] = rank - 1 - i;
  if (auto given = intsAttribute(node, "perm"))
    perm = *given;
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < rank; ++i)
    if (int64_t(sorted.size()) != rank || sorted[i] != i) {
      error = "has an invalid perm " + formatList(perm);
      return false;
    }
  std::vector<int64_t> dims(rank);
  for (int64_t i = 0; i < rank; ++i)
    dims[i] = data.dims[perm[i]];
  std::vector<int64_t> inStrides = stridesOf(data.dims), outStrides = stridesOf(dims);
  out = gather(data, dims, [&](int64_t i) {
    int64_t from = 0;
    for (int64_t d = 0; d < rank; ++d)
      from += (i / outStrides[d]) % dims[d] * inStrides[perm[d]];
    return from;
  });
  return true;
}

bool evalSlice(const onnx::NodeProto &node, ArrayRef<const Constant *> inputs, int64_t opset,
               Constant &out, std::string &error) {
  const Constant &data = *inputs[0];
  int64_t rank = int64_t(data.dims.size());
  std::vector<int64_t> starts, ends, axes, steps;
  bool ok;
  if (opset < 10) {
    starts = intsAttribute(node, "starts").value_or(std::vector<int64_t>());
    ends = intsAttribute(node, "ends").value_or(std::vector<int64_t>());
    axes = intsAttribute(node, "axes").value_or(std::vector<int64_t>());
    ok = !starts.empty();
  } else {
    ok = inputs.size() >= 3 && intList(inputs[1], starts) && intList(inputs[2], ends);
    if (ok && inputs.size() > 3 && inputs[3])
      ok = intList(inputs[3], axes);
    if (ok && inputs.size() > 4 && inputs[4])
      ok = intList(inputs[4], steps);
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(int64_t(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (!ok || ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    error = "has starts, ends, axes and steps of different lengths";
    return false;
  }
  std::vector<int64_t> begin(rank, 0), step(rank, 1), dims = data.dims;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = axes[i];
    if (!normaliseAxis(axis, rank, error))
      return false;
    if (steps[i] == 0 || steps[i] == std::numeric_limits<int64_t>::min()) {
      error = "has a step of " + std::to_string(steps[i]);
      return false;
    }
    int64_t s = starts[i], e = ends[i];
    clampSlice(data.dims[axis], steps[i], s, e);
    begin[axis] = s;
    step[axis] = steps[i];
    int64_t span = steps[i] > 0 ? e - s : s - e;
    int64_t magnitude = steps[i] > 0 ? steps[i] : -steps[i];
    dims[axis] = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
  }
  std::vector<int64_t> inStrides = stridesOf(data.dims), outStrides = stridesOf(dims);
  out = gather(data, dims, [&](int64_t i) {
    int64_t from = 0;
    for (int64_t d = 0; d < rank; ++d)
      from += (begin[d] + (i / outStrides[d]) % dims[d] * step[d]) * inStrides[d];
    return from;
  });
  return true;
}

bool evalUnsqueezeOrSqueeze(const onnx::NodeProto &node, ArrayRef<const Constant *> inputs,
                            int64_t opset, bool unsqueeze, Constant &out, std::string &error) {
  const Constant &data = *inputs[0];
  std::vector<int64_t> axes;
  bool given;
  if (opset < 13) {
    auto attr = intsAttribute(node, "axes");
    given = attr.has_value();
    if (given)
      axes = *attr;
  } else {
    given = inputs.size() > 1 && inputs[1];
    if (given && !intList(inputs[1], axes)) {
      error = "has non-integer axes";
      return false;
    }
  }
  int64_t rank = int64_t(data.dims.size()) + (unsqueeze ? int64_t(axes.size()) : 0);
  for (int64_t &axis : axes)
    if (!normaliseAxis(axis, rank, error))
      return false;
  out = data;
  if (unsqueeze) {
    if (!given) {
      error = "has no axes";
      return false;
    }
    std::sort(axes.begin(), axes.end());
    for (int64_t axis : axes)
      out.dims.insert(out.dims.begin() + axis, 1);
    return true;
  }
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < int64_t(data.dims.size()); ++d) {
    bool listed = std::find(axes.begin(), axes.end(), d) != axes.end();
    if ((given && !listed) || (!given && data.dims[d] != 1)) {
      dims.push_back(data.dims[d]);
      continue;
    }
    if (data.dims[d] != 1) {
      error =
          "squeezes dimension " + std::to_string(d) + " of size " + std::to_string(data.dims[d]);
      return false;
    }
  }
  out.dims = dims;
  return true;
}

/// Add, Sub, Mul, Div with numpy broadcasting.
bool evalArithmetic(const onnx::NodeProto &node, const Constant &a, const Constant &b,
                    Constant &out, std::string &error) {
  if (a.isFloat != b.isFloat) {
    error = "mixes integer and floating-point operands";
    return false;
  }
  size_t rank = std::max(a.dims.size(), b.dims.size());
  std::vector<int64_t> da(rank - a.dims.size(), 1), db(rank - b.dims.size(), 1);
  da.insert(da.end(), a.dims.begin(), a.dims.end());
  db.insert(db.end(), b.dims.begin(), b.dims.end());
  std::vector<int64_t> dims(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (da[d] != db[d] && da[d] != 1 && db[d] != 1) {
      error = "cannot broadcast " + formatList(a.dims) + " with " + formatList(b.dims);
      return false;
    }
    dims[d] = da[d] == 1 ? db[d] : da[d];
  }
  std::vector<int64_t> sa = stridesOf(da), sb = stridesOf(db), so = stridesOf(dims);
  char op = StringSwitch<char>(node.op_type())
                .Case("Add", '+')
                .Case("Sub", '-')
                .Case("Mul", '*')
                .Default('/');
  out = Constant();
  out.isFloat = a.isFloat;
  out.dims = dims;
  int64_t count = elementCount(dims);
  for (int64_t i = 0; i < count; ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      int64_t k = (i / so[d]) % dims[d];
      ia += (da[d] == 1 ? 0 : k) * sa[d];
      ib += (db[d] == 1 ? 0 : k) * sb[d];
    }
    if (a.isFloat) {
      float x = a.floats[ia], y = b.floats[ib];
      out.floats.push_back(op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y);
      continue;
    }
    int64_t x = a.ints[ia], y = b.ints[ib];
    if (op == '/' && y == 0) {
      error = "divides by zero";
      return false;
    }
    // Shape arithmetic stays far from overflow; wrap rather than trap if not.
    uint64_t ux = uint64_t(x), uy = uint64_t(y);
    out.ints.push_back(op == '+'   ? int64_t(ux + uy)
                       : op == '-' ? int64_t(ux - uy)
                       : op == '*' ? int64_t(ux * uy)
                                   : (x == INT64_MIN && y == -1 ? x : x / y));
  }
  return true;
}

} // namespace

bool resnetc::onnximport::reshapeDims(ArrayRef<int64_t> in, ArrayRef<int64_t> target,
                                      bool allowZero, std::vector<int64_t> &dims,
                                      std::string &error) {
  dims.assign(target.begin(), target.end());
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 && !allowZero) {
      if (i >= in.size()) {
        error = "copies dimension " + std::to_string(i) + " that its input lacks";
        return false;
      }
      dims[i] = in[i];
    }
    if (dims[i] == -1) {
      if (inferred >= 0) {
        error = "has two -1 dimensions in its target shape";
        return false;
      }
      inferred = int64_t(i);
      continue;
    }
    if (dims[i] < 0 || elementCount({known, dims[i]}) < 0) {
      error = "has an invalid target shape " + formatList(target);
      return false;
    }
    known *= dims[i];
  }
  int64_t count = elementCount(in);
  if (inferred >= 0) {
    if (known == 0 || count < 0 || count % known) {
      error = "cannot reshape " + formatList(in) + " to " + formatList(target);
      return false;
    }
    dims[inferred] = count / known;
  }
  if (elementCount(dims) != count) {
    error = "cannot reshape " + formatList(in) + " to " + formatList(target);
    return false;
  }
  return true;
}

void resnetc::onnximport::clampSlice(int64_t dim, int64_t step, int64_t &start, int64_t &end) {
  if (start < 0)
    start = start < -dim ? 0 : start + dim;
  if (end < 0)
    end = end < -dim ? -1 : end + dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
}

std::pair<int64_t, int64_t> resnetc::onnximport::shapeRange(const onnx::NodeProto &node,
                                                            int64_t rank) {
  int64_t start = intAttribute(node, "start").value_or(0);
  int64_t end = intAttribute(node, "end").value_or(rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  return {start, end};
}

bool resnetc::onnximport::isConstantOp(StringRef opType) {
  return StringSwitch<bool>(opType)
      .Cases({"Constant", "Identity", "Cast", "Gather", "Concat", "Reshape", "Transpose", "Slice",
              "Unsqueeze", "Squeeze", "ConstantOfShape", "Shape", "Add", "Sub", "Mul", "Div"},
             true)
      .Default(false);
}

bool resnetc::onnximport::evaluateConstant(const onnx::NodeProto &node,
                                           ArrayRef<const Constant *> inputs, int64_t opset,
                                           Constant &out, std::string &error) {
  StringRef op = node.op_type();
  size_t needed = StringSwitch<size_t>(op)
                      .Case("Constant", 0)
                      .Cases({"Gather", "Reshape", "Add", "Sub", "Mul", "Div"}, 2)
                      .Case("Slice", opset < 10 ? 1 : 3)
                      .Default(1);
  for (size_t i = 0; i < needed; ++i)
    if (i >= inputs.size() || !inputs[i]) {
      error = "lacks input " + std::to_string(i);
      return false;
    }
  if (op == "Constant") {
    if (const onnx::AttributeProto *value = findAttribute(node, "value"))
      return readTensor(value->t(), out, error);
    out = Constant();
    if (auto i = intAttribute(node, "value_int")) {
      out.ints = {*i};
    } else if (auto is = intsAttribute(node, "value_ints")) {
      out.ints = *is;
      out.dims = {int64_t(is->size())};
    } else if (auto f = floatAttribute(node, "value_float")) {
      out.isFloat = true;
      out.floats = {*f};
    } else if (const onnx::AttributeProto *fs = findAttribute(node, "value_floats")) {
      out.isFloat = true;
      out.floats.assign(fs->floats().begin(), fs->floats().end());
      out.dims = {int64_t(out.floats.size())};
    } else {
      error = "has no value that resnetc can read (value, value_int(s) or value_float(s))";
      return false;
    }
    return true;
  }
  const Constant &in = *inputs[0];
  if (op == "Identity") {
    out = in;
    return true;
  }
  if (op == "Shape") {
    auto [start, end] = shapeRange(node, int64_t(in.dims.size()));
    out = Constant();
    out.ints.assign(in.dims.begin() + start, in.dims.begin() + end);
    out.dims = {end - start};
    return true;
  }
  if (op == "Cast")
    return evalCast(node, in, out, error);
  if (op == "Gather")
    return evalGather(node, in, *inputs[1], out, error);
  if (op == "Concat") {
    for (const Constant *c : inputs)
      if (!c) {
        error = "has an absent input";
        return false;
      }
    return evalConcat(node, inputs, out, error);
  }
  if (op == "Reshape")
    return evalReshape(node, in, *inputs[1], out, error);
  if (op == "Transpose")
    return evalTranspose(node, in, out, error);
  if (op == "Slice")
    return evalSlice(node, inputs, opset, out, error);
  if (op == "Unsqueeze" || op == "Squeeze")
    return evalUnsqueezeOrSqueeze(node, inputs, opset, op == "Unsqueeze", out, error);
  if (op == "ConstantOfShape") {
    if (in.isFloat || elementCount(in.ints) < 0) {
      error = "has an invalid shape " + formatList(in.ints);
      return false;
    }
    Constant value;
    value.isFloat = true;
    value.floats = {0.0f};
    if (const onnx::AttributeProto *attr = findAttribute(node, "value"))
      if (!readTensor(attr->t(), value, error))
        return false;
    if (value.count() != 1) {
      error = "has a value that is not one element";
      return false;
    }
    out = Constant();
    out.isFloat = value.isFloat;
    out.dims = in.ints;
    int64_t count = elementCount(in.ints);
    if (value.isFloat)
      out.floats.assign(count, value.floats[0]);
    else
      out.ints.assign(count, value.ints[0]);
    return true;
  }
  return evalArithmetic(node, in, *inputs[1], out, error);
}
