//===- OnnxReaderFuzzer.cpp - libFuzzer target: the ONNX reader -----------===//
//
// One input is one file given to `resnetc import`: the protobuf parse (ONNX's
// own classes), constants and shape arithmetic, layers and their checks, the
// residual matcher and the .rn writer. Any outcome is fine except a crash, a
// hang, a leak or a sanitizer report. The front end that reads the written
// .rn has its own fuzzer (FrontEndFuzzer.cpp).
//
//===----------------------------------------------------------------------===//

#include "resnetc/Interchange/OnnxLayers.h"
#include "resnetc/Interchange/ResidualStructure.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace resnetc::onnximport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  LayerGraph graph;
  RnNetwork network;
  std::string error;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  if (readOnnxLayers(bytes, graph, error) && matchResidualStructure(graph, network, error)) {
    (void)weightedLayers(network);
    (void)writeRnSource(network, "fuzz", {"fuzz"});
  }
  return 0;
}
