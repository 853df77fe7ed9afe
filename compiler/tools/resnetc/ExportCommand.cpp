//===- ExportCommand.cpp - resnetc export: weights for other frameworks ---===//
//
//   resnetc export final.rnw --model resnet20_fmnist.rn -o r20.safetensors
//   resnetc export final.rnw --model resnet20_fmnist.rn -o r20.onnx   (OnnxCommands.cpp)
//
// The kind of file is told by the output's extension. A .safetensors file
// gets torchvision's names (docs/interchange.md) and, for each batch norm,
// the `num_batches_tracked` counter that torch's load_state_dict(strict=True)
// insists on; a checkpoint's momentum buffers are left out.
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

#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace resnetc;
using resnetc::tool::fail;

namespace {

cl::SubCommand subCommand("export", "Write a .rnw file's weights for another framework "
                                    "(.safetensors with torchvision's names), or the network "
                                    "with them as ONNX (.onnx)");
tool::ModelOptions modelOptions(subCommand, "The .rn model the weights belong to");
cl::opt<std::string> input(cl::Positional, cl::desc("<weights.rnw>"), cl::Required,
                           cl::sub(subCommand));
cl::opt<std::string> output("o", cl::desc("The file to write (.safetensors or .onnx)"),
                            cl::value_desc("path"), cl::sub(subCommand),
                            cl::cat(tool::optionCategory()));

int exportSafetensors(mlir::ModuleOp module, const WeightsFile &weights) {
  std::string error;
  std::vector<ExpectedTensor> expected = expectedWeights(module);
  std::vector<std::string> problems;
  if (!checkWeightsFit(weights.tensors, expected, {}, problems)) {
    for (const std::string &line : problems)
      fail(input + ": " + line);
    return 1;
  }
  std::vector<std::string> names;
  for (const ExpectedTensor &tensor : expected)
    names.push_back(tensor.name);
  std::vector<TorchName> map;
  if (!mapToTorchNames(names, map, error))
    return fail(error);

  // torch counts the batches each batch norm saw; a checkpoint's step is that.
  const double *step = weights.findMetadata("step");
  int64_t batches = step ? int64_t(*step) : 0;
  safetensors::File file;
  for (const TorchName &pair : map) {
    NamedTensor tensor = *weights.find(pair.resnetc);
    tensor.name = pair.torch;
    file.tensors.push_back(std::move(tensor));
    StringRef torch = pair.torch;
    if (torch.consume_back(".running_mean"))
      file.integerTensors.push_back({(torch + kBatchCounterSuffix).str(), {}, {batches}});
  }
  file.metadata = {{"format", "pt"}, {"resnetc.model", weights.model}};
  if (!safetensors::writeFile(output, file, error))
    return fail(error);
  outs() << "resnetc: " << input << ": " << file.tensors.size()
         << " tensors (torchvision names) -> " << output << "\n";
  return 0;
}

int run(mlir::MLIRContext &context) {
  if (output.empty())
    return fail("export needs -o <file.safetensors>");
  StringRef extension = sys::path::extension(output);
  if (extension != ".safetensors" && extension != ".onnx")
    return fail("cannot export to '" + output + "': unknown file type '" + extension +
                "' (resnetc exports .safetensors and .onnx)");
  if (modelOptions.model.empty())
    return fail("export needs --model <model.rn>, the network the weights belong to");
  std::string error;
  WeightsFile weights;
  if (!readWeightsFile(input, weights, error))
    return fail(error);
  tool::LoadedModel model(context);
  if (!model.load(modelOptions.model, 1, modelOptions.network, modelOptions.inputSize) ||
      failed(expandModel(model.get())))
    return 1;
  std::string name = model.get()->getAttrOfType<mlir::StringAttr>(rn::kModelNameAttr).str();
  if (!checkArchitecture(weights, name, architectureHash(model.get()), error))
    return fail(input + ": " + error);
  if (extension == ".onnx")
    return tool::exportOnnxModel(model.get(), weights, input, output);
  return exportSafetensors(model.get(), weights);
}

} // namespace

tool::Command tool::exportCommand{subCommand, run};
