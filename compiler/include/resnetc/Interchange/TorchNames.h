//===- TorchNames.h - resnetc's weight names and torchvision's --*- C++ -*-===//
//
// torchvision's ResNets name their parameters by module path (conv1, bn1,
// layer1.0.conv1, layer2.0.downsample.0, fc); resnetc names them by the .rn
// structure (stem.conv1, stage1.0.conv1, stage2.0.shortcut1.conv, head.fc1).
// The map follows the structure, not a table per model, so it covers every
// network built from a stem, stages of blocks and a head: torchvision's
// resnet18-152, and the CIFAR and pre-activation networks under the same
// scheme (docs/interchange.md spells it out). Layouts agree: conv weights are
// [out, in, kh, kw] and fc weights [out, in] on both sides.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INTERCHANGE_TORCHNAMES_H
#define RESNETC_INTERCHANGE_TORCHNAMES_H

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace resnetc {

struct TorchName {
  std::string resnetc; ///< e.g. "stage2.0.shortcut1.bn.running_var"
  std::string torch;   ///< e.g. "layer2.0.downsample.1.running_var"
};

/// The torch name of each of `resnetcNames` (every weight of a module with
/// its shortcuts expanded, as listed by expectedWeights), in the same order.
/// A name outside the scheme keeps its resnetc spelling. Fails, naming both,
/// if two tensors would get one torch name.
bool mapToTorchNames(const std::vector<std::string> &resnetcNames, std::vector<TorchName> &map,
                     std::string &error);

/// torch's BatchNorm2d keeps a step counter next to its statistics, stored
/// as an I64 scalar; resnetc has no use for it.
inline constexpr const char *kBatchCounterSuffix = ".num_batches_tracked";
bool isBatchCounter(llvm::StringRef torchName);

} // namespace resnetc

#endif // RESNETC_INTERCHANGE_TORCHNAMES_H
