//===- KernelSpec.cpp - Parsing kernel specifications ---------------------===//

#include "KernelSpec.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace resnetc::kernelgen {

namespace {

struct KindInfo {
  KernelKind kind;
  const char *name;
  std::vector<const char *> keys; // canonical order, "kind" excluded
};

const std::vector<KindInfo> &kindTable() {
  static const std::vector<KindInfo> table = {
      {KernelKind::NchwToNhwc, "nchw_to_nhwc", {"input"}},
      {KernelKind::Conv2D,
       "conv2d",
       {"input", "weight", "strides", "padding", "bias", "residual", "relu"}},
      {KernelKind::BatchNorm, "batch_norm", {"input", "epsilon", "relu"}},
      {KernelKind::Add, "add", {"input", "relu"}},
      {KernelKind::Relu, "relu", {"input"}},
      {KernelKind::MaxPool2D, "max_pool2d", {"input", "kernel", "strides", "padding"}},
      {KernelKind::GlobalAvgPool, "global_avg_pool", {"input"}},
      {KernelKind::Dense, "dense", {"input", "weight", "bias"}},
      {KernelKind::ZeroPadShortcut, "zero_pad_shortcut", {"input", "out_channels", "stride"}},
      {KernelKind::PackConvWeight, "pack_conv_weight", {"weight"}},
      {KernelKind::FoldPackConvWeight, "fold_pack_conv_weight", {"weight", "bias", "epsilon"}},
  };
  return table;
}

const KindInfo &kindInfo(KernelKind kind) {
  for (const KindInfo &info : kindTable())
    if (info.kind == kind)
      return info;
  return kindTable().front(); // unreachable
}

// Halide indexes buffers with 32-bit arithmetic: keep every buffer's size in
// bytes below 2^31.
constexpr int64_t kMaxElements = (int64_t(1) << 31) / 4 - 1;

bool parseInt(const std::string &text, int64_t &value) {
  if (text.empty() || text.size() > 10)
    return false;
  int64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9')
      return false;
    v = v * 10 + (ch - '0');
  }
  if (v > std::numeric_limits<int32_t>::max())
    return false;
  value = v;
  return true;
}

bool parseSizes(const std::string &text, std::vector<int64_t> &sizes) {
  sizes.clear();
  size_t start = 0;
  while (true) {
    size_t end = text.find('x', start);
    std::string part =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    int64_t v;
    if (!parseInt(part, v))
      return false;
    sizes.push_back(v);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return true;
}

bool parseFloat(const std::string &text, float &value) {
  if (text.empty())
    return false;
  char c0 = text[0];
  if (!(c0 == '-' || c0 == '+' || c0 == '.' || (c0 >= '0' && c0 <= '9')))
    return false;
  errno = 0;
  char *end = nullptr;
  float v = std::strtof(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
    return false;
  value = v;
  return true;
}

std::string joinSizes(const std::vector<int64_t> &sizes) {
  std::string out;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i)
      out += 'x';
    out += std::to_string(sizes[i]);
  }
  return out;
}

int64_t product(const std::vector<int64_t> &sizes) {
  int64_t p = 1;
  for (int64_t s : sizes) {
    p *= s;
    if (p > kMaxElements)
      return kMaxElements + 1;
  }
  return p;
}

std::string formatFloat(float value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(value));
  return buf;
}

} // namespace

const char *kindName(KernelKind kind) { return kindInfo(kind).name; }

std::vector<int64_t> KernelSpec::outputShape() const {
  switch (kind) {
  case KernelKind::NchwToNhwc:
  case KernelKind::BatchNorm:
  case KernelKind::Add:
  case KernelKind::Relu:
    return input;
  case KernelKind::Conv2D:
    return {input[0], weight[0], (input[2] + 2 * padH - weight[2]) / strideH + 1,
            (input[3] + 2 * padW - weight[3]) / strideW + 1};
  case KernelKind::MaxPool2D:
    return {input[0], input[1], (input[2] + 2 * padH - kernelH) / strideH + 1,
            (input[3] + 2 * padW - kernelW) / strideW + 1};
  case KernelKind::GlobalAvgPool:
    return {input[0], input[1]};
  case KernelKind::Dense:
    return {input[0], weight[0]};
  case KernelKind::ZeroPadShortcut:
    return {input[0], outChannels, input[2] / stride, input[3] / stride};
  case KernelKind::PackConvWeight:
  case KernelKind::FoldPackConvWeight:
    return weight;
  }
  return {};
}

std::string KernelSpec::toString() const {
  std::string out = std::string("kind=") + kindName(kind);
  for (const char *key : kindInfo(kind).keys) {
    std::string k = key, v;
    if (k == "input")
      v = joinSizes(input);
    else if (k == "weight")
      v = joinSizes(weight);
    else if (k == "strides")
      v = std::to_string(strideH) + "x" + std::to_string(strideW);
    else if (k == "padding")
      v = std::to_string(padH) + "x" + std::to_string(padW);
    else if (k == "kernel")
      v = std::to_string(kernelH) + "x" + std::to_string(kernelW);
    else if (k == "bias")
      v = bias ? "1" : "0";
    else if (k == "residual")
      v = residual ? "1" : "0";
    else if (k == "relu")
      v = relu ? "1" : "0";
    else if (k == "epsilon")
      v = formatFloat(epsilon);
    else if (k == "out_channels")
      v = std::to_string(outChannels);
    else if (k == "stride")
      v = std::to_string(stride);
    out += ";" + k + "=" + v;
  }
  return out;
}

bool parseKernelSpec(const std::string &text, KernelSpec &spec, std::string &error) {
  spec = KernelSpec();
  if (text.empty()) {
    error = "empty kernel spec";
    return false;
  }

  // Split into key=value pairs.
  std::map<std::string, std::string> values;
  std::vector<std::string> order;
  size_t start = 0;
  while (true) {
    size_t end = text.find(';', start);
    std::string item =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "malformed spec item '" + item + "' (expected key=value)";
      return false;
    }
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (values.count(key)) {
      error = "duplicate key '" + key + "'";
      return false;
    }
    values[key] = value;
    order.push_back(key);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }

  auto kindIt = values.find("kind");
  if (kindIt == values.end()) {
    error = "missing key 'kind'";
    return false;
  }
  const KindInfo *info = nullptr;
  for (const KindInfo &candidate : kindTable())
    if (kindIt->second == candidate.name)
      info = &candidate;
  if (!info) {
    error = "unknown kernel kind '" + kindIt->second + "'";
    return false;
  }
  spec.kind = info->kind;

  std::set<std::string> allowed(info->keys.begin(), info->keys.end());
  for (const std::string &key : order) {
    if (key != "kind" && !allowed.count(key)) {
      error = "unknown key '" + key + "' for kind " + info->name;
      return false;
    }
  }
  for (const char *key : info->keys) {
    if (!values.count(key)) {
      error = std::string("missing key '") + key + "' for kind " + info->name;
      return false;
    }
  }

  auto bad = [&](const std::string &key, const std::string &what) {
    error = "malformed value '" + values[key] + "' for key '" + key + "' (expected " + what + ")";
    return false;
  };
  auto getSizes = [&](const char *key, size_t rank, std::vector<int64_t> &out) -> bool {
    if (!parseSizes(values[key], out) || out.size() != rank)
      return bad(key, std::to_string(rank) + " sizes joined by 'x'");
    for (int64_t v : out)
      if (v < 1)
        return bad(key, "positive sizes");
    if (product(out) > kMaxElements)
      return bad(key, "fewer than 2^29 elements");
    return true;
  };
  auto getPair = [&](const char *key, int64_t minimum, int64_t &a, int64_t &b) -> bool {
    std::vector<int64_t> v;
    if (!parseSizes(values[key], v) || v.size() != 2 || v[0] < minimum || v[1] < minimum)
      return bad(key,
                 minimum ? "two positive integers joined by 'x'" : "two integers joined by 'x'");
    a = v[0];
    b = v[1];
    return true;
  };
  auto getBool = [&](const char *key, bool &out) -> bool {
    const std::string &v = values[key];
    if (v != "0" && v != "1")
      return bad(key, "0 or 1");
    out = v == "1";
    return true;
  };
  auto getInt = [&](const char *key, int64_t minimum, int64_t &out) -> bool {
    if (!parseInt(values[key], out) || out < minimum)
      return bad(key, minimum ? "a positive integer" : "an integer");
    return true;
  };
  auto getEpsilon = [&]() -> bool {
    if (!parseFloat(values["epsilon"], spec.epsilon) || spec.epsilon < 0.0f)
      return bad("epsilon", "a finite non-negative float");
    return true;
  };

  const bool dense = spec.kind == KernelKind::Dense;
  if (allowed.count("input") && !getSizes("input", dense ? 2 : 4, spec.input))
    return false;
  if (allowed.count("weight") && !getSizes("weight", dense ? 2 : 4, spec.weight))
    return false;
  if (allowed.count("strides") && !getPair("strides", 1, spec.strideH, spec.strideW))
    return false;
  if (allowed.count("padding") && !getPair("padding", 0, spec.padH, spec.padW))
    return false;
  if (allowed.count("kernel") && !getPair("kernel", 1, spec.kernelH, spec.kernelW))
    return false;
  if (allowed.count("bias") && !getBool("bias", spec.bias))
    return false;
  if (allowed.count("residual") && !getBool("residual", spec.residual))
    return false;
  if (allowed.count("relu") && !getBool("relu", spec.relu))
    return false;
  if (allowed.count("epsilon") && !getEpsilon())
    return false;
  if (allowed.count("out_channels") && !getInt("out_channels", 1, spec.outChannels))
    return false;
  if (allowed.count("stride") && !getInt("stride", 1, spec.stride))
    return false;

  // Consistency of the shapes.
  auto fail = [&](const std::string &message) {
    error = message;
    return false;
  };
  switch (spec.kind) {
  case KernelKind::Conv2D: {
    if (spec.weight[1] != spec.input[1])
      return fail("weight has " + std::to_string(spec.weight[1]) +
                  " input channels but the input has " + std::to_string(spec.input[1]));
    if (spec.input[2] + 2 * spec.padH < spec.weight[2] ||
        spec.input[3] + 2 * spec.padW < spec.weight[3])
      return fail("kernel is larger than the padded input");
    break;
  }
  case KernelKind::MaxPool2D: {
    if (2 * spec.padH > spec.kernelH || 2 * spec.padW > spec.kernelW)
      return fail("padding must be at most half the pooling kernel");
    if (spec.input[2] + 2 * spec.padH < spec.kernelH ||
        spec.input[3] + 2 * spec.padW < spec.kernelW)
      return fail("pooling kernel is larger than the padded input");
    break;
  }
  case KernelKind::Dense:
    if (spec.weight[1] != spec.input[1])
      return fail("weight has " + std::to_string(spec.weight[1]) +
                  " input features but the input has " + std::to_string(spec.input[1]));
    break;
  case KernelKind::ZeroPadShortcut:
    if (spec.outChannels < spec.input[1])
      return fail("out_channels is smaller than the input's channels");
    if (spec.input[2] / spec.stride < 1 || spec.input[3] / spec.stride < 1)
      return fail("stride is larger than the input");
    break;
  default:
    break;
  }
  if (product(spec.outputShape()) > kMaxElements)
    return fail("output has 2^29 elements or more");
  return true;
}

} // namespace resnetc::kernelgen
