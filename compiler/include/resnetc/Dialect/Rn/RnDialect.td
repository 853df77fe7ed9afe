//===- RnDialect.td - The rn dialect ----------------------------*- tablegen -*-===//
//
// The rn dialect describes a residual network as a graph of tensor operations
// on NCHW float tensors. Weights are named `rn.weight` values so that the same
// module can be paired with any weights file of the same architecture.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_RNDIALECT_TD
#define RESNETC_DIALECT_RN_RNDIALECT_TD

include "mlir/IR/OpBase.td"

def Rn_Dialect : Dialect {
  let name = "rn";
  let cppNamespace = "::resnetc::rn";
  let summary = "Residual-network operations on NCHW f32 tensors";
  let description = [{
    Operations of the networks in He et al. (2016): convolution, batch
    normalisation, ReLU, residual add, pooling, fully connected layers, the
    shortcut connections (options A, B and C) and the softmax cross-entropy
    loss. Every op verifies its shapes and infers its result type.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
  let useDefaultAttributePrinterParser = 1;
}

class Rn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Rn_Dialect, mnemonic, traits>;

#endif // RESNETC_DIALECT_RN_RNDIALECT_TD
