//===- InitializeWeights.cpp - Fresh weights for a network ----------------===//

#include "resnetc/Weights/InitializeWeights.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/runtime/Random.h"

#include <cmath>

using namespace mlir;
using namespace resnetc;

namespace {

/// Inputs feeding one output: everything but the leading (output) dimension.
int64_t fanIn(llvm::ArrayRef<int64_t> shape) {
  int64_t fan = 1;
  for (int64_t d : shape.drop_front())
    fan *= d;
  return fan;
}

NamedTensor initialize(rn::WeightOp op, uint64_t seed) {
  auto type = cast<RankedTensorType>(op.getType());
  NamedTensor tensor;
  tensor.name = op.getName().str();
  tensor.shape.assign(type.getShape().begin(), type.getShape().end());
  tensor.values.assign(type.getNumElements(), 0.0f);
  llvm::StringRef init = rn::stringifyWeightInit(op.getInit());
  if (init == "ones") {
    std::fill(tensor.values.begin(), tensor.values.end(), 1.0f);
  } else if (init == "he_normal") {
    Random random = Random::forStream(seed, tensor.name);
    double stddev = std::sqrt(2.0 / double(fanIn(type.getShape())));
    for (float &v : tensor.values)
      v = float(random.normal() * stddev);
  } else if (init == "fc_uniform") {
    Random random = Random::forStream(seed, tensor.name);
    double bound = 1.0 / std::sqrt(double(fanIn(type.getShape())));
    for (float &v : tensor.values)
      v = float((2 * random.uniform() - 1) * bound);
  }
  return tensor;
}

} // namespace

int64_t resnetc::countWeightValues(ModuleOp module) {
  int64_t total = 0;
  module.walk(
      [&](rn::WeightOp op) { total += cast<RankedTensorType>(op.getType()).getNumElements(); });
  return total;
}

WeightsFile resnetc::initializeWeights(ModuleOp module, uint64_t seed) {
  WeightsFile weights;
  if (auto name = module->getAttrOfType<StringAttr>(rn::kModelNameAttr))
    weights.model = name.str();
  weights.architectureHash = architectureHash(module);
  // The layout and shape an app feeds are known from the network alone; the
  // normalisation is not, so only training or import records it.
  weights.input.layout = "NCHW";
  weights.input.shape = computeStats(module).input;
  module.walk([&](rn::WeightOp op) { weights.tensors.push_back(initialize(op, seed)); });
  return weights;
}
