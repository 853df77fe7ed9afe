//===- OnnxCommands.cpp - The .onnx branches of resnetc import and export -===//
//
//   resnetc import r50.onnx -o r50.rn [--weights-out r50.rnw]
//   resnetc export final.rnw --model resnet20_fmnist.rn -o r20.onnx
//
// ImportCommand.cpp and ExportCommand.cpp dispatch here on the extension.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ToolSupport.h"

#include "resnetc/Interchange/OnnxExport.h"
#include "resnetc/Interchange/OnnxImport.h"
#include "resnetc/Weights/CheckWeights.h"
#include "resnetc/runtime/AtomicFile.h"
#include "resnetc/runtime/WeightsFile.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace resnetc;
using resnetc::tool::fail;

int tool::importOnnxModel(mlir::MLIRContext &context, StringRef input, StringRef rnOutput,
                          StringRef weightsOutput,
                          function_ref<bool(WeightsFile &, std::string &)> describe) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFile(input, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!file)
    return fail(input + ": " + file.getError().message());
  OnnxImportResult result;
  std::string name = networkNameFromPath(rnOutput), error;
  if (!importOnnx(context, (*file)->getBuffer(), input, name, result, error))
    return fail(error);
  if (!describe(result.weights, error))
    return fail(error);
  if (!writeWeightsFile(weightsOutput.str(), result.weights, error) ||
      !writeFileAtomically(rnOutput.str(), result.source.data(), result.source.size(), error))
    return fail(error);
  outs() << "resnetc: " << input << ": ONNX opset " << result.opset << ", " << result.layers
         << " layers in " << result.units << " residual units"
         << (result.foldedBatchNorm ? " (batch norms folded by the exporter)" : "") << " -> "
         << rnOutput << " (network '" << name << "'), " << weightsOutput << " ("
         << result.weights.tensors.size() << " tensors)\n";
  return 0;
}

int tool::exportOnnxModel(mlir::ModuleOp module, const WeightsFile &weights, StringRef input,
                          StringRef output) {
  std::vector<std::string> problems;
  if (!checkWeightsFit(weights.tensors, expectedWeights(module), {}, problems)) {
    for (const std::string &line : problems)
      fail(input + ": " + line);
    return 1;
  }
  OnnxExportReport report;
  std::string error;
  if (!writeOnnxFile(output.str(), module, weights, report, error))
    return fail(error);
  outs() << "resnetc: " << input << ": " << report.nodes << " nodes, " << report.initializers
         << " initializers (opset " << kOnnxExportOpset
         << ", batch norms kept as BatchNormalization) -> " << output << "\n";
  return 0;
}
