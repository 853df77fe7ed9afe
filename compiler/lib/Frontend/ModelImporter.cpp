//===- ModelImporter.cpp - From .rn source to the rn dialect --------------===//
//
// Evaluates a parsed program: constants and block parameters, block and
// stage instantiation, layer naming, and shape checking through the shared
// shape rules, so that every error points at the statement that caused it.
//
//===----------------------------------------------------------------------===//

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

using namespace mlir;
using namespace resnetc;
using namespace resnetc::dsl;
using resnetc::rn::LayerBuilder;
using resnetc::rn::ShapeResult;

namespace {

constexpr int kMaxBlockDepth = 64;
constexpr const char *kBuiltins[] = {"conv", "bn",       "relu",  "scale", "maxpool", "avgpool",
                                     "fc",   "residual", "stage", "stem",  "head"};

/// A value of the language: an integer, sizes (3x3), or a bare name (block
/// names, shortcut kinds) that is given meaning by whoever uses it.
struct Val {
  enum class Kind { Int, Dims, Name } kind = Kind::Int;
  int64_t i = 0;
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
std::string didYouMean(llvm::StringRef name, llvm::ArrayRef<std::string> candidates) {
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

  std::string next(llvm::StringRef kind) {
    return prefix + kind.str() + std::to_string(++counters[kind]);
  }
  std::string nextGroup(llvm::StringRef kind) {
    int n = ++counters[kind];
    return prefix + kind.str() + (n == 1 ? "" : std::to_string(n));
  }
  std::string nextBlock(llvm::StringRef block) {
    return prefix + block.str() + "_" + std::to_string(++counters[("block:" + block).str()]);
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
  FailureOr<int64_t> asSquareKernel(const Val &value);
  FailureOr<BoundArgs> bind(const Statement &call, const Signature &signature, const Scope &scope);
  LogicalResult define(Scope &scope, const std::string &name, Val value, llvm::SMLoc at);

  // Networks and bodies.
  LogicalResult buildNetwork(const NetworkDef &network);
  LogicalResult applySetting(const Statement &stmt, Scope &scope);
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
  llvm::StringMap<llvm::SMLoc> settingsSeen;
};

Location Importer::fileLoc(llvm::SMLoc at) {
  unsigned buffer = sourceMgr.FindBufferContainingLoc(at);
  if (!buffer)
    return UnknownLoc::get(&context);
  auto [line, column] = sourceMgr.getLineAndColumn(at, buffer);
  return FileLineColLoc::get(&context, sourceMgr.getMemoryBuffer(buffer)->getBufferIdentifier(),
                             line, column);
}

Location Importer::loc(llvm::SMLoc at) {
  Location here = fileLoc(at);
  return callers.empty() ? here : CallSiteLoc::get(here, callers.back());
}

LogicalResult Importer::collect(const Program &program, bool prelude) {
  for (const BlockDef &block : program.blocks) {
    if (llvm::is_contained(kBuiltins, block.name))
      return error(block.loc, "'" + block.name + "' is a built-in layer and cannot be redefined");
    if (!prelude && !userBlocks.insert(block.name).second) {
      emitError(loc(block.loc), "redefinition of block '" + block.name + "'")
              .attachNote(loc(blocks[block.name]->loc))
          << "previous definition is here";
      return failure();
    }
    llvm::StringSet<> params;
    for (const Parameter &param : block.params)
      if (param.name == "true" || param.name == "false")
        return error(param.loc, "'" + param.name + "' is reserved and cannot name a parameter");
      else if (!params.insert(param.name).second)
        return error(param.loc,
                     "duplicate parameter '" + param.name + "' of block '" + block.name + "'");
    blocks[block.name] = &block;
  }
  for (const Statement &let : program.lets) {
    FailureOr<Val> value = eval(*let.value, globals);
    if (failed(value) || failed(define(globals, let.name, *value, let.loc)))
      return failure();
  }
  return success();
}

LogicalResult Importer::define(Scope &scope, const std::string &name, Val value, llvm::SMLoc at) {
  if (name == "true" || name == "false")
    return error(at, "'" + name + "' is reserved and cannot be redefined");
  // A constant may name a block or a shortcut kind; any other bare name is a typo.
  if (value.kind == Val::Kind::Name && !blocks.count(value.written) &&
      !llvm::is_contained({"A", "B", "C", "none", "projection", "identity"},
                          llvm::StringRef(value.written)))
    return valueError(value, "unknown name '" + value.name + "'" + value.suggestion);
  if (auto it = scope.values.find(name); it != scope.values.end()) {
    emitError(loc(at), "redefinition of '" + name + "'").attachNote(loc(it->second.loc))
        << "previous definition is here";
    return failure();
  }
  value.loc = at;
  scope.values[name] = std::move(value);
  return success();
}

LogicalResult Importer::error(llvm::SMLoc at, const llvm::Twine &message) {
  // An error inside a block of the prelude is the user's call's error: it is
  // reported at the innermost call in the user's file, the prelude's line a
  // note, so that the primary location is always the user's text.
  if (!inUserFile(at))
    for (size_t i = callSites.size(); i-- > 0;)
      if (inUserFile(callSites[i])) {
        Location site =
            i ? CallSiteLoc::get(fileLoc(callSites[i]), callers[i - 1]) : fileLoc(callSites[i]);
        emitError(site, message).attachNote(fileLoc(at)) << "in the prelude's block, here";
        return failure();
      }
  emitError(loc(at), message);
  return failure();
}

LogicalResult Importer::valueError(const Val &value, const llvm::Twine &message) {
  Location used = loc(value.loc);
  if (!value.origin || *value.origin == used)
    return error(value.loc, message);
  emitError(*value.origin, message).attachNote(used) << "used here";
  return failure();
}

FailureOr<Val> Importer::eval(const Expr &expr, const Scope &scope) {
  Val result;
  result.loc = expr.loc;
  result.origin = loc(expr.loc);
  switch (expr.kind) {
  case Expr::Kind::Integer:
    result.i = expr.value;
    return result;
  case Expr::Kind::Dims:
    result.kind = Val::Kind::Dims;
    result.dims = expr.dims;
    return result;
  case Expr::Kind::Name:
    if (expr.name == "true" || expr.name == "false") {
      result.i = expr.name == "true";
      return result;
    }
    if (const Val *bound = scope.lookup(expr.name)) {
      std::optional<Location> origin = bound->origin ? bound->origin : result.origin;
      result = *bound;
      result.loc = expr.loc;
      result.origin = origin;
      // A parameter holding a block name or shortcut kind passes that on.
      if (bound->kind != Val::Kind::Name)
        result.written = expr.name;
      return result;
    }
    result.written = expr.name;
    result.kind = Val::Kind::Name;
    result.name = expr.name;
    result.suggestion = didYouMean(expr.name, scope.names());
    return result;
  case Expr::Kind::Negate: {
    FailureOr<Val> inner = eval(*expr.lhs, scope);
    if (failed(inner))
      return failure();
    FailureOr<int64_t> value = asInt(*inner, "an operand of '-'");
    if (failed(value))
      return failure();
    result.i = -*value;
    return result;
  }
  case Expr::Kind::Binary: {
    FailureOr<Val> lhs = eval(*expr.lhs, scope);
    if (failed(lhs))
      return failure();
    FailureOr<Val> rhs = eval(*expr.rhs, scope);
    if (failed(rhs))
      return failure();
    FailureOr<int64_t> a = asInt(*lhs, "an operand of arithmetic");
    if (failed(a))
      return failure();
    FailureOr<int64_t> b = asInt(*rhs, "an operand of arithmetic");
    if (failed(b))
      return failure();
    bool overflow = false;
    switch (expr.op) {
    case '+':
      overflow = llvm::AddOverflow(*a, *b, result.i);
      break;
    case '-':
      overflow = llvm::SubOverflow(*a, *b, result.i);
      break;
    case '*':
      overflow = llvm::MulOverflow(*a, *b, result.i);
      break;
    default:
      if (*b == 0)
        return error(expr.opLoc, "division by zero");
      if (*a % *b != 0)
        return error(expr.opLoc,
                     std::to_string(*a) + " / " + std::to_string(*b) + " is not a whole number");
      result.i = *a / *b;
    }
    if (overflow || result.i > (int64_t(1) << 62) || result.i < -(int64_t(1) << 62))
      return error(expr.opLoc, "integer overflow in arithmetic");
    return result;
  }
  }
  return failure();
}

FailureOr<int64_t> Importer::asInt(const Val &value, const char *what) {
  if (value.kind == Val::Kind::Name)
    return valueError(value, "unknown name '" + value.name + "'" + value.suggestion);
  if (value.kind == Val::Kind::Dims)
    return valueError(value,
                      llvm::Twine("expected an integer for ") + what + ", found sizes such as 3x3");
  return value.i;
}

FailureOr<bool> Importer::asBool(const Val &value, const char *what) {
  FailureOr<int64_t> i = asInt(value, what);
  if (failed(i))
    return failure();
  if (*i != 0 && *i != 1)
    return valueError(value, llvm::Twine("expected true or false for ") + what);
  return *i == 1;
}

FailureOr<int64_t> Importer::asSquareKernel(const Val &value) {
  int64_t size = value.i;
  if (value.kind == Val::Kind::Dims) {
    if (value.dims.size() != 2 || value.dims[0] != value.dims[1])
      return valueError(value, "kernels are square: write KxK, such as 3x3");
    size = value.dims[0];
  } else if (failed(asInt(value, "the kernel size"))) {
    return failure();
  }
  if (size <= 0)
    return valueError(value, "kernel size must be positive, got " + std::to_string(size));
  return size;
}

FailureOr<BoundArgs> Importer::bind(const Statement &call, const Signature &signature,
                                    const Scope &scope) {
  BoundArgs bound;
  size_t positional = 0;
  bool sawNamed = false;
  size_t positionalGiven =
      llvm::count_if(call.args, [](const Argument &a) { return a.name.empty(); });
  for (const Argument &arg : call.args) {
    FailureOr<Val> value = eval(*arg.value, scope);
    if (failed(value))
      return failure();
    std::string name = arg.name;
    if (name.empty()) {
      if (sawNamed)
        return error(arg.loc, "positional argument after a named one in '" + call.name + "'");
      if (positional >= signature.params.size())
        return error(arg.loc, "'" + call.name + "' takes " +
                                  (signature.params.empty()
                                       ? std::string("no arguments")
                                       : "at most " + std::to_string(signature.params.size()) +
                                             " positional argument" +
                                             (signature.params.size() == 1 ? "" : "s")) +
                                  ", got " + std::to_string(positionalGiven));
      name = signature.params[positional++].first;
    } else if (sawNamed = true;
               !llvm::any_of(signature.params, [&](auto &p) { return name == p.first; })) {
      // Unknown names are an error, unless the callee forwards them (stage).
      if (!signature.acceptsExtra)
        return error(arg.loc, "'" + call.name + "' has no parameter '" + name + "'" +
                                  didYouMean(name, parameterNames(signature)));
      bound.extra.emplace_back(name, *value);
      continue;
    }
    if (!bound.values.try_emplace(name, *value).second)
      return error(arg.loc, "argument '" + name + "' of '" + call.name + "' is given twice");
  }
  for (auto [name, required] : signature.params)
    if (required && !bound.values.count(name))
      return error(call.loc, "'" + call.name + "' needs a value for '" + name + "'");
  return bound;
}

OwningOpRef<ModuleOp> Importer::run() {
  llvm::SMLoc none;
  auto prelude = llvm::MemoryBuffer::getMemBuffer(preludeSource(), kPreludeBufferName);
  unsigned preludeId = sourceMgr.AddNewSourceBuffer(std::move(prelude), none);
  std::optional<Program> preludeProgram = parseProgram(sourceMgr, preludeId);
  std::optional<Program> userProgram = parseProgram(sourceMgr, sourceMgr.getMainFileID());
  if (!preludeProgram || !userProgram)
    return nullptr;
  programs.reserve(2);
  programs.push_back(std::move(*preludeProgram));
  programs.push_back(std::move(*userProgram));
  if (failed(collect(programs[0], /*prelude=*/true)) ||
      failed(collect(programs[1], /*prelude=*/false)))
    return nullptr;

  const std::vector<NetworkDef> &networks = programs[1].networks;
  const NetworkDef *chosen = nullptr;
  llvm::StringMap<const NetworkDef *> byName;
  for (const NetworkDef &network : networks) {
    if (auto [it, inserted] = byName.try_emplace(network.name, &network); !inserted) {
      emitError(loc(network.loc), "redefinition of network '" + network.name + "'")
              .attachNote(loc(it->second->loc))
          << "previous definition is here";
      return nullptr;
    }
  }
  auto mainLoc = llvm::SMLoc::getFromPointer(
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferStart());
  if (!options.network.empty()) {
    chosen = byName.lookup(options.network);
    if (!chosen) {
      // About the command line, not a line of the file: no source location.
      std::string names;
      for (const NetworkDef &network : networks)
        names += (names.empty() ? "" : ", ") + network.name;
      std::string message =
          (sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferIdentifier() +
           " has no network named '" + options.network + "'" +
           (names.empty() ? "" : "; it defines " + names))
              .str();
      if (options.optionError)
        *options.optionError = message;
      else
        emitError(UnknownLoc::get(&context), message);
      return nullptr;
    }
  } else if (networks.size() == 1) {
    chosen = &networks.front();
  } else if (networks.empty()) {
    (void)error(mainLoc, "the file defines no network (write `network NAME { ... }`)");
    return nullptr;
  } else {
    std::string names;
    for (const NetworkDef &network : networks)
      names += (names.empty() ? "" : ", ") + network.name;
    (void)error(mainLoc,
                "the file defines several networks (" + names + "): choose one with --network");
    return nullptr;
  }

  module = ModuleOp::create(fileLoc(chosen->loc));
  OwningOpRef<ModuleOp> owned(module);
  if (failed(buildNetwork(*chosen)))
    return nullptr;
  return owned;
}

LogicalResult Importer::applySetting(const Statement &stmt, Scope &scope) {
  if (function)
    return error(stmt.loc, "settings come before the first layer of a network");
  if (auto [it, inserted] = settingsSeen.try_emplace(stmt.name, stmt.loc); !inserted)
    return error(stmt.loc, "setting '" + stmt.name + "' is given twice");
  FailureOr<Val> value = eval(*stmt.value, scope);
  if (failed(value))
    return failure();
  if (stmt.name == "input") {
    if (value->kind != Val::Kind::Dims || value->dims.size() != 3)
      return error(value->loc, "input is CxHxW, such as 3x224x224");
    for (int64_t d : value->dims)
      if (d <= 0)
        return error(value->loc, "input sizes must be positive");
    if (!options.inputOverride.empty())
      value->dims.assign(options.inputOverride.begin(), options.inputOverride.end());
    llvm::SmallVector<int64_t, 4> batched{options.batch};
    batched.append(value->dims.begin(), value->dims.end());
    if (std::string e = rn::checkTensorSize(batched, "the input batch"); !e.empty())
      return error(value->loc, e);
    inputShape = value->dims;
  } else if (stmt.name == "classes") {
    FailureOr<int64_t> n = asInt(*value, "classes");
    if (failed(n))
      return failure();
    if (*n <= 0)
      return error(value->loc, "classes must be positive, got " + std::to_string(*n));
    classes = *n;
  } else if (stmt.name == "shortcut") {
    if (!llvm::is_contained({"A", "B", "C", "none"}, llvm::StringRef(value->written)))
      return error(value->loc, "shortcut is A, B, C or none");
    shortcutSetting = value->written;
    return success(); // Read by residuals; not a constant.
  } else {
    return error(stmt.loc, "unknown network setting '" + stmt.name +
                               "' (settings are input, classes and shortcut)" +
                               didYouMean(stmt.name, {"input", "classes", "shortcut"}));
  }
  // Settings are visible as constants too: fc(classes).
  return define(scope, stmt.name, *value, stmt.loc);
}

LogicalResult Importer::startFunction(const NetworkDef &network, llvm::SMLoc at) {
  if (inputShape.empty())
    return error(at, "network '" + network.name + "' needs `input = CxHxW` before its first layer");
  if (options.batch <= 0)
    return error(network.loc, "batch size must be positive");
  builder.setInsertionPointToEnd(module.getBody());
  llvm::SmallVector<int64_t, 4> shape{options.batch};
  shape.append(inputShape.begin(), inputShape.end());
  auto inputType = RankedTensorType::get(shape, builder.getF32Type());
  // The result type is fixed once the body is built.
  function = func::FuncOp::create(builder, fileLoc(network.loc), rn::kForwardFunction,
                                  builder.getFunctionType({inputType}, {}));
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  current = entry->getArgument(0);
  return success();
}

LogicalResult Importer::buildNetwork(const NetworkDef &network) {
  Scope scope{&globals, {}};
  NameScope names;
  for (const Statement &stmt : network.body) {
    if (stmt.kind == Statement::Kind::Setting) {
      if (failed(applySetting(stmt, scope)))
        return failure();
      continue;
    }
    if (stmt.kind == Statement::Kind::Call && !function && failed(startFunction(network, stmt.loc)))
      return failure();
    if (stmt.kind == Statement::Kind::Let) {
      FailureOr<Val> value = eval(*stmt.value, scope);
      if (failed(value) || failed(define(scope, stmt.name, *value, stmt.loc)))
        return failure();
      continue;
    }
    if (failed(call(stmt, scope, names)))
      return failure();
  }
  if (!function)
    return error(network.loc, "network '" + network.name + "' has no layers");

  auto output = cast<RankedTensorType>(current.getType());
  if (output.getRank() != 2)
    return error(network.loc,
                 "network '" + network.name + "' must end with a 2-D output (pool, then fc)");
  if (classes && output.getDimSize(1) != classes)
    return error(network.loc, "network '" + network.name + "' outputs " +
                                  std::to_string(output.getDimSize(1)) +
                                  " values per image, but classes = " + std::to_string(classes));
  func::ReturnOp::create(builder, fileLoc(network.loc), current);
  function.setType(builder.getFunctionType(function.getArgumentTypes(), {output}));

  module->setAttr(rn::kModelNameAttr, builder.getStringAttr(network.name));
  module->setAttr(rn::kInputShapeAttr, builder.getDenseI64ArrayAttr(inputShape));
  module->setAttr(rn::kClassesAttr, builder.getI64IntegerAttr(output.getDimSize(1)));

  // Two layers must never share a weight: the weights file is keyed by name.
  llvm::StringMap<Location> weightNames;
  WalkResult unique = function.walk([&](rn::WeightOp op) {
    if (auto [it, inserted] = weightNames.try_emplace(op.getName(), op.getLoc()); !inserted) {
      op.emitError("two layers are both named '") << op.getName() << "'";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(unique.wasInterrupted());
}

LogicalResult Importer::body(const std::vector<Statement> &statements, Scope &scope,
                             NameScope &names) {
  for (const Statement &stmt : statements) {
    switch (stmt.kind) {
    case Statement::Kind::Setting:
      return error(stmt.loc, "'" + stmt.name +
                                 " = ...' is a network setting; inside a body use `let " +
                                 stmt.name + " = ...`");
    case Statement::Kind::Let: {
      FailureOr<Val> value = eval(*stmt.value, scope);
      if (failed(value) || failed(define(scope, stmt.name, *value, stmt.loc)))
        return failure();
      break;
    }
    case Statement::Kind::Call:
      if (failed(call(stmt, scope, names)))
        return failure();
      break;
    }
  }
  return success();
}

LogicalResult Importer::needActivation(llvm::SMLoc at, const char *layer) {
  if (currentShape().size() != 4)
    return error(at, llvm::Twine("'") + layer +
                         "' needs an NCHW feature map, but the network has already been pooled");
  return success();
}

LogicalResult Importer::call(const Statement &stmt, Scope &scope, NameScope &names) {
  const std::string &name = stmt.name;
  bool takesBody = name == "residual" || name == "stem" || name == "head";
  if (takesBody && !stmt.hasBody)
    return error(stmt.loc, "'" + name + "' needs a body: " + name + " { ... }");
  if (!takesBody && stmt.hasBody)
    return error(stmt.loc, "'" + name + "' does not take a body");

  auto bindOr = [&](const Signature &signature) { return bind(stmt, signature, scope); };
  if (name == "conv") {
    FailureOr<BoundArgs> args = bindOr({{{"kernel", true},
                                         {"width", true},
                                         {"stride", false},
                                         {"padding", false},
                                         {"bias", false}}});
    return failed(args) ? failure() : conv(stmt, *args, names);
  }
  if (name == "maxpool") {
    FailureOr<BoundArgs> args = bindOr({{{"kernel", true}, {"stride", false}, {"padding", false}}});
    return failed(args) ? failure() : maxPool(stmt, *args, names);
  }
  if (name == "fc") {
    FailureOr<BoundArgs> args = bindOr({{{"outputs", true}}});
    return failed(args) ? failure() : fullyConnected(stmt, *args, names);
  }
  if (name == "bn" || name == "relu" || name == "scale" || name == "avgpool") {
    if (failed(bindOr({})))
      return failure();
    Location at = rn::layerLoc(loc(stmt.loc), names.next(name));
    if (name == "relu") {
      current = rn::ReluOp::create(builder, at, current).getResult();
      return success();
    }
    if (failed(needActivation(stmt.loc, name.c_str())))
      return failure();
    if (name == "bn")
      current = layers.batchNorm(loc(stmt.loc), current, cast<NameLoc>(at).getName().getValue());
    else if (name == "scale")
      current = layers.scale(loc(stmt.loc), current, cast<NameLoc>(at).getName().getValue());
    else
      current = rn::GlobalAvgPoolOp::create(builder, at, current).getResult();
    return success();
  }
  if (name == "residual") {
    FailureOr<BoundArgs> args = bindOr({{{"shortcut", false}, {"projection_bn", false}}});
    return failed(args) ? failure() : residual(stmt, *args, scope, names);
  }
  if (name == "stage") {
    FailureOr<BoundArgs> args =
        bindOr({{{"block", true}, {"width", true}, {"blocks", false}, {"stride", false}},
                /*acceptsExtra=*/true});
    return failed(args) ? failure() : stage(stmt, *args, names);
  }
  if (name == "stem" || name == "head") {
    if (failed(bindOr({})))
      return failure();
    Scope inner{&scope, {}};
    NameScope innerNames{names.nextGroup(name) + ".", {}};
    return body(stmt.body, inner, innerNames);
  }
  if (const BlockDef *block = blocks.lookup(name)) {
    Signature signature;
    for (const Parameter &param : block->params)
      signature.params.emplace_back(param.name.c_str(), false);
    FailureOr<BoundArgs> args = bindOr(signature);
    if (failed(args))
      return failure();
    return callBlock(*block, stmt, std::move(*args), names.nextBlock(name) + ".");
  }
  std::vector<std::string> known(std::begin(kBuiltins), std::end(kBuiltins));
  for (const auto &entry : blocks)
    known.push_back(entry.getKey().str());
  return error(stmt.loc, "unknown layer or block '" + name + "'" + didYouMean(name, known));
}

LogicalResult Importer::callBlockWith(const BlockDef &block, const Statement &site,
                                      std::vector<std::pair<std::string, Val>> args,
                                      const std::string &prefix) {
  BoundArgs bound;
  for (auto &[name, value] : args) {
    if (!llvm::any_of(block.params, [&](const Parameter &p) { return p.name == name; }))
      return error(
          value.loc.isValid() ? value.loc : site.loc,
          "block '" + block.name + "' has no parameter '" + name + "'" +
              didYouMean(name, llvm::to_vector(llvm::map_range(
                                   block.params, [](const Parameter &p) { return p.name; }))));
    bound.values[name] = value;
  }
  return callBlock(block, site, std::move(bound), prefix);
}

LogicalResult Importer::callBlock(const BlockDef &block, const Statement &site, BoundArgs args,
                                  const std::string &prefix) {
  if (callers.size() >= kMaxBlockDepth) {
    // Reported without the call stack, which would be as deep as the recursion.
    emitError(fileLoc(site.loc), "blocks are nested more than " + std::to_string(kMaxBlockDepth) +
                                     " deep (is block '" + block.name + "' recursive?)");
    return failure();
  }
  Location siteLoc = loc(site.loc);
  // Parameters: the caller's values, else defaults evaluated in the block's
  // own scope, where earlier parameters are visible.
  Scope scope{&globals, {}};
  for (const Parameter &param : block.params) {
    Val value;
    if (auto it = args.values.find(param.name); it != args.values.end()) {
      value = it->second;
    } else if (param.defaultValue) {
      callers.push_back(siteLoc);
      callSites.push_back(site.loc);
      FailureOr<Val> evaluated = eval(*param.defaultValue, scope);
      callers.pop_back();
      callSites.pop_back();
      if (failed(evaluated))
        return failure();
      value = *evaluated;
    } else {
      return error(site.loc, "block '" + block.name + "' needs a value for '" + param.name + "'");
    }
    llvm::SMLoc valueLoc = value.loc;
    scope.values[param.name] = std::move(value);
    scope.values[param.name].loc = valueLoc;
  }
  NameScope names{prefix, {}};
  callers.push_back(siteLoc);
  callSites.push_back(site.loc);
  LogicalResult result = body(block.body, scope, names);
  callers.pop_back();
  callSites.pop_back();
  return result;
}

LogicalResult Importer::conv(const Statement &stmt, const BoundArgs &args, NameScope &names) {
  if (failed(needActivation(stmt.loc, "conv")))
    return failure();
  FailureOr<int64_t> kernel = asSquareKernel(args.values.lookup("kernel"));
  FailureOr<int64_t> width = asInt(args.values.lookup("width"), "the width");
  if (failed(kernel) || failed(width))
    return failure();
  if (*width <= 0)
    return valueError(args.values.lookup("width"),
                      "width must be positive, got " + std::to_string(*width));
  rn::ConvSpec spec;
  spec.width = *width;
  spec.kernel = *kernel;
  spec.padding = *kernel / 2;
  for (auto [key, field] : {std::pair{"stride", &spec.stride}, {"padding", &spec.padding}}) {
    if (!args.values.count(key))
      continue;
    FailureOr<int64_t> value = asInt(args.values.lookup(key), key);
    if (failed(value))
      return failure();
    *field = *value;
  }
  if (args.values.count("bias")) {
    FailureOr<bool> bias = asBool(args.values.lookup("bias"), "bias");
    if (failed(bias))
      return failure();
    spec.bias = *bias;
  }
  int64_t channels = currentShape()[1];
  ShapeResult shape =
      rn::inferConv2d(currentShape(), {spec.width, channels, spec.kernel, spec.kernel},
                      {spec.stride, spec.stride}, {spec.padding, spec.padding});
  if (!shape.ok())
    return error(stmt.loc, "conv: " + shape.error);
  current = layers.conv(loc(stmt.loc), current, names.next("conv"), spec);
  return success();
}

LogicalResult Importer::maxPool(const Statement &stmt, const BoundArgs &args, NameScope &names) {
  if (failed(needActivation(stmt.loc, "maxpool")))
    return failure();
  FailureOr<int64_t> kernel = asSquareKernel(args.values.lookup("kernel"));
  if (failed(kernel))
    return failure();
  // PyTorch's defaults: windows side by side, no padding.
  int64_t stride = *kernel, padding = 0;
  for (auto [key, field] : {std::pair{"stride", &stride}, {"padding", &padding}}) {
    if (!args.values.count(key))
      continue;
    FailureOr<int64_t> value = asInt(args.values.lookup(key), key);
    if (failed(value))
      return failure();
    *field = *value;
  }
  ShapeResult shape =
      rn::inferMaxPool2d(currentShape(), {*kernel, *kernel}, {stride, stride}, {padding, padding});
  if (!shape.ok())
    return error(stmt.loc, "maxpool: " + shape.error);
  current = rn::MaxPool2DOp::create(builder, rn::layerLoc(loc(stmt.loc), names.next("maxpool")),
                                    current, builder.getDenseI64ArrayAttr({*kernel, *kernel}),
                                    builder.getDenseI64ArrayAttr({stride, stride}),
                                    builder.getDenseI64ArrayAttr({padding, padding}))
                .getResult();
  return success();
}

LogicalResult Importer::fullyConnected(const Statement &stmt, const BoundArgs &args,
                                       NameScope &names) {
  if (currentShape().size() != 2)
    return error(stmt.loc, "'fc' needs a pooled NxC input: add avgpool before it");
  FailureOr<int64_t> outputs = asInt(args.values.lookup("outputs"), "the number of outputs");
  if (failed(outputs))
    return failure();
  if (*outputs <= 0)
    return error(args.values.lookup("outputs").loc,
                 "number of outputs must be positive, got " + std::to_string(*outputs));
  ShapeResult shape = rn::inferDense(currentShape(), {*outputs, currentShape()[1]});
  if (!shape.ok())
    return error(stmt.loc, "fc: " + shape.error);
  current = layers.dense(loc(stmt.loc), current, names.next("fc"), *outputs);
  return success();
}

LogicalResult Importer::residual(const Statement &stmt, const BoundArgs &args, Scope &scope,
                                 NameScope &names) {
  if (failed(needActivation(stmt.loc, "residual")))
    return failure();
  std::string kind = shortcutSetting;
  if (args.values.count("shortcut")) {
    const Val &value = args.values.lookup("shortcut");
    if (!(rn::isShortcutKind(value.written) || value.written == "none"))
      return valueError(value, "shortcut is A, B, C, projection, identity or none");
    kind = value.written;
  }
  bool projectionBn = true;
  if (args.values.count("projection_bn")) {
    FailureOr<bool> flag = asBool(args.values.lookup("projection_bn"), "projection_bn");
    if (failed(flag))
      return failure();
    projectionBn = *flag;
  }

  Value input = current;
  auto inputShape = llvm::to_vector(currentShape());
  Scope inner{&scope, {}};
  if (failed(body(stmt.body, inner, names)))
    return failure();
  if (kind == "none") // A plain network: the branch alone.
    return success();
  auto branchShape = llvm::to_vector(currentShape());
  if (branchShape.size() != 4)
    return error(stmt.loc, "the residual branch must keep an NCHW feature map");
  if (branchShape[2] == 0 || inputShape[2] % branchShape[2] != 0 ||
      inputShape[3] % branchShape[3] != 0 ||
      inputShape[2] / branchShape[2] != inputShape[3] / branchShape[3])
    return error(stmt.loc, "the residual branch maps " + std::to_string(inputShape[2]) + "x" +
                               std::to_string(inputShape[3]) + " to " +
                               std::to_string(branchShape[2]) + "x" +
                               std::to_string(branchShape[3]) + ", which no shortcut can match");
  int64_t stride = inputShape[2] / branchShape[2];
  ShapeResult shape = rn::inferShortcut(inputShape, kind, branchShape[1], stride);
  if (!shape.ok())
    return error(stmt.loc, shape.error);
  std::string shortcutName = names.next("shortcut");
  Location at = loc(stmt.loc);
  Value shortcut =
      rn::ShortcutOp::create(builder, rn::layerLoc(at, shortcutName), input,
                             builder.getStringAttr(kind), builder.getStringAttr(shortcutName),
                             builder.getI64IntegerAttr(branchShape[1]),
                             builder.getI64IntegerAttr(stride), builder.getBoolAttr(projectionBn))
          .getResult();
  current = rn::AddOp::create(builder, rn::layerLoc(at, names.next("add")), current, shortcut)
                .getResult();
  return success();
}

LogicalResult Importer::stage(const Statement &stmt, const BoundArgs &args, NameScope &names) {
  const Val &blockName = args.values.lookup("block");
  const BlockDef *block = blocks.lookup(blockName.written);
  if (!block)
    return error(blockName.loc, blockName.written.empty()
                                    ? "the first argument of 'stage' is the name of a block"
                                    : "unknown block '" + blockName.written + "'" +
                                          didYouMean(blockName.written, blockNames()));
  if (block->params.empty())
    return error(stmt.loc, "block '" + block->name + "' has no width parameter for 'stage'");
  int64_t count = 1;
  if (args.values.count("blocks")) {
    FailureOr<int64_t> n = asInt(args.values.lookup("blocks"), "blocks");
    if (failed(n))
      return failure();
    if (*n <= 0 || *n > 100000)
      return error(args.values.lookup("blocks").loc,
                   "a stage has between 1 and 100000 blocks, got " + std::to_string(*n));
    count = *n;
  }
  // The first block down-samples; the others keep stride 1. A block without
  // a stride parameter can be stacked only without down-sampling.
  bool blockHasStride =
      llvm::any_of(block->params, [](const Parameter &p) { return p.name == "stride"; });
  const std::string &widthName = block->params[0].name;
  std::optional<Val> stride;
  if (args.values.count("stride"))
    stride = args.values.lookup("stride");
  if (stride && !blockHasStride) {
    FailureOr<int64_t> value = asInt(*stride, "the stride");
    if (failed(value))
      return failure();
    if (*value != 1)
      return error(stride->loc,
                   "block '" + block->name +
                       "' has no 'stride' parameter, so this stage cannot down-sample");
    stride.reset();
  }
  for (const auto &[name, value] : args.extra)
    if (name == widthName || name == "stride")
      return error(value.loc, "'" + name + "' is set by stage itself");
  // The width goes to the first parameter: if that is `stride`, the stage's
  // stride would overwrite it and the block would keep its default width.
  if (widthName == "stride")
    return error(stmt.loc, "block '" + block->name +
                               "' takes the stage's width as its first parameter, which is "
                               "'stride': make the width its first parameter");

  std::string prefix = names.next("stage") + ".";
  for (int64_t i = 0; i < count; ++i) {
    std::vector<std::pair<std::string, Val>> blockArgs;
    blockArgs.emplace_back(widthName, args.values.lookup("width"));
    if (blockHasStride) {
      Val thisStride;
      thisStride.i = 1;
      thisStride.loc = stmt.loc;
      if (i == 0 && stride)
        thisStride = *stride;
      blockArgs.emplace_back("stride", thisStride);
    }
    for (const auto &extra : args.extra)
      blockArgs.push_back(extra);
    if (failed(callBlockWith(*block, stmt, std::move(blockArgs), prefix + std::to_string(i) + ".")))
      return failure();
  }
  return success();
}

} // namespace

OwningOpRef<ModuleOp> resnetc::importModel(MLIRContext &context, llvm::SourceMgr &sourceMgr,
                                           const ImportOptions &options) {
  context.loadDialect<rn::RnDialect, func::FuncDialect>();
  return Importer(context, sourceMgr, options).run();
}
