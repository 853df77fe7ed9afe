// RUN: resnetc-opt %s --rn-expand-shortcuts | FileCheck %s

// Option A: identity where shapes agree, subsample + zero channels where they don't.
// CHECK-LABEL: func.func @option_a
// CHECK-SAME: (%[[X:.*]]: tensor<1x16x8x8xf32>, %[[Y:.*]]: tensor<1x16x8x8xf32>)
func.func @option_a(%x: tensor<1x16x8x8xf32>, %y: tensor<1x16x8x8xf32>) -> (tensor<1x16x8x8xf32>, tensor<1x32x4x4xf32>) {
  // CHECK-NOT: rn.shortcut
  // CHECK: %[[PAD:.*]] = rn.zero_pad_shortcut %[[Y]] {out_channels = 32 : i64, stride = 2 : i64}
  // CHECK: return %[[X]], %[[PAD]]
  %0 = rn.shortcut %x {kind = #rn<shortcut A>, name = "a", out_channels = 16 : i64, stride = 1 : i64} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  %1 = rn.shortcut %y {kind = #rn<shortcut A>, name = "b", out_channels = 32 : i64, stride = 2 : i64} : tensor<1x16x8x8xf32> -> tensor<1x32x4x4xf32>
  return %0, %1 : tensor<1x16x8x8xf32>, tensor<1x32x4x4xf32>
}

// Option B: identity where shapes agree, 1x1 projection + BN where they don't.
// CHECK-LABEL: func.func @option_b
func.func @option_b(%x: tensor<1x16x8x8xf32>) -> (tensor<1x16x8x8xf32>, tensor<1x32x4x4xf32>) {
  // CHECK: %[[W:.*]] = rn.weight "s.conv.weight" {init = #rn<init he_normal>} : tensor<32x16x1x1xf32>
  // CHECK: %[[C:.*]] = rn.conv2d %arg0, %[[W]] {padding = array<i64: 0, 0>, shortcut, strides = array<i64: 2, 2>}
  // CHECK: rn.weight "s.bn.weight" {init = #rn<init ones>} : tensor<32xf32>
  // CHECK: rn.weight "s.bn.bias" {init = #rn<init zeros>} : tensor<32xf32>
  // CHECK: rn.weight "s.bn.running_mean" {init = #rn<init zeros>, state} : tensor<32xf32>
  // CHECK: rn.weight "s.bn.running_var" {init = #rn<init ones>, state} : tensor<32xf32>
  // CHECK: %[[BN:.*]] = rn.batch_norm %[[C]]
  // CHECK: return %arg0, %[[BN]]
  %0 = rn.shortcut %x {kind = #rn<shortcut B>, name = "t", out_channels = 16 : i64, stride = 1 : i64} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  %1 = rn.shortcut %x {kind = #rn<shortcut B>, name = "s", out_channels = 32 : i64, stride = 2 : i64} : tensor<1x16x8x8xf32> -> tensor<1x32x4x4xf32>
  return %0, %1 : tensor<1x16x8x8xf32>, tensor<1x32x4x4xf32>
}

// Option C projects even between equal shapes; projection_bn = false drops the BN.
// CHECK-LABEL: func.func @option_c_without_bn
func.func @option_c_without_bn(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // CHECK: rn.weight "c.conv.weight" {init = #rn<init he_normal>} : tensor<16x16x1x1xf32>
  // CHECK: %[[C:.*]] = rn.conv2d
  // CHECK-NOT: rn.batch_norm
  // CHECK: return %[[C]]
  %0 = rn.shortcut %x {kind = #rn<shortcut C>, name = "c", out_channels = 16 : i64, stride = 1 : i64, projection_bn = false} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}
