//===- ImportCommand.cpp - resnetc import: weights from other frameworks --===//
//
//   resnetc import r18.safetensors --model resnet18.rn -o r18.rnw [--network N]
//                  [--normalize imagenet] [--classes names.txt]
//   resnetc import r50.onnx -o r50.rn [--weights-out r50.rnw]   (OnnxCommands.cpp)
//
// The kind of file is told by its extension. A .safetensors file holds
// tensors under torchvision's names (docs/interchange.md); each is renamed,
// then checked against the network (present, its shape, finite), and every
// problem is reported before anything is written.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ToolSupport.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Interchange/Safetensors.h"
#include "resnetc/Interchange/TorchNames.h"
#include "resnetc/Weights/CheckWeights.h"
#include "resnetc/train/DataSource.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace resnetc;
using resnetc::tool::fail;

namespace {

cl::SubCommand subCommand("import", "Bring weights from another framework into a .rnw file "
                                    "(.safetensors with torchvision's names), or a whole "
                                    "network from ONNX into .rn and .rnw");
tool::ModelOptions modelOptions(subCommand, "The .rn model the weights are for");
cl::opt<std::string> input(cl::Positional, cl::desc("<weights.safetensors | model.onnx>"),
                           cl::Required, cl::sub(subCommand));
cl::opt<std::string> output("o",
                            cl::desc("The file to write: the .rnw (from .safetensors) or "
                                     "the .rn (from .onnx)"),
                            cl::value_desc("path"), cl::sub(subCommand),
                            cl::cat(tool::optionCategory()));
cl::opt<std::string> weightsOut("weights-out",
                                cl::desc("For an .onnx model: the weights file to write (default: "
                                         "-o with the extension .rnw)"),
                                cl::value_desc("path.rnw"), cl::sub(subCommand),
                                cl::cat(tool::optionCategory()));

cl::opt<std::string>
    normalization("normalize",
                  cl::desc("Record how inputs were normalised when the network was trained, "
                           "for predict and <model>_normalize: imagenet (torchvision's mean "
                           "0.485,0.456,0.406 and std 0.229,0.224,0.225) or MEAN,.../STD,... "
                           "per channel, of pixels in [0, 1]"),
                  cl::value_desc("imagenet|means/stds"), cl::sub(subCommand),
                  cl::cat(tool::optionCategory()));
cl::opt<std::string> classNames("classes", cl::desc("Record the class names, one a line"),
                                cl::value_desc("names.txt"), cl::sub(subCommand),
                                cl::cat(tool::optionCategory()));

/// Parses --normalize into `input` (whose shape, when known, gives the
/// channels).
bool parseNormalization(StringRef text, InputInfo &input, std::string &error) {
  if (text == "imagenet")
    text = "0.485,0.456,0.406/0.229,0.224,0.225";
  auto [means, stds] = text.split('/');
  auto parseList = [&](StringRef list, std::vector<float> &out) {
    SmallVector<StringRef> items;
    list.split(items, ',');
    for (StringRef item : items) {
      double value;
      if (item.trim().getAsDouble(value))
        return false;
      out.push_back(float(value));
    }
    return !out.empty();
  };
  input.mean.clear();
  input.stddev.clear();
  if (!parseList(means, input.mean) || !parseList(stds, input.stddev)) {
    error = "--normalize is imagenet or MEAN,.../STD,..., such as 0.5,0.5,0.5/0.25,0.25,0.25; "
            "got '" +
            text.str() + "'";
    return false;
  }
  if (input.layout.empty())
    input.layout = "NCHW";
  if (!checkInputInfo(input, error)) {
    error = "--normalize: " + error;
    return false;
  }
  return true;
}

/// Adds what --normalize and --classes say to the weights about to be written.
bool describeInputs(WeightsFile &weights, int64_t classes, std::string &error) {
  if (!normalization.empty() && !parseNormalization(normalization, weights.input, error))
    return false;
  if (!classNames.empty()) {
    if (!train::readClassNames(classNames, weights.classes, error))
      return false;
    if (classes > 0 && int64_t(weights.classes.size()) != classes) {
      error = classNames + " names " + std::to_string(weights.classes.size()) +
              " classes, the network has " + std::to_string(classes);
      return false;
    }
  }
  return true;
}

/// Prints every line as its own "resnetc: error: ..." and returns 1.
int failAll(const std::vector<std::string> &errors) {
  for (const std::string &line : errors)
    fail(line);
  return 1;
}

/// checkWeightsFit speaks of resnetc's names; the user's file has torch's.
/// "tensor 'stage1.0.conv1.weight' ..." becomes
/// "tensor 'layer1.0.conv1.weight' (resnetc 'stage1.0.conv1.weight') ...".
std::string inTorchNames(const std::string &line, const StringMap<std::string> &torchOf) {
  StringRef rest = line;
  if (!rest.consume_front("tensor '"))
    return line;
  auto [name, after] = rest.split('\'');
  auto it = torchOf.find(name);
  if (it == torchOf.end() || it->second == name)
    return line;
  return "tensor '" + it->second + "' (resnetc '" + name.str() + "')" + after.str();
}

int importSafetensors(mlir::ModuleOp module) {
  std::string error;
  safetensors::File file;
  if (!safetensors::readFile(input, file, error))
    return fail(error);

  std::vector<ExpectedTensor> expected = expectedWeights(module);
  std::vector<std::string> names;
  for (const ExpectedTensor &tensor : expected)
    names.push_back(tensor.name);
  std::vector<TorchName> map;
  if (!mapToTorchNames(names, map, error))
    return fail(error);
  StringMap<std::string> resnetcOf, torchOf;
  for (const TorchName &pair : map) {
    resnetcOf[pair.torch] = pair.resnetc;
    torchOf[pair.resnetc] = pair.torch;
  }

  std::vector<std::string> errors;
  for (const safetensors::IntegerTensor &tensor : file.integerTensors)
    if (!isBatchCounter(tensor.name))
      errors.push_back(input + ": tensor '" + tensor.name +
                       "' is I64; only floating-point tensors are weights");
  std::vector<NamedTensor> renamed;
  for (NamedTensor &tensor : file.tensors) {
    auto it = resnetcOf.find(tensor.name);
    if (it != resnetcOf.end()) {
      tensor.name = it->second;
    } else if (auto own = torchOf.find(tensor.name); own != torchOf.end()) {
      // A resnetc name in a torch file would shadow the tensor it names.
      errors.push_back(input + ": tensor '" + tensor.name +
                       "' is resnetc's name; the file must use torch's, '" + own->second + "'");
      continue;
    }
    renamed.push_back(std::move(tensor));
  }
  std::vector<std::string> fitErrors;
  WeightsCheckOptions options;
  options.allowCheckpointState = false;
  if (!checkWeightsFit(renamed, expected, options, fitErrors))
    for (const std::string &line : fitErrors)
      errors.push_back(input + ": " + inTorchNames(line, torchOf));
  if (!errors.empty())
    return failAll(errors);

  WeightsFile weights;
  weights.model = module->getAttrOfType<mlir::StringAttr>(rn::kModelNameAttr).str();
  weights.architectureHash = architectureHash(module);
  weights.tensors = std::move(renamed);
  ModelStats stats = computeStats(module);
  weights.input.shape = stats.input;
  if (!describeInputs(weights, stats.classes, error))
    return fail(error);
  weights.input.layout = "NCHW";
  if (!writeWeightsFile(output, weights, error))
    return fail(error);
  outs() << "resnetc: " << input << ": " << weights.tensors.size()
         << " tensors (torchvision names) -> " << output << " for '" << weights.model << "'\n";
  return 0;
}

int run(mlir::MLIRContext &context) {
  StringRef extension = sys::path::extension(input);
  if (extension == ".onnx") {
    // The network comes from the graph: -o is the .rn to write.
    if (output.empty())
      return fail("import of an .onnx model needs -o <model.rn>");
    if (!modelOptions.model.empty())
      return fail("--model is not used with an .onnx model: the network comes from its graph");
    SmallString<128> weightsPath(weightsOut.empty() ? output.getValue() : weightsOut.getValue());
    if (weightsOut.empty())
      sys::path::replace_extension(weightsPath, ".rnw");
    return tool::importOnnxModel(context, input, output, weightsPath,
                                 [](WeightsFile &weights, std::string &error) {
                                   int64_t classes = 0;
                                   if (const NamedTensor *fc = weights.find("head.fc1.bias"))
                                     classes = fc->elementCount();
                                   return describeInputs(weights, classes, error);
                                 });
  }
  if (extension != ".safetensors")
    return fail("cannot import '" + input + "': unknown file type '" + extension +
                "' (resnetc imports .safetensors and .onnx)");
  if (modelOptions.model.empty())
    return fail("import of a .safetensors file needs --model <model.rn>: the tensors' names and "
                "shapes come from the network");
  if (output.empty())
    return fail("import needs -o <weights.rnw>");
  tool::LoadedModel model(context);
  if (!model.load(modelOptions.model, 1, modelOptions.network, modelOptions.inputSize) ||
      failed(expandModel(model.get())))
    return 1;
  return importSafetensors(model.get());
}

} // namespace

tool::Command tool::importCommand{subCommand, run};
