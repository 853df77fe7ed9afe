//===- ModelStats.cpp - Parameters, multiply-adds, layers and shapes ------===//

#include "resnetc/Analysis/ModelStats.h"

#include "resnetc/Dialect/Rn/LayerBuilder.h"
#include "resnetc/Dialect/Rn/RnOps.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace resnetc;

namespace {

int64_t elements(Type type) { return cast<RankedTensorType>(type).getNumElements(); }

/// Trainable weights that `op` reads (running statistics excluded).
int64_t paramsOf(Operation *op) {
  int64_t total = 0;
  for (Value operand : op->getOperands())
    if (auto weight = operand.getDefiningOp<rn::WeightOp>(); weight && !weight.getState())
      total += elements(weight.getType());
  return total;
}

std::string formatCount(int64_t n) {
  if (n >= 1000000000)
    return llvm::formatv("{0:F2}G", n / 1e9).str();
  if (n >= 1000000)
    return llvm::formatv("{0:F2}M", n / 1e6).str();
  if (n >= 1000)
    return llvm::formatv("{0:F1}K", n / 1e3).str();
  return std::to_string(n);
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text;
}

} // namespace

ModelStats resnetc::computeStats(ModuleOp module) {
  ModelStats stats;
  if (auto name = module->getAttrOfType<StringAttr>(rn::kModelNameAttr))
    stats.name = name.str();
  if (auto input = module->getAttrOfType<DenseI64ArrayAttr>(rn::kInputShapeAttr))
    stats.input.assign(input.asArrayRef().begin(), input.asArrayRef().end());
  if (auto classes = module->getAttrOfType<IntegerAttr>(rn::kClassesAttr))
    stats.classes = classes.getInt();
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  if (!forward)
    return stats;
  int64_t batch = cast<RankedTensorType>(forward.getArgumentTypes()[0]).getDimSize(0);

  forward.walk([&](Operation *op) {
    if (auto weight = dyn_cast<rn::WeightOp>(op)) {
      (weight.getState() ? stats.stateValues : stats.params) += elements(weight.getType());
      return;
    }
    if (op->getDialect() != op->getContext()->getLoadedDialect<rn::RnDialect>() ||
        isa<rn::FoldBatchNormOp>(op))
      return;
    LayerStats layer;
    layer.name = rn::layerNameOf(op);
    layer.op = op->getName().stripDialect().str();
    auto shape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
    layer.outputShape.assign(shape.begin() + (shape.empty() ? 0 : 1), shape.end());
    layer.params = paramsOf(op);
    llvm::TypeSwitch<Operation *>(op)
        .Case([&](rn::Conv2DOp conv) {
          auto w = cast<RankedTensorType>(conv.getWeight().getType()).getShape();
          layer.macs = elements(conv.getType()) / batch * w[1] * w[2] * w[3];
          layer.detail = llvm::formatv("{0}x{1}/{2}, {3}", w[2], w[3], conv.getStrides()[0], w[0]);
          if (conv.getGroups() != 1)
            layer.detail += llvm::formatv(" g{0}", conv.getGroups()).str();
          if (std::optional<ArrayRef<int64_t>> dilations = conv.getDilations())
            layer.detail += llvm::formatv(" d{0}", (*dilations)[0]).str();
          if (conv.getShortcut())
            ++stats.shortcutProjections;
          else
            ++stats.weightedLayers;
        })
        .Case([&](rn::DenseOp dense) {
          auto w = cast<RankedTensorType>(dense.getWeight().getType()).getShape();
          layer.macs = w[0] * w[1];
          layer.detail = std::to_string(w[0]);
          if (!dense->hasAttr(rn::kGateAttr))
            ++stats.weightedLayers;
        })
        .Case([&](rn::MaxPool2DOp pool) {
          layer.detail = llvm::formatv("{0}x{1}/{2}", pool.getKernel()[0], pool.getKernel()[1],
                                       pool.getStrides()[0]);
        })
        .Case([&](rn::ZeroPadShortcutOp pad) {
          layer.detail = llvm::formatv("/{0}, {1}", pad.getStride(), pad.getOutChannels());
        })
        .Case([&](rn::ShortcutOp shortcut) {
          layer.detail = rn::stringifyShortcutKind(shortcut.getKind()).str();
        })
        .Default([](Operation *) {});
    stats.macs += layer.macs;
    stats.layers.push_back(std::move(layer));
  });
  return stats;
}

void resnetc::printStatsTable(llvm::raw_ostream &os, const ModelStats &stats) {
  size_t nameWidth = 5;
  for (const LayerStats &layer : stats.layers)
    nameWidth = std::max(nameWidth, layer.name.size());
  auto row = [&](llvm::StringRef name, llvm::StringRef op, llvm::StringRef detail,
                 llvm::StringRef shape, llvm::StringRef params, llvm::StringRef macs) {
    os << llvm::left_justify(name, nameWidth) << "  " << llvm::left_justify(op, 17) << "  "
       << llvm::left_justify(detail, 13) << "  " << llvm::left_justify(shape, 14) << "  "
       << llvm::right_justify(params, 10) << "  " << llvm::right_justify(macs, 14) << "\n";
  };
  os << "model " << stats.name << ": input " << formatShape(stats.input) << ", " << stats.classes
     << " classes\n\n";
  row("layer", "op", "kernel/stride", "output", "params", "mult-adds");
  for (const LayerStats &layer : stats.layers)
    row(layer.name, layer.op, layer.detail, formatShape(layer.outputShape),
        layer.params ? std::to_string(layer.params) : "",
        layer.macs ? std::to_string(layer.macs) : "");
  os << "\n";
  os << "parameters:        " << stats.params << " (" << formatCount(stats.params) << ")\n";
  os << "running stats:     " << stats.stateValues << " values (not trained)\n";
  os << "multiply-adds:     " << stats.macs << " (" << formatCount(stats.macs) << ") per image\n";
  os << "weighted layers:   " << stats.weightedLayers << " (convs and fc";
  if (stats.shortcutProjections)
    os << "; plus " << stats.shortcutProjections << " shortcut projection"
       << (stats.shortcutProjections == 1 ? "" : "s");
  os << ")\n";
}

llvm::json::Value resnetc::statsToJson(const ModelStats &stats) {
  llvm::json::Array layers;
  for (const LayerStats &layer : stats.layers)
    layers.push_back(llvm::json::Object{{"name", layer.name},
                                        {"op", layer.op},
                                        {"output", llvm::json::Array(layer.outputShape)},
                                        {"params", layer.params},
                                        {"macs", layer.macs}});
  return llvm::json::Object{{"name", stats.name},
                            {"input", llvm::json::Array(stats.input)},
                            {"classes", stats.classes},
                            {"params", stats.params},
                            {"running_stats", stats.stateValues},
                            {"macs", stats.macs},
                            {"weighted_layers", stats.weightedLayers},
                            {"shortcut_projections", stats.shortcutProjections},
                            {"layers", std::move(layers)}};
}
