//===- WinogradKernels.cpp - Winograd F(m x m, 3 x 3) backward-data -------===//
//
// conv2d_grad_input at stride 1 with a 3x3 kernel by Winograd's minimal
// filtering (see WinogradStages in Kernels.h). The transforms are those of
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

} // namespace

WinogradStages winogradGradInput(const ConvGradInputStages &geometry, const ImageParam &grad,
                                 const ImageParam &weight, int m,
                                 const std::function<Expr(Expr)> &epilogue) {
  WinogradStages st;
  st.m = m;
  st.alpha = m + 2;
  st.C = geometry.C;
  st.W = geometry.W;
  st.H = geometry.H;
  st.N = geometry.N;
  st.K = geometry.K;
  st.Q = geometry.Q;
  st.P = geometry.P;
  st.tilesX = ceilDiv(st.W, m);
  st.tilesY = ceilDiv(st.H, m);
  st.c = geometry.c;
  st.x = geometry.x;
  st.y = geometry.y;
  st.n = geometry.n;
  st.k = Var("k");
  st.u = Var("u");
  st.v = Var("v");
  st.tx = Var("tx");
  st.ty = Var("ty");
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n, &k = st.k, &u = st.u, &v = st.v,
            &tx = st.tx, &ty = st.ty;
  Var b("b"), i("i"), j("j");
  const Transforms &t = transforms(m);
  // The correlation's padding: output_grad pixel x + pad - s feeds result
  // pixel x through tap s, i.e. tap a = 2 - s of the flipped kernel reads
  // x - (2 - pad) + a.
  const int padX = 2 - geometry.padW, padY = 2 - geometry.padH;

  st.filterRows = Func("filter_rows");
  st.filterRows(c, k, u, b) = byRow(t.G, u, [&](int a) { return weight(k, c, 2 - a, 2 - b); });
  st.filter = Func("filter");
  st.filter(c, k, u, v) = byRow(t.G, v, [&](int bb) { return st.filterRows(c, k, u, bb); });

  Region bounds(4);
  bounds[1] = Range(0, st.Q);
  bounds[2] = Range(0, st.P);
  Func padded = BoundaryConditions::constant_exterior(grad, 0.0f, bounds);
  st.gradTile = Func("grad_tile");
  st.gradTile(k, x, y, n) = padded(k, x, y, n);
  st.dataRows = Func("data_rows");
  st.dataRows(k, u, j, tx, ty, n) = byRow(
      t.BT, u, [&](int ii) { return st.gradTile(k, tx * m - padX + ii, ty * m - padY + j, n); });
  st.data = Func("data");
  st.data(k, u, v, tx, ty, n) =
      byRow(t.BT, v, [&](int jj) { return st.dataRows(k, u, jj, tx, ty, n); });

  st.rk = RDom(0, st.K, "rk");
  st.acc = Func("acc");
  st.acc(c, u, v, tx, ty, n) = 0.0f;
  st.acc(c, u, v, tx, ty, n) += st.filter(c, st.rk, u, v) * st.data(st.rk, u, v, tx, ty, n);
  st.product = Func("product");
  st.product(c, u, v, tx, ty, n) = st.acc(c, u, v, tx, ty, n);

  st.tileRows = Func("tile_rows");
  st.tileRows(c, i, v, tx, ty, n) =
      byRow(t.AT, i, [&](int uu) { return st.product(c, uu, v, tx, ty, n); });
  Expr value =
      byRow(t.AT, y % m, [&](int vv) { return st.tileRows(c, x % m, vv, x / m, y / m, n); });
  st.output = Func("output");
  st.output(c, x, y, n) = epilogue(value);
  return st;
}

} // namespace resnetc::kernelgen::detail
