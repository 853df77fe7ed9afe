//===- KernelGenTest.cpp - Tests of resnetc-kernelgen ---------------------===//
//
// The kernels below were generated at build time by resnetc-kernelgen for the
// host (see CMakeLists.txt) and are linked with one Halide runtime object.
// Each is checked against plain C++ loops in PyTorch (NCHW) index order,
// through the documented buffer layouts.
//
//===----------------------------------------------------------------------===//

#include "resnetc/KernelSpec/KernelSpec.h"

#include "HalideBuffer.h"
#include "HalideRuntime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "KernelTestSupport.h"

using namespace resnetc::kerneltest;

// The generated functions (user_context first, inputs, then outputs).
extern "C" {
int kg_nchw_rgb(void *, HB, HB);
int kg_nchw_wide(void *, HB, HB);
int kg_to_nchw_odd(void *, HB, HB);
int kg_to_nchw_wide(void *, HB, HB);
int kg_conv_stem(void *, HB input, HB weight, HB bias, HB out);
int kg_conv_res(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_conv_1x1s2(void *, HB input, HB weight, HB out);
int kg_conv_odd(void *, HB input, HB weight, HB residual, HB out);
int kg_conv_wide(void *, HB input, HB weight, HB out);
int kg_conv_s2_skip(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_conv_s2_asym(void *, HB input, HB weight, HB out);
int kg_conv_tiny(void *, HB input, HB weight, HB bias, HB out);
int kg_conv_gray(void *, HB input, HB weight, HB bias, HB out);
int kg_conv_deep(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_conv_wino(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_conv_direct(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_conv_wino_tasks(void *, HB input, HB weight, HB out);
int kg_conv_wino4(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_conv_wino4_declined(void *, HB input, HB weight, HB out);
int kg_fold_blocked(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB blocked, HB bias);
int kg_conv_blocked(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_fold_blocked_s2(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB blocked, HB bias);
int kg_conv_blocked_s2(void *, HB input, HB weight, HB bias, HB out);
int kg_fold_blocked_s2_3x3(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB blocked,
                           HB bias);
int kg_conv_blocked_s2_3x3(void *, HB input, HB weight, HB bias, HB out);
int kg_fold_blocked_odd(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB blocked, HB bias);
int kg_conv_blocked_odd(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_fold_wino4(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB filter, HB bias);
int kg_conv_wino4_prepared(void *, HB input, HB filter, HB bias, HB residual, HB out);
int kg_fold_wino4_big(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB filter, HB bias);
int kg_conv_wino4_stationary(void *, HB input, HB filter, HB bias, HB residual, HB out);
int kg_fold_wino2_big(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB filter, HB bias);
int kg_conv_wino2_stationary(void *, HB input, HB filter, HB bias, HB out);
#ifdef RESNETC_TEST_X86_BASELINE
int kg_sse_fold_blocked(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB blocked, HB bias);
int kg_sse_conv_blocked(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_avx2_fold_wino2(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB filter, HB bias);
int kg_avx2_conv_wino2_stationary(void *, HB input, HB filter, HB bias, HB out);
int kg_sse_conv_res(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_sse_conv_deep(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_sse_conv_wide(void *, HB input, HB weight, HB out);
int kg_sse_conv_s2_skip(void *, HB input, HB weight, HB bias, HB residual, HB out);
int kg_sse_maxpool(void *, HB input, HB out);
int kg_sse_dense(void *, HB input, HB weight, HB bias, HB out);
#endif
int kg_bn_relu(void *, HB input, HB gamma, HB beta, HB mean, HB var, HB out);
int kg_add_relu(void *, HB lhs, HB rhs, HB out);
int kg_relu(void *, HB input, HB out);
int kg_scale(void *, HB input, HB scale, HB out);
int kg_maxpool(void *, HB input, HB out);
int kg_maxpool_odd(void *, HB input, HB out);
int kg_gap_odd(void *, HB input, HB out);
int kg_bn_odd(void *, HB input, HB gamma, HB beta, HB mean, HB var, HB out);
int kg_zpad_odd(void *, HB input, HB out);
int kg_dense_odd(void *, HB input, HB weight, HB out);
int kg_gap(void *, HB input, HB out);
int kg_dense(void *, HB input, HB weight, HB bias, HB out);
int kg_zpad(void *, HB input, HB out);
int kg_pack(void *, HB weight, HB out);
int kg_pack_big(void *, HB weight, HB out);
int kg_fold_bias(void *, HB weight, HB bias, HB gamma, HB beta, HB mean, HB var, HB packed,
                 HB foldedBias);
int kg_fold_nobias(void *, HB weight, HB gamma, HB beta, HB mean, HB var, HB packed, HB foldedBias);
}

namespace {

extern "C" void recordHalideError(void *, const char *message) { gLastError = message; }

class HalideErrorEnvironment : public ::testing::Environment {
public:
  void SetUp() override { halide_set_error_handler(recordHalideError); }
};
const auto *const gEnvironment = ::testing::AddGlobalTestEnvironment(new HalideErrorEnvironment);

// ---------------------------------------------------------------------------
// Convolution

struct ConvCase {
  int N, C, H, W, K, R, S, SH, SW, PH, PW;
  bool bias, residual, relu;
  int P() const { return (H + 2 * PH - R) / SH + 1; }
  int Q() const { return (W + 2 * PW - S) / SW + 1; }
};

template <typename Fn> void runConv(const ConvCase &cc, Fn &&kernel, uint64_t seed) {
  Rng rng(seed);
  Buf input = nhwc(cc.N, cc.C, cc.H, cc.W);
  fill(input, rng);
  // Logical OIHW weight, stored packed: dims (k, c, s, r).
  std::vector<float> w(size_t(cc.K) * cc.C * cc.R * cc.S);
  for (float &v : w)
    v = rng.uniform(-0.5f, 0.5f);
  auto W = [&](int k, int c, int r, int s) {
    return w[((size_t(k) * cc.C + c) * cc.R + r) * cc.S + s];
  };
  Buf packed(std::vector<int>{cc.K, cc.C, cc.S, cc.R});
  packed.for_each_element([&](int k, int c, int s, int r) { packed(k, c, s, r) = W(k, c, r, s); });
  Buf bias(std::vector<int>{cc.K});
  fill(bias, rng);
  Buf residual = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  fill(residual, rng);
  Buf out = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  out.fill(std::nanf(""));

  EXPECT_KERNEL_OK(kernel(input, packed, bias, residual, out));

  Buf want = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  for (int n = 0; n < cc.N; ++n)
    for (int k = 0; k < cc.K; ++k)
      for (int p = 0; p < cc.P(); ++p)
        for (int q = 0; q < cc.Q(); ++q) {
          double sum = cc.bias ? bias(k) : 0.0;
          for (int c = 0; c < cc.C; ++c)
            for (int r = 0; r < cc.R; ++r)
              for (int s = 0; s < cc.S; ++s) {
                int h = p * cc.SH - cc.PH + r, x = q * cc.SW - cc.PW + s;
                if (h < 0 || h >= cc.H || x < 0 || x >= cc.W)
                  continue;
                sum += double(input(c, x, h, n)) * W(k, c, r, s);
              }
          if (cc.residual)
            sum += residual(k, q, p, n);
          if (cc.relu)
            sum = std::max(sum, 0.0);
          want(k, q, p, n) = float(sum);
        }
  expectClose(out, want);
}

TEST(KernelGenConv, StemC3Kernel7Stride2) {
  ConvCase cc{1, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3, true, false, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &, Buf &out) {
        return kg_conv_stem(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                            out.raw_buffer());
      },
      1);
}

// One input channel, several images: the padded input, copied once, spans
// the images (its rows are split into parallel tasks across them).
TEST(KernelGenConv, GrayStemBatch3) {
  ConvCase cc{3, 1, 9, 11, 16, 3, 3, 1, 1, 1, 1, true, false, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &, Buf &out) {
        return kg_conv_gray(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                            out.raw_buffer());
      },
      28);
}

TEST(KernelGenConv, Conv3x3ResidualRelu) {
  ConvCase cc{2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_conv_res(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                           res.raw_buffer(), out.raw_buffer());
      },
      2);
}

TEST(KernelGenConv, Conv1x1Stride2) {
  ConvCase cc{1, 16, 16, 16, 32, 1, 1, 2, 2, 0, 0, false, false, false};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &, Buf &out) {
        return kg_conv_1x1s2(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
      },
      3);
}

TEST(KernelGenConv, OddExtentsK10Residual) {
  ConvCase cc{1, 8, 7, 7, 10, 3, 3, 1, 1, 1, 1, false, true, false};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &res, Buf &out) {
        return kg_conv_odd(nullptr, in.raw_buffer(), w.raw_buffer(), res.raw_buffer(),
                           out.raw_buffer());
      },
      4);
}

TEST(KernelGenConv, WideInputBlockedReductionStride2) {
  ConvCase cc{1, 128, 8, 8, 32, 3, 3, 2, 2, 1, 1, false, false, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &, Buf &out) {
        return kg_conv_wide(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
      },
      5);
}

// Strided convs over few channels skip the padding taps and read the input
// in place; odd extents leave taps off the last column and row as well.
TEST(KernelGenConv, Stride2SkipsPaddingTaps) {
  ConvCase cc{2, 16, 7, 9, 32, 3, 3, 2, 2, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_conv_s2_skip(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                               res.raw_buffer(), out.raw_buffer());
      },
      25);
}

TEST(KernelGenConv, AsymmetricStrideKernelSkipsPaddingTaps) {
  ConvCase cc{1, 24, 9, 6, 16, 5, 3, 2, 1, 2, 1, false, false, false};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &, Buf &out) {
        return kg_conv_s2_asym(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
      },
      26);
}

TEST(KernelGenConv, DeepSmallImage) {
  ConvCase cc{1, 32, 7, 7, 256, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_conv_deep(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                            res.raw_buffer(), out.raw_buffer());
      },
      7);
}

// Stride 1, 3x3, 16 channels and more: Winograd F(2x2, 3x3) (here with
// partial tiles at the right and bottom edges); a large filter over few
// tiles keeps the direct conv.
TEST(KernelGenConv, WinogradImageBlocks) {
  ConvCase cc{9, 32, 9, 7, 48, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_conv_wino(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                            res.raw_buffer(), out.raw_buffer());
      },
      27);
}
// 23 images of 3 rows of tiles: parallel tasks of 2 rows, the last one with
// a single row.
TEST(KernelGenConv, WinogradTasksOfSeveralRows) {
  ConvCase cc{23, 16, 6, 8, 16, 3, 3, 1, 1, 1, 1, false, false, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &, Buf &out) {
        return kg_conv_wino_tasks(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
      },
      29);
}
// winograd=4: F(4x4, 3x3) (13x11: the last tiles of each row and column
// partial), and F(2x2) where the target declines F(4x4).
TEST(KernelGenConv, WinogradF4) {
  ConvCase cc{2, 32, 13, 11, 32, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_conv_wino4(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                             res.raw_buffer(), out.raw_buffer());
      },
      41);
}
TEST(KernelGenConv, WinogradF4DeclinedTakesF2) {
  ConvCase cc{1, 128, 28, 28, 128, 3, 3, 1, 1, 1, 1, false, false, false};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &, Buf &out) {
        return kg_conv_wino4_declined(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
      },
      42);
}
TEST(KernelGenConv, DirectForLargeFilterOnFewTiles) {
  ConvCase cc{1, 256, 4, 4, 256, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_conv_direct(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                              res.raw_buffer(), out.raw_buffer());
      },
      28);
}

/// A conv whose weights come from fold_pack_conv_weight in the blocked layout
/// (`blocked_for` / `weights=blocked`: the two kernels pick the same block), or
/// transformed for Winograd's algorithm (`winograd_filter=m` /
/// `weights=winograd`: `foldedExtents` K * C * alpha * alpha, in blocks of output
/// channels). The fold is an
/// identity here (gamma 1, variance 1, epsilon 0, beta and mean 0), so
/// runConv's reference applies unchanged.
template <typename Fold, typename Conv>
auto foldedWeights(const ConvCase &cc, Fold fold, Conv conv, std::vector<int> foldedExtents = {}) {
  if (foldedExtents.empty())
    foldedExtents = {cc.K * cc.C * cc.R * cc.S};
  return [cc, fold, conv, foldedExtents](Buf &in, Buf &packed, Buf &b, Buf &res, Buf &out) {
    Buf oihw(std::vector<int>{cc.S, cc.R, cc.C, cc.K}), ones(std::vector<int>{cc.K}),
        zeros(std::vector<int>{cc.K}), foldedBias(std::vector<int>{cc.K});
    oihw.for_each_element(
        [&](int s, int r, int c, int k) { oihw(s, r, c, k) = packed(k, c, s, r); });
    ones.fill(1.0f);
    zeros.fill(0.0f);
    Buf blocked(foldedExtents);
    blocked.fill(std::nanf(""));
    int status =
        fold(nullptr, oihw.raw_buffer(), ones.raw_buffer(), zeros.raw_buffer(), zeros.raw_buffer(),
             ones.raw_buffer(), blocked.raw_buffer(), foldedBias.raw_buffer());
    if (status != 0)
      return status;
    return conv(nullptr, in.raw_buffer(), blocked.raw_buffer(), b.raw_buffer(), res.raw_buffer(),
                out.raw_buffer());
  };
}

/// A conv without a residual input, its weights folded into `filterExtents`
/// (default: the blocked layout's K * C * R * S).
template <typename Fold, typename Conv>
auto foldedNoResidual(const ConvCase &cc, Fold fold, Conv conv,
                      std::vector<int> filterExtents = {}) {
  return foldedWeights(
      cc, fold, [conv](void *uc, HB in, HB w, HB b, HB, HB out) { return conv(uc, in, w, b, out); },
      std::move(filterExtents));
}

TEST(KernelGenConv, BlockedWeightsDeepSmallImage) {
  ConvCase cc{1, 32, 7, 7, 256, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(cc, foldedWeights(cc, kg_fold_blocked, kg_conv_blocked), 21);
}

TEST(KernelGenConv, BlockedWeightsStride2) {
  ConvCase cc{1, 128, 8, 8, 256, 1, 1, 2, 2, 0, 0, true, false, false};
  runConv(cc, foldedNoResidual(cc, kg_fold_blocked_s2, kg_conv_blocked_s2), 22);
}

// The weights of each block streamed chunk by chunk of input channels over
// the whole image (kg_conv_blocked too, at 7x7): at stride 2 with padding taps.
TEST(KernelGenConv, BlockedWeightsChunkedStride2) {
  ConvCase cc{2, 64, 28, 28, 256, 3, 3, 2, 2, 1, 1, true, false, true};
  runConv(cc, foldedNoResidual(cc, kg_fold_blocked_s2_3x3, kg_conv_blocked_s2_3x3), 25);
}

TEST(KernelGenConv, BlockedWeightsOddChannels) {
  ConvCase cc{1, 8, 7, 7, 10, 3, 3, 1, 1, 1, 1, true, true, false};
  runConv(cc, foldedWeights(cc, kg_fold_blocked_odd, kg_conv_blocked_odd), 23);
}

// Filters transformed when the weights load: F(4x4) over rows of tiles (the
// filter in cache; partial tiles at 13x11), and filter-stationary images
// at F(4x4) (128 channels on 14x14) and F(2x2) (256 on 7x7, two images).
TEST(KernelGenConv, WinogradFilterFromTheFold) {
  ConvCase cc{2, 32, 13, 11, 32, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(cc, foldedWeights(cc, kg_fold_wino4, kg_conv_wino4_prepared, {32 * 32 * 6 * 6}), 43);
}

TEST(KernelGenConv, WinogradFilterStationaryF4) {
  ConvCase cc{1, 128, 14, 14, 128, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(cc, foldedWeights(cc, kg_fold_wino4_big, kg_conv_wino4_stationary, {128 * 128 * 6 * 6}),
          44);
}

TEST(KernelGenConv, WinogradFilterStationaryF2) {
  ConvCase cc{2, 256, 7, 7, 256, 3, 3, 1, 1, 1, 1, true, false, true};
  runConv(cc,
          foldedNoResidual(cc, kg_fold_wino2_big, kg_conv_wino2_stationary, {256 * 256 * 4 * 4}),
          45);
}

#ifdef RESNETC_TEST_X86_BASELINE
// AVX2: 8 lanes, 16 registers (other chunks and register tiles).
TEST(KernelGenConvAvx2, WinogradFilterStationaryF2) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "the CPU lacks AVX2 or FMA";
  ConvCase cc{2, 256, 7, 7, 256, 3, 3, 1, 1, 1, 1, true, false, true};
  runConv(
      cc,
      foldedNoResidual(cc, kg_avx2_fold_wino2, kg_avx2_conv_wino2_stationary, {256 * 256 * 4 * 4}),
      46);
}

// The same layers compiled for the SSE2 baseline (x86-64-linux: 4 lanes, 16
// vector registers), whose schedules differ (tiles, weight blocks).
TEST(KernelGenConvBaseline, BlockedWeightsDeepSmallImage) {
  ConvCase cc{1, 32, 7, 7, 256, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(cc, foldedWeights(cc, kg_sse_fold_blocked, kg_sse_conv_blocked), 24);
}

TEST(KernelGenConvBaseline, Conv3x3ResidualRelu) {
  ConvCase cc{2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_sse_conv_res(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                               res.raw_buffer(), out.raw_buffer());
      },
      12);
}

TEST(KernelGenConvBaseline, DeepSmallImageWeightBlocks) {
  ConvCase cc{1, 32, 7, 7, 256, 3, 3, 1, 1, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_sse_conv_deep(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                                res.raw_buffer(), out.raw_buffer());
      },
      17);
}

TEST(KernelGenConvBaseline, Stride2SkipsPaddingTaps) {
  ConvCase cc{2, 16, 7, 9, 32, 3, 3, 2, 2, 1, 1, true, true, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &res, Buf &out) {
        return kg_sse_conv_s2_skip(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                                   res.raw_buffer(), out.raw_buffer());
      },
      27);
}

TEST(KernelGenConvBaseline, WideInputBlockedReductionStride2) {
  ConvCase cc{1, 128, 8, 8, 32, 3, 3, 2, 2, 1, 1, false, false, true};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &, Buf &, Buf &out) {
        return kg_sse_conv_wide(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
      },
      15);
}
#endif

TEST(KernelGenConv, TinyScalarAsymmetricStridePadding) {
  ConvCase cc{1, 4, 5, 5, 3, 3, 3, 1, 2, 1, 2, true, false, false};
  runConv(
      cc,
      [](Buf &in, Buf &w, Buf &b, Buf &, Buf &out) {
        return kg_conv_tiny(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(),
                            out.raw_buffer());
      },
      6);
}

// ---------------------------------------------------------------------------
// Other kinds

template <typename Fn> void runNchwToNhwc(int N, int C, int H, int W, Fn &&kernel) {
  Rng rng(10 + C);
  Buf input(std::vector<int>{W, H, C, N}); // NCHW: dims (x, y, c, n)
  fill(input, rng);
  Buf out = nhwc(N, C, H, W);
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(input.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(N, C, H, W);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          want(c, x, y, n) = input.data()[((n * C + c) * H + y) * W + x];
  expectClose(out, want);
}

TEST(KernelGenLayout, NchwToNhwcRgb) {
  runNchwToNhwc(2, 3, 32, 32, [](HB in, HB out) { return kg_nchw_rgb(nullptr, in, out); });
}

TEST(KernelGenLayout, NchwToNhwcWide) {
  runNchwToNhwc(1, 16, 5, 6, [](HB in, HB out) { return kg_nchw_wide(nullptr, in, out); });
}

// A backbone's outputs: NHWC activations back to the caller's NCHW.
template <typename Fn> void runNhwcToNchw(int N, int C, int H, int W, Fn &&kernel) {
  Rng rng(20 + C);
  Buf input = nhwc(N, C, H, W);
  fill(input, rng);
  Buf out(std::vector<int>{W, H, C, N});
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(input.raw_buffer(), out.raw_buffer()));
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          ASSERT_EQ(out.data()[((n * C + c) * H + y) * W + x], input(c, x, y, n))
              << "n " << n << " c " << c << " y " << y << " x " << x;
}

TEST(KernelGenLayout, NhwcToNchwOdd) {
  runNhwcToNchw(2, 5, 3, 7, [](HB in, HB out) { return kg_to_nchw_odd(nullptr, in, out); });
}

TEST(KernelGenLayout, NhwcToNchwWide) {
  runNhwcToNchw(1, 16, 4, 16, [](HB in, HB out) { return kg_to_nchw_wide(nullptr, in, out); });
}

void runBatchNorm(int N, int C, int H, int W, float eps, bool relu,
                  int (*kernel)(void *, HB, HB, HB, HB, HB, HB)) {
  Rng rng(20 + C);
  Buf input = nhwc(N, C, H, W), gamma(std::vector<int>{C}), beta(std::vector<int>{C}),
      mean(std::vector<int>{C}), var(std::vector<int>{C});
  fill(input, rng, -2, 2);
  fill(gamma, rng, 0.5f, 1.5f);
  fill(beta, rng);
  fill(mean, rng, -0.5f, 0.5f);
  fill(var, rng, 0.1f, 2.0f);
  Buf out = nhwc(N, C, H, W);
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(nullptr, input.raw_buffer(), gamma.raw_buffer(), beta.raw_buffer(),
                          mean.raw_buffer(), var.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(N, C, H, W);
  want.for_each_element([&](int c, int x, int y, int n) {
    float scale = gamma(c) / std::sqrt(var(c) + eps);
    float v = (input(c, x, y, n) - mean(c)) * scale + beta(c);
    want(c, x, y, n) = relu ? std::max(v, 0.0f) : v;
  });
  expectClose(out, want);
}

TEST(KernelGenElementwise, BatchNormRelu) {
  runBatchNorm(1, 16, 8, 8, 9.99999975e-06f, true, kg_bn_relu);
}

TEST(KernelGenElementwise, BatchNormOddShape) {
  runBatchNorm(2, 20, 3, 5, 0.00100000005f, false, kg_bn_odd);
}

TEST(KernelGenElementwise, AddRelu) {
  Rng rng(21);
  Buf lhs = nhwc(2, 16, 4, 4), rhs = nhwc(2, 16, 4, 4), out = nhwc(2, 16, 4, 4);
  fill(lhs, rng);
  fill(rhs, rng);
  EXPECT_KERNEL_OK(kg_add_relu(nullptr, lhs.raw_buffer(), rhs.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(2, 16, 4, 4);
  want.for_each_element([&](int c, int x, int y, int n) {
    want(c, x, y, n) = std::max(lhs(c, x, y, n) + rhs(c, x, y, n), 0.0f);
  });
  expectClose(out, want);
}

TEST(KernelGenElementwise, ReluChannelsNotAMultipleOfTheVector) {
  Rng rng(22);
  Buf input = nhwc(1, 20, 3, 3), out = nhwc(1, 20, 3, 3);
  fill(input, rng);
  EXPECT_KERNEL_OK(kg_relu(nullptr, input.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(1, 20, 3, 3);
  want.for_each_element(
      [&](int c, int x, int y, int n) { want(c, x, y, n) = std::max(input(c, x, y, n), 0.0f); });
  expectClose(out, want);
}

TEST(KernelGenElementwise, ScaleByChannelOddShape) {
  Rng rng(23);
  Buf input = nhwc(2, 20, 3, 5), out = nhwc(2, 20, 3, 5), scale(std::vector<int>{20});
  fill(input, rng);
  fill(scale, rng, 0.5f, 1.5f);
  EXPECT_KERNEL_OK(kg_scale(nullptr, input.raw_buffer(), scale.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(2, 20, 3, 5);
  want.for_each_element(
      [&](int c, int x, int y, int n) { want(c, x, y, n) = input(c, x, y, n) * scale(c); });
  expectClose(out, want);
}

struct PoolCase {
  int N, C, H, W, R, S, SH, SW, PH, PW;
  int P() const { return (H + 2 * PH - R) / SH + 1; }
  int Q() const { return (W + 2 * PW - S) / SW + 1; }
};

void runMaxPool(const PoolCase &pc, int (*kernel)(void *, HB, HB)) {
  Rng rng(30 + pc.C);
  Buf input = nhwc(pc.N, pc.C, pc.H, pc.W);
  fill(input, rng, -2.0f, -1.0f); // the zero padding must never win
  Buf out = nhwc(pc.N, pc.C, pc.P(), pc.Q());
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(nullptr, input.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(pc.N, pc.C, pc.P(), pc.Q());
  want.for_each_element([&](int c, int q, int p, int n) {
    float best = -std::numeric_limits<float>::infinity();
    for (int r = 0; r < pc.R; ++r)
      for (int s = 0; s < pc.S; ++s) {
        int h = p * pc.SH - pc.PH + r, x = q * pc.SW - pc.PW + s;
        if (h >= 0 && h < pc.H && x >= 0 && x < pc.W)
          best = std::max(best, input(c, x, h, n));
      }
    want(c, q, p, n) = best;
  });
  expectClose(out, want);
  for (size_t i = 0; i < out.number_of_elements(); ++i)
    ASSERT_LT(out.data()[i], -0.99f);
}

TEST(KernelGenPool, MaxPool3x3Stride2Pad1NegativeInputs) {
  runMaxPool({1, 16, 9, 9, 3, 3, 2, 2, 1, 1}, kg_maxpool);
}

TEST(KernelGenPool, MaxPoolOddChannelsAndWindow) {
  runMaxPool({2, 20, 7, 7, 2, 3, 2, 1, 1, 1}, kg_maxpool_odd);
}

void runGlobalAvgPool(int N, int C, int H, int W, int (*kernel)(void *, HB, HB)) {
  Rng rng(31 + C);
  Buf input = nhwc(N, C, H, W);
  fill(input, rng);
  Buf out(std::vector<int>{C, N});
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(nullptr, input.raw_buffer(), out.raw_buffer()));
  Buf want(std::vector<int>{C, N});
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double sum = 0;
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          sum += input(c, x, y, n);
      want(c, n) = float(sum / (H * W));
    }
  expectClose(out, want);
}

TEST(KernelGenPool, GlobalAvgPool) { runGlobalAvgPool(2, 64, 8, 8, kg_gap); }

TEST(KernelGenPool, GlobalAvgPoolOddShape) { runGlobalAvgPool(1, 20, 7, 5, kg_gap_odd); }

void runDense(int N, int C, int K, bool hasBias,
              const std::function<int(Buf &, Buf &, Buf &, Buf &)> &kernel) {
  Rng rng(40 + C);
  Buf input(std::vector<int>{C, N}), weight(std::vector<int>{C, K}), bias(std::vector<int>{K}),
      out(std::vector<int>{K, N});
  fill(input, rng);
  fill(weight, rng);
  fill(bias, rng);
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(input, weight, bias, out));
  Buf want(std::vector<int>{K, N});
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) {
      double sum = hasBias ? bias(k) : 0.0;
      for (int c = 0; c < C; ++c)
        sum += double(input(c, n)) * weight(c, k);
      want(k, n) = float(sum);
    }
  expectClose(out, want);
}

int callDense(int (*kernel)(void *, HB, HB, HB, HB), Buf &in, Buf &w, Buf &b, Buf &out) {
  return kernel(nullptr, in.raw_buffer(), w.raw_buffer(), b.raw_buffer(), out.raw_buffer());
}

TEST(KernelGenDense, TenClasses) {
  runDense(2, 64, 10, true,
           [](Buf &in, Buf &w, Buf &b, Buf &out) { return callDense(kg_dense, in, w, b, out); });
}

TEST(KernelGenDense, OddFeaturesNoBias) {
  runDense(3, 20, 7, false, [](Buf &in, Buf &w, Buf &, Buf &out) {
    return kg_dense_odd(nullptr, in.raw_buffer(), w.raw_buffer(), out.raw_buffer());
  });
}

#ifdef RESNETC_TEST_X86_BASELINE
TEST(KernelGenBaseline, MaxPool) { runMaxPool({1, 16, 9, 9, 3, 3, 2, 2, 1, 1}, kg_sse_maxpool); }
TEST(KernelGenBaseline, Dense) {
  runDense(2, 64, 10, true, [](Buf &in, Buf &w, Buf &b, Buf &out) {
    return callDense(kg_sse_dense, in, w, b, out);
  });
}
#endif

void runZeroPad(int N, int C, int H, int W, int K, int S, int (*kernel)(void *, HB, HB)) {
  const int lo = (K - C) / 2;
  Rng rng(50 + C);
  Buf input = nhwc(N, C, H, W);
  fill(input, rng);
  Buf out = nhwc(N, K, H / S, W / S);
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(nullptr, input.raw_buffer(), out.raw_buffer()));
  Buf want = nhwc(N, K, H / S, W / S);
  want.for_each_element([&](int k, int x, int y, int n) {
    want(k, x, y, n) = (k >= lo && k < lo + C) ? input(k - lo, x * S, y * S, n) : 0.0f;
  });
  expectClose(out, want);
}

TEST(KernelGenShortcut, ZeroPad16To32Stride2) { runZeroPad(1, 16, 8, 8, 32, 2, kg_zpad); }

TEST(KernelGenShortcut, ZeroPadOddShape) { runZeroPad(2, 20, 7, 7, 44, 2, kg_zpad_odd); }

void runPack(int K, int C, int R, int S, int (*kernel)(void *, HB, HB)) {
  Rng rng(60 + K);
  Buf weight(std::vector<int>{S, R, C, K}); // OIHW: dims (s, r, c, k)
  fill(weight, rng);
  Buf out(std::vector<int>{K, C, S, R});
  out.fill(std::nanf(""));
  EXPECT_KERNEL_OK(kernel(nullptr, weight.raw_buffer(), out.raw_buffer()));
  Buf want(std::vector<int>{K, C, S, R});
  want.for_each_element([&](int k, int c, int s, int r) {
    // OIHW flat index ((k*C + c)*R + r)*S + s.
    want(k, c, s, r) = weight.data()[((k * C + c) * R + r) * S + s];
  });
  expectClose(out, want);
}

TEST(KernelGenWeights, PackConvWeight) { runPack(16, 3, 3, 3, kg_pack); }

TEST(KernelGenWeights, PackConvWeightParallel) { runPack(64, 64, 3, 3, kg_pack_big); }

void runFold(int K, int C, int R, int S, bool hasBias, float eps) {
  Rng rng(70 + K);
  Buf weight(std::vector<int>{S, R, C, K}), bias(std::vector<int>{K}), gamma(std::vector<int>{K}),
      beta(std::vector<int>{K}), mean(std::vector<int>{K}), var(std::vector<int>{K});
  fill(weight, rng);
  fill(bias, rng);
  fill(gamma, rng, 0.5f, 1.5f);
  fill(beta, rng);
  fill(mean, rng, -0.5f, 0.5f);
  fill(var, rng, 0.1f, 2.0f);
  Buf packed(std::vector<int>{K, C, S, R}), folded(std::vector<int>{K});
  packed.fill(std::nanf(""));
  folded.fill(std::nanf(""));
  if (hasBias)
    EXPECT_KERNEL_OK(kg_fold_bias(nullptr, weight.raw_buffer(), bias.raw_buffer(),
                                  gamma.raw_buffer(), beta.raw_buffer(), mean.raw_buffer(),
                                  var.raw_buffer(), packed.raw_buffer(), folded.raw_buffer()));
  else
    EXPECT_KERNEL_OK(kg_fold_nobias(nullptr, weight.raw_buffer(), gamma.raw_buffer(),
                                    beta.raw_buffer(), mean.raw_buffer(), var.raw_buffer(),
                                    packed.raw_buffer(), folded.raw_buffer()));
  Buf wantPacked(std::vector<int>{K, C, S, R}), wantBias(std::vector<int>{K});
  for (int k = 0; k < K; ++k) {
    double scale = gamma(k) / std::sqrt(double(var(k)) + eps);
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r)
        for (int s = 0; s < S; ++s)
          wantPacked(k, c, s, r) = float(weight(s, r, c, k) * scale);
    double old = hasBias ? bias(k) : 0.0;
    wantBias(k) = float(beta(k) + (old - mean(k)) * scale);
  }
  expectClose(packed, wantPacked);
  expectClose(folded, wantBias);
}

TEST(KernelGenWeights, FoldPackWithBias) { runFold(64, 64, 3, 3, true, 1e-5f); }

TEST(KernelGenWeights, FoldPackWithoutBias) { runFold(32, 16, 1, 1, false, 0.00100000005f); }

// ---------------------------------------------------------------------------
// Buffer checks stay on: a wrongly shaped buffer is an error, not a crash.

TEST(KernelGenAsserts, WrongShapeIsReported) {
  Buf input = nhwc(1, 20, 3, 4), out = nhwc(1, 20, 3, 3); // W is 4, not 3
  gLastError.clear();
  int rc = kg_relu(nullptr, input.raw_buffer(), out.raw_buffer());
  EXPECT_NE(rc, 0);
  EXPECT_NE(gLastError.find("input"), std::string::npos) << gLastError;
}

TEST(KernelGenAsserts, WrongStrideIsReported) {
  // Same extents, but a channels-outermost (NCHW-like) layout.
  Buf input(std::vector<int>{3, 3, 20, 1});
  Buf transposed = input.transposed({2, 0, 1, 3}); // dims (c, x, y, n)
  Buf out = nhwc(1, 20, 3, 3);
  gLastError.clear();
  int rc = kg_relu(nullptr, transposed.raw_buffer(), out.raw_buffer());
  EXPECT_NE(rc, 0);
  EXPECT_FALSE(gLastError.empty());
}

// ---------------------------------------------------------------------------
// The spec parser

using resnetc::KernelKind;
using resnetc::KernelSpec;
using resnetc::parseKernelSpec;

TEST(KernelSpecParse, ConvRoundTrip) {
  const std::string text = "kind=conv2d;input=1x16x32x32;weight=32x16x3x3;"
                           "strides=2x2;padding=1x1;bias=1;residual=0;relu=1";
  KernelSpec spec;
  std::string error;
  ASSERT_TRUE(parseKernelSpec(text, spec, error)) << error;
  EXPECT_EQ(spec.kind, KernelKind::Conv2D);
  EXPECT_EQ(spec.outputShape(), (std::vector<int64_t>{1, 32, 16, 16}));
  EXPECT_TRUE(spec.bias);
  EXPECT_FALSE(spec.residual);
  EXPECT_TRUE(spec.relu);
  EXPECT_EQ(spec.toString(), text);
}

TEST(KernelSpecParse, EpsilonRoundTrip) {
  const std::string text = "kind=batch_norm;input=2x64x8x8;epsilon=9.99999975e-06;relu=0";
  KernelSpec spec;
  std::string error;
  ASSERT_TRUE(parseKernelSpec(text, spec, error)) << error;
  EXPECT_EQ(spec.epsilon, 1e-5f);
  // The canonical text is the shortest that reads back as the same float.
  EXPECT_EQ(spec.toString(), "kind=batch_norm;input=2x64x8x8;epsilon=1e-05;relu=0");
}

TEST(KernelSpecParse, Rejects) {
  const char *bad[] = {
      "",
      "kind=relu",                             // missing input
      "kind=relu;input=1x2x3x4;relu=1",        // unknown key for kind
      "kind=relu;input=1x2x3x4;input=1x2x3x4", // duplicate
      "kind=softmax;input=1x2x3x4",            // unknown kind
      "kind=relu;input=1x2x3",                 // wrong rank
      "kind=relu;input=1x2x3x-4",              // malformed number
      "kind=relu;input=1x2x3x0",               // zero size
      "kind=relu;input=1x2x3x4;",              // empty item
      "kind=relu;input=1x2x 3x4",              // space
      "kind=add;input=1x2x3x4;relu=2",         // bad bool
      "kind=batch_norm;input=1x2x3x4;epsilon=abc;relu=0",
      "kind=batch_norm;input=1x2x3x4;epsilon=nan;relu=0",
      "kind=conv2d;input=1x16x8x8;weight=32x8x3x3;strides=1x1;padding=1x1;"
      "bias=0;residual=0;relu=0", // channel mismatch
      "kind=conv2d;input=1x16x2x2;weight=32x16x7x7;strides=1x1;padding=0x0;"
      "bias=0;residual=0;relu=0", // kernel larger than input
      "kind=conv2d;input=1x16x8x8;weight=32x16x3x3;strides=0x1;padding=1x1;"
      "bias=0;residual=0;relu=0", // zero stride
      "kind=dense;input=2x64;weight=10x32;bias=1",
      "kind=zero_pad_shortcut;input=1x32x8x8;out_channels=16;stride=2",
      "kind=max_pool2d;input=1x16x8x8;kernel=3x3;strides=2x2;padding=2x2",
      "kind=relu;input=99999999999x1x1x1",
  };
  for (const char *text : bad) {
    KernelSpec spec;
    std::string error;
    EXPECT_FALSE(parseKernelSpec(text, spec, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

// ---------------------------------------------------------------------------
// The command line

struct CommandResult {
  int status = -1;
  std::string err;
};

CommandResult runTool(const std::string &args, const std::string &dir) {
  std::string errFile = dir + "/stderr.txt";
  std::string command =
      std::string("'") + RESNETC_KERNELGEN_PATH + "' " + args + " 2>'" + errFile + "' >/dev/null";
  CommandResult result;
  int raw = std::system(command.c_str());
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(errFile);
  result.err.assign(std::istreambuf_iterator<char>(in), {});
  return result;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class KernelGenCli : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/resnetc-kernelgen-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir = pattern;
  }
  void TearDown() override { std::system(("rm -rf '" + dir + "'").c_str()); }
  std::string dir;
};

TEST_F(KernelGenCli, BadSpecIsAnErrorNotACrash) {
  CommandResult r =
      runTool("--spec 'kind=conv2d;input=1x3' --name k --target host -o '" + dir + "/k.o'", dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("resnetc-kernelgen: error: "), std::string::npos) << r.err;
  EXPECT_FALSE(std::ifstream(dir + "/k.o").good());
}

TEST_F(KernelGenCli, BadTargetAndName) {
  CommandResult r = runTool("--spec 'kind=relu;input=1x8x2x2' --name k "
                            "--target not-a-target -o '" +
                                dir + "/k.o'",
                            dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("resnetc-kernelgen: error: "), std::string::npos);
  r = runTool("--spec 'kind=relu;input=1x8x2x2' --name '1bad' --target host "
              "-o '" +
                  dir + "/k.o'",
              dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("resnetc-kernelgen: error: "), std::string::npos);
}

TEST_F(KernelGenCli, Version) {
  CommandResult r = runTool("--version", dir);
  EXPECT_EQ(r.status, 0);
}

TEST_F(KernelGenCli, DeterministicObjects) {
  const std::string spec = "--spec 'kind=conv2d;input=1x16x8x8;weight=16x16x3x3;strides=1x1;"
                           "padding=1x1;bias=1;residual=1;relu=1' --name det_conv "
                           "--target x86-64-linux-avx2-fma ";
  ASSERT_EQ(0, std::system(("mkdir -p '" + dir + "/b'").c_str()));
  ASSERT_EQ(runTool(spec + "-o '" + dir + "/a.o'", dir).status, 0);
  ASSERT_EQ(runTool(spec + "-o '" + dir + "/b/a.o'", dir).status, 0);
  std::string a = readFile(dir + "/a.o"), b = readFile(dir + "/b/a.o");
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "two runs produced different objects";
  // The function and its _argv / _metadata companions are defined.
  EXPECT_NE(a.find("det_conv_argv"), std::string::npos);

  // A training kernel with reductions and parallel loops.
  const std::string grad = "--spec 'kind=conv2d_grad_weight;input=2x16x8x8;weight=16x16x3x3;"
                           "strides=2x2;padding=1x1' --name det_grad "
                           "--target x86-64-linux-avx2-fma ";
  ASSERT_EQ(runTool(grad + "-o '" + dir + "/g.o'", dir).status, 0);
  ASSERT_EQ(runTool(grad + "-o '" + dir + "/b/g.o'", dir).status, 0);
  std::string g1 = readFile(dir + "/g.o"), g2 = readFile(dir + "/b/g.o");
  EXPECT_FALSE(g1.empty());
  EXPECT_TRUE(g1 == g2) << "two runs produced different objects";
}

TEST_F(KernelGenCli, CrossTargetObjects) {
  CommandResult r = runTool("--spec 'kind=relu;input=1x8x2x2' --name k "
                            "--target arm-64-linux -o '" +
                                dir + "/k.o'",
                            dir);
  EXPECT_EQ(r.status, 0) << r.err;
  r = runTool("--runtime --target arm-64-linux -o '" + dir + "/rt.o'", dir);
  EXPECT_EQ(r.status, 0) << r.err;
  std::string obj = readFile(dir + "/k.o");
  ASSERT_GE(obj.size(), 20u);
  EXPECT_EQ(obj.substr(0, 4), "\x7f"
                              "ELF");
  EXPECT_EQ(uint8_t(obj[18]), 183u); // e_machine EM_AARCH64
}

} // namespace
