//===- OnnxInterchangeTest.cpp - ONNX export, import and constants --------===//

#include "ModelTestSupport.h"

#include "OnnxConstants.h" // compiler/lib/Interchange: the shape arithmetic
#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Interchange/OnnxExport.h"
#include "resnetc/Interchange/OnnxImport.h"
#include "resnetc/Weights/InitializeWeights.h"

#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::test;

namespace {

onnx::TensorProto floatTensor(const std::string &name, std::vector<int64_t> dims,
                              const std::vector<float> &values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    t.add_dims(d);
  for (float v : values)
    t.add_float_data(v);
  return t;
}

onnx::NodeProto *addNode(onnx::GraphProto &g, const std::string &op,
                         std::vector<std::string> inputs, const std::string &output) {
  onnx::NodeProto *n = g.add_node();
  n->set_op_type(op);
  n->set_name(output);
  for (const std::string &in : inputs)
    n->add_input(in);
  n->add_output(output);
  return n;
}

void setInts(onnx::NodeProto *n, const std::string &name, std::vector<int64_t> values) {
  onnx::AttributeProto *a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a->add_ints(v);
}

void setValueInfo(onnx::ValueInfoProto *info, const std::string &name, std::vector<int64_t> dims) {
  info->set_name(name);
  auto *type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    type->mutable_shape()->add_dim()->set_dim_value(d);
}

} // namespace

// resnetc's export, imported again: the same network, every tensor under its
// name with its values, and the same architecture hash.
TEST(OnnxInterchange, ExportThenImportKeepsTheNetworkAndEveryTensor) {
  auto context = makeContext();
  auto module = importSource(*context, readExample("resnet20"));
  ASSERT_TRUE(module);
  ASSERT_TRUE(succeeded(expandModel(*module)));
  WeightsFile weights = initializeWeights(*module, 3);
  // Batch-norm statistics that are not the initial ones.
  for (NamedTensor &t : weights.tensors)
    for (size_t i = 0; i < t.values.size(); ++i) {
      if (llvm::StringRef(t.name).ends_with("running_var"))
        t.values[i] = 0.5f + 0.01f * float(i % 50);
      if (llvm::StringRef(t.name).ends_with("running_mean"))
        t.values[i] = -0.2f + 0.003f * float(i % 70);
    }

  std::string bytes, error;
  OnnxExportReport report;
  ASSERT_TRUE(exportOnnx(*module, weights, bytes, report, error)) << error;
  EXPECT_EQ(size_t(report.initializers), weights.tensors.size() + 2 * 5) // 2 option-A units
      << "weights plus the starts, ends, axes, steps and pads of each option-A shortcut";

  OnnxImportResult result;
  ASSERT_TRUE(importOnnx(*context, bytes, "resnet20.onnx", "resnet20", result, error)) << error;
  EXPECT_EQ(result.opset, 13);
  EXPECT_EQ(result.units, 9);
  EXPECT_FALSE(result.foldedBatchNorm);
  EXPECT_NE(result.source.find("  shortcut = A\n"), std::string::npos) << result.source;
  EXPECT_NE(result.source.find("  stage(basic, 32, blocks = 3, stride = 2)\n"), std::string::npos)
      << result.source;
  EXPECT_EQ(result.weights.architectureHash, architectureHash(*module));
  ASSERT_EQ(result.weights.tensors.size(), weights.tensors.size());
  for (const NamedTensor &imported : result.weights.tensors) {
    const NamedTensor *original = weights.find(imported.name);
    ASSERT_NE(original, nullptr) << imported.name;
    EXPECT_EQ(imported.shape, original->shape) << imported.name;
    // Export writes epsilon as float 1e-5, which differs from .rn's double
    // 1e-5 by 2.5e-13: the variances may move by that, nothing else may.
    for (size_t i = 0; i < imported.values.size(); ++i)
      ASSERT_NEAR(imported.values[i], original->values[i], 1e-12) << imported.name << " " << i;
  }
}

// A conv whose batch norm the exporter folded: its bias goes into a bn of
// unit scale, zero mean and variance 1 - eps, which adds exactly the bias.
TEST(OnnxInterchange, AFoldedConvBiasBecomesAnExactBatchNorm) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto &g = *model.mutable_graph();
  setValueInfo(g.add_input(), "x", {1, 2, 4, 4});
  std::vector<float> w(3 * 2 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = 0.1f * float(int(i % 7) - 3);
  *g.add_initializer() = floatTensor("w", {3, 2, 3, 3}, w);
  *g.add_initializer() = floatTensor("b", {3}, {0.25f, -1.5f, 3.0f});
  *g.add_initializer() = floatTensor("fc", {2, 3}, {1, 2, 3, 4, 5, 6});
  *g.add_initializer() = floatTensor("fcb", {2}, {0.5f, -0.5f});
  onnx::NodeProto *conv = addNode(g, "Conv", {"x", "w", "b"}, "conv");
  setInts(conv, "pads", {1, 1, 1, 1});
  addNode(g, "Relu", {"conv"}, "relu");
  addNode(g, "GlobalAveragePool", {"relu"}, "pool");
  addNode(g, "Flatten", {"pool"}, "flat");
  addNode(g, "Gemm", {"flat", "fc", "fcb"}, "y")->add_attribute()->CopyFrom([] {
    onnx::AttributeProto a;
    a.set_name("transB");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(1);
    return a;
  }());
  setValueInfo(g.add_output(), "y", {1, 2});
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));

  auto context = makeContext();
  OnnxImportResult result;
  std::string error;
  ASSERT_TRUE(importOnnx(*context, bytes, "folded.onnx", "folded", result, error)) << error;
  EXPECT_TRUE(result.foldedBatchNorm);
  EXPECT_EQ(result.units, 0);
  const WeightsFile &weights = result.weights;
  ASSERT_NE(weights.find("stem.bn1.bias"), nullptr) << result.source;
  EXPECT_EQ(weights.find("stem.conv1.weight")->values, w);
  EXPECT_EQ(weights.find("stem.bn1.weight")->values, std::vector<float>(3, 1.0f));
  EXPECT_EQ(weights.find("stem.bn1.bias")->values, (std::vector<float>{0.25f, -1.5f, 3.0f}));
  EXPECT_EQ(weights.find("stem.bn1.running_mean")->values, std::vector<float>(3, 0.0f));
  float variance = float(1.0 - 1e-5);
  EXPECT_EQ(weights.find("stem.bn1.running_var")->values, std::vector<float>(3, variance));
  // What makes the bn exact in float arithmetic: variance + eps is 1.
  EXPECT_EQ(variance + 1e-5f, 1.0f);
  EXPECT_EQ(weights.find("head.fc1.weight")->values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

// torch.onnx writes F.pad's pads as arithmetic on constants; the evaluator
// turns (0, 0, 0, 0, 8, 8) into ONNX's [0, 8, 0, 0, 0, 8, 0, 0].
TEST(OnnxInterchange, TorchPadArithmeticEvaluates) {
  using namespace resnetc::onnximport;
  auto ints = [](std::vector<int64_t> values, std::vector<int64_t> dims) {
    Constant c;
    c.ints = std::move(values);
    c.dims = std::move(dims);
    return c;
  };
  auto eval = [](const onnx::NodeProto &node, std::vector<const Constant *> inputs) {
    Constant out;
    std::string error;
    EXPECT_TRUE(evaluateConstant(node, inputs, 13, out, error)) << error;
    return out;
  };
  onnx::GraphProto g;
  Constant torchPads = ints({0, 0, 0, 0, 8, 8}, {6}), zeros = ints({0, 0}, {2});
  Constant padded;
  std::string error;
  EXPECT_FALSE(evaluateConstant(*addNode(g, "Concat", {}, "c"), {&torchPads, &zeros}, 13, padded,
                                error)); // Concat without its axis
  EXPECT_EQ(error, "needs an 'axis' and inputs of rank 1 or more");
  onnx::NodeProto *concat = addNode(g, "Concat", {}, "concat");
  onnx::AttributeProto *axis = concat->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(0);
  padded = eval(*concat, {&torchPads, &zeros});
  Constant pairsShape = ints({-1, 2}, {2});
  Constant pairs = eval(*addNode(g, "Reshape", {}, "r"), {&padded, &pairsShape});
  EXPECT_EQ(pairs.dims, (std::vector<int64_t>{4, 2}));
  Constant starts = ints({-1}, {1}), ends = ints({-9223372036854775807}, {1}),
           axes = ints({0}, {1}), steps = ints({-1}, {1});
  Constant reversed = eval(*addNode(g, "Slice", {}, "s"), {&pairs, &starts, &ends, &axes, &steps});
  EXPECT_EQ(reversed.ints, (std::vector<int64_t>{0, 0, 8, 8, 0, 0, 0, 0}));
  onnx::NodeProto *transpose = addNode(g, "Transpose", {}, "t");
  setInts(transpose, "perm", {1, 0});
  Constant columns = eval(*transpose, {&reversed});
  Constant flat = ints({-1}, {1});
  Constant pads = eval(*addNode(g, "Reshape", {}, "r2"), {&columns, &flat});
  EXPECT_EQ(pads.ints, (std::vector<int64_t>{0, 8, 0, 0, 0, 8, 0, 0}));
}
