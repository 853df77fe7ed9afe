// RUN: resnetc-opt %s --rn-sync-batch-norm=ranks=2 | FileCheck %s
// RUN: not resnetc-opt %s --rn-sync-batch-norm=ranks=0 2>&1 | FileCheck %s --check-prefix=RANKS

// Batch norm in stages with the statistics and the gradient's sums averaged
// over the ranks between them; a fused residual add follows the
// normalisation apart, with the relu.
// CHECK-LABEL: func.func @train_step
module {
  func.func @train_step(%c: tensor<2x4x4x4xf32>, %g: tensor<4xf32>, %x: tensor<2x4x4x4xf32>,
                        %dy: tensor<2x4x4x4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>,
          tensor<4xf32>) {
    // CHECK: %[[M:.*]] = rn.channel_mean %arg0
    // CHECK-NEXT: %[[MA:.*]] = rn.mean_over_ranks %[[M]] {bucket = 0 : i64}
    // CHECK-NEXT: %[[V:.*]] = rn.channel_variance %arg0, %[[MA]]
    // CHECK-NEXT: %[[VA:.*]] = rn.mean_over_ranks %[[V]] {bucket = 1 : i64}
    // CHECK-NEXT: %[[N:.*]], %[[I:.*]] = rn.batch_norm_normalize %arg0, %arg1, %arg1, %[[MA]], %[[VA]] {relu}
    %n, %m, %i = rn.batch_norm_train %c, %g, %g {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
    // CHECK: %[[N2:.*]], %{{.*}} = rn.batch_norm_normalize %arg0, %arg1, %arg1, %{{.*}}, %{{.*}} :
    // CHECK-NEXT: %[[S:.*]] = rn.fused_eltwise %[[N2]] add %arg2 {relu}
    %s, %m2, %i2 = rn.batch_norm_train %c, %g, %g add %x {relu} : tensor<2x4x4x4xf32>, tensor<4xf32>
    // CHECK: %[[GG:.*]], %[[BG:.*]] = rn.batch_norm_grad_sums %arg3, %arg0, %[[MA]], %[[I]] relu %[[N]]
    // CHECK-NEXT: %[[SUMS:.*]]:2 = rn.mean_over_ranks %[[GG]], %[[BG]] {bucket = 4 : i64}
    // CHECK-NEXT: %[[DX:.*]] = rn.batch_norm_grad_input %arg3, %arg0, %arg1, %[[MA]], %[[I]], %[[SUMS]]#0, %[[SUMS]]#1 relu %[[N]]
    %dc, %dg, %db = rn.batch_norm_train_grad %dy, %c, %g, %m, %i relu %n : tensor<2x4x4x4xf32>, tensor<4xf32>
    // CHECK: return %[[N]], %[[S]], %[[DX]], %[[SUMS]]#0, %[[SUMS]]#1
    return %n, %s, %dc, %dg, %db : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>
  }
}

// RANKS: error: rn-sync-batch-norm: ranks must be at least 1, got 0
