//===- OnnxImport.cpp - An ONNX ResNet as .rn source and weights ----------===//

#include "resnetc/Interchange/OnnxImport.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Frontend/ModelImporter.h"
#include "resnetc/Interchange/ResidualStructure.h"
#include "resnetc/Weights/CheckWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace llvm;
using namespace resnetc;
using namespace resnetc::onnximport;

namespace {

int64_t countLayers(const std::vector<RnItem> &items, int64_t &units) {
  int64_t layers = 0;
  for (const RnItem &item : items) {
    if (!item.unit) {
      ++layers;
      continue;
    }
    ++units;
    layers += countLayers(item.unit->body, units) + int64_t(item.unit->projection.size());
  }
  return layers;
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text;
}

/// Names the tensors of `network` after the rn.weight ops of the module the
/// front end built from its .rn source: both list the weighted layers in
/// the same order (the body of a unit, then its projection).
bool nameTensors(mlir::ModuleOp module, const RnNetwork &network, std::vector<NamedTensor> &tensors,
                 std::string &error) {
  std::vector<const RnLayer *> layers = weightedLayers(network);
  size_t next = 0;
  bool ok = true;
  module.walk([&](mlir::Operation *op) {
    std::optional<RnLayer::Kind> kind;
    if (isa<rn::Conv2DOp>(op))
      kind = RnLayer::Kind::Conv;
    else if (isa<rn::BatchNormOp>(op))
      kind = RnLayer::Kind::BatchNorm;
    else if (isa<rn::DenseOp>(op))
      kind = RnLayer::Kind::Fc;
    if (!kind || !ok)
      return;
    mlir::OperandRange weights = op->getOperands().drop_front();
    if (next >= layers.size() || layers[next]->kind != *kind ||
        layers[next]->tensors.size() != weights.size()) {
      error = "internal error: the module's weighted layer " + std::to_string(next) +
              " does not match the ONNX graph's";
      ok = false;
      return;
    }
    const RnLayer &layer = *layers[next++];
    for (size_t i = 0; i < weights.size(); ++i) {
      auto weight = weights[i].getDefiningOp<rn::WeightOp>();
      auto type = cast<mlir::RankedTensorType>(weights[i].getType());
      if (!weight || type.getShape() != ArrayRef<int64_t>(layer.tensors[i].shape)) {
        error = "internal error: the weights of node '" + layer.node +
                "' do not fit the layer the .rn source makes of it";
        ok = false;
        return;
      }
      tensors.push_back({weight.getName().str(), layer.tensors[i].shape, layer.tensors[i].values});
    }
  });
  if (ok && next != layers.size()) {
    error = "internal error: the module has fewer weighted layers than the ONNX graph";
    ok = false;
  }
  return ok;
}

} // namespace

std::string resnetc::networkNameFromPath(StringRef path) {
  std::string name;
  for (char c : sys::path::stem(path))
    name += isAlnum(c) || c == '_' ? c : '_';
  if (name.empty() || isDigit(name[0]))
    name = "m" + name;
  if (name == "let" || name == "block" || name == "network" || name == "true" || name == "false")
    name += "_net";
  return name;
}

bool resnetc::importOnnx(mlir::MLIRContext &context, StringRef bytes, StringRef sourceName,
                         StringRef network, OnnxImportResult &result, std::string &error) {
  std::string why;
  LayerGraph graph;
  RnNetwork structure;
  if (!readOnnxLayers(bytes, graph, why) || !matchResidualStructure(graph, structure, why)) {
    error = (sourceName + ": " + why).str();
    return false;
  }
  result = OnnxImportResult();
  result.opset = graph.opset;
  for (const Layer &layer : graph.layers)
    result.foldedBatchNorm |= layer.kind == Layer::Kind::Conv && !layer.bias.values.empty();
  result.layers = countLayers(structure.items, result.units);

  std::vector<std::string> header = {
      ("Imported by resnetc import from " + sys::path::filename(sourceName) + " (ONNX opset " +
       Twine(graph.opset) + ", input '" + graph.inputName + "' " + shapeText(graph.input) +
       ", output '" + graph.outputName + "').")
          .str()};
  if (result.foldedBatchNorm)
    header.push_back("The exporter folded batch norms into conv biases; each bn after such a "
                     "conv carries the bias (docs/interchange.md, ONNX).");
  result.source = writeRnSource(structure, network, header);

  // The source goes through the front end like any .rn file: the module
  // names the weights and gives the architecture hash.
  SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      MemoryBuffer::getMemBufferCopy(result.source, (network + ".rn").str()), SMLoc());
  std::string diagnostic;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (diagnostic.empty())
      diagnostic = d.str();
    return mlir::success();
  });
  ImportOptions options;
  mlir::OwningOpRef<mlir::ModuleOp> module = importModel(context, sourceMgr, options);
  if (!module || failed(mlir::verify(*module)) || failed(expandModel(*module))) {
    error = (sourceName + ": the network cannot be written as .rn: " + diagnostic).str();
    return false;
  }

  WeightsFile &weights = result.weights;
  weights.model = network.str();
  weights.architectureHash = architectureHash(*module);
  weights.input.layout = "NCHW";
  weights.input.shape = graph.input;
  if (!nameTensors(*module, structure, weights.tensors, why)) {
    error = (sourceName + ": " + why).str();
    return false;
  }
  std::vector<std::string> problems;
  WeightsCheckOptions checkOptions;
  checkOptions.allowCheckpointState = false;
  if (!checkWeightsFit(weights.tensors, expectedWeights(*module), checkOptions, problems)) {
    error = (sourceName + ": the weights do not fit the network: " + problems.front()).str();
    return false;
  }
  return true;
}
