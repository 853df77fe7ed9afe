//===- OnnxLayers.h - An ONNX graph as layers with checked shapes -*- C++ -*-===//
//
// The first step of ONNX import: the protobuf model (parsed by ONNX's own
// library) becomes a graph of the layers resnetc knows, each with its
// attributes checked, its constants resolved (shape arithmetic that torch
// emits is evaluated) and its per-image output shape. Anything that cannot
// be mapped is refused here, naming the node and its op type.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INTERCHANGE_ONNXLAYERS_H
#define RESNETC_INTERCHANGE_ONNXLAYERS_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc::onnximport {

/// A float tensor: dims and values, row-major.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct Layer {
  enum class Kind {
    Conv,      ///< weight [O, C, K, K], optional bias [O]
    BatchNorm, ///< gamma, beta, mean, variance, epsilon (inference form)
    Relu,
    MaxPool,
    GlobalAvgPool, ///< N x C x H x W -> N x C (GlobalAveragePool, ReduceMean, a global AveragePool)
    Dense,         ///< weight [K, C] (Gemm's B, transposed if need be), bias [K]
    Add,           ///< two feature maps of one shape
    Subsample,     ///< x[:, :, ::strideH, ::strideW] (Slice)
    ChannelPad,    ///< zero channels before and after (Pad)
  };
  Kind kind;
  std::string node;   ///< The ONNX node's name ("#<index>" for an unnamed node).
  std::string opType; ///< e.g. "Conv"
  /// The producing layers; kGraphInput for the graph's input.
  std::vector<int> inputs;
  /// Output per image: C, H, W; or C once pooled.
  std::vector<int64_t> shape;
  int64_t kernel = 0, stride = 1, padding = 0; ///< Conv, MaxPool
  int64_t strideH = 1, strideW = 1;            ///< Subsample
  int64_t padBefore = 0, padAfter = 0;         ///< ChannelPad
  Tensor weight, bias;                         ///< Conv, Dense (bias may be empty for Conv)
  std::vector<float> gamma, beta, mean, variance;
  double epsilon = 1e-5;
};

inline constexpr int kGraphInput = -1;

struct LayerGraph {
  std::vector<int64_t> input; ///< C, H, W
  std::string inputName, outputName;
  int64_t opset = 0;
  std::vector<Layer> layers; ///< In the graph's (topological) order.
  int output = kGraphInput;  ///< The layer that produces the graph's output.
};

/// The opsets of the default domain that are read.
inline constexpr int64_t kMinOpset = 9, kMaxOpset = 17;

/// Parses a serialised ONNX ModelProto and reads its graph as layers. On
/// failure `error` is one line without the file name, such as
/// "node '/layer1/conv' (Conv): groups=32 is not supported".
bool readOnnxLayers(llvm::StringRef bytes, LayerGraph &graph, std::string &error);

} // namespace resnetc::onnximport

#endif // RESNETC_INTERCHANGE_ONNXLAYERS_H
