//===- KernelOpInterface.td - An op's kernel steps -------------*- tablegen -*-===//

#ifndef RESNETC_CODEGEN_KERNELOPINTERFACE_TD
#define RESNETC_CODEGEN_KERNELOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def Rn_KernelOpInterface : OpInterface<"KernelOpInterface"> {
  let description = [{
    An op the code generator runs as kernel calls. The op says which kernel
    (a KernelSpec), which buffers it passes in the kernel's order, and what
    it binds its results to; the plan only places the buffers. The rn
    dialect does not depend on code generation: the implementations are
    external models (compiler/lib/CodeGen/Lowering/), attached by
    registerKernelOpInterfaceModels.
  }];
  let cppNamespace = "::resnetc::codegen";
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Adds this op's kernel steps (none for an op another op's
                 kernel computes) to `plan`.}],
      /*retTy=*/"::mlir::LogicalResult",
      /*methodName=*/"planKernels",
      /*args=*/(ins "::resnetc::codegen::KernelPlanBuilder &":$plan)>,
  ];
}

#endif // RESNETC_CODEGEN_KERNELOPINTERFACE_TD
