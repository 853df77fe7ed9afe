//===- Evaluator.cpp - Values, constants and arguments of .rn programs ---===//
//
// Evaluates expressions, binds call arguments to parameters, and reports
// errors at the .rn line with the source line and a caret.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace resnetc::frontend;

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
  case Expr::Kind::Real:
    result.kind = Val::Kind::Real;
    result.real = expr.real;
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
    if (inner->kind == Val::Kind::Real) {
      result.kind = Val::Kind::Real;
      result.real = -inner->real;
      return result;
    }
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
    // With a real operand the arithmetic is real (16 * 1.5 is 24.0, which
    // serves as a width); otherwise exact integer arithmetic.
    if (lhs->kind == Val::Kind::Real || rhs->kind == Val::Kind::Real) {
      FailureOr<double> a = asReal(*lhs, "an operand of arithmetic");
      FailureOr<double> b = asReal(*rhs, "an operand of arithmetic");
      if (failed(a) || failed(b))
        return failure();
      if (expr.op == '/' && *b == 0)
        return error(expr.opLoc, "division by zero");
      result.kind = Val::Kind::Real;
      result.real = expr.op == '+'   ? *a + *b
                    : expr.op == '-' ? *a - *b
                    : expr.op == '*' ? *a * *b
                                     : *a / *b;
      if (!std::isfinite(result.real) || std::fabs(result.real) > double(int64_t(1) << 62))
        return error(expr.opLoc, "overflow in arithmetic");
      return result;
    }
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
  if (value.kind == Val::Kind::Real) {
    // A real number that is whole (such as 16 * 1.5) is that integer.
    if (value.real != std::floor(value.real))
      return valueError(value, llvm::Twine("expected a whole number for ") + what + ", got " +
                                   llvm::formatv("{0}", value.real).str());
    return int64_t(value.real);
  }
  if (value.kind == Val::Kind::Dims)
    return valueError(value,
                      llvm::Twine("expected an integer for ") + what + ", found sizes such as 3x3");
  return value.i;
}

FailureOr<double> Importer::asReal(const Val &value, const char *what) {
  if (value.kind == Val::Kind::Real)
    return value.real;
  FailureOr<int64_t> i = asInt(value, what);
  if (failed(i))
    return failure();
  return double(*i);
}

FailureOr<bool> Importer::asBool(const Val &value, const char *what) {
  FailureOr<int64_t> i = asInt(value, what);
  if (failed(i))
    return failure();
  if (*i != 0 && *i != 1)
    return valueError(value, llvm::Twine("expected true or false for ") + what);
  return *i == 1;
}

FailureOr<std::pair<int64_t, int64_t>> Importer::asKernel(const Val &value) {
  std::pair<int64_t, int64_t> size{value.i, value.i};
  if (value.kind == Val::Kind::Dims) {
    if (value.dims.size() != 2)
      return valueError(value, "a kernel is RxS (height x width), such as 3x3 or 1x7");
    size = {value.dims[0], value.dims[1]};
  } else if (failed(asInt(value, "the kernel size"))) {
    return failure();
  }
  for (int64_t side : {size.first, size.second})
    if (side <= 0)
      return valueError(value, "kernel size must be positive, got " + std::to_string(side));
  return size;
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
