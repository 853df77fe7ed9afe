// resnetc-bench-peak: the fp32 multiply-add peak of this machine as it runs
// today (turbo, other tenants, throttling and all), so that the suite's
// "fraction of peak" is of something measured rather than of a data sheet.
//
//   resnetc-bench-peak [--threads "1 2"] [--seconds 1] [--reps 5]
//
// Each thread runs a loop of independent fused multiply-adds on the widest
// vectors the CPU has (AVX-512, else AVX2+FMA on x86-64; NEON on AArch64),
// with enough accumulators to cover the FMA latency on two pipes. Prints per
// thread count `peak: T threads: median X GFLOP/s, best Y GFLOP/s (Z a core)`.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace {

// Each kernel runs `iterations` x 16 accumulators x (lanes) FMAs and returns
// the FLOPs done; the result is stored so the loop is not removed.
volatile float sink;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) double fmaAvx512(long iterations) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = _mm512_set1_ps(float(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 total = acc[0];
  for (int i = 1; i < 16; ++i)
    total = _mm512_add_ps(total, acc[i]);
  sink = _mm512_reduce_add_ps(total);
  return 2.0 * 16 * 16 * double(iterations);
}

__attribute__((target("avx2,fma"))) double fmaAvx2(long iterations) {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = _mm256_set1_ps(float(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  float lanes[8];
  __m256 total = acc[0];
  for (int i = 1; i < 16; ++i)
    total = _mm256_add_ps(total, acc[i]);
  _mm256_storeu_ps(lanes, total);
  sink = lanes[0];
  return 2.0 * 16 * 8 * double(iterations);
}
#elif defined(__aarch64__)
double fmaNeon(long iterations) {
  float32x4_t acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = vdupq_n_f32(float(i));
  const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = vfmaq_f32(b, acc[i], a);
  float32x4_t total = acc[0];
  for (int i = 1; i < 16; ++i)
    total = vaddq_f32(total, acc[i]);
  sink = vaddvq_f32(total);
  return 2.0 * 16 * 4 * double(iterations);
}
#endif

using Kernel = double (*)(long);

Kernel pickKernel(const char *&name) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    name = "AVX-512";
    return fmaAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    name = "AVX2+FMA";
    return fmaAvx2;
  }
#elif defined(__aarch64__)
  name = "NEON";
  return fmaNeon;
#endif
  name = nullptr;
  return nullptr;
}

/// GFLOP/s of `threads` threads each running `kernel` for about `seconds`.
double measure(Kernel kernel, int threads, double seconds) {
  // Size the loop from a short calibration run.
  long iterations = 1 << 16;
  auto t0 = std::chrono::steady_clock::now();
  kernel(iterations);
  double calib = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  iterations = std::max(1L, long(iterations * seconds / std::max(calib, 1e-6)));

  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> flops(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load())
        std::this_thread::yield();
      flops[t] = kernel(iterations);
    });
  while (ready.load() < threads)
    std::this_thread::yield();
  auto start = std::chrono::steady_clock::now();
  go.store(true);
  for (std::thread &th : pool)
    th.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double total = 0;
  for (double f : flops)
    total += f;
  return total / elapsed / 1e9;
}

} // namespace

int main(int argc, char **argv) {
  std::string threadList = "1 2";
  double seconds = 1.0;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::puts("usage: resnetc-bench-peak [--threads \"1 2\"] [--seconds 1] [--reps 5]\n\n"
                "Measures the fp32 fused multiply-add peak, per thread count.");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "resnetc-bench-peak: error: '%s' needs a value\n", arg.c_str());
      return 2;
    }
    std::string value = argv[++i];
    char *end = nullptr;
    if (arg == "--threads") {
      threadList = value;
    } else if (arg == "--seconds" && (seconds = std::strtod(value.c_str(), &end)) > 0 && !*end) {
    } else if (arg == "--reps" && (reps = int(std::strtol(value.c_str(), &end, 10))) > 0 && !*end) {
    } else {
      std::fprintf(stderr, "resnetc-bench-peak: error: bad argument '%s %s'\n", arg.c_str(),
                   value.c_str());
      return 2;
    }
  }
  const char *isa = nullptr;
  Kernel kernel = pickKernel(isa);
  if (!kernel) {
    std::fprintf(stderr, "resnetc-bench-peak: error: no FMA vector unit this program knows\n");
    return 1;
  }
  std::istringstream threadsIn(threadList);
  int threads;
  while (threadsIn >> threads) {
    if (threads < 1 || threads > 1024) {
      std::fprintf(stderr, "resnetc-bench-peak: error: bad thread count %d\n", threads);
      return 2;
    }
    std::vector<double> rates;
    for (int r = 0; r < reps; ++r)
      rates.push_back(measure(kernel, threads, seconds));
    std::sort(rates.begin(), rates.end());
    double median = rates[rates.size() / 2];
    std::printf("peak: %d threads: median %.1f GFLOP/s, best %.1f GFLOP/s (%.1f a core, %s FMA)\n",
                threads, median, rates.back(), median / threads, isa);
  }
  return 0;
}
