//===- SafetensorsTest.cpp - The safetensors reader/writer, torch's names -===//

#include "ModelTestSupport.h"

#include "resnetc/Interchange/Safetensors.h"
#include "resnetc/Interchange/TorchNames.h"
#include "resnetc/Weights/CheckWeights.h"

#include "llvm/Support/Endian.h"

#include <cmath>
#include <cstdio>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace resnetc;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

/// A file image: the header length, the header, the data.
std::string image(const std::string &header, const std::string &data = "") {
  std::string bytes(8, '\0');
  llvm::support::endian::write64le(bytes.data(), header.size());
  return bytes + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string bytes;
  for (float v : values) {
    char word[4];
    llvm::support::endian::write32le(word, llvm::bit_cast<uint32_t>(v));
    bytes.append(word, 4);
  }
  return bytes;
}

/// The reason parse gives for refusing `bytes`.
std::string refusal(const std::string &bytes) {
  safetensors::File file;
  std::string error;
  EXPECT_FALSE(safetensors::parse(bytes, file, error));
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  return error;
}

safetensors::File sample() {
  safetensors::File file;
  file.tensors.push_back({"fc.weight", {2, 3}, {1, -2, 3.5f, 0, 1e-30f, -7}});
  file.tensors.push_back({"bn1.running_var", {2}, {0.5f, 2}});
  file.tensors.push_back({"empty", {0, 4}, {}});
  file.integerTensors.push_back({"bn1.num_batches_tracked", {}, {1234567890123}});
  file.metadata = {{"resnetc.model", "tiny"}, {"format", "pt"}};
  return file;
}

} // namespace

TEST(Safetensors, RoundTripsTensorsCountersAndMetadata) {
  std::string bytes, error;
  ASSERT_TRUE(safetensors::serialize(sample(), bytes, error)) << error;
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  EXPECT_EQ((8 + headerSize) % 8, 0u) << "the data section starts 8-byte aligned";

  safetensors::File back;
  ASSERT_TRUE(safetensors::parse(bytes, back, error)) << error;
  ASSERT_EQ(back.tensors.size(), 3u);
  EXPECT_EQ(back.tensors[0].name, "bn1.running_var"); // sorted by name
  EXPECT_EQ(back.tensors[0].values, (std::vector<float>{0.5f, 2}));
  EXPECT_EQ(back.tensors[1].name, "empty");
  EXPECT_EQ(back.tensors[1].shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(back.tensors[2].name, "fc.weight");
  EXPECT_EQ(back.tensors[2].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(back.tensors[2].values, sample().tensors[0].values);
  ASSERT_EQ(back.integerTensors.size(), 1u);
  EXPECT_EQ(back.integerTensors[0].name, "bn1.num_batches_tracked");
  EXPECT_TRUE(back.integerTensors[0].shape.empty());
  EXPECT_EQ(back.integerTensors[0].values, (std::vector<int64_t>{1234567890123}));
  EXPECT_EQ(back.metadata, (std::vector<std::pair<std::string, std::string>>{
                               {"format", "pt"}, {"resnetc.model", "tiny"}}));

  // The order of the input does not matter: the output is deterministic.
  safetensors::File reversed = sample();
  std::reverse(reversed.tensors.begin(), reversed.tensors.end());
  std::reverse(reversed.metadata.begin(), reversed.metadata.end());
  std::string again;
  ASSERT_TRUE(safetensors::serialize(reversed, again, error)) << error;
  EXPECT_EQ(bytes, again);
}

TEST(Safetensors, WritesAtomicallyAndReadsBack) {
  std::string dir = ::testing::TempDir() + "safetensors-" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  std::string path = dir + "/w.safetensors", error;
  ASSERT_TRUE(safetensors::writeFile(path, sample(), error)) << error;
  safetensors::File back;
  ASSERT_TRUE(safetensors::readFile(path, back, error)) << error;
  EXPECT_EQ(back.tensors.size(), 3u);

  EXPECT_FALSE(safetensors::writeFile(dir + "/no/such/dir/w.safetensors", sample(), error));
  EXPECT_THAT(error, HasSubstr("w.safetensors"));
  EXPECT_FALSE(safetensors::readFile(dir + "/missing.safetensors", back, error));
  EXPECT_THAT(error, HasSubstr("cannot open '" + dir + "/missing.safetensors'"));
  // Errors in a file's contents start with its path.
  FILE *f = std::fopen(path.c_str(), "wb");
  std::fputs("tiny", f);
  std::fclose(f);
  EXPECT_FALSE(safetensors::readFile(path, back, error));
  EXPECT_THAT(error, HasSubstr(path + ": the file has 4 bytes"));
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST(Safetensors, ConvertsHalfBFloatAndDouble) {
  // 1.5, -2, 65504 (largest half), 2^-24 (smallest subnormal), +inf as F16;
  // 1.5 and -0.375 as BF16; 0.1 as F64.
  std::string half = std::string("\x00\x3e\x00\xc0\xff\x7b\x01\x00\x00\x7c", 10);
  std::string bf16 = std::string("\xc0\x3f\xc0\xbe", 4);
  double tenth = 0.1;
  char f64[8];
  llvm::support::endian::write64le(f64, llvm::bit_cast<uint64_t>(tenth));
  std::string header = R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},)"
                       R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},)"
                       R"("d":{"dtype":"F64","shape":[1,1],"data_offsets":[14,22]}})";
  safetensors::File file;
  std::string error;
  ASSERT_TRUE(safetensors::parse(image(header, half + bf16 + std::string(f64, 8)), file, error))
      << error;
  ASSERT_EQ(file.tensors.size(), 3u);
  EXPECT_EQ(file.tensors[0].name, "b");
  EXPECT_EQ(file.tensors[0].values, (std::vector<float>{1.5f, -0.375f}));
  EXPECT_EQ(file.tensors[1].name, "d");
  EXPECT_EQ(file.tensors[1].values, (std::vector<float>{0.1f}));
  EXPECT_EQ(file.tensors[2].name, "h");
  const std::vector<float> &h = file.tensors[2].values;
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[0], 1.5f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(h[4]) && h[4] > 0);
}

TEST(Safetensors, RefusesBadHeaderLengths) {
  EXPECT_THAT(refusal("abc"), HasSubstr("the file has 3 bytes, fewer than the 8"));
  std::string absurd(8, '\0');
  llvm::support::endian::write64le(absurd.data(), uint64_t(1) << 40);
  EXPECT_THAT(refusal(absurd), HasSubstr("header length is 1099511627776 bytes, more than the "
                                         "limit of 100 MiB"));
  std::string lying = image("{}");
  llvm::support::endian::write64le(lying.data(), 50);
  EXPECT_THAT(refusal(lying), HasSubstr("the header length is 50 bytes, but only 2 bytes follow"));
}

TEST(Safetensors, RefusesHeadersThatAreNotJsonObjects) {
  EXPECT_THAT(refusal(image("{\"a\": ")), HasSubstr("the header is not valid JSON"));
  EXPECT_THAT(refusal(image("[1, 2]")), HasSubstr("the header is [1,2], not a JSON object"));
  // Deep nesting would overflow llvm::json's recursive parser; brackets in
  // strings do not count.
  std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_THAT(refusal(image(deep)), HasSubstr("nests arrays and objects more than 64 levels deep"));
  std::string quoted = "{\"" + std::string(1000, '[') + "\\\"\": 1}";
  EXPECT_THAT(refusal(image(quoted)), HasSubstr("its header entry is 1, not an object"));
  EXPECT_THAT(refusal(image(R"({"w": 3})")), HasSubstr("tensor 'w': its header entry is 3"));
  EXPECT_THAT(refusal(image(R"({"__metadata__": {"k": 1}})")),
              HasSubstr("__metadata__: the value of 'k' is 1, not a string"));
  EXPECT_THAT(refusal(image(R"({"__metadata__": []})")),
              HasSubstr("__metadata__ is [], not an object of strings"));
}

TEST(Safetensors, RefusesBadDtypesAndShapes) {
  EXPECT_THAT(refusal(image(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", floats({1}))),
              HasSubstr("tensor 'w': no \"dtype\" string"));
  EXPECT_THAT(
      refusal(image(R"({"w": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})", "abcd")),
      HasSubstr("tensor 'w': dtype 'U8' is not supported (F32, F16, BF16, F64, I64)"));
  EXPECT_THAT(refusal(image(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", floats({1}))),
              HasSubstr("tensor 'w': no \"shape\" array"));
  EXPECT_THAT(refusal(image(R"({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4]}})",
                            floats({1}))),
              HasSubstr("tensor 'w': shape dimension 1 is -1, not a non-negative integer"));
  EXPECT_THAT(refusal(image(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})",
                            floats({1}))),
              HasSubstr("tensor 'w': shape dimension 0 is 1.5, not a non-negative integer"));
  EXPECT_THAT(refusal(image(R"({"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})",
                            floats({1}))),
              HasSubstr("shape dimension 0 is \"1\""));
  EXPECT_THAT(refusal(image(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4096],)"
                            R"( "data_offsets": [0, 4]}})",
                            floats({1}))),
              HasSubstr("tensor 'w': shape [4294967296,4294967296,4096] has too many elements"));
}

TEST(Safetensors, RefusesOffsetsThatLie) {
  std::string data = floats({1, 2, 3, 4});
  auto withOffsets = [&](const std::string &offsets) {
    return refusal(
        image(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": )" + offsets + "}}", data));
  };
  EXPECT_THAT(withOffsets("[0]"),
              HasSubstr("tensor 'w': data_offsets must be two non-negative integers "
                        "[begin, end], got [0]"));
  EXPECT_THAT(withOffsets("[-4, 12]"), HasSubstr("got [-4,12]"));
  EXPECT_THAT(withOffsets("[16, 0]"), HasSubstr("tensor 'w': data_offsets [16, 0] end before"));
  EXPECT_THAT(withOffsets("[0, 4000]"),
              HasSubstr("tensor 'w': data_offsets [0, 4000] reach beyond the data section, "
                        "which has 16 bytes"));
  EXPECT_THAT(withOffsets("[0, 12]"),
              HasSubstr("tensor 'w': shape [4] of F32 needs 16 bytes, but data_offsets [0, 12] "
                        "hold 12"));
}

TEST(Safetensors, RefusesOverlapsAndHoles) {
  std::string data = floats({1, 2, 3, 4});
  EXPECT_THAT(refusal(image(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},)"
                            R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                            data)),
              HasSubstr("tensors 'a' (bytes [0, 12)) and 'b' (bytes [8, 16)) overlap"));
  // The same bytes twice is an overlap too.
  EXPECT_THAT(refusal(image(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},)"
                            R"( "b": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
                            data)),
              HasSubstr("tensors 'a' (bytes [0, 16)) and 'b' (bytes [0, 16)) overlap"));
  EXPECT_THAT(refusal(image(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                            R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                            data)),
              HasSubstr("bytes [4, 8) of the data section belong to no tensor (a hole before "
                        "'b')"));
  EXPECT_THAT(
      refusal(image(R"({"b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})", data)),
      HasSubstr("bytes [0, 8) of the data section belong to no tensor (a hole before 'b')"));
  EXPECT_THAT(
      refusal(image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", data)),
      HasSubstr("bytes [8, 16) at the end of the data section belong to no tensor"));
}

TEST(Safetensors, SerializeRefusesInconsistentTensors) {
  std::string bytes, error;
  safetensors::File file;
  file.tensors.push_back({"w", {2, 2}, {1, 2, 3}});
  EXPECT_FALSE(safetensors::serialize(file, bytes, error));
  EXPECT_EQ(error, "tensor 'w' holds 3 values, but its shape [2, 2] says 4");
  file.tensors[0].values.push_back(4);
  file.integerTensors.push_back({"w", {}, {0}});
  EXPECT_FALSE(safetensors::serialize(file, bytes, error));
  EXPECT_EQ(error, "two tensors are named 'w'");
}

//===----------------------------------------------------------------------===//
// torchvision's names
//===----------------------------------------------------------------------===//

namespace {

std::vector<TorchName> torchNamesOf(const std::vector<std::string> &names) {
  std::vector<TorchName> map;
  std::string error;
  EXPECT_TRUE(mapToTorchNames(names, map, error)) << error;
  return map;
}

std::vector<TorchName> torchNamesOfExample(const std::string &model) {
  auto context = test::makeContext();
  auto module = test::importSource(*context, test::readExample(model));
  EXPECT_TRUE(module);
  std::vector<std::string> names;
  for (const ExpectedTensor &tensor : expectedWeights(*module))
    names.push_back(tensor.name);
  return torchNamesOf(names);
}

std::string torchOf(const std::vector<TorchName> &map, const std::string &resnetc) {
  for (const TorchName &pair : map)
    if (pair.resnetc == resnetc)
      return pair.torch;
  return "(not a weight)";
}

} // namespace

TEST(TorchNames, FollowTorchvisionsResNets) {
  std::vector<TorchName> map = torchNamesOfExample("resnet18");
  EXPECT_EQ(map.size(), 102u);
  EXPECT_EQ(torchOf(map, "stem.conv1.weight"), "conv1.weight");
  EXPECT_EQ(torchOf(map, "stem.bn1.running_var"), "bn1.running_var");
  EXPECT_EQ(torchOf(map, "stage1.0.conv1.weight"), "layer1.0.conv1.weight");
  EXPECT_EQ(torchOf(map, "stage4.1.bn2.bias"), "layer4.1.bn2.bias");
  EXPECT_EQ(torchOf(map, "stage2.0.shortcut1.conv.weight"), "layer2.0.downsample.0.weight");
  EXPECT_EQ(torchOf(map, "stage2.0.shortcut1.bn.running_mean"),
            "layer2.0.downsample.1.running_mean");
  EXPECT_EQ(torchOf(map, "head.fc1.weight"), "fc.weight");
  EXPECT_EQ(torchOf(map, "head.fc1.bias"), "fc.bias");

  map = torchNamesOfExample("resnet50");
  EXPECT_EQ(map.size(), 267u);
  EXPECT_EQ(torchOf(map, "stage1.0.shortcut1.conv.weight"), "layer1.0.downsample.0.weight");
  EXPECT_EQ(torchOf(map, "stage4.2.conv3.weight"), "layer4.2.conv3.weight");
  EXPECT_EQ(torchOf(map, "stage3.5.bn3.weight"), "layer3.5.bn3.weight");
}

TEST(TorchNames, CoverTheCifarAndPreActivationNetworks) {
  // Option A: no shortcut weights; three stages.
  std::vector<TorchName> map = torchNamesOfExample("resnet20");
  EXPECT_EQ(torchOf(map, "stem.conv1.weight"), "conv1.weight");
  EXPECT_EQ(torchOf(map, "stage3.2.conv2.weight"), "layer3.2.conv2.weight");
  EXPECT_EQ(torchOf(map, "head.fc1.weight"), "fc.weight");
  for (const TorchName &pair : map)
    EXPECT_EQ(pair.torch.find("downsample"), std::string::npos) << pair.torch;
  // Pre-activation: bare projections, and the head's final batch norm.
  map = torchNamesOfExample("preact_resnet164");
  EXPECT_EQ(torchOf(map, "stage2.0.shortcut1.conv.weight"), "layer2.0.downsample.0.weight");
  EXPECT_EQ(torchOf(map, "head.bn1.running_var"), "bn.running_var");
  EXPECT_EQ(torchOf(map, "head.fc1.bias"), "fc.bias");
  // Option C: a projection on every block.
  map = torchNamesOfExample("resnet34c");
  EXPECT_EQ(torchOf(map, "stage1.1.shortcut1.bn.weight"), "layer1.1.downsample.1.weight");
}

TEST(TorchNames, KeepNamesOutsideTheSchemeAndRefuseCollisions) {
  std::vector<TorchName> map =
      torchNamesOf({"head.fc1.weight", "head.fc2.weight", "basic_1.conv1.weight",
                    "stage1.0.shortcut2.conv.weight"});
  EXPECT_EQ(map[0].torch, "head.fc1.weight"); // two fc layers: no single "fc"
  EXPECT_EQ(map[1].torch, "head.fc2.weight");
  EXPECT_EQ(map[2].torch, "basic_1.conv1.weight"); // a block outside a stage
  EXPECT_EQ(map[3].torch, "layer1.0.downsample2.0.weight");

  std::vector<TorchName> collided;
  std::string error;
  EXPECT_FALSE(mapToTorchNames({"stem.conv1.weight", "conv1.weight"}, collided, error));
  EXPECT_EQ(error, "'stem.conv1.weight' and 'conv1.weight' would both be torch's 'conv1.weight'");

  EXPECT_TRUE(isBatchCounter("layer1.0.bn1.num_batches_tracked"));
  EXPECT_FALSE(isBatchCounter("layer1.0.bn1.running_mean"));
}
