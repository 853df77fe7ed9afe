//===- Image.h - Image files as network inputs -------------------*- C++ -*-===//
//
// Reads PNG, JPEG and binary PGM/PPM files and brings them to a network's
// input: the network's channel count, its height and width, values in [0, 1],
// planar (C x H x W) float, as the generated API takes them. Apps and the
// resnetc tool link it (ResnetcImages); generated libraries do not.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_IMAGES_IMAGE_H
#define RESNETC_IMAGES_IMAGE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace resnetc::images {

/// Planar float pixels: channel c, row y, column x at (c * height + y) * width + x.
struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> values;

  float at(int64_t c, int64_t y, int64_t x) const {
    return values[size_t((c * height + y) * width + x)];
  }
};

/// Decodes a PNG (8 or 16 bits), JPEG or binary PGM/PPM (P5/P6) image held in
/// memory; `name` (the file) begins each error. Gray images give 1 channel,
/// colour ones 3 (an alpha channel is dropped); values are scaled to [0, 1].
/// False with a one-line reason for anything else: not an image, another
/// format, a truncated or corrupt file, an empty or oversized image.
bool decodeImage(const uint8_t *data, size_t size, const std::string &name, Image &out,
                 std::string &error);

/// Reads and decodes an image file.
bool readImage(const std::string &path, Image &out, std::string &error);

/// The image with `channels` channels: RGB to gray by ITU-R BT.601 luma
/// (0.299 R + 0.587 G + 0.114 B), gray to RGB by replication. False for
/// channel counts other than 1 and 3.
bool convertChannels(const Image &in, int64_t channels, Image &out, std::string &error);

/// Bilinear resampling to height x width with pixel centres at half-integers
/// (PIL's and torchvision's convention). Shrinking widens the triangle filter
/// to the scale factor, as PIL does, so that every source pixel contributes.
Image resizeBilinear(const Image &in, int64_t height, int64_t width);

/// The height x width window whose top-left corner is (top, left).
Image crop(const Image &in, int64_t top, int64_t left, int64_t height, int64_t width);

/// How an image of `imageHeight` x `imageWidth` reaches a network input of
/// `height` x `width`: resize to resizeHeight x resizeWidth, then crop at
/// (cropTop, cropLeft).
struct Geometry {
  int64_t resizeHeight = 0, resizeWidth = 0;
  int64_t cropTop = 0, cropLeft = 0;
};

/// Inputs of at least kCropMinimumSize pixels on each side (ImageNet-size
/// networks) take torchvision's evaluation transform: resize keeping the
/// aspect ratio until the image covers round(size * 256 / 224) on each side,
/// then a centre crop. Smaller inputs (28 x 28, 32 x 32) are resized straight
/// to the input, as their data sets are stored.
constexpr int64_t kCropMinimumSize = 64;
Geometry inputGeometry(int64_t imageHeight, int64_t imageWidth, int64_t height, int64_t width);

/// convertChannels, then inputGeometry's resize and crop: the image as a
/// network input of channels x height x width.
bool toNetworkInput(const Image &in, int64_t channels, int64_t height, int64_t width, Image &out,
                    std::string &error);

} // namespace resnetc::images

#endif // RESNETC_IMAGES_IMAGE_H
