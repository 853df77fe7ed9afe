//===- ModelStats.h - Parameters, multiply-adds, layers and shapes -*- C++ -*-===//

#ifndef RESNETC_ANALYSIS_MODELSTATS_H
#define RESNETC_ANALYSIS_MODELSTATS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace resnetc {

struct LayerStats {
  std::string name;                 ///< From the op's NameLoc, e.g. "stage1.0.conv1".
  std::string op;                   ///< e.g. "conv2d".
  std::string detail;               ///< e.g. "3x3/2, 64".
  std::vector<int64_t> outputShape; ///< Per image (batch dimension dropped).
  int64_t params = 0;
  int64_t macs = 0;
};

/// Counts as the paper and torchvision do: parameters are trainable weights,
/// biases and BN gamma/beta (not running statistics); multiply-adds are those
/// of convs and fc for one image; weighted layers are convs and fc, shortcut
/// projections excluded.
struct ModelStats {
  std::string name;
  std::vector<int64_t> input;
  int64_t classes = 0;
  int64_t params = 0;
  int64_t stateValues = 0; ///< Running statistics: stored, not trained.
  int64_t macs = 0;
  int64_t weightedLayers = 0;
  int64_t shortcutProjections = 0;
  std::vector<LayerStats> layers;
};

/// Statistics of a module whose shortcuts are expanded (rn-expand-shortcuts).
ModelStats computeStats(mlir::ModuleOp module);

void printStatsTable(llvm::raw_ostream &os, const ModelStats &stats);
llvm::json::Value statsToJson(const ModelStats &stats);

/// A hash of what makes weights interchangeable: the ops, their attributes,
/// how they connect, per-image shapes and weight names, of the module with
/// its shortcuts expanded. Independent of the batch size and of source
/// locations. Once recorded (recordArchitectureHash), later rewrites such as
/// batch-norm folding keep the recorded value.
uint64_t architectureHash(mlir::ModuleOp module);

/// The text architectureHash hashes (XXH3-64): one line per op of the
/// forward function, docs/weights-format.md describes it. Empty without one.
std::string architectureText(mlir::ModuleOp module);

/// Stores the module's current hash as the `rn.architecture_hash` attribute,
/// or the hash given by setWeightsArchitectureHash.
void recordArchitectureHash(mlir::ModuleOp module);

/// Makes recordArchitectureHash record `hash` instead of the module's own:
/// for a network compiled at another input size than the one its weights
/// were trained at (multi-scale testing), whose library must load them.
void setWeightsArchitectureHash(mlir::ModuleOp module, uint64_t hash);

} // namespace resnetc

#endif // RESNETC_ANALYSIS_MODELSTATS_H
