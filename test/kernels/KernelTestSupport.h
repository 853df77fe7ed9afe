//===- KernelTestSupport.h - Helpers of the kernel-generator tests -*- C++ -*-===//
//
// Buffers, deterministic random fills and comparisons shared by
// KernelGenTest.cpp and TrainingKernelsTest.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_TEST_KERNELS_KERNELTESTSUPPORT_H
#define RESNETC_TEST_KERNELS_KERNELTESTSUPPORT_H

#include "HalideBuffer.h"
#include "HalideRuntime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace resnetc::kerneltest {

using Buf = Halide::Runtime::Buffer<float>;
using HB = halide_buffer_t *;

/// The last message of the Halide error handler the tests install.
inline std::string gLastError;

#define EXPECT_KERNEL_OK(call)                                                                     \
  do {                                                                                             \
    ::resnetc::kerneltest::gLastError.clear();                                                     \
    int rc_ = (call);                                                                              \
    ASSERT_EQ(rc_, 0) << "Halide error: " << ::resnetc::kerneltest::gLastError;                    \
  } while (0)

struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed * 2654435761u + 1) {}
  float uniform(float lo, float hi) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double u = double(state >> 11) / double(uint64_t(1) << 53);
    return float(lo + (hi - lo) * u);
  }
};

inline void fill(Buf &b, Rng &rng, float lo = -1.0f, float hi = 1.0f) {
  b.for_each_value([&](float &v) { v = rng.uniform(lo, hi); });
}

// Activation NHWC: Halide dims (c, x, y, n).
inline Buf nhwc(int N, int C, int H, int W) { return Buf(std::vector<int>{C, W, H, N}); }

/// Max |got - want| must stay within 1e-4 of the reference's value range.
inline void expectClose(const Buf &got, const Buf &want) {
  ASSERT_EQ(got.dimensions(), want.dimensions());
  for (int d = 0; d < want.dimensions(); ++d) {
    ASSERT_EQ(got.dim(d).extent(), want.dim(d).extent()) << "dim " << d;
    ASSERT_EQ(got.dim(d).stride(), want.dim(d).stride()) << "dim " << d;
  }
  size_t count = want.number_of_elements();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t i = 0; i < count; ++i) {
    lo = std::min(lo, double(want.data()[i]));
    hi = std::max(hi, double(want.data()[i]));
  }
  double tolerance = 1e-4 * std::max({hi - lo, std::fabs(hi), std::fabs(lo), 1e-3});
  double worst = 0;
  size_t worstAt = 0;
  for (size_t i = 0; i < count; ++i) {
    double err = std::fabs(double(got.data()[i]) - double(want.data()[i]));
    if (!(err <= worst)) { // also catches NaN
      worst = std::isnan(err) ? std::numeric_limits<double>::infinity() : err;
      worstAt = i;
    }
  }
  EXPECT_LE(worst, tolerance) << "at flat index " << worstAt << ": got " << got.data()[worstAt]
                              << ", want " << want.data()[worstAt];
}

} // namespace resnetc::kerneltest

#endif // RESNETC_TEST_KERNELS_KERNELTESTSUPPORT_H
