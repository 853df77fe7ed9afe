//===- OnnxLayers.cpp - An ONNX graph as layers with checked shapes -------===//
//
// One pass over the nodes in graph order. Each value is either a constant
// (initializers, Constant nodes, and shape arithmetic on them, evaluated
// here) or a feature map that flows from the graph's input; nodes on feature
// maps become layers, after their attributes and shapes are checked against
// what a .rn file can express.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Interchange/OnnxLayers.h"

#include "OnnxConstants.h"
#include "OnnxProto.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;
using namespace resnetc::onnximport;

namespace {

/// A value that flows from the graph's input.
struct Feature {
  int layer = kGraphInput;
  std::vector<int64_t> dims; ///< ONNX dims, batch first
  bool pooled = false;       ///< after global average pooling: N x C (x 1 x 1)
};

class Reader {
public:
  Reader(const onnx::ModelProto &model, LayerGraph &graph, std::string &error)
      : model(model), graph(graph), error(error) {}

  bool run();

private:
  const onnx::ModelProto &model;
  LayerGraph &graph;
  std::string &error;
  StringMap<Constant> constants;
  StringMap<Feature> features;
  int64_t batch = 1; ///< the input's batch, or 1 when it is symbolic
  bool symbolicBatch = true;
  const onnx::NodeProto *node = nullptr;
  int nodeIndex = 0;

  bool readOpset();
  bool readInput();
  bool readNode();
  bool readOutput();

  /// "node 'x' (Op): <message>"; returns false.
  bool fail(const Twine &message) {
    error =
        (Twine("node '") + nodeLabel(*node, nodeIndex) + "' (" + node->op_type() + "): " + message)
            .str();
    return false;
  }

  const Constant *constantInput(int i) const {
    if (i >= node->input_size() || node->input(i).empty())
      return nullptr;
    auto it = constants.find(node->input(i));
    return it == constants.end() ? nullptr : &it->second;
  }
  /// The node's first input, which every layer reads as its feature map.
  const Feature &featureInput() const { return features.find(node->input(0))->second; }
  bool requireConstant(int i, StringRef what, const Constant *&out) {
    out = constantInput(i);
    if (!out)
      return fail(Twine(what) + " must be a constant (an initializer or a Constant node)");
    return true;
  }
  bool requireUnpooled(const Feature &in) {
    if (in.pooled)
      return fail("needs an N x C x H x W feature map, but its input '" + node->input(0) +
                  "' was already pooled");
    return true;
  }
  /// A feature map's dims for messages: "[N, 64, 56, 56]" when the batch is symbolic.
  std::string shapeText(const std::vector<int64_t> &dims) const {
    std::string text = formatList(dims);
    if (symbolicBatch && !dims.empty())
      text = "[N" + text.substr(text.find_first_of(",]"));
    return text;
  }
  std::string inputShape(const Feature &in) const { return shapeText(in.dims); }

  /// Makes the node's first output a new layer.
  Layer &addLayer(Layer::Kind kind, std::vector<int> inputs, std::vector<int64_t> dims,
                  bool pooled = false) {
    Layer layer;
    layer.kind = kind;
    layer.node = nodeLabel(*node, nodeIndex);
    layer.opType = node->op_type();
    layer.inputs = std::move(inputs);
    layer.shape.assign(dims.begin() + 1, dims.end());
    if (pooled)
      layer.shape.resize(1);
    graph.layers.push_back(std::move(layer));
    features[node->output(0)] = {int(graph.layers.size()) - 1, std::move(dims), pooled};
    return graph.layers.back();
  }
  /// The node's first output is its input, perhaps with other dims.
  void alias(const Feature &in, std::vector<int64_t> dims) {
    Feature out = in;
    out.dims = std::move(dims);
    features[node->output(0)] = out;
  }

  bool readWindow(int64_t &kernel, int64_t &stride, int64_t &padding,
                  std::optional<int64_t> weightKernel);
  bool checkWindow(const Feature &in, int64_t kernel, int64_t stride, int64_t padding,
                   std::vector<int64_t> &dims);
  bool readConv();
  bool readBatchNorm();
  bool readMaxPool();
  bool readGlobalPool();
  bool readGemm();
  bool readAdd();
  bool readFlatten();
  bool readSlice();
  bool readPad();
  bool readFeatureNode();
};

bool Reader::readOpset() {
  for (const onnx::OperatorSetIdProto &set : model.opset_import())
    if (set.domain().empty() || set.domain() == "ai.onnx")
      graph.opset = set.version();
  if (graph.opset == 0) {
    error = "the model imports no opset of the default ONNX domain";
    return false;
  }
  if (graph.opset < kMinOpset || graph.opset > kMaxOpset) {
    error = "opset " + std::to_string(graph.opset) + " is not supported (opsets " +
            std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + " are)";
    return false;
  }
  return true;
}

bool Reader::readInput() {
  const onnx::GraphProto &g = model.graph();
  const onnx::ValueInfoProto *input = nullptr;
  for (const onnx::ValueInfoProto &value : g.input()) {
    if (constants.count(value.name()))
      continue; // older exporters list initializers as inputs too
    if (input) {
      error = "the graph has two inputs, '" + input->name() + "' and '" + value.name() +
              "'; resnetc reads networks of one image input";
      return false;
    }
    input = &value;
  }
  if (!input) {
    error = "the graph has no input";
    return false;
  }
  graph.inputName = input->name();
  const onnx::TypeProto &type = input->type();
  std::string what = "the graph's input '" + input->name() + "'";
  if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
    error = what + " is not a float tensor";
    return false;
  }
  const onnx::TensorShapeProto &shape = type.tensor_type().shape();
  bool ok = shape.dim_size() == 4;
  for (int d = 1; ok && d < 4; ++d)
    ok = shape.dim(d).has_dim_value() && shape.dim(d).dim_value() > 0 &&
         shape.dim(d).dim_value() <= (int64_t(1) << 20);
  if (!ok) {
    error = what + " must be N x C x H x W with fixed C, H and W";
    return false;
  }
  if (shape.dim(0).has_dim_value() && shape.dim(0).dim_value() > 0 &&
      shape.dim(0).dim_value() <= (int64_t(1) << 20)) {
    batch = shape.dim(0).dim_value();
    symbolicBatch = false;
  }
  Feature in;
  in.dims = {batch, shape.dim(1).dim_value(), shape.dim(2).dim_value(), shape.dim(3).dim_value()};
  graph.input.assign(in.dims.begin() + 1, in.dims.end());
  features[input->name()] = in;
  return true;
}

bool Reader::readWindow(int64_t &kernel, int64_t &stride, int64_t &padding,
                        std::optional<int64_t> weightKernel) {
  std::string autoPad = stringAttribute(*node, "auto_pad").value_or("NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID")
    return fail("auto_pad=" + autoPad + " is not supported (write explicit pads)");
  std::vector<int64_t> kernelShape =
      intsAttribute(*node, "kernel_shape")
          .value_or(weightKernel ? std::vector<int64_t>{*weightKernel, *weightKernel}
                                 : std::vector<int64_t>());
  if (kernelShape.size() != 2)
    return fail("needs a 2-D kernel_shape, got " + formatList(kernelShape));
  if (kernelShape[0] != kernelShape[1])
    return fail("kernel " + std::to_string(kernelShape[0]) + "x" + std::to_string(kernelShape[1]) +
                " is not square, which is not supported");
  if (weightKernel && kernelShape[0] != *weightKernel)
    return fail("kernel_shape " + formatList(kernelShape) + " does not match its weight's " +
                std::to_string(*weightKernel) + "x" + std::to_string(*weightKernel));
  kernel = kernelShape[0];
  std::vector<int64_t> strides =
      intsAttribute(*node, "strides").value_or(std::vector<int64_t>{1, 1});
  if (strides.size() != 2 || strides[0] != strides[1] || strides[0] < 1)
    return fail("strides=" + formatList(strides) +
                " are not supported (one stride of at least 1 for height and width)");
  stride = strides[0];
  std::vector<int64_t> pads =
      intsAttribute(*node, "pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
  if (autoPad == "VALID")
    pads = {0, 0, 0, 0};
  if (pads.size() != 4 || std::count(pads.begin(), pads.end(), pads[0]) != 4 || pads[0] < 0)
    return fail("pads=" + formatList(pads) + " are not supported (the same padding on every side)");
  padding = pads[0];
  // Far beyond any real network; keeps the shape arithmetic below exact.
  constexpr int64_t kLimit = int64_t(1) << 20;
  if (kernel < 1 || kernel > kLimit || stride > kLimit || padding > kLimit)
    return fail("kernel " + std::to_string(kernel) + ", stride " + std::to_string(stride) +
                " or padding " + std::to_string(padding) + " is out of range");
  std::vector<int64_t> dilations =
      intsAttribute(*node, "dilations").value_or(std::vector<int64_t>{1, 1});
  if (std::count(dilations.begin(), dilations.end(), 1) != int64_t(dilations.size()))
    return fail("dilations=" + formatList(dilations) + " is not supported");
  return true;
}

/// The rules of .rn's conv and maxpool (docs/language.md, section 6.1).
bool Reader::checkWindow(const Feature &in, int64_t kernel, int64_t stride, int64_t padding,
                         std::vector<int64_t> &dims) {
  if (padding >= kernel)
    return fail("padding " + std::to_string(padding) + " is not smaller than the kernel " +
                std::to_string(kernel) + ", which resnetc does not support");
  for (int d = 2; d < 4; ++d) {
    const char *side = d == 2 ? "height" : "width";
    if (in.dims[d] % stride)
      return fail("stride " + std::to_string(stride) + " does not divide the input " + side + " " +
                  std::to_string(in.dims[d]) +
                  " (resnetc requires it, so that residual branches agree)");
    if (in.dims[d] + 2 * padding < kernel)
      return fail("kernel " + std::to_string(kernel) + " is larger than the padded input " + side +
                  " " + std::to_string(in.dims[d] + 2 * padding));
  }
  dims = in.dims;
  dims[2] = (in.dims[2] + 2 * padding - kernel) / stride + 1;
  dims[3] = (in.dims[3] + 2 * padding - kernel) / stride + 1;
  return true;
}

bool Reader::readConv() {
  const Feature &in = featureInput();
  if (!requireUnpooled(in))
    return false;
  int64_t group = intAttribute(*node, "group").value_or(1);
  if (group != 1)
    return fail("groups=" + std::to_string(group) + " is not supported");
  const Constant *weight;
  if (!requireConstant(1, "the weight", weight))
    return false;
  if (!weight->isFloat || weight->dims.size() != 4)
    return fail("weight '" + node->input(1) + "' must be a float O x C x K x K tensor, it is " +
                formatList(weight->dims));
  if (weight->dims[1] != in.dims[1])
    return fail("weight '" + node->input(1) + "' has shape " + formatList(weight->dims) + ", for " +
                std::to_string(weight->dims[1]) + " input channels, but the input '" +
                node->input(0) + "' has shape " + inputShape(in));
  if (weight->dims[2] != weight->dims[3])
    return fail("weight '" + node->input(1) + "' has a kernel of " +
                std::to_string(weight->dims[2]) + "x" + std::to_string(weight->dims[3]) +
                ", which is not square, which is not supported");
  int64_t kernel, stride, padding;
  if (!readWindow(kernel, stride, padding, weight->dims[2]))
    return false;
  std::vector<int64_t> dims;
  if (!checkWindow(in, kernel, stride, padding, dims))
    return false;
  dims[1] = weight->dims[0];
  const Constant *bias = constantInput(2);
  if (node->input_size() > 2 && !node->input(2).empty() && !bias)
    return fail("the bias must be a constant (an initializer or a Constant node)");
  if (bias && (!bias->isFloat || bias->dims != std::vector<int64_t>{weight->dims[0]}))
    return fail("bias '" + node->input(2) + "' has shape " + formatList(bias->dims) +
                ", the weight has " + std::to_string(weight->dims[0]) + " output channels");
  Layer &layer = addLayer(Layer::Kind::Conv, {in.layer}, dims);
  layer.kernel = kernel;
  layer.stride = stride;
  layer.padding = padding;
  layer.weight = {weight->dims, weight->floats};
  if (bias)
    layer.bias = {bias->dims, bias->floats};
  return true;
}

bool Reader::readBatchNorm() {
  const Feature &in = featureInput();
  if (!requireUnpooled(in))
    return false;
  if (intAttribute(*node, "training_mode").value_or(0) != 0)
    return fail("training_mode=1 is not supported: export the model in eval mode");
  for (int i = 1; i < node->output_size(); ++i)
    if (!node->output(i).empty())
      return fail("computes batch statistics (it has " + std::to_string(node->output_size()) +
                  " outputs): export the model in eval mode");
  const char *names[] = {"scale", "bias", "mean", "variance"};
  const Constant *params[4];
  for (int i = 0; i < 4; ++i) {
    if (!requireConstant(i + 1, std::string("the ") + names[i], params[i]))
      return false;
    if (!params[i]->isFloat || params[i]->dims != std::vector<int64_t>{in.dims[1]})
      return fail(std::string("the ") + names[i] + " '" + node->input(i + 1) + "' has shape " +
                  formatList(params[i]->dims) + ", but the input '" + node->input(0) + "' has " +
                  std::to_string(in.dims[1]) + " channels");
  }
  for (float v : params[3]->floats)
    if (!(v >= 0))
      return fail("the variance '" + node->input(4) + "' holds " + std::to_string(v) +
                  ", not a variance");
  Layer &layer = addLayer(Layer::Kind::BatchNorm, {in.layer}, in.dims);
  layer.gamma = params[0]->floats;
  layer.beta = params[1]->floats;
  layer.mean = params[2]->floats;
  layer.variance = params[3]->floats;
  layer.epsilon = floatAttribute(*node, "epsilon").value_or(1e-5f);
  if (!(layer.epsilon > 0))
    return fail("epsilon " + std::to_string(layer.epsilon) + " is not positive");
  return true;
}

bool Reader::readMaxPool() {
  const Feature &in = featureInput();
  if (!requireUnpooled(in))
    return false;
  if (node->output_size() > 1 && !node->output(1).empty())
    return fail("the Indices output is not supported");
  if (intAttribute(*node, "ceil_mode").value_or(0) != 0)
    return fail("ceil_mode=1 is not supported");
  int64_t kernel, stride, padding;
  if (!readWindow(kernel, stride, padding, std::nullopt))
    return false;
  std::vector<int64_t> dims;
  if (!checkWindow(in, kernel, stride, padding, dims))
    return false;
  Layer &layer = addLayer(Layer::Kind::MaxPool, {in.layer}, dims);
  layer.kernel = kernel;
  layer.stride = stride;
  layer.padding = padding;
  return true;
}

/// GlobalAveragePool, ReduceMean over H and W, and an AveragePool whose
/// window is the whole map.
bool Reader::readGlobalPool() {
  const Feature &in = featureInput();
  if (!requireUnpooled(in))
    return false;
  bool keepDims = true;
  if (node->op_type() == "ReduceMean") {
    std::vector<int64_t> axes = intsAttribute(*node, "axes").value_or(std::vector<int64_t>());
    for (int64_t &axis : axes)
      if (axis < 0)
        axis += 4;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<int64_t>{2, 3})
      return fail("reduces axes " + formatList(axes) +
                  "; only the mean over height and width (axes [2, 3]) is supported");
    keepDims = intAttribute(*node, "keepdims").value_or(1) != 0;
  } else if (node->op_type() == "AveragePool") {
    std::vector<int64_t> kernel =
        intsAttribute(*node, "kernel_shape").value_or(std::vector<int64_t>());
    std::vector<int64_t> pads =
        intsAttribute(*node, "pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
    bool global = kernel == std::vector<int64_t>{in.dims[2], in.dims[3]} &&
                  std::count(pads.begin(), pads.end(), 0) == int64_t(pads.size()) &&
                  intAttribute(*node, "ceil_mode").value_or(0) == 0;
    if (!global)
      return fail("kernel " + formatList(kernel) + " with pads " + formatList(pads) + " on a " +
                  std::to_string(in.dims[2]) + "x" + std::to_string(in.dims[3]) +
                  " map is not supported (only an average over the whole map)");
  }
  std::vector<int64_t> dims = {in.dims[0], in.dims[1]};
  if (keepDims)
    dims.insert(dims.end(), {1, 1});
  addLayer(Layer::Kind::GlobalAvgPool, {in.layer}, dims, /*pooled=*/true);
  return true;
}

bool Reader::readGemm() {
  const Feature &in = featureInput();
  if (!in.pooled || in.dims.size() != 2)
    return fail("needs a pooled N x C input, but '" + node->input(0) + "' has shape " +
                inputShape(in) + (in.pooled ? " (add Flatten)" : " (add a global average pool)"));
  if (intAttribute(*node, "transA").value_or(0) != 0)
    return fail("transA=1 is not supported");
  const Constant *b;
  if (!requireConstant(1, "B (the weight)", b))
    return false;
  if (!b->isFloat || b->dims.size() != 2)
    return fail("weight '" + node->input(1) + "' must be a float matrix, it has shape " +
                formatList(b->dims));
  bool transB = intAttribute(*node, "transB").value_or(0) != 0;
  int64_t k = transB ? b->dims[0] : b->dims[1], c = transB ? b->dims[1] : b->dims[0];
  if (c != in.dims[1])
    return fail("weight '" + node->input(1) + "' has shape " + formatList(b->dims) +
                " (transB=" + std::to_string(transB) + "), for " + std::to_string(c) +
                " input features, but the input '" + node->input(0) + "' has shape " +
                inputShape(in));
  float alpha = floatAttribute(*node, "alpha").value_or(1.0f);
  float beta = floatAttribute(*node, "beta").value_or(1.0f);
  Tensor weight{{k, c}, std::vector<float>(size_t(k * c))};
  for (int64_t o = 0; o < k; ++o)
    for (int64_t i = 0; i < c; ++i)
      weight.values[o * c + i] = alpha * (transB ? b->floats[o * c + i] : b->floats[i * k + o]);
  Tensor bias{{k}, std::vector<float>(size_t(k), 0.0f)};
  if (node->input_size() > 2 && !node->input(2).empty()) {
    const Constant *cTensor;
    if (!requireConstant(2, "C (the bias)", cTensor))
      return false;
    bool perOutput = cTensor->count() == k && (cTensor->dims == std::vector<int64_t>{k} ||
                                               cTensor->dims == std::vector<int64_t>{1, k});
    bool scalar = cTensor->count() == 1 && cTensor->dims.size() <= 2;
    if (!cTensor->isFloat || (!perOutput && !scalar))
      return fail("bias '" + node->input(2) + "' has shape " + formatList(cTensor->dims) +
                  ", the layer has " + std::to_string(k) + " outputs");
    for (int64_t o = 0; o < k; ++o)
      bias.values[o] = beta * cTensor->floats[perOutput ? o : 0];
  }
  Layer &layer = addLayer(Layer::Kind::Dense, {in.layer}, {in.dims[0], k}, /*pooled=*/true);
  layer.weight = std::move(weight);
  layer.bias = std::move(bias);
  return true;
}

bool Reader::readAdd() {
  for (int i = 0; i < 2; ++i)
    if (i >= node->input_size() || !features.count(node->input(i)))
      return fail("adds a constant, which is not supported (an Add is read as the merge of a "
                  "residual unit)");
  const Feature &a = features.find(node->input(0))->second;
  const Feature &b = features.find(node->input(1))->second;
  if (a.dims != b.dims)
    return fail("adds feature maps of different shapes: '" + node->input(0) + "' is " +
                shapeText(a.dims) + " and '" + node->input(1) + "' is " + shapeText(b.dims));
  if (!requireUnpooled(a))
    return false;
  addLayer(Layer::Kind::Add, {a.layer, b.layer}, a.dims);
  return true;
}

/// Flatten, Reshape and Squeeze: allowed where they turn a pooled
/// N x C x 1 x 1 map into N x C, which is what avgpool gives in .rn.
bool Reader::readFlatten() {
  const Feature &in = featureInput();
  std::vector<int64_t> dims;
  StringRef op = node->op_type();
  if (op == "Flatten") {
    int64_t axis = intAttribute(*node, "axis").value_or(1);
    if (axis < 0)
      axis += int64_t(in.dims.size());
    if (axis < 0 || axis > int64_t(in.dims.size()))
      return fail("axis " + std::to_string(axis) + " is out of range");
    int64_t outer = elementCount(ArrayRef<int64_t>(in.dims).take_front(axis));
    int64_t inner = elementCount(ArrayRef<int64_t>(in.dims).drop_front(axis));
    if (outer < 0 || inner < 0)
      return fail("flattens " + shapeText(in.dims) + ", which is too large");
    dims = {outer, inner};
  } else if (op == "Reshape") {
    const Constant *shape;
    if (!requireConstant(1, "the target shape", shape))
      return false;
    if (shape->isFloat)
      return fail("the target shape is not an integer tensor");
    std::string why;
    if (!reshapeDims(in.dims, shape->ints, intAttribute(*node, "allowzero").value_or(0) != 0, dims,
                     why))
      return fail(why);
  } else { // Squeeze
    Constant shapeOnly;
    shapeOnly.dims = in.dims;
    std::vector<const Constant *> inputs = {&shapeOnly};
    if (node->input_size() > 1)
      inputs.push_back(constantInput(1));
    Constant out;
    std::string why;
    if (!evaluateConstant(*node, inputs, graph.opset, out, why))
      return fail(why);
    dims = out.dims;
  }
  bool flattens = in.pooled && dims == std::vector<int64_t>{in.dims[0], in.dims[1]};
  if (dims == in.dims)
    flattens = true; // a no-op
  if (!flattens)
    return fail("turns " + shapeText(in.dims) + " into " + shapeText(dims) +
                "; only flattening a pooled N x C x 1 x 1 map to N x C is supported");
  alias(in, dims);
  return true;
}

/// x[:, :, ::s, ::s], the subsampling of option A's shortcut.
bool Reader::readSlice() {
  const Feature &in = featureInput();
  if (!requireUnpooled(in))
    return false;
  std::vector<int64_t> starts, ends, axes, steps;
  auto list = [&](int i, std::vector<int64_t> &out, StringRef what) {
    if (i >= node->input_size() || node->input(i).empty())
      return true;
    const Constant *c = constantInput(i);
    if (!c || c->isFloat)
      return fail(Twine(what) + " must be an integer constant");
    out = c->ints;
    return true;
  };
  if (graph.opset < 10) {
    starts = intsAttribute(*node, "starts").value_or(std::vector<int64_t>());
    ends = intsAttribute(*node, "ends").value_or(std::vector<int64_t>());
    axes = intsAttribute(*node, "axes").value_or(std::vector<int64_t>());
  } else if (!list(1, starts, "starts") || !list(2, ends, "ends") || !list(3, axes, "axes") ||
             !list(4, steps, "steps")) {
    return false;
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(int64_t(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return fail("has starts, ends, axes and steps of different lengths");
  std::vector<int64_t> dims = in.dims;
  int64_t step[4] = {1, 1, 1, 1};
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = axes[i] < 0 ? axes[i] + 4 : axes[i];
    int64_t start = starts[i], end = ends[i];
    if (axis < 0 || axis > 3 || steps[i] == 0)
      return fail("slices axis " + std::to_string(axes[i]) + " with step " +
                  std::to_string(steps[i]));
    clampSlice(in.dims[axis], steps[i], start, end);
    bool whole = steps[i] > 0 && start == 0 && end == in.dims[axis];
    if (!whole || (axis < 2 && steps[i] != 1))
      return fail("takes " + std::to_string(starts[i]) + ":" + std::to_string(ends[i]) + ":" +
                  std::to_string(steps[i]) + " of axis " + std::to_string(axis) +
                  "; only x[:, :, ::s, ::s] (option A's subsampling) is supported");
    if (in.dims[axis] % steps[i])
      return fail("step " + std::to_string(steps[i]) + " does not divide the size " +
                  std::to_string(in.dims[axis]) + " of axis " + std::to_string(axis));
    step[axis] = steps[i];
    dims[axis] = in.dims[axis] / steps[i];
  }
  if (dims == in.dims) {
    alias(in, dims);
    return true;
  }
  Layer &layer = addLayer(Layer::Kind::Subsample, {in.layer}, dims);
  layer.strideH = step[2];
  layer.strideW = step[3];
  return true;
}

/// Zero channels around the map, the padding of option A's shortcut.
bool Reader::readPad() {
  const Feature &in = featureInput();
  if (!requireUnpooled(in))
    return false;
  std::string mode = stringAttribute(*node, "mode").value_or("constant");
  if (mode != "constant")
    return fail("mode '" + mode + "' is not supported (only zero padding)");
  std::vector<int64_t> pads;
  double value = 0;
  if (graph.opset < 11) {
    pads = intsAttribute(*node, "pads").value_or(std::vector<int64_t>());
    value = floatAttribute(*node, "value").value_or(0.0f);
  } else {
    const Constant *p;
    if (!requireConstant(1, "pads", p))
      return false;
    if (p->isFloat)
      return fail("pads must be integers");
    pads = p->ints;
    if (node->input_size() > 2 && !node->input(2).empty()) {
      const Constant *v;
      if (!requireConstant(2, "the padding value", v))
        return false;
      if (v->count() != 1)
        return fail("the padding value must be one number");
      value = v->at(0);
    }
    if (node->input_size() > 3 && !node->input(3).empty())
      return fail("the axes input is not supported");
  }
  if (pads.size() != 8)
    return fail("pads " + formatList(pads) + " are not 8 numbers for an N x C x H x W map");
  if (pads[1] > (int64_t(1) << 20) || pads[5] > (int64_t(1) << 20))
    return fail("pads " + formatList(pads) + " are out of range");
  if (value != 0)
    return fail("pads with " + std::to_string(value) + "; only zero padding is supported");
  bool onlyChannels = true;
  for (int i = 0; i < 8; ++i)
    onlyChannels &= (i % 4 == 1) ? pads[i] >= 0 : pads[i] == 0;
  if (!onlyChannels)
    return fail("pads " + formatList(pads) +
                "; only adding zero channels (option A's shortcut) is supported");
  if (pads[1] == 0 && pads[5] == 0) {
    alias(in, in.dims);
    return true;
  }
  std::vector<int64_t> dims = in.dims;
  dims[1] += pads[1] + pads[5];
  Layer &layer = addLayer(Layer::Kind::ChannelPad, {in.layer}, dims);
  layer.padBefore = pads[1];
  layer.padAfter = pads[5];
  return true;
}

bool Reader::readFeatureNode() {
  StringRef op = node->op_type();
  if (node->input_size() == 0 || !features.count(node->input(0))) {
    if (op == "Add")
      return readAdd(); // a constant first, a feature map second
    return fail("its first input '" + (node->input_size() ? node->input(0) : std::string()) +
                "' is not the feature map, which is not supported");
  }
  for (int i = 1; i < node->input_size(); ++i)
    if (features.count(node->input(i)) && op != "Add")
      return fail("reads the feature map '" + node->input(i) + "' as input " + std::to_string(i) +
                  ", which is not supported");
  if (op == "Identity" || op == "Dropout") {
    alias(featureInput(), featureInput().dims);
    return true;
  }
  if (op == "Conv")
    return readConv();
  if (op == "BatchNormalization")
    return readBatchNorm();
  if (op == "Relu") {
    const Feature &in = featureInput();
    addLayer(Layer::Kind::Relu, {in.layer}, in.dims, in.pooled);
    return true;
  }
  if (op == "MaxPool")
    return readMaxPool();
  if (op == "GlobalAveragePool" || op == "ReduceMean" || op == "AveragePool")
    return readGlobalPool();
  if (op == "Gemm")
    return readGemm();
  if (op == "Add")
    return readAdd();
  if (op == "Flatten" || op == "Reshape" || op == "Squeeze")
    return readFlatten();
  if (op == "Slice")
    return readSlice();
  if (op == "Pad")
    return readPad();
  return fail("operator is not supported");
}

bool Reader::readNode() {
  if (!node->domain().empty() && node->domain() != "ai.onnx")
    return fail("operators of domain '" + node->domain() + "' are not supported");
  if (node->output_size() == 0 || node->output(0).empty())
    return fail("has no output");
  bool onFeatures = false;
  std::vector<const Constant *> inputs;
  for (int i = 0; i < node->input_size(); ++i) {
    const std::string &name = node->input(i);
    if (name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    if (features.count(name)) {
      onFeatures = true;
      inputs.push_back(nullptr);
      continue;
    }
    const Constant *c = constantInput(i);
    if (!c)
      return fail("input '" + name +
                  "' is produced by no earlier node (the graph is incomplete or not in "
                  "topological order)");
    inputs.push_back(c);
  }
  StringRef op = node->op_type();
  // The shape of a feature map is known: Shape of it is a constant.
  if (op == "Shape" && onFeatures) {
    const Feature &in = featureInput();
    auto [start, end] = shapeRange(*node, int64_t(in.dims.size()));
    Constant shape;
    shape.ints.assign(in.dims.begin() + start, in.dims.begin() + end);
    shape.dims = {end - start};
    constants[node->output(0)] = std::move(shape);
    return true;
  }
  if (onFeatures)
    return readFeatureNode();
  if (!isConstantOp(op))
    return fail("operator is not supported");
  Constant out;
  std::string why;
  if (!evaluateConstant(*node, inputs, graph.opset, out, why))
    return fail(why);
  constants[node->output(0)] = std::move(out);
  return true;
}

bool Reader::readOutput() {
  const onnx::GraphProto &g = model.graph();
  if (g.output_size() != 1) {
    error = "the graph has " + std::to_string(g.output_size()) +
            " outputs; resnetc reads networks with one output, the logits";
    return false;
  }
  graph.outputName = g.output(0).name();
  auto it = features.find(graph.outputName);
  if (it == features.end() || it->second.layer == kGraphInput) {
    error = "the graph's output '" + graph.outputName + "' is not computed from its input";
    return false;
  }
  const Feature &out = it->second;
  if (!out.pooled || out.dims.size() != 2) {
    error = "the graph's output '" + graph.outputName + "' has shape " + shapeText(out.dims) +
            "; resnetc networks end with N x K logits (pooling, then Gemm)";
    return false;
  }
  graph.output = out.layer;
  return true;
}

bool Reader::run() {
  if (!readOpset())
    return false;
  const onnx::GraphProto &g = model.graph();
  for (const onnx::TensorProto &tensor : g.initializer()) {
    Constant c;
    if (!readTensor(tensor, c, error)) {
      error = "initializer: " + error;
      return false;
    }
    constants[tensor.name()] = std::move(c);
  }
  if (!readInput())
    return false;
  for (nodeIndex = 0; nodeIndex < g.node_size(); ++nodeIndex) {
    node = &g.node(nodeIndex);
    if (!readNode())
      return false;
  }
  return readOutput();
}

} // namespace

bool resnetc::onnximport::readOnnxLayers(StringRef bytes, LayerGraph &graph, std::string &error) {
  if (bytes.size() > size_t(std::numeric_limits<int>::max())) {
    error = "the file is larger than 2 GiB, the limit of a protobuf message";
    return false;
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), int(bytes.size()))) {
    error = "not a valid ONNX model: the protobuf does not parse (the file is truncated, "
            "corrupt, or not ONNX)";
    return false;
  }
  if (!model.has_graph() || model.graph().node_size() == 0 || model.ir_version() <= 0) {
    error = "not an ONNX model: it has no graph of nodes and no IR version";
    return false;
  }
  graph = LayerGraph();
  Reader reader(model, graph, error);
  return reader.run();
}
