//===- RnOps.td - Operations of the rn dialect ------------------*- tablegen -*-===//

#ifndef RESNETC_DIALECT_RN_RNOPS_TD
#define RESNETC_DIALECT_RN_RNOPS_TD

include "resnetc/Dialect/Rn/RnDialect.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "resnetc/Dialect/Rn/RnAttrs.td"
include "resnetc/Dialect/Rn/RnInterfaces.td"

def Rn_Tensor : RankedTensorOf<[F32]>;
def Rn_Activation : 4DTensorOf<[F32]>;
def Rn_Vector : 1DTensorOf<[F32]>;
def Rn_Matrix : 2DTensorOf<[F32]>;

// The grouping and dilation of the conv-like ops: printed only where they
// are not 1 (conv2d's description says what they mean).
def Rn_ConvGroups : DefaultValuedAttr<I64Attr, "1">;
def Rn_ConvDilations : OptionalAttr<DenseI64ArrayAttr>;

// Ops whose gradient rn-autodiff builds (Gradients.cpp).
def Rn_Differentiable : DeclareOpInterfaceMethods<Rn_DifferentiableOpInterface>;

// Ops whose result type follows from operands and attributes.
class Rn_InferredOp<string mnemonic, list<Trait> traits = []>
    : Rn_Op<mnemonic, !listconcat(traits,
        [Pure, InferTypeOpAdaptor])>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Rn_WeightOp : Rn_Op<"weight", [Pure]> {
  let summary = "A named tensor loaded from the weights file";
  let description = [{
    `name` is the stable name of the tensor in `.rnw` files. `init` says how
    `resnetc init` fills it: `he_normal` (N(0, 2/fan_in)), `fc_uniform`
    (U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as common frameworks do for fully
    connected layers), `ones` or `zeros`. `state` marks tensors that are not
    trained by gradient descent (batch-norm running statistics).

    ```mlir
    %w = rn.weight "stage1.0.conv1.weight" {init = #rn<init he_normal>} : tensor<16x16x3x3xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Rn_WeightInitAttr:$init, UnitAttr:$state);
  let results = (outs Rn_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def Rn_Conv2DOp : Rn_InferredOp<"conv2d", [Rn_Differentiable]> {
  let summary = "2-D convolution, NCHW input and OIHW weights";
  let description = [{
    `shortcut` marks the 1x1 projection of a shortcut connection: the paper
    does not count those among the weighted layers of a network.

    With `groups` = G (ResNeXt), the channels split into G groups: output
    channel k reads only the input channels of its group k / (K/G), and the
    weight is K x C/G x R x S. `dilations` (absent: 1) spaces the taps
    apart: tap (r, s) reads the input at (y*SH + r*DH - PH, x*SW + s*DW - PW).
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Activation:$weight,
                   Optional<Rn_Vector>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                   Rn_ConvGroups:$groups, Rn_ConvDilations:$dilations,
                   UnitAttr:$shortcut);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Rn_BatchNormOp : Rn_Op<"batch_norm", [Pure,
    AllTypesMatch<["input", "output"]>,
    AllTypesMatch<["gamma", "beta", "mean", "variance"]>]> {
  let summary = "Batch normalisation over N, H and W of each channel";
  let description = [{
    In training mode the batch statistics normalise the input and the running
    statistics are updated as `new = (1 - momentum) * old + momentum * batch`
    (unbiased batch variance); in inference mode the running statistics
    normalise the input. The mode is chosen by whoever executes the module.
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Vector:$gamma, Rn_Vector:$beta,
                   Rn_Vector:$mean, Rn_Vector:$variance,
                   DefaultValuedAttr<F64Attr, "1e-5">:$epsilon,
                   DefaultValuedAttr<F64Attr, "0.1">:$momentum);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $mean `,` $variance attr-dict `:`
    type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Rn_ReluOp : Rn_Op<"relu", [Pure, SameOperandsAndResultType, Rn_Differentiable]> {
  let summary = "max(x, 0), elementwise";
  let arguments = (ins Rn_Tensor:$input);
  let results = (outs Rn_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Rn_SigmoidOp : Rn_Op<"sigmoid", [Pure, SameOperandsAndResultType, Rn_Differentiable]> {
  let summary = "1 / (1 + exp(-x)), elementwise: a squeeze-excitation gate";
  let arguments = (ins Rn_Tensor:$input);
  let results = (outs Rn_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Rn_ChannelMulOp : Rn_Op<"channel_mul", [Pure, Rn_Differentiable,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "Each channel of each image times its own factor: the excitation";
  let description = [{
    output[n, c, h, w] = input[n, c, h, w] * scale[n, c] (Hu et al.,
    "Squeeze-and-Excitation Networks", 2018).
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Matrix:$scale);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale)";
  let hasVerifier = 1;
}

def Rn_DropoutOp : Rn_Op<"dropout", [Pure, SameOperandsAndResultType, Rn_Differentiable]> {
  let summary = "Inverted dropout: each value zeroed with probability `rate`";
  let description = [{
    Training: y = x * keep / (1 - rate), where keep is drawn by a
    counter-based generator from (seed, step, stream, element index in NCHW
    order), resnetc/KernelSpec/DropoutMask.h; the runtime supplies the seed
    and the step. `stream` numbers the network's dropout layers, so that
    each draws its own mask. Inference: y = x (rn-strip-dropout removes the
    op). The gradient is the same op on the output's gradient: the same mask.
  }];
  let arguments = (ins Rn_Tensor:$input, F64Attr:$rate, I64Attr:$stream);
  let results = (outs Rn_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Rn_AddOp : Rn_Op<"add", [Pure, Commutative, SameOperandsAndResultType,
    Rn_Differentiable]> {
  let summary = "Elementwise sum: the merge of a residual unit";
  let arguments = (ins Rn_Tensor:$lhs, Rn_Tensor:$rhs);
  let results = (outs Rn_Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def Rn_MaxPool2DOp : Rn_InferredOp<"max_pool2d", [Rn_Differentiable]> {
  let summary = "Max pooling; padded positions never win";
  let arguments = (ins Rn_Activation:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Rn_GlobalAvgPoolOp : Rn_InferredOp<"global_avg_pool", [Rn_Differentiable]> {
  let summary = "Mean over H and W: NxCxHxW -> NxC";
  let arguments = (ins Rn_Activation:$input);
  let results = (outs Rn_Matrix:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Rn_DenseOp : Rn_InferredOp<"dense", [Rn_Differentiable]> {
  let summary = "Fully connected layer: NxC times KxC^T plus bias -> NxK";
  let arguments = (ins Rn_Matrix:$input, Rn_Matrix:$weight,
                   Optional<Rn_Vector>:$bias);
  let results = (outs Rn_Matrix:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Rn_FusedConv2DOp : Rn_InferredOp<"fused_conv2d", [AttrSizedOperandSegments]> {
  let summary = "conv2d with its epilogue: + bias, + residual, then relu";
  let description = [{
    output = relu?(conv2d(input, weight) + bias? + residual?). Made by
    rn-fuse-epilogues so that a residual unit's addition and activation
    never make their own pass over memory.
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Activation:$weight,
                   Optional<Rn_Vector>:$bias, Optional<Rn_Activation>:$residual,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                   Rn_ConvGroups:$groups, Rn_ConvDilations:$dilations,
                   UnitAttr:$relu, UnitAttr:$shortcut);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`residual` $residual^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Rn_FusedEltwiseOp : Rn_Op<"fused_eltwise", [Pure, AttrSizedOperandSegments]> {
  let summary = "Inference batch norm and/or residual add, then relu, in one pass";
  let description = [{
    output = relu?(batch_norm?(input) + addend?), batch norm in inference mode
    with the given statistics. Covers the element-wise chains that have no
    conv to fuse into (pre-activation units, a lone add or relu).
  }];
  let arguments = (ins Rn_Activation:$input, Optional<Rn_Vector>:$gamma,
                   Optional<Rn_Vector>:$beta, Optional<Rn_Vector>:$mean,
                   Optional<Rn_Vector>:$variance, Optional<Rn_Activation>:$addend,
                   OptionalAttr<F64Attr>:$epsilon, UnitAttr:$relu);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = [{
    $input (`bn` `(` $gamma^ `,` $beta `,` $mean `,` $variance `)`)? (`add` $addend^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shortcut connections
//===----------------------------------------------------------------------===//

def Rn_ShortcutOp : Rn_InferredOp<"shortcut"> {
  let summary = "A shortcut connection before expansion into explicit ops";
  let description = [{
    `kind` is one of:
    - `A`: identity, or subsample + zero-padded channels where the shape changes;
    - `B`: identity, or a 1x1 projection where the shape changes;
    - `C`, `projection`: always a 1x1 projection;
    - `identity`: the input itself (shapes must agree).
    Projections are a stride-`stride` 1x1 conv to `out_channels`, followed by
    batch norm when `projection_bn` is set; their weights are named after
    `name`. The `rn-expand-shortcuts` pass rewrites this op into those ops.
  }];
  let arguments = (ins Rn_Activation:$input, Rn_ShortcutKindAttr:$kind, StrAttr:$name,
                   I64Attr:$out_channels, I64Attr:$stride,
                   DefaultValuedAttr<BoolAttr, "true">:$projection_bn);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Rn_ScaleOp : Rn_Op<"scale", [Pure, Rn_Differentiable,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "Per-channel multiply by a learned vector";
  let description = [{
    output[n, c, h, w] = input[n, c, h, w] * scale[c]: the `scale()` layer,
    whose `<layer>.weight` starts at ones.
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Vector:$scale);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale)";
  let hasVerifier = 1;
}

def Rn_ZeroPadShortcutOp : Rn_InferredOp<"zero_pad_shortcut", [Rn_Differentiable]> {
  let summary = "Option A: x[:, :, ::stride, ::stride] with zero channels around it";
  let description = [{
    The new channels are split equally below and above the old ones (the
    lower half gets the smaller share when the difference is odd).
  }];
  let arguments = (ins Rn_Activation:$input, I64Attr:$out_channels, I64Attr:$stride);
  let results = (outs Rn_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Weight transformations and loss
//===----------------------------------------------------------------------===//

def Rn_FoldBatchNormOp : Rn_InferredOp<"fold_batch_norm"> {
  let summary = "Folds inference-mode batch norm into a conv's weight and bias";
  let description = [{
    scale = gamma / sqrt(variance + epsilon);
    folded_weight[o] = weight[o] * scale[o];
    folded_bias[o] = beta[o] + (bias[o] - mean[o]) * scale[o] (bias 0 if absent).
    It reads weights only, so a code generator evaluates it once at load time.
  }];
  let arguments = (ins Rn_Activation:$weight, Optional<Rn_Vector>:$bias,
                   Rn_Vector:$gamma, Rn_Vector:$beta, Rn_Vector:$mean,
                   Rn_Vector:$variance, F64Attr:$epsilon);
  let results = (outs Rn_Activation:$folded_weight, Rn_Vector:$folded_bias);
  let assemblyFormat = [{
    $weight (`bias` $bias^)? `,` $gamma `,` $beta `,` $mean `,` $variance attr-dict
    `:` functional-type(operands, results)
  }];
}

def Rn_SoftmaxCrossEntropyOp : Rn_InferredOp<"softmax_cross_entropy"> {
  let summary = "Mean over the batch of -log softmax(logits)[label]";
  let arguments = (ins Rn_Matrix:$logits, 1DTensorOf<[I32]>:$labels);
  let results = (outs 0DTensorOf<[F32]>:$loss);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Training: batch norm on batch statistics and the gradients of every op,
// made by rn-autodiff. NCHW like the forward ops.
//===----------------------------------------------------------------------===//

def Rn_BatchNormTrainOp : Rn_Op<"batch_norm_train", [Pure, Rn_Differentiable,
    AttrSizedOperandSegments, AllTypesMatch<["input", "output"]>,
    AllTypesMatch<["gamma", "beta", "mean", "inv_std"]>,
    OptionalTypesMatchWith<"the running mean has gamma's type", "gamma", "running_mean", "$_self">,
    OptionalTypesMatchWith<"the running variance has gamma's type", "gamma", "running_var",
                           "$_self">,
    OptionalTypesMatchWith<"the residual has the input's type", "input", "residual",
                           "$_self">]> {
  let summary = "Batch norm on this batch's statistics";
  let description = [{
    mean and inv_std = 1 / sqrt(biased variance + epsilon) are per channel,
    over N, H and W; output = relu?((input - mean) * inv_std * gamma + beta
    + residual?) (`residual` and `relu`: a residual add and a relu fused by
    rn-fuse-training-epilogues). The statistics are
    results so that the backward pass and the running-average update reuse
    them. `running_mean` and `running_var`, when present, are the running
    statistics (rn.weight state) that rn-append-optimizer updates with them,
    with `momentum`; the op itself does not read them.
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Vector:$gamma, Rn_Vector:$beta,
                   Optional<Rn_Vector>:$running_mean, Optional<Rn_Vector>:$running_var,
                   Optional<Rn_Activation>:$residual,
                   DefaultValuedAttr<F64Attr, "1e-5">:$epsilon,
                   DefaultValuedAttr<F64Attr, "0.1">:$momentum,
                   UnitAttr:$relu);
  let results = (outs Rn_Activation:$output, Rn_Vector:$mean, Rn_Vector:$inv_std);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta (`running` `(` $running_mean^ `,` $running_var `)`)?
    (`add` $residual^)? attr-dict
    `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Rn_BatchNormTrainGradOp : Rn_Op<"batch_norm_train_grad", [Pure,
    AllTypesMatch<["output_grad", "input", "input_grad"]>,
    OptionalTypesMatchWith<"relu_output has the input's type", "input", "relu_output", "$_self">,
    AllTypesMatch<["gamma", "mean", "inv_std", "gamma_grad", "beta_grad"]>]> {
  let summary = "Gradients of batch_norm_train, through the batch statistics";
  let description = [{
    With `relu_output` (a relu's gradient fused by rn-fuse-training-epilogues),
    output_grad first becomes 0 where relu_output is not positive: the
    gradient of relu(batch_norm_train(input)) when relu_output is that relu.
  }];
  let arguments = (ins Rn_Activation:$output_grad, Rn_Activation:$input, Rn_Vector:$gamma,
                   Rn_Vector:$mean, Rn_Vector:$inv_std, Optional<Rn_Activation>:$relu_output);
  let results = (outs Rn_Activation:$input_grad, Rn_Vector:$gamma_grad, Rn_Vector:$beta_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `,` $gamma `,` $mean `,` $inv_std (`relu` $relu_output^)? attr-dict
    `:` type($input) `,` type($gamma)
  }];
}

def Rn_ReluGradOp : Rn_Op<"relu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "output_grad where the relu's output is positive, else 0";
  let arguments = (ins Rn_Tensor:$output_grad, Rn_Tensor:$output);
  let results = (outs Rn_Tensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $output attr-dict `:` type($output)";
}

def Rn_Conv2DGradInputOp : Rn_Op<"conv2d_grad_input", [Pure, AttrSizedOperandSegments,
    OptionalTypesMatchWith<"addend has the result's type", "input_grad", "addend", "$_self">,
    OptionalTypesMatchWith<"relu_output has the result's type", "input_grad", "relu_output",
                           "$_self">]> {
  let summary = "Gradient of conv2d with respect to its input (a transposed conv)";
  let description = [{
    With an epilogue (fused by rn-fuse-training-epilogues), the result is
    relu_mask?(transposed_conv + addend?): `addend` is another gradient of
    the same value, added in; with `relu_output`, the sum becomes 0 where
    relu_output is not positive (the gradient through that relu).
  }];
  let arguments = (ins Rn_Activation:$output_grad, Rn_Activation:$weight,
                   Optional<Rn_Activation>:$addend, Optional<Rn_Activation>:$relu_output,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                   Rn_ConvGroups:$groups, Rn_ConvDilations:$dilations);
  let results = (outs Rn_Activation:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $weight (`add` $addend^)? (`relu` $relu_output^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Rn_Conv2DGradWeightOp : Rn_Op<"conv2d_grad_weight", [Pure]> {
  let summary = "Gradient of conv2d with respect to its weight";
  let arguments = (ins Rn_Activation:$output_grad, Rn_Activation:$input,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                   Rn_ConvGroups:$groups, Rn_ConvDilations:$dilations);
  let results = (outs Rn_Activation:$weight_grad);
  let assemblyFormat = [{
    $output_grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Rn_SigmoidGradOp : Rn_Op<"sigmoid_grad", [Pure, AllTypesMatch<["output_grad", "output", "input_grad"]>]> {
  let summary = "Gradient through a sigmoid: output_grad * output * (1 - output)";
  let arguments = (ins Rn_Tensor:$output_grad, Rn_Tensor:$output);
  let results = (outs Rn_Tensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $output attr-dict `:` type($output)";
}

def Rn_SpatialDotOp : Rn_InferredOp<"spatial_dot", [AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Per image and channel, the dot product over H and W: a channel_mul's scale gradient";
  let description = [{
    output[n, c] = sum over h, w of lhs[n, c, h, w] * rhs[n, c, h, w].
  }];
  let arguments = (ins Rn_Activation:$lhs, Rn_Activation:$rhs);
  let results = (outs Rn_Matrix:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `->` type($output)";
}

def Rn_ChannelSumOp : Rn_InferredOp<"channel_sum"> {
  let summary = "Sum over every dimension but the channels: a bias's gradient";
  let description = [{
    NxCxHxW -> C (a conv's bias) or NxC -> C (a dense layer's bias).
  }];
  let arguments = (ins Rn_Tensor:$input);
  let results = (outs Rn_Vector:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Rn_ChannelDotOp : Rn_InferredOp<"channel_dot", [AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Per-channel dot product of two activations: a scale's gradient";
  let description = [{
    output[c] = sum over n, h, w of lhs[n, c, h, w] * rhs[n, c, h, w].
  }];
  let arguments = (ins Rn_Activation:$lhs, Rn_Activation:$rhs);
  let results = (outs Rn_Vector:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `->` type($output)";
}

def Rn_DenseGradInputOp : Rn_InferredOp<"dense_grad_input"> {
  let summary = "output_grad (NxK) times weight (KxC) -> NxC";
  let arguments = (ins Rn_Matrix:$output_grad, Rn_Matrix:$weight);
  let results = (outs Rn_Matrix:$input_grad);
  let assemblyFormat = "$output_grad `,` $weight attr-dict `:` functional-type(operands, results)";
}

def Rn_DenseGradWeightOp : Rn_InferredOp<"dense_grad_weight"> {
  let summary = "output_grad^T (KxN) times input (NxC) -> KxC";
  let arguments = (ins Rn_Matrix:$output_grad, Rn_Matrix:$input);
  let results = (outs Rn_Matrix:$weight_grad);
  let assemblyFormat = "$output_grad `,` $input attr-dict `:` functional-type(operands, results)";
}

def Rn_MaxPool2DGradOp : Rn_Op<"max_pool2d_grad", [Pure]> {
  let summary = "Routes each output's gradient to the first maximum of its window";
  let arguments = (ins Rn_Activation:$output_grad, Rn_Activation:$input,
                   DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$padding);
  let results = (outs Rn_Activation:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Rn_GlobalAvgPoolGradOp : Rn_Op<"global_avg_pool_grad", [Pure]> {
  let summary = "Spreads NxC gradients evenly over H and W";
  let arguments = (ins Rn_Matrix:$output_grad);
  let results = (outs Rn_Activation:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` type($output_grad) `->` type($input_grad)";
  let hasVerifier = 1;
}

def Rn_ZeroPadShortcutGradOp : Rn_Op<"zero_pad_shortcut_grad", [Pure]> {
  let summary = "Gradient of zero_pad_shortcut: the middle channels, back at stride spacing";
  let arguments = (ins Rn_Activation:$output_grad, I64Attr:$stride);
  let results = (outs Rn_Activation:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` type($output_grad) `->` type($input_grad)";
  let hasVerifier = 1;
}

def Rn_SoftmaxCrossEntropyGradOp : Rn_Op<"softmax_cross_entropy_grad", [Pure,
    AllTypesMatch<["logits", "logits_grad"]>]> {
  let summary = "(softmax(logits) - onehot(labels)) / N: the loss's gradient";
  let arguments = (ins Rn_Matrix:$logits, 1DTensorOf<[I32]>:$labels);
  let results = (outs Rn_Matrix:$logits_grad);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` type($logits) `,` type($labels)";
}

//===----------------------------------------------------------------------===//
// The optimizer, appended to the training step by rn-append-optimizer. State
// is explicit: each update reads the state's value and yields its next value,
// which replaces it (in place) when the step ends.
//===----------------------------------------------------------------------===//

def Rn_OptimizerStateOp : Rn_Op<"optimizer_state", [Pure]> {
  let summary = "An optimizer's state tensor for one weight, kept across steps";
  let description = [{
    `slot` names the state (`momentum`: SGD's velocity) of the weight
    `name`. It starts at zero and is saved in checkpoints beside the weight.

    ```mlir
    %m = rn.optimizer_state "momentum" of "stem.conv1.weight" : tensor<16x3x3x3xf32>
    ```
  }];
  let arguments = (ins StrAttr:$slot, StrAttr:$name);
  let results = (outs Rn_Tensor:$result);
  let assemblyFormat = "$slot `of` $name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Rn_SgdUpdateOp : Rn_Op<"sgd_update", [Pure,
    AllTypesMatch<["weight", "momentum_buffer", "grad", "new_weight", "new_momentum_buffer"]>]> {
  let summary = "SGD with momentum and L2 weight decay";
  let description = [{
    v' = momentum * v + grad + weight_decay * w;  w' = w - lr * v'
    (PyTorch's SGD). `weight` is an rn.weight, `momentum_buffer` its
    rn.optimizer_state; the results replace them when the step ends.
  }];
  let arguments = (ins Rn_Tensor:$weight, Rn_Tensor:$momentum_buffer, Rn_Tensor:$grad,
                   0DTensorOf<[F32]>:$lr, F64Attr:$momentum, F64Attr:$weight_decay);
  let results = (outs Rn_Tensor:$new_weight, Rn_Tensor:$new_momentum_buffer);
  let assemblyFormat = [{
    $weight `,` $momentum_buffer `,` $grad `,` $lr attr-dict `:` type($weight) `,` type($lr)
  }];
  let hasVerifier = 1;
}

def Rn_RunningStatsUpdateOp : Rn_Op<"running_stats_update", [Pure,
    AllTypesMatch<["running_mean", "running_var", "mean", "inv_std", "new_running_mean",
                   "new_running_var"]>]> {
  let summary = "Batch norm's running statistics, from one batch's";
  let description = [{
    running = (1 - momentum) * running + momentum * batch, with the batch's
    unbiased variance (1 / inv_std^2 - epsilon) * count / (count - 1), where
    count = N * H * W (PyTorch's rule). `running_mean` and `running_var` are
    rn.weight state tensors; the results replace them when the step ends.
  }];
  let arguments = (ins Rn_Vector:$running_mean, Rn_Vector:$running_var, Rn_Vector:$mean,
                   Rn_Vector:$inv_std, F64Attr:$momentum, F64Attr:$epsilon, I64Attr:$count);
  let results = (outs Rn_Vector:$new_running_mean, Rn_Vector:$new_running_var);
  let assemblyFormat = [{
    $running_mean `,` $running_var `,` $mean `,` $inv_std attr-dict `:` type($mean)
  }];
  let hasVerifier = 1;
}

// Synchronised batch norm (rn-sync-batch-norm): batch_norm_train and its
// gradient in stages, so that the batch statistics and the gradient sums can
// be averaged over the ranks of a data-parallel run in between.

def Rn_ChannelMeanOp : Rn_Op<"channel_mean", [Pure]> {
  let summary = "Per-channel mean of an activation, over N, H and W";
  let arguments = (ins Rn_Activation:$input);
  let results = (outs Rn_Vector:$mean);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($mean)";
  let hasVerifier = 1;
}

def Rn_ChannelVarianceOp : Rn_Op<"channel_variance", [Pure, AllTypesMatch<["mean", "variance"]>]> {
  let summary = "Per-channel mean squared deviation from a given mean, over N, H and W";
  let arguments = (ins Rn_Activation:$input, Rn_Vector:$mean);
  let results = (outs Rn_Vector:$variance);
  let assemblyFormat = "$input `,` $mean attr-dict `:` type($input) `->` type($variance)";
  let hasVerifier = 1;
}

def Rn_BatchNormNormalizeOp : Rn_Op<"batch_norm_normalize", [Pure,
    AllTypesMatch<["input", "output"]>,
    AllTypesMatch<["gamma", "beta", "mean", "variance", "inv_std"]>]> {
  let summary = "batch_norm_train with the batch statistics given";
  let description = [{
    output = relu?((input - mean) * inv_std * gamma + beta), where
    inv_std = 1 / sqrt(variance + epsilon): the second half of
    rn.batch_norm_train, when the statistics are those of a batch split over
    several ranks.
  }];
  let arguments = (ins Rn_Activation:$input, Rn_Vector:$gamma, Rn_Vector:$beta, Rn_Vector:$mean,
                   Rn_Vector:$variance, DefaultValuedAttr<F64Attr, "1e-5">:$epsilon,
                   UnitAttr:$relu);
  let results = (outs Rn_Activation:$output, Rn_Vector:$inv_std);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $mean `,` $variance attr-dict `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Rn_BatchNormGradSumsOp : Rn_Op<"batch_norm_grad_sums", [Pure,
    AllTypesMatch<["output_grad", "input"]>,
    OptionalTypesMatchWith<"relu_output has the input's type", "input", "relu_output", "$_self">,
    AllTypesMatch<["mean", "inv_std", "gamma_grad", "beta_grad"]>]> {
  let summary = "The per-channel sums of rn.batch_norm_train_grad";
  let description = [{
    beta_grad = sum(g) and gamma_grad = sum(g * xhat) over N, H and W, where
    g is output_grad (0 where relu_output is not positive, with relu_output)
    and xhat = (input - mean) * inv_std: the gradients of gamma and beta,
    which rn.batch_norm_grad_input also needs.
  }];
  let arguments = (ins Rn_Activation:$output_grad, Rn_Activation:$input, Rn_Vector:$mean,
                   Rn_Vector:$inv_std, Optional<Rn_Activation>:$relu_output);
  let results = (outs Rn_Vector:$gamma_grad, Rn_Vector:$beta_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `,` $mean `,` $inv_std (`relu` $relu_output^)? attr-dict
    `:` type($input) `,` type($mean)
  }];
  let hasVerifier = 1;
}

def Rn_BatchNormGradInputOp : Rn_Op<"batch_norm_grad_input", [Pure,
    AllTypesMatch<["output_grad", "input", "input_grad"]>,
    OptionalTypesMatchWith<"relu_output has the input's type", "input", "relu_output", "$_self">,
    AllTypesMatch<["gamma", "mean", "inv_std", "gamma_grad", "beta_grad"]>]> {
  let summary = "The input gradient of rn.batch_norm_train_grad, with its sums given";
  let description = [{
    input_grad = gamma * inv_std * (g - beta_grad / M - xhat * gamma_grad / M),
    M = N * H * W, with g and xhat as in rn.batch_norm_grad_sums. When the
    sums are averaged over ranks whose batches together make the batch, this
    is N ranks' share of the one-process gradient, times N.
  }];
  let arguments = (ins Rn_Activation:$output_grad, Rn_Activation:$input, Rn_Vector:$gamma,
                   Rn_Vector:$mean, Rn_Vector:$inv_std, Rn_Vector:$gamma_grad,
                   Rn_Vector:$beta_grad, Optional<Rn_Activation>:$relu_output);
  let results = (outs Rn_Activation:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `,` $gamma `,` $mean `,` $inv_std `,` $gamma_grad `,` $beta_grad
    (`relu` $relu_output^)? attr-dict `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Rn_MeanOverRanksOp : Rn_Op<"mean_over_ranks", [InferTypeOpAdaptor]> {
  let summary = "Averages tensors over the ranks of a data-parallel run";
  let description = [{
    Each result is the mean of its operand over the processes of a
    data-parallel run (an allreduce of the sum, divided by their number);
    with one process it is the operand. The operands are one bucket
    (`bucket`, a number unique in the step): a code generator
    starts the bucket's allreduce where the op stands and waits for it where
    a result is first read, so that the communication overlaps what runs
    in between. The averages are written over the operands, which nothing
    else may read. Not pure: it communicates, and moving or merging it would
    change what overlaps.
  }];
  let arguments = (ins Variadic<Rn_Tensor>:$inputs, I64Attr:$bucket);
  let results = (outs Variadic<Rn_Tensor>:$results);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasVerifier = 1;
}

#endif // RESNETC_DIALECT_RN_RNOPS_TD
