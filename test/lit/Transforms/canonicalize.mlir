// RUN: resnetc-opt %s --canonicalize | FileCheck %s
// The rn folders: redundant ops disappear, unused weights are dropped.

// CHECK-LABEL: func.func @relu_twice
func.func @relu_twice(%x: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[R:.*]] = rn.relu %arg0
  // CHECK-NEXT: return %[[R]]
  %0 = rn.relu %x : tensor<1x8x4x4xf32>
  %1 = rn.relu %0 : tensor<1x8x4x4xf32>
  return %1 : tensor<1x8x4x4xf32>
}

// CHECK-LABEL: func.func @identity_shortcuts
func.func @identity_shortcuts(%x: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK-NEXT: %[[S:.*]] = rn.shortcut %arg0 {kind = #rn<shortcut C>
  // CHECK-NEXT: %[[A:.*]] = rn.add %arg0, %[[S]]
  // CHECK-NEXT: return %[[A]]
  %0 = rn.shortcut %x {kind = #rn<shortcut B>, name = "b", out_channels = 8 : i64, stride = 1 : i64} : tensor<1x8x4x4xf32> -> tensor<1x8x4x4xf32>
  %1 = rn.zero_pad_shortcut %0 {out_channels = 8 : i64, stride = 1 : i64} : tensor<1x8x4x4xf32> -> tensor<1x8x4x4xf32>
  %2 = rn.shortcut %x {kind = #rn<shortcut C>, name = "c", out_channels = 8 : i64, stride = 1 : i64} : tensor<1x8x4x4xf32> -> tensor<1x8x4x4xf32>
  %3 = rn.add %1, %2 : tensor<1x8x4x4xf32>
  return %3 : tensor<1x8x4x4xf32>
}

// CHECK-LABEL: func.func @unused_weight
func.func @unused_weight() {
  // CHECK-NOT: rn.weight
  %0 = rn.weight "w" {init = #rn<init zeros>} : tensor<4xf32>
  return
}
