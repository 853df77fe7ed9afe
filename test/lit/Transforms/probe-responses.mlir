// RUN: resnetc-opt %s --rn-probe-responses | FileCheck %s
// RUN: resnetc-opt %s --rn-probe-responses --rn-fold-batch-norm | FileCheck %s --check-prefix=FOLDED
// @forward returns each 3x3 conv's batch norm output (Fig. 7's responses),
// named after the batch norm, in order; the 1x1 conv's BN is not a response,
// and the head goes.

// CHECK: module attributes {rn.model = "unit", rn.outputs = ["block.bn1", "block.bn2"]}
// CHECK: func.func @forward(%arg0: tensor<2x4x8x8xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>)
// CHECK: %[[R1:.*]] = rn.batch_norm
// CHECK: rn.relu %[[R1]]
// CHECK: %[[R2:.*]] = rn.batch_norm
// CHECK-NOT: rn.dense
// CHECK-NOT: "fc.weight"
// CHECK: return %[[R1]], %[[R2]]
// The first response is still read by the relu: folding keeps it, fused or not.
// FOLDED: %[[F1:.*]] = rn.conv2d %arg0
// FOLDED: rn.relu %[[F1]]
// FOLDED: return %[[F1]]
module attributes {rn.model = "unit", rn.classes = 3 : i64} {
  func.func @forward(%x: tensor<2x4x8x8xf32>) -> tensor<2x3xf32> {
    %w1 = rn.weight "block.conv1.weight" {init = #rn<init he_normal>} : tensor<4x4x3x3xf32>
    %c1 = rn.conv2d %x, %w1 {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
    %g1 = rn.weight "block.bn1.weight" {init = #rn<init ones>} : tensor<4xf32>
    %b1 = rn.weight "block.bn1.bias" {init = #rn<init zeros>} : tensor<4xf32>
    %n1 = rn.batch_norm %c1, %g1, %b1, %g1, %g1 : tensor<2x4x8x8xf32>, tensor<4xf32>
    %r1 = rn.relu %n1 : tensor<2x4x8x8xf32>
    %w2 = rn.weight "block.conv2.weight" {init = #rn<init he_normal>} : tensor<4x4x3x3xf32>
    %c2 = rn.conv2d %r1, %w2 {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
    %g2 = rn.weight "block.bn2.weight" {init = #rn<init ones>} : tensor<4xf32>
    %n2 = rn.batch_norm %c2, %g2, %b1, %g1, %g1 : tensor<2x4x8x8xf32>, tensor<4xf32>
    %w3 = rn.weight "block.shortcut.weight" {init = #rn<init he_normal>} : tensor<4x4x1x1xf32>
    %c3 = rn.conv2d %x, %w3 {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>, shortcut} : (tensor<2x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<2x4x8x8xf32>
    %g3 = rn.weight "block.shortcut_bn.weight" {init = #rn<init ones>} : tensor<4xf32>
    %n3 = rn.batch_norm %c3, %g3, %b1, %g1, %g1 : tensor<2x4x8x8xf32>, tensor<4xf32>
    %s = rn.add %n2, %n3 : tensor<2x4x8x8xf32>
    %r2 = rn.relu %s : tensor<2x4x8x8xf32>
    %p = rn.global_avg_pool %r2 : tensor<2x4x8x8xf32> -> tensor<2x4xf32>
    %w = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
    %b = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<3xf32>
    %y = rn.dense %p, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}
