//===- TargetRegistry.cpp - The targets under targets/ --------------------===//

#include "resnetc/Target/TargetDescription.h"

#include <algorithm>
#include <sstream>

namespace resnetc::targets {
// One `describe<Folder>()` per target folder (generated from their names).
#define RESNETC_TARGET(function) TargetDescription function();
#include "RegisteredTargets.inc"
#undef RESNETC_TARGET
} // namespace resnetc::targets

namespace resnetc {

namespace {

std::vector<std::string> splitFeatures(const std::string &target, std::string &base) {
  std::vector<std::string> fields;
  std::stringstream stream(target);
  for (std::string field; std::getline(stream, field, '-');)
    fields.push_back(field);
  size_t baseFields =
      !fields.empty() && fields[0] == "host" ? 1 : std::min<size_t>(3, fields.size());
  base.clear();
  for (size_t i = 0; i < baseFields; ++i)
    base += (i ? "-" : "") + fields[i];
  return std::vector<std::string>(fields.begin() + baseFields, fields.end());
}

bool contains(const std::vector<std::string> &list, const std::string &item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

} // namespace

const std::vector<TargetDescription> &registeredTargets() {
  static const std::vector<TargetDescription> targets = [] {
    std::vector<TargetDescription> list = {
#define RESNETC_TARGET(function) targets::function(),
#include "RegisteredTargets.inc"
#undef RESNETC_TARGET
    };
    // host first, then by name (x86-64-linux before its variants).
    std::sort(list.begin(), list.end(), [](const TargetDescription &a, const TargetDescription &b) {
      return std::make_pair(a.name != "host", a.name) < std::make_pair(b.name != "host", b.name);
    });
    return list;
  }();
  return targets;
}

const TargetDescription *findTarget(const std::string &target) {
  std::string base;
  std::vector<std::string> features = splitFeatures(target, base);
  const TargetDescription *best = nullptr;
  auto rank = [](const TargetDescription &d) {
    return std::make_pair(!d.deviceInterface.empty(), d.requiredFeatures.size());
  };
  for (const TargetDescription &description : registeredTargets()) {
    if (description.base != base)
      continue;
    bool matches =
        std::all_of(description.requiredFeatures.begin(), description.requiredFeatures.end(),
                    [&](const std::string &f) { return contains(features, f); });
    if (matches && (!best || rank(description) > rank(*best)))
      best = &description;
  }
  // A GPU API's feature selects that GPU's target or none (no host-cuda).
  for (const TargetDescription &gpu : registeredTargets())
    if (best && !gpu.deviceInterface.empty())
      for (const std::string &feature : gpu.requiredFeatures)
        if (contains(features, feature) && !contains(best->requiredFeatures, feature))
          return nullptr;
  return best;
}

std::string halideTargetString(const TargetDescription &description, const std::string &target) {
  std::string base, result = target;
  std::vector<std::string> features = splitFeatures(target, base);
  for (const std::string &feature : description.impliedFeatures)
    if (!contains(features, feature))
      result += "-" + feature;
  return result;
}

std::string supportedTargetsText() {
  std::string text;
  for (const TargetDescription &description : registeredTargets())
    text += (text.empty() ? "" : ", ") + description.usage;
  return text;
}

} // namespace resnetc
