//===- Passes.td - resnetc passes on the rn dialect -------------*- tablegen -*-===//

#ifndef RESNETC_TRANSFORMS_PASSES_TD
#define RESNETC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ExpandShortcuts : Pass<"rn-expand-shortcuts", "::mlir::func::FuncOp"> {
  let summary = "Rewrite rn.shortcut (options A, B, C) into explicit ops";
  let description = [{
    Identity shortcuts become the input itself; option A where the shape
    changes becomes rn.zero_pad_shortcut; projections become a 1x1 rn.conv2d
    (marked `shortcut`) with its weights, followed by rn.batch_norm unless the
    shortcut asks for none.
  }];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def FoldBatchNorm : Pass<"rn-fold-batch-norm", "::mlir::func::FuncOp"> {
  let summary = "Fold inference-mode batch norm into the preceding conv";
  let description = [{
    rewrites batch_norm(conv2d(x, w[, b])) into conv2d(x, w', b') where
    (w', b') = rn.fold_batch_norm(w, [b,] gamma, beta, mean, variance). The
    new weights depend only on weights, so a code generator computes them
    once when the weights are loaded. Valid for inference only.
  }];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def StripDropout : Pass<"rn-strip-dropout", "::mlir::func::FuncOp"> {
  let summary = "Remove dropout for inference: rn.dropout(x) becomes x";
  let description = [{
    Inverted dropout scales the values it keeps during training, so at
    inference it is the identity. Runs on the inference pipeline and on the
    evaluation function (@forward) of a training library.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Only the functions of these names (default: every function)">,
  ];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def ProbeResponses : Pass<"rn-probe-responses", "::mlir::ModuleOp"> {
  let summary = "Return the response of every 3x3 layer instead of the class scores";
  let description = [{
    The responses of He et al.'s Fig. 7: the output of each 3x3 convolution's
    batch norm, before the ReLU or the residual addition. @forward returns them
    in the order they are computed, named (rn.outputs) after their batch
    norm's weights ("stage1.0.bn2"), and loses the head: the module becomes a
    headless network, which `resnetc analyze responses` compiles for its
    statistics. Run before rn-fold-batch-norm.
  }];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def FuseEpilogues : Pass<"rn-fuse-epilogues", "::mlir::func::FuncOp"> {
  let summary = "Fuse bias, residual add and relu into convs; the rest into one element-wise op";
  let description = [{
    relu(conv(x)) and relu(conv(x) + r) become one rn.fused_conv2d, so that
    the residual add and the activation happen while the conv's output is in
    registers. Element-wise chains with no conv to join (inference batch norm,
    add, relu) become one rn.fused_eltwise. Afterwards no rn.conv2d, rn.relu,
    rn.add or rn.batch_norm is left: the code generator sees one op per kernel.
    Run after rn-fold-batch-norm; for inference only.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Only the functions of these names (default: every function)">,
  ];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def Autodiff : Pass<"rn-autodiff", "::mlir::ModuleOp"> {
  let summary = "Build @train_grads: training forward, loss and the backward graph";
  let description = [{
    From @forward (shortcuts expanded, batch norm not folded) builds
    func.func @train_grads(%images, %labels) -> (loss, gradients...): the
    forward pass with batch norm on batch statistics (rn.batch_norm_train),
    the mean softmax cross-entropy, and reverse-mode gradients of every
    trainable weight, in the order of their rn.weight ops. The attribute
    `rn.gradients` names the weight of each gradient result. Gradients of a
    value read twice (residual fan-out) are summed with rn.add.
  }];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def FuseTrainingEpilogues : Pass<"rn-fuse-training-epilogues", "::mlir::func::FuncOp"> {
  let summary = "Fuse relus into training batch norms and adds, relu gradients and gradient sums into their producers";
  let description = [{
    On @train_grads (after rn-autodiff), each pass over an activation that a
    neighbouring kernel can do on its way:
    - relu(batch_norm_train(x)), the batch norm's output read by the relu
      only, becomes batch_norm_train {relu};
    - relu(add(a, b)), the sum read by the relu only, becomes one
      rn.fused_eltwise (add, relu);
    - relu?(batch_norm_train(x) + r), the batch norm's output read by the
      sum only and its statistics by nothing before it, becomes
      batch_norm_train(x) {add r, relu?}, built at the sum: a residual
      block's last batch norm, its shortcut's add and the relu in one kernel;
    - batch_norm_train_grad(relu_grad(dy, y), ...), the masked gradient read
      by the batch norm's gradient only, becomes
      batch_norm_train_grad(dy, ... relu y);
    - add(conv2d_grad_input(dy, w), g), the transposed conv read by the sum
      only, becomes conv2d_grad_input(dy, w add g), and a relu gradient of
      that, read by nothing else, its epilogue's mask:
      conv2d_grad_input(dy, w add g relu y). This is where a residual
      block's two gradients meet.
    The relu's gradient needs only the sign of its output, which the fused
    ops still write, so the backward graph stays valid as it is. Each fusion
    saves a pass over the tensor (a read and a write) and its memory.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Only the functions of these names (default: every function)">,
  ];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def AppendOptimizer : Pass<"rn-append-optimizer", "::mlir::ModuleOp"> {
  let summary = "Make @train_grads one whole training step: SGD and the running statistics as IR";
  let description = [{
    Turns func.func @train_grads(%images, %labels) -> (loss, gradients...)
    (rn-autodiff) into
    func.func @train_step(%images, %labels, %lr: tensor<f32>)
        -> (loss, next weights..., next momenta..., next running statistics...)
    by appending, in the order of the gradients, an rn.optimizer_state
    (momentum) and an rn.sgd_update per trained weight, then an
    rn.running_stats_update per batch norm whose running statistics are
    named. The state is explicit: the updates read rn.weight and
    rn.optimizer_state values and yield their next values, which
    `rn.state_updates` names. A code generator updates them in place.
  }];
  let options = [
    Option<"momentum", "momentum", "double", "0.9", "SGD momentum">,
    Option<"weightDecay", "weight-decay", "double", "1e-4", "L2 weight decay">,
  ];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def RecordArchitectureHash : Pass<"rn-record-architecture-hash", "::mlir::ModuleOp"> {
  let summary = "Record the architecture hash that weights files are checked against";
  let description = [{
    Stores the hash of the module as it is now (shortcuts expanded) in the
    module attribute `rn.architecture_hash`; later rewrites such as
    batch-norm folding keep it. docs/weights-format.md defines the hash.
  }];
}

def DataParallel : Pass<"rn-data-parallel", "::mlir::ModuleOp"> {
  let summary = "Average the gradients and running statistics of @train_step over the ranks";
  let description = [{
    Makes @train_step (rn-append-optimizer) ready for data-parallel
    training: the gradients are averaged over the ranks before the SGD
    updates read them, in buckets of about `bucket-bytes` filled in the
    order the backward pass writes the gradients. Each bucket's
    rn.mean_over_ranks stands right after its last gradient is written, so
    that its allreduce overlaps the rest of the backward pass. The running
    statistics are averaged too, in a last bucket after their updates, so
    that every rank holds the same state after every step. With one
    process every rn.mean_over_ranks is the identity.
  }];
  let options = [
    Option<"bucketBytes", "bucket-bytes", "int64_t", "26214400",
           "Gradient bytes per allreduce (a larger gradient has a bucket of its own)">,
  ];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

def SyncBatchNorm : Pass<"rn-sync-batch-norm", "::mlir::ModuleOp"> {
  let summary = "Batch norm over the whole batch of a data-parallel run (synchronised)";
  let description = [{
    Rewrites the batch norms of @train_step (rn-append-optimizer) so that N
    ranks, each with its share of a batch, compute what one process computes
    on the whole batch: each rn.batch_norm_train becomes the local mean
    (rn.channel_mean), its average over the ranks, the local variance about
    that mean (rn.channel_variance), its average, and rn.batch_norm_normalize;
    each rn.batch_norm_train_grad becomes the gradient's per-channel sums
    (rn.batch_norm_grad_sums), their average, and rn.batch_norm_grad_input.
    The averaged sums are the gradients of gamma and beta. The running
    statistics' unbiased variance counts the images of all `ranks`.
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", "1", "The number of ranks the batch is split over">,
  ];
  let dependentDialects = ["::resnetc::rn::RnDialect"];
}

#endif // RESNETC_TRANSFORMS_PASSES_TD
