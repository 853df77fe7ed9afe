// RUN: resnetc-opt %s --rn-fuse-training-epilogues | FileCheck %s

// A basic block's training forward and its relus' gradients: the relu after
// the batch norm joins it, the add and the relu after it join the second
// batch norm, and the gradient of the first relu joins the batch norm's
// gradient.
// CHECK-LABEL: func.func @basic_block
func.func @basic_block(%x: tensor<2x4x4x4xf32>, %c1: tensor<2x4x4x4xf32>, %c2: tensor<2x4x4x4xf32>,
                       %g: tensor<4xf32>, %dy: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>) {
  // CHECK: %[[N1:.*]], %[[M1:.*]], %[[I1:.*]] = rn.batch_norm_train %arg1, %arg3, %arg3 {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
  %n1, %m1, %i1 = rn.batch_norm_train %c1, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  %r1 = rn.relu %n1 : tensor<2x4x4x4xf32>
  // CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = rn.batch_norm_train %arg2, %arg3, %arg3 add %arg0 {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK-NOT: rn.fused_eltwise
  %n2, %m2, %i2 = rn.batch_norm_train %c2, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  %a = rn.add %n2, %x : tensor<2x4x4x4xf32>
  %y = rn.relu %a : tensor<2x4x4x4xf32>
  // The relu after the add keeps its gradient: the masked gradient goes to
  // both of the add's operands.
  // CHECK: %[[DA:.*]] = rn.relu_grad %arg4, %[[Y]]
  %da = rn.relu_grad %dy, %y : tensor<2x4x4x4xf32>
  // CHECK: %[[DC1:.*]], %[[DG1:.*]], %{{.*}} = rn.batch_norm_train_grad %[[DA]], %arg1, %arg3, %[[M1]], %[[I1]] relu %[[N1]] : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK-NOT: rn.relu
  %dr1 = rn.relu_grad %da, %r1 : tensor<2x4x4x4xf32>
  %dc1, %dg1, %db1 = rn.batch_norm_train_grad %dr1, %c1, %g, %m1, %i1 : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: return %[[Y]], %[[DC1]], %[[DG1]]
  return %y, %dc1, %dg1, %da, %db1 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>
}

// Where the batch norm's output has another reader, or the masked gradient
// another reader, nothing is fused.
// CHECK-LABEL: func.func @shared
func.func @shared(%c: tensor<2x4x4x4xf32>, %g: tensor<4xf32>, %dy: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  // CHECK: rn.batch_norm_train %arg0, %arg1, %arg1 : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: rn.relu %
  // CHECK: rn.relu_grad
  // CHECK: rn.batch_norm_train_grad %{{[^,]*}}, %arg0, %arg1, %{{[^,]*}}, %{{[^ ]*}} :
  %n, %m, %i = rn.batch_norm_train %c, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  %r = rn.relu %n : tensor<2x4x4x4xf32>
  %dr = rn.relu_grad %dy, %r : tensor<2x4x4x4xf32>
  %dc, %dg, %db = rn.batch_norm_train_grad %dr, %c, %g, %m, %i : tensor<2x4x4x4xf32>, tensor<4xf32>
  return %n, %r, %dr, %dc : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// A block input's two gradients (its first conv's and its shortcut's) meet in
// an add, masked by the relu that produced the input: both join the
// transposed conv, the add in either operand order.
// CHECK-LABEL: func.func @block_input
func.func @block_input(%dy: tensor<2x8x4x4xf32>, %w: tensor<8x4x3x3xf32>,
                       %g: tensor<2x4x4x4xf32>, %y: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  // CHECK: %[[A:.*]] = rn.conv2d_grad_input %arg0, %arg1 add %arg2 relu %arg3 {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %gi = rn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x4x4xf32>
  %s = rn.add %gi, %g : tensor<2x4x4x4xf32>
  %d = rn.relu_grad %s, %y : tensor<2x4x4x4xf32>
  // CHECK: %[[B:.*]] = rn.conv2d_grad_input %arg0, %arg1 add %arg2 relu %arg3 {
  %gi2 = rn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x4x4xf32>
  %s2 = rn.add %g, %gi2 : tensor<2x4x4x4xf32>
  %d2 = rn.relu_grad %s2, %y : tensor<2x4x4x4xf32>
  // CHECK-NOT: rn.add
  // CHECK-NOT: rn.relu_grad
  // CHECK: return %[[A]], %[[B]]
  return %d, %d2 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// Where the transposed conv has another reader, nothing joins it; where the
// sum has another reader, the add joins but the relu's gradient does not.
// CHECK-LABEL: func.func @shared_gradients
func.func @shared_gradients(%dy: tensor<2x8x4x4xf32>, %w: tensor<8x4x3x3xf32>,
                            %g: tensor<2x4x4x4xf32>, %y: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  // CHECK: %[[GI:.*]] = rn.conv2d_grad_input %arg0, %arg1 {
  // CHECK: %[[S:.*]] = rn.add %[[GI]], %arg2
  // CHECK: rn.relu_grad %[[S]], %arg3
  %gi = rn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x4x4xf32>
  %s = rn.add %gi, %g : tensor<2x4x4x4xf32>
  %d = rn.relu_grad %s, %y : tensor<2x4x4x4xf32>
  // CHECK: %[[S2:.*]] = rn.conv2d_grad_input %arg0, %arg1 add %arg2 {
  // CHECK: rn.relu_grad %[[S2]], %arg3
  %gi2 = rn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x4x4xf32>
  %s2 = rn.add %gi2, %g : tensor<2x4x4x4xf32>
  %d2 = rn.relu_grad %s2, %y : tensor<2x4x4x4xf32>
  return %gi, %d, %s2, %d2 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// A sum without a relu joins the batch norm too, built where the sum is,
// after the shortcut it adds (a projection computed after the batch norm).
// CHECK-LABEL: func.func @projection_after
func.func @projection_after(%c: tensor<2x4x4x4xf32>, %g: tensor<4xf32>, %x: tensor<2x4x4x4xf32>,
                            %w: tensor<4x4x1x1xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>) {
  // CHECK: %[[P:.*]] = rn.conv2d %arg2, %arg3
  // CHECK-NEXT: %[[S:.*]], %[[M:.*]], %{{.*}} = rn.batch_norm_train %arg0, %arg1, %arg1 add %[[P]] : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK-NEXT: return %[[S]], %[[M]]
  %n, %m, %i = rn.batch_norm_train %c, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  %p = rn.conv2d %x, %w {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<2x4x4x4xf32>
  %s = rn.add %p, %n : tensor<2x4x4x4xf32>
  return %s, %m : tensor<2x4x4x4xf32>, tensor<4xf32>
}

// Where the batch norm's statistics are read before the sum, or its output
// twice, the sum stays apart.
// CHECK-LABEL: func.func @sum_apart
func.func @sum_apart(%c: tensor<2x4x4x4xf32>, %g: tensor<4xf32>, %x: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  // CHECK: rn.batch_norm_train %arg0, %arg1, %arg1 : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: rn.add
  %n, %m, %i = rn.batch_norm_train %c, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  %early = rn.add %m, %g : tensor<4xf32>
  %s = rn.add %n, %x : tensor<2x4x4x4xf32>
  // CHECK: rn.batch_norm_train %arg0, %arg1, %arg1 : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: rn.fused_eltwise
  %n2, %m2, %i2 = rn.batch_norm_train %c, %g, %g : tensor<2x4x4x4xf32>, tensor<4xf32>
  %s2 = rn.add %n2, %x : tensor<2x4x4x4xf32>
  %r2 = rn.relu %s2 : tensor<2x4x4x4xf32>
  return %s, %early, %r2, %n2 : tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}
