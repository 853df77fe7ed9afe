//===- TorchNames.cpp - resnetc's weight names and torchvision's ----------===//

#include "resnetc/Interchange/TorchNames.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace llvm;
using namespace resnetc;

namespace {

bool isNumber(StringRef text) {
  return !text.empty() && all_of(text, [](char c) { return isDigit(c); });
}

/// "conv12" -> "conv".
StringRef kindOf(StringRef layer) { return layer.rtrim("0123456789"); }

/// A weight name is a layer path and a parameter: "stage1.0.bn2" and
/// "running_var".
std::pair<StringRef, StringRef> splitParameter(StringRef name) { return name.rsplit('.'); }

/// The torch module path of a resnetc layer path, or "" outside the scheme.
/// `headKinds` counts the head's layers of each kind (fc, bn, conv).
std::string torchLayer(StringRef layer, const StringMap<int> &headKinds) {
  SmallVector<StringRef, 4> parts;
  layer.split(parts, '.');
  // stem.conv1 -> conv1: the stem's layers sit at the top level.
  if (parts.size() == 2 && parts[0] == "stem")
    return parts[1].str();
  // head.fc1 -> fc: the head's only layer of a kind loses its number.
  if (parts.size() == 2 && parts[0] == "head") {
    StringRef kind = kindOf(parts[1]);
    return headKinds.lookup(kind) == 1 ? kind.str() : std::string();
  }
  // stageS.B.layer -> layerS.B.layer (S counts from 1, B from 0 on both sides).
  if (parts.size() < 3 || !parts[0].consume_front("stage") || !isNumber(parts[0]) ||
      !isNumber(parts[1]))
    return "";
  std::string block = "layer" + parts[0].str() + "." + parts[1].str() + ".";
  if (parts.size() == 3)
    return block + parts[2].str();
  // stageS.B.shortcut1.conv/.bn -> layerS.B.downsample.0/.1 (an nn.Sequential).
  StringRef shortcut = parts[2];
  if (parts.size() == 4 && shortcut.consume_front("shortcut") && isNumber(shortcut) &&
      (parts[3] == "conv" || parts[3] == "bn"))
    return block + "downsample" + (shortcut == "1" ? "" : shortcut.str()) +
           (parts[3] == "conv" ? ".0" : ".1");
  return "";
}

} // namespace

bool resnetc::isBatchCounter(StringRef torchName) {
  return torchName.ends_with(kBatchCounterSuffix);
}

bool resnetc::mapToTorchNames(const std::vector<std::string> &resnetcNames,
                              std::vector<TorchName> &map, std::string &error) {
  StringSet<> headLayers;
  for (const std::string &name : resnetcNames) {
    StringRef layer = splitParameter(name).first;
    if (layer.starts_with("head.") && layer.count('.') == 1)
      headLayers.insert(layer);
  }
  StringMap<int> headKinds;
  for (const auto &layer : headLayers)
    ++headKinds[kindOf(layer.getKey().drop_front(5))];

  map.clear();
  StringMap<std::string> owner; // torch name -> resnetc name
  for (const std::string &name : resnetcNames) {
    auto [layer, parameter] = splitParameter(name);
    std::string torch = parameter.empty() ? "" : torchLayer(layer, headKinds);
    torch = torch.empty() ? name : torch + "." + parameter.str();
    auto [it, inserted] = owner.try_emplace(torch, name);
    if (!inserted) {
      error = "'" + it->second + "' and '" + name + "' would both be torch's '" + torch + "'";
      return false;
    }
    map.push_back({name, torch});
  }
  return true;
}
