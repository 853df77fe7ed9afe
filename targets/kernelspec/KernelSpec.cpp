//===- KernelSpec.cpp - The text form of kernel specifications ------------===//
//
// The kind table (each kind's keys in canonical order), toString() and the
// parser. What a spec means (shapes, arguments, checks) is in
// KernelShapes.cpp.
//
//===----------------------------------------------------------------------===//

#include "resnetc/KernelSpec/KernelSpec.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

namespace resnetc {

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
      {KernelKind::NhwcToNchw, "nhwc_to_nchw", {"input"}},
      {KernelKind::Conv2D,
       "conv2d",
       {"input", "weight", "strides", "padding", "bias", "residual", "relu"},
       {"groups", "dilation", "weights", "winograd"}},
      {KernelKind::BatchNorm, "batch_norm", {"input", "epsilon", "relu"}},
      {KernelKind::Add, "add", {"input", "relu"}},
      {KernelKind::Relu, "relu", {"input"}},
      {KernelKind::MaxPool2D, "max_pool2d", {"input", "kernel", "strides", "padding"}},
      {KernelKind::GlobalAvgPool, "global_avg_pool", {"input"}},
      {KernelKind::Dense, "dense", {"input", "weight", "bias"}},
      {KernelKind::ZeroPadShortcut, "zero_pad_shortcut", {"input", "out_channels", "stride"}},
      {KernelKind::Scale, "scale", {"input"}},
      {KernelKind::PackConvWeight, "pack_conv_weight", {"weight"}},
      {KernelKind::FoldPackConvWeight,
       "fold_pack_conv_weight",
       {"weight", "bias", "epsilon"},
       {"blocked_for", "winograd_filter"}},
      // residual=1: an addend before the relu.
      {KernelKind::BatchNormTrain, "batch_norm_train", {"input", "epsilon", "relu"}, {"residual"}},
      {KernelKind::BatchNormTrainGrad, "batch_norm_train_grad", {"input", "relu"}},
      {KernelKind::ReluGrad, "relu_grad", {"input"}},
      {KernelKind::ChannelMean, "channel_mean", {"input"}},
      {KernelKind::ChannelVariance, "channel_variance", {"input"}},
      {KernelKind::BatchNormNormalize, "batch_norm_normalize", {"input", "epsilon", "relu"}},
      {KernelKind::BatchNormGradSums, "batch_norm_grad_sums", {"input", "relu"}},
      {KernelKind::BatchNormGradInput, "batch_norm_grad_input", {"input", "relu"}},
      // residual=1: an addend; relu=1: the relu mask of the forward output.
      {KernelKind::Conv2DGradInput,
       "conv2d_grad_input",
       {"input", "weight", "strides", "padding"},
       {"groups", "dilation", "residual", "relu"}},
      {KernelKind::Conv2DGradWeight,
       "conv2d_grad_weight",
       {"input", "weight", "strides", "padding"},
       {"groups", "dilation"}},
      {KernelKind::ChannelSum, "channel_sum", {"input"}},
      {KernelKind::Dropout, "dropout", {"input", "rate", "stream"}},
      {KernelKind::Sigmoid, "sigmoid", {"input"}},
      {KernelKind::SigmoidGrad, "sigmoid_grad", {"input"}},
      {KernelKind::ChannelMul, "channel_mul", {"input"}},
      {KernelKind::SpatialDot, "spatial_dot", {"input"}},
      {KernelKind::ChannelDot, "channel_dot", {"input"}},
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

/// The shortest text that reads back as the same float: 0.9f is "0.9".
std::string formatFloat(float value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

} // namespace

const char *kindName(KernelKind kind) { return kindInfo(kind).name; }

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
  // Grouping and dilation first: they describe the operation, the flags
  // after them its epilogue.
  if (optional("groups") && groups != 1)
    keys.push_back("groups");
  if (optional("dilation") && (dilationH != 1 || dilationW != 1))
    keys.push_back("dilation");
  if (optional("residual") && residual)
    keys.push_back("residual");
  if (optional("relu") && relu)
    keys.push_back("relu");
  if (blockedWeights || winogradWeights)
    keys.push_back("weights");
  if (optional("winograd") && winogradTile != 2)
    keys.push_back("winograd");
  if (blockedForQ > 0)
    keys.push_back("blocked_for");
  if (winogradFilterTile > 0)
    keys.push_back("winograd_filter");
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
    else if (k == "groups")
      v = std::to_string(groups);
    else if (k == "dilation")
      v = std::to_string(dilationH) + "x" + std::to_string(dilationW);
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
    else if (k == "rate")
      v = formatFloat(rate);
    else if (k == "stream")
      v = std::to_string(stream);
    else if (k == "weights")
      v = winogradWeights ? "winograd" : "blocked";
    else if (k == "winograd")
      v = std::to_string(winogradTile);
    else if (k == "blocked_for")
      v = std::to_string(blockedForQ) + "x" + std::to_string(blockedForP);
    else if (k == "winograd_filter")
      v = std::to_string(winogradFilterTile);
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

  // The syntax of each value; checkKernelSpec then checks ranges and ranks.
  auto bad = [&](const std::string &key, const std::string &what) {
    error = "malformed value '" + values[key] + "' for key '" + key + "' (expected " + what + ")";
    return false;
  };
  auto getSizes = [&](const char *key, std::vector<int64_t> &out) -> bool {
    if (!parseSizes(values[key], out))
      return bad(key, "sizes joined by 'x'");
    return true;
  };
  auto getPair = [&](const char *key, int64_t &a, int64_t &b) -> bool {
    std::vector<int64_t> v;
    if (!parseSizes(values[key], v) || v.size() != 2)
      return bad(key, "two integers joined by 'x'");
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
  auto getInt = [&](const char *key, int64_t &out) -> bool {
    if (!parseInt(values[key], out))
      return bad(key, "an integer");
    return true;
  };
  auto getFloat = [&](const char *key, float &out) -> bool {
    if (!parseFloat(values[key], out))
      return bad(key, "a finite float");
    return true;
  };
  // Required keys are present; optional ones may not be.
  auto has = [&](const char *key) { return values.count(key) != 0; };
  if ((has("input") && !getSizes("input", spec.input)) ||
      (has("weight") && !getSizes("weight", spec.weight)) ||
      (has("strides") && !getPair("strides", spec.strideH, spec.strideW)) ||
      (has("padding") && !getPair("padding", spec.padH, spec.padW)) ||
      (has("kernel") && !getPair("kernel", spec.kernelH, spec.kernelW)) ||
      (has("groups") && !getInt("groups", spec.groups)) ||
      (has("dilation") && !getPair("dilation", spec.dilationH, spec.dilationW)) ||
      (has("bias") && !getBool("bias", spec.bias)) ||
      (has("residual") && !getBool("residual", spec.residual)) ||
      (has("relu") && !getBool("relu", spec.relu)) ||
      (has("epsilon") && !getFloat("epsilon", spec.epsilon)) ||
      (has("out_channels") && !getInt("out_channels", spec.outChannels)) ||
      (has("stride") && !getInt("stride", spec.stride)) ||
      (has("size") && !getInt("size", spec.size)) ||
      (has("channels") && !getInt("channels", spec.channels)) ||
      (has("count") && !getInt("count", spec.count)) ||
      (has("momentum") && !getFloat("momentum", spec.momentum)) ||
      (has("weight_decay") && !getFloat("weight_decay", spec.weightDecay)) ||
      (has("rate") && !getFloat("rate", spec.rate)) ||
      (has("stream") && !getInt("stream", spec.stream)) ||
      (has("winograd") && !getInt("winograd", spec.winogradTile)) ||
      (has("blocked_for") && !getPair("blocked_for", spec.blockedForQ, spec.blockedForP)) ||
      (has("winograd_filter") && !getInt("winograd_filter", spec.winogradFilterTile)))
    return false;
  if (has("weights")) {
    if (values["weights"] == "blocked")
      spec.blockedWeights = true;
    else if (values["weights"] == "winograd")
      spec.winogradWeights = true;
    else
      return bad("weights", "'blocked' or 'winograd'");
  }
  return checkKernelSpec(spec, error);
}

} // namespace resnetc
