//===- Orchestration.cpp - The kernel calls, in MLIR's LLVM dialect -------===//

#include "resnetc/CodeGen/Orchestration.h"
#include "resnetc/CodeGen/ObjectEmitter.h"
#include "resnetc/runtime/ModelApiList.h"
#include "resnetc/runtime/ModelRuntime.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

#include <cstddef>

using namespace mlir;
using namespace resnetc::codegen;

namespace {

/// Fields of one resnetc_rt_buffer: space, rank, offset, extent[4], stride[4], type.
constexpr int64_t kBufferFields = 12;

// The tables below are built field by field in the LLVM dialect; the runtime
// reads them as its C structs (ModelRuntime.h). Every target is LP64, so a
// pointer is 8 bytes there as here: these pin the layouts the code assumes.
static_assert(sizeof(resnetc_rt_buffer) == kBufferFields * sizeof(int64_t),
              "bufferTable's fields and resnetc_rt_buffer disagree");
static_assert(offsetof(resnetc_rt_buffer, type) == 11 * sizeof(int64_t),
              "bufferTable's fields and resnetc_rt_buffer disagree");
static_assert(int64_t(StepKind::StartMeanOverRanks) == RESNETC_RT_START_MEAN_OVER_RANKS &&
                  int64_t(StepKind::FinishMeanOverRanks) == RESNETC_RT_FINISH_MEAN_OVER_RANKS,
              "the averaging steps' numbers differ from the runtime's");
static_assert(sizeof(resnetc_rt_weight) == 7 * sizeof(int64_t) &&
                  offsetof(resnetc_rt_weight, offset) == 6 * sizeof(int64_t),
              "slotTable's entry {ptr, i64, [4 x i64], i64} and resnetc_rt_weight disagree");
static_assert(offsetof(resnetc_rt_model, weights) == 11 * sizeof(int64_t) &&
                  offsetof(resnetc_rt_model, momentum) == 17 * sizeof(int64_t) &&
                  offsetof(resnetc_rt_model, train_backward) == 20 * sizeof(int64_t) &&
                  sizeof(resnetc_rt_model) == 21 * sizeof(int64_t),
              "modelDescriptor's fields and resnetc_rt_model disagree");

class Emitter {
public:
  Emitter(MLIRContext &context, const KernelPlan &plan, llvm::StringRef deviceInterface)
      : context(context), plan(plan), deviceInterface(deviceInterface), builder(&context),
        loc(UnknownLoc::get(&context)) {
    context.loadDialect<LLVM::LLVMDialect>();
    ptr = LLVM::LLVMPointerType::get(&context);
    i32 = builder.getI32Type();
    i64 = builder.getI64Type();
  }

  OwningOpRef<ModuleOp> run();

private:
  std::string symbol(llvm::StringRef suffix) { return plan.model + "_" + suffix.str(); }
  LLVM::LLVMFuncOp declare(llvm::StringRef name, Type result, llvm::ArrayRef<Type> params);
  LLVM::GlobalOp stringGlobal(llvm::StringRef name, llvm::StringRef value);
  LLVM::GlobalOp bufferTable(llvm::StringRef name, const std::vector<Step> &steps);
  LLVM::LLVMFuncOp entryPoint(llvm::StringRef name, const std::vector<Step> &steps);
  LLVM::GlobalOp slotTable(llvm::StringRef name, const std::vector<WeightSlot> &slots);
  void modelDescriptor(LLVM::GlobalOp weights, LLVM::LLVMFuncOp prepare, LLVM::LLVMFuncOp forward,
                       LLVM::LLVMFuncOp train, LLVM::LLVMFuncOp exportWeights,
                       LLVM::GlobalOp momentum, LLVM::LLVMFuncOp importState);
  void publicApi();
  Value constant(Type type, int64_t value) {
    return LLVM::ConstantOp::create(builder, loc, type, builder.getIntegerAttr(type, value));
  }
  Value i64Array(llvm::ArrayRef<int64_t> values);
  Value insert(Value aggregate, Value element, int64_t position) {
    return LLVM::InsertValueOp::create(builder, loc, aggregate, element,
                                       llvm::ArrayRef<int64_t>{position});
  }

  MLIRContext &context;
  const KernelPlan &plan;
  llvm::StringRef deviceInterface;
  OpBuilder builder;
  Location loc;
  ModuleOp module;
  Type ptr, i32, i64;
  LLVM::LLVMFuncOp invoke;
  /// A backbone's training step from the outputs' gradients on (or null).
  LLVM::LLVMFuncOp trainBackward;
  llvm::StringMap<LLVM::LLVMFuncOp> declared;
};

LLVM::LLVMFuncOp Emitter::declare(llvm::StringRef name, Type result, llvm::ArrayRef<Type> params) {
  if (LLVM::LLVMFuncOp existing = declared.lookup(name))
    return existing;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto fn =
      LLVM::LLVMFuncOp::create(builder, loc, name, LLVM::LLVMFunctionType::get(result, params));
  declared[name] = fn;
  return fn;
}

LLVM::GlobalOp Emitter::stringGlobal(llvm::StringRef name, llvm::StringRef value) {
  std::string text = value.str();
  text.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), text.size());
  return LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
                                name, builder.getStringAttr(text));
}

/// All buffers of all steps, one after the other, as resnetc_rt_buffer records.
LLVM::GlobalOp Emitter::bufferTable(llvm::StringRef name, const std::vector<Step> &steps) {
  std::vector<int64_t> fields;
  for (const Step &step : steps)
    for (const BufferRef &buffer : step.args) {
      fields.push_back(int64_t(buffer.space));
      fields.push_back(int64_t(buffer.extents.size()));
      fields.push_back(buffer.offset);
      for (size_t d = 0; d < 4; ++d)
        fields.push_back(d < buffer.extents.size() ? buffer.extents[d] : 0);
      for (size_t d = 0; d < 4; ++d)
        fields.push_back(d < buffer.strides.size() ? buffer.strides[d] : 0);
      fields.push_back(int64_t(buffer.type));
    }
  if (fields.empty())
    fields.push_back(0);
  auto type = LLVM::LLVMArrayType::get(i64, fields.size());
  auto tensorType = RankedTensorType::get({int64_t(fields.size())}, i64);
  return LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
                                name, DenseElementsAttr::get(tensorType, llvm::ArrayRef(fields)));
}

/// int32_t fn(void *context, uint8_t *const *spaces): the steps in order.
LLVM::LLVMFuncOp Emitter::entryPoint(llvm::StringRef name, const std::vector<Step> &steps) {
  LLVM::GlobalOp table = bufferTable((name + "_buffers").str(), steps);
  auto fn = LLVM::LLVMFuncOp::create(
      builder, loc, name, LLVM::LLVMFunctionType::get(i32, {ptr, ptr}), LLVM::Linkage::Internal);
  OpBuilder::InsertionGuard guard(builder);
  Block *entry = fn.addEntryBlock(builder);
  Value context = entry->getArgument(0), spaces = entry->getArgument(1);
  // Every failing call branches here with its status.
  Block *failed = builder.createBlock(&fn.getBody(), fn.getBody().end(), {i32}, {loc});
  LLVM::ReturnOp::create(builder, loc, failed->getArgument(0));

  builder.setInsertionPointToEnd(entry);
  int64_t first = 0;
  for (const Step &step : steps) {
    Value base = LLVM::AddressOfOp::create(builder, loc, table);
    Value buffers =
        LLVM::GEPOp::create(builder, loc, ptr, table.getType(), base,
                            llvm::ArrayRef<LLVM::GEPArg>{0, int32_t(first * kBufferFields)});
    Value count = constant(i64, int64_t(step.args.size()));
    Value status;
    if (step.kind == StepKind::Kernel) {
      const KernelDef &kernel = plan.kernels[step.kernel];
      LLVM::LLVMFuncOp argv = declare(kernel.name + "_argv", i32, {ptr});
      Value function = LLVM::AddressOfOp::create(builder, loc, argv);
      status = LLVM::CallOp::create(builder, loc, invoke,
                                    ValueRange{context, function, count, buffers, spaces})
                   .getResult();
    } else {
      // Averaging over the ranks: the runtime's communicator, if one is set.
      LLVM::LLVMFuncOp collective =
          declare("resnetc_rt_collective", i32, {ptr, i64, i64, i64, ptr, ptr});
      Value operation = constant(i64, int64_t(step.kind));
      status = LLVM::CallOp::create(builder, loc, collective,
                                    ValueRange{context, operation, constant(i64, step.bucket),
                                               count, buffers, spaces})
                   .getResult();
    }
    Value bad =
        LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ne, status, constant(i32, 0));
    Block *next = builder.createBlock(&fn.getBody(), Region::iterator(failed));
    builder.setInsertionPointAfterValue(bad);
    LLVM::CondBrOp::create(builder, loc, bad, failed, ValueRange{status}, next, ValueRange{});
    builder.setInsertionPointToEnd(next);
    first += int64_t(step.args.size());
  }
  LLVM::ReturnOp::create(builder, loc, constant(i32, 0));
  return fn;
}

Value Emitter::i64Array(llvm::ArrayRef<int64_t> values) {
  auto type = LLVM::LLVMArrayType::get(i64, values.size());
  Value array = LLVM::UndefOp::create(builder, loc, type);
  for (size_t i = 0; i < values.size(); ++i)
    array = insert(array, constant(i64, values[i]), int64_t(i));
  return array;
}

/// resnetc_rt_weight[]: name, rank, shape[4], offset.
/// resnetc_rt_weight[]: name, rank, shape[4], offset; for the loaded weights
/// and for the momentum buffers of checkpoints.
LLVM::GlobalOp Emitter::slotTable(llvm::StringRef tableName, const std::vector<WeightSlot> &slots) {
  auto entryType =
      LLVM::LLVMStructType::getLiteral(&context, {ptr, i64, LLVM::LLVMArrayType::get(i64, 4), i64});
  std::vector<LLVM::GlobalOp> names;
  for (size_t i = 0; i < slots.size(); ++i)
    names.push_back(
        stringGlobal(symbol((tableName + "_name" + std::to_string(i)).str()), slots[i].name));
  auto type = LLVM::LLVMArrayType::get(entryType, std::max<size_t>(slots.size(), 1));
  auto table = LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true,
                                      LLVM::Linkage::Private, symbol(tableName), Attribute());
  OpBuilder::InsertionGuard guard(builder);
  builder.createBlock(&table.getInitializerRegion());
  Value array = LLVM::UndefOp::create(builder, loc, type);
  for (size_t i = 0; i < slots.size(); ++i) {
    const WeightSlot &slot = slots[i];
    llvm::SmallVector<int64_t, 4> shape(slot.shape.begin(), slot.shape.end());
    shape.resize(4, 0);
    Value entry = LLVM::UndefOp::create(builder, loc, entryType);
    entry = insert(entry, LLVM::AddressOfOp::create(builder, loc, names[i]), 0);
    entry = insert(entry, constant(i64, int64_t(slot.shape.size())), 1);
    entry = insert(entry, i64Array(shape), 2);
    entry = insert(entry, constant(i64, slot.offset), 3);
    array = insert(array, entry, int64_t(i));
  }
  LLVM::ReturnOp::create(builder, loc, array);
  return table;
}

/// resnetc_rt_model: name, hash, input[4], output[2], arena, weights bytes,
/// weight count, weights table, prepare, forward, then the training entries,
/// the device interface function and a backbone's train_backward (null where
/// absent).
void Emitter::modelDescriptor(LLVM::GlobalOp weights, LLVM::LLVMFuncOp prepare,
                              LLVM::LLVMFuncOp forward, LLVM::LLVMFuncOp train,
                              LLVM::LLVMFuncOp exportWeights, LLVM::GlobalOp momentum,
                              LLVM::LLVMFuncOp importState) {
  LLVM::GlobalOp name = stringGlobal(symbol("name"), plan.model);
  auto type = LLVM::LLVMStructType::getLiteral(
      &context, {ptr, i64, LLVM::LLVMArrayType::get(i64, 4), LLVM::LLVMArrayType::get(i64, 2), i64,
                 i64, i64, ptr, ptr, ptr, ptr, ptr, i64, ptr, ptr, ptr, ptr});
  auto global = LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true,
                                       LLVM::Linkage::Internal, symbol("model"), Attribute());
  OpBuilder::InsertionGuard guard(builder);
  builder.createBlock(&global.getInitializerRegion());
  Value model = LLVM::UndefOp::create(builder, loc, type);
  auto set = [&](Value value, int64_t field) { model = insert(model, value, field); };
  set(LLVM::AddressOfOp::create(builder, loc, name), 0);
  set(constant(i64, int64_t(plan.architectureHash)), 1);
  set(i64Array(plan.inputShape), 2);
  set(i64Array(plan.outputShape), 3);
  set(constant(i64, plan.arenaBytes), 4);
  set(constant(i64, plan.weightsBytes), 5);
  set(constant(i64, int64_t(plan.weights.size())), 6);
  set(LLVM::AddressOfOp::create(builder, loc, weights), 7);
  set(LLVM::AddressOfOp::create(builder, loc, prepare), 8);
  set(LLVM::AddressOfOp::create(builder, loc, forward), 9);
  auto optional = [&](LLVM::LLVMFuncOp fn) -> Value {
    return fn ? Value(LLVM::AddressOfOp::create(builder, loc, fn))
              : Value(LLVM::ZeroOp::create(builder, loc, ptr));
  };
  set(optional(train), 10);
  set(optional(exportWeights), 11);
  set(constant(i64, int64_t(plan.momentum.size())), 12);
  set(LLVM::AddressOfOp::create(builder, loc, momentum), 13);
  set(optional(importState), 14);
  set(optional(deviceInterface.empty() ? LLVM::LLVMFuncOp() : declare(deviceInterface, ptr, {})),
      15);
  set(optional(trainBackward), 16);
  LLVM::ReturnOp::create(builder, loc, model);
}

/// <model>_create() passes the descriptor; the other calls forward their arguments.
void Emitter::publicApi() {
  struct Api {
    const char *name;
    const char *signature; ///< ModelApiList.h's letters: result, then parameters.
    bool training;
  };
  static const Api apis[] = {
#define ENTRY(A, B, name, Field, Result, Params, Signature, Training, Doc)                         \
  {#name, Signature, Training},
      RESNETC_MODEL_API_LIST(ENTRY, _, _)
#undef ENTRY
  };
  auto typeOf = [&](char letter) -> Type {
    switch (letter) {
    case 'v':
      return LLVM::LLVMVoidType::get(&context);
    case 'i':
      return i32;
    case 'l':
      return i64;
    case 'f':
      return Float32Type::get(&context);
    default:
      assert(letter == 'p' && "ModelApiList.h: unknown signature letter");
      return ptr;
    }
  };
  for (const Api &api : apis) {
    if (api.training && plan.train.empty())
      continue; // inference libraries do not train
    llvm::StringRef signature(api.signature);
    Type result = typeOf(signature.front());
    llvm::SmallVector<Type> params =
        llvm::to_vector(llvm::map_range(signature.drop_front(), typeOf));
    std::string runtime = (llvm::Twine("resnetc_rt_") + api.name).str();
    LLVM::LLVMFuncOp target = declare(runtime, result, params);
    auto fn = LLVM::LLVMFuncOp::create(builder, loc, symbol(api.name),
                                       LLVM::LLVMFunctionType::get(result, params));
    OpBuilder::InsertionGuard guard(builder);
    Block *entry = fn.addEntryBlock(builder);
    builder.setInsertionPointToStart(entry);
    auto call = LLVM::CallOp::create(builder, loc, target, entry->getArguments());
    if (isa<LLVM::LLVMVoidType>(result))
      LLVM::ReturnOp::create(builder, loc, ValueRange{});
    else
      LLVM::ReturnOp::create(builder, loc, call.getResult());
  }
  LLVM::LLVMFuncOp create = declare("resnetc_rt_create", ptr, {ptr});
  auto fn = LLVM::LLVMFuncOp::create(builder, loc, symbol("create"),
                                     LLVM::LLVMFunctionType::get(ptr, {}));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(fn.addEntryBlock(builder));
  Value model = LLVM::AddressOfOp::create(builder, loc, ptr, symbol("model"));
  LLVM::ReturnOp::create(builder, loc,
                         LLVM::CallOp::create(builder, loc, create, ValueRange{model}).getResult());
}

OwningOpRef<ModuleOp> Emitter::run() {
  OwningOpRef<ModuleOp> owned = ModuleOp::create(loc, plan.model);
  module = *owned;
  builder.setInsertionPointToEnd(module.getBody());
  invoke = declare("resnetc_rt_invoke", i32, {ptr, ptr, i64, ptr, ptr});
  LLVM::GlobalOp weights = slotTable("weights", plan.weights);
  LLVM::GlobalOp momentum = slotTable("momentum", plan.momentum);
  LLVM::LLVMFuncOp prepare = entryPoint(symbol("prepare"), plan.prepare);
  LLVM::LLVMFuncOp forward = entryPoint(symbol("forward"), plan.forward);
  LLVM::LLVMFuncOp train, exportWeights, importState;
  if (!plan.train.empty()) {
    train = entryPoint(symbol("train"), plan.train);
    if (!plan.outputs.empty())
      trainBackward = entryPoint(symbol("train_from_gradients"), plan.trainBackward);
    exportWeights = entryPoint(symbol("export_state"), plan.exportWeights);
    importState = entryPoint(symbol("import_state"), plan.importState);
  }
  modelDescriptor(weights, prepare, forward, train, exportWeights, momentum, importState);
  publicApi();
  return owned;
}

} // namespace

OwningOpRef<ModuleOp> resnetc::codegen::buildOrchestration(MLIRContext &context,
                                                           const KernelPlan &plan,
                                                           llvm::StringRef deviceInterface) {
  return Emitter(context, plan, deviceInterface).run();
}
