//===- Datasets.cpp - Training data: readers, normalisation, batches ------===//

#include "resnetc/data/Datasets.h"

#ifdef RESNETC_HAVE_ZLIB
#include <zlib.h>
#endif

#include <cerrno>

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace resnetc;
using namespace resnetc::data;

namespace {

#ifdef RESNETC_HAVE_ZLIB
/// Reads a whole file, inflating it when it starts with the gzip magic.
bool readMaybeGzipped(const std::string &path, std::vector<uint8_t> &bytes, std::string &error) {
  gzFile file = gzopen(path.c_str(), "rb"); // reads plain files as they are, too
  if (!file) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  bytes.clear();
  uint8_t chunk[1 << 16];
  int n;
  while ((n = gzread(file, chunk, sizeof(chunk))) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  int status = 0;
  const char *text = gzerror(file, &status);
  std::string message = text && *text ? text : "read error"; // gzclose frees `text`
  gzclose(file);
  if (n < 0 || (status != Z_OK && status != Z_STREAM_END)) {
    error = path + ": " + message + " (damaged gzip data?)";
    return false;
  }
  return true;
}
#else
/// Reads a whole file; this build has no zlib, so gzipped files are refused.
bool readMaybeGzipped(const std::string &path, std::vector<uint8_t> &bytes, std::string &error) {
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  bytes.clear();
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  bool failed = std::ferror(file);
  std::fclose(file);
  if (failed) {
    error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    error = path + ": gzip-compressed, and this build of the runtime has no zlib: gunzip it first";
    return false;
  }
  return true;
}
#endif

uint32_t bigEndian32(const uint8_t *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

} // namespace

bool resnetc::data::loadIdx(const std::string &imagesPath, const std::string &labelsPath,
                            int64_t classes, Dataset &out, std::string &error) {
  std::vector<uint8_t> images, labels;
  if (!readMaybeGzipped(imagesPath, images, error) || !readMaybeGzipped(labelsPath, labels, error))
    return false;
  if (images.size() < 16 || bigEndian32(images.data()) != 0x00000803) {
    error = imagesPath + ": not an IDX image file (magic 0x00000803 expected)";
    return false;
  }
  if (labels.size() < 8 || bigEndian32(labels.data()) != 0x00000801) {
    error = labelsPath + ": not an IDX label file (magic 0x00000801 expected)";
    return false;
  }
  uint64_t count = bigEndian32(images.data() + 4), rows = bigEndian32(images.data() + 8),
           columns = bigEndian32(images.data() + 12);
  if (rows == 0 || columns == 0 || rows > 4096 || columns > 4096) {
    error = imagesPath + ": implausible image size " + std::to_string(rows) + "x" +
            std::to_string(columns);
    return false;
  }
  if (images.size() != 16 + count * rows * columns) {
    error = imagesPath + ": " + std::to_string(count) + " images of " + std::to_string(rows) + "x" +
            std::to_string(columns) + " need " + std::to_string(16 + count * rows * columns) +
            " bytes, the file has " + std::to_string(images.size()) + " (truncated?)";
    return false;
  }
  if (bigEndian32(labels.data() + 4) != count || labels.size() != 8 + count) {
    error = labelsPath + ": expected " + std::to_string(count) + " labels to match " + imagesPath;
    return false;
  }
  out = Dataset();
  out.channels = 1;
  out.height = int64_t(rows);
  out.width = int64_t(columns);
  out.classes = classes;
  out.images.resize(count * rows * columns);
  for (size_t i = 0; i < out.images.size(); ++i)
    out.images[i] = images[16 + i] / 255.0f;
  out.labels.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (labels[8 + i] >= classes) {
      error = labelsPath + ": label " + std::to_string(labels[8 + i]) + " of image " +
              std::to_string(i) + " is not below " + std::to_string(classes);
      return false;
    }
    out.labels[i] = labels[8 + i];
  }
  return true;
}

bool resnetc::data::loadFashionMnist(const std::string &dir, bool train, Dataset &out,
                                     std::string &error) {
  std::string prefix = dir + "/" + (train ? "train" : "t10k");
  auto pick = [](const std::string &base) {
    std::string gz = base + ".gz";
    if (FILE *f = std::fopen(gz.c_str(), "rb")) {
      std::fclose(f);
      return gz;
    }
    return base;
  };
  return loadIdx(pick(prefix + "-images-idx3-ubyte"), pick(prefix + "-labels-idx1-ubyte"), 10, out,
                 error);
}

bool resnetc::data::loadCifar(const std::vector<std::string> &files, bool cifar100, Dataset &out,
                              std::string &error) {
  const size_t labelBytes = cifar100 ? 2 : 1, pixels = 3 * 32 * 32, record = labelBytes + pixels;
  out = Dataset();
  out.channels = 3;
  out.height = out.width = 32;
  out.classes = cifar100 ? 100 : 10;
  for (const std::string &path : files) {
    std::vector<uint8_t> bytes;
    if (!readMaybeGzipped(path, bytes, error))
      return false;
    if (bytes.empty() || bytes.size() % record != 0) {
      error = path + ": " + std::to_string(bytes.size()) +
              " bytes is not a whole number of CIFAR records of " + std::to_string(record) +
              " bytes";
      return false;
    }
    for (size_t at = 0; at < bytes.size(); at += record) {
      uint8_t label = bytes[at + labelBytes - 1];
      if (label >= out.classes) {
        error = path + ": label " + std::to_string(label) + " of record " +
                std::to_string(at / record) + " is not below " + std::to_string(out.classes);
        return false;
      }
      out.labels.push_back(label);
      for (size_t i = 0; i < pixels; ++i)
        out.images.push_back(bytes[at + labelBytes + i] / 255.0f);
    }
  }
  if (out.labels.empty()) {
    error = "no CIFAR files given";
    return false;
  }
  return true;
}

bool resnetc::data::loadRawTensors(const std::string &imagesPath, const std::string &labelsPath,
                                   int64_t channels, int64_t height, int64_t width, int64_t classes,
                                   Dataset &out, std::string &error) {
  std::vector<uint8_t> images, labels;
  if (!readMaybeGzipped(imagesPath, images, error) || !readMaybeGzipped(labelsPath, labels, error))
    return false;
  uint64_t imageBytes = uint64_t(channels * height * width) * sizeof(float);
  if (images.empty() || images.size() % imageBytes != 0) {
    error = imagesPath + ": " + std::to_string(images.size()) +
            " bytes is not a whole number of float32 images of " + std::to_string(channels) + "x" +
            std::to_string(height) + "x" + std::to_string(width);
    return false;
  }
  uint64_t count = images.size() / imageBytes;
  if (labels.size() != count * sizeof(int32_t)) {
    error = labelsPath + ": " + std::to_string(labels.size()) + " bytes, but " +
            std::to_string(count) + " images need " + std::to_string(count * sizeof(int32_t)) +
            " bytes of int32 labels";
    return false;
  }
  out = Dataset{};
  out.channels = channels;
  out.height = height;
  out.width = width;
  out.classes = classes;
  out.images.resize(images.size() / sizeof(float));
  std::memcpy(out.images.data(), images.data(), images.size());
  for (float value : out.images)
    if (!std::isfinite(value)) {
      error = imagesPath + ": the images contain a value that is not finite";
      return false;
    }
  out.labels.resize(count);
  std::memcpy(out.labels.data(), labels.data(), labels.size());
  for (uint64_t i = 0; i < count; ++i)
    if (out.labels[i] < 0 || out.labels[i] >= classes) {
      error = labelsPath + ": label " + std::to_string(out.labels[i]) + " of image " +
              std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")";
      return false;
    }
  return true;
}

void resnetc::data::tenCrops(const float *image, int64_t channels, int64_t height, int64_t width,
                             int64_t crop, float *views) {
  const int64_t origins[5][2] = {{0, 0},
                                 {0, width - crop},
                                 {height - crop, 0},
                                 {height - crop, width - crop},
                                 {(height - crop) / 2, (width - crop) / 2}};
  int64_t viewValues = channels * crop * crop;
  for (int flip = 0; flip < 2; ++flip)
    for (int v = 0; v < 5; ++v) {
      float *view = views + (flip * 5 + v) * viewValues;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = 0; y < crop; ++y)
          for (int64_t x = 0; x < crop; ++x) {
            int64_t sourceX = origins[v][1] + (flip ? crop - 1 - x : x);
            view[(c * crop + y) * crop + x] =
                image[(c * height + origins[v][0] + y) * width + sourceX];
          }
    }
}

Normalization resnetc::data::channelStatistics(const Dataset &data) {
  Normalization n;
  int64_t plane = data.height * data.width;
  for (int64_t c = 0; c < data.channels; ++c) {
    double sum = 0, sumSq = 0;
    for (int64_t i = 0; i < data.size(); ++i)
      for (int64_t p = 0; p < plane; ++p) {
        double v = data.images[(i * data.channels + c) * plane + p];
        sum += v;
        sumSq += v * v;
      }
    double count = double(data.size() * plane);
    double mean = sum / count;
    n.mean.push_back(float(mean));
    n.stddev.push_back(float(std::sqrt(std::max(sumSq / count - mean * mean, 1e-12))));
  }
  return n;
}

void resnetc::data::normalize(Dataset &data, const Normalization &n) {
  int64_t plane = data.height * data.width;
  for (int64_t i = 0; i < data.size(); ++i)
    for (int64_t c = 0; c < data.channels; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        float &v = data.images[(i * data.channels + c) * plane + p];
        v = (v - n.mean[c]) / n.stddev[c];
      }
}

Batches::Batches(const Dataset &data, int64_t batch, uint64_t seed, Augmentation augmentation,
                 Shard shard)
    : data(data), batch(batch), seed(seed), augmentation(augmentation), shard(shard) {
  shuffle();
}

void Batches::shuffle() {
  order.resize(size_t(data.size()));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = int64_t(i);
  // Fisher-Yates with the portable generator: the same order everywhere.
  Random random = Random::forStream(seed, "shuffle" + std::to_string(epochIndex));
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[random.nextU64() % i]);
}

void Batches::seek(uint64_t epoch, int64_t position) {
  epochIndex = epoch;
  cursor = position;
  shuffle();
}

void Batches::augment(const float *source, float *target, Random &random) const {
  int64_t H = data.height, W = data.width, pad = augmentation.pad;
  int64_t dy = 0, dx = 0;
  if (augmentation.crop && pad > 0) {
    dy = int64_t(random.nextU64() % uint64_t(2 * pad + 1)) - pad;
    dx = int64_t(random.nextU64() % uint64_t(2 * pad + 1)) - pad;
  }
  bool flip = augmentation.flip && (random.nextU64() & 1);
  for (int64_t c = 0; c < data.channels; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        int64_t sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
        bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
        target[(c * H + y) * W + x] = inside ? source[(c * H + sy) * W + sx] : 0.0f;
      }
}

bool Batches::next(float *images, int32_t *labels) {
  if (cursor + batch > data.size()) {
    ++epochIndex;
    cursor = 0;
    shuffle();
    return false;
  }
  int64_t values = data.imageValues();
  int64_t share = batch / shard.count, first = cursor + shard.index * share;
  for (int64_t b = 0; b < share; ++b) {
    int64_t index = order[size_t(first + b)];
    const float *source = &data.images[size_t(index * values)];
    if (augmentation.crop || augmentation.flip) {
      // One stream per (epoch, image): augmentation is independent of batching.
      Random random = Random::forStream(seed, "augment" + std::to_string(epochIndex) + "/" +
                                                  std::to_string(index));
      augment(source, images + b * values, random);
    } else {
      std::memcpy(images + b * values, source, size_t(values) * sizeof(float));
    }
    labels[b] = data.labels[size_t(index)];
  }
  cursor += batch;
  return true;
}
