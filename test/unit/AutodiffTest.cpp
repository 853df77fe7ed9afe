//===- AutodiffTest.cpp - rn-autodiff's graph against the reference backward ===//
//
// The graph rn-autodiff builds (@train_grads), interpreted by the reference
// executor, gives the same loss and weight gradients as the reference's own
// hand-written backward pass over @forward in training mode: two independent
// derivations of the same numbers. Tolerance: 1e-9 of each gradient's size.
//
//===----------------------------------------------------------------------===//

#include "ModelTestSupport.h"

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/Random.h"

#include "mlir/Pass/PassManager.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::reference;
using namespace resnetc::test;

namespace {

struct Case {
  const char *name;
  const char *source;
  bool fusesRelus = true; ///< Has a relu that rn-fuse-training-epilogues fuses.
  /// Has shortcuts: a block input's two gradients meet in a transposed conv's
  /// epilogue.
  bool sumsGradients = true;
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

class AutodiffGradients : public ::testing::TestWithParam<Case> {};

TEST_P(AutodiffGradients, MatchTheReferenceBackwardPass) {
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, GetParam().source, 2, &diagnostics);
  ASSERT_TRUE(module) << diagnostics;
  mlir::PassManager pm(context.get());
  pm.addPass(createAutodiff());
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  auto trainGrads = module->lookupSymbol<mlir::func::FuncOp>(rn::kTrainGradsFunction);
  ASSERT_TRUE(trainGrads);

  WeightMap weights = toWeightMap(initializeWeights(*module, 3));
  Random rng(4);
  for (auto &entry : weights) // move batch norm away from gamma = 1, beta = 0
    if (llvm::StringRef(entry.getKey()).contains("bn"))
      for (double &v : entry.getValue().data)
        v += 0.1 * rng.normal();
  auto inputType = mlir::cast<mlir::RankedTensorType>(trainGrads.getArgumentTypes()[0]);
  Tensor images({inputType.getShape().begin(), inputType.getShape().end()});
  for (double &v : images.data)
    v = rng.normal();
  int64_t classes =
      mlir::cast<mlir::RankedTensorType>(forwardOf(*module).getResultTypes()[0]).getDimSize(1);
  Tensor labels(
      {2}, std::vector<double>{double(rng.nextU64() % classes), double(rng.nextU64() % classes)});

  // The generated graph.
  RunOptions training;
  training.batchNorm = BatchNormMode::Training;
  WeightMap forGraph = weights;
  std::vector<Tensor> results;
  std::string error;
  ASSERT_TRUE(run(trainGrads, {images, labels}, forGraph, training, results, error)) << error;
  // And the graph after rn-fuse-training-epilogues (relus inside batch norms
  // and adds, relu gradients inside batch-norm gradients): the same numbers.
  size_t relus = llvm::range_size(trainGrads.getOps<rn::ReluOp>());
  mlir::PassManager fuse(context.get(), mlir::func::FuncOp::getOperationName());
  fuse.addPass(createFuseTrainingEpilogues());
  ASSERT_TRUE(mlir::succeeded(fuse.run(trainGrads)));
  if (GetParam().fusesRelus)
    EXPECT_LT(llvm::range_size(trainGrads.getOps<rn::ReluOp>()), relus);
  auto withAddend = [](rn::Conv2DGradInputOp grad) { return bool(grad.getAddend()); };
  EXPECT_EQ(llvm::any_of(trainGrads.getOps<rn::Conv2DGradInputOp>(), withAddend),
            GetParam().sumsGradients);
  WeightMap forFusedGraph = weights;
  std::vector<Tensor> fusedResults;
  ASSERT_TRUE(run(trainGrads, {images, labels}, forFusedGraph, training, fusedResults, error))
      << error;
  ASSERT_EQ(fusedResults.size(), results.size());

  // The reference backward pass, seeded with the loss's gradient.
  WeightMap forReference = weights;
  std::vector<Tensor> logits;
  ASSERT_TRUE(run(forwardOf(*module), {images}, forReference, training, logits, error)) << error;
  int64_t N = 2;
  Tensor seed(logits[0].shape);
  double loss = 0;
  for (int64_t n = 0; n < N; ++n) {
    const double *row = &logits[0].data[n * classes];
    double top = *std::max_element(row, row + classes), sum = 0;
    for (int64_t k = 0; k < classes; ++k)
      sum += std::exp(row[k] - top);
    int64_t label = int64_t(labels.data[n]);
    loss += (std::log(sum) + top - row[label]) / N;
    for (int64_t k = 0; k < classes; ++k)
      seed.data[n * classes + k] = (std::exp(row[k] - top) / sum - (k == label)) / N;
  }
  forReference = weights;
  Gradients gradients;
  ASSERT_TRUE(runWithGradients(forwardOf(*module), {images}, forReference, training, {seed}, logits,
                               gradients, error))
      << error;

  EXPECT_NEAR(results[0].data[0], loss, 1e-12 * std::max(1.0, loss));
  EXPECT_NEAR(fusedResults[0].data[0], loss, 1e-12 * std::max(1.0, loss));
  auto names = trainGrads->getAttrOfType<mlir::ArrayAttr>(rn::kGradientNamesAttr);
  ASSERT_EQ(names.size() + 1, results.size());
  ASSERT_EQ(names.size(), gradients.weights.size());
  for (size_t i = 0; i < names.size(); ++i) {
    std::string name = mlir::cast<mlir::StringAttr>(names[i]).str();
    const Tensor &expected = gradients.weights[name];
    const Tensor &actual = results[i + 1];
    ASSERT_EQ(actual.shape, expected.shape) << name;
    double scale = 1e-30;
    for (double v : expected.data)
      scale = std::max(scale, std::fabs(v));
    for (int64_t j = 0; j < actual.size(); ++j) {
      ASSERT_NEAR(actual.data[j], expected.data[j], 1e-9 * scale) << name << "[" << j << "]";
      ASSERT_NEAR(fusedResults[i + 1].data[j], expected.data[j], 1e-9 * scale)
          << "fused " << name << "[" << j << "]";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Networks, AutodiffGradients,
                         ::testing::Values(Case{"basic_option_a", R"(
          network basic_option_a {
            input = 3x8x8
            classes = 5
            shortcut = A
            stem { conv(3x3, 4); bn; relu }
            stage(basic, 4, blocks = 2)
            stage(basic, 8, stride = 2)
            head { avgpool; fc(classes) }
          })"},
                                           Case{"bottleneck_option_b_maxpool", R"(
          network bottleneck_option_b_maxpool {
            input = 3x16x16
            classes = 4
            shortcut = B
            stem { conv(7x7, 8, stride = 2); bn; relu; maxpool(3x3, stride = 2, padding = 1) }
            stage(bottleneck, 2)
            stage(bottleneck, 4, stride = 2)
            head { avgpool; fc(classes) }
          })"},
                                           Case{"preactivation", R"(
          network preactivation {
            input = 3x8x8
            classes = 3
            shortcut = B
            stem { conv(3x3, 4) }
            stage(preact_basic, 4)
            stage(preact_bottleneck, 2, stride = 2)
            head { bn; relu; avgpool; fc(classes) }
          })"},
                                           Case{"plain", R"(
          network plain {
            input = 1x8x8
            classes = 10
            shortcut = none
            stem { conv(3x3, 4); bn; relu }
            stage(basic, 4, blocks = 2)
            head { avgpool; fc(classes) }
          })",
                                                /*fusesRelus=*/true, /*sumsGradients=*/false}),
                         [](const auto &info) { return std::string(info.param.name); });

TEST(AutodiffGradients, ResNet20) {
  // The paper's CIFAR network, at batch 2: every weight gets a gradient.
  auto context = makeContext();
  auto module = importSource(*context, readExample("resnet20"), 2);
  ASSERT_TRUE(module);
  mlir::PassManager pm(context.get());
  pm.addPass(createAutodiff());
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  auto trainGrads = module->lookupSymbol<mlir::func::FuncOp>(rn::kTrainGradsFunction);
  auto names = trainGrads->getAttrOfType<mlir::ArrayAttr>(rn::kGradientNamesAttr);
  int trainable = 0;
  module->walk([&](rn::WeightOp op) {
    if (!op.getState() && op->getParentOfType<mlir::func::FuncOp>().getName() == "forward")
      ++trainable;
  });
  EXPECT_EQ(int(names.size()), trainable);
  EXPECT_EQ(trainable, 20 * 1 + 19 * 2 + 1); // 19 convs + fc weight, 19 BN gamma/beta, fc bias
}

} // namespace
