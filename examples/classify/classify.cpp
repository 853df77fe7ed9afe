// classify: loads a compiled network's weights, reads images, prints the
// top-5 classes of each (with their names when the weights record them), the
// time per batch and, given the images' labels, the accuracy.
//
//   classify [--threads N] [--repeat R] [--top K] [--labels labels.txt]
//            weights.rnw [image.pgm|image.ppm|tensor.raw ...]
//
// Images (binary PGM or PPM, 8-bit) are resized to the network's input by
// nearest neighbour, scaled to [0, 1] and normalised by the statistics the
// weights file records (`resnetc train` writes them); a gray image feeds
// every channel. A .raw file holds one network input as float32 CxHxW. Without images, a synthetic
// gradient image is used.

#include RESNETC_MODEL_HEADER

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(name) CAT(RESNETC_MODEL, _##name)
#define CONSTANT(name) CAT(RESNETC_MODEL_UPPER, _##name)

namespace {

constexpr int kBatch = CONSTANT(BATCH);
constexpr int kChannels = CONSTANT(INPUT_CHANNELS);
constexpr int kHeight = CONSTANT(INPUT_HEIGHT);
constexpr int kWidth = CONSTANT(INPUT_WIDTH);
constexpr int kClasses = CONSTANT(CLASSES);
constexpr size_t kImageValues = size_t(kChannels) * kHeight * kWidth;

/// "PATH: cannot open (REASON)" for a file that would not open.
std::string cannotOpen(const std::string &path) {
  return path + ": cannot open (" + std::strerror(errno) + ")";
}

bool readNetpbm(const std::string &path, float *image, std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = cannotOpen(path);
    return false;
  }
  std::string magic;
  int width = 0, height = 0, maxValue = 0;
  file >> magic >> width >> height >> maxValue;
  file.get();
  if (!file || (magic != "P5" && magic != "P6") || width <= 0 || height <= 0 ||
      maxValue != 255) {
    error = path + ": not an 8-bit binary PGM (P5) or PPM (P6) file";
    return false;
  }
  int channels = magic == "P6" ? 3 : 1;
  std::vector<unsigned char> pixels(size_t(width) * height * channels);
  if (!file.read(reinterpret_cast<char *>(pixels.data()), std::streamsize(pixels.size()))) {
    error = path + ": the file is shorter than its header says";
    return false;
  }
  for (int c = 0; c < kChannels; ++c)
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x) {
        int sx = x * width / kWidth, sy = y * height / kHeight;
        int sc = channels == 1 ? 0 : std::min(c, channels - 1);
        image[(size_t(c) * kHeight + y) * kWidth + x] =
            pixels[(size_t(sy) * width + sx) * channels + sc] / 255.0f;
      }
  return true;
}

bool readRaw(const std::string &path, float *image, std::string &error) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    error = cannotOpen(path);
    return false;
  }
  if (size_t(file.tellg()) != kImageValues * sizeof(float)) {
    error = path + ": expected " + std::to_string(kImageValues * sizeof(float)) +
            " bytes (float32 " + std::to_string(kChannels) + "x" + std::to_string(kHeight) + "x" +
            std::to_string(kWidth) + ")";
    return false;
  }
  file.seekg(0);
  file.read(reinterpret_cast<char *>(image), std::streamsize(kImageValues * sizeof(float)));
  return true;
}

void syntheticImage(float *image) {
  for (size_t i = 0; i < kImageValues; ++i)
    image[i] = float(i % 97) / 96.0f;
}

/// One integer label a line, for the images in order.
bool readLabels(const std::string &path, std::vector<int> &labels, std::string &error) {
  std::ifstream file(path);
  int label;
  while (file >> label) {
    if (label < 0 || label >= kClasses) {
      error = path + ": label " + std::to_string(label) + " is not a class of the network (0 to " +
              std::to_string(kClasses - 1) + ")";
      return false;
    }
    labels.push_back(label);
  }
  if (!file.eof()) {
    error = path + ": not a list of integer labels";
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  int threads = 0, repeat = 10, top = 5;
  std::string labelsPath;
  std::vector<std::string> files;
  const char *usage = "usage: %s [--threads N] [--repeat R] [--top K] [--labels labels.txt] "
                      "weights.rnw [image.pgm|.ppm|.raw ...]\n";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--threads" || arg == "--repeat" || arg == "--top") && i + 1 < argc)
      (arg == "--threads" ? threads : arg == "--repeat" ? repeat : top) = std::atoi(argv[++i]);
    else if (arg == "--labels" && i + 1 < argc)
      labelsPath = argv[++i];
    else if (arg == "-h" || arg == "--help") {
      std::printf(usage, argv[0]);
      return 0;
    } else
      files.push_back(arg);
  }
  if (files.empty() || repeat < 1 || top < 1) {
    std::fprintf(stderr, usage, argv[0]);
    return 2;
  }
  std::vector<int> labels;
  std::string error;
  if (!labelsPath.empty() && !readLabels(labelsPath, labels, error)) {
    std::fprintf(stderr, "classify: %s\n", error.c_str());
    return 1;
  }
  if (!labelsPath.empty() && labels.size() != files.size() - 1) {
    std::fprintf(stderr, "classify: %s has %zu labels for %zu images\n", labelsPath.c_str(),
                 labels.size(), files.size() - 1);
    return 1;
  }

  auto *ctx = API(create)();
  if (!ctx) {
    std::fprintf(stderr, "classify: out of memory\n");
    return 1;
  }
  if (API(load_weights_file)(ctx, files[0].c_str()) != RESNETC_OK ||
      API(set_threads)(ctx, threads) != RESNETC_OK) {
    std::fprintf(stderr, "classify: %s\n", API(error_message)(ctx));
    API(destroy)(ctx);
    return 1;
  }

  std::vector<std::string> images(files.begin() + 1, files.end());
  if (images.empty())
    images.push_back("(synthetic)");
  std::vector<float> input(size_t(kBatch) * kImageValues), logits(size_t(kBatch) * kClasses);
  std::vector<double> seconds;
  int status = 0, correct = 0;
  bool warned = false;
  for (size_t first = 0; first < images.size() && status == 0; first += kBatch) {
    for (int b = 0; b < kBatch; ++b) {
      const std::string &name = images[std::min(first + b, images.size() - 1)];
      float *image = input.data() + b * kImageValues;
      bool ok = true;
      if (name == "(synthetic)")
        syntheticImage(image);
      else if (name.size() > 4 && name.compare(name.size() - 4, 4, ".raw") == 0)
        ok = readRaw(name, image, error);
      else
        ok = readNetpbm(name, image, error);
      if (!ok) {
        std::fprintf(stderr, "classify: %s\n", error.c_str());
        API(destroy)(ctx);
        return 1;
      }
      // Pixels in [0, 1] become the inputs the network was trained on, by
      // the statistics its weights file records (.raw files are inputs).
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".raw") == 0)
        continue;
      if (API(normalize)(ctx, image, kImageValues) != RESNETC_OK && !warned) {
        std::fprintf(stderr, "classify: %s: feeding pixels in [0, 1] as they are\n",
                     API(error_message)(ctx));
        warned = true;
      }
    }
    for (int r = 0; r < repeat; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (API(run)(ctx, input.data(), input.size(), logits.data(), logits.size()) != RESNETC_OK) {
        std::fprintf(stderr, "classify: %s\n", API(error_message)(ctx));
        status = 1;
        break;
      }
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (status)
      break;
    for (int b = 0; b < kBatch && first + b < images.size(); ++b) {
      const float *row = logits.data() + b * kClasses;
      float largest = *std::max_element(row, row + kClasses);
      double sum = 0;
      for (int k = 0; k < kClasses; ++k)
        sum += std::exp(double(row[k] - largest));
      std::vector<int> order(kClasses);
      std::iota(order.begin(), order.end(), 0);
      int shown = std::min(top, kClasses);
      std::partial_sort(order.begin(), order.begin() + shown, order.end(),
                        [&](int a, int c) { return row[a] > row[c]; });
      std::string expected;
      if (!labels.empty()) {
        int label = labels[first + b];
        correct += order[0] == label;
        const char *labelName = API(class_name)(ctx, label);
        expected = std::string(order[0] == label ? "  right" : "  wrong") + " (label " +
                   std::to_string(label) + (labelName ? std::string(" ") + labelName : "") + ")";
      }
      std::printf("%s:%s\n", images[first + b].c_str(), expected.c_str());
      for (int k = 0; k < shown; ++k) {
        const char *name = API(class_name)(ctx, order[k]);
        std::printf("  class %4d  p=%.4f  logit=%+.4f%s%s\n", order[k],
                    std::exp(double(row[order[k]] - largest)) / sum, row[order[k]],
                    name ? "  " : "", name ? name : "");
      }
    }
  }
  if (status == 0) {
    std::sort(seconds.begin(), seconds.end());
    std::printf("%s, batch %d: median %.3f ms, best %.3f ms per batch over %zu runs (threads: %s)\n",
                STRINGIFY(RESNETC_MODEL), kBatch, 1e3 * seconds[seconds.size() / 2], 1e3 * seconds[0],
                seconds.size(), threads ? std::to_string(threads).c_str() : "all cores");
    if (!labels.empty())
      std::printf("accuracy: %d of %zu images right (%.2f%%)\n", correct, labels.size(),
                  100.0 * correct / double(labels.size()));
  }
  API(destroy)(ctx);
  return status;
}
