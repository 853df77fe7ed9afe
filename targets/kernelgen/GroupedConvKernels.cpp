//===- GroupedConvKernels.cpp - Convs with groups or dilation -------------===//
//
// conv2d, conv2d_grad_input and conv2d_grad_weight when the spec has groups
// (ResNeXt) or dilation (dilated backbones): the direct algorithm of
// GroupedConvStages (Kernels.h), one sum per output element in a fixed
// order. Plain convs keep their own builders (Kernels.cpp,
// TrainingKernels.cpp, WinogradKernels.cpp).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "KernelsInternal.h"

namespace resnetc::kernelgen {

using namespace Halide;
using namespace detail;

namespace {

/// `param` (c, x, y, n) read as zero outside x in [0, width), y in [0, height).
Func zeroPadded(const ImageParam &param, int width, int height) {
  Region bounds(4);
  bounds[1] = Range(0, width);
  bounds[2] = Range(0, height);
  Func padded("source");
  Var c("c"), x("x"), y("y"), n("n");
  padded(c, x, y, n) = BoundaryConditions::constant_exterior(param, 0.0f, bounds)(c, x, y, n);
  return padded;
}

struct Geometry {
  int N, C, H, W;  // the forward input
  int K, Cg, R, S; // the weight (K x C/G x R x S)
  int P, Q;        // the forward output's height and width
  int G, Kg;       // groups, output channels per group
  int SH, SW, PH, PW, DH, DW;

  explicit Geometry(const KernelSpec &spec) {
    std::vector<int64_t> out =
        spec.kind == KernelKind::Conv2D ? spec.outputShape() : spec.forwardOutputShape();
    N = i32(spec.input[0]);
    C = i32(spec.input[1]);
    H = i32(spec.input[2]);
    W = i32(spec.input[3]);
    K = i32(spec.weight[0]);
    Cg = i32(spec.weight[1]);
    R = i32(spec.weight[2]);
    S = i32(spec.weight[3]);
    P = i32(out[2]);
    Q = i32(out[3]);
    G = i32(spec.groups);
    Kg = K / G;
    SH = i32(spec.strideH);
    SW = i32(spec.strideW);
    PH = i32(spec.padH);
    PW = i32(spec.padW);
    DH = i32(spec.dilationH);
    DW = i32(spec.dilationW);
  }

  int64_t macs() const { return int64_t(N) * K * P * Q * Cg * R * S; }
};

/// conv2d's inputs: input, weight, then bias and residual where the spec has them.
struct ForwardInputs {
  ImageParam input, weight, bias, residual;
  std::vector<ImageParam> all;

  ForwardInputs(const KernelSpec &spec, const Geometry &geo)
      : input(makeInput("input", {geo.C, geo.W, geo.H, geo.N})),
        weight(makeInput("weight", {geo.K, geo.Cg, geo.S, geo.R})), all({input, weight}) {
    bias = optionalInput(spec.bias, "bias", {geo.K}, all);
    residual = optionalInput(spec.residual, "residual", {geo.K, geo.Q, geo.P, geo.N}, all);
  }
};

void initStages(GroupedConvStages &st, const KernelSpec &spec, const Geometry &geo) {
  st.kind = spec.kind;
  st.i = Var("i");
  st.g = Var("g");
  st.a = Var("a");
  st.b = Var("b");
  st.n = Var("n");
  st.groups = geo.G;
  st.macs = geo.macs();
  st.acc = Func("acc");
  st.output = Func("output");
}

/// conv2d in blocks of `block` output channels (GroupedConvBlockStages).
KernelPipeline buildForwardBlocked(const KernelSpec &spec, const Scheduler &sched,
                                   const Geometry &geo, int block) {
  GroupedConvBlockStages st;
  st.block = block;
  st.groupsPerBlock = std::max(1, block / geo.Kg);
  st.perGroup = block / st.groupsPerBlock;
  st.Cg = geo.Cg;
  st.Q = geo.Q;
  st.P = geo.P;
  st.blocks = geo.K / block;
  st.N = geo.N;
  st.macs = geo.macs();
  ForwardInputs in(spec, geo);
  const ImageParam &input = in.input, &weight = in.weight, &bias = in.bias, &residual = in.residual;
  st.h = Var("h");
  st.i = Var("i");
  st.j = Var("j");
  st.x = Var("x");
  st.y = Var("y");
  st.b = Var("b");
  st.n = Var("n");
  const Var &h = st.h, &i = st.i, &j = st.j, &x = st.x, &y = st.y, &b = st.b, &n = st.n;
  const int I = st.perGroup;
  Expr channel = b * block + h * I + i; // the output channel of (h, i) in block b
  st.packedWeight = Func("packed_weight");
  Var s("s"), rr("rr");
  st.packedWeight(h, i, j, s, rr, b) = weight(channel, j, s, rr);

  // The input at clamped coordinates, then zeros over the padding columns
  // and rows in updates: the copy's loops test no condition.
  st.staged = Func("staged");
  Expr group = (b * block + h * I) / geo.Kg;
  st.staged(h, j, x, y, b, n) =
      input(group * geo.Cg + j, clamp(x, 0, geo.W - 1), clamp(y, 0, geo.H - 1), n);
  // The columns the taps reach beyond the input, left and right; rows
  // outside it, whole.
  const int left = geo.PW;
  const int right = std::max(0, (geo.Q - 1) * geo.SW + (geo.S - 1) * geo.DW - geo.PW - (geo.W - 1));
  auto zeroColumns = [&](int from, int count) {
    if (count <= 0)
      return;
    RDom columns(from, count, "pad_x");
    st.staged(h, j, columns.x, y, b, n) = 0.0f;
    st.stagedPadding.push_back(columns);
  };
  zeroColumns(-left, left);
  zeroColumns(geo.W, right);
  RDom rows(-left, geo.W + left + right, "pad_y");
  rows.where(y < 0 || y >= geo.H);
  st.staged(h, j, rows.x, y, b, n) = 0.0f;
  st.stagedPadding.push_back(rows);

  st.r = RDom(0, geo.Cg, 0, geo.S, 0, geo.R, "r");
  const RDom &r = st.r;
  Expr ix = x * geo.SW + r.y * geo.DW - geo.PW, iy = y * geo.SH + r.z * geo.DH - geo.PH;
  st.acc = Func("acc");
  st.acc(h, i, x, y, b, n) = spec.bias ? Expr(bias(channel)) : Expr(0.0f);
  st.acc(h, i, x, y, b, n) +=
      st.packedWeight(h, i, r.x, r.y, r.z, b) * st.staged(h, r.x, ix, iy, b, n);
  st.output = Func("output");
  Var k("k");
  Expr value = st.acc(k % block / I, k % I, x, y, k / block, n);
  if (spec.residual)
    value = value + residual(k, x, y, n);
  st.output(k, x, y, n) = maybeRelu(value, spec.relu);
  constrainDense(st.output.output_buffer(), {geo.K, geo.Q, geo.P, geo.N});
  sched.scheduleGroupedConvBlock(st);
  return finish({st.output}, in.all);
}

KernelPipeline buildForward(const KernelSpec &spec, const Scheduler &sched) {
  Geometry geo(spec);
  if (int block = sched.groupedConvBlock(geo.G, geo.Cg, geo.Kg))
    return buildForwardBlocked(spec, sched, geo, block);
  GroupedConvStages st;
  initStages(st, spec, geo);
  ForwardInputs in(spec, geo);
  const ImageParam &input = in.input, &weight = in.weight, &bias = in.bias, &residual = in.residual;
  st.source = zeroPadded(input, geo.W, geo.H);
  st.per = geo.Kg;
  st.A = geo.Q;
  st.B = geo.P;
  st.Nn = geo.N;
  const Var &i = st.i, &g = st.g, &a = st.a, &b = st.b, &n = st.n;
  st.r = RDom(0, geo.Cg, 0, geo.S, 0, geo.R, "r");
  const RDom &r = st.r;
  Expr k = g * geo.Kg + i;
  st.acc(i, g, a, b, n) = spec.bias ? Expr(bias(k)) : Expr(0.0f);
  st.acc(i, g, a, b, n) +=
      weight(k, r.x, r.y, r.z) * st.source(g * geo.Cg + r.x, a * geo.SW + r.y * geo.DW - geo.PW,
                                           b * geo.SH + r.z * geo.DH - geo.PH, n);
  Var ko("k"), x("x"), y("y");
  Expr value = st.acc(ko % geo.Kg, ko / geo.Kg, x, y, n);
  if (spec.residual)
    value = value + residual(ko, x, y, n);
  st.output(ko, x, y, n) = maybeRelu(value, spec.relu);
  constrainDense(st.output.output_buffer(), {geo.K, geo.Q, geo.P, geo.N});
  sched.scheduleGroupedConv(st);
  return finish({st.output}, in.all);
}

KernelPipeline buildGradInput(const KernelSpec &spec, const Scheduler &sched) {
  Geometry geo(spec);
  GroupedConvStages st;
  initStages(st, spec, geo);
  ImageParam grad = makeInput("output_grad", {geo.K, geo.Q, geo.P, geo.N});
  ImageParam weight = makeInput("weight", {geo.K, geo.Cg, geo.S, geo.R});
  std::vector<ImageParam> inputs = {grad, weight};
  GradInputEpilogue epilogue(spec, {geo.C, geo.W, geo.H, geo.N}, inputs);
  st.source = zeroPadded(grad, geo.Q, geo.P);
  st.per = geo.Cg;
  st.A = geo.W;
  st.B = geo.H;
  st.Nn = geo.N;
  const Var &i = st.i, &g = st.g, &a = st.a, &b = st.b, &n = st.n;
  // Input channels contiguous, so that the sum is vectorised over them.
  Var kk("kk"), s("s"), rr("rr");
  st.weightT = Func("weight_t");
  st.weightT(i, g, kk, s, rr) = weight(g * geo.Kg + kk, i, s, rr);
  st.r = RDom(0, geo.Kg, 0, geo.S, 0, geo.R, "r");
  RDom &r = st.r;
  // Input position a meets output position (a + PW - s*DW) / SW of tap s.
  Expr tx = a + geo.PW - r.y * geo.DW, ty = b + geo.PH - r.z * geo.DH;
  if (geo.SW > 1 && geo.SH > 1)
    r.where(tx % geo.SW == 0 && ty % geo.SH == 0);
  else if (geo.SW > 1)
    r.where(tx % geo.SW == 0);
  else if (geo.SH > 1)
    r.where(ty % geo.SH == 0);
  st.acc(i, g, a, b, n) = 0.0f;
  st.acc(i, g, a, b, n) +=
      st.source(g * geo.Kg + r.x, tx / geo.SW, ty / geo.SH, n) * st.weightT(i, g, r.x, r.y, r.z);
  Var c("c"), x("x"), y("y");
  st.output(c, x, y, n) = epilogue.apply(st.acc(c % geo.Cg, c / geo.Cg, x, y, n), c, x, y, n);
  constrainDense(st.output.output_buffer(), {geo.C, geo.W, geo.H, geo.N});
  sched.scheduleGroupedConv(st);
  return finish({st.output}, inputs);
}

KernelPipeline buildGradWeight(const KernelSpec &spec, const Scheduler &sched) {
  Geometry geo(spec);
  GroupedConvStages st;
  initStages(st, spec, geo);
  ImageParam grad = makeInput("output_grad", {geo.K, geo.Q, geo.P, geo.N});
  ImageParam input = makeInput("input", {geo.C, geo.W, geo.H, geo.N});
  st.source = zeroPadded(input, geo.W, geo.H);
  st.per = geo.Kg;
  st.A = geo.Cg;
  st.B = geo.S;
  st.Nn = geo.R;
  // acc(kk, g, c, s, r): a = c, b = s and n = r (the weight's row).
  const Var &i = st.i, &g = st.g, &c = st.a, &s = st.b, &row = st.n;
  st.r = RDom(0, geo.Q, 0, geo.P, 0, geo.N, "r");
  const RDom &r = st.r;
  st.acc(i, g, c, s, row) = 0.0f;
  st.acc(i, g, c, s, row) += grad(g * geo.Kg + i, r.x, r.y, r.z) *
                             st.source(g * geo.Cg + c, r.x * geo.SW + s * geo.DW - geo.PW,
                                       r.y * geo.SH + row * geo.DH - geo.PH, r.z);
  Var k("k"), co("c"), so("s"), ro("r");
  st.output(k, co, so, ro) = st.acc(k % geo.Kg, k / geo.Kg, co, so, ro);
  constrainDense(st.output.output_buffer(), {geo.K, geo.Cg, geo.S, geo.R});
  sched.scheduleGroupedConv(st);
  return finish({st.output}, {grad, input});
}

} // namespace

KernelPipeline buildGroupedConv(const KernelSpec &spec, const Scheduler &sched) {
  switch (spec.kind) {
  case KernelKind::Conv2DGradInput:
    return buildGradInput(spec, sched);
  case KernelKind::Conv2DGradWeight:
    return buildGradWeight(spec, sched);
  default:
    return buildForward(spec, sched);
  }
}

} // namespace resnetc::kernelgen
