//===- ImageFile.cpp - PNG, JPEG, PGM and PPM files to planar floats ------===//
//
// PNG and JPEG are decoded by stb_image (Debian's libstb). Binary PGM/PPM is
// read here: stb_image's reader ignores a short file (the missing pixels are
// left uninitialised) and the maximum value, and both matter for a format
// that is this easy to get right.
//
//===----------------------------------------------------------------------===//

#include "resnetc/images/Image.h"

#include <stb/stb_image.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sys/stat.h>

using namespace resnetc;
using namespace resnetc::images;

namespace {

/// Bounds what one file may ask for: 64 Mpixel images, 256 MiB files.
constexpr int64_t kMaxPixels = int64_t(1) << 26;
constexpr int64_t kMaxFileBytes = int64_t(256) << 20;

bool startsWith(const uint8_t *data, size_t size, const char *prefix, size_t length) {
  return size >= length && std::memcmp(data, prefix, length) == 0;
}

enum class Format { Png, Jpeg, Netpbm, Unknown };

/// The format by its signature; for the ones not read, `error` names them.
Format sniff(const uint8_t *data, size_t size, std::string &unsupported) {
  if (startsWith(data, size, "\x89PNG\r\n\x1a\n", 8))
    return Format::Png;
  if (startsWith(data, size, "\xff\xd8\xff", 3))
    return Format::Jpeg;
  if (size >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '6'))
    return Format::Netpbm;
  if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '4')
    unsupported = std::string("P") + char(data[1]) +
                  " netpbm (ASCII or 1-bit) is not supported: use binary PGM (P5) or PPM (P6)";
  else if (startsWith(data, size, "GIF8", 4))
    unsupported = "GIF";
  else if (startsWith(data, size, "BM", 2))
    unsupported = "BMP";
  else if (startsWith(data, size, "II*\0", 4) || startsWith(data, size, "MM\0*", 4))
    unsupported = "TIFF";
  else if (size >= 12 && startsWith(data, size, "RIFF", 4) && std::memcmp(data + 8, "WEBP", 4) == 0)
    unsupported = "WebP";
  return Format::Unknown;
}

bool checkPixels(int64_t width, int64_t height, const std::string &name, std::string &error) {
  if (width <= 0 || height <= 0) {
    error =
        name + ": the image is " + std::to_string(width) + "x" + std::to_string(height) + " pixels";
    return false;
  }
  if (width > kMaxPixels / height) {
    error = name + ": the image is " + std::to_string(width) + "x" + std::to_string(height) +
            " pixels, more than the limit of " + std::to_string(kMaxPixels) + " pixels";
    return false;
  }
  return true;
}

/// Interleaved samples (`bits` 8 or 16, 16-bit ones in native order as stb
/// returns them) to planar floats in [0, 1].
void toPlanar(const void *samples, int bits, int64_t channels, int64_t height, int64_t width,
              double maxValue, Image &out) {
  out.channels = channels;
  out.height = height;
  out.width = width;
  out.values.resize(size_t(channels * height * width));
  const int64_t plane = height * width;
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t c = 0; c < channels; ++c) {
      size_t i = size_t(p * channels + c);
      double v = bits == 16 ? static_cast<const uint16_t *>(samples)[i]
                            : static_cast<const uint8_t *>(samples)[i];
      out.values[size_t(c * plane + p)] = float(v / maxValue);
    }
}

/// Binary PGM (P5) and PPM (P6): a header of magic, width, height and
/// maximum value (whitespace and # comments between), one whitespace byte,
/// then the samples, two bytes big-endian each when the maximum exceeds 255.
bool decodeNetpbm(const uint8_t *data, size_t size, const std::string &name, Image &out,
                  std::string &error) {
  size_t at = 2;
  auto isSpace = [](uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  };
  auto skipSpace = [&] {
    while (at < size) {
      if (data[at] == '#')
        while (at < size && data[at] != '\n' && data[at] != '\r')
          ++at;
      else if (isSpace(data[at]))
        ++at;
      else
        break;
    }
  };
  auto number = [&](int64_t &value) {
    skipSpace();
    size_t start = at;
    value = 0;
    while (at < size && data[at] >= '0' && data[at] <= '9' && value <= (int64_t(1) << 32))
      value = value * 10 + (data[at++] - '0');
    return at > start && value <= (int64_t(1) << 32);
  };
  const char *kind = data[1] == '5' ? "PGM" : "PPM";
  int64_t width = 0, height = 0, maxValue = 0;
  if (!number(width) || !number(height) || !number(maxValue) || at >= size || !isSpace(data[at])) {
    error = name + ": truncated or malformed " + kind + " header";
    return false;
  }
  ++at; // the single whitespace byte before the samples
  if (maxValue < 1 || maxValue > 65535) {
    error = name + ": the " + kind + " maximum value is " + std::to_string(maxValue) +
            ", not between 1 and 65535";
    return false;
  }
  if (!checkPixels(width, height, name, error))
    return false;
  const int64_t channels = data[1] == '5' ? 1 : 3, bytes = maxValue > 255 ? 2 : 1;
  const int64_t needed = width * height * channels * bytes;
  if (int64_t(size - at) < needed) {
    error = name + ": truncated " + kind + ": " + std::to_string(width) + "x" +
            std::to_string(height) + " pixels need " + std::to_string(needed) +
            " bytes of samples, the file has " + std::to_string(size - at);
    return false;
  }
  if (bytes == 1) {
    toPlanar(data + at, 8, channels, height, width, double(maxValue), out);
    return true;
  }
  std::vector<uint16_t> samples(size_t(needed / 2));
  for (size_t i = 0; i < samples.size(); ++i)
    samples[i] = uint16_t(data[at + 2 * i] << 8 | data[at + 2 * i + 1]);
  toPlanar(samples.data(), 16, channels, height, width, double(maxValue), out);
  return true;
}

/// stb_image decodes a JPEG cut short as if the rest were blank; a complete
/// one ends its last scan with an end-of-image marker (0xFF 0xD9, which the
/// entropy-coded data cannot contain).
bool jpegIsComplete(const uint8_t *data, size_t size) {
  size_t lastScan = 0;
  for (size_t i = 2; i + 1 < size; ++i)
    if (data[i] == 0xff && data[i + 1] == 0xda)
      lastScan = i;
  for (size_t i = size - 1; i > lastScan + 1; --i)
    if (data[i - 1] == 0xff && data[i] == 0xd9)
      return lastScan != 0;
  return false;
}

bool decodeWithStb(const uint8_t *data, size_t size, Format format, const std::string &name,
                   Image &out, std::string &error) {
  const char *kind = format == Format::Png ? "PNG" : "JPEG";
  if (size > size_t(INT32_MAX)) {
    error = name + ": the file is too large";
    return false;
  }
  const int length = int(size);
  int width = 0, height = 0, components = 0;
  if (!stbi_info_from_memory(data, length, &width, &height, &components)) {
    error = name + ": corrupt or truncated " + kind + " (" + stbi_failure_reason() + ")";
    return false;
  }
  if (!checkPixels(width, height, name, error))
    return false;
  if (format == Format::Jpeg && !jpegIsComplete(data, size)) {
    error = name + ": truncated JPEG (no end-of-image marker after the image data)";
    return false;
  }
  // Gray (+ alpha) stays gray, colour (+ alpha) is RGB: alpha is dropped.
  const int channels = components <= 2 ? 1 : 3;
  const bool wide = stbi_is_16_bit_from_memory(data, length);
  std::unique_ptr<void, void (*)(void *)> pixels(
      wide ? static_cast<void *>(
                 stbi_load_16_from_memory(data, length, &width, &height, &components, channels))
           : static_cast<void *>(
                 stbi_load_from_memory(data, length, &width, &height, &components, channels)),
      stbi_image_free);
  if (!pixels) {
    error = name + ": corrupt or truncated " + kind + " (" + stbi_failure_reason() + ")";
    return false;
  }
  toPlanar(pixels.get(), wide ? 16 : 8, channels, height, width, wide ? 65535.0 : 255.0, out);
  return true;
}

} // namespace

bool resnetc::images::decodeImage(const uint8_t *data, size_t size, const std::string &name,
                                  Image &out, std::string &error) {
  if (size == 0) {
    error = name + ": the file is empty";
    return false;
  }
  std::string unsupported;
  switch (sniff(data, size, unsupported)) {
  case Format::Png:
    return decodeWithStb(data, size, Format::Png, name, out, error);
  case Format::Jpeg:
    return decodeWithStb(data, size, Format::Jpeg, name, out, error);
  case Format::Netpbm:
    return decodeNetpbm(data, size, name, out, error);
  case Format::Unknown:
    break;
  }
  if (unsupported.empty())
    error = name + ": not an image (PNG, JPEG, PGM or PPM)";
  else if (unsupported[0] == 'P')
    error = name + ": " + unsupported;
  else
    error = name + ": " + unsupported + " images are not supported: use PNG, JPEG, PGM or PPM";
  return false;
}

bool resnetc::images::readImage(const std::string &path, Image &out, std::string &error) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (S_ISDIR(info.st_mode)) {
    error = path + ": is a folder, not an image file";
    return false;
  }
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  std::streamoff size = file.tellg();
  if (size < 0) {
    error = path + ": cannot read the file";
    return false;
  }
  if (size > kMaxFileBytes) {
    error = path + ": the file is " + std::to_string(size >> 20) +
            " MiB; image files are limited to " + std::to_string(kMaxFileBytes >> 20) + " MiB";
    return false;
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char *>(bytes.data()), size)) {
    error = path + ": cannot read the file";
    return false;
  }
  return decodeImage(bytes.data(), bytes.size(), path, out, error);
}
