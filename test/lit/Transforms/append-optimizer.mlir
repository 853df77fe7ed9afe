// RUN: resnetc-opt %s --rn-autodiff --canonicalize --rn-append-optimizer="momentum=0.8 weight-decay=5e-4" | FileCheck %s
// RUN: not resnetc-opt %s --rn-append-optimizer 2>&1 | FileCheck %s --check-prefix=NOGRADS
// The optimizer as IR: @train_grads becomes @train_step, with SGD and the
// running statistics reading and yielding explicit state values.

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
    %p = rn.global_avg_pool %r : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
    %fw = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
    %fb = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<3xf32>
    %y = rn.dense %p, %fw, %fb : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}

// CHECK-NOT: func.func @train_grads
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%{{.*}}: tensor<2x4x4x4xf32>, %{{.*}}: tensor<2xi32>, %[[LR:[^:]*]]: tensor<f32>)
// CHECK-SAME: rn.state_updates = ["conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias", "momentum of conv.weight", "momentum of bn.weight", "momentum of bn.bias", "momentum of fc.weight", "momentum of fc.bias", "bn.running_mean", "bn.running_var"]
// The running statistics, which the batch norms carried as values.
// CHECK-DAG: %[[RM:[^ ]*]] = rn.weight "bn.running_mean" {init = #rn<init zeros>, state}
// CHECK-DAG: %[[RV:[^ ]*]] = rn.weight "bn.running_var" {init = #rn<init ones>, state}
// CHECK-DAG: %[[W:[^ ]*]] = rn.weight "conv.weight"
// The batch norm no longer carries them: the update reads them.
// CHECK: %{{[^,]*}}, %[[MEAN:[^,]*]], %[[INV:[^ ]*]] = rn.batch_norm_train %{{[^{]*}} : tensor<2x4x4x4xf32>
// CHECK: %[[DW:[^ ]*]] = rn.conv2d_grad_weight
// One momentum state and one update per trained weight, in gradient order.
// CHECK: %[[M:[^ ]*]] = rn.optimizer_state "momentum" of "conv.weight" : tensor<4x4x3x3xf32>
// CHECK: %[[W2:[^,]*]], %[[M2:[^ ]*]] = rn.sgd_update %[[W]], %[[M]], %[[DW]], %[[LR]] {momentum = 8.000000e-01 : f64, weight_decay = 5.000000e-04 : f64} : tensor<4x4x3x3xf32>, tensor<f32>
// CHECK: rn.optimizer_state "momentum" of "bn.weight"
// CHECK: rn.optimizer_state "momentum" of "fc.bias"
// CHECK: %[[RM2:[^,]*]], %[[RV2:[^ ]*]] = rn.running_stats_update %[[RM]], %[[RV]], %[[MEAN]], %[[INV]] {count = 32 : i64, epsilon = 1.000000e-05 : f64, momentum = 1.000000e-01 : f64} : tensor<4xf32>
// CHECK: return %{{[^,]*}}, %[[W2]], {{.*}}, %[[M2]], {{.*}}, %[[RM2]], %[[RV2]] :

// NOGRADS: error: rn-append-optimizer needs @train_grads (run rn-autodiff)
