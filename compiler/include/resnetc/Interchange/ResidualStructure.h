//===- ResidualStructure.h - Residual units found in a layer graph -*- C++ -*-===//
//
// The second and third steps of ONNX import. The matcher finds the residual
// units of a layer graph (a fork whose two branches meet at an Add; the
// shorter branch, the shortcut, is nothing, a 1x1 projection, or option A's
// subsample + zero channels) and brings every layer to the form of a .rn
// layer: a conv's bias (batch norm folded by the exporter) moves into the bn
// that follows. The writer then finds the prelude's blocks and stages in it
// and prints .rn source that reads like examples/models.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INTERCHANGE_RESIDUALSTRUCTURE_H
#define RESNETC_INTERCHANGE_RESIDUALSTRUCTURE_H

#include "resnetc/Interchange/OnnxLayers.h"

#include "llvm/ADT/ArrayRef.h"

#include <memory>

namespace resnetc::onnximport {

/// The epsilon of .rn's bn (docs/language.md, section 6).
inline constexpr double kRnEpsilon = 1e-5;

/// One .rn layer and its tensors.
struct RnLayer {
  enum class Kind { Conv, BatchNorm, Relu, MaxPool, AvgPool, Fc };
  Kind kind;
  std::string node; ///< The ONNX node it came from, for messages.
  int64_t kernel = 0, width = 0, stride = 1, padding = 0;
  /// In the order the front end makes its rn.weight ops: conv: weight; bn:
  /// weight, bias, running_mean, running_var; fc: weight, bias.
  std::vector<Tensor> tensors;
};

enum class ShortcutKind { Identity, ZeroPad, Projection };

struct RnUnit;

/// A layer, or a residual unit when `unit` is set.
struct RnItem {
  RnLayer layer;
  std::shared_ptr<RnUnit> unit;
};

struct RnUnit {
  std::vector<RnItem> body;
  ShortcutKind shortcut = ShortcutKind::Identity;
  std::vector<RnLayer> projection; ///< conv and bn, or conv alone (Projection only)
  bool projectionBn = true;        ///< .rn's projection_bn: whether the projection has a bn
  int64_t stride = 1, inChannels = 0, outChannels = 0;
  std::string addNode;
};

struct RnNetwork {
  std::vector<int64_t> input; ///< C, H, W
  int64_t classes = 0;
  std::vector<RnItem> items;
};

/// Finds the residual structure of `graph`. Errors name the ONNX node.
bool matchResidualStructure(const LayerGraph &graph, RnNetwork &network, std::string &error);

/// Every layer with tensors, in the order the front end makes their weights
/// (a unit's body, then its projection).
std::vector<const RnLayer *> weightedLayers(const RnNetwork &network);

/// .rn source for `network` named `name` (a valid .rn name), after the
/// comment lines `header`: settings, a stem, stages of the prelude's blocks
/// where they fit (residual bodies written out where not), and a head.
std::string writeRnSource(const RnNetwork &network, llvm::StringRef name,
                          llvm::ArrayRef<std::string> header);

} // namespace resnetc::onnximport

#endif // RESNETC_INTERCHANGE_RESIDUALSTRUCTURE_H
