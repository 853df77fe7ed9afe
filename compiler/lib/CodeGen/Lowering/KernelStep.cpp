//===- KernelStep.cpp - One kernel call, gathered by an op ----------------===//

#include "resnetc/CodeGen/KernelOpInterface.h"

#include "resnetc/CodeGen/KernelLayouts.h"

using namespace mlir;
using namespace resnetc::codegen;

#include "resnetc/CodeGen/KernelOpInterface.cpp.inc"

LogicalResult KernelStep::read(Value value) {
  if (!value)
    return success();
  FailureOr<BufferRef> ref = plan.read(op, value);
  if (failed(ref))
    return failure();
  args.push_back(*ref);
  return success();
}

LogicalResult KernelStep::read(std::initializer_list<Value> values) {
  for (Value value : values)
    if (failed(read(value)))
      return failure();
  return success();
}

LogicalResult KernelStep::readPacked(Value weight) {
  FailureOr<BufferRef> ref = plan.packed(op, weight);
  if (failed(ref))
    return failure();
  args.push_back(*ref);
  return success();
}

BufferRef KernelStep::write(Value value, BufferRef layout) {
  args.push_back(plan.write(value, std::move(layout)));
  return args.back();
}

LogicalResult KernelStep::emit(const KernelSpec &spec, StepList list, std::string layer) {
  FailureOr<unsigned> k = plan.kernel(spec, args, op);
  if (failed(k))
    return failure();
  plan.addStep(list, *k, std::move(args), layer.empty() ? layerName(op) : std::move(layer));
  args.clear();
  return success();
}
