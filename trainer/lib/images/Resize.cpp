//===- Resize.cpp - Channels, bilinear resizing and crops of images -------===//

#include "resnetc/images/Image.h"

#include <algorithm>
#include <cmath>

using namespace resnetc;
using namespace resnetc::images;

bool resnetc::images::convertChannels(const Image &in, int64_t channels, Image &out,
                                      std::string &error) {
  if ((channels != 1 && channels != 3) || (in.channels != 1 && in.channels != 3)) {
    error = "images convert between 1 (gray) and 3 (RGB) channels, not from " +
            std::to_string(in.channels) + " to " + std::to_string(channels);
    return false;
  }
  if (in.channels == channels) {
    out = in;
    return true;
  }
  const size_t plane = size_t(in.height * in.width);
  out.channels = channels;
  out.height = in.height;
  out.width = in.width;
  out.values.resize(plane * size_t(channels));
  if (channels == 3) {
    for (size_t c = 0; c < 3; ++c)
      std::copy(in.values.begin(), in.values.begin() + long(plane),
                out.values.begin() + long(c * plane));
    return true;
  }
  const float *r = in.values.data(), *g = r + plane, *b = g + plane;
  for (size_t p = 0; p < plane; ++p)
    out.values[p] = std::min(1.0f, 0.299f * r[p] + 0.587f * g[p] + 0.114f * b[p]); // white: 1
  return true;
}

namespace {

/// The taps of one output position along one axis.
struct Taps {
  int64_t first = 0;
  std::vector<double> weights;
};

/// PIL's bilinear resampling weights: a triangle filter centred on the output
/// pixel's centre mapped into the input, widened by the scale when shrinking;
/// taps outside the image are dropped and the rest renormalised.
std::vector<Taps> bilinearTaps(int64_t inSize, int64_t outSize) {
  const double scale = double(inSize) / double(outSize);
  const double filterScale = std::max(scale, 1.0), support = filterScale;
  std::vector<Taps> taps(static_cast<size_t>(outSize));
  for (int64_t x = 0; x < outSize; ++x) {
    const double centre = (double(x) + 0.5) * scale;
    int64_t first = std::max<int64_t>(int64_t(std::floor(centre - support + 0.5)), 0);
    int64_t last = std::min<int64_t>(int64_t(std::floor(centre + support + 0.5)), inSize);
    Taps &t = taps[size_t(x)];
    t.first = first;
    double total = 0;
    for (int64_t j = first; j < last; ++j) {
      double distance = std::abs((double(j) - centre + 0.5) / filterScale);
      double w = distance < 1 ? 1 - distance : 0;
      t.weights.push_back(w);
      total += w;
    }
    for (double &w : t.weights)
      w = total > 0 ? w / total : 0;
  }
  return taps;
}

/// An image of `in`'s channels and the given size, to be filled.
Image blankLike(const Image &in, int64_t height, int64_t width) {
  Image out;
  out.channels = in.channels;
  out.height = height;
  out.width = width;
  out.values.resize(size_t(in.channels * height * width));
  return out;
}

} // namespace

Image resnetc::images::resizeBilinear(const Image &in, int64_t height, int64_t width) {
  if (in.height == height && in.width == width)
    return in;
  const std::vector<Taps> across = bilinearTaps(in.width, width);
  const std::vector<Taps> down = bilinearTaps(in.height, height);
  // Rows first (in.height x width), then columns.
  std::vector<float> rows(size_t(in.channels * in.height * width));
  for (int64_t c = 0; c < in.channels; ++c)
    for (int64_t y = 0; y < in.height; ++y) {
      const float *source = &in.values[size_t((c * in.height + y) * in.width)];
      float *target = &rows[size_t((c * in.height + y) * width)];
      for (int64_t x = 0; x < width; ++x) {
        const Taps &t = across[size_t(x)];
        double sum = 0;
        for (size_t k = 0; k < t.weights.size(); ++k)
          sum += t.weights[k] * source[t.first + int64_t(k)];
        target[x] = float(sum);
      }
    }
  Image out = blankLike(in, height, width);
  for (int64_t c = 0; c < in.channels; ++c)
    for (int64_t y = 0; y < height; ++y) {
      const Taps &t = down[size_t(y)];
      float *target = &out.values[size_t((c * height + y) * width)];
      for (int64_t x = 0; x < width; ++x) {
        double sum = 0;
        for (size_t k = 0; k < t.weights.size(); ++k)
          sum += t.weights[k] * rows[size_t((c * in.height + t.first + int64_t(k)) * width + x)];
        target[x] = float(sum);
      }
    }
  return out;
}

Image resnetc::images::crop(const Image &in, int64_t top, int64_t left, int64_t height,
                            int64_t width) {
  Image out = blankLike(in, height, width);
  for (int64_t c = 0; c < in.channels; ++c)
    for (int64_t y = 0; y < height; ++y)
      std::copy_n(&in.values[size_t((c * in.height + top + y) * in.width + left)], width,
                  &out.values[size_t((c * height + y) * width)]);
  return out;
}

Geometry resnetc::images::inputGeometry(int64_t imageHeight, int64_t imageWidth, int64_t height,
                                        int64_t width) {
  Geometry g;
  if (std::min(height, width) < kCropMinimumSize) {
    g.resizeHeight = height;
    g.resizeWidth = width;
    return g;
  }
  const int64_t coverHeight = std::lround(double(height) * 256.0 / 224.0);
  const int64_t coverWidth = std::lround(double(width) * 256.0 / 224.0);
  // The side that needs the larger scale gets its size exactly; the other
  // follows the aspect ratio, truncated as torchvision's Resize does.
  if (coverHeight * imageWidth >= coverWidth * imageHeight) {
    g.resizeHeight = coverHeight;
    g.resizeWidth = std::max(coverWidth, coverHeight * imageWidth / imageHeight);
  } else {
    g.resizeWidth = coverWidth;
    g.resizeHeight = std::max(coverHeight, coverWidth * imageHeight / imageWidth);
  }
  // torchvision's center_crop rounds the offsets half to even (Python's round).
  g.cropTop = int64_t(std::nearbyint(double(g.resizeHeight - height) / 2.0));
  g.cropLeft = int64_t(std::nearbyint(double(g.resizeWidth - width) / 2.0));
  return g;
}

bool resnetc::images::toNetworkInput(const Image &in, int64_t channels, int64_t height,
                                     int64_t width, Image &out, std::string &error) {
  Image converted;
  if (!convertChannels(in, channels, converted, error))
    return false;
  Geometry g = inputGeometry(in.height, in.width, height, width);
  Image resized = resizeBilinear(converted, g.resizeHeight, g.resizeWidth);
  out = g.resizeHeight == height && g.resizeWidth == width
            ? std::move(resized)
            : crop(resized, g.cropTop, g.cropLeft, height, width);
  return true;
}
