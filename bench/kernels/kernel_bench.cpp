//===- kernel_bench.cpp - Times one resnetc kernel ------------------------===//
//
// resnetc-kernel-bench: builds the kernel a spec names with the same
// algorithm and schedule as resnetc-kernelgen, compiles it JIT for this CPU
// (the same Halide and LLVM as the ahead-of-time object), binds random
// buffers of the spec's shapes and times it. bench/layers.sh runs it on every
// conv kernel of ResNet-50 and ResNet-20 beside oneDNN.
//
//   resnetc-kernel-bench --spec SPEC [--threads 1] [--runs 30] [--warmup 5]
//                        [--target host] [--check] [--cold]
//
// Prints `kernel: median X ms, best Y ms[, G GFLOP/s]` (GFLOP/s for the conv
// kinds, 2*N*K*P*Q*C*R*S for each of the three). --check compares the conv
// kinds' result with a plain double-precision loop first and fails on a
// relative error above 1e-4 (of the largest result magnitude). --cold writes
// 64 MiB of other memory before each timed call (untimed), so the kernel reads
// its weights and inputs from DRAM, as a layer of a batch-1 network does.
//
//===----------------------------------------------------------------------===//

#include "cpu/Schedules.h"
#include "kernelgen/HostTarget.h"
#include "kernelgen/Kernels.h"
#include "resnetc/KernelSpec/KernelSpec.h"
#include "resnetc/runtime/ScratchCache.h"

#include "Halide.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace resnetc;
using namespace resnetc::kernelgen;

namespace {

const char *const kTool = "resnetc-kernel-bench";

int fail(const std::string &message) {
  std::cerr << kTool << ": error: " << message << "\n";
  return 1;
}

struct Options {
  std::string spec, target = "host";
  int threads = 1, runs = 30, warmup = 5;
  bool check = false, cold = false;
};

void printHelp() {
  std::cout
      << "usage: " << kTool
      << " --spec SPEC [--threads 1] [--runs 30] [--warmup 5] [--target host] [--check]\n"
         "\n"
         "Times one resnetc kernel (its spec as `resnetc compile --emit=kernels` prints it),\n"
         "compiled JIT with resnetc's schedule for this CPU, on random data.\n"
         "\n"
         "  --spec SPEC    kernel spec, e.g. 'kind=conv2d;input=1x64x56x56;weight=64x64x3x3;"
         "strides=1x1;padding=1x1;bias=1;residual=0;relu=1'\n"
         "  --threads T    Halide thread pool size (default 1)\n"
         "  --runs N       timed calls (default 30)\n"
         "  --warmup W     untimed calls before them (default 5)\n"
         "  --target T     a CPU target of this machine (default host)\n"
         "  --check        compare a conv kind's result with a plain loop first\n"
         "  --cold         evict the caches before each timed call (untimed)\n"
         "\n"
         "Prints `kernel: median X ms, best Y ms, G GFLOP/s` (GFLOP/s for conv kinds).\n";
}

bool parseCount(const std::string &text, int minimum, int &out) {
  char *end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < minimum || value > 1000000)
    return false;
  out = int(value);
  return true;
}

/// The static extents a dense buffer parameter was constrained to.
std::vector<int> constrainedExtents(const Halide::Internal::Parameter &param) {
  std::vector<int> extents;
  for (int d = 0; d < param.dimensions(); ++d) {
    const int64_t *e = Halide::Internal::as_const_int(param.extent_constraint(d));
    if (!e)
      throw std::runtime_error("buffer '" + param.name() + "' has no static extent");
    extents.push_back(int(*e));
  }
  return extents;
}

Halide::Buffer<> randomBuffer(const Halide::Internal::Parameter &param, std::mt19937 &rng) {
  Halide::Buffer<> buffer(param.type(), constrainedExtents(param), param.name());
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  if (param.type() == Halide::Float(32)) {
    Halide::Buffer<float> f = buffer;
    f.for_each_value([&](float &v) { v = uniform(rng); });
  } else if (param.type() == Halide::Int(32)) {
    Halide::Buffer<int32_t> i = buffer;
    i.fill(0); // labels: class 0 is valid for every kernel that takes them
  } else {
    throw std::runtime_error("buffer '" + param.name() + "' has an unsupported type");
  }
  return buffer;
}

bool isConvKind(KernelKind kind) {
  return kind == KernelKind::Conv2D || kind == KernelKind::Conv2DGradInput ||
         kind == KernelKind::Conv2DGradWeight;
}

/// The conv geometry of a spec, in the kernels' dense layouts:
/// activations (c, x, y, n), packed weights (k, c, s, r).
struct ConvShape {
  int64_t N, C, H, W, K, R, S, P, Q, SH, SW, PH, PW;
  int64_t groups = 1;
  /// Each output sums C / groups input channels.
  double flops() const { return 2.0 * N * K * P * Q * (C / groups) * R * S; }
};

ConvShape convShape(const KernelSpec &spec) {
  std::vector<int64_t> out =
      spec.kind == KernelKind::Conv2D ? spec.outputShape() : spec.forwardOutputShape();
  return {spec.input[0],  spec.input[1],  spec.input[2], spec.input[3], spec.weight[0],
          spec.weight[2], spec.weight[3], out[2],        out[3],        spec.strideH,
          spec.strideW,   spec.padH,      spec.padW,     spec.groups};
}

/// The largest difference between `result` and the plain loop's, over the
/// largest reference magnitude. `weightBlock`: the block of conv2d's blocked
/// weights (`weights=blocked`), or 0.
double convRelativeError(const KernelSpec &spec,
                         const std::map<std::string, Halide::Buffer<float>> &in,
                         const Halide::Buffer<float> &result, int weightBlock) {
  ConvShape g = convShape(spec);
  auto get = [&](const char *name) -> const Halide::Buffer<float> * {
    auto it = in.find(name);
    return it == in.end() ? nullptr : &it->second;
  };
  // Visits every (n, k, p, q, c, r, s) whose input position is inside the
  // image, with that position.
  auto forEachTap = [&](auto &&visit) {
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q)
          for (int64_t r = 0; r < g.R; ++r)
            for (int64_t s = 0; s < g.S; ++s) {
              int64_t y = p * g.SH + r - g.PH, x = q * g.SW + s - g.PW;
              if (y < 0 || y >= g.H || x < 0 || x >= g.W)
                continue;
              for (int64_t k = 0; k < g.K; ++k)
                for (int64_t c = 0; c < g.C; ++c)
                  visit(n, k, p, q, c, r, s, x, y);
            }
  };
  std::vector<double> ref;
  auto at4 = [](int64_t a, int64_t b, int64_t c, int64_t d, int64_t A, int64_t B, int64_t C) {
    return size_t(((d * C + c) * B + b) * A + a);
  };
  if (spec.kind == KernelKind::Conv2D) {
    const auto &input = *get("input"), &weight = *get("weight");
    auto weightAt = [&](int64_t k, int64_t c, int64_t s, int64_t r) {
      if (!weightBlock)
        return weight(int(k), int(c), int(s), int(r));
      int64_t B = weightBlock;
      return weight(int(k % B + B * (c + g.C * (s + g.S * (r + g.R * (k / B))))));
    };
    ref.assign(size_t(g.K * g.Q * g.P * g.N), 0.0);
    forEachTap([&](auto n, auto k, auto p, auto q, auto c, auto r, auto s, auto x, auto y) {
      ref[at4(k, q, p, n, g.K, g.Q, g.P)] +=
          double(weightAt(k, c, s, r)) * input(int(c), int(x), int(y), int(n));
    });
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q)
          for (int64_t k = 0; k < g.K; ++k) {
            double &v = ref[at4(k, q, p, n, g.K, g.Q, g.P)];
            if (spec.bias)
              v += (*get("bias"))(int(k));
            if (spec.residual)
              v += (*get("residual"))(int(k), int(q), int(p), int(n));
            if (spec.relu)
              v = std::max(v, 0.0);
          }
  } else if (spec.kind == KernelKind::Conv2DGradInput) {
    const auto &grad = *get("output_grad"), &weight = *get("weight");
    ref.assign(size_t(g.C * g.W * g.H * g.N), 0.0);
    forEachTap([&](auto n, auto k, auto p, auto q, auto c, auto r, auto s, auto x, auto y) {
      ref[at4(c, x, y, n, g.C, g.W, g.H)] +=
          double(weight(int(k), int(c), int(s), int(r))) * grad(int(k), int(q), int(p), int(n));
    });
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t y = 0; y < g.H; ++y)
        for (int64_t x = 0; x < g.W; ++x)
          for (int64_t c = 0; c < g.C; ++c) {
            double &v = ref[at4(c, x, y, n, g.C, g.W, g.H)];
            if (spec.residual)
              v += (*get("addend"))(int(c), int(x), int(y), int(n));
            if (spec.relu && !((*get("relu_output"))(int(c), int(x), int(y), int(n)) > 0.0f))
              v = 0.0;
          }
  } else {
    const auto &grad = *get("output_grad"), &input = *get("input");
    ref.assign(size_t(g.K * g.C * g.S * g.R), 0.0);
    forEachTap([&](auto n, auto k, auto p, auto q, auto c, auto r, auto s, auto x, auto y) {
      ref[at4(k, c, s, r, g.K, g.C, g.S)] +=
          double(grad(int(k), int(q), int(p), int(n))) * input(int(c), int(x), int(y), int(n));
    });
  }
  double scale = 0, worst = 0;
  size_t i = 0;
  const float *data = result.data();
  for (double v : ref) {
    scale = std::max(scale, std::fabs(v));
    worst = std::max(worst, std::fabs(v - double(data[i++])));
  }
  return worst / std::max(scale, 1e-30);
}

int run(const Options &opts) {
  KernelSpec spec;
  std::string error;
  if (!parseKernelSpec(opts.spec, spec, error))
    return fail("bad spec '" + opts.spec + "': " + error);
  if (!Halide::Target::validate_target_string(opts.target))
    return fail("invalid Halide target '" + opts.target + "'");
  Halide::Target target = resolveTarget(opts.target);
  if (target.has_gpu_feature())
    return fail("target '" + opts.target + "': only CPU targets run here");
  // Read by the JIT runtime's thread pool when it starts.
  setenv("HL_NUM_THREADS", std::to_string(opts.threads).c_str(), 1);

  CpuScheduler scheduler(target);
  KernelPipeline kernel = buildKernel(spec, scheduler);
  // Scratch memory as the model runtime allocates it (see ScratchCache.h).
  Halide::JITHandlers &handlers = kernel.pipeline.jit_handlers();
  handlers.custom_malloc = [](Halide::JITUserContext *, size_t bytes) {
    return resnetc::scratchMalloc(nullptr, bytes);
  };
  handlers.custom_free = [](Halide::JITUserContext *, void *block) {
    resnetc::scratchFree(nullptr, block);
  };
  kernel.pipeline.compile_jit(target);

  std::mt19937 rng(1);
  std::map<std::string, Halide::Buffer<float>> floatInputs;
  std::vector<Halide::Buffer<>> keepAlive;
  for (Halide::ImageParam &param : kernel.inputs) {
    Halide::Buffer<> buffer = randomBuffer(param.parameter(), rng);
    param.set(buffer);
    keepAlive.push_back(buffer);
    if (buffer.type() == Halide::Float(32))
      floatInputs.emplace(param.name(), Halide::Buffer<float>(buffer));
  }
  std::vector<Halide::Buffer<>> outputs;
  for (Halide::Func &f : kernel.pipeline.outputs()) {
    Halide::Internal::Parameter p = f.output_buffer().parameter();
    outputs.emplace_back(f.output_types()[0], constrainedExtents(p));
  }
  Halide::Realization realization(outputs);
  auto callOnce = [&] { kernel.pipeline.realize(realization, target); };

  bool conv = isConvKind(spec.kind);
  if (opts.check && spec.isGroupedOrDilated())
    throw std::runtime_error("--check knows plain convs only (the kernel tests check grouped and "
                             "dilated ones)");
  if (opts.check) {
    if (!conv)
      return fail(
          "--check knows the conv kinds only (conv2d, conv2d_grad_input, conv2d_grad_weight)");
    callOnce();
    ConvShape g = convShape(spec);
    int weightBlock =
        spec.blockedWeights ? scheduler.convWeightBlock(int(g.K), int(g.C), int(g.Q), int(g.P)) : 0;
    double relative =
        convRelativeError(spec, floatInputs, Halide::Buffer<float>(outputs[0]), weightBlock);
    std::printf("check: largest error %.3g of the largest magnitude (tolerance 1e-4)\n", relative);
    if (!(relative <= 1e-4))
      return fail("the kernel's result differs from the plain loop's");
  }

  for (int i = 0; i < opts.warmup; ++i)
    callOnce();
  std::vector<double> ms;
  std::vector<char> evict(opts.cold ? size_t(64) << 20 : 0);
  for (int i = 0; i < opts.runs; ++i) {
    for (size_t j = 0; j < evict.size(); j += 64)
      evict[j] = char(i + j);
    auto start = std::chrono::steady_clock::now();
    callOnce();
    auto stop = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(ms.begin(), ms.end());
  double median =
      ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
  std::printf("kernel: median %.4f ms, best %.4f ms", median, ms.front());
  if (conv)
    std::printf(", %.1f GFLOP/s", convShape(spec).flops() / median / 1e6);
  std::printf(" (threads %d, runs %d, %s caches, target %s)\n", opts.threads, opts.runs,
              opts.cold ? "cold" : "warm", target.to_string().c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  bool haveSpec = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--help" || arg == "-h") {
      printHelp();
      return 0;
    } else if (arg == "--check") {
      opts.check = true;
    } else if (arg == "--cold") {
      opts.cold = true;
    } else if (arg == "--spec" || arg == "--target" || arg == "--threads" || arg == "--runs" ||
               arg == "--warmup") {
      const char *v = value();
      if (!v)
        return fail("missing value after " + arg);
      if (arg == "--spec") {
        opts.spec = v;
        haveSpec = true;
      } else if (arg == "--target") {
        opts.target = v;
      } else if (arg == "--threads" ? !parseCount(v, 1, opts.threads)
                 : arg == "--runs"  ? !parseCount(v, 1, opts.runs)
                                    : !parseCount(v, 0, opts.warmup)) {
        return fail(arg + " wants a whole number" + (arg == "--warmup" ? "" : " from 1") +
                    ", not '" + v + "'");
      }
    } else {
      return fail("unknown argument '" + arg + "' (try --help)");
    }
  }
  if (!haveSpec)
    return fail("missing --spec (try --help)");
  try {
    return run(opts);
  } catch (const Halide::Error &e) {
    return fail(std::string("Halide error: ") + e.what());
  } catch (const std::exception &e) {
    return fail(e.what());
  }
}
