// resnetc-bench-train-step-MODEL: times the compiled training step (forward,
// backward, SGD) of the library linked in, on fixed pseudo-random images.
//
//   resnetc-bench-train-step-MODEL [--threads T] [--steps N] [--warmup-steps W]
//
// Prints each step's time and `train step: median X ms, best Y ms, Z images/s
// (threads T, batch B)`; bench/train_step.sh runs it beside PyTorch.

#include RESNETC_MODEL_HEADER
#include "resnetc/runtime/Random.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/resource.h>
#include <vector>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(name) CAT(RESNETC_MODEL, _##name)
#define CONSTANT(name) CAT(RESNETC_MODEL_UPPER, _##name)

int main(int argc, char **argv) {
  int threads = 0, steps = 20, warmup = 3;
  for (int i = 1; i < argc; i += 2) {
    std::string arg = argv[i];
    // A lone or non-numeric argument (--help among them) gets the usage.
    char *end = nullptr;
    long value = i + 1 < argc ? std::strtol(argv[i + 1], &end, 10) : 0;
    bool numeric = i + 1 < argc && end != argv[i + 1] && *end == '\0';
    if (numeric && arg == "--threads")
      threads = int(value);
    else if (numeric && arg == "--steps")
      steps = int(value);
    else if (numeric && arg == "--warmup-steps")
      warmup = int(value);
    else {
      std::fprintf(stderr, "usage: %s [--threads T] [--steps N] [--warmup-steps W]\n", argv[0]);
      return 2;
    }
  }
  if (steps <= 0 || warmup < 0 || threads < 0) {
    std::fprintf(stderr,
                 "%s: --steps must be positive, --warmup-steps and --threads not negative\n",
                 argv[0]);
    return 2;
  }
  auto *ctx = API(create)();
  if (!ctx || API(set_threads)(ctx, threads) != RESNETC_OK ||
      API(load_weights_file)(ctx, RESNETC_INITIAL_WEIGHTS) != RESNETC_OK) {
    std::fprintf(stderr, "%s: %s\n", argv[0], ctx ? API(error_message)(ctx) : "out of memory");
    return 1;
  }
  std::vector<float> images(CONSTANT(INPUT_SIZE));
  std::vector<int32_t> labels(CONSTANT(BATCH));
  resnetc::Random random = resnetc::Random::forStream(1, "bench");
  for (float &v : images)
    v = float(random.normal());
  for (int32_t &label : labels)
    label = int32_t(random.nextU64() % CONSTANT(CLASSES));
  std::vector<double> times;
  for (int step = 0; step < warmup + steps; ++step) {
    float loss = 0;
    auto start = std::chrono::steady_clock::now();
    // A small learning rate keeps the weights sane over many steps on noise.
    if (API(train_step)(ctx, images.data(), images.size(), labels.data(), labels.size(), 0.001f,
                        &loss, nullptr) != RESNETC_OK) {
      std::fprintf(stderr, "%s: %s\n", argv[0], API(error_message)(ctx));
      return 1;
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (step >= warmup) {
      times.push_back(ms);
      std::printf("step %d: %.1f ms (loss %.4f)\n", step - warmup + 1, ms, loss);
    }
  }
  std::sort(times.begin(), times.end());
  double median = times[times.size() / 2];
  std::printf("train step: median %.1f ms, best %.1f ms, %.0f images/s (threads %d, batch %d)\n",
              median, times.front(), 1e3 * CONSTANT(BATCH) / median, threads, int(CONSTANT(BATCH)));
  struct rusage usage = {};
  if (getrusage(RUSAGE_SELF, &usage) == 0) // ru_maxrss: KiB on Linux
    std::printf("peak memory %.0f MiB\n", usage.ru_maxrss / 1024.0);
  API(destroy)(ctx);
  return 0;
}
