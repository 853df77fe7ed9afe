//===- Datasets.h - Training data: readers, normalisation, batches -*- C++ -*-===//
//
// The readers a trainer needs: MNIST / Fashion-MNIST IDX files (gzipped or
// not, as Debian's dataset-fashion-mnist ships them) and CIFAR-10/100 binary
// batches. Every reader checks what it reads and reports a one-line reason
// instead of crashing on a truncated or malformed file.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_DATASETS_H
#define RESNETC_RUNTIME_DATASETS_H

#include "resnetc/runtime/Random.h"

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc::data {

/// Images as float32 NCHW scaled to [0, 1], with their labels.
struct Dataset {
  int64_t channels = 0, height = 0, width = 0;
  int64_t classes = 0;
  std::vector<float> images;
  std::vector<int32_t> labels;

  int64_t size() const { return int64_t(labels.size()); }
  int64_t imageValues() const { return channels * height * width; }
};

/// An IDX image file (magic 0x00000803, N x H x W bytes) and its label file
/// (0x00000801, N bytes); either may be gzip-compressed.
bool loadIdx(const std::string &imagesPath, const std::string &labelsPath, int64_t classes,
             Dataset &out, std::string &error);

/// `dir`/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz], 10 classes.
bool loadFashionMnist(const std::string &dir, bool train, Dataset &out, std::string &error);

/// CIFAR binary batches: records of a label byte (CIFAR-100: coarse then
/// fine label; the fine one is used) and 3x32x32 bytes, channel-major.
bool loadCifar(const std::vector<std::string> &files, bool cifar100, Dataset &out,
               std::string &error);

/// Raw tensors: `imagesPath` holds float32 little-endian images, N x C x H x
/// W of the given shape, already scaled; `labelsPath` holds N int32 labels.
/// Either may be gzip-compressed.
bool loadRawTensors(const std::string &imagesPath, const std::string &labelsPath, int64_t channels,
                    int64_t height, int64_t width, int64_t classes, Dataset &out,
                    std::string &error);

/// The ten views of ImageNet-style testing: the four corner crops and the
/// centre crop of `crop` x `crop`, and the same five flipped horizontally.
/// `image` is C x H x W (H, W >= crop); `views` receives 10 x C x crop x crop.
void tenCrops(const float *image, int64_t channels, int64_t height, int64_t width, int64_t crop,
              float *views);

/// Per-channel mean and standard deviation over a data set.
struct Normalization {
  std::vector<float> mean, stddev;
};
Normalization channelStatistics(const Dataset &data);
void normalize(Dataset &data, const Normalization &normalization);

/// The augmentation of the paper's CIFAR recipe: pad 4 (zeros), random crop
/// back to the original size, random horizontal flip.
struct Augmentation {
  int64_t pad = 0;
  bool crop = false;
  bool flip = false;
};

/// Which share of every batch a process takes in data-parallel training:
/// `index` of `count` equal, consecutive shares.
struct Shard {
  int64_t index = 0, count = 1;
};

/// Epochs of shuffled, augmented batches, reproducible from a seed. Images
/// that do not fill a last batch are left for the next epoch's shuffle.
/// The batches do not depend on the shard: each image's augmentation is
/// seeded by the epoch and the image, so N processes taking one share each
/// see together what one process sees.
class Batches {
public:
  /// `batch` is the whole (global) batch; it must split into `shard.count` shares.
  Batches(const Dataset &data, int64_t batch, uint64_t seed, Augmentation augmentation = {},
          Shard shard = {});

  /// Fills `images` (batch / shards x C x H x W) and `labels` with this
  /// shard's share of the next batch; false at the end of an epoch, after
  /// which the next call starts a new, reshuffled one.
  bool next(float *images, int32_t *labels);
  int64_t batchesPerEpoch() const { return data.size() / batch; }
  /// The generator state, for checkpoints: restoring it replays the same
  /// batches. The position counts images of whole batches, whatever the shard.
  uint64_t epoch() const { return epochIndex; }
  int64_t position() const { return cursor; }
  void seek(uint64_t epoch, int64_t position);

private:
  void shuffle();
  void augment(const float *source, float *target, Random &random) const;

  const Dataset &data;
  int64_t batch;
  uint64_t seed;
  Augmentation augmentation;
  Shard shard;
  std::vector<int64_t> order;
  uint64_t epochIndex = 0;
  int64_t cursor = 0;
};

} // namespace resnetc::data

#endif // RESNETC_RUNTIME_DATASETS_H
