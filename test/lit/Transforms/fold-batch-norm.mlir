// RUN: resnetc-opt %s --rn-fold-batch-norm | FileCheck %s

// CHECK-LABEL: func.func @conv_bn
func.func @conv_bn(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // CHECK-DAG: %[[W:.*]] = rn.weight "conv.weight"
  // CHECK-DAG: %[[G:.*]] = rn.weight "bn.weight"
  // CHECK-DAG: %[[B:.*]] = rn.weight "bn.bias"
  // CHECK-DAG: %[[M:.*]] = rn.weight "bn.running_mean"
  // CHECK-DAG: %[[V:.*]] = rn.weight "bn.running_var"
  // CHECK: %[[FW:.*]], %[[FB:.*]] = rn.fold_batch_norm %[[W]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-05 : f64}
  // CHECK: %[[Y:.*]] = rn.conv2d %arg0, %[[FW]], %[[FB]] {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>}
  // CHECK-NOT: rn.batch_norm
  // CHECK: return %[[Y]]
  %w = rn.weight "conv.weight" {init = #rn<init he_normal>} : tensor<8x3x3x3xf32>
  %c = rn.conv2d %x, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %g = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<8xf32>
  %b = rn.weight "bn.bias" {init = #rn<init zeros>} : tensor<8xf32>
  %m = rn.weight "bn.running_mean" {init = #rn<init zeros>, state} : tensor<8xf32>
  %v = rn.weight "bn.running_var" {init = #rn<init ones>, state} : tensor<8xf32>
  %n = rn.batch_norm %c, %g, %b, %m, %v : tensor<1x8x8x8xf32>, tensor<8xf32>
  return %n : tensor<1x8x8x8xf32>
}

// A conv read by something besides the BN keeps its BN: folding would change
// what the other reader sees.
// CHECK-LABEL: func.func @conv_with_two_readers
func.func @conv_with_two_readers(%x: tensor<1x3x8x8xf32>) -> (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) {
  // CHECK-NOT: rn.fold_batch_norm
  // CHECK: rn.batch_norm
  %w = rn.weight "conv.weight" {init = #rn<init he_normal>} : tensor<8x3x3x3xf32>
  %c = rn.conv2d %x, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %g = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<8xf32>
  %n = rn.batch_norm %c, %g, %g, %g, %g : tensor<1x8x8x8xf32>, tensor<8xf32>
  return %n, %c : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>
}

// A BN that follows something other than a conv (pre-activation units) stays.
// CHECK-LABEL: func.func @bn_after_add
func.func @bn_after_add(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // CHECK-NOT: rn.fold_batch_norm
  // CHECK: rn.batch_norm
  %a = rn.add %x, %x : tensor<1x8x8x8xf32>
  %g = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<8xf32>
  %n = rn.batch_norm %a, %g, %g, %g, %g : tensor<1x8x8x8xf32>, tensor<8xf32>
  return %n : tensor<1x8x8x8xf32>
}
