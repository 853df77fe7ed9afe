//===- Safetensors.h - Reading and writing .safetensors files ---*- C++ -*-===//
//
// The format (huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//    ..., "__metadata__": {"key": "value"}}
// then the data section, which the tensors cover exactly (no holes, no
// overlaps), offsets relative to its start. Every value is little-endian.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INTERCHANGE_SAFETENSORS_H
#define RESNETC_INTERCHANGE_SAFETENSORS_H

#include "resnetc/runtime/WeightsFile.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace resnetc::safetensors {

/// Headers larger than this are refused as absurd (real ones are KiBs).
inline constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

/// An integer tensor. Only I64 is read, so that torch's BatchNorm counters
/// (`num_batches_tracked`) can be recognised; they are not weights.
struct IntegerTensor {
  std::string name;
  std::vector<int64_t> shape; ///< [] for a scalar
  std::vector<int64_t> values;
};

struct File {
  /// F32 tensors; on reading, F16, BF16 and F64 are converted to float.
  /// Sorted by name.
  std::vector<NamedTensor> tensors;
  std::vector<IntegerTensor> integerTensors;                 ///< Sorted by name.
  std::vector<std::pair<std::string, std::string>> metadata; ///< "__metadata__", sorted by key
};

/// Parses and checks a complete file image. On failure, `error` is one line
/// naming the tensor (or the header field) that is wrong.
bool parse(llvm::StringRef bytes, File &file, std::string &error);

/// Reads `path`; errors start with the path.
bool readFile(const std::string &path, File &file, std::string &error);

/// Serialises `file`: tensors as F32 and I64, sorted by name, the header
/// padded with spaces so the data section starts 8-byte aligned. Fails when
/// a tensor's values do not match its shape or two tensors share a name.
bool serialize(const File &file, std::string &bytes, std::string &error);

/// serialize, then writes atomically (temporary file, fsync, rename).
bool writeFile(const std::string &path, const File &file, std::string &error);

} // namespace resnetc::safetensors

#endif // RESNETC_INTERCHANGE_SAFETENSORS_H
