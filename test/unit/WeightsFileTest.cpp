//===- WeightsFileTest.cpp - The .rnw format and its checks ---------------===//

#include "resnetc/runtime/WeightsFile.h"
#include "resnetc/runtime/Random.h"

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace resnetc;

namespace {

WeightsFile sample() {
  WeightsFile file;
  file.model = "tiny";
  file.architectureHash = 0x1234567890abcdefull;
  Random random(1);
  for (const char *name : {"conv1.weight", "bn1.weight", "bn1.bias", "fc.weight"}) {
    NamedTensor tensor;
    tensor.name = name;
    tensor.shape = {4, 3};
    for (int i = 0; i < 12; ++i)
      tensor.values.push_back(float(random.normal()));
    file.tensors.push_back(tensor);
  }
  return file;
}

/// A checkpoint: the weights, a momentum buffer for each, and named numbers.
WeightsFile checkpointSample() {
  WeightsFile file = sample();
  size_t weights = file.tensors.size();
  for (size_t i = 0; i < weights; ++i) {
    NamedTensor momentum = file.tensors[i];
    momentum.name = "momentum/" + momentum.name;
    for (float &v : momentum.values)
      v *= 0.01f;
    file.tensors.push_back(momentum);
  }
  file.metadata = {{"epoch", 3}, {"step", 1234}, {"seed", 7}, {"epoch_loss_sum", 12.5}};
  return file;
}

bool sameContents(const WeightsFile &a, const WeightsFile &b) {
  auto sorted = [](std::vector<std::pair<std::string, double>> m) {
    std::sort(m.begin(), m.end());
    return m;
  };
  if (a.model != b.model || a.architectureHash != b.architectureHash ||
      a.tensors.size() != b.tensors.size() || sorted(a.metadata) != sorted(b.metadata))
    return false;
  for (const NamedTensor &tensor : a.tensors) {
    const NamedTensor *other = b.find(tensor.name);
    if (!other || other->shape != tensor.shape || other->values != tensor.values)
      return false;
  }
  return true;
}

std::string tempDir() {
  char pattern[] = "/tmp/resnetc-weights-XXXXXX";
  return mkdtemp(pattern);
}

} // namespace

TEST(WeightsFile, RoundTrip) {
  WeightsFile original = sample();
  std::vector<uint8_t> bytes = serializeWeights(original);
  WeightsFile parsed;
  std::string error;
  ASSERT_TRUE(parseWeights(bytes.data(), bytes.size(), parsed, error)) << error;
  EXPECT_TRUE(sameContents(original, parsed));
  // Sorted by name on disk.
  EXPECT_EQ(parsed.tensors.front().name, "bn1.bias");
}

TEST(WeightsFile, BytesDoNotDependOnTensorOrder) {
  WeightsFile a = sample(), b = sample();
  std::reverse(b.tensors.begin(), b.tensors.end());
  EXPECT_EQ(serializeWeights(a), serializeWeights(b));
}

// Weights files and checkpoints (momentum buffers and numbers too) alike.
class DamagedFiles : public ::testing::TestWithParam<bool> {
protected:
  WeightsFile original() const { return GetParam() ? checkpointSample() : sample(); }
};

TEST_P(DamagedFiles, EveryTruncationIsRejected) {
  std::vector<uint8_t> bytes = serializeWeights(original());
  ASSERT_GT(bytes.size(), 200u);
  for (size_t size = 0; size < bytes.size(); ++size) {
    WeightsFile parsed;
    std::string error;
    std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + size);
    EXPECT_FALSE(parseWeights(truncated.data(), truncated.size(), parsed, error))
        << "accepted a file cut at " << size << " of " << bytes.size() << " bytes";
    EXPECT_FALSE(error.empty());
  }
  RecordProperty("truncations", int(bytes.size()));
}

TEST_P(DamagedFiles, BitFlipsNeverLoadSilentlyWrong) {
  WeightsFile expected = original();
  std::vector<uint8_t> bytes = serializeWeights(expected);
  Random random(99);
  int rejected = 0;
  const int trials = 5000;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<uint8_t> damaged = bytes;
    int flips = 1 + int(random.nextU64() % 3);
    for (int f = 0; f < flips; ++f) {
      size_t at = random.nextU64() % damaged.size();
      damaged[at] ^= uint8_t(1u << (random.nextU64() % 8));
    }
    WeightsFile parsed;
    std::string error;
    if (!parseWeights(damaged.data(), damaged.size(), parsed, error)) {
      ++rejected;
      continue;
    }
    // A flip in padding or an unused field may leave a valid file: then it
    // must hold exactly the original contents.
    EXPECT_TRUE(sameContents(expected, parsed)) << "trial " << trial;
  }
  EXPECT_GT(rejected, trials * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(WeightsFile, DamagedFiles, ::testing::Bool(), [](const auto &info) {
  return std::string(info.param ? "Checkpoint" : "Weights");
});

TEST(WeightsFile, RejectsOtherFiles) {
  WeightsFile parsed;
  std::string error;
  const char text[] = "this is not a weights file at all";
  EXPECT_FALSE(parseWeights(reinterpret_cast<const uint8_t *>(text), sizeof(text), parsed, error));
  EXPECT_NE(error.find("identifier"), std::string::npos) << error;
  EXPECT_FALSE(parseWeights(nullptr, 0, parsed, error));
}

TEST(WeightsFile, ArchitectureMismatchNamesBothModels) {
  WeightsFile file = sample();
  std::string error;
  EXPECT_TRUE(checkArchitecture(file, "tiny", file.architectureHash, error));
  EXPECT_FALSE(checkArchitecture(file, "resnet50", file.architectureHash, error));
  EXPECT_NE(error.find("'tiny'"), std::string::npos) << error;
  EXPECT_NE(error.find("'resnet50'"), std::string::npos) << error;
  EXPECT_FALSE(checkArchitecture(file, "tiny", file.architectureHash + 1, error));
  EXPECT_NE(error.find("another architecture"), std::string::npos) << error;
}

TEST(WeightsFile, WritesAtomicallyAndReadsBack) {
  std::string dir = tempDir();
  std::string path = dir + "/model.rnw";
  std::string error;
  WeightsFile original = sample();
  ASSERT_TRUE(writeWeightsFile(path, original, error)) << error;
  // Overwriting replaces the file whole.
  original.model = "tiny2";
  ASSERT_TRUE(writeWeightsFile(path, original, error)) << error;
  WeightsFile parsed;
  ASSERT_TRUE(readWeightsFile(path, parsed, error)) << error;
  EXPECT_TRUE(sameContents(original, parsed));
  // Nothing but the file itself is left in the folder.
  DIR *handle = opendir(dir.c_str());
  int entries = 0;
  while (dirent *entry = readdir(handle))
    if (entry->d_name[0] != '.')
      ++entries;
  closedir(handle);
  EXPECT_EQ(entries, 1);
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST(WeightsFile, MissingFileIsAClearError) {
  WeightsFile parsed;
  std::string error;
  EXPECT_FALSE(readWeightsFile("/nonexistent/x.rnw", parsed, error));
  EXPECT_NE(error.find("cannot open '/nonexistent/x.rnw'"), std::string::npos) << error;
}
