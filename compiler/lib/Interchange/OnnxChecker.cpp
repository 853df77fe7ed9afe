//===- OnnxChecker.cpp - ONNX's own model checker, without exceptions -----===//
//
// Compiled with -fexceptions (CMakeLists.txt): the one place that catches.
//
//===----------------------------------------------------------------------===//

#include "OnnxChecker.h"

#include "onnx/checker.h"

#include <exception>

bool resnetc::onnximport::checkOnnxModel(const onnx::ModelProto &model, std::string &error) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    error = e.what();
    // The checker's messages span lines; the first says what is wrong.
    error = error.substr(0, error.find('\n'));
    return false;
  }
  return true;
}
