//===- Importer.h - The .rn evaluator's state (Frontend-private) -*- C++ -*-===//
//
// The importer of ModelImporter.cpp, shared by its three files:
// Evaluator.cpp (values, constants, arguments), ModelImporter.cpp (programs,
// networks, bodies) and LayerEmission.cpp (layers, blocks, stages).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_IMPORTER_H
#define RESNETC_FRONTEND_IMPORTER_H

#include "resnetc/Frontend/ModelImporter.h"

#include "resnetc/Dialect/Rn/LayerBuilder.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Dialect/Rn/ShapeRules.h"
#include "resnetc/dsl/Parser.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include <optional>

namespace resnetc::frontend {

using namespace mlir;
using namespace resnetc::dsl;
using resnetc::rn::LayerBuilder;
using resnetc::rn::ShapeResult;

inline constexpr int kMaxBlockDepth = 64;
inline constexpr const char *kBuiltins[] = {"conv",     "bn",      "relu", "scale",
                                            "maxpool",  "avgpool", "fc",   "dropout",
                                            "residual", "stage",   "stem", "head"};

/// A value of the language: an integer, sizes (3x3), or a bare name (block
/// names, shortcut kinds) that is given meaning by whoever uses it.
struct Val {
  enum class Kind { Int, Real, Dims, Name } kind = Kind::Int;
  int64_t i = 0;
  double real = 0; ///< Kind::Real: a fraction, or arithmetic with one.
  llvm::SmallVector<int64_t, 4> dims;
  std::string name;
  /// The name as written when the value came from a bare name, bound or not:
  /// block names and shortcut kinds are read from here.
  std::string written;
  llvm::SMLoc loc;
  /// Where the value was written, with the calls that led there: a value
  /// passed into a block keeps it, so that an error about the value points
  /// at the user's text, not at the block that used it (valueError).
  std::optional<Location> origin;
  /// For an unknown name: "; did you mean ...?" from the names in scope.
  std::string suggestion;
};

/// Constants visible to a body: its own, then its parents'.
struct Scope {
  const Scope *parent = nullptr;
  llvm::StringMap<Val> values;

  std::vector<std::string> names() const {
    std::vector<std::string> all;
    for (const Scope *s = this; s; s = s->parent)
      for (const auto &entry : s->values)
        all.push_back(entry.getKey().str());
    return all;
  }

  const Val *lookup(llvm::StringRef name) const {
    for (const Scope *s = this; s; s = s->parent)
      if (auto it = s->values.find(name); it != s->values.end())
        return &it->second;
    return nullptr;
  }
};

/// "; did you mean 'stride'?" when one candidate is a likely typo of `name`
/// (at most a third of its letters edited), else "".
inline std::string didYouMean(llvm::StringRef name, llvm::ArrayRef<std::string> candidates) {
  const unsigned limit = std::max<unsigned>(1, unsigned(name.size()) / 3);
  unsigned best = limit + 1;
  llvm::StringRef choice;
  for (llvm::StringRef candidate : candidates) {
    if (candidate == name)
      continue;
    unsigned distance = name.edit_distance(candidate, /*AllowReplacements=*/true, limit + 1);
    // Ties go to the first name in byte order: the same hint on every run.
    if (distance < best || (distance == best && distance <= limit && candidate < choice)) {
      best = distance;
      choice = candidate;
    }
  }
  return choice.empty() ? std::string() : "; did you mean '" + choice.str() + "'?";
}

/// Gives layers stable, unique names within a scope:
///  - layers: `<prefix><kind><n>` (conv1, conv2, bn1, ...), n counting from 1;
///  - groups (stem, head, stage): `<prefix><kind>`, then `<kind>2`, ...;
///  - block calls: `<prefix><block>_<n>`, which no layer or group name can equal.
struct NameScope {
  std::string prefix;
  llvm::StringMap<int> counters;
  /// The last name given in this scope: what a network's `outputs` refer to.
  std::string last;

  std::string next(llvm::StringRef kind) {
    return last = prefix + kind.str() + std::to_string(++counters[kind]);
  }
  std::string nextGroup(llvm::StringRef kind) {
    int n = ++counters[kind];
    return last = prefix + kind.str() + (n == 1 ? "" : std::to_string(n));
  }
  std::string nextBlock(llvm::StringRef block) {
    return last = prefix + block.str() + "_" + std::to_string(++counters[("block:" + block).str()]);
  }
};

struct BoundArgs {
  llvm::StringMap<Val> values;
  std::vector<std::pair<std::string, Val>> extra; ///< Named arguments kept for forwarding.
};

struct Signature {
  std::vector<std::pair<const char *, bool>> params; ///< (name, required)
  bool acceptsExtra = false;
};

class Importer {
public:
  Importer(MLIRContext &context, llvm::SourceMgr &sourceMgr, const ImportOptions &options)
      : context(context), sourceMgr(sourceMgr), options(options), builder(&context),
        layers(builder) {}

  OwningOpRef<ModuleOp> run();

private:
  // Locations and errors.
  Location fileLoc(llvm::SMLoc loc);
  Location loc(llvm::SMLoc at);
  LogicalResult error(llvm::SMLoc at, const llvm::Twine &message);
  std::vector<std::string> blockNames() const {
    std::vector<std::string> names;
    for (const auto &entry : blocks)
      names.push_back(entry.getKey().str());
    return names;
  }
  static std::vector<std::string> parameterNames(const Signature &signature) {
    std::vector<std::string> names;
    for (const auto &param : signature.params)
      names.push_back(param.first);
    return names;
  }
  bool inUserFile(llvm::SMLoc at) const {
    return sourceMgr.FindBufferContainingLoc(at) == sourceMgr.getMainFileID();
  }
  /// An error about a value itself (an unknown name, a negative width): at
  /// the text that wrote the value, with a note where it was used when that
  /// is elsewhere (inside a block of the prelude, say).
  LogicalResult valueError(const Val &value, const llvm::Twine &message);

  // Programs and values.
  LogicalResult collect(const Program &program, bool prelude);
  FailureOr<Val> eval(const Expr &expr, const Scope &scope);
  FailureOr<int64_t> asInt(const Val &value, const char *what);
  FailureOr<bool> asBool(const Val &value, const char *what);
  /// An integer or a real number as a double.
  FailureOr<double> asReal(const Val &value, const char *what);
  FailureOr<int64_t> asSquareKernel(const Val &value);
  /// A squeeze-and-excitation gate on the current feature map.
  void squeezeExcitation(Location at, const std::string &name, int64_t hidden);
  /// A conv's kernel: K (K x K) or R x S.
  FailureOr<std::pair<int64_t, int64_t>> asKernel(const Val &value);
  FailureOr<BoundArgs> bind(const Statement &call, const Signature &signature, const Scope &scope);
  LogicalResult define(Scope &scope, const std::string &name, Val value, llvm::SMLoc at);

  // Networks and bodies.
  LogicalResult buildNetwork(const NetworkDef &network);
  LogicalResult applySetting(const Statement &stmt, Scope &scope);
  /// The results of @forward: the last value, or the named outputs.
  FailureOr<llvm::SmallVector<Value>> networkResults(const NetworkDef &network);
  LogicalResult startFunction(const NetworkDef &network, llvm::SMLoc at);
  LogicalResult body(const std::vector<Statement> &statements, Scope &scope, NameScope &names);
  LogicalResult call(const Statement &stmt, Scope &scope, NameScope &names);
  LogicalResult callBlock(const BlockDef &block, const Statement &site, BoundArgs args,
                          const std::string &prefix);
  LogicalResult callBlockWith(const BlockDef &block, const Statement &site,
                              std::vector<std::pair<std::string, Val>> args,
                              const std::string &prefix);

  // Layers.
  LogicalResult conv(const Statement &stmt, const BoundArgs &args, NameScope &names);
  LogicalResult maxPool(const Statement &stmt, const BoundArgs &args, NameScope &names);
  LogicalResult fullyConnected(const Statement &stmt, const BoundArgs &args, NameScope &names);
  LogicalResult residual(const Statement &stmt, const BoundArgs &args, Scope &scope,
                         NameScope &names);
  LogicalResult stage(const Statement &stmt, const BoundArgs &args, NameScope &names);
  LogicalResult needActivation(llvm::SMLoc at, const char *layer);
  ArrayRef<int64_t> currentShape() { return cast<RankedTensorType>(current.getType()).getShape(); }

  MLIRContext &context;
  llvm::SourceMgr &sourceMgr;
  const ImportOptions &options;
  OpBuilder builder;
  LayerBuilder layers;

  Scope globals;
  llvm::StringMap<const BlockDef *> blocks;
  llvm::StringSet<> userBlocks;
  std::vector<Program> programs;      ///< Keeps the syntax trees alive.
  std::vector<Location> callers;      ///< Locations of the block calls being expanded.
  std::vector<llvm::SMLoc> callSites; ///< The same calls, in the source.

  // The network being built.
  ModuleOp module;
  func::FuncOp function;
  Value current;
  std::string shortcutSetting = "B";
  llvm::SmallVector<int64_t, 4> inputShape;
  int64_t classes = 0;
  /// `outputs = ...`: the named parts a headless network returns, in order.
  std::vector<std::pair<std::string, llvm::SMLoc>> outputNames;
  /// The value each top-level part (stem, stage2, conv1, ...) ends with.
  llvm::StringMap<Value> partValues;
  std::vector<std::string> partOrder;
  /// Each top-level call: where it is, and the value it ends with.
  std::vector<std::pair<llvm::SMLoc, Value>> topLevelCalls;
  int64_t dropoutLayers = 0; ///< Each dropout layer draws its own stream.
  llvm::StringMap<llvm::SMLoc> settingsSeen;
};

} // namespace resnetc::frontend

#endif // RESNETC_FRONTEND_IMPORTER_H
