// RUN: not resnetc-opt %s --rn-probe-responses 2>&1 | FileCheck %s
// A network without a 3x3 conv and batch norm has no response to probe.

// CHECK: error: rn-probe-responses: no 3x3 convolution followed by batch norm to probe
module attributes {rn.model = "unit"} {
  func.func @forward(%x: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
    %r = rn.relu %x : tensor<2x4x8x8xf32>
    return %r : tensor<2x4x8x8xf32>
  }
}
