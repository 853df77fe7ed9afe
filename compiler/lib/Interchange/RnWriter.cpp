//===- RnWriter.cpp - .rn source for a matched residual network -----------===//
//
// Residual units followed by a relu whose body is one of the prelude's
// blocks become block calls, and runs of them stages; what fits no block is
// written out as `residual { ... }`. Layers before the first unit form the
// stem, the pooling and what follows it the head.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Interchange/ResidualStructure.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <array>

using namespace llvm;
using namespace resnetc::onnximport;

namespace {

enum class Setting { A, B, C };

bool sameShape(const RnUnit &unit) {
  return unit.stride == 1 && unit.inChannels == unit.outChannels;
}

/// Whether the network's `shortcut = ...` gives this unit its shortcut.
bool compatible(const RnUnit &unit, Setting setting) {
  switch (unit.shortcut) {
  case ShortcutKind::Identity:
    return setting != Setting::C;
  case ShortcutKind::ZeroPad:
    return setting == Setting::A;
  case ShortcutKind::Projection:
    return setting == Setting::C || (setting == Setting::B && !sameShape(unit));
  }
  return false;
}

void forEachUnit(const std::vector<RnItem> &items, function_ref<void(const RnUnit &)> fn) {
  for (const RnItem &item : items)
    if (item.unit) {
      fn(*item.unit);
      forEachUnit(item.unit->body, fn);
    }
}

/// The setting that gives the most units their shortcut (B on a tie, the
/// language's default); the others name their kind.
Setting chooseSetting(const RnNetwork &network) {
  std::array<int, 3> fits = {0, 0, 0};
  forEachUnit(network.items, [&](const RnUnit &unit) {
    for (Setting s : {Setting::A, Setting::B, Setting::C})
      fits[int(s)] += compatible(unit, s);
  });
  Setting best = Setting::B;
  for (Setting s : {Setting::A, Setting::C})
    if (fits[int(s)] > fits[int(best)])
      best = s;
  return best;
}

/// A unit (and the relu after it, `span` 2) that is a call of a prelude block.
struct Block {
  /// basic, bottleneck, bottleneck_v15, "bottleneck*" (either: stride 1),
  /// preact_basic or preact_bottleneck.
  std::string kind;
  int64_t width = 0, stride = 1, expansion = 4;
  size_t span = 2;
};

bool isBottleneck(StringRef kind) {
  return kind == "bottleneck" || kind == "bottleneck_v15" || kind == "bottleneck*";
}

/// Whether two blocks can be calls of one stage's block.
bool sameBlock(StringRef a, StringRef b) {
  return a == b || (a == "bottleneck*" && isBottleneck(b)) ||
         (b == "bottleneck*" && isBottleneck(a));
}

bool isConv(const RnItem &item, int64_t kernel) {
  return !item.unit && item.layer.kind == RnLayer::Kind::Conv && item.layer.kernel == kernel &&
         item.layer.padding == kernel / 2;
}
bool isKind(const RnItem &item, RnLayer::Kind kind) {
  return !item.unit && item.layer.kind == kind;
}

/// The pre-activation blocks: no relu after the unit, projections without bn.
std::optional<Block> matchPreactBlock(const RnUnit &unit) {
  const std::vector<RnItem> &b = unit.body;
  using K = RnLayer::Kind;
  if (unit.shortcut == ShortcutKind::Projection && unit.projectionBn)
    return std::nullopt;
  if (b.size() == 6 && isKind(b[0], K::BatchNorm) && isKind(b[1], K::Relu) && isConv(b[2], 3) &&
      isKind(b[3], K::BatchNorm) && isKind(b[4], K::Relu) && isConv(b[5], 3) &&
      b[2].layer.stride == unit.stride && b[5].layer.stride == 1 &&
      b[2].layer.width == b[5].layer.width)
    return Block{"preact_basic", b[2].layer.width, unit.stride, 4, 1};
  if (b.size() == 9 && isKind(b[0], K::BatchNorm) && isKind(b[1], K::Relu) && isConv(b[2], 1) &&
      isKind(b[3], K::BatchNorm) && isKind(b[4], K::Relu) && isConv(b[5], 3) &&
      isKind(b[6], K::BatchNorm) && isKind(b[7], K::Relu) && isConv(b[8], 1) &&
      b[2].layer.stride == unit.stride && b[5].layer.stride == 1 && b[8].layer.stride == 1 &&
      b[2].layer.width == b[5].layer.width && b[8].layer.width % b[2].layer.width == 0)
    return Block{"preact_bottleneck", b[2].layer.width, unit.stride,
                 b[8].layer.width / b[2].layer.width, 1};
  return std::nullopt;
}

std::optional<Block> matchBlock(const RnUnit &unit) {
  const std::vector<RnItem> &b = unit.body;
  using K = RnLayer::Kind;
  if (unit.shortcut == ShortcutKind::Projection && !unit.projectionBn)
    return std::nullopt;
  if (b.size() == 5 && isConv(b[0], 3) && isKind(b[1], K::BatchNorm) && isKind(b[2], K::Relu) &&
      isConv(b[3], 3) && isKind(b[4], K::BatchNorm) && b[3].layer.stride == 1 &&
      b[0].layer.width == b[3].layer.width && b[0].layer.stride == unit.stride)
    return Block{"basic", b[0].layer.width, unit.stride, 4};
  if (b.size() == 8 && isConv(b[0], 1) && isKind(b[1], K::BatchNorm) && isKind(b[2], K::Relu) &&
      isConv(b[3], 3) && isKind(b[4], K::BatchNorm) && isKind(b[5], K::Relu) && isConv(b[6], 1) &&
      isKind(b[7], K::BatchNorm) && b[6].layer.stride == 1 &&
      b[0].layer.width == b[3].layer.width && b[6].layer.width % b[0].layer.width == 0 &&
      b[0].layer.stride * b[3].layer.stride == unit.stride &&
      (b[0].layer.stride == 1 || b[3].layer.stride == 1)) {
    std::string kind = unit.stride == 1         ? "bottleneck*"
                       : b[0].layer.stride != 1 ? "bottleneck"
                                                : "bottleneck_v15";
    return Block{kind, b[0].layer.width, unit.stride, b[6].layer.width / b[0].layer.width};
  }
  return std::nullopt;
}

/// A line of the network body: a layer, a stage, or a residual unit written
/// out.
struct Statement {
  const RnItem *item = nullptr; ///< a layer or a unit
  Block block;                  ///< a stage when item is null
  int64_t blocks = 0;
};

class Writer {
public:
  Writer(const RnNetwork &network, raw_ostream &os)
      : network(network), os(os), setting(chooseSetting(network)) {}

  void write(StringRef name, ArrayRef<std::string> header);

private:
  const RnNetwork &network;
  raw_ostream &os;
  Setting setting;
  const RnLayer *lastFc = nullptr;

  std::vector<Statement> statements();
  void layer(const RnLayer &l, int indent);
  void unit(const RnUnit &u, int indent);
  void items(const std::vector<RnItem> &list, int indent) {
    for (const RnItem &item : list)
      item.unit ? unit(*item.unit, indent) : layer(item.layer, indent);
  }
};

std::vector<Statement> Writer::statements() {
  std::vector<Statement> out;
  const std::vector<RnItem> &items = network.items;
  bool preferV15 = false;
  std::vector<std::optional<Block>> blocks(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].unit || !compatible(*items[i].unit, setting))
      continue;
    if (i + 1 < items.size() && isKind(items[i + 1], RnLayer::Kind::Relu))
      blocks[i] = matchBlock(*items[i].unit);
    if (!blocks[i])
      blocks[i] = matchPreactBlock(*items[i].unit);
    preferV15 |= blocks[i] && blocks[i]->kind == "bottleneck_v15";
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!blocks[i]) {
      out.push_back({&items[i]});
      continue;
    }
    Block block = *blocks[i];
    int64_t count = 1;
    size_t next = i + block.span;
    // Later blocks of a stage have stride 1, the same block, width and expansion.
    while (next < items.size() && blocks[next] && blocks[next]->stride == 1 &&
           blocks[next]->width == block.width && blocks[next]->expansion == block.expansion &&
           sameBlock(blocks[next]->kind, block.kind)) {
      if (block.kind == "bottleneck*")
        block.kind = blocks[next]->kind;
      ++count;
      next += blocks[next]->span;
    }
    if (block.kind == "bottleneck*")
      block.kind = preferV15 ? "bottleneck_v15" : "bottleneck";
    out.push_back({nullptr, block, count});
    i = next - 1;
  }
  return out;
}

void Writer::layer(const RnLayer &l, int indent) {
  os.indent(indent);
  switch (l.kind) {
  case RnLayer::Kind::Conv:
    os << formatv("conv({0}x{0}, {1}", l.kernel, l.width);
    if (l.stride != 1)
      os << ", stride = " << l.stride;
    if (l.padding != l.kernel / 2)
      os << ", padding = " << l.padding;
    os << ")\n";
    return;
  case RnLayer::Kind::BatchNorm:
    os << "bn\n";
    return;
  case RnLayer::Kind::Relu:
    os << "relu\n";
    return;
  case RnLayer::Kind::MaxPool:
    os << formatv("maxpool({0}x{0}", l.kernel);
    if (l.stride != l.kernel)
      os << ", stride = " << l.stride;
    if (l.padding != 0)
      os << ", padding = " << l.padding;
    os << ")\n";
    return;
  case RnLayer::Kind::AvgPool:
    os << "avgpool\n";
    return;
  case RnLayer::Kind::Fc:
    if (&l == lastFc)
      os << "fc(classes)\n";
    else
      os << "fc(" << l.width << ")\n";
    return;
  }
}

void Writer::unit(const RnUnit &u, int indent) {
  std::vector<std::string> args;
  if (!compatible(u, setting))
    args.push_back(std::string("shortcut = ") + (u.shortcut == ShortcutKind::Identity ? "identity"
                                                 : u.shortcut == ShortcutKind::ZeroPad
                                                     ? "A"
                                                     : "projection"));
  if (u.shortcut == ShortcutKind::Projection && !u.projectionBn)
    args.push_back("projection_bn = false");
  os.indent(indent) << "residual";
  if (!args.empty())
    os << "(" << join(args, ", ") << ")";
  os << " {\n";
  items(u.body, indent + 2);
  os.indent(indent) << "}\n";
}

void Writer::write(StringRef name, ArrayRef<std::string> header) {
  for (const std::string &line : header)
    os << "# " << line << "\n";
  for (const RnItem &item : network.items)
    if (!item.unit && item.layer.kind == RnLayer::Kind::Fc)
      lastFc = &item.layer;
  if (lastFc && lastFc->width != network.classes)
    lastFc = nullptr;

  std::vector<Statement> body = statements();
  // The stem: the layers before the first unit or stage. The head: the
  // layers after the last one when they hold the global pooling (so a
  // pre-activation network's final bn and relu are in it), else from the
  // pooling on.
  size_t stemEnd = 0, headBegin = body.size(), runBegin = body.size();
  while (stemEnd < body.size() && body[stemEnd].item && !body[stemEnd].item->unit &&
         body[stemEnd].item->layer.kind != RnLayer::Kind::AvgPool)
    ++stemEnd;
  for (size_t i = body.size(); i-- > stemEnd;) {
    if (!body[i].item || body[i].item->unit)
      break;
    runBegin = i;
    if (body[i].item->layer.kind == RnLayer::Kind::AvgPool)
      headBegin = i;
  }
  bool afterUnits = runBegin > stemEnd && runBegin < body.size();
  if (afterUnits && headBegin < body.size())
    headBegin = runBegin;
  bool anyUnit = false;
  forEachUnit(network.items, [&](const RnUnit &) { anyUnit = true; });

  os << "network " << name << " {\n";
  os << formatv("  input = {0}x{1}x{2}\n", network.input[0], network.input[1], network.input[2]);
  os << "  classes = " << network.classes << "\n";
  if (anyUnit)
    os << "  shortcut = "
       << "ABC"[int(setting)] << "\n";
  os << "\n";
  auto statement = [&](const Statement &s, int indent) {
    if (s.item) {
      s.item->unit ? unit(*s.item->unit, indent) : layer(s.item->layer, indent);
      return;
    }
    os.indent(indent) << formatv("stage({0}, {1}, blocks = {2}", s.block.kind, s.block.width,
                                 s.blocks);
    if (s.block.stride != 1)
      os << ", stride = " << s.block.stride;
    bool expands = isBottleneck(s.block.kind) || s.block.kind == "preact_bottleneck";
    if (expands && s.block.expansion != 4)
      os << ", expansion = " << s.block.expansion;
    os << ")\n";
  };
  if (stemEnd > 0) {
    os << "  stem {\n";
    for (size_t i = 0; i < stemEnd; ++i)
      statement(body[i], 4);
    os << "  }\n";
  }
  for (size_t i = stemEnd; i < headBegin; ++i)
    statement(body[i], 2);
  if (headBegin < body.size()) {
    os << "  head {\n";
    for (size_t i = headBegin; i < body.size(); ++i)
      statement(body[i], 4);
    os << "  }\n";
  }
  os << "}\n";
}

} // namespace

std::string resnetc::onnximport::writeRnSource(const RnNetwork &network, StringRef name,
                                               ArrayRef<std::string> header) {
  std::string text;
  raw_string_ostream os(text);
  Writer(network, os).write(name, header);
  return text;
}
