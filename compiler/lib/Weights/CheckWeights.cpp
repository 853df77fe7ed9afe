//===- CheckWeights.cpp - Does a weights file fit a network? --------------===//

#include "resnetc/Weights/CheckWeights.h"
#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cmath>

using namespace mlir;
using namespace resnetc;

std::vector<ExpectedTensor> resnetc::expectedWeights(ModuleOp module) {
  std::vector<ExpectedTensor> expected;
  module.walk([&](rn::WeightOp op) {
    auto type = cast<RankedTensorType>(op.getType());
    expected.push_back(
        {op.getName().str(), std::vector<int64_t>(type.getShape().begin(), type.getShape().end())});
  });
  return expected;
}

int64_t resnetc::firstNonFinite(const NamedTensor &tensor) {
  for (size_t i = 0; i < tensor.values.size(); ++i)
    if (!std::isfinite(tensor.values[i]))
      return int64_t(i);
  return -1;
}

bool resnetc::checkWeightsFit(const std::vector<NamedTensor> &tensors,
                              const std::vector<ExpectedTensor> &expected,
                              const WeightsCheckOptions &options,
                              std::vector<std::string> &errors) {
  // A file with thousands of wrong tensors is one mistake, not thousands of
  // lines: the first few say what it is.
  constexpr size_t kMaxErrors = 24;
  size_t problems = 0;
  auto report = [&](std::string line) {
    if (++problems <= kMaxErrors)
      errors.push_back(std::move(line));
  };
  llvm::StringMap<const NamedTensor *> byName;
  for (const NamedTensor &tensor : tensors)
    byName[tensor.name] = &tensor;
  llvm::StringMap<bool> read;
  for (const ExpectedTensor &want : expected) {
    read[want.name] = true;
    const NamedTensor *have = byName.lookup(want.name);
    if (!have) {
      report("tensor '" + want.name + "' " + formatShape(want.shape) + " is missing");
      continue;
    }
    if (have->shape != want.shape) {
      report("tensor '" + want.name + "' has shape " + formatShape(have->shape) +
             ", the network expects " + formatShape(want.shape));
      continue;
    }
    if (int64_t at = firstNonFinite(*have); at >= 0)
      report("tensor '" + want.name + "' holds a non-finite value (" +
             std::to_string(have->values[size_t(at)]) + " at element " + std::to_string(at) + ")");
  }
  for (const NamedTensor &tensor : tensors) {
    if (read.count(tensor.name))
      continue;
    if (options.allowCheckpointState && llvm::StringRef(tensor.name).starts_with("momentum/"))
      continue;
    report("tensor '" + tensor.name + "' " + formatShape(tensor.shape) +
           " is not a weight of the network");
  }
  if (problems > kMaxErrors)
    errors.push_back("... and " + std::to_string(problems - kMaxErrors) + " more problems");
  return problems == 0;
}

bool resnetc::checkWeightsForModule(const WeightsFile &weights, ModuleOp module,
                                    const std::string &source, std::string &error) {
  std::string model;
  if (auto name = module->getAttrOfType<StringAttr>(rn::kModelNameAttr))
    model = name.str();
  if (weights.model != model) {
    error = source + ": the weights are for model '" + weights.model + "', not '" + model + "'";
    return false;
  }
  std::vector<std::string> errors;
  if (!checkWeightsFit(weights.tensors, expectedWeights(module), {}, errors)) {
    error = source + ": the weights do not fit '" + model + "':";
    for (const std::string &line : errors)
      error += "\n  " + line;
    return false;
  }
  if (!checkArchitecture(weights, model, architectureHash(module), error)) {
    error = source + ": " + error;
    return false;
  }
  return true;
}
