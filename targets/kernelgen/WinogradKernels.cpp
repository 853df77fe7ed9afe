//===- WinogradKernels.cpp - Winograd F(m x m, 3 x 3) convolutions --------===//
//
// 3x3 convolutions at stride 1 (conv2d, conv2d_grad_input) by Winograd's
// minimal filtering (see WinogradStages in Kernels.h), and conv2d_grad_weight
// by the same transforms transposed (ConvGradWeightStages, whose blocks and
// chunks TrainingKernels.cpp sets up). The transforms are those of
// Lavin and Gray (2016) for the interpolation points 0, -1, 1 and infinity
// (m = 2) and 0, +-1, +-2 and infinity (m = 4).
//
//===----------------------------------------------------------------------===//

#include "KernelsInternal.h"

#include <functional>

namespace resnetc::kernelgen::detail {

namespace {

using Matrix = std::vector<std::vector<double>>;

struct Transforms {
  Matrix BT, G, AT; // data (alpha x alpha), filter (alpha x 3), output (m x alpha)
};

const Transforms &transforms(int m) {
  static const Transforms f2{
      {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
      {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
      {{1, 1, 1, 0}, {0, 1, -1, -1}},
  };
  static const Transforms f4{
      {{4, 0, -5, 0, 1, 0},
       {0, -4, -4, 1, 1, 0},
       {0, 4, -4, -1, 1, 0},
       {0, -2, -1, 2, 1, 0},
       {0, 2, -1, -2, 1, 0},
       {0, 4, 0, -5, 0, 1}},
      {{1.0 / 4, 0, 0},
       {-1.0 / 6, -1.0 / 6, -1.0 / 6},
       {-1.0 / 6, 1.0 / 6, -1.0 / 6},
       {1.0 / 24, 1.0 / 12, 1.0 / 6},
       {1.0 / 24, -1.0 / 12, 1.0 / 6},
       {0, 0, 1}},
      {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
  };
  return m == 2 ? f2 : f4;
}

/// sum_j row[j] * term(j), without the zero terms and without multiplying
/// by +-1.
Expr combine(const std::vector<double> &row, const std::function<Expr(int)> &term) {
  Expr sum;
  for (size_t j = 0; j < row.size(); ++j) {
    const double a = row[j];
    if (a == 0)
      continue;
    Expr t = term(int(j));
    if (a == -1)
      t = -t;
    else if (a != 1)
      t = float(a) * t;
    sum = sum.defined() ? sum + t : t;
  }
  return sum.defined() ? sum : Expr(0.0f);
}

/// Row `row` (an expression) of `matrix` combined with `term`: a select over
/// the rows, which folds to one row where `row` is a constant.
Expr byRow(const Matrix &matrix, const Expr &row, const std::function<Expr(int)> &term) {
  Expr value = combine(matrix.back(), term);
  for (int i = int(matrix.size()) - 2; i >= 0; --i)
    value = select(row == i, combine(matrix[i], term), value);
  return value;
}

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

Matrix transposed(const Matrix &matrix) {
  Matrix result(matrix[0].size(), std::vector<double>(matrix.size()));
  for (size_t i = 0; i < matrix.size(); ++i)
    for (size_t j = 0; j < matrix[i].size(); ++j)
      result[j][i] = matrix[i][j];
  return result;
}

/// The data transform B^T d B of the alpha x alpha tiles of `source`, zero
/// outside its W x H, tile (tx, ty) starting at (tx*m - padX, ty*m - padY):
/// `tile` the zero-extended source, `rows` the transform along x (u),
/// `data` both.
void defineDataTransform(Func &tile, Func &rows, Func &data, const char *tileName,
                         ImageParam source, int W, int H, int m, int padX, int padY, const Var &c,
                         const Var &u, const Var &v, const Var &tx, const Var &ty, const Var &n) {
  const Transforms &t = transforms(m);
  Var x("x"), y("y"), j("j");
  Region bounds(4);
  bounds[1] = Range(0, W);
  bounds[2] = Range(0, H);
  Func padded = BoundaryConditions::constant_exterior(source, 0.0f, bounds);
  tile = Func(tileName);
  tile(c, x, y, n) = padded(c, x, y, n);
  rows = Func("data_rows");
  rows(c, u, j, tx, ty, n) =
      byRow(t.BT, u, [&](int i) { return tile(c, tx * m - padX + i, ty * m - padY + j, n); });
  data = Func("data");
  data(c, u, v, tx, ty, n) = byRow(t.BT, v, [&](int jj) { return rows(c, u, jj, tx, ty, n); });
}

} // namespace

WinogradStages winogradShape(const WinogradProblem &problem) {
  WinogradStages st;
  st.Co = problem.Co;
  st.Ci = problem.Ci;
  st.W = problem.W;
  st.H = problem.H;
  st.N = problem.N;
  st.m = problem.largestTile;
  st.alpha = st.m + 2;
  st.tilesX = ceilDiv(st.W, st.m);
  st.tilesY = ceilDiv(st.H, st.m);
  return st;
}

int chooseWinogradTile(const Scheduler &sched, WinogradProblem problem) {
  for (int m = problem.largestTile; m >= 2; m -= 2) {
    problem.largestTile = m;
    if (int chosen = sched.winogradTile(winogradShape(problem)))
      return chosen;
  }
  return 0;
}

Func winogradFilterInBlocks(Func filter, int K, int C, int alpha, int B) {
  Var i("i");
  Expr inBlock = i % B, row = i / B;
  Expr ci = row % C, block = row / C % (K / B), point = row / (C * (K / B));
  Func blocks("winograd_blocks");
  blocks(i) = filter(block * B + inBlock, ci, point % alpha, point / alpha);
  return blocks;
}

Func winogradFilterView(Func blocks, int K, int C, int alpha, int B) {
  Var co("co"), ci("ci"), u("u"), v("v");
  // (B = K: no division left for the loads to undo.)
  Expr block = B == K ? Expr(0) : co / B, inBlock = B == K ? Expr(co) : co % B;
  Func view("filter_view");
  view(co, ci, u, v) = blocks(inBlock + B * (ci + C * (block + (K / B) * (u + alpha * v))));
  return view;
}

void defineWinogradFilter(Func &rows, Func &filter, int m,
                          const std::function<Expr(Expr co, Expr ci, Expr a, Expr b)> &tap,
                          const Var &co, const Var &ci, const Var &u, const Var &v) {
  const Transforms &t = transforms(m);
  Var b("b");
  rows = Func("filter_rows");
  rows(co, ci, u, b) = byRow(t.G, u, [&](int a) { return tap(co, ci, a, b); });
  filter = Func("filter");
  filter(co, ci, u, v) = byRow(t.G, v, [&](int bb) { return rows(co, ci, u, bb); });
}

WinogradStages winogradConv3x3(const WinogradProblem &problem, int m) {
  WinogradStages st = winogradShape(problem);
  st.m = m;
  st.alpha = m + 2;
  st.tilesX = ceilDiv(st.W, m);
  st.tilesY = ceilDiv(st.H, m);
  st.co = problem.co;
  st.x = problem.x;
  st.y = problem.y;
  st.n = problem.n;
  st.ci = Var("ci");
  st.u = Var("u");
  st.v = Var("v");
  st.tx = Var("tx");
  st.ty = Var("ty");
  const Var &co = st.co, &x = st.x, &y = st.y, &n = st.n, &ci = st.ci, &u = st.u, &v = st.v,
            &tx = st.tx, &ty = st.ty;
  Var i("i");
  const Transforms &t = transforms(m);

  if (problem.preparedFilter.defined()) {
    st.filter = Func("filter");
    st.filter(co, ci, u, v) = problem.preparedFilter(co, ci, u, v);
  } else {
    defineWinogradFilter(st.filterRows, st.filter, m, problem.tap, co, ci, u, v);
  }

  defineDataTransform(st.sourceTile, st.dataRows, st.data, "source_tile", problem.source,
                      problem.sourceW, problem.sourceH, m, problem.padX, problem.padY, ci, u, v, tx,
                      ty, n);

  st.rci = RDom(0, st.Ci, "rci");
  st.acc = Func("acc");
  st.acc(co, u, v, tx, ty, n) = 0.0f;
  st.acc(co, u, v, tx, ty, n) += st.filter(co, st.rci, u, v) * st.data(st.rci, u, v, tx, ty, n);
  st.product = Func("product");
  st.product(co, u, v, tx, ty, n) = st.acc(co, u, v, tx, ty, n);

  st.tileRows = Func("tile_rows");
  st.tileRows(co, i, v, tx, ty, n) =
      byRow(t.AT, i, [&](int uu) { return st.product(co, uu, v, tx, ty, n); });
  Expr value =
      byRow(t.AT, y % m, [&](int vv) { return st.tileRows(co, x % m, vv, x / m, y / m, n); });
  st.output = Func("output");
  st.output(co, x, y, n) = problem.epilogue(value);
  return st;
}

void defineWinogradGradWeight(ConvGradWeightStages &st, ImageParam grad, ImageParam input) {
  const int m = st.winograd;
  const Matrix A = transposed(transforms(m).AT); // alpha x m: (A dy A^T) rows
  st.tx = Var("tx");
  st.ty = Var("ty");
  st.n = Var("n");
  const Var &k = st.k, &c = st.c, &u = st.s, &v = st.r, &tx = st.tx, &ty = st.ty, &n = st.n;
  Var x("x"), y("y"), j("j");

  // Tiles beyond the output's edge read zeros: those pixels have no gradient.
  Region gradBounds(4);
  gradBounds[1] = Range(0, st.Q);
  gradBounds[2] = Range(0, st.P);
  Func gradPadded = BoundaryConditions::constant_exterior(grad, 0.0f, gradBounds);
  st.gradTile = Func("grad_tile");
  st.gradTile(k, x, y, n) = gradPadded(k, x, y, n);
  st.gradRows = Func("grad_rows");
  st.gradRows(k, u, j, tx, ty, n) =
      byRow(A, u, [&](int i) { return st.gradTile(k, tx * m + i, ty * m + j, n); });
  st.gradT = Func("grad_t");
  st.gradT(k, u, v, tx, ty, n) =
      byRow(A, v, [&](int jj) { return st.gradRows(k, u, jj, tx, ty, n); });

  st.padded = true;
  defineDataTransform(st.inputTile, st.dataRows, st.data, "input_tile", input, st.W, st.H, m,
                      st.padW, st.padH, c, u, v, tx, ty, n);

  const RDom &red = st.red;
  Expr tileRow = st.bp * st.blockRows + red.y, img = st.bn * st.blockImages + red.z;
  st.partial = Func("partial");
  st.partial(k, c, u, v, st.bp, st.bn) = 0.0f;
  st.partial(k, c, u, v, st.bp, st.bn) +=
      st.gradT(k, u, v, red.x, tileRow, img) * st.data(c, u, v, red.x, tileRow, img);
}

void defineWinogradGradWeightOutput(ConvGradWeightStages &st) {
  const Matrix GT = transposed(transforms(st.winograd).G); // 3 x alpha
  const Var &k = st.k, &c = st.c, &s = st.s, &r = st.r;
  Var v("v");
  st.outputRows = Func("output_rows");
  st.outputRows(k, c, s, v) = byRow(GT, s, [&](int u) { return st.sums(k, c, u, v); });
  st.output(k, c, s, r) = byRow(GT, r, [&](int vv) { return st.outputRows(k, c, s, vv); });
}

} // namespace resnetc::kernelgen::detail
