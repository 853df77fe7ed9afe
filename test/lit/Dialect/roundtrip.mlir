// RUN: resnetc-opt %s | resnetc-opt | FileCheck %s
// Every op prints in a form that parses back to itself.

// CHECK-LABEL: func.func @all_ops
func.func @all_ops(%x: tensor<2x4x8x8xf32>, %labels: tensor<2xi32>) -> tensor<f32> {
  // CHECK: rn.weight "conv.weight" {init = #rn<init he_normal>} : tensor<8x4x3x3xf32>
  %w = rn.weight "conv.weight" {init = #rn<init he_normal>} : tensor<8x4x3x3xf32>
  // CHECK: rn.weight "conv.bias" {init = #rn<init zeros>} : tensor<8xf32>
  %b = rn.weight "conv.bias" {init = #rn<init zeros>} : tensor<8xf32>
  // CHECK: rn.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x8x4x4xf32>
  %c = rn.conv2d %x, %w, %b {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x8x4x4xf32>
  // Groups and dilations are printed where they are not 1.
  // CHECK: rn.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<2x8x8x8xf32>
  %wg = rn.weight "wg" {init = #rn<init he_normal>} : tensor<8x2x3x3xf32>
  %cg = rn.conv2d %x, %wg {dilations = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<2x8x8x8xf32>
  %g = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<8xf32>
  %be = rn.weight "bn.bias" {init = #rn<init zeros>} : tensor<8xf32>
  // CHECK: rn.weight "bn.running_mean" {init = #rn<init zeros>, state} : tensor<8xf32>
  %m = rn.weight "bn.running_mean" {init = #rn<init zeros>, state} : tensor<8xf32>
  %v = rn.weight "bn.running_var" {init = #rn<init ones>, state} : tensor<8xf32>
  // CHECK: rn.batch_norm %{{.*}} : tensor<2x8x4x4xf32>, tensor<8xf32>
  %n = rn.batch_norm %c, %g, %be, %m, %v : tensor<2x8x4x4xf32>, tensor<8xf32>
  // CHECK: rn.batch_norm %{{.*}} {epsilon = 1.000000e-03 : f64, momentum = 0.010000000000000002 : f64}
  %n2 = rn.batch_norm %c, %g, %be, %m, %v {epsilon = 1.0e-3, momentum = 0.010000000000000002} : tensor<2x8x4x4xf32>, tensor<8xf32>
  // CHECK: rn.relu %{{.*}} : tensor<2x8x4x4xf32>
  %r = rn.relu %n : tensor<2x8x4x4xf32>
  // CHECK: rn.add %{{.*}}, %{{.*}} : tensor<2x8x4x4xf32>
  %a = rn.add %r, %n2 : tensor<2x8x4x4xf32>
  // CHECK: rn.max_pool2d %{{.*}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<2x8x4x4xf32> -> tensor<2x8x2x2xf32>
  %p = rn.max_pool2d %a {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<2x8x4x4xf32> -> tensor<2x8x2x2xf32>
  // CHECK: rn.shortcut %{{.*}} {kind = #rn<shortcut B>, name = "s", out_channels = 16 : i64, stride = 2 : i64} : tensor<2x8x2x2xf32> -> tensor<2x16x1x1xf32>
  %s = rn.shortcut %p {kind = #rn<shortcut B>, name = "s", out_channels = 16 : i64, stride = 2 : i64} : tensor<2x8x2x2xf32> -> tensor<2x16x1x1xf32>
  // CHECK: rn.zero_pad_shortcut %{{.*}} {out_channels = 16 : i64, stride = 2 : i64} : tensor<2x8x2x2xf32> -> tensor<2x16x1x1xf32>
  %z = rn.zero_pad_shortcut %p {out_channels = 16 : i64, stride = 2 : i64} : tensor<2x8x2x2xf32> -> tensor<2x16x1x1xf32>
  %sum = rn.add %s, %z : tensor<2x16x1x1xf32>
  // CHECK: rn.global_avg_pool %{{.*}} : tensor<2x16x1x1xf32> -> tensor<2x16xf32>
  %gap = rn.global_avg_pool %sum : tensor<2x16x1x1xf32> -> tensor<2x16xf32>
  %fw = rn.weight "fc.weight" {init = #rn<init fc_uniform>} : tensor<10x16xf32>
  %fb = rn.weight "fc.bias" {init = #rn<init zeros>} : tensor<10xf32>
  // CHECK: rn.dense %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %logits = rn.dense %gap, %fw, %fb : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  // CHECK: rn.fold_batch_norm %{{.*}} bias %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64}
  %fw2, %fb2 = rn.fold_batch_norm %w bias %b, %g, %be, %m, %v {epsilon = 1.0e-5 : f64} : (tensor<8x4x3x3xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8x4x3x3xf32>, tensor<8xf32>)
  // CHECK: rn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<2x10xf32>, tensor<2xi32>) -> tensor<f32>
  %loss = rn.softmax_cross_entropy %logits, %labels : (tensor<2x10xf32>, tensor<2xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// The training ops.
// CHECK-LABEL: func.func @training_ops
func.func @training_ops(%x: tensor<2x4x4x4xf32>, %dy: tensor<2x4x2x2xf32>, %labels: tensor<2xi32>) {
  %w = rn.weight "w" {init = #rn<init he_normal>} : tensor<4x4x3x3xf32>
  %g = rn.weight "g" {init = #rn<init ones>} : tensor<4xf32>
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}} = rn.batch_norm_train %arg0, %{{.*}}, %{{.*}} : tensor<2x4x4x4xf32>, tensor<4xf32>
  %n, %mean, %inv = rn.batch_norm_train %x, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  // The running statistics the optimizer updates (rn-autodiff's form).
  // CHECK: rn.batch_norm_train %arg0, %{{.*}}, %{{.*}} running(%{{.*}}, %{{.*}}) : tensor<2x4x4x4xf32>, tensor<4xf32>
  %ns, %means, %invs = rn.batch_norm_train %x, %g, %g running(%g, %g) : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: rn.batch_norm_train_grad
  %dx0, %dg, %db = rn.batch_norm_train_grad %x, %x, %g, %mean, %inv : tensor<2x4x4x4xf32>, tensor<4xf32>
  // With fused relus: the relu's output masks the gradient.
  // CHECK: %[[NR:.*]], %{{.*}}, %{{.*}} = rn.batch_norm_train %arg0, %{{.*}}, %{{.*}} {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
  %nr, %meanr, %invr = rn.batch_norm_train %x, %g, %g {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: rn.batch_norm_train_grad %arg0, %arg0, %{{.*}}, %{{.*}}, %{{.*}} relu %[[NR]] : tensor<2x4x4x4xf32>, tensor<4xf32>
  %dxr, %dgr, %dbr = rn.batch_norm_train_grad %x, %x, %g, %meanr, %invr relu %nr : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: rn.relu_grad %arg0, %{{.*}} : tensor<2x4x4x4xf32>
  %dr = rn.relu_grad %x, %n : tensor<2x4x4x4xf32>
  // CHECK: rn.conv2d_grad_input %arg1, %{{.*}} {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x4x4xf32>
  %dx = rn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x4x4xf32>
  // With its epilogue: an addend and a relu's mask.
  // CHECK: rn.conv2d_grad_input %arg1, %{{.*}} add %arg0 relu %[[NR]] {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<4x4x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %dxe = rn.conv2d_grad_input %dy, %w add %x relu %nr {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<4x4x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: rn.conv2d_grad_input %arg1, %{{.*}} relu %[[NR]] {
  %dxm = rn.conv2d_grad_input %dy, %w relu %nr {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<4x4x3x3xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: rn.conv2d_grad_weight %arg1, %arg0
  %dw = rn.conv2d_grad_weight %dy, %x {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<2x4x4x4xf32>) -> tensor<4x4x3x3xf32>
  // CHECK: rn.channel_sum %arg1 : tensor<2x4x2x2xf32> -> tensor<4xf32>
  %dbias = rn.channel_sum %dy : tensor<2x4x2x2xf32> -> tensor<4xf32>
  // CHECK: rn.max_pool2d_grad
  %dp = rn.max_pool2d_grad %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x2x2xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %pooled = rn.global_avg_pool %x : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
  // CHECK: rn.global_avg_pool_grad %{{.*}} : tensor<2x4xf32> -> tensor<2x4x4x4xf32>
  %dgap = rn.global_avg_pool_grad %pooled : tensor<2x4xf32> -> tensor<2x4x4x4xf32>
  %fw = rn.weight "fw" {init = #rn<init fc_uniform>} : tensor<3x4xf32>
  %logits = rn.dense %pooled, %fw : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  // CHECK: rn.softmax_cross_entropy_grad %{{.*}}, %arg2 : tensor<2x3xf32>, tensor<2xi32>
  %dl = rn.softmax_cross_entropy_grad %logits, %labels : tensor<2x3xf32>, tensor<2xi32>
  // CHECK: rn.dense_grad_input %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %dpool = rn.dense_grad_input %dl, %fw : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  // CHECK: rn.dense_grad_weight %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %dfw = rn.dense_grad_weight %dl, %pooled : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  // CHECK: rn.zero_pad_shortcut_grad %arg1 {stride = 2 : i64} : tensor<2x4x2x2xf32> -> tensor<2x2x4x4xf32>
  %dz = rn.zero_pad_shortcut_grad %dy {stride = 2 : i64} : tensor<2x4x2x2xf32> -> tensor<2x2x4x4xf32>
  return
}
