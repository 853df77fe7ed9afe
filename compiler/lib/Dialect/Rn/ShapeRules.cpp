//===- ShapeRules.cpp - Result shapes of rn operations --------------------===//

#include "resnetc/Dialect/Rn/ShapeRules.h"
#include "resnetc/KernelSpec/KernelSpec.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace resnetc::rn;
using llvm::ArrayRef;

namespace {

std::string describe(ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

/// Checks a 2-element attribute of spatial sizes.
std::string checkPair(ArrayRef<int64_t> values, llvm::StringRef what, int64_t minimum) {
  if (values.size() != 2)
    return what.str() + " needs 2 values (height, width), got " + std::to_string(values.size());
  for (int64_t v : values)
    if (v < minimum)
      return what.str() + " must be at least " + std::to_string(minimum) + ", got " +
             std::to_string(v);
  return {};
}

/// A down-sampling layer must see an input its stride divides, so that every
/// path through a residual unit agrees on the output size.
std::string checkStrideDivides(ArrayRef<int64_t> input, ArrayRef<int64_t> strides) {
  static const char *axis[] = {"height", "width"};
  for (int i = 0; i < 2; ++i)
    if (input[2 + i] % strides[i] != 0)
      return "stride " + std::to_string(strides[i]) + " does not divide the input " + axis[i] +
             " " + std::to_string(input[2 + i]);
  return {};
}

ShapeResult sized(Shape shape, llvm::StringRef what) {
  if (std::string e = checkTensorSize(shape, what); !e.empty())
    return ShapeResult::failure(e);
  return {std::move(shape), {}};
}

/// A window of `kernel` taps `dilations` apart (empty: 1) spans
/// (kernel - 1) * dilation + 1 input positions along each axis.
ShapeResult windowed(ArrayRef<int64_t> input, int64_t channels, ArrayRef<int64_t> taps,
                     ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                     ArrayRef<int64_t> dilations = {}) {
  static const int64_t kUndilated[] = {1, 1};
  if (dilations.empty())
    dilations = kUndilated;
  for (auto [values, what, minimum] : {std::tuple{taps, "kernel", 1},
                                       {strides, "stride", 1},
                                       {padding, "padding", 0},
                                       {dilations, "dilation", 1}})
    if (std::string e = checkPair(values, what, minimum); !e.empty())
      return ShapeResult::failure(e);
  int64_t span[2];
  for (int i = 0; i < 2; ++i)
    span[i] = (taps[i] - 1) * dilations[i] + 1;
  ArrayRef<int64_t> kernel(span);
  for (int i = 0; i < 2; ++i)
    if (padding[i] >= kernel[i])
      return ShapeResult::failure(
          "padding " + std::to_string(padding[i]) + " must be smaller than the kernel size " +
          std::to_string(kernel[i]) + (dilations[i] > 1 ? " (dilated)" : ""));
  if (std::string e = checkStrideDivides(input, strides); !e.empty())
    return ShapeResult::failure(e);
  Shape out{input[0], channels, 0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t padded = input[2 + i] + 2 * padding[i];
    if (padded < kernel[i])
      return ShapeResult::failure("kernel " + describe(kernel) +
                                  " is larger than the padded input " +
                                  describe(input.drop_front(2)));
    out[2 + i] = resnetc::slidingWindowExtent(input[2 + i], kernel[i], strides[i], padding[i]);
  }
  return sized(out, "the output");
}

std::string checkActivation(ArrayRef<int64_t> input) {
  if (input.size() != 4)
    return "expects an NCHW input, got a tensor of rank " + std::to_string(input.size());
  for (int64_t d : input)
    if (d <= 0)
      return "expects a non-empty input, got " + describe(input);
  return {};
}

} // namespace

std::string resnetc::rn::checkTensorSize(ArrayRef<int64_t> shape, llvm::StringRef what) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return what.str() + " has a negative size";
    if (d != 0 && count > kMaxTensorElements / d)
      return what.str() + " " + describe(shape) + " would hold more than 2^36 values (256 GiB)";
    count *= d;
  }
  return {};
}

bool resnetc::rn::isShortcutKind(llvm::StringRef kind) {
  return llvm::StringSwitch<bool>(kind)
      .Cases({"A", "B", "C"}, true)
      .Cases({"projection", "identity"}, true)
      .Default(false);
}

bool resnetc::rn::shortcutIsProjection(llvm::StringRef kind, int64_t inChannels,
                                       int64_t outChannels, int64_t stride) {
  if (kind == "C" || kind == "projection")
    return true;
  if (kind == "B")
    return inChannels != outChannels || stride != 1;
  return false;
}

ShapeResult resnetc::rn::inferConv2d(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
                                     ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                                     ArrayRef<int64_t> dilations, int64_t groups) {
  if (std::string e = checkActivation(input); !e.empty())
    return ShapeResult::failure(e);
  if (weight.size() != 4)
    return ShapeResult::failure("expects an OIHW weight, got a tensor of rank " +
                                std::to_string(weight.size()));
  if (weight[0] <= 0)
    return ShapeResult::failure("width must be positive, got " + std::to_string(weight[0]));
  if (groups <= 0)
    return ShapeResult::failure("groups must be positive, got " + std::to_string(groups));
  if (input[1] % groups != 0)
    return ShapeResult::failure(std::to_string(groups) + " groups do not divide the " +
                                std::to_string(input[1]) + " input channels");
  if (weight[0] % groups != 0)
    return ShapeResult::failure(std::to_string(groups) + " groups do not divide the width " +
                                std::to_string(weight[0]));
  if (weight[1] * groups != input[1])
    return ShapeResult::failure(
        "weight expects " + std::to_string(weight[1]) + " input channels" +
        (groups > 1 ? " per group (" + std::to_string(groups) + " groups)" : std::string()) +
        ", the input has " + std::to_string(input[1]));
  if (std::string e = checkTensorSize(weight, "the weight"); !e.empty())
    return ShapeResult::failure(e);
  return windowed(input, weight[0], weight.drop_front(2), strides, padding, dilations);
}

ShapeResult resnetc::rn::inferMaxPool2d(ArrayRef<int64_t> input, ArrayRef<int64_t> kernel,
                                        ArrayRef<int64_t> strides, ArrayRef<int64_t> padding) {
  if (std::string e = checkActivation(input); !e.empty())
    return ShapeResult::failure(e);
  return windowed(input, input[1], kernel, strides, padding);
}

ShapeResult resnetc::rn::inferGlobalAvgPool(ArrayRef<int64_t> input) {
  if (std::string e = checkActivation(input); !e.empty())
    return ShapeResult::failure(e);
  return {{input[0], input[1]}, {}};
}

ShapeResult resnetc::rn::inferDense(ArrayRef<int64_t> input, ArrayRef<int64_t> weight) {
  if (input.size() != 2)
    return ShapeResult::failure("expects an NxC input (pool first), got a tensor of rank " +
                                std::to_string(input.size()));
  if (weight.size() != 2)
    return ShapeResult::failure("expects a KxC weight, got rank " + std::to_string(weight.size()));
  if (weight[0] <= 0)
    return ShapeResult::failure("number of outputs must be positive, got " +
                                std::to_string(weight[0]));
  if (weight[1] != input[1])
    return ShapeResult::failure("weight expects " + std::to_string(weight[1]) +
                                " input features, the input has " + std::to_string(input[1]));
  if (std::string e = checkTensorSize(weight, "the weight"); !e.empty())
    return ShapeResult::failure(e);
  return sized({input[0], weight[0]}, "the output");
}

ShapeResult resnetc::rn::inferShortcut(ArrayRef<int64_t> input, llvm::StringRef kind,
                                       int64_t outChannels, int64_t stride) {
  if (std::string e = checkActivation(input); !e.empty())
    return ShapeResult::failure(e);
  if (!isShortcutKind(kind))
    return ShapeResult::failure("unknown shortcut kind '" + kind.str() +
                                "' (expected A, B, C, projection or identity)");
  int64_t in = input[1];
  if (kind == "identity" && (in != outChannels || stride != 1))
    return ShapeResult::failure("identity shortcut cannot map " + std::to_string(in) +
                                " channels at stride 1 to " + std::to_string(outChannels) +
                                " channels at stride " + std::to_string(stride));
  if (kind == "A")
    return inferZeroPadShortcut(input, outChannels, stride);
  if (outChannels <= 0 || stride <= 0)
    return ShapeResult::failure("shortcut needs a positive width and stride");
  if (std::string e = checkStrideDivides(input, {stride, stride}); !e.empty())
    return ShapeResult::failure(e);
  if (std::string e = checkTensorSize({outChannels, input[1], 1, 1}, "the projection weight");
      !e.empty())
    return ShapeResult::failure(e);
  return sized({input[0], outChannels, input[2] / stride, input[3] / stride}, "the output");
}

ShapeResult resnetc::rn::inferZeroPadShortcut(ArrayRef<int64_t> input, int64_t outChannels,
                                              int64_t stride) {
  if (std::string e = checkActivation(input); !e.empty())
    return ShapeResult::failure(e);
  if (stride <= 0)
    return ShapeResult::failure("stride must be positive, got " + std::to_string(stride));
  if (outChannels < input[1])
    return ShapeResult::failure("option A shortcut cannot shrink the width from " +
                                std::to_string(input[1]) + " to " + std::to_string(outChannels) +
                                " channels (zero padding only adds channels)");
  if (std::string e = checkStrideDivides(input, {stride, stride}); !e.empty())
    return ShapeResult::failure(e);
  return sized({input[0], outChannels, input[2] / stride, input[3] / stride}, "the output");
}

std::string resnetc::rn::checkChannelVector(ArrayRef<int64_t> input, int64_t vectorSize,
                                            llvm::StringRef what) {
  if (std::string e = checkActivation(input); !e.empty())
    return e;
  if (vectorSize != input[1])
    return what.str() + " has " + std::to_string(vectorSize) + " channels, the input has " +
           std::to_string(input[1]);
  return {};
}
