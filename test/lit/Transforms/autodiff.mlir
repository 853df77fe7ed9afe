// RUN: resnetc-opt %s --rn-autodiff | FileCheck %s
// A conv -> bn -> relu -> add (identity shortcut) -> pool -> fc network.

module attributes {rn.model = "unit"} {
  func.func @forward(%x: tensor<2x4x4x4xf32>) -> tensor<2x3xf32> {
    %w = rn.weight "conv.weight" {init = #rn<init he_normal>} : tensor<4x4x3x3xf32>
    %c = rn.conv2d %x, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x4x4xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x4x4xf32>
    %g = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<4xf32>
    %b = rn.weight "bn.bias" {init = #rn<init zeros>} : tensor<4xf32>
    %m = rn.weight "bn.running_mean" {init = #rn<init zeros>, state} : tensor<4xf32>
    %v = rn.weight "bn.running_var" {init = #rn<init ones>, state} : tensor<4xf32>
    %n = rn.batch_norm %c, %g, %b, %m, %v : tensor<2x4x4x4xf32>, tensor<4xf32>
    %r = rn.relu %n : tensor<2x4x4x4xf32>
    %a = rn.add %r, %x : tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %a : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
    %fw = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
    %fb = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<3xf32>
    %y = rn.dense %p, %fw, %fb : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}

// The forward function is left as it is.
// CHECK: func.func @forward
// CHECK: rn.batch_norm %

// CHECK-LABEL: func.func @train_grads
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x4x4xf32>, %[[LABELS:.*]]: tensor<2xi32>)
// CHECK-SAME: -> (tensor<f32>, tensor<4x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3x4xf32>, tensor<3xf32>)
// CHECK-SAME: rn.gradients = ["conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"]
// Training forward: batch norm on the batch's statistics.
// CHECK: %[[W:.*]] = rn.weight "conv.weight"
// CHECK: %[[C:.*]] = rn.conv2d %[[X]], %[[W]]
// The running statistics ride along as values, for rn-append-optimizer.
// CHECK-DAG: %[[RM:.*]] = rn.weight "bn.running_mean"
// CHECK-DAG: %[[RV:.*]] = rn.weight "bn.running_var"
// CHECK: %[[N:.*]], %[[MEAN:.*]], %[[INV:.*]] = rn.batch_norm_train %[[C]], %[[G:[^,]*]], %{{[^ ]*}} running(%[[RM]], %[[RV]]) : tensor<2x4x4x4xf32>, tensor<4xf32>
// CHECK: %[[R:.*]] = rn.relu %[[N]]
// CHECK: %[[Y:.*]] = rn.dense
// CHECK: %[[LOSS:.*]] = rn.softmax_cross_entropy %[[Y]], %[[LABELS]]
// Backward, from the loss to the first conv.
// CHECK: %[[DY:.*]] = rn.softmax_cross_entropy_grad %[[Y]], %[[LABELS]]
// CHECK: %[[DP:.*]] = rn.dense_grad_input %[[DY]], %{{.*}}
// CHECK: %[[DFW:.*]] = rn.dense_grad_weight %[[DY]], %{{.*}}
// CHECK: %[[DFB:.*]] = rn.channel_sum %[[DY]] : tensor<2x3xf32> -> tensor<3xf32>
// CHECK: %[[DA:.*]] = rn.global_avg_pool_grad %[[DP]] : tensor<2x4xf32> -> tensor<2x4x4x4xf32>
// The add passes its gradient to both operands; relu masks it.
// CHECK: %[[DR:.*]] = rn.relu_grad %[[DA]], %[[R]]
// CHECK: %[[DC:.*]], %[[DG:.*]], %[[DB:.*]] = rn.batch_norm_train_grad %[[DR]], %[[C]], %[[G]], %[[MEAN]], %[[INV]]
// CHECK: rn.conv2d_grad_input %[[DC]], %[[W]]
// CHECK: %[[DW:.*]] = rn.conv2d_grad_weight %[[DC]], %[[X]]
// CHECK: return %[[LOSS]], %[[DW]], %[[DG]], %[[DB]], %[[DFW]], %[[DFB]]
