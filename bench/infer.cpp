// resnetc-bench-infer-<model>-b<batch>: times the compiled forward pass
// (<model>_run) of the library linked in, on fixed pseudo-random images, with
// the model's He-initialised weights (the timing does not depend on them).
//
//   resnetc-bench-infer-<model>-b<batch> [--threads T] [--runs N] [--warmup W]
//
// Prints each run's time and `inference: median X ms, best Y ms, Z images/s
// (threads T, batch B)`; bench/infer.sh runs it beside PyTorch. Built by
// resnetc_add_inference_bench() in bench/CMakeLists.txt (the option
// RESNETC_BUILD_BENCH_MODELS).

#include RESNETC_MODEL_HEADER
#include "resnetc/runtime/Random.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(name) CAT(RESNETC_MODEL, _##name)
#define CONSTANT(name) CAT(RESNETC_MODEL_UPPER, _##name)
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

int main(int argc, char **argv) {
  int threads = 0, runs = 20, warmup = 3;
  for (int i = 1; i < argc; i += 2) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--threads T] [--runs N] [--warmup W]\n", argv[0]);
      return 2;
    }
    char *end = nullptr;
    long value = std::strtol(argv[i + 1], &end, 10);
    bool numeric = end != argv[i + 1] && *end == '\0';
    if (numeric && arg == "--threads")
      threads = int(value);
    else if (numeric && arg == "--runs")
      runs = int(value);
    else if (numeric && arg == "--warmup")
      warmup = int(value);
    else {
      std::fprintf(stderr, "usage: %s [--threads T] [--runs N] [--warmup W]\n", argv[0]);
      return 2;
    }
  }
  if (runs <= 0 || warmup < 0 || threads < 0) {
    std::fprintf(stderr, "%s: --runs must be positive, --warmup and --threads not negative\n",
                 argv[0]);
    return 2;
  }
  auto *ctx = API(create)();
  if (!ctx || API(set_threads)(ctx, threads) != RESNETC_OK ||
      API(load_weights_file)(ctx, RESNETC_INITIAL_WEIGHTS) != RESNETC_OK) {
    std::fprintf(stderr, "%s: %s\n", argv[0], ctx ? API(error_message)(ctx) : "out of memory");
    return 1;
  }
  const int batch = int(CONSTANT(BATCH));
  std::vector<float> images(CONSTANT(INPUT_SIZE));
  std::vector<float> logits(CONSTANT(OUTPUT_SIZE));
  resnetc::Random random = resnetc::Random::forStream(1, "bench");
  for (float &v : images)
    v = float(random.normal());
  std::printf("%s: batch %d, input %dx%dx%d, %d classes; %d warm-up and %d timed runs\n",
              STRINGIFY(RESNETC_MODEL), batch, int(CONSTANT(INPUT_CHANNELS)),
              int(CONSTANT(INPUT_HEIGHT)), int(CONSTANT(INPUT_WIDTH)), int(CONSTANT(CLASSES)),
              warmup, runs);
  std::vector<double> times;
  for (int run = 0; run < warmup + runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    if (API(run)(ctx, images.data(), images.size(), logits.data(), logits.size()) != RESNETC_OK) {
      std::fprintf(stderr, "%s: %s\n", argv[0], API(error_message)(ctx));
      return 1;
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (run >= warmup) {
      times.push_back(ms);
      std::printf("run %d: %.2f ms\n", run - warmup + 1, ms);
    }
  }
  // The logits are read once, so that a broken library shows up here rather
  // than as an impossibly fast time.
  double sum = 0;
  for (float v : logits) {
    if (!std::isfinite(v)) {
      std::fprintf(stderr, "%s: a logit is not finite\n", argv[0]);
      return 1;
    }
    sum += v;
  }
  std::printf("logits: sum %.6g over %zu values\n", sum, logits.size());
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  double median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  std::printf("inference: median %.2f ms, best %.2f ms, %.1f images/s (threads %d, batch %d)\n",
              median, times.front(), 1e3 * batch / median, threads, batch);
  API(destroy)(ctx);
  return 0;
}
