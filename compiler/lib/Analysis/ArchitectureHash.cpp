//===- ArchitectureHash.cpp - Identity of a network's weights -------------===//

#include "resnetc/Analysis/ModelStats.h"

#include "resnetc/Dialect/Rn/RnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
using namespace resnetc;

namespace {
constexpr llvm::StringLiteral kRecordedHashAttr = "rn.architecture_hash";
constexpr llvm::StringLiteral kWeightsHashAttr = "rn.weights_architecture_hash";
uint64_t computeHash(ModuleOp module) { return llvm::xxh3_64bits(architectureText(module)); }
IntegerAttr hashAttr(ModuleOp module, uint64_t hash) {
  return IntegerAttr::get(IntegerType::get(module.getContext(), 64), llvm::APInt(64, hash));
}
} // namespace

uint64_t resnetc::architectureHash(ModuleOp module) {
  if (auto recorded = module->getAttrOfType<IntegerAttr>(kRecordedHashAttr))
    return recorded.getValue().getZExtValue();
  return computeHash(module);
}

void resnetc::recordArchitectureHash(ModuleOp module) {
  module->removeAttr(kRecordedHashAttr);
  auto weights = module->getAttrOfType<IntegerAttr>(kWeightsHashAttr);
  uint64_t hash = weights ? weights.getValue().getZExtValue() : computeHash(module);
  module->setAttr(kRecordedHashAttr, hashAttr(module, hash));
}

void resnetc::setWeightsArchitectureHash(ModuleOp module, uint64_t hash) {
  module->setAttr(kWeightsHashAttr, hashAttr(module, hash));
}

std::string resnetc::architectureText(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  if (!forward)
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::DenseMap<Value, unsigned> ids;
  for (BlockArgument arg : forward.getArguments())
    ids[arg] = ids.size();
  auto printShape = [&](Type type, bool dropBatch) {
    auto shape = cast<ShapedType>(type).getShape();
    for (size_t i = dropBatch && !shape.empty() ? 1 : 0; i < shape.size(); ++i)
      os << shape[i] << "x";
    os << ";";
  };
  for (Operation &operation : forward.getBody().front()) {
    Operation *op = &operation;
    os << op->getName() << "(";
    for (Value operand : op->getOperands())
      os << ids.lookup(operand) << ",";
    os << ")";
    // Attributes print in a fixed order; locations are not attributes.
    for (NamedAttribute attr : op->getAttrDictionary()) {
      os << attr.getName() << "=";
      // The enum attributes print as the strings they once were, so that
      // existing weights files keep their hash (docs/weights-format.md).
      if (auto init = dyn_cast<rn::WeightInitAttr>(attr.getValue()))
        os << '"' << rn::stringifyWeightInit(init.getValue()) << '"';
      else if (auto kind = dyn_cast<rn::ShortcutKindAttr>(attr.getValue()))
        os << '"' << rn::stringifyShortcutKind(kind.getValue()) << '"';
      else
        os << attr.getValue();
      os << ",";
    }
    // Weights keep their full shape; activations drop the batch dimension.
    for (Value result : op->getResults()) {
      printShape(result.getType(), !isa<rn::WeightOp>(op));
      ids[result] = ids.size();
    }
    os << "\n";
  }
  return text;
}
