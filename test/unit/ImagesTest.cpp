//===- ImagesTest.cpp - Image files, channels, resizing, crops ------------===//

#include "resnetc/images/Image.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>

using namespace resnetc::images;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes bytesOf(const std::string &text) { return Bytes(text.begin(), text.end()); }

void appendTo(void *context, void *data, int size) {
  auto *bytes = static_cast<Bytes *>(context);
  bytes->insert(bytes->end(), static_cast<uint8_t *>(data), static_cast<uint8_t *>(data) + size);
}

/// An 8-bit PNG written by stb_image_write, pixels interleaved.
Bytes png(int width, int height, int components, const Bytes &pixels) {
  Bytes out;
  EXPECT_TRUE(stbi_write_png_to_func(appendTo, &out, width, height, components, pixels.data(),
                                     width * components));
  return out;
}

Bytes jpeg(int width, int height, int components, const Bytes &pixels) {
  Bytes out;
  EXPECT_TRUE(
      stbi_write_jpg_to_func(appendTo, &out, width, height, components, pixels.data(), 100));
  return out;
}

void putChunk(Bytes &out, const char *type, const Bytes &data) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(uint8_t(data.size() >> shift));
  Bytes typed(type, type + 4);
  typed.insert(typed.end(), data.begin(), data.end());
  out.insert(out.end(), typed.begin(), typed.end());
  uLong crc = crc32(0, typed.data(), uInt(typed.size()));
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(uint8_t(crc >> shift));
}

/// A 16-bit gray PNG, built by hand (stb_image_write writes 8 bits only).
Bytes png16(int width, int height, const std::vector<uint16_t> &samples) {
  Bytes out = bytesOf("\x89PNG\r\n\x1a\n");
  Bytes header = {0, 0, 0, uint8_t(width), 0, 0, 0, uint8_t(height), 16, 0, 0, 0, 0};
  putChunk(out, "IHDR", header);
  Bytes raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0); // no filter
    for (int x = 0; x < width; ++x) {
      raw.push_back(uint8_t(samples[size_t(y * width + x)] >> 8));
      raw.push_back(uint8_t(samples[size_t(y * width + x)]));
    }
  }
  Bytes packed(compressBound(uLong(raw.size())));
  uLongf packedSize = packed.size();
  EXPECT_EQ(compress(packed.data(), &packedSize, raw.data(), uLong(raw.size())), Z_OK);
  packed.resize(packedSize);
  putChunk(out, "IDAT", packed);
  putChunk(out, "IEND", {});
  return out;
}

bool decode(const Bytes &bytes, Image &image, std::string &error) {
  return decodeImage(bytes.data(), bytes.size(), "x.img", image, error);
}

std::string decodeError(const Bytes &bytes) {
  Image image;
  std::string error;
  EXPECT_FALSE(decode(bytes, image, error));
  return error;
}

Image planar(int64_t channels, int64_t height, int64_t width, std::vector<float> values) {
  Image image;
  image.channels = channels;
  image.height = height;
  image.width = width;
  image.values = std::move(values);
  return image;
}

} // namespace

TEST(Images, DecodesBinaryPgmWithComments) {
  Bytes bytes = bytesOf("P5\n# a comment\n3 2\n# another\n255\n");
  for (uint8_t v : {0, 51, 102, 153, 204, 255})
    bytes.push_back(v);
  Image image;
  std::string error;
  ASSERT_TRUE(decode(bytes, image, error)) << error;
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(image.height, 2);
  EXPECT_EQ(image.width, 3);
  EXPECT_FLOAT_EQ(image.at(0, 0, 1), 0.2f);
  EXPECT_FLOAT_EQ(image.at(0, 1, 2), 1.0f);
}

TEST(Images, ScalesNetpbmByItsMaximumValue) {
  Bytes pgm = bytesOf("P5 2 1 15\n");
  pgm.push_back(15);
  pgm.push_back(5);
  Image image;
  std::string error;
  ASSERT_TRUE(decode(pgm, image, error)) << error;
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(image.at(0, 0, 1), 5.0f / 15.0f);

  // 16-bit PPM: big-endian samples, interleaved RGB to planar.
  Bytes ppm = bytesOf("P6 1 1 1000\n");
  for (uint16_t v : {1000, 500, 0}) {
    ppm.push_back(uint8_t(v >> 8));
    ppm.push_back(uint8_t(v));
  }
  ASSERT_TRUE(decode(ppm, image, error)) << error;
  EXPECT_EQ(image.channels, 3);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(image.at(1, 0, 0), 0.5f);
  EXPECT_FLOAT_EQ(image.at(2, 0, 0), 0.0f);
}

TEST(Images, RefusesBadNetpbm) {
  Bytes truncated = bytesOf("P5 4 4 255\n");
  truncated.resize(truncated.size() + 10, 7);
  EXPECT_EQ(decodeError(truncated), "x.img: truncated PGM: 4x4 pixels need 16 bytes of samples, "
                                    "the file has 10");
  EXPECT_EQ(decodeError(bytesOf("P6 4")), "x.img: truncated or malformed PPM header");
  EXPECT_EQ(decodeError(bytesOf("P5 0 0 255\n")), "x.img: the image is 0x0 pixels");
  EXPECT_EQ(decodeError(bytesOf("P5 2 2 0\n....")),
            "x.img: the PGM maximum value is 0, not between 1 and 65535");
  EXPECT_EQ(decodeError(bytesOf("P5 100000 100000 255\n")),
            "x.img: the image is 100000x100000 pixels, more than the limit of 67108864 pixels");
  EXPECT_EQ(decodeError(bytesOf("P5 99999999999999999999 1 255\n")),
            "x.img: truncated or malformed PGM header");
  EXPECT_EQ(decodeError(bytesOf("P2 1 1 255\n7\n")),
            "x.img: P2 netpbm (ASCII or 1-bit) is not supported: use binary PGM (P5) or PPM (P6)");
}

TEST(Images, DecodesPngGrayColourAndAlpha) {
  Image image;
  std::string error;
  ASSERT_TRUE(decode(png(2, 1, 1, {0, 255}), image, error)) << error;
  EXPECT_EQ(image.channels, 1);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(image.at(0, 0, 1), 1.0f);

  ASSERT_TRUE(decode(png(1, 2, 3, {255, 0, 51, 0, 102, 255}), image, error)) << error;
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.height, 2);
  EXPECT_EQ(image.width, 1);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(image.at(2, 0, 0), 0.2f);
  EXPECT_FLOAT_EQ(image.at(1, 1, 0), 0.4f);

  // RGBA: the alpha channel is dropped, not blended.
  ASSERT_TRUE(decode(png(1, 1, 4, {255, 102, 0, 0}), image, error)) << error;
  EXPECT_EQ(image.channels, 3);
  EXPECT_FLOAT_EQ(image.at(1, 0, 0), 0.4f);
}

TEST(Images, Decodes16BitPng) {
  Image image;
  std::string error;
  ASSERT_TRUE(decode(png16(2, 1, {65535, 257}), image, error)) << error;
  EXPECT_EQ(image.channels, 1);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(image.at(0, 0, 1), 257.0f / 65535.0f);
}

TEST(Images, DecodesJpeg) {
  Bytes pixels(8 * 8 * 3);
  for (size_t i = 0; i < pixels.size(); i += 3) {
    pixels[i] = 200;
    pixels[i + 1] = 100;
    pixels[i + 2] = 50;
  }
  Image image;
  std::string error;
  ASSERT_TRUE(decode(jpeg(8, 8, 3, pixels), image, error)) << error;
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.height, 8);
  // Lossy: a flat colour comes back within a few levels.
  EXPECT_NEAR(image.at(0, 3, 3), 200 / 255.0f, 3 / 255.0f);
  EXPECT_NEAR(image.at(1, 3, 3), 100 / 255.0f, 3 / 255.0f);
  EXPECT_NEAR(image.at(2, 3, 3), 50 / 255.0f, 3 / 255.0f);
}

TEST(Images, RefusesTruncatedAndForeignFiles) {
  Bytes pixels(16 * 16 * 3, 90);
  Bytes cutPng = png(16, 16, 3, pixels);
  cutPng.resize(cutPng.size() - 20);
  EXPECT_EQ(decodeError(cutPng).rfind("x.img: corrupt or truncated PNG (", 0), 0u)
      << decodeError(cutPng);
  Bytes cutJpeg = jpeg(16, 16, 3, pixels);
  cutJpeg.resize(cutJpeg.size() / 2 + 100);
  EXPECT_EQ(decodeError(cutJpeg), "x.img: truncated JPEG (no end-of-image marker after the "
                                  "image data)");
  EXPECT_EQ(decodeError({}), "x.img: the file is empty");
  EXPECT_EQ(decodeError(bytesOf("hello, world\n")), "x.img: not an image (PNG, JPEG, PGM or PPM)");
  EXPECT_EQ(decodeError(bytesOf("GIF89a....")),
            "x.img: GIF images are not supported: use PNG, JPEG, PGM or PPM");
  EXPECT_EQ(decodeError(bytesOf("\x89PNG\r\n\x1a\n")).rfind("x.img: corrupt or truncated PNG", 0),
            0u);
}

// Damaged files are refused or decoded, never a crash: every byte of a PNG
// and of a JPEG changed in turn, and every truncation.
TEST(Images, SurvivesDamagedFiles) {
  Bytes pixels(12 * 10 * 3);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = uint8_t(i * 37);
  for (const Bytes &good : {png(12, 10, 3, pixels), jpeg(12, 10, 3, pixels)}) {
    for (size_t i = 0; i < good.size(); ++i) {
      Bytes bad = good;
      bad[i] ^= 0x5a;
      Image image;
      std::string error;
      if (decode(bad, image, error)) {
        EXPECT_EQ(image.values.size(), size_t(image.channels * image.height * image.width));
      }
      Bytes cut(good.begin(), good.begin() + long(i));
      if (decode(cut, image, error)) {
        EXPECT_EQ(image.values.size(), size_t(image.channels * image.height * image.width));
      }
    }
  }
}

TEST(Images, ReadsFilesAndNamesMissingOnes) {
  std::string path = testing::TempDir() + "/resnetc-images-test.pgm";
  {
    std::ofstream file(path, std::ios::binary);
    file << "P5 1 1 255\n" << char(51);
  }
  Image image;
  std::string error;
  ASSERT_TRUE(readImage(path, image, error)) << error;
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 0.2f);
  std::remove(path.c_str());
  EXPECT_FALSE(readImage(path, image, error));
  EXPECT_EQ(error, path + ": No such file or directory");
  EXPECT_FALSE(readImage(testing::TempDir(), image, error));
  EXPECT_EQ(error, testing::TempDir() + ": is a folder, not an image file");
}

TEST(Images, ConvertsChannels) {
  Image rgb = planar(3, 1, 2, {1, 0, 0, 1, 0, 1});
  Image gray;
  std::string error;
  ASSERT_TRUE(convertChannels(rgb, 1, gray, error)) << error;
  EXPECT_FLOAT_EQ(gray.at(0, 0, 0), 0.299f);
  EXPECT_FLOAT_EQ(gray.at(0, 0, 1), 0.587f + 0.114f);
  Image white = planar(3, 1, 1, {1, 1, 1});
  ASSERT_TRUE(convertChannels(white, 1, gray, error));
  EXPECT_LE(gray.at(0, 0, 0), 1.0f);
  EXPECT_NEAR(gray.at(0, 0, 0), 1.0f, 1e-6f);

  Image back;
  ASSERT_TRUE(convertChannels(planar(1, 1, 2, {0.25f, 0.5f}), 3, back, error));
  EXPECT_EQ(back.values, (std::vector<float>{0.25f, 0.5f, 0.25f, 0.5f, 0.25f, 0.5f}));
  EXPECT_FALSE(convertChannels(rgb, 4, back, error));
  EXPECT_EQ(error, "images convert between 1 (gray) and 3 (RGB) channels, not from 3 to 4");
}

TEST(Images, ResizesBilinearly) {
  // Enlarging: half-pixel centres, edges clamped (torch's align_corners=False).
  Image up = resizeBilinear(planar(1, 1, 2, {0, 1}), 1, 4);
  EXPECT_EQ(up.values, (std::vector<float>{0, 0.25f, 0.75f, 1}));
  // Shrinking 4 -> 2: the triangle filter spans two source pixels each way,
  // weights 3/4, 3/4, 1/4 (renormalised at the edge), as PIL computes them.
  Image down = resizeBilinear(planar(1, 1, 4, {0, 1, 2, 3}), 1, 2);
  EXPECT_FLOAT_EQ(down.values[0], 1.25f / 1.75f);
  EXPECT_FLOAT_EQ(down.values[1], 4.0f / 1.75f);
  // Both axes, each channel alone; a constant stays constant.
  Image square = resizeBilinear(planar(2, 2, 2, {0, 1, 0, 1, 5, 5, 5, 5}), 4, 4);
  EXPECT_EQ(square.height, 4);
  EXPECT_FLOAT_EQ(square.at(0, 3, 1), 0.25f);
  EXPECT_FLOAT_EQ(square.at(0, 0, 2), 0.75f);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x)
      EXPECT_FLOAT_EQ(square.at(1, y, x), 5.0f);
  // The same size is the identity.
  Image same = planar(1, 2, 3, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(resizeBilinear(same, 2, 3).values, same.values);
}

TEST(Images, Crops) {
  Image image = planar(1, 3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Image window = crop(image, 1, 1, 2, 2);
  EXPECT_EQ(window.values, (std::vector<float>{5, 6, 8, 9}));
}

TEST(Images, GeometryOfSmallInputsIsAStraightResize) {
  Geometry g = inputGeometry(100, 50, 28, 28);
  EXPECT_EQ(g.resizeHeight, 28);
  EXPECT_EQ(g.resizeWidth, 28);
  EXPECT_EQ(g.cropTop, 0);
  EXPECT_EQ(g.cropLeft, 0);
}

TEST(Images, GeometryOfImageNetInputsIsResizeThenCentreCrop) {
  // 375 x 500 (landscape): the shorter side to 256, the other to
  // int(256 * 500 / 375) = 341; the crop's left edge round(58.5) = 58.
  Geometry g = inputGeometry(375, 500, 224, 224);
  EXPECT_EQ(g.resizeHeight, 256);
  EXPECT_EQ(g.resizeWidth, 341);
  EXPECT_EQ(g.cropTop, 16);
  EXPECT_EQ(g.cropLeft, 58);
  // Portrait, and a half that rounds up to even: (343 - 224) / 2 = 59.5 -> 60.
  g = inputGeometry(500, 375, 224, 224);
  EXPECT_EQ(g.resizeHeight, 341);
  EXPECT_EQ(g.resizeWidth, 256);
  EXPECT_EQ(g.cropTop, 58);
  EXPECT_EQ(g.cropLeft, 16);
  g = inputGeometry(300, 402, 224, 224);
  EXPECT_EQ(g.resizeWidth, 343);
  EXPECT_EQ(g.cropLeft, 60);
  // A 64-pixel input: round(64 * 256 / 224) = 73.
  g = inputGeometry(64, 64, 64, 64);
  EXPECT_EQ(g.resizeHeight, 73);
  EXPECT_EQ(g.cropTop, 4);
}

TEST(Images, ToNetworkInput) {
  // A 2 x 2 RGB image to a 1 x 4 x 4 input: gray by luma, then enlarged.
  Image rgb = planar(3, 2, 2, {1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0});
  Image input;
  std::string error;
  ASSERT_TRUE(toNetworkInput(rgb, 1, 4, 4, input, error)) << error;
  EXPECT_EQ(input.channels, 1);
  EXPECT_EQ(input.height, 4);
  EXPECT_FLOAT_EQ(input.at(0, 0, 0), 0.299f);
  EXPECT_FLOAT_EQ(input.at(0, 3, 3), 0.587f);
  EXPECT_FLOAT_EQ(input.at(0, 1, 0), 0.299f * 0.75f + 0.587f * 0.25f);
  // An ImageNet-size input gets the crop: 300 x 400 -> 256 x 341 -> 224 x 224.
  Image large = planar(1, 300, 400, std::vector<float>(300 * 400, 0.5f));
  ASSERT_TRUE(toNetworkInput(large, 3, 224, 224, input, error));
  EXPECT_EQ(input.channels, 3);
  EXPECT_EQ(input.height, 224);
  EXPECT_EQ(input.width, 224);
  EXPECT_FLOAT_EQ(input.at(2, 100, 100), 0.5f);
}
