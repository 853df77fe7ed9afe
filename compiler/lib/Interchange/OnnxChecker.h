//===- OnnxChecker.h - ONNX's own model checker, without exceptions -*- C++ -*-===//
//
// onnx::checker reports problems by throwing; resnetc is built without
// exceptions, so OnnxChecker.cpp alone is compiled with them and turns the
// exception into a message.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_LIB_INTERCHANGE_ONNXCHECKER_H
#define RESNETC_LIB_INTERCHANGE_ONNXCHECKER_H

#include "onnx/onnx_pb.h"

#include <string>

namespace resnetc::onnximport {

/// onnx::checker::check_model; false with its message when it objects.
bool checkOnnxModel(const onnx::ModelProto &model, std::string &error);

} // namespace resnetc::onnximport

#endif // RESNETC_LIB_INTERCHANGE_ONNXCHECKER_H
