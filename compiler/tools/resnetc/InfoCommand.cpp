//===- InfoCommand.cpp - resnetc info: what a weights file holds ----------===//
//
//   resnetc info final.rnw [--tensors] [--json]
//
// The model and architecture hash, the tensors, a checkpoint's numbers (epoch,
// step), and what an application needs to feed the network: the input layout
// and size, its normalisation, the class names. It reads the file only, so it
// answers for any model without compiling anything.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ToolSupport.h"

#include "resnetc/runtime/WeightsFile.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace resnetc;

namespace {

cl::SubCommand subCommand("info", "Print what a weights file (.rnw) holds: model, tensors, "
                                  "training progress, input normalisation, class names");
cl::opt<std::string> input(cl::Positional, cl::desc("<weights.rnw>"), cl::Required,
                           cl::sub(subCommand));
cl::opt<bool> listTensors("tensors", cl::desc("List every tensor with its shape"),
                          cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<bool> asJson("json", cl::desc("Print it as JSON"), cl::sub(subCommand),
                     cl::cat(tool::optionCategory()));

struct Summary {
  int64_t weights = 0, momentum = 0; ///< Tensors.
  int64_t values = 0;                ///< Values of the weights (not the momentum).
};

Summary summarize(const WeightsFile &file) {
  Summary summary;
  for (const NamedTensor &tensor : file.tensors) {
    if (StringRef(tensor.name).starts_with("momentum/")) {
      ++summary.momentum;
      continue;
    }
    ++summary.weights;
    summary.values += tensor.elementCount();
  }
  return summary;
}

template <typename T> json::Array toJson(const std::vector<T> &values) {
  json::Array array;
  for (const T &value : values)
    array.push_back(value);
  return array;
}

json::Object infoJson(const WeightsFile &file) {
  Summary summary = summarize(file);
  json::Object metadata;
  for (const auto &[key, value] : file.metadata)
    metadata[key] = value;
  json::Object root{
      {"format_version", int64_t(file.formatVersion)},
      {"model", file.model},
      {"architecture_hash", formatv("{0}", format_hex_no_prefix(file.architectureHash, 16)).str()},
      {"weights", summary.weights},
      {"values", summary.values},
      {"momentum_tensors", summary.momentum},
      {"metadata", std::move(metadata)},
      {"classes", toJson(file.classes)},
  };
  if (!file.input.empty())
    root["input"] = json::Object{{"layout", file.input.layout},
                                 {"shape", toJson(file.input.shape)},
                                 {"mean", toJson(file.input.mean)},
                                 {"std", toJson(file.input.stddev)}};
  if (listTensors) {
    json::Array tensors;
    for (const NamedTensor &tensor : file.tensors)
      tensors.push_back(json::Object{{"name", tensor.name}, {"shape", toJson(tensor.shape)}});
    root["tensors"] = std::move(tensors);
  }
  return root;
}

/// Shortest faithful-enough text: integers as integers, others to 6 digits.
std::string number(double value) {
  std::string text;
  raw_string_ostream(text) << format("%.6g", value);
  return text;
}

std::string joinFloats(const std::vector<float> &values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + number(values[i]);
  return text;
}

void printInfo(raw_ostream &os, const WeightsFile &file) {
  Summary summary = summarize(file);
  os << formatv("model:        {0}\n", file.model);
  os << "architecture: " << format_hex_no_prefix(file.architectureHash, 16) << "\n";
  os << formatv("format:       version {0}\n", file.formatVersion);
  os << formatv("weights:      {0} tensors, {1} values\n", summary.weights, summary.values);
  if (summary.momentum)
    os << formatv("checkpoint:   {0} momentum tensors\n", summary.momentum);
  size_t keyWidth = 15;
  for (const auto &[key, value] : file.metadata)
    keyWidth = std::max(keyWidth, key.size() + 2);
  for (const auto &[key, value] : file.metadata)
    os << "  " << left_justify(key + ":", unsigned(keyWidth)) << number(value) << "\n";
  if (file.input.empty()) {
    os << "input:        not recorded (the file predates format version 2)\n";
  } else {
    std::string shape;
    for (int64_t d : file.input.shape)
      shape += (shape.empty() ? "" : "x") + std::to_string(d);
    os << formatv("input:        {0} {1}\n", file.input.layout, shape);
    if (file.input.hasNormalization())
      os << formatv("normalise:    mean [{0}], std [{1}] (of pixels in [0, 1])\n",
                    joinFloats(file.input.mean), joinFloats(file.input.stddev));
    else
      os << "normalise:    not recorded (written by init or compile: apps normalise inputs "
            "themselves)\n";
  }
  if (file.classes.empty()) {
    os << "classes:      not named\n";
  } else {
    os << formatv("classes:      {0}:", file.classes.size());
    for (size_t k = 0; k < file.classes.size(); ++k)
      os << formatv(" {0}{1}", file.classes[k], k + 1 < file.classes.size() ? "," : "");
    os << "\n";
  }
  if (listTensors)
    for (const NamedTensor &tensor : file.tensors)
      os << formatv("  {0,-40} {1}\n", tensor.name, formatShape(tensor.shape));
}

int run(mlir::MLIRContext &) {
  WeightsFile file;
  std::string error;
  if (!readWeightsFile(input, file, error))
    return tool::fail(error);
  if (asJson)
    outs() << formatv("{0:2}", json::Value(infoJson(file))) << "\n";
  else
    printInfo(outs(), file);
  return 0;
}

} // namespace

tool::Command tool::infoCommand{subCommand, run};
