//===- KernelSpec.cpp - Parsing kernel specifications ---------------------===//

#include "KernelSpec.h"

#include <algorithm>
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
  /// Keys that may be left out (then their default), after `keys`.
  std::vector<const char *> optionalKeys = {};
};

const std::vector<KindInfo> &kindTable() {
  static const std::vector<KindInfo> table = {
      {KernelKind::NchwToNhwc, "nchw_to_nhwc", {"input"}},
      {KernelKind::Conv2D,
       "conv2d",
       {"input", "weight", "strides", "padding", "bias", "residual", "relu"},
       {"weights"}},
      {KernelKind::BatchNorm, "batch_norm", {"input", "epsilon", "relu"}},
      {KernelKind::Add, "add", {"input", "relu"}},
      {KernelKind::Relu, "relu", {"input"}},
      {KernelKind::MaxPool2D, "max_pool2d", {"input", "kernel", "strides", "padding"}},
      {KernelKind::GlobalAvgPool, "global_avg_pool", {"input"}},
      {KernelKind::Dense, "dense", {"input", "weight", "bias"}},
      {KernelKind::ZeroPadShortcut, "zero_pad_shortcut", {"input", "out_channels", "stride"}},
      {KernelKind::PackConvWeight, "pack_conv_weight", {"weight"}},
      {KernelKind::FoldPackConvWeight,
       "fold_pack_conv_weight",
       {"weight", "bias", "epsilon"},
       {"blocked_for"}},
      {KernelKind::BatchNormTrain, "batch_norm_train", {"input", "epsilon", "relu"}},
      {KernelKind::BatchNormTrainGrad, "batch_norm_train_grad", {"input", "relu"}},
      {KernelKind::ReluGrad, "relu_grad", {"input"}},
      // residual=1: an addend; relu=1: the relu mask of the forward output.
      {KernelKind::Conv2DGradInput,
       "conv2d_grad_input",
       {"input", "weight", "strides", "padding"},
       {"residual", "relu"}},
      {KernelKind::Conv2DGradWeight,
       "conv2d_grad_weight",
       {"input", "weight", "strides", "padding"}},
      {KernelKind::ChannelSum, "channel_sum", {"input"}},
      {KernelKind::DenseGradInput, "dense_grad_input", {"input", "weight"}},
      {KernelKind::DenseGradWeight, "dense_grad_weight", {"input", "weight"}},
      {KernelKind::MaxPool2DGrad, "max_pool2d_grad", {"input", "kernel", "strides", "padding"}},
      {KernelKind::GlobalAvgPoolGrad, "global_avg_pool_grad", {"input"}},
      {KernelKind::ZeroPadShortcutGrad,
       "zero_pad_shortcut_grad",
       {"input", "out_channels", "stride"}},
      {KernelKind::SoftmaxCrossEntropy, "softmax_cross_entropy", {"input"}},
      {KernelKind::SgdUpdate, "sgd_update", {"size", "momentum", "weight_decay"}},
      {KernelKind::RunningStatsUpdate,
       "running_stats_update",
       {"channels", "count", "momentum", "epsilon"}},
      {KernelKind::UnpackConvWeight, "unpack_conv_weight", {"weight"}},
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
  case KernelKind::BatchNormTrain:
  case KernelKind::BatchNormTrainGrad:
  case KernelKind::ReluGrad:
  case KernelKind::Conv2DGradInput:
  case KernelKind::DenseGradInput:
  case KernelKind::MaxPool2DGrad:
  case KernelKind::GlobalAvgPoolGrad:
  case KernelKind::ZeroPadShortcutGrad:
  case KernelKind::SoftmaxCrossEntropy:
    return input;
  case KernelKind::Conv2DGradWeight:
  case KernelKind::DenseGradWeight:
    return weight;
  case KernelKind::ChannelSum:
    return {input[1]};
  case KernelKind::SgdUpdate:
    return {size};
  case KernelKind::RunningStatsUpdate:
    return {channels};
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
  case KernelKind::UnpackConvWeight:
    return weight;
  }
  return {};
}

std::vector<int64_t> KernelSpec::forwardOutputShape() const {
  KernelSpec forward = *this;
  switch (kind) {
  case KernelKind::Conv2DGradInput:
  case KernelKind::Conv2DGradWeight:
    forward.kind = KernelKind::Conv2D;
    break;
  case KernelKind::MaxPool2DGrad:
    forward.kind = KernelKind::MaxPool2D;
    break;
  case KernelKind::DenseGradInput:
  case KernelKind::DenseGradWeight:
    forward.kind = KernelKind::Dense;
    break;
  case KernelKind::GlobalAvgPoolGrad:
    forward.kind = KernelKind::GlobalAvgPool;
    break;
  case KernelKind::ZeroPadShortcutGrad:
    forward.kind = KernelKind::ZeroPadShortcut;
    break;
  default:
    return {};
  }
  return forward.outputShape();
}

std::string KernelSpec::toString() const {
  std::string out = std::string("kind=") + kindName(kind);
  const KindInfo &info = kindInfo(kind);
  std::vector<const char *> keys = info.keys;
  // Optional flags are written only when set, so that specs without them
  // keep their text (and the kernels their names).
  auto optional = [&](const char *key) {
    return std::find_if(info.optionalKeys.begin(), info.optionalKeys.end(), [&](const char *k) {
             return std::string(k) == key;
           }) != info.optionalKeys.end();
  };
  if (optional("residual") && residual)
    keys.push_back("residual");
  if (optional("relu") && relu)
    keys.push_back("relu");
  if (blockedWeights)
    keys.push_back("weights");
  if (blockedForQ > 0)
    keys.push_back("blocked_for");
  for (const char *key : keys) {
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
    else if (k == "size")
      v = std::to_string(size);
    else if (k == "channels")
      v = std::to_string(channels);
    else if (k == "count")
      v = std::to_string(count);
    else if (k == "momentum")
      v = formatFloat(momentum);
    else if (k == "weight_decay")
      v = formatFloat(weightDecay);
    else if (k == "weights")
      v = "blocked";
    else if (k == "blocked_for")
      v = std::to_string(blockedForQ) + "x" + std::to_string(blockedForP);
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
  allowed.insert(info->optionalKeys.begin(), info->optionalKeys.end());
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
  auto getFloat = [&](const char *key, float maximum, float &out) -> bool {
    if (!parseFloat(values[key], out) || out < 0.0f || out > maximum)
      return bad(key, maximum < std::numeric_limits<float>::max() ? "a float in [0, 1]"
                                                                  : "a finite non-negative float");
    return true;
  };
  const float anyFloat = std::numeric_limits<float>::max();

  const bool dense = spec.kind == KernelKind::Dense || spec.kind == KernelKind::DenseGradInput ||
                     spec.kind == KernelKind::DenseGradWeight;
  const bool matrixInput = dense || spec.kind == KernelKind::SoftmaxCrossEntropy;
  if (spec.kind == KernelKind::ChannelSum) {
    // N x C or N x C x H x W.
    std::vector<int64_t> sizes;
    const size_t rank = parseSizes(values["input"], sizes) ? sizes.size() : 0;
    if (rank != 2 && rank != 4)
      return bad("input", "2 or 4 sizes joined by 'x'");
    if (!getSizes("input", rank, spec.input))
      return false;
  } else if (allowed.count("input") && !getSizes("input", matrixInput ? 2 : 4, spec.input)) {
    return false;
  }
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
  // (Present only if allowed; required keys are present, optional ones may not be.)
  if (values.count("residual") && !getBool("residual", spec.residual))
    return false;
  if (values.count("relu") && !getBool("relu", spec.relu))
    return false;
  if (allowed.count("epsilon") && !getFloat("epsilon", anyFloat, spec.epsilon))
    return false;
  if (allowed.count("out_channels") && !getInt("out_channels", 1, spec.outChannels))
    return false;
  if (allowed.count("stride") && !getInt("stride", 1, spec.stride))
    return false;
  if (allowed.count("size") && !getInt("size", 1, spec.size))
    return false;
  if (allowed.count("channels") && !getInt("channels", 1, spec.channels))
    return false;
  if (allowed.count("count") && !getInt("count", 1, spec.count))
    return false;
  if (allowed.count("momentum") &&
      !getFloat("momentum", spec.kind == KernelKind::RunningStatsUpdate ? 1.0f : anyFloat,
                spec.momentum))
    return false;
  if (allowed.count("weight_decay") && !getFloat("weight_decay", anyFloat, spec.weightDecay))
    return false;
  if (values.count("weights")) {
    if (values["weights"] != "blocked")
      return bad("weights", "'blocked'");
    spec.blockedWeights = true;
  }
  if (values.count("blocked_for") &&
      !getPair("blocked_for", 1, spec.blockedForQ, spec.blockedForP))
    return false;

  // Consistency of the shapes.
  auto fail = [&](const std::string &message) {
    error = message;
    return false;
  };
  switch (spec.kind) {
  case KernelKind::Conv2D:
  case KernelKind::Conv2DGradInput:
  case KernelKind::Conv2DGradWeight: {
    if (spec.weight[1] != spec.input[1])
      return fail("weight has " + std::to_string(spec.weight[1]) +
                  " input channels but the input has " + std::to_string(spec.input[1]));
    if (spec.input[2] + 2 * spec.padH < spec.weight[2] ||
        spec.input[3] + 2 * spec.padW < spec.weight[3])
      return fail("kernel is larger than the padded input");
    break;
  }
  case KernelKind::MaxPool2D:
  case KernelKind::MaxPool2DGrad: {
    if (2 * spec.padH > spec.kernelH || 2 * spec.padW > spec.kernelW)
      return fail("padding must be at most half the pooling kernel");
    if (spec.input[2] + 2 * spec.padH < spec.kernelH ||
        spec.input[3] + 2 * spec.padW < spec.kernelW)
      return fail("pooling kernel is larger than the padded input");
    break;
  }
  case KernelKind::Dense:
  case KernelKind::DenseGradInput:
  case KernelKind::DenseGradWeight:
    if (spec.weight[1] != spec.input[1])
      return fail("weight has " + std::to_string(spec.weight[1]) +
                  " input features but the input has " + std::to_string(spec.input[1]));
    break;
  case KernelKind::ZeroPadShortcut:
  case KernelKind::ZeroPadShortcutGrad:
    if (spec.outChannels < spec.input[1])
      return fail("out_channels is smaller than the input's channels");
    if (spec.input[2] / spec.stride < 1 || spec.input[3] / spec.stride < 1)
      return fail("stride is larger than the input");
    break;
  case KernelKind::RunningStatsUpdate:
    if (spec.count < 2)
      return fail("count must be at least 2 (the unbiased variance divides by count - 1)");
    break;
  case KernelKind::SgdUpdate:
    if (spec.size > kMaxElements)
      return bad("size", "fewer than 2^29 elements");
    break;
  default:
    break;
  }
  if (product(spec.outputShape()) > kMaxElements)
    return fail("output has 2^29 elements or more");
  if (product(spec.forwardOutputShape()) > kMaxElements)
    return fail("output_grad has 2^29 elements or more");
  return true;
}

} // namespace resnetc::kernelgen
