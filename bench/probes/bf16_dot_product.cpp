//===- bf16_dot_product.cpp - Does Halide 14 emit vdpbf16ps? --------------===//
//
// Issue 21's BF16 question, asked of the Halide this project builds with:
// a bf16 dot product accumulated in float, scheduled three ways (the
// reduction vectorised whole, in pairs beside 16 output lanes, and over a
// pair-interleaved layout as vdpbf16ps reads it), compiled for
// AVX512_SapphireRapids (which has AVX512_BF16). Prints, per schedule, how
// many vdpbf16ps, bf16 widenings (vpslld by 16) and FMAs the assembly holds.
//
//===----------------------------------------------------------------------===//

#include "Halide.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using namespace Halide;

namespace {

int count(const std::string &text, const std::string &what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

/// Compiles `out` to assembly and counts what tells the answer; true when
/// the schedule selected a vdpbf16ps (inlined, or as a call of Halide's
/// wrapper, which the module then leaves undefined).
bool report(const char *name, Func out, const std::vector<Argument> &args, const Target &target,
            const std::string &folder) {
  std::string path = folder + "/" + name + ".s";
  out.compile_to_assembly(path, args, name, target);
  out.compile_to_object(folder + "/" + name + ".o", args, name, target);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  int inlined = count(s, "vdpbf16ps"), calls = count(s, "dpbf16psx16@PLT");
  std::printf("%-18s vdpbf16ps %2d   calls of the dpbf16psx16 wrapper %2d   vpslld (bf16 -> f32) "
              "%2d   vfmadd %2d\n",
              name, inlined, calls, count(s, "vpslld"), count(s, "vfmadd"));
  return inlined + calls > 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string folder = argc > 1 ? argv[1] : ".";
  Target target("x86-64-linux-avx512_sapphirerapids");
  Var x("x"), y("y");
  int selected = 0;
  {
    // dot(x, y) = sum_k a(k, x) * b(k, y), the reduction vectorised whole.
    ImageParam a(BFloat(16), 2, "a"), b(BFloat(16), 2, "b");
    RDom k(0, 64, "k");
    Func dot("dot"), out("out");
    dot(x, y) = 0.0f;
    dot(x, y) += cast<float>(a(k, x)) * cast<float>(b(k, y));
    out(x, y) = dot(x, y);
    dot.update().atomic().vectorize(k, 32);
    selected += report("whole_reduction", out, {a, b}, target, folder);
  }
  {
    // The same in pairs of k beside 16 lanes of x: a factor-2 reduction.
    ImageParam a(BFloat(16), 2, "a"), b(BFloat(16), 2, "b");
    RDom k(0, 64, "k");
    RVar ko("ko"), ki("ki");
    Func dot("dot"), out("out");
    dot(x, y) = 0.0f;
    dot(x, y) += cast<float>(a(k, x)) * cast<float>(b(k, y));
    out(x, y) = dot(x, y);
    out.vectorize(x, 16);
    dot.compute_at(out, x).vectorize(x, 16);
    dot.update().split(k, ko, ki, 2).reorder(ki, x, ko, y).atomic().vectorize(ki).vectorize(x, 16);
    selected += report("pairs", out, {a, b}, target, folder);
  }
  {
    // a(pair, x, k / 2): each x's pair of k adjacent, as vdpbf16ps reads it.
    ImageParam a(BFloat(16), 3, "a"), b(BFloat(16), 3, "b");
    RDom r(0, 2, 0, 32, "r");
    Func dot("dot"), out("out");
    dot(x, y) = 0.0f;
    dot(x, y) += cast<float>(a(r.x, x, r.y)) * cast<float>(b(r.x, r.y, y));
    out(x, y) = dot(x, y);
    out.vectorize(x, 16);
    dot.compute_at(out, x).vectorize(x, 16);
    dot.update().reorder(r.x, x, r.y, y).atomic().vectorize(r.x).vectorize(x, 16);
    selected += report("pair_interleaved", out, {a, b}, target, folder);
  }
  std::printf("%s\n", selected ? "Halide selects dpbf16ps for a pairwise bf16 reduction"
                               : "Halide never selects dpbf16ps here");
  return 0;
}
