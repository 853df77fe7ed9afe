//===- ResidualMatcher.cpp - Residual units found in a layer graph --------===//
//
// Walks the layers from the graph's input. A feature map read by one layer
// continues the chain; one read by two layers opens a residual unit, whose
// two branches are followed until they meet at the same Add. The branch
// that is a shortcut (nothing, a 1x1 conv with its BN, or option A's
// subsample + zero channels) becomes the unit's shortcut, the other its body.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Interchange/ResidualStructure.h"

#include "OnnxProto.h"

#include "llvm/ADT/Twine.h"

using namespace llvm;
using namespace resnetc::onnximport;

namespace {

/// Deeper nesting of residual units is refused rather than recursed into.
constexpr int kMaxNesting = 64;
constexpr int kReachedOutput = -2;

struct RawUnit;
struct RawItem {
  int layer = -1;
  std::shared_ptr<RawUnit> unit;
};
struct RawUnit {
  std::vector<RawItem> branches[2];
  int last[2] = {0, 0}; ///< the value each branch hands to the Add
  int fork = 0, add = 0;
};

class Matcher {
public:
  Matcher(const LayerGraph &graph, std::string &error) : g(graph), error(error) {
    std::vector<bool> live(g.layers.size(), false);
    if (g.output >= 0)
      live[g.output] = true;
    for (int i = int(g.layers.size()) - 1; i >= 0; --i)
      if (live[i])
        for (int in : g.layers[i].inputs)
          if (in >= 0)
            live[in] = true;
    consumers.resize(g.layers.size() + 1);
    for (int i = 0; i < int(g.layers.size()); ++i)
      if (live[i])
        for (int in : g.layers[i].inputs)
          consumers[in + 1].push_back(i);
  }

  bool run(RnNetwork &network);

private:
  const LayerGraph &g;
  std::string &error;
  std::vector<std::vector<int>> consumers; ///< [value + 1]: the graph's input is value -1

  bool fail(int layer, const Twine &message) {
    const Layer &l = g.layers[layer];
    error = (Twine("node '") + l.node + "' (" + l.opType + "): " + message).str();
    return false;
  }
  std::string valueName(int value) const {
    return value == kGraphInput ? "the graph's input '" + g.inputName + "'"
                                : "the output of node '" + g.layers[value].node + "'";
  }
  const std::vector<int64_t> &shapeOf(int value) const {
    return value == kGraphInput ? g.input : g.layers[value].shape;
  }

  bool chain(int value, int first, int depth, std::vector<RawItem> &items, int &add, int &last);
  bool convertChain(const std::vector<RawItem> &raw, std::vector<RnItem> &out);
  bool convertUnit(const RawUnit &raw, RnUnit &unit);
  bool isShortcut(const std::vector<RawItem> &branch) const;
};

/// Follows the chain from `value` (through `first` when it is a layer)
/// until an Add (returned in `add`, with the value reaching it in `last`)
/// or the graph's output.
bool Matcher::chain(int value, int first, int depth, std::vector<RawItem> &items, int &add,
                    int &last) {
  if (depth > kMaxNesting) {
    error = "residual units are nested more than " + std::to_string(kMaxNesting) + " deep";
    return false;
  }
  int v = value, next = first;
  while (true) {
    int c = next;
    next = -1;
    if (c < 0) {
      const std::vector<int> &readers = consumers[v + 1];
      if (v == g.output && readers.empty()) {
        add = kReachedOutput;
        last = v;
        return true;
      }
      if (readers.size() == 2) {
        auto unit = std::make_shared<RawUnit>();
        int adds[2];
        for (int b = 0; b < 2; ++b)
          if (!chain(v, readers[b], depth + 1, unit->branches[b], adds[b], unit->last[b]))
            return false;
        if (adds[0] < 0 || adds[0] != adds[1]) {
          error = "the two branches from " + valueName(v) +
                  " do not meet at one Add (resnetc reads forks as residual units)";
          return false;
        }
        unit->fork = v;
        unit->add = adds[0];
        items.push_back({-1, unit});
        v = adds[0];
        continue;
      }
      if (readers.size() != 1) {
        error = valueName(v) + " is read by " + std::to_string(readers.size()) +
                " layers; resnetc reads a fork into two branches (a residual unit) only";
        return false;
      }
      c = readers[0];
    }
    if (g.layers[c].kind == Layer::Kind::Add) {
      add = c;
      last = v;
      return true;
    }
    items.push_back({c, nullptr});
    v = c;
  }
}

bool Matcher::isShortcut(const std::vector<RawItem> &branch) const {
  if (branch.empty())
    return true;
  bool padding = true;
  for (const RawItem &item : branch)
    padding &= !item.unit && (g.layers[item.layer].kind == Layer::Kind::Subsample ||
                              g.layers[item.layer].kind == Layer::Kind::ChannelPad);
  if (padding)
    return true;
  if (branch.size() > 2 || branch[0].unit || (branch.size() == 2 && branch[1].unit))
    return false;
  const Layer &conv = g.layers[branch[0].layer];
  return conv.kind == Layer::Kind::Conv && conv.kernel == 1 && conv.padding == 0 &&
         (branch.size() == 1 || g.layers[branch[1].layer].kind == Layer::Kind::BatchNorm);
}

RnLayer batchNorm(const std::string &node, std::vector<float> gamma, std::vector<float> beta,
                  std::vector<float> mean, std::vector<float> variance) {
  RnLayer bn{RnLayer::Kind::BatchNorm, node};
  int64_t c = int64_t(gamma.size());
  bn.width = c;
  bn.tensors = {{{c}, std::move(gamma)},
                {{c}, std::move(beta)},
                {{c}, std::move(mean)},
                {{c}, std::move(variance)}};
  return bn;
}

/// A bn that adds `bias` and nothing else: unit scale, zero mean and a
/// variance of 1 - eps, so that variance + eps is 1 and its square root
/// exactly 1 (in float; within 2^-26 in double, see docs/interchange.md).
RnLayer biasAsBatchNorm(const std::string &node, const std::vector<float> &bias) {
  size_t c = bias.size();
  return batchNorm(node, std::vector<float>(c, 1.0f), bias, std::vector<float>(c, 0.0f),
                   std::vector<float>(c, float(1.0 - kRnEpsilon)));
}

/// The ONNX batch norm as .rn's, whose epsilon is fixed: the difference
/// moves into the variance; a conv bias before it moves into the mean.
bool convertBatchNorm(const Layer &layer, const std::vector<float> *convBias, RnLayer &out,
                      std::string &error) {
  std::vector<float> mean = layer.mean, variance = layer.variance;
  for (size_t c = 0; c < mean.size(); ++c) {
    if (convBias)
      mean[c] = float(double(mean[c]) - double((*convBias)[c]));
    double v = double(variance[c]) + (layer.epsilon - kRnEpsilon);
    if (v < 0) {
      error = "node '" + layer.node + "' (" + layer.opType + "): epsilon " +
              std::to_string(layer.epsilon) + " with variance " + std::to_string(variance[c]) +
              " cannot be expressed with .rn's epsilon 1e-5";
      return false;
    }
    variance[c] = float(v);
  }
  out = batchNorm(layer.node, layer.gamma, layer.beta, std::move(mean), std::move(variance));
  return true;
}

RnLayer convLayer(const Layer &layer) {
  RnLayer conv{RnLayer::Kind::Conv, layer.node};
  conv.kernel = layer.kernel;
  conv.width = layer.weight.shape[0];
  conv.stride = layer.stride;
  conv.padding = layer.padding;
  conv.tensors = {layer.weight};
  return conv;
}

bool Matcher::convertChain(const std::vector<RawItem> &raw, std::vector<RnItem> &out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].unit) {
      auto unit = std::make_shared<RnUnit>();
      if (!convertUnit(*raw[i].unit, *unit))
        return false;
      out.push_back({RnLayer{RnLayer::Kind::Relu}, unit});
      continue;
    }
    const Layer &layer = g.layers[raw[i].layer];
    switch (layer.kind) {
    case Layer::Kind::Conv: {
      out.push_back({convLayer(layer), nullptr});
      if (layer.bias.values.empty())
        break;
      // The exporter folded a batch norm into this conv, or the conv has
      // a bias of its own: .rn carries conv biases in the bn after it.
      const Layer *next =
          i + 1 < raw.size() && !raw[i + 1].unit ? &g.layers[raw[i + 1].layer] : nullptr;
      if (next && next->kind == Layer::Kind::BatchNorm) {
        RnLayer bn;
        if (!convertBatchNorm(*next, &layer.bias.values, bn, error))
          return false;
        out.push_back({std::move(bn), nullptr});
        ++i;
      } else {
        out.push_back({biasAsBatchNorm(layer.node, layer.bias.values), nullptr});
      }
      break;
    }
    case Layer::Kind::BatchNorm: {
      RnLayer bn;
      if (!convertBatchNorm(layer, nullptr, bn, error))
        return false;
      out.push_back({std::move(bn), nullptr});
      break;
    }
    case Layer::Kind::Relu:
      out.push_back({RnLayer{RnLayer::Kind::Relu, layer.node}, nullptr});
      break;
    case Layer::Kind::MaxPool: {
      RnLayer pool{RnLayer::Kind::MaxPool, layer.node};
      pool.kernel = layer.kernel;
      pool.stride = layer.stride;
      pool.padding = layer.padding;
      out.push_back({std::move(pool), nullptr});
      break;
    }
    case Layer::Kind::GlobalAvgPool:
      out.push_back({RnLayer{RnLayer::Kind::AvgPool, layer.node}, nullptr});
      break;
    case Layer::Kind::Dense: {
      RnLayer fc{RnLayer::Kind::Fc, layer.node};
      fc.width = layer.weight.shape[0];
      fc.tensors = {layer.weight, layer.bias};
      out.push_back({std::move(fc), nullptr});
      break;
    }
    case Layer::Kind::Subsample:
    case Layer::Kind::ChannelPad:
      return fail(raw[i].layer, "subsampling and zero channels are read only as the shortcut "
                                "of a residual unit (option A)");
    case Layer::Kind::Add:
      return fail(raw[i].layer, "internal error: an Add inside a chain");
    }
  }
  return true;
}

bool Matcher::convertUnit(const RawUnit &raw, RnUnit &unit) {
  const Layer &add = g.layers[raw.add];
  unit.addNode = add.node;
  bool candidate[2] = {isShortcut(raw.branches[0]), isShortcut(raw.branches[1])};
  int s;
  if (candidate[0] && candidate[1])
    s = raw.last[0] == add.inputs[1] ? 0 : 1; // torch writes body + shortcut
  else if (candidate[0] || candidate[1])
    s = candidate[0] ? 0 : 1;
  else
    return fail(raw.add, "neither of the branches it adds is a shortcut (nothing, a 1x1 Conv "
                         "with its BatchNormalization, or Slice and Pad)");
  const std::vector<RawItem> &shortcut = raw.branches[s], &body = raw.branches[1 - s];
  if (body.empty())
    return fail(raw.add, "adds a value to itself, which is not a residual unit");
  if (!convertChain(body, unit.body))
    return false;

  const std::vector<int64_t> &in = shapeOf(raw.fork), &out = add.shape;
  unit.inChannels = in[0];
  unit.outChannels = out[0];
  if (in[1] % out[1] || in[2] % out[2] || in[1] / out[1] != in[2] / out[2])
    return fail(raw.add, "its residual branch maps " + std::to_string(in[1]) + "x" +
                             std::to_string(in[2]) + " to " + std::to_string(out[1]) + "x" +
                             std::to_string(out[2]) + ", which no shortcut can match");
  unit.stride = in[1] / out[1];
  if (shortcut.empty()) {
    unit.shortcut = ShortcutKind::Identity;
    return true;
  }
  const Layer &first = g.layers[shortcut[0].layer];
  if (first.kind == Layer::Kind::Conv) {
    unit.shortcut = ShortcutKind::Projection;
    unit.projection.push_back(convLayer(first));
    const std::vector<float> *bias = first.bias.values.empty() ? nullptr : &first.bias.values;
    if (shortcut.size() == 2) {
      RnLayer bn;
      if (!convertBatchNorm(g.layers[shortcut[1].layer], bias, bn, error))
        return false;
      unit.projection.push_back(std::move(bn));
    } else if (bias) {
      // .rn's projections have no bias: a bn that adds it is exact.
      unit.projection.push_back(biasAsBatchNorm(first.node, *bias));
    } else {
      unit.projectionBn = false; // the pre-activation networks' bare 1x1 conv
    }
    return true;
  }
  unit.shortcut = ShortcutKind::ZeroPad;
  int64_t strideH = 1, strideW = 1, before = 0, after = 0;
  int padLayer = shortcut[0].layer;
  for (const RawItem &item : shortcut) {
    const Layer &l = g.layers[item.layer];
    strideH *= l.strideH;
    strideW *= l.strideW;
    before += l.padBefore;
    after += l.padAfter;
    if (l.kind == Layer::Kind::ChannelPad)
      padLayer = item.layer;
  }
  if (strideH != unit.stride || strideW != unit.stride)
    return fail(shortcut[0].layer, "subsamples by " + std::to_string(strideH) + "x" +
                                       std::to_string(strideW) + " where the unit's stride is " +
                                       std::to_string(unit.stride));
  int64_t added = unit.outChannels - unit.inChannels;
  if (before != added / 2)
    return fail(padLayer,
                "adds " + std::to_string(before) + " zero channels before and " +
                    std::to_string(after) + " after; option A puts half (rounded down) before: " +
                    std::to_string(added / 2) + " and " + std::to_string(added - added / 2));
  return true;
}

bool Matcher::run(RnNetwork &network) {
  std::vector<RawItem> raw;
  int add, last;
  if (!chain(kGraphInput, -1, 0, raw, add, last))
    return false;
  if (add != kReachedOutput)
    return fail(add, "merges branches that do not fork from one feature map");
  network.input = g.input;
  network.classes = g.layers[g.output].shape[0];
  return convertChain(raw, network.items);
}

void collect(const std::vector<RnItem> &items, std::vector<const RnLayer *> &out) {
  for (const RnItem &item : items) {
    if (!item.unit) {
      if (!item.layer.tensors.empty())
        out.push_back(&item.layer);
      continue;
    }
    collect(item.unit->body, out);
    for (const RnLayer &layer : item.unit->projection)
      out.push_back(&layer);
  }
}

} // namespace

bool resnetc::onnximport::matchResidualStructure(const LayerGraph &graph, RnNetwork &network,
                                                 std::string &error) {
  network = RnNetwork();
  Matcher matcher(graph, error);
  return matcher.run(network);
}

std::vector<const RnLayer *> resnetc::onnximport::weightedLayers(const RnNetwork &network) {
  std::vector<const RnLayer *> layers;
  collect(network.items, layers);
  return layers;
}
