//===- SafetensorsFuzzer.cpp - libFuzzer target: the safetensors reader ---===//
//
// One input is one .safetensors file image: parse and check it (header
// length, JSON, dtypes, shapes, offsets, coverage), convert its tensors, and
// write back what was read. Any outcome is fine except a crash, a hang, a
// leak or a sanitizer report; what was accepted must serialise and parse
// again to the same tensors.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Interchange/Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  resnetc::safetensors::File file;
  std::string error;
  if (!resnetc::safetensors::parse(llvm::StringRef(reinterpret_cast<const char *>(data), size),
                                   file, error))
    return 0;
  std::string bytes;
  resnetc::safetensors::File again;
  if (!resnetc::safetensors::serialize(file, bytes, error) ||
      !resnetc::safetensors::parse(bytes, again, error) ||
      again.tensors.size() != file.tensors.size() ||
      again.integerTensors.size() != file.integerTensors.size() || again.metadata != file.metadata)
    std::abort(); // what was read must write and read back
  return 0;
}
