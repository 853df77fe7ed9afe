// resnetc-bench-onednn-conv: times one fp32 convolution in oneDNN, the
// reference point for resnetc's conv kernels (bench/layers.sh runs it on every
// conv shape of ResNet-50 and ResNet-20).
//
//   resnetc-bench-onednn-conv --n N --c C --h H --w W --k K --r R --s S
//                             [--stride 1] [--pad 0] [--bias 0|1] [--residual 0|1] [--relu 0|1]
//                             [--backward] [--algorithms direct,auto]
//                             [--threads T] [--runs 30] [--warmup 5]
//
// For each algorithm (convolution_direct and convolution_auto, which may pick
// Winograd where oneDNN has it for this CPU): the forward pass (forward_inference,
// with the epilogue asked for: bias, a residual added through a sum post-op,
// ReLU through an eltwise post-op, in that order, as resnetc's conv2d kernel),
// and with --backward also backward-data and backward-weights (no bias, no
// epilogue, as in a training step). Every tensor uses format_tag::any, so oneDNN
// picks its own (blocked) layouts; the data is reordered into them once, before
// the timing, so no reorder is timed. One line a pass:
//
//   forward direct: median X ms, best Y ms, G GFLOP/s (impl NAME)
//
// with G = 2*N*K*P*Q*C*R*S / median, the same count for the three passes.
// Threads: Debian's oneDNN runs on OpenMP; --threads calls omp_set_num_threads
// when built with OpenMP (bench/CMakeLists.txt links OpenMP::OpenMP_CXX when
// CMake finds it); set OMP_NUM_THREADS as well to be safe (bench/layers.sh does).

#include "oneapi/dnnl/dnnl.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::primitive;
using dnnl::prop_kind;
using dnnl::stream;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

struct Options {
  long n = 1, c = 64, h = 56, w = 56, k = 64, r = 3, s = 3, stride = 1, pad = 0;
  bool bias = false, residual = false, relu = false, backward = false;
  std::vector<std::string> algorithms = {"direct", "auto"};
  int threads = 0, runs = 30, warmup = 5;
};

void usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s --n N --c C --h H --w W --k K --r R --s S [--stride 1] [--pad 0]\n"
               "          [--bias 0|1] [--residual 0|1] [--relu 0|1] [--backward]\n"
               "          [--algorithms direct,auto] [--threads T] [--runs 30] [--warmup 5]\n",
               argv0);
}

bool parseLong(const char *text, long &out) {
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0')
    return false;
  out = value;
  return true;
}

// Returns false (after printing why) on a bad command line.
bool parseOptions(int argc, char **argv, Options &o) {
  std::unordered_map<std::string, long *> sizes = {
      {"--n", &o.n}, {"--c", &o.c}, {"--h", &o.h},           {"--w", &o.w},    {"--k", &o.k},
      {"--r", &o.r}, {"--s", &o.s}, {"--stride", &o.stride}, {"--pad", &o.pad}};
  std::unordered_map<std::string, bool *> flags = {
      {"--bias", &o.bias}, {"--residual", &o.residual}, {"--relu", &o.relu}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--backward") {
      o.backward = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      usage(argv[0]);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", argv[0], arg.c_str());
      return false;
    }
    const char *value = argv[++i];
    long number = 0;
    if (arg == "--algorithms") {
      o.algorithms.clear();
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) {
        if (item != "direct" && item != "auto") {
          std::fprintf(stderr, "%s: unknown algorithm '%s' (direct, auto)\n", argv[0],
                       item.c_str());
          return false;
        }
        o.algorithms.push_back(item);
      }
      if (o.algorithms.empty()) {
        std::fprintf(stderr, "%s: --algorithms is empty\n", argv[0]);
        return false;
      }
    } else if (!parseLong(value, number)) {
      std::fprintf(stderr, "%s: %s wants an integer, got '%s'\n", argv[0], arg.c_str(), value);
      return false;
    } else if (sizes.count(arg)) {
      *sizes[arg] = number;
    } else if (flags.count(arg)) {
      *flags[arg] = number != 0;
    } else if (arg == "--threads") {
      o.threads = int(number);
    } else if (arg == "--runs") {
      o.runs = int(number);
    } else if (arg == "--warmup") {
      o.warmup = int(number);
    } else {
      std::fprintf(stderr, "%s: unknown option '%s'\n", argv[0], arg.c_str());
      usage(argv[0]);
      return false;
    }
  }
  if (o.n < 1 || o.c < 1 || o.h < 1 || o.w < 1 || o.k < 1 || o.r < 1 || o.s < 1 || o.stride < 1 ||
      o.pad < 0) {
    std::fprintf(stderr, "%s: sizes and the stride must be positive, the padding not negative\n",
                 argv[0]);
    return false;
  }
  if (o.h + 2 * o.pad < o.r || o.w + 2 * o.pad < o.s) {
    std::fprintf(stderr, "%s: the kernel is larger than the padded input\n", argv[0]);
    return false;
  }
  if (o.runs < 1 || o.warmup < 0 || o.threads < 0) {
    std::fprintf(stderr, "%s: --runs must be positive, --warmup and --threads not negative\n",
                 argv[0]);
    return false;
  }
  return true;
}

// A memory object of layout `target` holding uniform random values in
// [-1, 1), written in the plain layout `plainTag` and reordered (untimed).
memory filledMemory(const engine &eng, stream &strm, const memory::desc &target,
                    const memory::dims &dims, tag plainTag, std::mt19937 &rng) {
  memory::desc plainDesc(dims, dt::f32, plainTag);
  memory plain(plainDesc, eng);
  float *data = static_cast<float *>(plain.get_data_handle());
  size_t count = plainDesc.get_size() / sizeof(float);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (size_t i = 0; i < count; ++i)
    data[i] = uniform(rng);
  if (target == plainDesc)
    return plain;
  memory out(target, eng);
  dnnl::reorder(plain, out).execute(strm, plain, out);
  strm.wait();
  return out;
}

struct Timing {
  double median = 0, best = 0;
};

Timing timePrimitive(const primitive &prim, const std::unordered_map<int, memory> &args,
                     stream &strm, const Options &o) {
  std::vector<double> times;
  for (int run = 0; run < o.warmup + o.runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    prim.execute(strm, args);
    strm.wait();
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (run >= o.warmup)
      times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  Timing t;
  t.median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  t.best = times.front();
  return t;
}

void report(const char *pass, const std::string &alg, const Timing &t, double flops,
            const char *impl) {
  std::printf("%s %s: median %.4f ms, best %.4f ms, %.1f GFLOP/s (impl %s)\n", pass, alg.c_str(),
              t.median, t.best, flops / (t.median * 1e6), impl);
  std::fflush(stdout);
}

// Runs `body`; a oneDNN error (say, no implementation of this algorithm for
// this shape or CPU) is reported as unavailable rather than ending the program.
void attempt(const char *pass, const std::string &alg, const std::function<void()> &body) {
  try {
    body();
  } catch (const dnnl::error &e) {
    std::printf("%s %s: unavailable (%s)\n", pass, alg.c_str(), e.what());
    std::fflush(stdout);
  }
}

const char *isaName(dnnl::cpu_isa isa) {
  switch (isa) {
  case dnnl::cpu_isa::sse41:
    return "sse41";
  case dnnl::cpu_isa::avx:
    return "avx";
  case dnnl::cpu_isa::avx2:
    return "avx2";
  case dnnl::cpu_isa::avx2_vnni:
    return "avx2_vnni";
  case dnnl::cpu_isa::avx512_mic:
    return "avx512_mic";
  case dnnl::cpu_isa::avx512_mic_4ops:
    return "avx512_mic_4ops";
  case dnnl::cpu_isa::avx512_core:
    return "avx512_core";
  case dnnl::cpu_isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl::cpu_isa::avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl::cpu_isa::avx512_core_amx:
    return "avx512_core_amx";
  default:
    return "other";
  }
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parseOptions(argc, argv, o))
    return 2;
#ifdef _OPENMP
  if (o.threads > 0)
    omp_set_num_threads(o.threads);
  int threads = omp_get_max_threads();
#else
  int threads = o.threads; // without OpenMP here, only OMP_NUM_THREADS sets oneDNN's threads
#endif
  const long p = (o.h + 2 * o.pad - o.r) / o.stride + 1;
  const long q = (o.w + 2 * o.pad - o.s) / o.stride + 1;
  const double flops = 2.0 * o.n * o.k * p * q * o.c * o.r * o.s;

  try {
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const dnnl::version_t *v = dnnl::version();
    std::printf("oneDNN %d.%d.%d, isa %s, %d threads%s\n", v->major, v->minor, v->patch,
                isaName(dnnl::get_effective_cpu_isa()), threads,
#ifdef _OPENMP
                " (OpenMP)"
#else
                " (as asked: not built with OpenMP, OMP_NUM_THREADS decides)"
#endif
    );
    std::string epilogue;
    if (o.bias)
      epilogue += "+bias";
    if (o.residual)
      epilogue += "+residual";
    if (o.relu)
      epilogue += "+relu";
    std::printf("conv N=%ld C=%ld H=%ld W=%ld K=%ld R=%ld S=%ld stride=%ld pad=%ld -> P=%ld Q=%ld; "
                "forward epilogue %s; %.4f GFLOP a pass (2*N*K*P*Q*C*R*S); %d warm-up and %d timed "
                "runs\n",
                o.n, o.c, o.h, o.w, o.k, o.r, o.s, o.stride, o.pad, p, q,
                epilogue.empty() ? "none" : epilogue.c_str() + 1, flops / 1e9, o.warmup, o.runs);
    std::fflush(stdout);

    const memory::dims srcDims = {o.n, o.c, o.h, o.w};
    const memory::dims weightDims = {o.k, o.c, o.r, o.s};
    const memory::dims biasDims = {o.k};
    const memory::dims dstDims = {o.n, o.k, p, q};
    const memory::dims strides = {o.stride, o.stride};
    const memory::dims padding = {o.pad, o.pad};
    // Symmetric padding, as PyTorch and resnetc: P = (H + 2 pad - R) / stride + 1
    // rounded down (the rows that the stride skips at the end are never read).
    memory::desc srcAny(srcDims, dt::f32, tag::any);
    memory::desc weightAny(weightDims, dt::f32, tag::any);
    memory::desc dstAny(dstDims, dt::f32, tag::any);
    memory::desc biasDesc(biasDims, dt::f32, tag::x);
    std::mt19937 rng(1);

    for (const std::string &alg : o.algorithms) {
      algorithm a = alg == "direct" ? algorithm::convolution_direct : algorithm::convolution_auto;

      attempt("forward", alg, [&] {
        dnnl::primitive_attr attr;
        dnnl::post_ops ops;
        if (o.residual)
          ops.append_sum(1.0f);
        if (o.relu)
          ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
        auto desc =
            o.bias ? dnnl::convolution_forward::desc(prop_kind::forward_inference, a, srcAny,
                                                     weightAny, biasDesc, dstAny, strides, padding,
                                                     padding)
                   : dnnl::convolution_forward::desc(prop_kind::forward_inference, a, srcAny,
                                                     weightAny, dstAny, strides, padding, padding);
        dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_SRC, filledMemory(eng, strm, pd.src_desc(), srcDims, tag::nchw, rng)},
            {DNNL_ARG_WEIGHTS,
             filledMemory(eng, strm, pd.weights_desc(), weightDims, tag::oihw, rng)},
            // Holds the residual when there is a sum post-op (the sums pile up
            // over the runs, which does not change the time).
            {DNNL_ARG_DST, filledMemory(eng, strm, pd.dst_desc(), dstDims, tag::nchw, rng)}};
        if (o.bias)
          args[DNNL_ARG_BIAS] = filledMemory(eng, strm, biasDesc, biasDims, tag::x, rng);
        dnnl::convolution_forward prim(pd);
        report("forward", alg, timePrimitive(prim, args, strm, o), flops, pd.impl_info_str());
      });
      if (!o.backward)
        continue;

      // The backward passes take a forward_training primitive descriptor as
      // a hint (it decides their layouts).
      auto hintDesc = dnnl::convolution_forward::desc(prop_kind::forward_training, a, srcAny,
                                                      weightAny, dstAny, strides, padding, padding);
      attempt("backward-data", alg, [&] {
        dnnl::convolution_forward::primitive_desc hint(hintDesc, eng);
        dnnl::convolution_backward_data::desc desc(a, srcAny, weightAny, dstAny, strides, padding,
                                                   padding);
        dnnl::convolution_backward_data::primitive_desc pd(desc, eng, hint);
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_DIFF_DST,
             filledMemory(eng, strm, pd.diff_dst_desc(), dstDims, tag::nchw, rng)},
            {DNNL_ARG_WEIGHTS,
             filledMemory(eng, strm, pd.weights_desc(), weightDims, tag::oihw, rng)},
            {DNNL_ARG_DIFF_SRC, memory(pd.diff_src_desc(), eng)}};
        dnnl::convolution_backward_data prim(pd);
        report("backward-data", alg, timePrimitive(prim, args, strm, o), flops, pd.impl_info_str());
      });
      attempt("backward-weights", alg, [&] {
        dnnl::convolution_forward::primitive_desc hint(hintDesc, eng);
        dnnl::convolution_backward_weights::desc desc(a, srcAny, weightAny, dstAny, strides,
                                                      padding, padding);
        dnnl::convolution_backward_weights::primitive_desc pd(desc, eng, hint);
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_SRC, filledMemory(eng, strm, pd.src_desc(), srcDims, tag::nchw, rng)},
            {DNNL_ARG_DIFF_DST,
             filledMemory(eng, strm, pd.diff_dst_desc(), dstDims, tag::nchw, rng)},
            {DNNL_ARG_DIFF_WEIGHTS, memory(pd.diff_weights_desc(), eng)}};
        dnnl::convolution_backward_weights prim(pd);
        report("backward-weights", alg, timePrimitive(prim, args, strm, o), flops,
               pd.impl_info_str());
      });
    }
  } catch (const dnnl::error &e) {
    std::fprintf(stderr, "%s: oneDNN: %s (status %d)\n", argv[0], e.what(), int(e.status));
    return 1;
  }
  return 0;
}
