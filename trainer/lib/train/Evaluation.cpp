//===- Evaluation.cpp - Test accuracy of a compiled network ---------------===//

#include "resnetc/train/Evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace resnetc;
using namespace resnetc::train;

namespace {

/// `image` (C x H x W) with `pad` zeros on every side.
void padImage(const float *image, int64_t channels, int64_t height, int64_t width, int64_t pad,
              float *out) {
  int64_t paddedWidth = width + 2 * pad, paddedHeight = height + 2 * pad;
  std::fill(out, out + channels * paddedHeight * paddedWidth, 0.0f);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < height; ++y)
      std::memcpy(out + (c * paddedHeight + y + pad) * paddedWidth + pad,
                  image + (c * height + y) * width, size_t(width) * sizeof(float));
}

void addSoftmax(const float *logits, int64_t classes, double *scores) {
  float largest = *std::max_element(logits, logits + classes);
  double sum = 0;
  for (int64_t k = 0; k < classes; ++k)
    sum += std::exp(double(logits[k] - largest));
  for (int64_t k = 0; k < classes; ++k)
    scores[k] += std::exp(double(logits[k] - largest)) / sum;
}

/// The probabilities of `test`'s images, a group at a time: `consume(first,
/// count, rows)` gets the rows of images first .. first + count - 1.
template <typename Consume>
bool scoreGroups(const ModelApi &model, void *ctx, const data::Dataset &test, bool tenCrop,
                 int64_t pad, std::string &error, Consume consume) {
  const int64_t batch = model.batch, classes = model.classes, values = model.imageValues();
  const bool sameSize = test.height == model.height && test.width == model.width;
  if (test.channels != model.channels || (!tenCrop && !sameSize)) {
    error = "the test images (" + std::to_string(test.channels) + "x" +
            std::to_string(test.height) + "x" + std::to_string(test.width) +
            ") do not fit the network's input";
    return false;
  }
  if (tenCrop &&
      (test.height < model.height || test.width < model.width || test.height != test.width ||
       model.height != model.width || (sameSize && pad <= 0))) {
    error = "ten-crop testing needs square images larger than the network's square input, or "
            "padding (--augment pad4)";
    return false;
  }
  const int64_t views = tenCrop ? 10 : 1;
  const int64_t sourceSize = sameSize && tenCrop ? test.height + 2 * pad : test.height;
  const int64_t group = std::max<int64_t>(1, batch / views); // images scored together
  std::vector<float> padded(size_t(test.channels * sourceSize * sourceSize));
  std::vector<float> groupViews, input(size_t(batch * values)), logits(size_t(batch * classes));
  std::vector<double> scores;
  for (int64_t first = 0; first < test.size(); first += group) {
    int64_t count = std::min(group, test.size() - first);
    groupViews.assign(size_t(count * views * values), 0.0f);
    for (int64_t i = 0; i < count; ++i) {
      const float *image = &test.images[size_t((first + i) * test.imageValues())];
      float *target = &groupViews[size_t(i * views * values)];
      if (!tenCrop) {
        std::memcpy(target, image, size_t(values) * sizeof(float));
        continue;
      }
      if (sameSize) {
        padImage(image, test.channels, test.height, test.width, pad, padded.data());
        image = padded.data();
      }
      data::tenCrops(image, test.channels, sourceSize, sourceSize, model.height, target);
    }
    scores.assign(size_t(count * classes), 0.0);
    for (int64_t view = 0; view < count * views; view += batch) {
      int64_t filled = std::min(batch, count * views - view);
      std::fill(input.begin(), input.end(), 0.0f); // a last partial batch is padded
      std::memcpy(input.data(), &groupViews[size_t(view * values)],
                  size_t(filled * values) * sizeof(float));
      if (model.run(ctx, input.data(), input.size(), logits.data(), logits.size()) != 0) {
        error = model.errorMessage(ctx);
        return false;
      }
      for (int64_t b = 0; b < filled; ++b)
        addSoftmax(&logits[size_t(b * classes)], classes,
                   &scores[size_t((view + b) / views * classes)]);
    }
    // Sums of `views` softmaxes: their mean is the probability.
    for (double &score : scores)
      score /= double(views);
    consume(first, count, scores.data());
  }
  return true;
}

/// Adds `count` rows of probabilities, against their labels, to the number
/// right and the sum of the cross-entropy.
void addRows(const double *rows, const int32_t *labels, int64_t count, int64_t classes,
             int64_t &correct, double &lossSum) {
  for (int64_t i = 0; i < count; ++i) {
    const double *row = rows + i * classes;
    correct += std::max_element(row, row + classes) - row == labels[i];
    lossSum -= std::log(std::max(row[labels[i]], 1e-300));
  }
}

} // namespace

bool resnetc::train::scoreImages(const ModelApi &model, void *ctx, const data::Dataset &test,
                                 bool tenCrop, int64_t pad, std::vector<double> &probabilities,
                                 std::string &error) {
  const int64_t classes = model.classes;
  probabilities.assign(size_t(test.size() * classes), 0.0);
  return scoreGroups(
      model, ctx, test, tenCrop, pad, error, [&](int64_t first, int64_t count, const double *rows) {
        std::copy(rows, rows + count * classes, probabilities.begin() + first * classes);
      });
}

void resnetc::train::scoreAccuracy(const std::vector<double> &probabilities,
                                   const std::vector<int32_t> &labels, int64_t classes,
                                   double &accuracy, double *loss) {
  int64_t correct = 0;
  double lossSum = 0;
  const int64_t size = int64_t(labels.size());
  addRows(probabilities.data(), labels.data(), size, classes, correct, lossSum);
  accuracy = size ? double(correct) / double(size) : 0.0;
  if (loss)
    *loss = size ? lossSum / double(size) : 0.0;
}

bool resnetc::train::evaluate(const ModelApi &model, void *ctx, const data::Dataset &test,
                              bool tenCrop, int64_t pad, double &accuracy, std::string &error,
                              double *loss) {
  // A group at a time: the trainer tests every epoch, on up to all the images.
  int64_t correct = 0;
  double lossSum = 0;
  if (!scoreGroups(model, ctx, test, tenCrop, pad, error,
                   [&](int64_t first, int64_t count, const double *rows) {
                     addRows(rows, &test.labels[size_t(first)], count, model.classes, correct,
                             lossSum);
                   }))
    return false;
  const double size = double(test.size());
  accuracy = size > 0 ? double(correct) / size : 0.0;
  if (loss)
    *loss = size > 0 ? lossSum / size : 0.0;
  return true;
}
