//===- ModelImporter.cpp - From .rn source to the rn dialect --------------===//
//
// Evaluates a parsed program: constants and block parameters, block and
// stage instantiation, layer naming, and shape checking through the shared
// shape rules, so that every error points at the statement that caused it.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/ADT/StringExtras.h"

using namespace resnetc::frontend;

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
  if (stmt.name == "outputs") {
    // Names of the network's parts, resolved once the body is built.
    std::vector<const Expr *> values{stmt.value.get()};
    for (const auto &more : stmt.moreValues)
      values.push_back(more.get());
    for (const Expr *value : values) {
      if (value->kind != Expr::Kind::Name)
        return error(value->loc, "outputs are names of the network's parts, such as "
                                 "`outputs = stage2, stage3, stage4`");
      for (const auto &[name, at] : outputNames)
        if (name == value->name)
          return error(value->loc, "output '" + name + "' is named twice");
      outputNames.emplace_back(value->name, value->loc);
    }
    return success();
  }
  if (!stmt.moreValues.empty())
    return error(stmt.moreValues.front()->loc,
                 "setting '" + stmt.name + "' takes one value (only `outputs` takes a list)");
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
                               "' (settings are input, classes, shortcut and outputs)" +
                               didYouMean(stmt.name, {"input", "classes", "shortcut", "outputs"}));
  }
  // Settings are visible as constants too: fc(classes).
  return define(scope, stmt.name, *value, stmt.loc);
}

FailureOr<llvm::SmallVector<Value>> Importer::networkResults(const NetworkDef &network) {
  auto last = cast<RankedTensorType>(current.getType());
  if (outputNames.empty()) {
    if (last.getRank() != 2)
      return error(network.loc,
                   "network '" + network.name + "' must end with a 2-D output (pool, then fc)");
    if (classes && last.getDimSize(1) != classes)
      return error(network.loc, "network '" + network.name + "' outputs " +
                                    std::to_string(last.getDimSize(1)) +
                                    " values per image, but classes = " + std::to_string(classes));
    return llvm::SmallVector<Value>{current};
  }
  // A backbone: no classifier, the named parts' values instead.
  if (classes)
    return error(settingsSeen.lookup("classes"),
                 "a network with `outputs` has no classifier: remove `classes`");
  llvm::SmallVector<Value> results;
  for (const auto &[name, at] : outputNames) {
    Value value = partValues.lookup(name);
    if (!value)
      return error(at, "network '" + network.name + "' has no part named '" + name +
                           "' (outputs name its stem, stages, blocks or layers: " +
                           llvm::join(partOrder, ", ") + ")" + didYouMean(name, partOrder));
    if (cast<RankedTensorType>(value.getType()).getRank() != 4)
      return error(at, "output '" + name + "' is not a feature map (N x C x H x W)");
    results.push_back(value);
  }
  // Nothing may follow the last output: point at the first call after it.
  auto lastOutput = llvm::find_if(llvm::reverse(topLevelCalls), [&](const auto &call) {
    return llvm::is_contained(results, call.second);
  });
  if (lastOutput != topLevelCalls.rbegin())
    return error(std::prev(lastOutput)->first,
                 "network '" + network.name +
                     "' computes nothing after its last output: remove this and what follows "
                     "(a head, say), or name the last part in `outputs`");
  return results;
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
    names.last.clear();
    if (failed(call(stmt, scope, names)))
      return failure();
    if (!names.last.empty() && partValues.try_emplace(names.last, current).second)
      partOrder.push_back(names.last);
    topLevelCalls.emplace_back(stmt.loc, current);
  }
  if (!function)
    return error(network.loc, "network '" + network.name + "' has no layers");

  FailureOr<llvm::SmallVector<Value>> results = networkResults(network);
  if (failed(results))
    return failure();
  func::ReturnOp::create(builder, fileLoc(network.loc), *results);
  function.setType(
      builder.getFunctionType(function.getArgumentTypes(), ValueRange(*results).getTypes()));

  module->setAttr(rn::kModelNameAttr, builder.getStringAttr(network.name));
  module->setAttr(rn::kInputShapeAttr, builder.getDenseI64ArrayAttr(inputShape));
  if (outputNames.empty()) {
    module->setAttr(rn::kClassesAttr, builder.getI64IntegerAttr(
                                          cast<RankedTensorType>(current.getType()).getDimSize(1)));
  } else {
    llvm::SmallVector<Attribute> named;
    for (const auto &[name, at] : outputNames)
      named.push_back(builder.getStringAttr(name));
    module->setAttr(rn::kOutputNamesAttr, builder.getArrayAttr(named));
  }

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

OwningOpRef<ModuleOp> resnetc::importModel(MLIRContext &context, llvm::SourceMgr &sourceMgr,
                                           const ImportOptions &options) {
  context.loadDialect<rn::RnDialect, func::FuncDialect>();
  return Importer(context, sourceMgr, options).run();
}
