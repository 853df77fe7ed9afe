//===- OnnxImport.h - An ONNX ResNet as .rn source and weights ---*- C++ -*-===//
//
// `resnetc import model.onnx -o model.rn --weights-out model.rnw`: the graph
// is read with ONNX's own library (OnnxLayers.h), its residual structure
// found and written as .rn (ResidualStructure.h); that source is then
// imported by the front end like any .rn file, and the ONNX tensors are
// named after the module's rn.weight ops, so the weights fit by
// construction and are checked as every weights file is (CheckWeights.h).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INTERCHANGE_ONNXIMPORT_H
#define RESNETC_INTERCHANGE_ONNXIMPORT_H

#include "resnetc/runtime/WeightsFile.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace resnetc {

struct OnnxImportResult {
  std::string source;  ///< the .rn file
  WeightsFile weights; ///< named as the module of `source` names them
  int64_t opset = 0;
  int64_t layers = 0, units = 0; ///< .rn layers (conv, bn, ...) and residual units
  bool foldedBatchNorm = false;  ///< some conv carried a bias (BN folded by the exporter)
};

/// Imports the ONNX model in `bytes`. `sourceName` names it in messages and
/// in the .rn's header comment; `network` is the .rn network's name (a
/// valid .rn name). On failure `error` is one line, starting with
/// `sourceName`, that names the ONNX node and op type at fault.
bool importOnnx(mlir::MLIRContext &context, llvm::StringRef bytes, llvm::StringRef sourceName,
                llvm::StringRef network, OnnxImportResult &result, std::string &error);

/// A .rn network name made from a file name: "r50" stays, "resnet-50.v2"
/// becomes "resnet_50_v2", "50" becomes "m50".
std::string networkNameFromPath(llvm::StringRef path);

} // namespace resnetc

#endif // RESNETC_INTERCHANGE_ONNXIMPORT_H
