//===- RnInterfaces.td - Interfaces of the rn dialect's ops --*- tablegen -*-===//

#ifndef RESNETC_DIALECT_RN_RNINTERFACES_TD
#define RESNETC_DIALECT_RN_RNINTERFACES_TD

include "mlir/IR/OpBase.td"

def Rn_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let description = [{
    An op that knows its own gradient. rn-autodiff walks the forward ops in
    reverse and asks each one for the gradients of its operands, given the
    gradient of its (first) result: the op emits the rn ops that compute them
    and hands each one to the accumulator, which sums the contributions of
    every user of a value.
  }];
  let cppNamespace = "::resnetc::rn";
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Emits the gradients of this op's operands at `builder`'s
                 insertion point, given `dy`, the gradient of its result, and
                 passes each to `accumulate(operand, gradient)`.}],
      /*retTy=*/"::mlir::LogicalResult",
      /*methodName=*/"buildGradients",
      /*args=*/(ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$dy,
                    "::resnetc::rn::GradientAccumulator":$accumulate)>,
  ];
}

#endif // RESNETC_DIALECT_RN_RNINTERFACES_TD
