// RUN: resnetc-opt %s -split-input-file -verify-diagnostics
// The verifiers reject malformed ops with a message naming the problem.

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<8x4x3x3xf32>) {
  // expected-error @+2 {{weight expects 4 input channels, the input has 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x6x8x8xf32>, %w: tensor<8x2x3x3xf32>) {
  // expected-error @+2 {{4 groups do not divide the 6 input channels}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {groups = 4 : i64, padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x6x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x8x8xf32>
  return
}

// -----

func.func @conv_group_channels(%x: tensor<1x8x8x8xf32>, %w: tensor<8x4x3x3xf32>) {
  // expected-error @+2 {{weight expects 4 input channels per group (4 groups), the input has 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {groups = 4 : i64, padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
  return
}

// -----

func.func @conv_dilated_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+2 {{padding 5 must be smaller than the kernel size 5 (dilated)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {dilations = array<i64: 2, 2>, padding = array<i64: 5, 5>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x14x14xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x3x7x7xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+2 {{stride 2 does not divide the input height 7}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x7x7xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x4x4xf32>
  return
}

// -----

func.func @conv_wrong_result(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<1x8x8x8xf32>' are incompatible with return type(s) of operation 'tensor<1x8x4x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x4x4xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+2 {{padding 3 must be smaller than the kernel size 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.conv2d %x, %w {padding = array<i64: 3, 3>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x12x12xf32>
  return
}

// -----

func.func @bn_channels(%x: tensor<1x8x4x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{scale and shift has 4 channels, the input has 8}}
  %0 = rn.batch_norm %x, %v, %v, %v, %v : tensor<1x8x4x4xf32>, tensor<4xf32>
  return
}

// -----

func.func @bn_momentum(%x: tensor<1x8x4x4xf32>, %v: tensor<8xf32>) {
  // expected-error @+1 {{momentum must lie in [0, 1]}}
  %0 = rn.batch_norm %x, %v, %v, %v, %v {momentum = 2.0 : f64} : tensor<1x8x4x4xf32>, tensor<8xf32>
  return
}

// -----

func.func @weight_init() {
  // The initialisers and shortcut kinds are enum attributes.
  // expected-error @+2 {{expected ::resnetc::rn::WeightInit to be one of: he_normal, fc_uniform, ones, zeros}}
  // expected-error @+1 {{failed to parse Rn_WeightInitAttr parameter 'value'}}
  %0 = rn.weight "w" {init = #rn<init glorot>} : tensor<4xf32>
  return
}

// -----

func.func @option_a_shrinks(%x: tensor<1x64x8x8xf32>) {
  // expected-error @+2 {{option A shortcut cannot shrink the width from 64 to 32 channels}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.shortcut %x {kind = #rn<shortcut A>, name = "s", out_channels = 32 : i64, stride = 1 : i64} : tensor<1x64x8x8xf32> -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @identity_changes_shape(%x: tensor<1x16x8x8xf32>) {
  // expected-error @+2 {{identity shortcut cannot map 16 channels at stride 1 to 32 channels at stride 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.shortcut %x {kind = #rn<shortcut identity>, name = "s", out_channels = 32 : i64, stride = 2 : i64} : tensor<1x16x8x8xf32> -> tensor<1x32x4x4xf32>
  return
}

// -----

func.func @unknown_shortcut(%x: tensor<1x16x8x8xf32>) {
  // expected-error @+2 {{expected ::resnetc::rn::ShortcutKind to be one of: A, B, C, projection, identity}}
  // expected-error @+1 {{failed to parse Rn_ShortcutKindAttr parameter 'value'}}
  %0 = rn.shortcut %x {kind = #rn<shortcut D>, name = "s", out_channels = 16 : i64, stride = 1 : i64} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return
}

// -----

func.func @dense_features(%x: tensor<2x16xf32>, %w: tensor<10x8xf32>) {
  // expected-error @+2 {{weight expects 8 input features, the input has 16}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.dense %x, %w : (tensor<2x16xf32>, tensor<10x8xf32>) -> tensor<2x10xf32>
  return
}

// -----

func.func @add_types(%a: tensor<1x8x4x4xf32>, %b: tensor<1x8x2x2xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "rn.add"(%a, %b) : (tensor<1x8x4x4xf32>, tensor<1x8x2x2xf32>) -> tensor<1x8x4x4xf32>
  return
}

// -----

func.func @labels(%logits: tensor<2x10xf32>, %labels: tensor<3xi32>) {
  // expected-error @+2 {{expects one label per row of logits, got 3 labels for 2 rows}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.softmax_cross_entropy %logits, %labels : (tensor<2x10xf32>, tensor<3xi32>) -> tensor<f32>
  return
}

// -----

func.func @conv_grad_input_shape(%dy: tensor<1x8x4x4xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{output_grad does not match the forward op's output shape}}
  %0 = rn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return
}

// -----

func.func @conv_grad_input_addend(%dy: tensor<1x8x4x4xf32>, %w: tensor<8x3x3x3xf32>, %a: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{addend has the result's type}}
  %0 = rn.conv2d_grad_input %dy, %w add %a {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<8x3x3x3xf32>, tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func.func @zero_pad_grad_stride(%dy: tensor<1x8x4x4xf32>) {
  // expected-error @+1 {{output_grad does not match the forward op's output shape}}
  %0 = rn.zero_pad_shortcut_grad %dy {stride = 1 : i64} : tensor<1x8x4x4xf32> -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @dense_grad_batch(%dy: tensor<2x3xf32>, %x: tensor<4x5xf32>) {
  // expected-error @+2 {{output_grad and input disagree on the batch}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = rn.dense_grad_weight %dy, %x : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @sgd_on_an_argument(%w: tensor<4xf32>, %g: tensor<4xf32>, %lr: tensor<f32>) {
  %m = rn.optimizer_state "momentum" of "w" : tensor<4xf32>
  // expected-error @+1 {{updates a trainable rn.weight, in place}}
  %0, %1 = rn.sgd_update %w, %m, %g, %lr {momentum = 0.9 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>, tensor<f32>
  return
}

// -----

func.func @sgd_momentum_of_another(%g: tensor<4xf32>, %lr: tensor<f32>) {
  %w = rn.weight "w" {init = #rn<init zeros>} : tensor<4xf32>
  %m = rn.optimizer_state "momentum" of "v" : tensor<4xf32>
  // expected-error @+1 {{needs the momentum rn.optimizer_state of 'w'}}
  %0, %1 = rn.sgd_update %w, %m, %g, %lr {momentum = 0.9 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>, tensor<f32>
  return
}

// -----

func.func @unknown_slot() {
  // expected-error @+1 {{unknown slot 'adam' (expected momentum)}}
  %m = rn.optimizer_state "adam" of "w" : tensor<4xf32>
  return
}

// -----

func.func @running_stats_of_a_trained_weight(%mean: tensor<4xf32>, %inv: tensor<4xf32>) {
  %rm = rn.weight "bn.weight" {init = #rn<init ones>} : tensor<4xf32>
  %rv = rn.weight "bn.running_var" {init = #rn<init ones>, state} : tensor<4xf32>
  // expected-error @+1 {{updates rn.weight state tensors (running statistics), in place}}
  %0, %1 = rn.running_stats_update %rm, %rv, %mean, %inv {count = 8 : i64, epsilon = 1.0e-5 : f64, momentum = 0.1 : f64} : tensor<4xf32>
  return
}

// -----

func.func @scale_size(%x: tensor<1x4x2x2xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{scales 4 channels with a vector of 3}}
  %y = rn.scale %x, %s : tensor<1x4x2x2xf32>, tensor<3xf32>
  return
}
