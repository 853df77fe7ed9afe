//===- LayerEmission.cpp - Layers, blocks and stages as rn ops -----------===//
//
// Each call of a .rn body becomes rn ops with their weights, named after
// the layer, after its shape has been checked by the shared shape rules.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/Support/FormatVariadic.h"

using namespace resnetc::frontend;

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
                                         {"bias", false},
                                         {"groups", false},
                                         {"dilation", false}}});
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
  if (name == "se") {
    FailureOr<BoundArgs> args = bindOr({{{"reduction", false}}});
    if (failed(args) || failed(needActivation(stmt.loc, "se")))
      return failure();
    int64_t reduction = 16, channels = currentShape()[1];
    if (args->values.count("reduction")) {
      const Val &given = args->values.lookup("reduction");
      FailureOr<int64_t> value = asInt(given, "the reduction");
      if (failed(value))
        return failure();
      if (*value <= 0 || channels % *value != 0)
        return valueError(given, "se: the reduction " + std::to_string(*value) +
                                     " must be positive and divide the " +
                                     std::to_string(channels) + " channels");
      reduction = *value;
    }
    squeezeExcitation(loc(stmt.loc), names.nextGroup(name), channels / reduction);
    return success();
  }
  if (name == "dropout") {
    FailureOr<BoundArgs> args = bindOr({{{"rate", true}}});
    if (failed(args) || failed(needActivation(stmt.loc, "dropout")))
      return failure();
    const Val &given = args->values.lookup("rate");
    FailureOr<double> rate = asReal(given, "the dropout rate");
    if (failed(rate))
      return failure();
    if (!(*rate >= 0 && *rate < 1))
      return valueError(given, "dropout rate must lie in [0, 1), got " +
                                   llvm::formatv("{0}", *rate).str());
    // A rate of 0 keeps everything: no layer (a block's default).
    if (*rate == 0)
      return success();
    Location at = rn::layerLoc(loc(stmt.loc), names.next(name));
    current = rn::DropoutOp::create(builder, at, current, builder.getF64FloatAttr(*rate),
                                    builder.getI64IntegerAttr(dropoutLayers++))
                  .getResult();
    return success();
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

void Importer::squeezeExcitation(Location at, const std::string &name, int64_t hidden) {
  // Squeeze: the global average; excitation: fc, relu, fc, sigmoid; then
  // each channel scaled by its gate (Hu et al., 2018). The two fc layers
  // are marked as a gate's, not counted among the network's weighted layers.
  Value input = current;
  int64_t channels = currentShape()[1];
  Value pooled =
      rn::GlobalAvgPoolOp::create(builder, rn::layerLoc(at, name + ".squeeze"), input).getResult();
  Value gate = pooled;
  for (auto [layer, width] : {std::pair{".fc1", hidden}, {".fc2", channels}}) {
    if (layer[3] == '2')
      gate = rn::ReluOp::create(builder, rn::layerLoc(at, name + ".relu"), gate).getResult();
    gate = layers.dense(at, gate, name + layer, width);
    gate.getDefiningOp()->setAttr(rn::kGateAttr, builder.getUnitAttr());
  }
  gate = rn::SigmoidOp::create(builder, rn::layerLoc(at, name + ".sigmoid"), gate).getResult();
  current = rn::ChannelMulOp::create(builder, rn::layerLoc(at, name), input, gate).getResult();
}

LogicalResult Importer::conv(const Statement &stmt, const BoundArgs &args, NameScope &names) {
  if (failed(needActivation(stmt.loc, "conv")))
    return failure();
  FailureOr<std::pair<int64_t, int64_t>> kernel = asKernel(args.values.lookup("kernel"));
  FailureOr<int64_t> width = asInt(args.values.lookup("width"), "the width");
  if (failed(kernel) || failed(width))
    return failure();
  if (*width <= 0)
    return valueError(args.values.lookup("width"),
                      "width must be positive, got " + std::to_string(*width));
  rn::ConvSpec spec;
  spec.width = *width;
  std::tie(spec.kernelH, spec.kernelW) = *kernel;
  for (auto [key, field] : {std::pair{"stride", &spec.stride},
                            {"dilation", &spec.dilation},
                            {"groups", &spec.groups}}) {
    if (!args.values.count(key))
      continue;
    const Val &given = args.values.lookup(key);
    FailureOr<int64_t> value = asInt(given, key);
    if (failed(value))
      return failure();
    // (The stride's range is the shape rules' to check.)
    if (*value <= 0 && field != &spec.stride)
      return valueError(given,
                        std::string(key) + " must be positive, got " + std::to_string(*value));
    *field = *value;
  }
  // "Same" padding by default: the dilated window centred on each output.
  spec.paddingH = spec.kernelH / 2 * spec.dilation;
  spec.paddingW = spec.kernelW / 2 * spec.dilation;
  if (args.values.count("padding")) {
    FailureOr<int64_t> padding = asInt(args.values.lookup("padding"), "padding");
    if (failed(padding))
      return failure();
    spec.paddingH = spec.paddingW = *padding;
  }
  if (args.values.count("bias")) {
    FailureOr<bool> bias = asBool(args.values.lookup("bias"), "bias");
    if (failed(bias))
      return failure();
    spec.bias = *bias;
  }
  int64_t channels = currentShape()[1];
  if (spec.groups > 1 && channels % spec.groups != 0)
    return valueError(args.values.lookup("groups"),
                      "conv: " + std::to_string(spec.groups) + " groups do not divide the " +
                          std::to_string(channels) + " input channels");
  if (spec.groups > 1 && spec.width % spec.groups != 0)
    return valueError(args.values.lookup("groups"), "conv: " + std::to_string(spec.groups) +
                                                        " groups do not divide the width " +
                                                        std::to_string(spec.width));
  ShapeResult shape = rn::inferConv2d(
      currentShape(), {spec.width, channels / spec.groups, spec.kernelH, spec.kernelW},
      {spec.stride, spec.stride}, {spec.paddingH, spec.paddingW}, {spec.dilation, spec.dilation},
      spec.groups);
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
      rn::ShortcutOp::create(
          builder, rn::layerLoc(at, shortcutName), input,
          rn::ShortcutKindAttr::get(builder.getContext(), *rn::symbolizeShortcutKind(kind)),
          builder.getStringAttr(shortcutName), builder.getI64IntegerAttr(branchShape[1]),
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
