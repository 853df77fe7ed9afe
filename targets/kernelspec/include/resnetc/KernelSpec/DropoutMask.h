//===- DropoutMask.h - Which values dropout keeps -------------*- C++ -*-===//
//
// The random mask of rn.dropout, defined once for the kernels (Halide Exprs
// of type UInt(32)) and the reference executor (uint32_t): a counter-based
// generator, so a mask is a pure function of (seed, step, stream, element)
// and a resumed run draws the same masks as one that never stopped.
//
//   key     = mix(mix(seed + 0x9E3779B9 * (step + 1)) ^ (stream * 0x85EBCA6B))
//   bits(i) = mix(i ^ key)    (i: the element's index in NCHW order)
//   keep(i) = bits(i) >= threshold(rate),  kept values scaled by 1/(1 - rate)
//
// mix is Chris Wellons' "lowbias32" integer hash (a bijection of 32-bit
// words with low bias). `seed` distinguishes runs and ranks, `step` counts
// the training steps, `stream` numbers the dropout layers of a network.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELSPEC_DROPOUTMASK_H
#define RESNETC_KERNELSPEC_DROPOUTMASK_H

#include <cmath>
#include <cstdint>

namespace resnetc::dropout {

/// A 32-bit constant as a T. The kernel generator specialises it for
/// Halide::Expr (make_const(UInt(32), value)).
template <typename T> T constant(uint32_t value) { return T(value); }

/// T is uint32_t or a Halide Expr of type UInt(32) (wrapping arithmetic).
template <typename T> T mix(T x) {
  x = x ^ (x >> 16);
  x = x * constant<T>(0x7feb352du);
  x = x ^ (x >> 15);
  x = x * constant<T>(0x846ca68bu);
  x = x ^ (x >> 16);
  return x;
}

template <typename T> T key(T seed, T step, uint32_t stream) {
  return mix(mix(seed + (step + constant<T>(1)) * constant<T>(0x9E3779B9u)) ^
             constant<T>(stream * 0x85EBCA6Bu));
}

template <typename T> T bits(T index, T key) { return mix(index ^ key); }

/// Values whose bits fall below this are dropped: rate * 2^32, rounded. The
/// rate is a float, as kernel specs carry it.
inline uint32_t threshold(float rate) {
  double t = std::nearbyint(double(rate) * 4294967296.0);
  return t >= 4294967295.0 ? 4294967295u : t <= 0 ? 0u : uint32_t(t);
}

/// The factor of the values kept (inverted dropout: the expectation is kept).
inline float keptScale(float rate) { return float(1.0 / (1.0 - double(rate))); }

} // namespace resnetc::dropout

#endif // RESNETC_KERNELSPEC_DROPOUTMASK_H
