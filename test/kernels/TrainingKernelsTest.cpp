//===- TrainingKernelsTest.cpp - Tests of the training-step kernels -------===//
//
// The kernels of a training step (backward pass and optimiser), generated at
// build time (see CMakeLists.txt) and compared with plain C++ loops in double
// precision, in PyTorch (NCHW) index order through the documented layouts.
// The references are written independently of the kernels' formulations:
// the input gradient of a convolution scatters (the adjoint of the forward
// loops), max-pool gradients scatter to each window's first maximum.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"
#include "resnetc/KernelSpec/DropoutMask.h"
#include "resnetc/KernelSpec/KernelSpec.h"

#include <cstring>
#include <functional>

using namespace resnetc::kerneltest;

using IntBuf = Halide::Runtime::Buffer<int32_t>;

extern "C" {
int kg_bnt_relu(void *, HB input, HB gamma, HB beta, HB out, HB mean, HB invStd);
int kg_bnt_par(void *, HB input, HB gamma, HB beta, HB out, HB mean, HB invStd);
int kg_bnt_res(void *, HB input, HB gamma, HB beta, HB residual, HB out, HB mean, HB invStd);
int kg_bnt_res_par(void *, HB input, HB gamma, HB beta, HB residual, HB out, HB mean, HB invStd);
int kg_bnt_tail(void *, HB input, HB gamma, HB beta, HB out, HB mean, HB invStd);
int kg_bnn_plain(void *, HB x, HB gamma, HB beta, HB mean, HB variance, HB out, HB invStd);
int kg_add_bn(void *, HB lhs, HB rhs, HB out);
int kg_bntg_relu(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB y, HB dx, HB dgamma,
                 HB dbeta);
int kg_bntg_par(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB dx, HB dgamma, HB dbeta);
int kg_bntg_c3(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB y, HB dx, HB dgamma, HB dbeta);
int kg_cmean(void *, HB x, HB mean);
int kg_cmean_par(void *, HB x, HB mean);
int kg_cvar(void *, HB x, HB mean, HB variance);
int kg_cvar_par(void *, HB x, HB mean, HB variance);
int kg_bnn_relu(void *, HB x, HB gamma, HB beta, HB mean, HB variance, HB out, HB invStd);
int kg_bnn_par(void *, HB x, HB gamma, HB beta, HB mean, HB variance, HB out, HB invStd);
int kg_bngs_relu(void *, HB dy, HB x, HB mean, HB invStd, HB y, HB dgamma, HB dbeta);
int kg_bngs_par(void *, HB dy, HB x, HB mean, HB invStd, HB dgamma, HB dbeta);
int kg_bngi_relu(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB dgamma, HB dbeta, HB y,
                 HB dx);
int kg_bngi_par(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB dgamma, HB dbeta, HB dx);
int kg_relu_grad(void *, HB dy, HB y, HB dx);
int kg_dropout(void *, HB x, HB seed, HB y);
int kg_sigmoid(void *, HB x, HB y);
int kg_sigmoid_grad(void *, HB dy, HB y, HB dx);
int kg_cmul(void *, HB x, HB scale, HB y);
int kg_sdot(void *, HB lhs, HB rhs, HB out);
int kg_cgi_s1(void *, HB dy, HB w, HB dx);
int kg_cgi_s2(void *, HB dy, HB w, HB dx);
int kg_cgi_odd(void *, HB dy, HB w, HB dx);
int kg_cgi_c3(void *, HB dy, HB w, HB dx);
int kg_cgi_1x1s2(void *, HB dy, HB w, HB dx);
int kg_cgi_stem(void *, HB dy, HB w, HB dx);
int kg_cgi_asym(void *, HB dy, HB w, HB dx);
int kg_cgi_big(void *, HB dy, HB w, HB dx);
int kg_cgi_epi(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_cgi_epi_s2(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_cgi_images(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_cgi_wino(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_cgi_wino_rows(void *, HB dy, HB w, HB dx);
int kg_cgi_direct(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_cgi_images_c3(void *, HB dy, HB w, HB dx);
int kg_cgi_add(void *, HB dy, HB w, HB addend, HB dx);
int kg_cgi_mask(void *, HB dy, HB w, HB y, HB dx);
int kg_cgw_s1(void *, HB dy, HB x, HB dw);
int kg_cgw_s2(void *, HB dy, HB x, HB dw);
int kg_cgw_odd(void *, HB dy, HB x, HB dw);
int kg_cgw_1x1s2(void *, HB dy, HB x, HB dw);
int kg_cgw_asym(void *, HB dy, HB x, HB dw);
int kg_cgw_rows(void *, HB dy, HB x, HB dw);
int kg_cgw_images(void *, HB dy, HB x, HB dw);
int kg_cgw_chunks(void *, HB dy, HB x, HB dw);
int kg_cgw_wino_edges(void *, HB dy, HB x, HB dw);
int kg_cgw_wino_pad0(void *, HB dy, HB x, HB dw);
int kg_cgw_direct(void *, HB dy, HB x, HB dw);
int kg_cgw_stem(void *, HB dy, HB x, HB dw);
int kg_cgw_stem1(void *, HB dy, HB x, HB dw);
int kg_csum2(void *, HB input, HB out);
int kg_csum4(void *, HB input, HB out);
int kg_csum_par(void *, HB input, HB out);
int kg_cdot(void *, HB lhs, HB rhs, HB out);
int kg_cdot_par(void *, HB lhs, HB rhs, HB out);
int kg_dgi(void *, HB dy, HB w, HB dx);
int kg_dgi_big(void *, HB dy, HB w, HB dx);
int kg_dgw(void *, HB dy, HB x, HB dw);
int kg_dgw_big(void *, HB dy, HB x, HB dw);
int kg_mpg(void *, HB dy, HB x, HB dx);
int kg_mpg_odd(void *, HB dy, HB x, HB dx);
int kg_mpg_nopad(void *, HB dy, HB x, HB dx);
int kg_gapg(void *, HB dy, HB dx);
int kg_zpg(void *, HB dy, HB dx);
int kg_zpg1(void *, HB dy, HB dx);
int kg_sce(void *, HB logits, HB labels, HB loss, HB grad, HB correct);
int kg_sce_big(void *, HB logits, HB labels, HB loss, HB grad, HB correct);
int kg_sgd(void *, HB w, HB m, HB g, HB lr, HB newW, HB newM);
int kg_sgd_big(void *, HB w, HB m, HB g, HB lr, HB newW, HB newM);
int kg_sgd_plain(void *, HB w, HB m, HB g, HB lr, HB newW, HB newM);
int kg_rs(void *, HB runMean, HB runVar, HB mean, HB invStd, HB newMean, HB newVar);
int kg_rs64(void *, HB runMean, HB runVar, HB mean, HB invStd, HB newMean, HB newVar);
int kg_unpack(void *, HB packed, HB oihw);
int kg_unpack_big(void *, HB packed, HB oihw);
#ifdef RESNETC_TEST_X86_BASELINE
int kg_sse_cgi_s2(void *, HB dy, HB w, HB dx);
int kg_sse_cgw_s2(void *, HB dy, HB x, HB dw);
int kg_sse_bntg_relu(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB y, HB dx, HB dgamma,
                     HB dbeta);
int kg_sse_mpg(void *, HB dy, HB x, HB dx);
int kg_sse_sgd(void *, HB w, HB m, HB g, HB lr, HB newW, HB newM);
int kg_avx2_cgi_odd(void *, HB dy, HB w, HB dx);
int kg_avx2_cgi_big(void *, HB dy, HB w, HB dx);
int kg_avx2_cgi_deep(void *, HB dy, HB w, HB dx);
int kg_avx2_cgi_wino(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_avx2_cgi_epi(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_avx2_cgw_s2(void *, HB dy, HB x, HB dw);
int kg_avx2_cgw_rows(void *, HB dy, HB x, HB dw);
int kg_avx2_cgw_stem(void *, HB dy, HB x, HB dw);
int kg_avx2_bntg_relu(void *, HB dy, HB x, HB gamma, HB mean, HB invStd, HB y, HB dx, HB dgamma,
                      HB dbeta);
int kg_avx2_mpg(void *, HB dy, HB x, HB dx);
int kg_avx2_csum4(void *, HB input, HB out);
int kg_avx2_sce(void *, HB logits, HB labels, HB loss, HB grad, HB correct);
int kg_avx2_sgd(void *, HB w, HB m, HB g, HB lr, HB newW, HB newM);
#endif
}

namespace {

Buf vec(int n) { return Buf(std::vector<int>{n}); }
Buf mat(int inner, int outer) { return Buf(std::vector<int>{inner, outer}); }

Buf nanFilled(Buf b) {
  b.fill(std::nanf(""));
  return b;
}

/// Copies doubles into a float buffer of the same element count.
Buf fromDoubles(Buf shape, const std::vector<double> &values) {
  Buf out = shape.copy();
  for (size_t i = 0; i < values.size(); ++i)
    out.data()[i] = float(values[i]);
  return out;
}

// ---------------------------------------------------------------------------
// Batch norm on batch statistics

/// Per-channel mean and inv_std (biased variance) of an NHWC buffer.
void batchStats(const Buf &x, double eps, std::vector<double> &mean, std::vector<double> &inv) {
  const int C = x.dim(0).extent();
  const double M = double(x.number_of_elements()) / C;
  mean.assign(C, 0.0);
  inv.assign(C, 0.0);
  std::vector<double> var(C, 0.0);
  x.for_each_element([&](int c, int xx, int y, int n) { mean[c] += x(c, xx, y, n); });
  for (double &m : mean)
    m /= M;
  x.for_each_element([&](int c, int xx, int y, int n) {
    double d = x(c, xx, y, n) - mean[c];
    var[c] += d * d;
  });
  for (int c = 0; c < C; ++c)
    inv[c] = 1.0 / std::sqrt(var[c] / M + eps);
}

using BnTrainKernel = int (*)(void *, HB, HB, HB, HB, HB, HB);
/// batch_norm_train with residual=1: the residual after beta.
using BnTrainResidualKernel = int (*)(void *, HB, HB, HB, HB, HB, HB, HB);

void runBatchNormTrain(int N, int C, int H, int W, float eps, bool relu, float offset,
                       BnTrainKernel kernel, BnTrainResidualKernel residualKernel = nullptr) {
  Rng rng(100 + C);
  Buf x = nhwc(N, C, H, W), gamma = vec(C), beta = vec(C), residual = nhwc(N, C, H, W);
  fill(x, rng, offset - 1.0f, offset + 1.0f);
  fill(gamma, rng, 0.5f, 1.5f);
  fill(beta, rng);
  fill(residual, rng);
  Buf out = nanFilled(nhwc(N, C, H, W)), mean = nanFilled(vec(C)), invStd = nanFilled(vec(C));
  if (residualKernel)
    EXPECT_KERNEL_OK(residualKernel(nullptr, x.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                                    residual.raw_buffer(), out.raw_buffer(), mean.raw_buffer(),
                                    invStd.raw_buffer()));
  else
    EXPECT_KERNEL_OK(kernel(nullptr, x.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                            out.raw_buffer(), mean.raw_buffer(), invStd.raw_buffer()));

  std::vector<double> m, inv;
  batchStats(x, eps, m, inv);
  Buf want = nhwc(N, C, H, W);
  want.for_each_element([&](int c, int xx, int y, int n) {
    double v = (x(c, xx, y, n) - m[c]) * inv[c] * gamma(c) + beta(c);
    if (residualKernel)
      v += residual(c, xx, y, n);
    want(c, xx, y, n) = float(relu ? std::max(v, 0.0) : v);
  });
  expectClose(out, want);
  expectClose(mean, fromDoubles(vec(C), m));
  expectClose(invStd, fromDoubles(vec(C), inv));
}

TEST(TrainingBatchNorm, TrainOddShapeRelu) {
  runBatchNormTrain(2, 10, 7, 7, 9.99999975e-06f, true, 0.0f, kg_bnt_relu);
}

TEST(TrainingBatchNorm, TrainResidualRelu) {
  // A block's last batch norm with its shortcut's add and relu fused.
  runBatchNormTrain(2, 10, 7, 7, 9.99999975e-06f, true, 0.0f, nullptr, kg_bnt_res);
}

TEST(TrainingBatchNorm, TrainResidual) {
  runBatchNormTrain(3, 64, 16, 16, 0.00100000005f, false, 50.0f, nullptr, kg_bnt_res_par);
}

TEST(TrainingBatchNorm, TrainParallelTail) {
  runBatchNormTrain(5, 64, 13, 13, 9.99999975e-06f, false, 3.0f, kg_bnt_tail);
}

TEST(TrainingBatchNorm, TrainLargeMeanIsAccurate) {
  // A mean far from zero: E[x^2] - E[x]^2 in float would lose the variance.
  runBatchNormTrain(3, 64, 16, 16, 0.00100000005f, false, 50.0f, kg_bnt_par);
}

// Synchronised batch norm: channel_mean, channel_variance and
// batch_norm_normalize in a row compute batch_norm_train.
template <auto Mean, auto Variance, auto Normalize>
int stagedBatchNormTrain(void *, HB x, HB gamma, HB beta, HB out, HB mean, HB invStd) {
  Buf variance = vec(x->dim[0].extent);
  if (int status = Mean(nullptr, x, mean))
    return status;
  if (int status = Variance(nullptr, x, mean, variance.raw_buffer()))
    return status;
  return Normalize(nullptr, x, gamma, beta, mean, variance.raw_buffer(), out, invStd);
}

TEST(TrainingBatchNorm, StagedOddShapeRelu) {
  runBatchNormTrain(2, 10, 7, 7, 9.99999975e-06f, true, 0.0f,
                    stagedBatchNormTrain<kg_cmean, kg_cvar, kg_bnn_relu>);
}

// One rank's staged batch norm (--sync-bn) computes the fused kernel's bits:
// the mean, inv_std and output, with and without a fused residual add.
TEST(TrainingBatchNorm, StagedIsFusedToTheBit) {
  const int N = 2, C = 10, H = 7, W = 7;
  Rng rng(7);
  Buf x = nhwc(N, C, H, W), gamma = vec(C), beta = vec(C), residual = nhwc(N, C, H, W);
  fill(x, rng, 2.0f, 4.0f);
  fill(gamma, rng, 0.5f, 1.5f);
  fill(beta, rng);
  fill(residual, rng);
  auto bitsEqual = [](const Buf &a, const Buf &b) {
    return std::memcmp(a.data(), b.data(), a.size_in_bytes()) == 0;
  };
  for (bool withResidual : {false, true}) {
    SCOPED_TRACE(withResidual ? "residual" : "relu");
    Buf fused = nhwc(N, C, H, W), fusedMean = vec(C), fusedInv = vec(C);
    if (withResidual)
      EXPECT_KERNEL_OK(kg_bnt_res(nullptr, x.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                                  residual.raw_buffer(), fused.raw_buffer(), fusedMean.raw_buffer(),
                                  fusedInv.raw_buffer()));
    else
      EXPECT_KERNEL_OK(kg_bnt_relu(nullptr, x.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                                   fused.raw_buffer(), fusedMean.raw_buffer(),
                                   fusedInv.raw_buffer()));
    Buf staged = nhwc(N, C, H, W), mean = vec(C), variance = vec(C), inv = vec(C);
    EXPECT_KERNEL_OK(kg_cmean(nullptr, x.raw_buffer(), mean.raw_buffer()));
    EXPECT_KERNEL_OK(kg_cvar(nullptr, x.raw_buffer(), mean.raw_buffer(), variance.raw_buffer()));
    if (withResidual) {
      Buf normalized = nhwc(N, C, H, W);
      EXPECT_KERNEL_OK(kg_bnn_plain(nullptr, x.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                                    mean.raw_buffer(), variance.raw_buffer(),
                                    normalized.raw_buffer(), inv.raw_buffer()));
      EXPECT_KERNEL_OK(
          kg_add_bn(nullptr, normalized.raw_buffer(), residual.raw_buffer(), staged.raw_buffer()));
    } else {
      EXPECT_KERNEL_OK(kg_bnn_relu(nullptr, x.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                                   mean.raw_buffer(), variance.raw_buffer(), staged.raw_buffer(),
                                   inv.raw_buffer()));
    }
    EXPECT_TRUE(bitsEqual(fusedMean, mean));
    EXPECT_TRUE(bitsEqual(fusedInv, inv));
    EXPECT_TRUE(bitsEqual(fused, staged));
  }
}

TEST(TrainingBatchNorm, StagedLargeMeanIsAccurate) {
  runBatchNormTrain(3, 64, 16, 16, 0.00100000005f, false, 50.0f,
                    stagedBatchNormTrain<kg_cmean_par, kg_cvar_par, kg_bnn_par>);
}

using BnGradKernel =
    std::function<int(Buf &, Buf &, Buf &, Buf &, Buf &, Buf &, Buf &, Buf &, Buf &)>;

void runBatchNormTrainGrad(int N, int C, int H, int W, bool relu, const BnGradKernel &kernel) {
  Rng rng(110 + C);
  Buf dy = nhwc(N, C, H, W), x = nhwc(N, C, H, W), y = nhwc(N, C, H, W), gamma = vec(C);
  fill(dy, rng);
  fill(x, rng, -2.0f, 3.0f);
  fill(gamma, rng, 0.5f, 1.5f);
  // The forward's relu output: about half of it zero.
  y.for_each_value([&](float &v) { v = std::max(rng.uniform(-1.0f, 1.0f), 0.0f); });
  std::vector<double> m, inv;
  batchStats(x, 1e-5, m, inv);
  Buf mean = fromDoubles(vec(C), m), invStd = fromDoubles(vec(C), inv);
  Buf dx = nanFilled(nhwc(N, C, H, W)), dgamma = nanFilled(vec(C)), dbeta = nanFilled(vec(C));
  EXPECT_KERNEL_OK(kernel(dy, x, gamma, mean, invStd, y, dx, dgamma, dbeta));

  const double M = double(N) * H * W;
  auto g = [&](int c, int xx, int yy, int n) -> double {
    return relu && !(y(c, xx, yy, n) > 0.0f) ? 0.0 : dy(c, xx, yy, n);
  };
  auto xhat = [&](int c, int xx, int yy, int n) {
    return (double(x(c, xx, yy, n)) - mean(c)) * double(invStd(c));
  };
  std::vector<double> sumG(C, 0.0), sumGX(C, 0.0);
  x.for_each_element([&](int c, int xx, int yy, int n) {
    sumG[c] += g(c, xx, yy, n);
    sumGX[c] += g(c, xx, yy, n) * xhat(c, xx, yy, n);
  });
  Buf want = nhwc(N, C, H, W);
  want.for_each_element([&](int c, int xx, int yy, int n) {
    want(c, xx, yy, n) = float(double(gamma(c)) * invStd(c) *
                               (g(c, xx, yy, n) - sumG[c] / M - xhat(c, xx, yy, n) * sumGX[c] / M));
  });
  expectClose(dx, want);
  expectClose(dgamma, fromDoubles(vec(C), sumGX));
  expectClose(dbeta, fromDoubles(vec(C), sumG));
}

BnGradKernel bnGradWithRelu(int (*kernel)(void *, HB, HB, HB, HB, HB, HB, HB, HB, HB)) {
  return [kernel](Buf &dy, Buf &x, Buf &gamma, Buf &mean, Buf &inv, Buf &y, Buf &dx, Buf &dg,
                  Buf &db) {
    return kernel(nullptr, dy.raw_buffer(), x.raw_buffer(), gamma.raw_buffer(), mean.raw_buffer(),
                  inv.raw_buffer(), y.raw_buffer(), dx.raw_buffer(), dg.raw_buffer(),
                  db.raw_buffer());
  };
}

TEST(TrainingBatchNorm, GradReluOddShape) {
  runBatchNormTrainGrad(2, 10, 7, 7, true, bnGradWithRelu(kg_bntg_relu));
}

TEST(TrainingBatchNorm, GradThreeChannels) {
  runBatchNormTrainGrad(3, 3, 5, 7, true, bnGradWithRelu(kg_bntg_c3));
}

TEST(TrainingBatchNorm, GradParallelNoRelu) {
  runBatchNormTrainGrad(
      3, 64, 16, 16, false,
      [](Buf &dy, Buf &x, Buf &gamma, Buf &mean, Buf &inv, Buf &, Buf &dx, Buf &dg, Buf &db) {
        return kg_bntg_par(nullptr, dy.raw_buffer(), x.raw_buffer(), gamma.raw_buffer(),
                           mean.raw_buffer(), inv.raw_buffer(), dx.raw_buffer(), dg.raw_buffer(),
                           db.raw_buffer());
      });
}

// batch_norm_grad_sums, then batch_norm_grad_input with its sums, compute
// batch_norm_train_grad.
TEST(TrainingBatchNorm, StagedGradRelu) {
  runBatchNormTrainGrad(
      2, 10, 7, 7, true,
      [](Buf &dy, Buf &x, Buf &gamma, Buf &mean, Buf &inv, Buf &y, Buf &dx, Buf &dg, Buf &db) {
        if (int status =
                kg_bngs_relu(nullptr, dy.raw_buffer(), x.raw_buffer(), mean.raw_buffer(),
                             inv.raw_buffer(), y.raw_buffer(), dg.raw_buffer(), db.raw_buffer()))
          return status;
        return kg_bngi_relu(nullptr, dy.raw_buffer(), x.raw_buffer(), gamma.raw_buffer(),
                            mean.raw_buffer(), inv.raw_buffer(), dg.raw_buffer(), db.raw_buffer(),
                            y.raw_buffer(), dx.raw_buffer());
      });
}

TEST(TrainingBatchNorm, StagedGradParallel) {
  runBatchNormTrainGrad(
      3, 64, 16, 16, false,
      [](Buf &dy, Buf &x, Buf &gamma, Buf &mean, Buf &inv, Buf &, Buf &dx, Buf &dg, Buf &db) {
        if (int status = kg_bngs_par(nullptr, dy.raw_buffer(), x.raw_buffer(), mean.raw_buffer(),
                                     inv.raw_buffer(), dg.raw_buffer(), db.raw_buffer()))
          return status;
        return kg_bngi_par(nullptr, dy.raw_buffer(), x.raw_buffer(), gamma.raw_buffer(),
                           mean.raw_buffer(), inv.raw_buffer(), dg.raw_buffer(), db.raw_buffer(),
                           dx.raw_buffer());
      });
}

TEST(TrainingElementwise, ReluGrad) {
  Rng rng(120);
  Buf dy = nhwc(3, 10, 7, 7), y = nhwc(3, 10, 7, 7), dx = nanFilled(nhwc(3, 10, 7, 7));
  fill(dy, rng);
  y.for_each_value([&](float &v) { v = std::max(rng.uniform(-1.0f, 1.0f), 0.0f); });
  EXPECT_KERNEL_OK(kg_relu_grad(nullptr, dy.raw_buffer(), y.raw_buffer(), dx.raw_buffer()));
  Buf want = nhwc(3, 10, 7, 7);
  want.for_each_element([&](int c, int x, int yy, int n) {
    want(c, x, yy, n) = y(c, x, yy, n) > 0.0f ? dy(c, x, yy, n) : 0.0f;
  });
  expectClose(dx, want);
}

TEST(SqueezeExcitation, SigmoidAndItsGradient) {
  Rng rng(130);
  Buf x = nhwc(1, 20, 1, 1), y = nanFilled(nhwc(1, 20, 1, 1)), dy = nhwc(1, 20, 1, 1);
  Buf dx = nanFilled(nhwc(1, 20, 1, 1));
  fill(x, rng, -6.0f, 6.0f);
  fill(dy, rng);
  EXPECT_KERNEL_OK(kg_sigmoid(nullptr, x.raw_buffer(), y.raw_buffer()));
  EXPECT_KERNEL_OK(kg_sigmoid_grad(nullptr, dy.raw_buffer(), y.raw_buffer(), dx.raw_buffer()));
  Buf wantY = nhwc(1, 20, 1, 1), wantDx = nhwc(1, 20, 1, 1);
  wantY.for_each_element([&](int c, int, int, int) {
    double s = 1.0 / (1.0 + std::exp(-double(x(c, 0, 0, 0))));
    wantY(c, 0, 0, 0) = float(s);
    wantDx(c, 0, 0, 0) = float(dy(c, 0, 0, 0) * double(y(c, 0, 0, 0)) * (1.0 - y(c, 0, 0, 0)));
  });
  expectClose(y, wantY);
  expectClose(dx, wantDx);
}

TEST(SqueezeExcitation, ChannelMulAndSpatialDot) {
  Rng rng(131);
  const int N = 2, C = 10, H = 7, W = 9;
  Buf x = nhwc(N, C, H, W), dy = nhwc(N, C, H, W), y = nanFilled(nhwc(N, C, H, W));
  Buf scale(std::vector<int>{C, N}), dot(std::vector<int>{C, N});
  dot.fill(std::numeric_limits<float>::quiet_NaN());
  fill(x, rng);
  fill(dy, rng);
  fill(scale, rng);
  EXPECT_KERNEL_OK(kg_cmul(nullptr, x.raw_buffer(), scale.raw_buffer(), y.raw_buffer()));
  EXPECT_KERNEL_OK(kg_sdot(nullptr, dy.raw_buffer(), x.raw_buffer(), dot.raw_buffer()));
  Buf wantY = nhwc(N, C, H, W), wantDot(std::vector<int>{C, N});
  wantY.for_each_element(
      [&](int c, int xx, int yy, int n) { wantY(c, xx, yy, n) = x(c, xx, yy, n) * scale(c, n); });
  wantDot.for_each_element([&](int c, int n) {
    double sum = 0;
    for (int yy = 0; yy < H; ++yy)
      for (int xx = 0; xx < W; ++xx)
        sum += double(dy(c, xx, yy, n)) * x(c, xx, yy, n);
    wantDot(c, n) = float(sum);
  });
  expectClose(y, wantY);
  expectClose(dot, wantDot);
}

TEST(TrainingElementwise, DropoutDrawsTheDocumentedMask) {
  Rng rng(121);
  const int N = 2, C = 10, H = 7, W = 9;
  const float rate = 0.3f;
  Buf x = nhwc(N, C, H, W), y = nanFilled(nhwc(N, C, H, W));
  fill(x, rng);
  int dropped = 0;
  for (auto [seed, step] : {std::pair<int32_t, int32_t>{0, 0}, {7, 0}, {7, 1}, {-3, 123456}}) {
    IntBuf seedBuf(std::vector<int>{2});
    seedBuf(0) = seed;
    seedBuf(1) = step;
    EXPECT_KERNEL_OK(kg_dropout(nullptr, x.raw_buffer(), seedBuf.raw_buffer(), y.raw_buffer()));
    uint32_t key = resnetc::dropout::key<uint32_t>(uint32_t(seed), uint32_t(step), 5);
    Buf want = nhwc(N, C, H, W);
    want.for_each_element([&](int c, int xx, int yy, int n) {
      uint32_t index = uint32_t(((n * C + c) * H + yy) * W + xx);
      bool keep = resnetc::dropout::bits<uint32_t>(index, key) >= resnetc::dropout::threshold(rate);
      want(c, xx, yy, n) = keep ? x(c, xx, yy, n) * resnetc::dropout::keptScale(rate) : 0.0f;
      dropped += !keep;
    });
    expectClose(y, want);
  }
  // 4 x 1260 draws at 0.3: 1512 expected, standard deviation 33.
  EXPECT_NEAR(dropped, 1512, 130);
}

// ---------------------------------------------------------------------------
// Convolution gradients

struct ConvGradCase {
  int N, C, H, W, K, R, S, SH, SW, PH, PW;
  int P() const { return (H + 2 * PH - R) / SH + 1; }
  int Q() const { return (W + 2 * PW - S) / SW + 1; }
};

/// A logical OIHW weight and its packed (k, c, s, r) buffer.
struct ConvWeight {
  std::vector<float> oihw;
  Buf packed;
  float at(const ConvGradCase &cc, int k, int c, int r, int s) const {
    return oihw[((size_t(k) * cc.C + c) * cc.R + r) * cc.S + s];
  }
};

ConvWeight makeWeight(const ConvGradCase &cc, Rng &rng) {
  ConvWeight w;
  w.oihw.resize(size_t(cc.K) * cc.C * cc.R * cc.S);
  for (float &v : w.oihw)
    v = rng.uniform(-0.5f, 0.5f);
  w.packed = Buf(std::vector<int>{cc.K, cc.C, cc.S, cc.R});
  w.packed.for_each_element(
      [&](int k, int c, int s, int r) { w.packed(k, c, s, r) = w.at(cc, k, c, r, s); });
  return w;
}

using ConvGradKernel = int (*)(void *, HB, HB, HB);

/// conv2d_grad_input's epilogue: which of the addend and the relu output
/// (a relu's forward output: half of it zero) the kernel takes, and the call.
struct GradInputEpilogue {
  bool addend = false, relu = false;
  std::function<int(HB dy, HB w, HB addend, HB y, HB dx)> call;
};

void runConvGradInput(const ConvGradCase &cc, const GradInputEpilogue &epilogue, uint64_t seed) {
  Rng rng(seed);
  Buf dy = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  fill(dy, rng);
  ConvWeight w = makeWeight(cc, rng);
  Buf dx = nanFilled(nhwc(cc.N, cc.C, cc.H, cc.W));
  Buf addend = nhwc(cc.N, cc.C, cc.H, cc.W), y = nhwc(cc.N, cc.C, cc.H, cc.W);
  fill(addend, rng);
  y.for_each_value([&](float &v) { v = std::max(rng.uniform(-1.0f, 1.0f), 0.0f); });
  EXPECT_KERNEL_OK(epilogue.call(dy.raw_buffer(), w.packed.raw_buffer(), addend.raw_buffer(),
                                 y.raw_buffer(), dx.raw_buffer()));

  // The adjoint of the forward loops: every (output, tap) scatters back.
  std::vector<double> acc(dx.number_of_elements(), 0.0);
  auto index = [&](int c, int x, int y, int n) {
    return ((size_t(n) * cc.H + y) * cc.W + x) * cc.C + c;
  };
  for (int n = 0; n < cc.N; ++n)
    for (int k = 0; k < cc.K; ++k)
      for (int p = 0; p < cc.P(); ++p)
        for (int q = 0; q < cc.Q(); ++q)
          for (int c = 0; c < cc.C; ++c)
            for (int r = 0; r < cc.R; ++r)
              for (int s = 0; s < cc.S; ++s) {
                int h = p * cc.SH - cc.PH + r, x = q * cc.SW - cc.PW + s;
                if (h < 0 || h >= cc.H || x < 0 || x >= cc.W)
                  continue;
                acc[index(c, x, h, n)] += double(dy(k, q, p, n)) * w.at(cc, k, c, r, s);
              }
  dx.for_each_element([&](int c, int x, int h, int n) {
    double &v = acc[index(c, x, h, n)];
    if (epilogue.addend)
      v += addend(c, x, h, n);
    if (epilogue.relu && !(y(c, x, h, n) > 0.0f))
      v = 0.0;
  });
  expectClose(dx, fromDoubles(nhwc(cc.N, cc.C, cc.H, cc.W), acc));
}

void runConvGradInput(const ConvGradCase &cc, ConvGradKernel kernel, uint64_t seed) {
  runConvGradInput(
      cc, {false, false, [&](HB dy, HB w, HB, HB, HB dx) { return kernel(nullptr, dy, w, dx); }},
      seed);
}

TEST(TrainingConvGradInput, Stride1) {
  runConvGradInput({2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1}, kg_cgi_s1, 1);
}
TEST(TrainingConvGradInput, Stride2OddMap) {
  runConvGradInput({2, 16, 7, 7, 32, 3, 3, 2, 2, 1, 1}, kg_cgi_s2, 2);
}
TEST(TrainingConvGradInput, TenChannelsStride2Batch3) {
  runConvGradInput({3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1}, kg_cgi_odd, 3);
}
TEST(TrainingConvGradInput, ThreeChannels) {
  runConvGradInput({2, 3, 7, 7, 8, 3, 3, 1, 1, 1, 1}, kg_cgi_c3, 4);
}
TEST(TrainingConvGradInput, OneByOneStride2) {
  runConvGradInput({2, 16, 8, 8, 32, 1, 1, 2, 2, 0, 0}, kg_cgi_1x1s2, 5);
}
TEST(TrainingConvGradInput, Stem7x7Stride2) {
  runConvGradInput({1, 3, 15, 15, 16, 7, 7, 2, 2, 3, 3}, kg_cgi_stem, 6);
}
TEST(TrainingConvGradInput, AsymmetricStridesAndKernel) {
  runConvGradInput({2, 8, 9, 6, 16, 3, 2, 2, 1, 1, 0}, kg_cgi_asym, 7);
}
TEST(TrainingConvGradInput, Parallel64Channels) {
  runConvGradInput({2, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1}, kg_cgi_big, 8);
}
TEST(TrainingConvGradInput, AddendAndReluMask) {
  runConvGradInput(
      {2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_cgi_epi(nullptr, dy, w, a, y, dx); }},
      9);
}
TEST(TrainingConvGradInput, AddendAndReluMaskStride2) {
  runConvGradInput(
      {3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_cgi_epi_s2(nullptr, dy, w, a, y, dx); }},
      10);
}
// Stride 1, 3x3, 16 channels and more: Winograd F(4x4, 3x3), in blocks of
// whole images (9 images; 10x7, so the last tiles are partial) or of rows of
// tiles (2 images; no padding, so output_grad is padded by 2). A large
// filter over few tiles keeps the direct conv.
TEST(TrainingConvGradInput, WinogradImageBlocksWithEpilogue) {
  runConvGradInput(
      {9, 32, 10, 7, 32, 3, 3, 1, 1, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_cgi_wino(nullptr, dy, w, a, y, dx); }},
      35);
}
TEST(TrainingConvGradInput, WinogradRowBlocksUnpadded) {
  runConvGradInput({2, 16, 9, 12, 48, 3, 3, 1, 1, 0, 0}, kg_cgi_wino_rows, 36);
}
TEST(TrainingConvGradInput, DirectForLargeFilterOnFewTiles) {
  runConvGradInput(
      {2, 256, 4, 4, 256, 3, 3, 1, 1, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_cgi_direct(nullptr, dy, w, a, y, dx); }},
      37);
}
// 16 images and more: the phases are computed one image at a time, images in
// parallel, each image's window of output_grad padded once.
TEST(TrainingConvGradInput, Stride2PerImageWithEpilogue) {
  runConvGradInput(
      {16, 16, 9, 9, 32, 3, 3, 2, 2, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_cgi_images(nullptr, dy, w, a, y, dx); }},
      33);
}
TEST(TrainingConvGradInput, Stride2PerImageThreeChannels) {
  runConvGradInput({17, 3, 8, 7, 8, 3, 3, 2, 2, 1, 1}, kg_cgi_images_c3, 34);
}
TEST(TrainingConvGradInput, AddendParallel) {
  runConvGradInput(
      {2, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1},
      {true, false, [](HB dy, HB w, HB a, HB, HB dx) { return kg_cgi_add(nullptr, dy, w, a, dx); }},
      11);
}
TEST(TrainingConvGradInput, ReluMaskThreeChannels) {
  runConvGradInput(
      {2, 3, 7, 7, 8, 3, 3, 1, 1, 1, 1},
      {false, true,
       [](HB dy, HB w, HB, HB y, HB dx) { return kg_cgi_mask(nullptr, dy, w, y, dx); }},
      12);
}

void runConvGradWeight(const ConvGradCase &cc, ConvGradKernel kernel, uint64_t seed) {
  Rng rng(seed);
  Buf dy = nhwc(cc.N, cc.K, cc.P(), cc.Q()), x = nhwc(cc.N, cc.C, cc.H, cc.W);
  fill(dy, rng);
  fill(x, rng);
  Buf dw = nanFilled(Buf(std::vector<int>{cc.K, cc.C, cc.S, cc.R}));
  EXPECT_KERNEL_OK(kernel(nullptr, dy.raw_buffer(), x.raw_buffer(), dw.raw_buffer()));
  Buf want(std::vector<int>{cc.K, cc.C, cc.S, cc.R});
  for (int k = 0; k < cc.K; ++k)
    for (int c = 0; c < cc.C; ++c)
      for (int r = 0; r < cc.R; ++r)
        for (int s = 0; s < cc.S; ++s) {
          double sum = 0;
          for (int n = 0; n < cc.N; ++n)
            for (int p = 0; p < cc.P(); ++p) {
              int h = p * cc.SH - cc.PH + r;
              if (h < 0 || h >= cc.H)
                continue;
              for (int q = 0; q < cc.Q(); ++q) {
                int xx = q * cc.SW - cc.PW + s;
                if (xx >= 0 && xx < cc.W)
                  sum += double(dy(k, q, p, n)) * x(c, xx, h, n);
              }
            }
          want(k, c, s, r) = float(sum);
        }
  expectClose(dw, want);
}

TEST(TrainingConvGradWeight, Stride1) {
  runConvGradWeight({2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1}, kg_cgw_s1, 11);
}
TEST(TrainingConvGradWeight, TenChannelsStride2Batch3) {
  runConvGradWeight({3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1}, kg_cgw_s2, 12);
}
TEST(TrainingConvGradWeight, ThreeChannelsTenFilters) {
  runConvGradWeight({2, 3, 7, 7, 10, 3, 3, 2, 2, 1, 1}, kg_cgw_odd, 13);
}
TEST(TrainingConvGradWeight, OneByOneStride2Unpadded) {
  runConvGradWeight({2, 16, 8, 8, 32, 1, 1, 2, 2, 0, 0}, kg_cgw_1x1s2, 14);
}
TEST(TrainingConvGradWeight, AsymmetricStridesAndKernel) {
  runConvGradWeight({2, 8, 9, 6, 16, 3, 2, 2, 1, 1, 0}, kg_cgw_asym, 15);
}
TEST(TrainingConvGradWeight, BlocksOfRows) {
  runConvGradWeight({2, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1}, kg_cgw_rows, 16);
}
TEST(TrainingConvGradWeight, BlocksOfImages) {
  runConvGradWeight({32, 128, 4, 4, 128, 3, 3, 1, 1, 1, 1}, kg_cgw_images, 17);
}
// Winograd F(4x4): tiles past the output's edges (9 rows x 7 columns: 3 x 2
// tiles), and an unpadded conv (8 x 7 outputs from 10 x 9).
TEST(TrainingConvGradWeight, WinogradEdgeTiles) {
  runConvGradWeight({3, 16, 9, 7, 32, 3, 3, 1, 1, 1, 1}, kg_cgw_wino_edges, 33);
}
TEST(TrainingConvGradWeight, WinogradUnpadded) {
  runConvGradWeight({2, 16, 10, 9, 16, 3, 3, 1, 1, 0, 0}, kg_cgw_wino_pad0, 34);
}
// 256 x 256 channels: Winograd's sums would take 9.4 MB (F(4x4)) or 4.2 MB
// (F(2x2)); the direct algorithm.
TEST(TrainingConvGradWeight, DirectForManyChannels) {
  runConvGradWeight({2, 256, 4, 4, 256, 3, 3, 1, 1, 1, 1}, kg_cgw_direct, 35);
}
// Enough work for chunks of images summed apart, in parallel (the two tests
// above have two chunks each; here four, of two blocks of rows each).
TEST(TrainingConvGradWeight, ChunksOfSeveralBlocks) {
  runConvGradWeight({4, 16, 64, 64, 16, 3, 3, 1, 1, 1, 1}, kg_cgw_chunks, 30);
}
// Few input channels: the taps are part of the register tile (the whole
// window with AVX-512, a row with AVX2 and NEON).
TEST(TrainingConvGradWeight, StemThreeChannels) {
  runConvGradWeight({3, 3, 9, 7, 16, 3, 3, 1, 1, 1, 1}, kg_cgw_stem, 31);
}
TEST(TrainingConvGradWeight, StemOneChannelStride2) {
  runConvGradWeight({2, 1, 9, 9, 32, 3, 3, 2, 2, 1, 1}, kg_cgw_stem1, 32);
}

#ifdef RESNETC_TEST_X86_BASELINE
TEST(TrainingBaseline, ConvGradInputStride2) {
  runConvGradInput({2, 16, 7, 7, 32, 3, 3, 2, 2, 1, 1}, kg_sse_cgi_s2, 2);
}
TEST(TrainingBaseline, ConvGradWeightStride2) {
  runConvGradWeight({3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1}, kg_sse_cgw_s2, 12);
}
TEST(TrainingBaseline, BatchNormGrad) {
  runBatchNormTrainGrad(2, 10, 7, 7, true, bnGradWithRelu(kg_sse_bntg_relu));
}
#endif

// ---------------------------------------------------------------------------
// Reductions and dense layers

void runChannelSum(const std::vector<int> &nchw, int (*kernel)(void *, HB, HB)) {
  Rng rng(130 + nchw[1]);
  const int C = nchw[1];
  Buf input = nchw.size() == 2 ? mat(C, nchw[0]) : nhwc(nchw[0], C, nchw[2], nchw[3]);
  fill(input, rng);
  Buf out = nanFilled(vec(C));
  EXPECT_KERNEL_OK(kernel(nullptr, input.raw_buffer(), out.raw_buffer()));
  std::vector<double> sum(C, 0.0);
  for (size_t i = 0; i < input.number_of_elements(); ++i)
    sum[i % C] += input.data()[i]; // channels innermost in both layouts
  expectClose(out, fromDoubles(vec(C), sum));
}

TEST(TrainingReduction, ChannelSum2D) { runChannelSum({3, 10}, kg_csum2); }
TEST(TrainingReduction, ChannelSum4D) { runChannelSum({2, 10, 7, 7}, kg_csum4); }
TEST(TrainingReduction, ChannelSumParallel) { runChannelSum({3, 64, 16, 16}, kg_csum_par); }

void runChannelDot(int N, int C, int H, int W, int (*kernel)(void *, HB, HB, HB)) {
  Rng rng(135 + C);
  Buf lhs = nhwc(N, C, H, W), rhs = nhwc(N, C, H, W);
  fill(lhs, rng);
  fill(rhs, rng);
  Buf out = nanFilled(vec(C));
  EXPECT_KERNEL_OK(kernel(nullptr, lhs.raw_buffer(), rhs.raw_buffer(), out.raw_buffer()));
  std::vector<double> dot(C, 0.0);
  for (size_t i = 0; i < lhs.number_of_elements(); ++i)
    dot[i % C] += double(lhs.data()[i]) * rhs.data()[i]; // channels innermost
  expectClose(out, fromDoubles(vec(C), dot));
}

TEST(TrainingReduction, ChannelDot) { runChannelDot(2, 10, 7, 7, kg_cdot); }
TEST(TrainingReduction, ChannelDotParallel) { runChannelDot(3, 64, 16, 16, kg_cdot_par); }

void runDenseGradInput(int N, int C, int K, ConvGradKernel kernel) {
  Rng rng(140 + N);
  Buf dy = mat(K, N), w = mat(C, K), dx = nanFilled(mat(C, N));
  fill(dy, rng);
  fill(w, rng);
  EXPECT_KERNEL_OK(kernel(nullptr, dy.raw_buffer(), w.raw_buffer(), dx.raw_buffer()));
  Buf want = mat(C, N);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double sum = 0;
      for (int k = 0; k < K; ++k)
        sum += double(dy(k, n)) * w(c, k);
      want(c, n) = float(sum);
    }
  expectClose(dx, want);
}

void runDenseGradWeight(int N, int C, int K, ConvGradKernel kernel) {
  Rng rng(150 + N);
  Buf dy = mat(K, N), x = mat(C, N), dw = nanFilled(mat(C, K));
  fill(dy, rng);
  fill(x, rng);
  EXPECT_KERNEL_OK(kernel(nullptr, dy.raw_buffer(), x.raw_buffer(), dw.raw_buffer()));
  Buf want = mat(C, K);
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c) {
      double sum = 0;
      for (int n = 0; n < N; ++n)
        sum += double(dy(k, n)) * x(c, n);
      want(c, k) = float(sum);
    }
  expectClose(dw, want);
}

TEST(TrainingDense, GradInputOdd) { runDenseGradInput(3, 20, 10, kg_dgi); }
TEST(TrainingDense, GradInputParallel) { runDenseGradInput(64, 64, 10, kg_dgi_big); }
TEST(TrainingDense, GradWeightOdd) { runDenseGradWeight(3, 20, 10, kg_dgw); }
TEST(TrainingDense, GradWeightParallel) { runDenseGradWeight(128, 64, 10, kg_dgw_big); }

// ---------------------------------------------------------------------------
// Pooling and shortcut gradients

struct PoolGradCase {
  int N, C, H, W, R, S, SH, SW, PH, PW;
  int P() const { return (H + 2 * PH - R) / SH + 1; }
  int Q() const { return (W + 2 * PW - S) / SW + 1; }
};

void runMaxPoolGrad(const PoolGradCase &pc, ConvGradKernel kernel) {
  Rng rng(160 + pc.C);
  Buf x = nhwc(pc.N, pc.C, pc.H, pc.W), dy = nhwc(pc.N, pc.C, pc.P(), pc.Q());
  // Few distinct negative values: many ties (the first maximum must win),
  // and a zero padding would beat every real value.
  x.for_each_value([&](float &v) { v = std::floor(rng.uniform(-3.0f, 0.0f)); });
  fill(dy, rng);
  Buf dx = nanFilled(nhwc(pc.N, pc.C, pc.H, pc.W));
  EXPECT_KERNEL_OK(kernel(nullptr, dy.raw_buffer(), x.raw_buffer(), dx.raw_buffer()));

  std::vector<double> acc(dx.number_of_elements(), 0.0);
  auto index = [&](int c, int xx, int y, int n) {
    return ((size_t(n) * pc.H + y) * pc.W + xx) * pc.C + c;
  };
  for (int n = 0; n < pc.N; ++n)
    for (int c = 0; c < pc.C; ++c)
      for (int p = 0; p < pc.P(); ++p)
        for (int q = 0; q < pc.Q(); ++q) {
          int bestH = -1, bestX = -1;
          for (int r = 0; r < pc.R; ++r)
            for (int s = 0; s < pc.S; ++s) {
              int h = p * pc.SH - pc.PH + r, xx = q * pc.SW - pc.PW + s;
              if (h < 0 || h >= pc.H || xx < 0 || xx >= pc.W)
                continue;
              if (bestH < 0 || x(c, xx, h, n) > x(c, bestX, bestH, n)) {
                bestH = h;
                bestX = xx;
              }
            }
          ASSERT_GE(bestH, 0);
          acc[index(c, bestX, bestH, n)] += dy(c, q, p, n);
        }
  expectClose(dx, fromDoubles(nhwc(pc.N, pc.C, pc.H, pc.W), acc));
}

TEST(TrainingPool, MaxPoolGrad3x3Stride2Pad1) {
  runMaxPoolGrad({2, 10, 7, 7, 3, 3, 2, 2, 1, 1}, kg_mpg);
}
TEST(TrainingPool, MaxPoolGradOverlappingOddWindow) {
  runMaxPoolGrad({3, 16, 9, 8, 2, 3, 2, 1, 1, 1}, kg_mpg_odd);
}
TEST(TrainingPool, MaxPoolGradUnpadded) {
  runMaxPoolGrad({2, 16, 8, 8, 2, 2, 2, 2, 0, 0}, kg_mpg_nopad);
}

#ifdef RESNETC_TEST_X86_BASELINE
TEST(TrainingBaseline, MaxPoolGrad) { runMaxPoolGrad({2, 10, 7, 7, 3, 3, 2, 2, 1, 1}, kg_sse_mpg); }
#endif

TEST(TrainingPool, GlobalAvgPoolGrad) {
  const int N = 2, C = 10, H = 7, W = 7;
  Rng rng(170);
  Buf dy = mat(C, N), dx = nanFilled(nhwc(N, C, H, W));
  fill(dy, rng);
  EXPECT_KERNEL_OK(kg_gapg(nullptr, dy.raw_buffer(), dx.raw_buffer()));
  Buf want = nhwc(N, C, H, W);
  want.for_each_element(
      [&](int c, int x, int y, int n) { want(c, x, y, n) = float(double(dy(c, n)) / (H * W)); });
  expectClose(dx, want);
}

void runZeroPadShortcutGrad(int N, int C, int H, int W, int K, int S,
                            int (*kernel)(void *, HB, HB)) {
  const int lo = (K - C) / 2, Ho = H / S, Wo = W / S;
  Rng rng(180 + C);
  Buf dy = nhwc(N, K, Ho, Wo), dx = nanFilled(nhwc(N, C, H, W));
  fill(dy, rng);
  EXPECT_KERNEL_OK(kernel(nullptr, dy.raw_buffer(), dx.raw_buffer()));
  Buf want = nhwc(N, C, H, W);
  want.for_each_element([&](int c, int x, int y, int n) {
    bool sampled = x % S == 0 && y % S == 0 && x / S < Wo && y / S < Ho;
    want(c, x, y, n) = sampled ? dy(c + lo, x / S, y / S, n) : 0.0f;
  });
  expectClose(dx, want);
}

TEST(TrainingShortcut, ZeroPadGradStride2OddMap) {
  runZeroPadShortcutGrad(2, 10, 7, 7, 20, 2, kg_zpg);
}
TEST(TrainingShortcut, ZeroPadGradStride1) { runZeroPadShortcutGrad(3, 16, 8, 8, 32, 1, kg_zpg1); }

// ---------------------------------------------------------------------------
// Loss

void runSoftmaxCrossEntropy(int N, int K, const std::vector<int> &labelValues, bool quantised,
                            int (*kernel)(void *, HB, HB, HB, HB, HB)) {
  Rng rng(190 + K);
  Buf logits = mat(K, N);
  if (quantised) // ties for the argmax
    logits.for_each_value([&](float &v) { v = std::floor(rng.uniform(-2.0f, 2.0f)); });
  else
    fill(logits, rng, -4.0f, 4.0f);
  IntBuf labels(std::vector<int>{N});
  for (int n = 0; n < N; ++n)
    labels(n) = labelValues[n];
  Buf loss = nanFilled(vec(1)), grad = nanFilled(mat(K, N));
  IntBuf correct(std::vector<int>{1});
  correct(0) = -7;
  EXPECT_KERNEL_OK(kernel(nullptr, logits.raw_buffer(), labels.raw_buffer(), loss.raw_buffer(),
                          grad.raw_buffer(), correct.raw_buffer()));

  double lossSum = 0;
  int wantCorrect = 0;
  Buf wantGrad = mat(K, N);
  for (int n = 0; n < N; ++n) {
    double mx = -INFINITY;
    int arg = 0;
    for (int k = 0; k < K; ++k)
      if (logits(k, n) > mx) {
        mx = logits(k, n);
        arg = k;
      }
    double sum = 0;
    for (int k = 0; k < K; ++k)
      sum += std::exp(double(logits(k, n)) - mx);
    const int label = labels(n);
    const bool inRange = label >= 0 && label < K;
    // Out-of-range labels: read at the clamped index (documented).
    const int read = std::clamp(label, 0, K - 1);
    lossSum += std::log(sum) - (double(logits(read, n)) - mx);
    wantCorrect += inRange && arg == label;
    for (int k = 0; k < K; ++k)
      wantGrad(k, n) =
          float((std::exp(double(logits(k, n)) - mx) / sum - (k == label ? 1.0 : 0.0)) / N);
  }
  Buf wantLoss = vec(1);
  wantLoss(0) = float(lossSum / N);
  expectClose(loss, wantLoss);
  expectClose(grad, wantGrad);
  EXPECT_EQ(correct(0), wantCorrect);
}

TEST(TrainingLoss, SoftmaxCrossEntropyTiesAndBadLabels) {
  // Quantised logits; labels -1 and 10 are out of range.
  runSoftmaxCrossEntropy(3, 10, {3, -1, 10}, true, kg_sce);
}

TEST(TrainingLoss, SoftmaxCrossEntropyTiesGoToTheFirstMaximum) {
  // Hand-made rows: a tie between 1 and 4 (label 4 is not correct, label 1 is).
  const int N = 3, K = 10;
  Buf logits = mat(K, N);
  logits.fill(0.0f);
  logits(1, 0) = 2.0f;
  logits(4, 0) = 2.0f;
  logits(1, 1) = 2.0f;
  logits(4, 1) = 2.0f;
  logits(9, 2) = -1.0f; // all others 0: index 0 is the first maximum
  IntBuf labels(std::vector<int>{N});
  labels(0) = 4;
  labels(1) = 1;
  labels(2) = 0;
  Buf loss = vec(1), grad = mat(K, N);
  IntBuf correct(std::vector<int>{1});
  EXPECT_KERNEL_OK(kg_sce(nullptr, logits.raw_buffer(), labels.raw_buffer(), loss.raw_buffer(),
                          grad.raw_buffer(), correct.raw_buffer()));
  EXPECT_EQ(correct(0), 2);
}

TEST(TrainingLoss, SoftmaxCrossEntropyParallel) {
  std::vector<int> labels(128);
  Rng rng(8);
  for (int &l : labels)
    l = int(rng.uniform(0.0f, 299.99f));
  runSoftmaxCrossEntropy(128, 300, labels, false, kg_sce_big);
}

// ---------------------------------------------------------------------------
// Optimiser steps, in place

using UpdateKernel = int (*)(void *, HB, HB, HB, HB, HB, HB);

void runSgd(int size, float momentum, float weightDecay, UpdateKernel kernel) {
  Rng rng(200 + size);
  Buf w = vec(size), m = vec(size), g = vec(size), lr = vec(1);
  fill(w, rng);
  fill(m, rng);
  fill(g, rng);
  lr(0) = 0.1f;
  Buf wantW = vec(size), wantM = vec(size);
  for (int i = 0; i < size; ++i) {
    double gp = double(g(i)) + double(weightDecay) * w(i);
    double mp = double(momentum) * m(i) + gp;
    wantM(i) = float(mp);
    wantW(i) = float(w(i) - double(lr(0)) * mp);
  }
  // Out of place first, then in place (the way the caller uses it).
  Buf outW = nanFilled(vec(size)), outM = nanFilled(vec(size));
  EXPECT_KERNEL_OK(kernel(nullptr, w.raw_buffer(), m.raw_buffer(), g.raw_buffer(), lr.raw_buffer(),
                          outW.raw_buffer(), outM.raw_buffer()));
  expectClose(outW, wantW);
  expectClose(outM, wantM);
  EXPECT_KERNEL_OK(kernel(nullptr, w.raw_buffer(), m.raw_buffer(), g.raw_buffer(), lr.raw_buffer(),
                          w.raw_buffer(), m.raw_buffer()));
  EXPECT_EQ(0, std::memcmp(w.data(), outW.data(), size * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(m.data(), outM.data(), size * sizeof(float)));
}

TEST(TrainingOptimizer, SgdMomentumWeightDecay) { runSgd(1000, 0.9f, 0.0005f, kg_sgd); }
TEST(TrainingOptimizer, SgdParallelOddSize) { runSgd(100003, 0.9f, 0.0f, kg_sgd_big); }
TEST(TrainingOptimizer, SgdWithoutMomentum) { runSgd(37, 0.0f, 0.01f, kg_sgd_plain); }
#ifdef RESNETC_TEST_X86_BASELINE
TEST(TrainingBaseline, Sgd) { runSgd(1000, 0.9f, 0.0005f, kg_sse_sgd); }
#endif

void runRunningStats(int C, int count, float momentum, float eps, UpdateKernel kernel) {
  Rng rng(210 + C);
  Buf runMean = vec(C), runVar = vec(C), mean = vec(C), invStd = vec(C);
  fill(runMean, rng);
  fill(runVar, rng, 0.5f, 2.0f);
  fill(mean, rng);
  fill(invStd, rng, 0.5f, 3.0f);
  Buf wantMean = vec(C), wantVar = vec(C);
  for (int c = 0; c < C; ++c) {
    double var = 1.0 / (double(invStd(c)) * invStd(c)) - eps;
    double unbiased = var * count / (count - 1.0);
    wantMean(c) = float((1.0 - momentum) * runMean(c) + double(momentum) * mean(c));
    wantVar(c) = float((1.0 - momentum) * runVar(c) + double(momentum) * unbiased);
  }
  EXPECT_KERNEL_OK(kernel(nullptr, runMean.raw_buffer(), runVar.raw_buffer(), mean.raw_buffer(),
                          invStd.raw_buffer(), runMean.raw_buffer(), runVar.raw_buffer()));
  expectClose(runMean, wantMean);
  expectClose(runVar, wantVar);
}

TEST(TrainingOptimizer, RunningStatsInPlace) {
  runRunningStats(10, 98, 0.100000001f, 9.99999975e-06f, kg_rs);
}
TEST(TrainingOptimizer, RunningStatsMomentumOneCountTwo) {
  runRunningStats(64, 2, 1.0f, 0.00100000005f, kg_rs64);
}

#ifdef RESNETC_TEST_X86_BASELINE
// The same kinds compiled for AVX2 + FMA (8 lanes, 16 vector registers): the
// tile choices, vector tails and the weight blocks of deep layers differ from
// those of an AVX-512 host.
class TrainingAvx2 : public ::testing::Test {
protected:
  void SetUp() override {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
      GTEST_SKIP() << "the CPU lacks AVX2 or FMA";
  }
};

TEST_F(TrainingAvx2, ConvGradInput) {
  runConvGradInput({3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1}, kg_avx2_cgi_odd, 3);
  runConvGradInput({2, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1}, kg_avx2_cgi_big, 8);
  runConvGradInput({2, 256, 4, 4, 32, 3, 3, 1, 1, 1, 1}, kg_avx2_cgi_deep, 9);
  runConvGradInput(
      {9, 32, 10, 7, 32, 3, 3, 1, 1, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_avx2_cgi_wino(nullptr, dy, w, a, y, dx); }},
      35);
  runConvGradInput(
      {3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1},
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_avx2_cgi_epi(nullptr, dy, w, a, y, dx); }},
      10);
}
TEST_F(TrainingAvx2, ConvGradWeight) {
  runConvGradWeight({3, 10, 7, 7, 12, 3, 3, 2, 2, 1, 1}, kg_avx2_cgw_s2, 12);
  runConvGradWeight({2, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1}, kg_avx2_cgw_rows, 16);
  runConvGradWeight({3, 3, 9, 7, 16, 3, 3, 1, 1, 1, 1}, kg_avx2_cgw_stem, 31);
}
TEST_F(TrainingAvx2, BatchNormGrad) {
  runBatchNormTrainGrad(2, 10, 7, 7, true, bnGradWithRelu(kg_avx2_bntg_relu));
}
TEST_F(TrainingAvx2, MaxPoolGrad) { runMaxPoolGrad({2, 10, 7, 7, 3, 3, 2, 2, 1, 1}, kg_avx2_mpg); }
TEST_F(TrainingAvx2, ChannelSum) { runChannelSum({2, 10, 7, 7}, kg_avx2_csum4); }
TEST_F(TrainingAvx2, SoftmaxCrossEntropy) {
  runSoftmaxCrossEntropy(3, 10, {3, -1, 10}, true, kg_avx2_sce);
}
TEST_F(TrainingAvx2, Sgd) { runSgd(1000, 0.9f, 0.0005f, kg_avx2_sgd); }
#endif

// ---------------------------------------------------------------------------
// Weight export: packed (k, c, s, r) back to OIHW

void runUnpack(int K, int C, int R, int S, int (*kernel)(void *, HB, HB)) {
  Rng rng(220 + K);
  Buf packed(std::vector<int>{K, C, S, R});
  fill(packed, rng);
  Buf oihw = nanFilled(Buf(std::vector<int>{S, R, C, K})); // dims (s, r, c, k)
  EXPECT_KERNEL_OK(kernel(nullptr, packed.raw_buffer(), oihw.raw_buffer()));
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r)
        for (int s = 0; s < S; ++s)
          ASSERT_EQ(oihw.data()[((size_t(k) * C + c) * R + r) * S + s], packed(k, c, s, r));
}

TEST(TrainingWeights, UnpackConvWeight) { runUnpack(16, 3, 3, 3, kg_unpack); }
TEST(TrainingWeights, UnpackConvWeightParallel) { runUnpack(64, 64, 3, 3, kg_unpack_big); }

// ---------------------------------------------------------------------------
// Results do not depend on the number of threads.

/// Runs `call` with `threads` Halide threads (restarting the pool).
template <typename Fn> void withThreads(int threads, Fn &&call) {
  halide_shutdown_thread_pool();
  halide_set_num_threads(threads);
  call();
}

TEST(TrainingDeterminism, ThreadCountDoesNotChangeResults) {
  Rng rng(300);
  Buf dyW = nhwc(2, 64, 32, 32), xW = nhwc(2, 64, 32, 32);
  fill(dyW, rng);
  fill(xW, rng);
  Buf dyI = nhwc(2, 64, 16, 16), wI(std::vector<int>{64, 64, 3, 3});
  fill(dyI, rng);
  fill(wI, rng);
  Buf xB = nhwc(3, 64, 16, 16), gamma = vec(64), beta = vec(64);
  fill(xB, rng);
  fill(gamma, rng);
  fill(beta, rng);

  std::vector<std::vector<float>> first;
  const int saved = halide_set_num_threads(1);
  for (int threads : {1, 2, 3, 5}) {
    Buf dw(std::vector<int>{64, 64, 3, 3}), dx = nhwc(2, 64, 16, 16);
    Buf out = nhwc(3, 64, 16, 16), mean = vec(64), invStd = vec(64), sum = vec(64);
    withThreads(threads, [&] {
      EXPECT_KERNEL_OK(kg_cgw_rows(nullptr, dyW.raw_buffer(), xW.raw_buffer(), dw.raw_buffer()));
      EXPECT_KERNEL_OK(kg_cgi_big(nullptr, dyI.raw_buffer(), wI.raw_buffer(), dx.raw_buffer()));
      EXPECT_KERNEL_OK(kg_bnt_par(nullptr, xB.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                                  out.raw_buffer(), mean.raw_buffer(), invStd.raw_buffer()));
      EXPECT_KERNEL_OK(kg_csum_par(nullptr, xB.raw_buffer(), sum.raw_buffer()));
    });
    std::vector<std::vector<float>> results;
    for (Buf *b : {&dw, &dx, &out, &mean, &invStd, &sum})
      results.emplace_back(b->data(), b->data() + b->number_of_elements());
    if (first.empty())
      first = results;
    else
      for (size_t i = 0; i < results.size(); ++i)
        EXPECT_TRUE(results[i] == first[i])
            << "result " << i << " differs with " << threads << " threads";
  }
  withThreads(saved, [] {});
}

// ---------------------------------------------------------------------------
// Parsing the training kinds

using resnetc::KernelKind;
using resnetc::KernelSpec;
using resnetc::parseKernelSpec;

TEST(TrainingSpecParse, RoundTrips) {
  struct Case {
    const char *text;
    KernelKind kind;
    std::vector<int64_t> outputShape, forwardOutputShape;
  };
  const Case cases[] = {
      {"kind=batch_norm_train;input=2x10x7x7;epsilon=1e-05;relu=1",
       KernelKind::BatchNormTrain,
       {2, 10, 7, 7},
       {}},
      // A residual, written only when set.
      {"kind=batch_norm_train;input=2x10x7x7;epsilon=1e-05;relu=1;residual=1",
       KernelKind::BatchNormTrain,
       {2, 10, 7, 7},
       {}},
      {"kind=batch_norm_train_grad;input=2x10x7x7;relu=0",
       KernelKind::BatchNormTrainGrad,
       {2, 10, 7, 7},
       {}},
      {"kind=relu_grad;input=1x2x3x4", KernelKind::ReluGrad, {1, 2, 3, 4}, {}},
      {"kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=2x2;padding=1x1",
       KernelKind::Conv2DGradInput,
       {2, 16, 7, 7},
       {2, 32, 4, 4}},
      // The epilogue's flags, written only when set.
      {"kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=2x2;padding=1x1;"
       "residual=1;relu=1",
       KernelKind::Conv2DGradInput,
       {2, 16, 7, 7},
       {2, 32, 4, 4}},
      {"kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=1x1;padding=1x1;relu=1",
       KernelKind::Conv2DGradInput,
       {2, 16, 7, 7},
       {2, 32, 7, 7}},
      {"kind=conv2d_grad_weight;input=2x16x7x7;weight=32x16x3x3;strides=2x2;padding=1x1",
       KernelKind::Conv2DGradWeight,
       {32, 16, 3, 3},
       {2, 32, 4, 4}},
      {"kind=channel_sum;input=3x10", KernelKind::ChannelSum, {10}, {}},
      {"kind=channel_sum;input=3x10x2x2", KernelKind::ChannelSum, {10}, {}},
      {"kind=dense_grad_input;input=3x20;weight=10x20",
       KernelKind::DenseGradInput,
       {3, 20},
       {3, 10}},
      {"kind=dense_grad_weight;input=3x20;weight=10x20",
       KernelKind::DenseGradWeight,
       {10, 20},
       {3, 10}},
      {"kind=max_pool2d_grad;input=2x10x7x7;kernel=3x3;strides=2x2;padding=1x1",
       KernelKind::MaxPool2DGrad,
       {2, 10, 7, 7},
       {2, 10, 4, 4}},
      {"kind=global_avg_pool_grad;input=2x10x7x7",
       KernelKind::GlobalAvgPoolGrad,
       {2, 10, 7, 7},
       {2, 10}},
      {"kind=zero_pad_shortcut_grad;input=2x10x7x7;out_channels=20;stride=2",
       KernelKind::ZeroPadShortcutGrad,
       {2, 10, 7, 7},
       {2, 20, 3, 3}},
      {"kind=softmax_cross_entropy;input=3x10", KernelKind::SoftmaxCrossEntropy, {3, 10}, {}},
      {"kind=sgd_update;size=1000;momentum=0.9;weight_decay=5e-04",
       KernelKind::SgdUpdate,
       {1000},
       {}},
      {"kind=running_stats_update;channels=10;count=98;momentum=0.1;"
       "epsilon=1e-05",
       KernelKind::RunningStatsUpdate,
       {10},
       {}},
      {"kind=unpack_conv_weight;weight=4x2x3x3", KernelKind::UnpackConvWeight, {4, 2, 3, 3}, {}},
  };
  for (const Case &c : cases) {
    KernelSpec spec;
    std::string error;
    ASSERT_TRUE(parseKernelSpec(c.text, spec, error)) << c.text << ": " << error;
    EXPECT_EQ(spec.kind, c.kind) << c.text;
    EXPECT_EQ(spec.toString(), c.text);
    EXPECT_EQ(spec.outputShape(), c.outputShape) << c.text;
    EXPECT_EQ(spec.forwardOutputShape(), c.forwardOutputShape) << c.text;
  }
  KernelSpec spec;
  std::string error;
  ASSERT_TRUE(parseKernelSpec("weight_decay=0;momentum=0.9;size=7;kind=sgd_update", spec, error));
  EXPECT_EQ(spec.momentum, 0.9f);
  EXPECT_EQ(spec.weightDecay, 0.0f);
  EXPECT_EQ(spec.toString(), "kind=sgd_update;size=7;momentum=0.9;weight_decay=0");
  // An epilogue flag of 0 is the kernel without it.
  ASSERT_TRUE(parseKernelSpec(
      "kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=1x1;padding=1x1;residual=0",
      spec, error));
  EXPECT_FALSE(spec.residual);
  EXPECT_EQ(spec.toString(),
            "kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=1x1;padding=1x1");
}

TEST(TrainingSpecParse, Rejects) {
  const char *bad[] = {
      "kind=batch_norm_train;input=2x10x7x7;relu=1",                    // no epsilon
      "kind=batch_norm_train_grad;input=2x10x7x7;relu=1;epsilon=1e-05", // unknown key
      "kind=relu_grad;input=2x10",                                      // rank
      "kind=conv2d_grad_input;input=2x16x7x7;weight=32x8x3x3;strides=1x1;padding=1x1",
      "kind=conv2d_grad_weight;input=2x16x2x2;weight=32x16x5x5;strides=1x1;padding=0x0",
      "kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=1x1;padding=1x1;bias=0",
      "kind=conv2d_grad_input;input=2x16x7x7;weight=32x16x3x3;strides=1x1;padding=1x1;relu=2",
      "kind=conv2d_grad_weight;input=2x16x7x7;weight=32x16x3x3;strides=1x1;padding=1x1;relu=1",
      "kind=channel_sum;input=2x3x4",                       // rank 3
      "kind=channel_sum;input=2x3x4x5x6",                   // rank 5
      "kind=dense_grad_input;input=3x20;weight=10x21",      // mismatch
      "kind=dense_grad_weight;input=3x20x1x1;weight=10x20", // rank
      "kind=max_pool2d_grad;input=1x16x8x8;kernel=3x3;strides=2x2;padding=2x2",
      "kind=zero_pad_shortcut_grad;input=1x32x8x8;out_channels=16;stride=2",
      "kind=softmax_cross_entropy;input=3x10x1x1",                     // rank
      "kind=sgd_update;size=0;momentum=0.9;weight_decay=0",            // empty
      "kind=sgd_update;size=10;momentum=-0.1;weight_decay=0",          // negative
      "kind=sgd_update;size=10;momentum=0.9;weight_decay=inf",         // not finite
      "kind=sgd_update;size=10;momentum=0.9",                          // missing key
      "kind=sgd_update;size=999999999999;momentum=0.9;weight_decay=0", // too large
      "kind=running_stats_update;channels=10;count=1;momentum=0.1;epsilon=1e-05",
      "kind=running_stats_update;channels=10;count=98;momentum=1.5;epsilon=1e-05",
      "kind=running_stats_update;channels=0;count=98;momentum=0.1;epsilon=1e-05",
      "kind=running_stats_update;channels=10;count=98;momentum=0.1;epsilon=-1",
  };
  for (const char *text : bad) {
    KernelSpec spec;
    std::string error;
    EXPECT_FALSE(parseKernelSpec(text, spec, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

} // namespace
