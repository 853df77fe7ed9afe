// RUN: resnetc-opt %s --rn-autodiff | FileCheck %s
// rn.scale's gradient (Gradients.cpp): the input's is the output's scaled
// the same way, the scale's a per-channel dot product with the input.

module attributes {rn.model = "unit"} {
  func.func @forward(%x: tensor<2x4x3x3xf32>) -> tensor<2x3xf32> {
    %s = rn.weight "scale.weight" {init = #rn<init ones>} : tensor<4xf32>
    %y = rn.scale %x, %s : tensor<2x4x3x3xf32>, tensor<4xf32>
    %p = rn.global_avg_pool %y : tensor<2x4x3x3xf32> -> tensor<2x4xf32>
    %fw = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
    %fb = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<3xf32>
    %z = rn.dense %p, %fw, %fb : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %z : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_grads
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x3x3xf32>,
// CHECK-SAME: rn.gradients = ["scale.weight", "fc.weight", "fc.bias"]
// CHECK: %[[S:.*]] = rn.weight "scale.weight"
// CHECK: rn.scale %[[X]], %[[S]] : tensor<2x4x3x3xf32>, tensor<4xf32>
// CHECK: %[[DY:.*]] = rn.global_avg_pool_grad
// CHECK: %[[DX:.*]] = rn.scale %[[DY]], %[[S]] : tensor<2x4x3x3xf32>, tensor<4xf32>
// CHECK: %[[DS:.*]] = rn.channel_dot %[[DY]], %[[X]] : tensor<2x4x3x3xf32> -> tensor<4xf32>
// CHECK: return %{{.*}}, %[[DS]],
