// train: Fashion-MNIST training with a compiled network.
//
//   train --data /usr/share/datasets/fashion-mnist --epochs 15 --lr 0.1
//         [--train-images N] [--test-images N] [--seed S] [--threads T]
//         [--augment] [--schedule constant|multistep[:0.5,0.75]|cosine]
//         [--warmup RATE] [--out weights.rnw]
//         [--checkpoint FILE [--resume]] [--expect-accuracy A]
//
// Inputs are normalised per channel with the training set's statistics;
// batches are shuffled with the seed (and padded, cropped and flipped with
// --augment). The multistep schedule divides the rate by 10 at the given
// fractions of the run (default 50% and 75%); --warmup trains at RATE until
// the training error of recent steps is below 80% (the paper's ResNet-110). With --checkpoint, the
// training state (weights, batch-norm statistics, momentum, epoch) is saved atomically after every
// epoch, and
// --resume continues from it: with the same seed and thread count the result
// is the same as an uninterrupted run. Prints one line per epoch and the test
// accuracy; exits 1 when --expect-accuracy is not reached.

#include RESNETC_MODEL_HEADER
#include "resnetc/runtime/Datasets.h"
#include "resnetc/runtime/Schedules.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(name) CAT(RESNETC_MODEL, _##name)
#define CONSTANT(name) CAT(RESNETC_MODEL_UPPER, _##name)

using namespace resnetc::data;
using resnetc::LearningRateSchedule;

namespace {

constexpr int64_t kBatch = CONSTANT(BATCH);
constexpr int64_t kClasses = CONSTANT(CLASSES);

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 15;
  double lr = 0.1;
  int64_t trainImages = 0, testImages = 0; // 0: all
  uint64_t seed = 1;
  int threads = 0;
  bool augment = false;
  std::string schedule = "multistep";
  double warmup = 0;
  std::string out;
  std::string checkpoint;
  bool resume = false;
  double expectAccuracy = -1;
};

bool parse(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    const char *v = nullptr;
    if (arg == "--augment")
      o.augment = true;
    else if (arg == "--resume")
      o.resume = true;
    else if (arg == "--help" || arg == "-h")
      return false;
    else if (!(v = value()))
      return false;
    else if (arg == "--data")
      o.data = v;
    else if (arg == "--epochs")
      o.epochs = std::atoi(v);
    else if (arg == "--lr")
      o.lr = std::atof(v);
    else if (arg == "--train-images")
      o.trainImages = std::atoll(v);
    else if (arg == "--test-images")
      o.testImages = std::atoll(v);
    else if (arg == "--seed")
      o.seed = std::strtoull(v, nullptr, 10);
    else if (arg == "--threads")
      o.threads = std::atoi(v);
    else if (arg == "--schedule")
      o.schedule = v;
    else if (arg == "--warmup")
      o.warmup = std::atof(v);
    else if (arg == "--out")
      o.out = v;
    else if (arg == "--checkpoint")
      o.checkpoint = v;
    else if (arg == "--expect-accuracy")
      o.expectAccuracy = std::atof(v);
    else
      return false;
  }
  return o.epochs > 0 && o.lr > 0 && (!o.resume || !o.checkpoint.empty());
}

void truncate(Dataset &data, int64_t count) {
  if (count <= 0 || count >= data.size())
    return;
  data.labels.resize(size_t(count));
  data.images.resize(size_t(count * data.imageValues()));
}

/// Accuracy of the network in evaluation mode (running statistics).
double evaluate(API(context) * ctx, const Dataset &test) {
  std::vector<float> logits(size_t(kBatch * kClasses));
  int64_t correct = 0, seen = 0;
  for (int64_t first = 0; first + kBatch <= test.size(); first += kBatch) {
    const float *images = &test.images[size_t(first * test.imageValues())];
    if (API(run)(ctx, images, size_t(kBatch * test.imageValues()), logits.data(), logits.size()) !=
        RESNETC_OK) {
      std::fprintf(stderr, "train: %s\n", API(error_message)(ctx));
      std::exit(1);
    }
    for (int64_t b = 0; b < kBatch; ++b) {
      const float *row = &logits[size_t(b * kClasses)];
      int64_t best = 0;
      for (int64_t k = 1; k < kClasses; ++k)
        if (row[k] > row[best])
          best = k;
      correct += best == test.labels[size_t(first + b)];
      ++seen;
    }
  }
  return seen ? double(correct) / double(seen) : 0.0;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: %s [--data DIR] [--epochs E] [--lr LR] [--train-images N] "
                 "[--test-images N] [--seed S] [--threads T] [--augment] "
                 "[--schedule constant|multistep[:F,...]|cosine] [--warmup RATE] [--out FILE.rnw] "
                 "[--checkpoint FILE [--resume]] "
                 "[--expect-accuracy A]\n",
                 argv[0]);
    return 2;
  }
  Dataset train, test;
  std::string error;
  if (!loadFashionMnist(o.data, true, train, error) ||
      !loadFashionMnist(o.data, false, test, error)) {
    std::fprintf(stderr, "train: %s\n", error.c_str());
    return 1;
  }
  truncate(train, o.trainImages);
  truncate(test, o.testImages);
  if (train.imageValues() != CONSTANT(INPUT_SIZE) / kBatch) {
    std::fprintf(stderr, "train: the data's images do not fit the network's input\n");
    return 1;
  }
  Normalization normalization = channelStatistics(train);
  normalize(train, normalization);
  normalize(test, normalization);

  auto *ctx = API(create)();
  if (!ctx || API(set_threads)(ctx, o.threads) != RESNETC_OK) {
    std::fprintf(stderr, "train: cannot create a context\n");
    return 1;
  }
  // He-initialised weights, as `resnetc compile` wrote them next to the
  // library, or the state of a checkpoint.
  int firstEpoch = 0;
  if (o.resume) {
    double epoch = 0;
    if (API(load_checkpoint)(ctx, o.checkpoint.c_str()) != RESNETC_OK ||
        API(checkpoint_value)(ctx, "epoch", &epoch) != RESNETC_OK) {
      std::fprintf(stderr, "train: %s\n", API(error_message)(ctx));
      return 1;
    }
    firstEpoch = int(epoch);
    std::printf("resuming after epoch %d\n", firstEpoch);
  } else if (API(load_weights_file)(ctx, RESNETC_INITIAL_WEIGHTS) != RESNETC_OK) {
    std::fprintf(stderr, "train: %s\n", API(error_message)(ctx));
    return 1;
  }

  LearningRateSchedule schedule;
  if (!LearningRateSchedule::parse(o.schedule, o.lr, schedule, error)) {
    std::fprintf(stderr, "train: %s\n", error.c_str());
    return 1;
  }
  if (o.warmup > 0 && firstEpoch == 0)
    schedule.setWarmup(o.warmup, 0.8);

  Augmentation augmentation;
  if (o.augment)
    augmentation = Augmentation{4, true, true};
  Batches batches(train, kBatch, o.seed, augmentation);
  batches.seek(uint64_t(firstEpoch), 0); // each epoch's order depends on the seed and its index
  std::vector<float> images(size_t(kBatch * train.imageValues()));
  std::vector<int32_t> labels(static_cast<size_t>(kBatch));
  std::printf("training on %lld images (batch %lld, %lld steps an epoch), testing on %lld\n",
              static_cast<long long>(train.size()), static_cast<long long>(kBatch),
              static_cast<long long>(batches.batchesPerEpoch()),
              static_cast<long long>(test.size()));
  double accuracy = 0;
  for (int epoch = firstEpoch; epoch < o.epochs; ++epoch) {
    double lr = 0;
    double lossSum = 0;
    int64_t correct = 0, steps = 0;
    auto start = std::chrono::steady_clock::now();
    int64_t recentCorrect = 0, recentSteps = 0;
    while (batches.next(images.data(), labels.data())) {
      double progress =
          (epoch + double(steps) / double(batches.batchesPerEpoch())) / double(o.epochs);
      lr = schedule.rate(progress);
      float loss = 0;
      int32_t right = 0;
      if (API(train_step)(ctx, images.data(), images.size(), labels.data(), labels.size(),
                          float(lr), &loss, &right) != RESNETC_OK) {
        std::fprintf(stderr, "train: %s\n", API(error_message)(ctx));
        return 1;
      }
      if (!std::isfinite(loss)) {
        std::fprintf(stderr, "train: the loss is not finite at epoch %d, step %lld: stopping\n",
                     epoch + 1, static_cast<long long>(steps));
        return 1;
      }
      lossSum += loss;
      correct += right;
      ++steps;
      recentCorrect += right;
      if (++recentSteps == 50) { // warm-up ends on the error of the last 50 steps
        schedule.observeTrainingError(1.0 - double(recentCorrect) / double(50 * kBatch));
        recentCorrect = recentSteps = 0;
      }
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    accuracy = evaluate(ctx, test);
    std::printf("epoch %2d  lr %.4f  loss %.4f  train accuracy %.2f%%  test accuracy %.2f%%  "
                "%.1f s  %.0f images/s  %.1f ms/step\n",
                epoch + 1, lr, lossSum / double(steps),
                100.0 * double(correct) / double(steps * kBatch), 100.0 * accuracy, seconds,
                double(steps * kBatch) / seconds, 1e3 * seconds / double(steps));
    std::fflush(stdout);
    if (!o.checkpoint.empty()) {
      const char *keys[] = {"epoch", "seed"};
      double values[] = {double(epoch + 1), double(o.seed)};
      if (API(save_checkpoint)(ctx, o.checkpoint.c_str(), keys, values, 2) != RESNETC_OK) {
        std::fprintf(stderr, "train: %s\n", API(error_message)(ctx));
        return 1;
      }
    }
  }
  if (!o.out.empty() && API(save_weights)(ctx, o.out.c_str()) != RESNETC_OK) {
    std::fprintf(stderr, "train: %s\n", API(error_message)(ctx));
    return 1;
  }
  API(destroy)(ctx);
  std::printf("test accuracy %.2f%%\n", 100.0 * accuracy);
  if (o.expectAccuracy >= 0 && accuracy < o.expectAccuracy) {
    std::fprintf(stderr, "train: test accuracy %.2f%% is below the expected %.2f%%\n",
                 100.0 * accuracy, 100.0 * o.expectAccuracy);
    return 1;
  }
  return 0;
}
