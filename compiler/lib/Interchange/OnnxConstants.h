//===- OnnxConstants.h - Evaluating shape arithmetic on constants -*- C++ -*-===//
//
// torch.onnx writes small computations on constants and shapes into the
// graph (the pads of F.pad, the target of x.view(x.size(0), -1)), and does
// not always fold them. The ONNX reader evaluates those nodes once, on the
// constants and the known shapes, so the layers see plain values.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_LIB_INTERCHANGE_ONNXCONSTANTS_H
#define RESNETC_LIB_INTERCHANGE_ONNXCONSTANTS_H

#include "OnnxProto.h"

namespace resnetc::onnximport {

/// Whether evaluateConstant handles `opType` (when all its inputs are known).
bool isConstantOp(llvm::StringRef opType);

/// Evaluates `node` on constant inputs (null: an absent optional input).
/// `opset` selects attribute or input forms (Slice, Unsqueeze, Squeeze).
/// Errors are one line without the node's name (the caller adds it).
bool evaluateConstant(const onnx::NodeProto &node, llvm::ArrayRef<const Constant *> inputs,
                      int64_t opset, Constant &out, std::string &error);

/// The start and end of Shape's slice (opset 15 added them) of a rank-`rank`
/// shape, clamped as the operator says.
std::pair<int64_t, int64_t> shapeRange(const onnx::NodeProto &node, int64_t rank);

/// Reshape's target dims for an input of `in` dims: 0 copies a dimension
/// (unless allowzero), -1 takes what is left.
bool reshapeDims(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> target, bool allowZero,
                 std::vector<int64_t> &out, std::string &error);

/// ONNX Slice's bounds on one axis of size `dim`, normalised as the operator
/// specifies: negative starts and ends count from the end, then clamp.
void clampSlice(int64_t dim, int64_t step, int64_t &start, int64_t &end);

} // namespace resnetc::onnximport

#endif // RESNETC_LIB_INTERCHANGE_ONNXCONSTANTS_H
