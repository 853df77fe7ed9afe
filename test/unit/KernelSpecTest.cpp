//===- KernelSpecTest.cpp - The compiler-kernels contract -----------------===//
//
// KernelSpec's text form, its buffers in call order and its checks. The
// kernel tests (test/kernels) check that the generator builds pipelines with
// exactly these buffers; the lit test CodeGen/kernel-plan.test that the plan
// passes them.
//
//===----------------------------------------------------------------------===//

#include "resnetc/KernelSpec/KernelSpec.h"

#include <gtest/gtest.h>

using namespace resnetc;

namespace {

KernelSpec parsed(const std::string &text) {
  KernelSpec spec;
  std::string error;
  EXPECT_TRUE(parseKernelSpec(text, spec, error)) << text << ": " << error;
  return spec;
}

std::vector<std::string> roles(const KernelSpec &spec) {
  std::vector<std::string> names;
  for (const KernelArgument &arg : spec.arguments())
    names.push_back(arg.role + (arg.isOutput ? "->" : ""));
  return names;
}

TEST(KernelSpecTest, TextRoundTripsForEveryKind) {
  const char *texts[] = {
      "kind=nchw_to_nhwc;input=2x3x8x8",
      "kind=conv2d;input=1x16x32x32;weight=32x16x3x3;strides=2x2;padding=1x1;bias=1;residual=0;"
      "relu=1",
      "kind=conv2d;input=1x16x8x8;weight=16x16x3x3;strides=1x1;padding=1x1;bias=1;residual=1;"
      "relu=1;weights=blocked",
      "kind=conv2d;input=1x16x8x8;weight=16x16x3x3;strides=1x1;padding=1x1;bias=1;residual=1;"
      "relu=1;weights=blocked;winograd=4",
      "kind=conv2d;input=1x16x8x8;weight=16x16x3x3;strides=1x1;padding=1x1;bias=1;residual=1;"
      "relu=1;weights=winograd;winograd=4",
      "kind=batch_norm;input=2x4x5x5;epsilon=1e-05;relu=1",
      "kind=add;input=2x4x5x5;relu=0",
      "kind=relu;input=2x4x5x5",
      "kind=max_pool2d;input=1x8x9x9;kernel=3x3;strides=2x2;padding=1x1",
      "kind=global_avg_pool;input=2x8x4x4",
      "kind=dense;input=2x8;weight=10x8;bias=1",
      "kind=zero_pad_shortcut;input=2x4x8x8;out_channels=8;stride=2",
      "kind=pack_conv_weight;weight=8x4x3x3",
      "kind=fold_pack_conv_weight;weight=8x4x3x3;bias=0;epsilon=1e-05;blocked_for=4x4",
      "kind=fold_pack_conv_weight;weight=8x4x3x3;bias=0;epsilon=1e-05;winograd_filter=4",
      "kind=batch_norm_train;input=2x4x5x5;epsilon=1e-05;relu=0",
      "kind=batch_norm_train_grad;input=2x4x5x5;relu=1",
      "kind=relu_grad;input=2x4x5x5",
      "kind=conv2d_grad_input;input=2x4x8x8;weight=8x4x3x3;strides=2x2;padding=1x1;residual=1;"
      "relu=1",
      "kind=conv2d_grad_weight;input=2x4x8x8;weight=8x4x3x3;strides=1x1;padding=1x1",
      "kind=channel_sum;input=2x4",
      "kind=dense_grad_input;input=2x8;weight=10x8",
      "kind=dense_grad_weight;input=2x8;weight=10x8",
      "kind=max_pool2d_grad;input=1x8x9x9;kernel=3x3;strides=2x2;padding=1x1",
      "kind=global_avg_pool_grad;input=2x8x4x4",
      "kind=zero_pad_shortcut_grad;input=2x4x8x8;out_channels=8;stride=2",
      "kind=softmax_cross_entropy;input=4x10",
      "kind=sgd_update;size=7;momentum=0.9;weight_decay=0.0001",
      "kind=running_stats_update;channels=4;count=50;momentum=0.1;epsilon=1e-05",
      "kind=unpack_conv_weight;weight=8x4x3x3",
  };
  for (const char *text : texts) {
    KernelSpec spec = parsed(text);
    KernelSpec again = parsed(spec.toString());
    EXPECT_EQ(again.toString(), spec.toString()) << text;
    EXPECT_FALSE(spec.arguments().empty()) << text;
  }
}

TEST(KernelSpecTest, FloatsHaveOneShortestSpelling) {
  // The compiler fills floats; the text is the same whichever way they came.
  KernelSpec spec;
  spec.kind = KernelKind::SgdUpdate;
  spec.size = 10;
  spec.momentum = float(0.9);
  spec.weightDecay = float(1e-4);
  EXPECT_EQ(spec.toString(), "kind=sgd_update;size=10;momentum=0.9;weight_decay=1e-04");
  EXPECT_EQ(parsed("kind=sgd_update;size=10;momentum=0.90;weight_decay=0.0001").toString(),
            spec.toString());
}

TEST(KernelSpecTest, ArgumentsAreTheCallOrder) {
  KernelSpec conv = parsed("kind=conv2d;input=2x16x8x8;weight=32x16x3x3;strides=2x2;padding=1x1;"
                           "bias=1;residual=1;relu=1");
  EXPECT_EQ(roles(conv),
            (std::vector<std::string>{"input", "weight", "bias", "residual", "output->"}));
  std::vector<KernelArgument> args = conv.arguments();
  EXPECT_EQ(args[0].extents, (std::vector<int64_t>{16, 8, 8, 2}));  // NHWC: (c, x, y, n)
  EXPECT_EQ(args[1].extents, (std::vector<int64_t>{32, 16, 3, 3})); // packed: (k, c, s, r)
  EXPECT_EQ(args[3].extents, (std::vector<int64_t>{32, 4, 4, 2}));
  EXPECT_EQ(args[4].extents, args[3].extents);

  KernelSpec loss = parsed("kind=softmax_cross_entropy;input=4x10");
  EXPECT_EQ(roles(loss), (std::vector<std::string>{"logits", "labels", "loss->", "logits_grad->",
                                                   "correct->"}));
  EXPECT_TRUE(loss.arguments()[1].isInt32);
  EXPECT_TRUE(loss.arguments()[4].isInt32);

  KernelSpec grad = parsed("kind=conv2d_grad_input;input=2x4x8x8;weight=8x4x3x3;strides=2x2;"
                           "padding=1x1;relu=1");
  EXPECT_EQ(roles(grad), (std::vector<std::string>{"output_grad", "weight", "relu_output",
                                                   "input_grad->"}));
  EXPECT_EQ(grad.arguments()[0].extents, (std::vector<int64_t>{8, 4, 4, 2}));

  KernelSpec fold =
      parsed("kind=fold_pack_conv_weight;weight=8x4x3x3;bias=1;epsilon=1e-05;blocked_for=4x4");
  EXPECT_EQ(roles(fold), (std::vector<std::string>{"weight", "bias", "gamma", "beta", "mean",
                                                   "variance", "folded_weight->",
                                                   "folded_bias->"}));
  EXPECT_EQ(fold.arguments()[6].extents, (std::vector<int64_t>{8 * 4 * 3 * 3}));

  // A filter transformed for F(m x m, 3 x 3): one flat run (the points,
  // each in blocks of output channels), made by the fold and read by the
  // conv alike.
  KernelSpec winogradFold =
      parsed("kind=fold_pack_conv_weight;weight=8x4x3x3;bias=0;epsilon=1e-05;winograd_filter=2");
  EXPECT_EQ(winogradFold.arguments()[5].extents, (std::vector<int64_t>{8 * 4 * 4 * 4}));
  KernelSpec winogradConv =
      parsed("kind=conv2d;input=1x4x8x8;weight=8x4x3x3;strides=1x1;"
             "padding=1x1;bias=0;residual=0;relu=0;weights=winograd;winograd=4");
  EXPECT_EQ(winogradConv.arguments()[1].extents, (std::vector<int64_t>{8 * 4 * 6 * 6}));
}

TEST(KernelSpecTest, ChecksSpecsTheCompilerFills) {
  std::string error;
  KernelSpec conv;
  conv.kind = KernelKind::Conv2D;
  conv.input = {1, 16, 8, 8};
  conv.weight = {32, 8, 3, 3};
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "weight has 8 input channels but the input has 16");
  conv.weight = {32, 16, 3};
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "weight '32x16x3' has 3 sizes, expected 4");
  conv.weight = {32, 16, 3, 3};
  conv.strideH = 0;
  EXPECT_FALSE(checkKernelSpec(conv, error));
  conv.strideH = 1;
  conv.input = {4096, 4096, 64, 64};
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "input '4096x4096x64x64' has 2^29 elements or more");
  conv.input = {1, 16, 8, 8};
  conv.winogradTile = 4;
  EXPECT_TRUE(checkKernelSpec(conv, error)) << error;
  conv.winogradTile = 3;
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "winograd must be 2 or 4 (the largest output tile)");
  conv.winogradTile = 4;
  conv.strideH = 2;
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "winograd=4 is for 3x3 convs at stride 1 without groups or dilation");
  conv.strideH = 1;
  conv.winogradWeights = true;
  EXPECT_TRUE(checkKernelSpec(conv, error)) << error;
  conv.blockedWeights = true;
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "weights are either blocked or winograd");
  conv.blockedWeights = false;
  conv.weight = {32, 16, 1, 1};
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "winograd=4 is for 3x3 convs at stride 1 without groups or dilation");
  conv.weight = {2, 16, 3, 3};
  EXPECT_FALSE(checkKernelSpec(conv, error));
  EXPECT_EQ(error, "weights=winograd needs 4 input and 4 output channels at least");

  KernelSpec fold;
  fold.kind = KernelKind::FoldPackConvWeight;
  fold.weight = {32, 16, 3, 3};
  fold.winogradFilterTile = 4;
  EXPECT_TRUE(checkKernelSpec(fold, error)) << error;
  fold.winogradFilterTile = 3;
  EXPECT_FALSE(checkKernelSpec(fold, error));
  EXPECT_EQ(error, "winograd_filter must be 2 or 4 (the output tile)");
  fold.winogradFilterTile = 2;
  fold.blockedForQ = fold.blockedForP = 8;
  EXPECT_FALSE(checkKernelSpec(fold, error));
  EXPECT_EQ(error, "blocked_for and winograd_filter exclude each other");
  fold.blockedForQ = fold.blockedForP = 0;
  fold.weight = {32, 16, 1, 1};
  EXPECT_FALSE(checkKernelSpec(fold, error));
  EXPECT_EQ(error, "winograd_filter is for 3x3 filters");

  KernelSpec sgd;
  sgd.kind = KernelKind::SgdUpdate;
  sgd.size = 3;
  sgd.momentum = -0.5f;
  EXPECT_FALSE(checkKernelSpec(sgd, error));
  sgd.momentum = 0.5f;
  EXPECT_TRUE(checkKernelSpec(sgd, error)) << error;

  KernelSpec relu;
  relu.kind = KernelKind::Relu;
  relu.input = {2, 10}; // the kernels are NHWC: a 2-D relu has no kernel
  EXPECT_FALSE(checkKernelSpec(relu, error));
}

TEST(KernelSpecTest, ParserNamesWhatIsWrong) {
  KernelSpec spec;
  std::string error;
  EXPECT_FALSE(parseKernelSpec("kind=relu;input=2x4x5", spec, error));
  EXPECT_EQ(error, "input '2x4x5' has 3 sizes, expected 4");
  EXPECT_FALSE(parseKernelSpec("kind=relu;input=2x4x5x5;relu=1", spec, error));
  EXPECT_EQ(error, "unknown key 'relu' for kind relu");
  EXPECT_FALSE(parseKernelSpec("kind=sgd_update;size=3;momentum=x;weight_decay=0", spec, error));
  EXPECT_EQ(error, "malformed value 'x' for key 'momentum' (expected a finite float)");
}

TEST(KernelSpecTest, OneSlidingWindowRule) {
  EXPECT_EQ(slidingWindowExtent(224, 7, 2, 3), 112);
  EXPECT_EQ(slidingWindowExtent(112, 3, 2, 1), 56);
  EXPECT_EQ(slidingWindowExtent(8, 1, 2, 0), 4);
}

} // namespace
