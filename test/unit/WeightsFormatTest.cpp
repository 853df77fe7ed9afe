//===- WeightsFormatTest.cpp - .rnw files as docs/weights-format.md says --===//
//
// Builds files with FlatBuffers and an independent implementation of the
// documented checksum, in both format versions, and checks that the reader
// takes them; and that what version 2 adds (input description, class names,
// the dtype in the checksum) round-trips and is checked.
//
//===----------------------------------------------------------------------===//

#include "resnetc/runtime/WeightsFile.h"

#include "rnw_generated.h"

#include <gtest/gtest.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cmath>
#include <cstring>

using namespace resnetc;

namespace {

/// The byte stream of docs/weights-format.md's checksum.
class DocumentedChecksum {
public:
  void u64(uint64_t value) { append(&value, 8); }
  void text(const std::string &s) {
    u64(s.size());
    append(s.data(), s.size());
  }
  template <typename T> void values(const std::vector<T> &v) { append(v.data(), v.size() * sizeof(T)); }
  void append(const void *data, size_t size) {
    bytes.insert(bytes.end(), static_cast<const uint8_t *>(data),
                 static_cast<const uint8_t *>(data) + size);
  }
  uint64_t digest() const { return XXH3_64bits(bytes.data(), bytes.size()); }

private:
  std::vector<uint8_t> bytes;
};

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
  int8_t dtype = 0;
};

/// A file written the way the documentation says, for `version` 1 or 2.
std::vector<uint8_t> documentedFile(uint32_t version, const std::vector<Tensor> &tensors,
                                    const InputInfo *input, const std::vector<std::string> &classes) {
  const std::string model = "tiny";
  const uint64_t hash = 0xfeedfacecafebeefull;
  DocumentedChecksum sum;
  sum.u64(model.size());
  sum.u64(hash);
  sum.append(model.data(), model.size());
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<rnw::Tensor>> offsets;
  for (const Tensor &t : tensors) { // already sorted by name
    sum.u64(t.name.size());
    sum.u64(t.shape.size());
    sum.append(t.name.data(), t.name.size());
    sum.values(t.shape);
    if (version >= 2)
      sum.u64(uint64_t(t.dtype));
    sum.values(t.data);
    offsets.push_back(rnw::CreateTensor(fbb, fbb.CreateString(t.name), fbb.CreateVector(t.shape),
                                        rnw::DType(t.dtype), fbb.CreateVector(t.data)));
  }
  flatbuffers::Offset<rnw::Input> inputOffset = 0;
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> names = 0;
  if (version >= 2) {
    InputInfo none;
    const InputInfo &in = input ? *input : none;
    sum.text(in.layout);
    sum.u64(in.shape.size());
    sum.values(in.shape);
    sum.u64(in.mean.size());
    sum.values(in.mean);
    sum.u64(in.stddev.size());
    sum.values(in.stddev);
    sum.u64(classes.size());
    for (const std::string &name : classes)
      sum.text(name);
    if (input)
      inputOffset = rnw::CreateInput(fbb, fbb.CreateString(in.layout), fbb.CreateVector(in.shape),
                                     fbb.CreateVector(in.mean), fbb.CreateVector(in.stddev));
    if (!classes.empty())
      names = fbb.CreateVectorOfStrings(classes);
  }
  auto root = rnw::CreateWeights(fbb, version, fbb.CreateString(model), hash,
                                 fbb.CreateVector(offsets), sum.digest(), 0, inputOffset, names);
  rnw::FinishWeightsBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<Tensor> sampleTensors() {
  return {{"a.bias", {2}, {0.5f, -1.0f}}, {"a.weight", {2, 2}, {1, 2, 3, 4}}};
}

InputInfo sampleInput() {
  InputInfo input;
  input.layout = "NCHW";
  input.shape = {2, 4, 4};
  input.mean = {0.25f, 0.5f};
  input.stddev = {0.125f, 2.0f};
  return input;
}

bool parse(const std::vector<uint8_t> &bytes, WeightsFile &file, std::string &error) {
  return parseWeights(bytes.data(), bytes.size(), file, error);
}

} // namespace

TEST(WeightsFormat, VersionOneFilesStillLoad) {
  WeightsFile file;
  std::string error;
  ASSERT_TRUE(parse(documentedFile(1, sampleTensors(), nullptr, {}), file, error)) << error;
  EXPECT_EQ(file.formatVersion, 1u);
  EXPECT_TRUE(file.input.empty());
  EXPECT_TRUE(file.classes.empty());
  ASSERT_NE(file.find("a.weight"), nullptr);
  EXPECT_EQ(file.find("a.weight")->values[3], 4.0f);
}

TEST(WeightsFormat, VersionTwoChecksumIsTheDocumentedOne) {
  InputInfo input = sampleInput();
  std::vector<std::string> classes = {"cat", "dog"};
  WeightsFile file;
  std::string error;
  ASSERT_TRUE(parse(documentedFile(2, sampleTensors(), &input, classes), file, error)) << error;
  EXPECT_EQ(file.formatVersion, 2u);
  EXPECT_EQ(file.input.mean, input.mean);
  EXPECT_EQ(file.input.stddev, input.stddev);
  EXPECT_EQ(file.input.shape, input.shape);
  EXPECT_EQ(file.classes, classes);
  // resnetc's writer makes the same bytes as the documented construction.
  EXPECT_EQ(serializeWeights(file), documentedFile(2, sampleTensors(), &input, classes));
}

TEST(WeightsFormat, TheChecksumCoversTheDtype) {
  // A file whose checksum was computed over another dtype than it declares.
  std::vector<Tensor> tensors = sampleTensors();
  std::vector<uint8_t> bytes = documentedFile(2, tensors, nullptr, {});
  tensors[0].dtype = 1;
  std::vector<uint8_t> other = documentedFile(2, tensors, nullptr, {});
  WeightsFile file;
  std::string error;
  EXPECT_FALSE(parse(other, file, error));
  EXPECT_NE(error.find("tensor 'a.bias' has dtype 1; this build reads F32 (0) only"),
            std::string::npos)
      << error;
  EXPECT_TRUE(parse(bytes, file, error)) << error;
}

TEST(WeightsFormat, RoundTripsInputAndClasses) {
  WeightsFile file;
  file.model = "tiny";
  file.input = sampleInput();
  file.classes = {"cat", "dog"};
  NamedTensor tensor;
  tensor.name = "w";
  tensor.shape = {1};
  tensor.values = {3.0f};
  file.tensors.push_back(tensor);
  std::vector<uint8_t> bytes = serializeWeights(file);
  WeightsFile back;
  std::string error;
  ASSERT_TRUE(parse(bytes, back, error)) << error;
  EXPECT_EQ(back.input.layout, "NCHW");
  EXPECT_EQ(back.input.mean, file.input.mean);
  EXPECT_EQ(back.classes, file.classes);
  // Every byte of the description is covered: a changed class name fails.
  std::string needle = "dog";
  auto at = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  ASSERT_NE(at, bytes.end());
  *at = 'f';
  EXPECT_FALSE(parse(bytes, back, error));
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
}

TEST(WeightsFormat, InputDescriptionsAreChecked) {
  InputInfo input = sampleInput();
  std::string error;
  EXPECT_TRUE(checkInputInfo(input, error)) << error;
  InputInfo fewer = input;
  fewer.stddev.pop_back();
  EXPECT_FALSE(checkInputInfo(fewer, error));
  EXPECT_NE(error.find("2 means and 1 standard deviations"), std::string::npos) << error;
  InputInfo zero = input;
  zero.stddev[1] = 0;
  EXPECT_FALSE(checkInputInfo(zero, error));
  EXPECT_NE(error.find("channel 1"), std::string::npos) << error;
  InputInfo channels = input;
  channels.shape[0] = 3;
  EXPECT_FALSE(checkInputInfo(channels, error));
  EXPECT_NE(error.find("[3, 4, 4] says 3"), std::string::npos) << error;
  // A file that carries a bad description is refused as a whole.
  WeightsFile file;
  EXPECT_FALSE(parse(documentedFile(2, sampleTensors(), &zero, {}), file, error));
  EXPECT_NE(error.find("standard deviation is not positive"), std::string::npos) << error;
}

TEST(WeightsFormat, NewerVersionsAreRefusedByNumber) {
  WeightsFile file;
  std::string error;
  EXPECT_FALSE(parse(documentedFile(3, sampleTensors(), nullptr, {}), file, error));
  EXPECT_NE(error.find("unsupported weights format version 3 (this build reads versions 1 to 2)"),
            std::string::npos)
      << error;
}
