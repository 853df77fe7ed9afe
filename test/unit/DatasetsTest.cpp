//===- DatasetsTest.cpp - Readers, normalisation and batches --------------===//

#include "resnetc/data/Datasets.h"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>
#include <set>
#include <unistd.h>

using namespace resnetc::data;

namespace {

class TempDir {
public:
  TempDir() {
    char pattern[] = "/tmp/resnetc-data-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string &name) const { return path + "/" + name; }
  std::string path;
};

void write(const std::string &path, const std::vector<uint8_t> &bytes, bool gzip = false) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
    return;
  }
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!bytes.empty()) // fwrite's buffer may not be null, even for no bytes
    std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

void put32(std::vector<uint8_t> &bytes, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(uint8_t(v >> shift));
}

/// `count` images of 2x3 pixels valued 10*i + p, and labels i % 10.
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> idx(uint32_t count) {
  std::vector<uint8_t> images, labels;
  put32(images, 0x803);
  put32(images, count);
  put32(images, 2);
  put32(images, 3);
  put32(labels, 0x801);
  put32(labels, count);
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t p = 0; p < 6; ++p)
      images.push_back(uint8_t(10 * i + p));
    labels.push_back(uint8_t(i % 10));
  }
  return {images, labels};
}

} // namespace

TEST(Datasets, IdxPlainAndGzipped) {
  TempDir dir;
  auto [images, labels] = idx(4);
  for (bool gzip : {false, true}) {
    std::string suffix = gzip ? ".gz" : "";
    write(dir.file("i" + suffix), images, gzip);
    write(dir.file("l" + suffix), labels, gzip);
    Dataset data;
    std::string error;
    ASSERT_TRUE(loadIdx(dir.file("i" + suffix), dir.file("l" + suffix), 10, data, error)) << error;
    EXPECT_EQ(data.size(), 4);
    EXPECT_EQ(data.channels, 1);
    EXPECT_EQ(data.height, 2);
    EXPECT_EQ(data.width, 3);
    EXPECT_FLOAT_EQ(data.images[6 * 3 + 5], 35 / 255.0f);
    EXPECT_EQ(data.labels[3], 3);
  }
}

TEST(Datasets, FashionMnistFileNames) {
  TempDir dir;
  auto [images, labels] = idx(3);
  write(dir.file("t10k-images-idx3-ubyte.gz"), images, true);
  write(dir.file("t10k-labels-idx1-ubyte.gz"), labels, true);
  Dataset data;
  std::string error;
  ASSERT_TRUE(loadFashionMnist(dir.path, false, data, error)) << error;
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.classes, 10);
  EXPECT_FALSE(loadFashionMnist(dir.path, true, data, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST(Datasets, MalformedIdxFilesAreClearErrors) {
  TempDir dir;
  auto [images, labels] = idx(4);
  Dataset data;
  std::string error;
  auto check = [&](std::vector<uint8_t> i, std::vector<uint8_t> l, const char *expected) {
    write(dir.file("i"), i);
    write(dir.file("l"), l);
    EXPECT_FALSE(loadIdx(dir.file("i"), dir.file("l"), 10, data, error)) << expected;
    EXPECT_NE(error.find(expected), std::string::npos) << error;
  };
  std::vector<uint8_t> truncated(images.begin(), images.end() - 5);
  check(truncated, labels, "truncated");
  std::vector<uint8_t> badMagic = images;
  badMagic[3] = 0x01;
  check(badMagic, labels, "not an IDX image file");
  check(labels, labels, "not an IDX image file");
  std::vector<uint8_t> fewLabels(labels.begin(), labels.end() - 1);
  check(images, fewLabels, "labels to match");
  std::vector<uint8_t> badLabel = labels;
  badLabel.back() = 12;
  check(images, badLabel, "label 12 of image 3 is not below 10");
  check({}, labels, "not an IDX image file");
  // Damaged gzip data.
  std::vector<uint8_t> compressed;
  write(dir.file("g.gz"), images, true);
  FILE *f = std::fopen(dir.file("g.gz").c_str(), "rb");
  int c;
  while ((c = std::fgetc(f)) != EOF)
    compressed.push_back(uint8_t(c));
  std::fclose(f);
  compressed.resize(compressed.size() / 2);
  write(dir.file("g.gz"), compressed);
  write(dir.file("l"), labels);
  EXPECT_FALSE(loadIdx(dir.file("g.gz"), dir.file("l"), 10, data, error));
  EXPECT_FALSE(error.empty());
}

TEST(Datasets, CifarBatches) {
  TempDir dir;
  std::vector<uint8_t> records;
  for (int r = 0; r < 3; ++r) {
    records.push_back(uint8_t(r + 5));
    for (int p = 0; p < 3072; ++p)
      records.push_back(uint8_t((p + r) % 256));
  }
  write(dir.file("batch.bin"), records);
  Dataset data;
  std::string error;
  ASSERT_TRUE(loadCifar({dir.file("batch.bin"), dir.file("batch.bin")}, false, data, error))
      << error;
  EXPECT_EQ(data.size(), 6);
  EXPECT_EQ(data.labels[1], 6);
  EXPECT_FLOAT_EQ(data.images[3072 + 1024], float((1024 + 1) % 256) / 255.0f);

  records.pop_back();
  write(dir.file("short.bin"), records);
  EXPECT_FALSE(loadCifar({dir.file("short.bin")}, false, data, error));
  EXPECT_NE(error.find("not a whole number of CIFAR records"), std::string::npos) << error;
  records.push_back(0);
  records[0] = 10;
  write(dir.file("label.bin"), records);
  EXPECT_FALSE(loadCifar({dir.file("label.bin")}, false, data, error));
  EXPECT_NE(error.find("label 10 of record 0"), std::string::npos) << error;
  // Read as CIFAR-100 (records of 3074 bytes), a CIFAR-10 file does not fit.
  EXPECT_FALSE(loadCifar({dir.file("batch.bin")}, true, data, error));
  EXPECT_NE(error.find("3074 bytes"), std::string::npos) << error;
}

TEST(Datasets, NormalizationGivesZeroMeanUnitDeviation) {
  Dataset data;
  data.channels = 2;
  data.height = data.width = 2;
  for (int i = 0; i < 3; ++i) {
    for (int v = 0; v < 8; ++v)
      data.images.push_back(float(v * (i + 1)));
    data.labels.push_back(0);
  }
  normalize(data, channelStatistics(data));
  Normalization after = channelStatistics(data);
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(after.mean[c], 0.0, 1e-6);
    EXPECT_NEAR(after.stddev[c], 1.0, 1e-5);
  }
}

namespace {
Dataset numbered(int count, int side = 4) {
  Dataset data;
  data.channels = 1;
  data.height = data.width = side;
  data.classes = 1000;
  for (int i = 0; i < count; ++i) {
    for (int p = 0; p < side * side; ++p)
      data.images.push_back(float(i * 100 + p + 1));
    data.labels.push_back(i);
  }
  return data;
}
} // namespace

TEST(Datasets, BatchesVisitEveryImageOncePerEpochReproducibly) {
  Dataset data = numbered(10);
  Batches a(data, 3, 42), b(data, 3, 42), c(data, 3, 43);
  std::vector<float> images(3 * 16);
  std::vector<int32_t> la(3), lb(3), lc(3);
  std::set<int32_t> seen;
  bool differs = false;
  int batches = 0;
  while (a.next(images.data(), la.data())) {
    ASSERT_TRUE(b.next(images.data(), lb.data()));
    c.next(images.data(), lc.data());
    EXPECT_EQ(la, lb);
    differs |= la != lc;
    seen.insert(la.begin(), la.end());
    ++batches;
  }
  EXPECT_EQ(batches, 3); // 10 images, batches of 3: the last one is left out
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_TRUE(differs);
  // The next epoch is shuffled differently; seeking replays it exactly.
  std::vector<int32_t> first(3), replay(3);
  a.next(images.data(), first.data());
  Batches again(data, 3, 42);
  again.seek(1, 0);
  again.next(images.data(), replay.data());
  EXPECT_EQ(first, replay);
}

TEST(Datasets, AugmentationPadsCropsAndFlips) {
  Dataset data = numbered(1, 4);
  std::vector<float> image(16);
  int32_t label;
  // Flip only: each row reversed or not.
  bool sawFlip = false, sawPlain = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Batches flips(data, 1, seed, Augmentation{0, false, true});
    ASSERT_TRUE(flips.next(image.data(), &label));
    if (image[0] == data.images[3])
      sawFlip = true;
    if (image[0] == data.images[0])
      sawPlain = true;
    for (int y = 0; y < 4; ++y) // whole rows move together
      EXPECT_TRUE(
          (image[y * 4] == data.images[y * 4] && image[y * 4 + 3] == data.images[y * 4 + 3]) ||
          (image[y * 4] == data.images[y * 4 + 3] && image[y * 4 + 3] == data.images[y * 4]));
  }
  EXPECT_TRUE(sawFlip && sawPlain);
  // Pad and crop: every value is an original pixel or a zero from the padding.
  std::set<float> original(data.images.begin(), data.images.end());
  bool sawZero = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Batches crops(data, 1, seed, Augmentation{2, true, false});
    ASSERT_TRUE(crops.next(image.data(), &label));
    for (float v : image) {
      EXPECT_TRUE(v == 0.0f || original.count(v)) << v;
      sawZero |= v == 0.0f;
    }
  }
  EXPECT_TRUE(sawZero);
}

namespace {
std::vector<uint8_t> bytesOf(const void *data, size_t size) {
  auto *p = static_cast<const uint8_t *>(data);
  return std::vector<uint8_t>(p, p + size);
}
} // namespace

TEST(Datasets, RawTensors) {
  TempDir dir;
  std::vector<float> images(3 * 2 * 2 * 2);
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = float(i) * 0.5f;
  std::vector<int32_t> labels = {2, 0, 1};
  write(dir.file("x.f32"), bytesOf(images.data(), images.size() * 4), /*gzip=*/true);
  write(dir.file("y.i32"), bytesOf(labels.data(), labels.size() * 4));
  Dataset data;
  std::string error;
  ASSERT_TRUE(loadRawTensors(dir.file("x.f32"), dir.file("y.i32"), 2, 2, 2, 3, data, error))
      << error;
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.images, images);
  EXPECT_EQ(data.labels, labels);

  // A shape that does not divide the file, a label file of the wrong length,
  // a label out of range and a NaN are each refused with the reason.
  EXPECT_FALSE(loadRawTensors(dir.file("x.f32"), dir.file("y.i32"), 5, 2, 2, 3, data, error));
  EXPECT_NE(error.find("not a whole number"), std::string::npos) << error;
  write(dir.file("short.i32"), bytesOf(labels.data(), 8));
  EXPECT_FALSE(loadRawTensors(dir.file("x.f32"), dir.file("short.i32"), 2, 2, 2, 3, data, error));
  EXPECT_NE(error.find("int32 labels"), std::string::npos) << error;
  EXPECT_FALSE(loadRawTensors(dir.file("x.f32"), dir.file("y.i32"), 2, 2, 2, 2, data, error));
  EXPECT_NE(error.find("outside [0, 2)"), std::string::npos) << error;
  images[5] = std::nanf("");
  write(dir.file("nan.f32"), bytesOf(images.data(), images.size() * 4));
  EXPECT_FALSE(loadRawTensors(dir.file("nan.f32"), dir.file("y.i32"), 2, 2, 2, 3, data, error));
  EXPECT_NE(error.find("not finite"), std::string::npos) << error;
  EXPECT_FALSE(loadRawTensors(dir.file("missing"), dir.file("y.i32"), 2, 2, 2, 3, data, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST(Datasets, TenCropsAreCornersCentreAndTheirMirrors) {
  // One channel, 4x5 pixels valued 10*y + x, crops of 3x3.
  std::vector<float> image(20);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x)
      image[size_t(y * 5 + x)] = float(10 * y + x);
  std::vector<float> views(10 * 9);
  tenCrops(image.data(), 1, 4, 5, 3, views.data());
  // The top-left value of each unflipped view: corners, then the centre (0, 1).
  EXPECT_EQ(views[0 * 9], 0);
  EXPECT_EQ(views[1 * 9], 2);
  EXPECT_EQ(views[2 * 9], 10);
  EXPECT_EQ(views[3 * 9], 12);
  EXPECT_EQ(views[4 * 9], 1);
  EXPECT_EQ(views[4 * 9 + 8], 23); // centre view's bottom-right
  // Flipped views mirror each row of the unflipped one.
  for (int v = 0; v < 5; ++v)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(views[size_t((5 + v) * 9 + y * 3 + x)], views[size_t(v * 9 + y * 3 + 2 - x)]);
}
