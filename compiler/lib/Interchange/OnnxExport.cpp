//===- OnnxExport.cpp - A .rn network and its weights as ONNX -------------===//

#include "resnetc/Interchange/OnnxExport.h"

#include "OnnxChecker.h"

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/runtime/AtomicFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>
#include <limits>

using namespace llvm;
using namespace resnetc;

namespace {

class Exporter {
public:
  Exporter(onnx::GraphProto &graph, const WeightsFile &weights, std::string &error)
      : graph(graph), weights(weights), error(error) {}

  bool run(mlir::func::FuncOp forward);

private:
  onnx::GraphProto &graph;
  const WeightsFile &weights;
  std::string &error;
  DenseMap<mlir::Value, std::string> names;
  StringSet<> used;
  /// The graph's outputs: "logits", or a backbone's named feature maps.
  llvm::DenseMap<mlir::Value, std::string> outputNames;
  int anonymous = 0;

  std::string unique(StringRef base) {
    std::string name = base.str();
    for (int n = 2; !used.insert(name).second; ++n)
      name = (base + "_" + Twine(n)).str();
    return name;
  }
  /// The .rn layer's name (stage1.0.conv1) from the op's location.
  std::string layerName(mlir::Operation *op) {
    if (auto name = op->getLoc()->findInstanceOf<mlir::NameLoc>())
      return name.getName().str();
    return op->getName().stripDialect().str() + "_" + std::to_string(++anonymous);
  }
  std::string output(mlir::Value value, StringRef base) {
    auto named = outputNames.find(value);
    std::string name = unique(named != outputNames.end() ? named->second : base);
    names[value] = name;
    return name;
  }
  onnx::NodeProto *node(StringRef opType, StringRef name, ArrayRef<std::string> inputs,
                        StringRef out) {
    onnx::NodeProto *n = graph.add_node();
    n->set_op_type(opType.str());
    n->set_name(name.str());
    for (const std::string &in : inputs)
      n->add_input(in);
    n->add_output(out.str());
    return n;
  }
  static void ints(onnx::NodeProto *n, StringRef name, ArrayRef<int64_t> values) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values)
      a->add_ints(v);
  }
  static void integer(onnx::NodeProto *n, StringRef name, int64_t value) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  std::string intInitializer(StringRef base, ArrayRef<int64_t> values) {
    onnx::TensorProto *t = graph.add_initializer();
    std::string name = unique(base);
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(values.size()));
    for (int64_t v : values)
      t->add_int64_data(v);
    return name;
  }
  bool weight(rn::WeightOp op);
  bool layer(mlir::Operation *op);
  std::vector<std::string> inputsOf(mlir::Operation *op) {
    std::vector<std::string> inputs;
    for (mlir::Value v : op->getOperands())
      inputs.push_back(names.lookup(v));
    return inputs;
  }
};

bool Exporter::weight(rn::WeightOp op) {
  const NamedTensor *tensor = weights.find(op.getName().str());
  auto type = cast<mlir::RankedTensorType>(op.getType());
  if (!tensor ||
      tensor->shape != std::vector<int64_t>(type.getShape().begin(), type.getShape().end())) {
    error = "the weights file has no tensor '" + op.getName().str() + "' of the model's shape";
    return false;
  }
  onnx::TensorProto *t = graph.add_initializer();
  std::string name = unique(op.getName());
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : tensor->shape)
    t->add_dims(d);
  // raw_data is little-endian float, as on every platform resnetc targets.
  static_assert(sizeof(float) == 4, "float must be IEEE single precision");
  t->set_raw_data(reinterpret_cast<const char *>(tensor->values.data()),
                  tensor->values.size() * sizeof(float));
  names[op.getResult()] = name;
  return true;
}

bool Exporter::layer(mlir::Operation *op) {
  std::string name = layerName(op);
  std::vector<std::string> in = inputsOf(op);
  return TypeSwitch<mlir::Operation *, bool>(op)
      .Case([&](rn::Conv2DOp conv) {
        auto w = cast<mlir::RankedTensorType>(conv.getWeight().getType()).getShape();
        ArrayRef<int64_t> pad = conv.getPadding();
        onnx::NodeProto *n = node("Conv", name, in, output(conv.getResult(), name));
        ints(n, "kernel_shape", {w[2], w[3]});
        ints(n, "strides", conv.getStrides());
        ints(n, "pads", {pad[0], pad[1], pad[0], pad[1]});
        ints(n, "dilations", conv.getDilations().value_or(ArrayRef<int64_t>({1, 1})));
        integer(n, "group", int64_t(conv.getGroups()));
        return true;
      })
      .Case([&](rn::DropoutOp dropout) {
        // Inverted dropout is the identity at inference.
        node("Identity", name, in, output(dropout.getResult(), name));
        return true;
      })
      .Case([&](rn::BatchNormOp bn) {
        onnx::NodeProto *n = node("BatchNormalization", name, in, output(bn.getResult(), name));
        onnx::AttributeProto *a = n->add_attribute();
        a->set_name("epsilon");
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(float(bn.getEpsilon().convertToDouble()));
        return true;
      })
      .Case([&](rn::ReluOp relu) {
        node("Relu", name, in, output(relu.getResult(), name));
        return true;
      })
      .Case([&](rn::AddOp add) {
        node("Add", name, in, output(add.getResult(), name));
        return true;
      })
      .Case([&](rn::ScaleOp scale) {
        // x * s[c]: the scale as C x 1 x 1, broadcast over N, H and W.
        std::string column = unique(name + "/scale");
        node("Unsqueeze", name + "/unsqueeze", {in[1], intInitializer(name + "/axes", {1, 2})},
             column);
        node("Mul", name, {in[0], column}, output(scale.getOutput(), name));
        return true;
      })
      .Case([&](rn::MaxPool2DOp pool) {
        ArrayRef<int64_t> pad = pool.getPadding();
        onnx::NodeProto *n = node("MaxPool", name, in, output(pool.getResult(), name));
        ints(n, "kernel_shape", pool.getKernel());
        ints(n, "strides", pool.getStrides());
        ints(n, "pads", {pad[0], pad[1], pad[0], pad[1]});
        return true;
      })
      .Case([&](rn::GlobalAvgPoolOp pool) {
        std::string pooled = unique(name + "/pool");
        node("GlobalAveragePool", name, in, pooled);
        integer(node("Flatten", name + "/flatten", {pooled}, output(pool.getResult(), name)),
                "axis", 1);
        return true;
      })
      .Case([&](rn::DenseOp dense) {
        onnx::NodeProto *n = node("Gemm", name, in, output(dense.getResult(), name));
        integer(n, "transB", 1);
        return true;
      })
      .Case([&](rn::ZeroPadShortcutOp pad) {
        // x[:, :, ::s, ::s], then zero channels: half (rounded down) before.
        int64_t stride = int64_t(pad.getStride());
        int64_t inChannels = cast<mlir::RankedTensorType>(pad.getInput().getType()).getShape()[1];
        int64_t added = int64_t(pad.getOutChannels()) - inChannels;
        std::string x = in[0];
        if (stride != 1) {
          int64_t end = std::numeric_limits<int64_t>::max();
          std::vector<std::string> sliceInputs = {
              x, intInitializer(name + "/starts", {0, 0}),
              intInitializer(name + "/ends", {end, end}), intInitializer(name + "/axes", {2, 3}),
              intInitializer(name + "/steps", {stride, stride})};
          x = unique(name + "/subsampled");
          node("Slice", name + "/slice", sliceInputs, x);
        }
        std::string pads =
            intInitializer(name + "/pads", {0, added / 2, 0, 0, 0, added - added / 2, 0, 0});
        node("Pad", name + "/pad", {x, pads}, output(pad.getResult(), name));
        return true;
      })
      .Default([&](mlir::Operation *other) {
        error = "cannot export '" + other->getName().getStringRef().str() + "' (layer " + name +
                ") to ONNX";
        return false;
      });
}

bool Exporter::run(mlir::func::FuncOp forward) {
  mlir::Block &body = forward.getBody().front();
  auto ret = cast<mlir::func::ReturnOp>(body.getTerminator());
  auto outputs = forward->getParentOfType<mlir::ModuleOp>()->getAttrOfType<mlir::ArrayAttr>(
      rn::kOutputNamesAttr);
  for (auto [i, value] : llvm::enumerate(ret.getOperands()))
    outputNames.try_emplace(value, outputs ? cast<mlir::StringAttr>(outputs[i]).str() : "logits");
  names[forward.getArgument(0)] = "input";
  used.insert("input");
  for (mlir::Operation &op : body.without_terminator()) {
    if (auto w = dyn_cast<rn::WeightOp>(op)) {
      if (!weight(w))
        return false;
    } else if (!layer(&op)) {
      return false;
    }
  }
  auto shapeOf = [](onnx::ValueInfoProto *info, ArrayRef<int64_t> dims) {
    info->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    onnx::TensorShapeProto *shape = info->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->add_dim()->set_dim_param("N");
    for (int64_t d : dims.drop_front())
      shape->add_dim()->set_dim_value(d);
  };
  onnx::ValueInfoProto *input = graph.add_input();
  input->set_name("input");
  shapeOf(input, cast<mlir::RankedTensorType>(forward.getArgument(0).getType()).getShape());
  for (mlir::Value value : ret.getOperands()) {
    onnx::ValueInfoProto *out = graph.add_output();
    out->set_name(names.lookup(value));
    shapeOf(out, cast<mlir::RankedTensorType>(value.getType()).getShape());
  }
  return true;
}

} // namespace

bool resnetc::exportOnnx(mlir::ModuleOp module, const WeightsFile &weights, std::string &bytes,
                         OnnxExportReport &report, std::string &error) {
  auto forward = module.lookupSymbol<mlir::func::FuncOp>(rn::kForwardFunction);
  if (!forward || forward.getNumArguments() != 1 || forward.getNumResults() < 1 ||
      (forward.getNumResults() > 1 && !module->hasAttr(rn::kOutputNamesAttr))) {
    error = "the module has no forward function of one input and its outputs";
    return false;
  }
  onnx::ModelProto model;
  model.set_ir_version(7); // the IR version of opset 13 (ONNX 1.8)
  model.set_producer_name("resnetc");
  onnx::OperatorSetIdProto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxExportOpset);
  onnx::GraphProto *graph = model.mutable_graph();
  std::string name;
  if (auto attr = module->getAttrOfType<mlir::StringAttr>(rn::kModelNameAttr))
    name = attr.str();
  graph->set_name(name.empty() ? "resnetc" : name);
  graph->set_doc_string("Exported by resnetc in inference form: BatchNormalization nodes use the "
                        "running statistics.");
  Exporter exporter(*graph, weights, error);
  if (!exporter.run(forward))
    return false;
  std::string why;
  if (!onnximport::checkOnnxModel(model, why)) {
    error = "internal error: ONNX's checker rejects the exported model: " + why;
    return false;
  }
  report.nodes = graph->node_size();
  report.initializers = graph->initializer_size();
  if (!model.SerializeToString(&bytes)) {
    error = "the model is too large for one protobuf message (2 GiB)";
    return false;
  }
  return true;
}

bool resnetc::writeOnnxFile(const std::string &path, mlir::ModuleOp module,
                            const WeightsFile &weights, OnnxExportReport &report,
                            std::string &error) {
  std::string bytes;
  if (!exportOnnx(module, weights, bytes, report, error))
    return false;
  return writeFileAtomically(path, bytes.data(), bytes.size(), error);
}
