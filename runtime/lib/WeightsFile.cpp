//===- WeightsFile.cpp - Reading and writing .rnw weights files -----------===//

#include "resnetc/runtime/WeightsFile.h"
#include "resnetc/runtime/AtomicFile.h"

#include "rnw_generated.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

using namespace resnetc;

namespace {

/// Checksum over everything a reader uses: the header fields, then each
/// tensor in file order, then the metadata, then (version 2) the input
/// description and the class names. docs/weights-format.md gives the bytes.
class PayloadHash {
public:
  explicit PayloadHash(uint32_t version) : version(version) { XXH3_64bits_reset(&state); }
  void add(const void *data, size_t size) { XXH3_64bits_update(&state, data, size); }
  void addSize(uint64_t size) { add(&size, sizeof(size)); }
  void addString(const std::string &text) {
    addSize(text.size());
    add(text.data(), text.size());
  }
  void addTensor(const std::string &name, const int64_t *shape, size_t rank, uint8_t dtype,
                 const float *values, size_t count) {
    uint64_t sizes[2] = {name.size(), rank};
    add(sizes, sizeof(sizes));
    add(name.data(), name.size());
    add(shape, rank * sizeof(int64_t));
    if (version >= 2)
      addSize(dtype);
    add(values, count * sizeof(float));
  }
  void addHeader(const std::string &model, uint64_t architectureHash) {
    uint64_t header[2] = {model.size(), architectureHash};
    add(header, sizeof(header));
    add(model.data(), model.size());
  }
  void addMetadata(const std::string &key, double value) {
    addString(key);
    add(&value, sizeof(value));
  }
  void addDeployment(const InputInfo &input, const std::vector<std::string> &classes) {
    if (version < 2)
      return;
    addString(input.layout);
    addSize(input.shape.size());
    add(input.shape.data(), input.shape.size() * sizeof(int64_t));
    addSize(input.mean.size());
    add(input.mean.data(), input.mean.size() * sizeof(float));
    addSize(input.stddev.size());
    add(input.stddev.data(), input.stddev.size() * sizeof(float));
    addSize(classes.size());
    for (const std::string &name : classes)
      addString(name);
  }
  uint64_t digest() { return XXH3_64bits_digest(&state); }

private:
  uint32_t version;
  XXH3_state_t state;
};

std::string errnoText() { return std::strerror(errno); }

} // namespace

int64_t NamedTensor::elementCount() const {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

const double *WeightsFile::findMetadata(const std::string &key) const {
  for (const auto &[k, v] : metadata)
    if (k == key)
      return &v;
  return nullptr;
}

const NamedTensor *WeightsFile::find(const std::string &name) const {
  for (const NamedTensor &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

std::vector<uint8_t> resnetc::serializeWeights(const WeightsFile &weights) {
  std::vector<const NamedTensor *> sorted;
  for (const NamedTensor &tensor : weights.tensors)
    sorted.push_back(&tensor);
  std::sort(sorted.begin(), sorted.end(),
            [](const NamedTensor *a, const NamedTensor *b) { return a->name < b->name; });

  flatbuffers::FlatBufferBuilder fbb(1 << 20);
  PayloadHash hash(WeightsFile::kFormatVersion);
  hash.addHeader(weights.model, weights.architectureHash);
  std::vector<flatbuffers::Offset<rnw::Tensor>> tensors;
  for (const NamedTensor *tensor : sorted) {
    hash.addTensor(tensor->name, tensor->shape.data(), tensor->shape.size(), rnw::DType_F32,
                   tensor->values.data(), tensor->values.size());
    tensors.push_back(rnw::CreateTensor(fbb, fbb.CreateString(tensor->name),
                                        fbb.CreateVector(tensor->shape), rnw::DType_F32,
                                        fbb.CreateVector(tensor->values)));
  }
  auto metadata = weights.metadata;
  std::sort(metadata.begin(), metadata.end());
  std::vector<flatbuffers::Offset<rnw::Metadata>> entries;
  for (const auto &[key, value] : metadata) {
    hash.addMetadata(key, value);
    entries.push_back(rnw::CreateMetadata(fbb, fbb.CreateString(key), value));
  }
  hash.addDeployment(weights.input, weights.classes);
  flatbuffers::Offset<rnw::Input> input = 0;
  if (!weights.input.empty())
    input = rnw::CreateInput(fbb, fbb.CreateString(weights.input.layout),
                             fbb.CreateVector(weights.input.shape),
                             fbb.CreateVector(weights.input.mean),
                             fbb.CreateVector(weights.input.stddev));
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> classes = 0;
  if (!weights.classes.empty())
    classes = fbb.CreateVectorOfStrings(weights.classes);
  auto root = rnw::CreateWeights(fbb, WeightsFile::kFormatVersion, fbb.CreateString(weights.model),
                                 weights.architectureHash, fbb.CreateVector(tensors), hash.digest(),
                                 metadata.empty() ? 0 : fbb.CreateVector(entries), input, classes);
  rnw::FinishWeightsBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

namespace {

/// Copies a FlatBuffers vector of little-endian scalars byte-wise: its data
/// need not be aligned for T (the Verifier checks only 4-byte alignment of
/// vectors, and a caller's buffer may sit anywhere in memory).
template <typename T> void copyScalars(const flatbuffers::Vector<T> &vector, std::vector<T> &out) {
  static_assert(FLATBUFFERS_LITTLEENDIAN, "the .rnw format is little-endian, like its hosts");
  out.resize(vector.size());
  if (!out.empty())
    std::memcpy(out.data(), vector.Data(), out.size() * sizeof(T));
}

} // namespace

bool resnetc::parseWeights(const uint8_t *data, size_t size, WeightsFile &weights,
                           std::string &error) {
  if (!data || size < 8) {
    error = "not a weights file: too short (" + std::to_string(size) + " bytes)";
    return false;
  }
  if (!rnw::WeightsBufferHasIdentifier(data)) {
    error = "not a weights file: the identifier 'RNW1' is missing";
    return false;
  }
  flatbuffers::Verifier verifier(data, size);
  if (!rnw::VerifyWeightsBuffer(verifier)) {
    error = "corrupt weights file: its structure does not verify (truncated or damaged)";
    return false;
  }
  const rnw::Weights *root = rnw::GetWeights(data);
  const uint32_t version = root->format_version();
  if (version < WeightsFile::kOldestReadableVersion || version > WeightsFile::kFormatVersion) {
    error = "unsupported weights format version " + std::to_string(version) +
            " (this build reads versions " + std::to_string(WeightsFile::kOldestReadableVersion) +
            " to " + std::to_string(WeightsFile::kFormatVersion) + ")";
    return false;
  }
  if (!root->model() || !root->tensors()) {
    error = "corrupt weights file: the model name or the tensor list is missing";
    return false;
  }
  WeightsFile result;
  result.formatVersion = version;
  result.model = root->model()->str();
  result.architectureHash = root->architecture_hash();
  PayloadHash hash(version);
  hash.addHeader(result.model, result.architectureHash);
  for (const rnw::Tensor *tensor : *root->tensors()) {
    if (!tensor->name() || !tensor->shape() || !tensor->data()) {
      error = "corrupt weights file: a tensor lacks its name, shape or data";
      return false;
    }
    NamedTensor out;
    out.name = tensor->name()->str();
    copyScalars(*tensor->shape(), out.shape);
    int64_t count = 1;
    for (int64_t d : out.shape) {
      if (d < 0 || (d > 0 && count > std::numeric_limits<int64_t>::max() / d)) {
        error = "corrupt weights file: tensor '" + out.name + "' has an invalid shape";
        return false;
      }
      count *= d;
    }
    if (tensor->dtype() != rnw::DType_F32) {
      error = "tensor '" + out.name + "' has dtype " + std::to_string(int(tensor->dtype())) +
              "; this build reads F32 (0) only";
      return false;
    }
    if (count != int64_t(tensor->data()->size())) {
      error = "corrupt weights file: tensor '" + out.name + "' holds " +
              std::to_string(tensor->data()->size()) + " values, its shape " +
              formatShape(out.shape) + " says " + std::to_string(count);
      return false;
    }
    copyScalars(*tensor->data(), out.values);
    hash.addTensor(out.name, out.shape.data(), out.shape.size(), uint8_t(tensor->dtype()),
                   out.values.data(), out.values.size());
    result.tensors.push_back(std::move(out));
  }
  if (const auto *metadata = root->metadata()) {
    for (const rnw::Metadata *entry : *metadata) {
      if (!entry->key()) {
        error = "corrupt weights file: a metadata entry has no key";
        return false;
      }
      hash.addMetadata(entry->key()->str(), entry->value());
      result.metadata.emplace_back(entry->key()->str(), entry->value());
    }
  }
  if (version >= 2) {
    if (const rnw::Input *input = root->input()) {
      if (input->layout())
        result.input.layout = input->layout()->str();
      if (input->shape())
        copyScalars(*input->shape(), result.input.shape);
      if (input->mean())
        copyScalars(*input->mean(), result.input.mean);
      if (input->std())
        copyScalars(*input->std(), result.input.stddev);
    }
    if (const auto *classes = root->classes())
      for (const flatbuffers::String *name : *classes)
        result.classes.push_back(name ? name->str() : std::string());
  }
  hash.addDeployment(result.input, result.classes);
  if (hash.digest() != root->payload_checksum()) {
    error = "corrupt weights file: the payload checksum does not match";
    return false;
  }
  if (!checkInputInfo(result.input, error)) {
    error = "corrupt weights file: " + error;
    return false;
  }
  weights = std::move(result);
  return true;
}

bool resnetc::readWeightsFile(const std::string &path, WeightsFile &weights, std::string &error) {
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = "cannot open '" + path + "': " + errnoText();
    return false;
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  bool readError = std::ferror(file);
  std::fclose(file);
  if (readError) {
    error = "cannot read '" + path + "'";
    return false;
  }
  if (!parseWeights(bytes.data(), bytes.size(), weights, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool resnetc::writeWeightsFile(const std::string &path, const WeightsFile &weights,
                               std::string &error) {
  std::vector<uint8_t> bytes = serializeWeights(weights);
  return writeFileAtomically(path, bytes.data(), bytes.size(), error);
}

std::string resnetc::formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

bool resnetc::checkInputInfo(const InputInfo &input, std::string &error) {
  if (input.mean.size() != input.stddev.size()) {
    error = "the input normalisation has " + std::to_string(input.mean.size()) + " means and " +
            std::to_string(input.stddev.size()) + " standard deviations";
    return false;
  }
  if (!input.shape.empty() && !input.mean.empty() && int64_t(input.mean.size()) != input.shape[0]) {
    error = "the input normalisation has " + std::to_string(input.mean.size()) +
            " channels, the input shape " + formatShape(input.shape) + " says " +
            std::to_string(input.shape[0]);
    return false;
  }
  for (size_t c = 0; c < input.mean.size(); ++c)
    if (!std::isfinite(input.mean[c]) || !std::isfinite(input.stddev[c]) ||
        !(input.stddev[c] > 0)) {
      error = "the input normalisation of channel " + std::to_string(c) +
              " is not finite or its standard deviation is not positive";
      return false;
    }
  return true;
}

bool resnetc::checkArchitecture(const WeightsFile &weights, const std::string &model,
                                uint64_t architectureHash, std::string &error) {
  if (weights.model != model) {
    error = "the weights are for model '" + weights.model + "', not '" + model + "'";
    return false;
  }
  if (weights.architectureHash != architectureHash) {
    error = "the weights are for another architecture of '" + model +
            "' (the network was changed since they were written)";
    return false;
  }
  return true;
}
