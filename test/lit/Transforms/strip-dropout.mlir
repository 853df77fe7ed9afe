// RUN: resnetc-opt %s --pass-pipeline="builtin.module(func.func(rn-strip-dropout))" | FileCheck %s
// RUN: resnetc-opt %s --pass-pipeline="builtin.module(func.func(rn-strip-dropout{functions=other}))" | FileCheck %s --check-prefix=OTHER
// RUN: resnetc-opt %s --rn-autodiff | FileCheck %s --check-prefix=GRADS
// Dropout is the identity at inference; in a training step its gradient is
// the same op (the same mask) on the output's gradient.

module attributes {rn.model = "unit"} {
  func.func @forward(%x: tensor<2x4x4x4xf32>) -> tensor<2x3xf32> {
    %d = rn.dropout %x {rate = 3.000000e-01 : f64, stream = 0 : i64} : tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %d : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
    %w = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
    %b = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<3xf32>
    %y = rn.dense %p, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @forward
// CHECK-NOT: rn.dropout
// CHECK: rn.global_avg_pool %arg0
// OTHER: rn.dropout
// GRADS-LABEL: func.func @train_grads
// GRADS: rn.dropout {{.*}}stream = 0
// GRADS: rn.global_avg_pool_grad
// GRADS: rn.dropout {{.*}}stream = 0
