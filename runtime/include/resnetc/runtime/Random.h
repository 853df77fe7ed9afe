//===- Random.h - Random numbers that are the same everywhere ---*- C++ -*-===//
//
// std::normal_distribution differs between standard libraries, and libm's
// log may differ in the last bit between platforms. These generators use
// integer arithmetic and IEEE-exact operations only (the file is compiled
// without floating-point contraction), so a seed gives the same numbers on
// every platform.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_RANDOM_H
#define RESNETC_RUNTIME_RANDOM_H

#include <cstdint>
#include <string_view>

namespace resnetc {

/// xoshiro256** seeded through splitmix64.
class Random {
public:
  explicit Random(uint64_t seed);
  /// A generator for one named stream, independent of every other name.
  static Random forStream(uint64_t seed, std::string_view name);

  uint64_t nextU64();
  /// Uniform in [0, 1), 53 random bits.
  double uniform();
  /// Standard normal (Marsaglia's polar method).
  double normal();

private:
  uint64_t state[4];
  bool hasSpare = false;
  double spare = 0;
};

/// Natural logarithm from IEEE-exact operations only (x > 0 and finite).
double portableLog(double x);

} // namespace resnetc

#endif // RESNETC_RUNTIME_RANDOM_H
