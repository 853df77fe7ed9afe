//===- Random.cpp - Random numbers that are the same everywhere -----------===//

#include "resnetc/runtime/Random.h"

#include <cmath>
#include <cstring>

using namespace resnetc;

namespace {

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

} // namespace

Random::Random(uint64_t seed) {
  for (uint64_t &word : state)
    word = splitmix64(seed);
}

Random Random::forStream(uint64_t seed, std::string_view name) {
  return Random(seed ^ fnv1a(name));
}

uint64_t Random::nextU64() {
  uint64_t result = rotl(state[1] * 5, 7) * 9;
  uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

double Random::uniform() { return double(nextU64() >> 11) * 0x1.0p-53; }

double Random::normal() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  double u, v, s;
  do {
    u = 2 * uniform() - 1;
    v = 2 * uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double factor = std::sqrt(-2 * portableLog(s) / s); // sqrt is exact in IEEE 754.
  spare = v * factor;
  hasSpare = true;
  return u * factor;
}

double resnetc::portableLog(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh((m-1)/(m+1)).
  int e = 0;
  double m = std::frexp(x, &e); // exact; m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2;
    e -= 1;
  }
  double s = (m - 1) / (m + 1);
  double s2 = s * s;
  // |s| < 0.172, so 13 odd terms reach double precision.
  double sum = 0;
  for (int k = 25; k >= 3; k -= 2)
    sum = (sum + 1.0 / k) * s2;
  double logM = 2 * s * (1 + sum);
  constexpr double ln2 = 0.693147180559945309417232121458;
  return e * ln2 + logM;
}
