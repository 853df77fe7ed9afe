//===- CompareWeights.cpp - Two .rnw files, tensor by tensor ---------------===//
//
//   resnetc-compare-weights A.rnw B.rnw --identical
//   resnetc-compare-weights A.rnw B.rnw --relative 1e-5
//
// The data-parallel tests' judge. --identical: every tensor (weights,
// momentum, running statistics) equal bit for bit. --relative T: for each
// tensor, |a - b| / |a| (Euclidean norms) at most T; with --from W, of the
// changes from W: |a - b| / |a - w|. --skip P leaves out the
// tensors named P... (momentum/, say). Prints the worst tensors;
// exits 1 when the files differ beyond that, 2 on an unreadable file.
//
//===----------------------------------------------------------------------===//

#include "resnetc/runtime/WeightsFile.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace llvm;

static cl::opt<std::string> first(cl::Positional, cl::desc("<a.rnw>"), cl::Required);
static cl::opt<std::string> second(cl::Positional, cl::desc("<b.rnw>"), cl::Required);
static cl::opt<bool> identical("identical", cl::desc("Every tensor equal bit for bit"));
static cl::opt<double> relative("relative", cl::desc("Largest |a - b| / |a| of a tensor"),
                                cl::init(-1));
static cl::opt<std::string>
    from("from", cl::desc("Compare the changes from these weights (tensors it lacks: from 0)"));
static cl::opt<std::string> skip("skip", cl::desc("Leave out the tensors whose names start so"));

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv, "Compares two .rnw files tensor by tensor\n");
  resnetc::WeightsFile a, b, start;
  std::string error;
  if (!resnetc::readWeightsFile(first, a, error) || !resnetc::readWeightsFile(second, b, error) ||
      (!from.empty() && !resnetc::readWeightsFile(from, start, error))) {
    errs() << "resnetc-compare-weights: " << error << "\n";
    return 2;
  }
  if (a.tensors.size() != b.tensors.size()) {
    errs() << "resnetc-compare-weights: " << a.tensors.size() << " tensors against "
           << b.tensors.size() << "\n";
    return 1;
  }
  std::vector<std::pair<double, std::string>> errors;
  bool same = true;
  for (const resnetc::NamedTensor &x : a.tensors) {
    if (!skip.empty() && StringRef(x.name).starts_with(skip))
      continue;
    const resnetc::NamedTensor *y = b.find(x.name);
    if (!y || y->values.size() != x.values.size()) {
      errs() << "resnetc-compare-weights: '" << x.name << "' is missing or of another shape\n";
      return 1;
    }
    same &= std::memcmp(x.values.data(), y->values.data(), x.values.size() * sizeof(float)) == 0;
    const resnetc::NamedTensor *base = from.empty() ? nullptr : start.find(x.name);
    double difference = 0, norm = 0;
    for (size_t i = 0; i < x.values.size(); ++i) {
      double d = double(x.values[i]) - double(y->values[i]);
      double size = double(x.values[i]) - (base ? double(base->values[i]) : 0.0);
      difference += d * d;
      norm += size * size;
    }
    errors.push_back({norm > 0 ? std::sqrt(difference / norm) : std::sqrt(difference), x.name});
  }
  std::sort(errors.rbegin(), errors.rend());
  for (size_t i = 0; i < std::min<size_t>(getenv("ALL") ? errors.size() : 5, errors.size()); ++i)
    outs() << format("  %-40s %.3g\n", errors[i].second.c_str(), errors[i].first);
  outs() << (same ? "bit for bit identical" : "not identical") << "; largest relative difference "
         << format("%.3g", errors.empty() ? 0.0 : errors.front().first) << "\n";
  if (identical && !same)
    return 1;
  if (relative >= 0 && !errors.empty() && errors.front().first > relative)
    return 1;
  return 0;
}
