//===- OnnxExport.h - A .rn network and its weights as ONNX -----*- C++ -*-===//
//
// `resnetc export weights.rnw --model model.rn -o model.onnx`: the module's
// forward function, with its shortcuts expanded, in inference form at opset
// 13. Batch norms stay BatchNormalization nodes (exact; runtimes fold them
// themselves); option A's shortcut is Slice + Pad. The input is `input`,
// N x C x H x W float with a symbolic batch N, the output `logits`, N x K.
// Every weight is an initializer under its .rnw name; every node is named
// after its .rn layer (stage1.0.conv1).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INTERCHANGE_ONNXEXPORT_H
#define RESNETC_INTERCHANGE_ONNXEXPORT_H

#include "resnetc/runtime/WeightsFile.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace resnetc {

inline constexpr int64_t kOnnxExportOpset = 13;

struct OnnxExportReport {
  int64_t nodes = 0, initializers = 0;
};

/// Serialises the ONNX model of `module` (shortcuts expanded: expandModel)
/// with `weights`, which must fit it (checkWeightsFit), and checks it with
/// ONNX's own checker.
bool exportOnnx(mlir::ModuleOp module, const WeightsFile &weights, std::string &bytes,
                OnnxExportReport &report, std::string &error);

/// exportOnnx, then writes `path` atomically.
bool writeOnnxFile(const std::string &path, mlir::ModuleOp module, const WeightsFile &weights,
                   OnnxExportReport &report, std::string &error);

} // namespace resnetc

#endif // RESNETC_INTERCHANGE_ONNXEXPORT_H
