//===- GroupedConvKernelsTest.cpp - Grouped and dilated convs -------------===//
//
// conv2d, conv2d_grad_input and conv2d_grad_weight with groups or dilation
// (generated at build time, see CMakeLists.txt) against one plain C++ loop
// nest in double precision that visits every multiply-add of the forward
// conv: the forward sums it, the input gradient scatters it back (the
// adjoint), the weight gradient accumulates it per tap.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"

#include <functional>

using namespace resnetc::kerneltest;

extern "C" {
int kg_gconv_fwd(void *, HB x, HB w, HB bias, HB residual, HB y);
int kg_gconv_resnext(void *, HB x, HB w, HB y);
int kg_gconv_wide(void *, HB x, HB w, HB bias, HB y);
int kg_gconv_depthwise(void *, HB x, HB w, HB y);
int kg_dconv_fwd(void *, HB x, HB w, HB y);
int kg_dconv_asym(void *, HB x, HB w, HB bias, HB y);
int kg_gconv_gi(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_gconv_gi_s1(void *, HB dy, HB w, HB dx);
int kg_dconv_gi(void *, HB dy, HB w, HB dx);
int kg_gconv_gw(void *, HB dy, HB x, HB dw);
int kg_gconv_gw_resnext(void *, HB dy, HB x, HB dw);
int kg_dconv_gw(void *, HB dy, HB x, HB dw);
#ifdef RESNETC_TEST_X86_BASELINE
int kg_sse_gconv_fwd(void *, HB x, HB w, HB bias, HB residual, HB y);
int kg_avx2_gconv_resnext(void *, HB x, HB w, HB y);
int kg_avx2_gconv_gi(void *, HB dy, HB w, HB addend, HB y, HB dx);
int kg_avx2_gconv_gw(void *, HB dy, HB x, HB dw);
#endif
}

namespace {

struct Case {
  int N, C, H, W, K, R, S, SH, SW, PH, PW, DH, DW, G;
  int Cg() const { return C / G; }
  int P() const { return (H + 2 * PH - (R - 1) * DH - 1) / SH + 1; }
  int Q() const { return (W + 2 * PW - (S - 1) * DW - 1) / SW + 1; }
};

/// A logical OIHW weight (K x C/G x R x S) and its packed (k, c, s, r) buffer.
struct Weight {
  std::vector<float> oihw;
  Buf packed;
};

Weight makeWeight(const Case &cc, Rng &rng) {
  Weight w;
  w.oihw.resize(size_t(cc.K) * cc.Cg() * cc.R * cc.S);
  for (float &v : w.oihw)
    v = rng.uniform(-0.5f, 0.5f);
  w.packed = Buf(std::vector<int>{cc.K, cc.Cg(), cc.S, cc.R});
  w.packed.for_each_element([&](int k, int c, int s, int r) {
    w.packed(k, c, s, r) = w.oihw[((size_t(k) * cc.Cg() + c) * cc.R + r) * cc.S + s];
  });
  return w;
}

/// visit(n, c, h, x, k, p, q, weightIndex) for every multiply-add.
void forEachTap(const Case &cc,
                const std::function<void(int, int, int, int, int, int, int, size_t)> &visit) {
  const int Kg = cc.K / cc.G;
  for (int n = 0; n < cc.N; ++n)
    for (int k = 0; k < cc.K; ++k)
      for (int p = 0; p < cc.P(); ++p)
        for (int q = 0; q < cc.Q(); ++q)
          for (int cg = 0; cg < cc.Cg(); ++cg)
            for (int r = 0; r < cc.R; ++r)
              for (int s = 0; s < cc.S; ++s) {
                int h = p * cc.SH - cc.PH + r * cc.DH, x = q * cc.SW - cc.PW + s * cc.DW;
                if (h < 0 || h >= cc.H || x < 0 || x >= cc.W)
                  continue;
                visit(n, k / Kg * cc.Cg() + cg, h, x, k, p, q,
                      ((size_t(k) * cc.Cg() + cg) * cc.R + r) * cc.S + s);
              }
}

struct Forward {
  bool bias = false, residual = false, relu = false;
  std::function<int(HB x, HB w, HB bias, HB residual, HB y)> call;
};

void runForward(const Case &cc, const Forward &f, uint64_t seed) {
  Rng rng(seed);
  Buf x = nhwc(cc.N, cc.C, cc.H, cc.W), bias(std::vector<int>{cc.K});
  Buf residual = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  fill(x, rng);
  Weight w = makeWeight(cc, rng);
  fill(bias, rng);
  fill(residual, rng);
  Buf y = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  y.fill(std::numeric_limits<float>::quiet_NaN());
  EXPECT_KERNEL_OK(f.call(x.raw_buffer(), w.packed.raw_buffer(), bias.raw_buffer(),
                          residual.raw_buffer(), y.raw_buffer()));
  std::vector<double> sum(y.number_of_elements(), 0.0);
  auto at = [&](int k, int q, int p, int n) {
    return ((size_t(n) * cc.P() + p) * cc.Q() + q) * cc.K + k;
  };
  forEachTap(cc, [&](int n, int c, int h, int xx, int k, int p, int q, size_t wi) {
    sum[at(k, q, p, n)] += double(x(c, xx, h, n)) * w.oihw[wi];
  });
  Buf want = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  want.for_each_element([&](int k, int q, int p, int n) {
    double v =
        sum[at(k, q, p, n)] + (f.bias ? bias(k) : 0.0) + (f.residual ? residual(k, q, p, n) : 0.0);
    want(k, q, p, n) = float(f.relu ? std::max(v, 0.0) : v);
  });
  expectClose(y, want);
}

Forward plain(int (*kernel)(void *, HB, HB, HB)) {
  return {false, false, false, [=](HB x, HB w, HB, HB, HB y) { return kernel(nullptr, x, w, y); }};
}

struct GradInput {
  bool addend = false, relu = false;
  std::function<int(HB dy, HB w, HB addend, HB y, HB dx)> call;
};

void runGradInput(const Case &cc, const GradInput &gi, uint64_t seed) {
  Rng rng(seed);
  Buf dy = nhwc(cc.N, cc.K, cc.P(), cc.Q());
  fill(dy, rng);
  Weight w = makeWeight(cc, rng);
  Buf addend = nhwc(cc.N, cc.C, cc.H, cc.W), y = nhwc(cc.N, cc.C, cc.H, cc.W);
  fill(addend, rng);
  y.for_each_value([&](float &v) { v = std::max(rng.uniform(-1.0f, 1.0f), 0.0f); });
  Buf dx = nhwc(cc.N, cc.C, cc.H, cc.W);
  dx.fill(std::numeric_limits<float>::quiet_NaN());
  EXPECT_KERNEL_OK(gi.call(dy.raw_buffer(), w.packed.raw_buffer(), addend.raw_buffer(),
                           y.raw_buffer(), dx.raw_buffer()));
  std::vector<double> sum(dx.number_of_elements(), 0.0);
  auto at = [&](int c, int xx, int h, int n) {
    return ((size_t(n) * cc.H + h) * cc.W + xx) * cc.C + c;
  };
  forEachTap(cc, [&](int n, int c, int h, int xx, int k, int p, int q, size_t wi) {
    sum[at(c, xx, h, n)] += double(dy(k, q, p, n)) * w.oihw[wi];
  });
  Buf want = nhwc(cc.N, cc.C, cc.H, cc.W);
  want.for_each_element([&](int c, int xx, int h, int n) {
    double v = sum[at(c, xx, h, n)] + (gi.addend ? addend(c, xx, h, n) : 0.0);
    want(c, xx, h, n) = float(gi.relu && !(y(c, xx, h, n) > 0.0f) ? 0.0 : v);
  });
  expectClose(dx, want);
}

GradInput plainGradInput(int (*kernel)(void *, HB, HB, HB)) {
  return {false, false, [=](HB dy, HB w, HB, HB, HB dx) { return kernel(nullptr, dy, w, dx); }};
}

void runGradWeight(const Case &cc, int (*kernel)(void *, HB, HB, HB), uint64_t seed) {
  Rng rng(seed);
  Buf dy = nhwc(cc.N, cc.K, cc.P(), cc.Q()), x = nhwc(cc.N, cc.C, cc.H, cc.W);
  fill(dy, rng);
  fill(x, rng);
  Buf dw(std::vector<int>{cc.K, cc.Cg(), cc.S, cc.R});
  dw.fill(std::numeric_limits<float>::quiet_NaN());
  EXPECT_KERNEL_OK(kernel(nullptr, dy.raw_buffer(), x.raw_buffer(), dw.raw_buffer()));
  std::vector<double> sum(size_t(cc.K) * cc.Cg() * cc.R * cc.S, 0.0);
  forEachTap(cc, [&](int n, int c, int h, int xx, int k, int p, int q, size_t wi) {
    sum[wi] += double(dy(k, q, p, n)) * x(c, xx, h, n);
  });
  Buf want(std::vector<int>{cc.K, cc.Cg(), cc.S, cc.R});
  want.for_each_element([&](int k, int c, int s, int r) {
    want(k, c, s, r) = float(sum[((size_t(k) * cc.Cg() + c) * cc.R + r) * cc.S + s]);
  });
  expectClose(dw, want);
}

// The cases, as in CMakeLists.txt: N, C, H, W, K, R, S, SH, SW, PH, PW, DH, DW, G.
const Case kGroups4{2, 16, 9, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 4};
const Case kResNeXt{2, 128, 8, 8, 128, 3, 3, 2, 2, 1, 1, 1, 1, 32};
const Case kWideGroups{2, 128, 6, 5, 128, 3, 3, 1, 1, 1, 1, 1, 1, 2};
const Case kDepthwise{1, 24, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, 1, 24};
const Case kDilated{2, 16, 9, 9, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1};
const Case kDilatedAsym{1, 8, 10, 9, 16, 3, 2, 2, 1, 3, 1, 3, 2, 2};
const Case kGroupsStride2{3, 16, 7, 7, 24, 3, 3, 2, 2, 1, 1, 1, 1, 4};

} // namespace

TEST(GroupedConv, FourGroupsWithEpilogue) {
  runForward(
      kGroups4,
      {true, true, true,
       [](HB x, HB w, HB b, HB res, HB y) { return kg_gconv_fwd(nullptr, x, w, b, res, y); }},
      1);
}
TEST(GroupedConv, ResNeXtStride2FourChannelsAGroup) {
  runForward(kResNeXt, plain(kg_gconv_resnext), 2);
}
// 64 channels a group: blocks of part of a group (blocked algorithm).
TEST(GroupedConv, TwoWideGroups) {
  runForward(kWideGroups,
             {true, false, true,
              [](HB x, HB w, HB b, HB, HB y) { return kg_gconv_wide(nullptr, x, w, b, y); }},
             16);
}
TEST(GroupedConv, Depthwise) { runForward(kDepthwise, plain(kg_gconv_depthwise), 3); }
TEST(DilatedConv, DilationTwo) { runForward(kDilated, plain(kg_dconv_fwd), 4); }
TEST(DilatedConv, AsymmetricDilationStrideAndGroups) {
  runForward(kDilatedAsym,
             {true, false, false,
              [](HB x, HB w, HB b, HB, HB y) { return kg_dconv_asym(nullptr, x, w, b, y); }},
             5);
}
TEST(GroupedConvGradInput, Stride2WithAddendAndReluMask) {
  runGradInput(
      kGroupsStride2,
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_gconv_gi(nullptr, dy, w, a, y, dx); }},
      6);
}
TEST(GroupedConvGradInput, FourGroups) {
  runGradInput(kGroups4, plainGradInput(kg_gconv_gi_s1), 7);
}
TEST(DilatedConvGradInput, AsymmetricDilation) {
  runGradInput(kDilatedAsym, plainGradInput(kg_dconv_gi), 8);
}
TEST(GroupedConvGradWeight, Stride2) { runGradWeight(kGroupsStride2, kg_gconv_gw, 9); }
TEST(GroupedConvGradWeight, ResNeXt) { runGradWeight(kResNeXt, kg_gconv_gw_resnext, 10); }
TEST(DilatedConvGradWeight, DilationTwo) { runGradWeight(kDilated, kg_dconv_gw, 11); }

#ifdef RESNETC_TEST_X86_BASELINE
TEST(GroupedConv, SseBaseline) {
  runForward(
      kGroups4,
      {true, true, true,
       [](HB x, HB w, HB b, HB res, HB y) { return kg_sse_gconv_fwd(nullptr, x, w, b, res, y); }},
      12);
}
TEST(GroupedConv, Avx2ResNeXt) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "no AVX2/FMA";
  runForward(kResNeXt, plain(kg_avx2_gconv_resnext), 13);
}
TEST(GroupedConvGradInput, Avx2) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "no AVX2/FMA";
  runGradInput(
      kGroupsStride2,
      {true, true,
       [](HB dy, HB w, HB a, HB y, HB dx) { return kg_avx2_gconv_gi(nullptr, dy, w, a, y, dx); }},
      14);
}
TEST(GroupedConvGradWeight, Avx2) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "no AVX2/FMA";
  runGradWeight(kResNeXt, kg_avx2_gconv_gw, 15);
}
#endif
