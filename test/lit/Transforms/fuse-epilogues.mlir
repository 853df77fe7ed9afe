// RUN: resnetc-opt %s --rn-fuse-epilogues | FileCheck %s

// relu(conv + bias + residual): one op; the conv and the add are gone.
// CHECK-LABEL: func.func @residual_unit
func.func @residual_unit(%x: tensor<1x8x4x4xf32>, %w: tensor<8x8x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[Y:.*]] = rn.fused_conv2d %arg0, %arg1 bias %arg2 residual %arg0 {padding = array<i64: 1, 1>, relu, strides = array<i64: 1, 1>}
  // CHECK-NOT: rn.conv2d
  // CHECK-NOT: rn.add
  // CHECK-NOT: rn.relu
  // CHECK: return %[[Y]]
  %c = rn.conv2d %x, %w, %b {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %a = rn.add %c, %x : tensor<1x8x4x4xf32>
  %r = rn.relu %a : tensor<1x8x4x4xf32>
  return %r : tensor<1x8x4x4xf32>
}

// With a projection shortcut on both sides, the residual branch's conv takes the add.
// CHECK-LABEL: func.func @projection
func.func @projection(%x: tensor<1x8x4x4xf32>, %w: tensor<8x8x1x1xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[S:.*]] = rn.fused_conv2d %arg0, %arg1 {padding = array<i64: 0, 0>, shortcut, strides = array<i64: 1, 1>}
  // CHECK: %[[Y:.*]] = rn.fused_conv2d %arg0, %arg1 residual %[[S]] {padding = array<i64: 0, 0>, relu, strides = array<i64: 1, 1>}
  // CHECK: return %[[Y]]
  %s = rn.conv2d %x, %w {padding = array<i64: 0, 0>, shortcut, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  %c = rn.conv2d %x, %w {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  %a = rn.add %s, %c : tensor<1x8x4x4xf32>
  %r = rn.relu %a : tensor<1x8x4x4xf32>
  return %r : tensor<1x8x4x4xf32>
}

// A conv read twice keeps its own kernel; the relu becomes an element-wise op.
// CHECK-LABEL: func.func @shared_conv
func.func @shared_conv(%x: tensor<1x8x4x4xf32>, %w: tensor<8x8x1x1xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) {
  // CHECK: %[[C:.*]] = rn.fused_conv2d %arg0, %arg1 {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>}
  // CHECK: %[[R:.*]] = rn.fused_eltwise %[[C]] {relu}
  // CHECK: return %[[R]], %[[C]]
  %c = rn.conv2d %x, %w {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  %r = rn.relu %c : tensor<1x8x4x4xf32>
  return %r, %c : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>
}

// Pre-activation: batch norm + relu in one pass, the add without relu into the conv.
// CHECK-LABEL: func.func @preactivation
func.func @preactivation(%x: tensor<1x8x4x4xf32>, %v: tensor<8xf32>, %w: tensor<8x8x3x3xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[N:.*]] = rn.fused_eltwise %arg0 bn(%arg1, %arg1, %arg1, %arg1) {epsilon = 1.000000e-05 : f64, relu}
  // CHECK: %[[Y:.*]] = rn.fused_conv2d %[[N]], %arg2 residual %arg0 {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>}
  // CHECK: return %[[Y]]
  %n = rn.batch_norm %x, %v, %v, %v, %v : tensor<1x8x4x4xf32>, tensor<8xf32>
  %r = rn.relu %n : tensor<1x8x4x4xf32>
  %c = rn.conv2d %r, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x4x4xf32>
  %a = rn.add %c, %x : tensor<1x8x4x4xf32>
  return %a : tensor<1x8x4x4xf32>
}

// An add of two non-conv values, then relu.
// CHECK-LABEL: func.func @plain_add
func.func @plain_add(%x: tensor<1x8x4x4xf32>, %y: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[A:.*]] = rn.fused_eltwise %arg0 add %arg1 {relu}
  // CHECK: return %[[A]]
  %a = rn.add %x, %y : tensor<1x8x4x4xf32>
  %r = rn.relu %a : tensor<1x8x4x4xf32>
  return %r : tensor<1x8x4x4xf32>
}
