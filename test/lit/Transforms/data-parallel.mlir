// RUN: resnetc-opt %s --rn-autodiff --canonicalize --rn-append-optimizer --rn-data-parallel="bucket-bytes=300" | FileCheck %s
// RUN: resnetc-opt %s --rn-autodiff --canonicalize --rn-append-optimizer --rn-data-parallel | FileCheck %s --check-prefix=ONE
// RUN: not resnetc-opt %s --rn-data-parallel 2>&1 | FileCheck %s --check-prefix=NOSTEP
// RUN: not resnetc-opt %s --rn-autodiff --rn-append-optimizer --rn-data-parallel="bucket-bytes=0" 2>&1 | FileCheck %s --check-prefix=ZERO
// Data-parallel training: the gradients are averaged over the ranks in
// buckets filled in backward order, each right after its last gradient is
// written; the running statistics in a last bucket after their update.


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

// Backward order: the classifier's gradients, then the batch norm's (92 bytes
// together), then the conv's 576 bytes, too many to join them: a bucket of its own.
// CHECK-LABEL: func.func @train_step
// CHECK: %[[DFCW:[^ ]*]] = rn.dense_grad_weight
// CHECK: %[[DFCB:[^ ]*]] = rn.channel_sum
// CHECK: %{{[^,]*}}, %[[DG:[^,]*]], %[[DB:[^ ]*]] = rn.batch_norm_train_grad
// CHECK-NEXT: %[[B0:[^:]*]]:4 = rn.mean_over_ranks %[[DFCW]], %[[DFCB]], %[[DG]], %[[DB]] {bucket = 0 : i64} : tensor<3x4xf32>, tensor<3xf32>, tensor<4xf32>, tensor<4xf32>
// The conv's gradient is written after the first bucket starts: that overlap is the point.
// CHECK-NEXT: %[[DW:[^ ]*]] = rn.conv2d_grad_weight
// CHECK-NEXT: %[[B1:[^ ]*]] = rn.mean_over_ranks %[[DW]] {bucket = 1 : i64} : tensor<4x4x3x3xf32>
// The updates read the averages.
// CHECK: rn.sgd_update %{{[^,]*}}, %{{[^,]*}}, %[[B1]], %
// CHECK: rn.sgd_update %{{[^,]*}}, %{{[^,]*}}, %[[B0]]#2, %
// CHECK: rn.sgd_update %{{[^,]*}}, %{{[^,]*}}, %[[B0]]#3, %
// CHECK: rn.sgd_update %{{[^,]*}}, %{{[^,]*}}, %[[B0]]#0, %
// CHECK: rn.sgd_update %{{[^,]*}}, %{{[^,]*}}, %[[B0]]#1, %
// CHECK: %[[RM:[^,]*]], %[[RV:[^ ]*]] = rn.running_stats_update
// CHECK-NEXT: %[[B2:[^:]*]]:2 = rn.mean_over_ranks %[[RM]], %[[RV]] {bucket = 2 : i64}
// CHECK: return {{.*}}, %[[B2]]#0, %[[B2]]#1 :

// With the default 25 MiB, all gradients share one bucket, started after the last.
// ONE: rn.conv2d_grad_weight
// ONE-NEXT: rn.mean_over_ranks {{.*}} {bucket = 0 : i64} : tensor<3x4xf32>, tensor<3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4x3x3xf32>
// ONE: rn.mean_over_ranks {{.*}} {bucket = 1 : i64}
// ONE-NOT: rn.mean_over_ranks

// NOSTEP: error: rn-data-parallel needs @train_step (run rn-autodiff, then rn-append-optimizer)
// ZERO: error: rn-data-parallel: bucket-bytes must be positive, got 0
