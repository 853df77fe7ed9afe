//===- WeightsFile.h - Reading and writing .rnw weights files ---*- C++ -*-===//

#ifndef RESNETC_RUNTIME_WEIGHTSFILE_H
#define RESNETC_RUNTIME_WEIGHTSFILE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace resnetc {

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;

  /// The number of elements the shape describes.
  int64_t elementCount() const;
};

/// What an application needs to feed the network the way it was trained.
/// Files of format version 1 have none of it.
struct InputInfo {
  std::string layout;              ///< "NCHW" (the generated API's), or empty
  std::vector<int64_t> shape;      ///< C, H, W, or empty
  std::vector<float> mean, stddev; ///< Per channel: x' = (x - mean) / stddev
  bool hasNormalization() const { return !mean.empty(); }
  bool empty() const { return layout.empty() && shape.empty() && mean.empty(); }
};

struct WeightsFile {
  /// Version 2 added the input description, the class names and the dtype
  /// in the checksum; version 1 files still load.
  static constexpr uint32_t kFormatVersion = 2;
  static constexpr uint32_t kOldestReadableVersion = 1;

  /// The version the file was read from (files are always written in the
  /// current one).
  uint32_t formatVersion = kFormatVersion;
  std::string model;
  uint64_t architectureHash = 0;
  std::vector<NamedTensor> tensors; ///< Kept sorted by name when serialised.
  /// Checkpoints: numbers besides the tensors (training step, epoch, ...).
  std::vector<std::pair<std::string, double>> metadata;
  InputInfo input;
  std::vector<std::string> classes; ///< Class k's name, or empty

  const NamedTensor *find(const std::string &name) const;
  const double *findMetadata(const std::string &key) const;
};

/// Serialises to the FlatBuffers format of runtime/schema/rnw.fbs. Tensors are
/// written sorted by name, so equal contents give byte-identical files.
std::vector<uint8_t> serializeWeights(const WeightsFile &weights);

/// Parses and checks a .rnw image. Returns false with a one-line reason when
/// the bytes are not a complete, intact weights file.
bool parseWeights(const uint8_t *data, size_t size, WeightsFile &weights, std::string &error);

bool readWeightsFile(const std::string &path, WeightsFile &weights, std::string &error);

/// Writes atomically: a temporary file in the same folder, fsync, rename.
/// A crash at any moment leaves either the old file or the new one.
bool writeWeightsFile(const std::string &path, const WeightsFile &weights, std::string &error);

/// "[64, 3, 7, 7]".
std::string formatShape(const std::vector<int64_t> &shape);

/// Checks an input description: as many means as standard deviations, as
/// many as the shape's channels, finite, positive deviations.
bool checkInputInfo(const InputInfo &input, std::string &error);

/// Checks that `weights` belongs to the model (name and architecture hash).
bool checkArchitecture(const WeightsFile &weights, const std::string &model,
                       uint64_t architectureHash, std::string &error);

} // namespace resnetc

#endif // RESNETC_RUNTIME_WEIGHTSFILE_H
