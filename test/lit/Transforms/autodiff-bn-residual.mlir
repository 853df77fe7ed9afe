// RUN: resnetc-opt %s --rn-autodiff | FileCheck %s
// The gradient of a batch norm with a fused residual add and relu (the form
// rn-fuse-training-epilogues makes): the relu's mask, then that masked
// gradient to the residual and through the batch norm.

module attributes {rn.model = "unit"} {
  func.func @forward(%x: tensor<2x4x4x4xf32>) -> tensor<2x3xf32> {
    %g = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<4xf32>
    %b = rn.weight "bn.bias" {init = #rn<init zeros>} : tensor<4xf32>
    %n, %m, %i = rn.batch_norm_train %x, %g, %b add %x {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
    %p = rn.global_avg_pool %n : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
    %fw = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
    %fb = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<3xf32>
    %y = rn.dense %p, %fw, %fb : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_grads
// CHECK: %[[N:.*]], %[[MEAN:.*]], %[[INV:.*]] = rn.batch_norm_train %arg0, %[[G:[^,]*]], %{{[^ ]*}} add %arg0 {relu}
// CHECK: %[[DY:.*]] = rn.global_avg_pool_grad
// CHECK-NEXT: %[[MASKED:.*]] = rn.relu_grad %[[DY]], %[[N]]
// CHECK-NEXT: %[[DX:.*]], %{{.*}}, %{{.*}} = rn.batch_norm_train_grad %[[MASKED]], %arg0, %[[G]], %[[MEAN]], %[[INV]] :
// CHECK-NEXT: rn.add %[[MASKED]], %[[DX]]
