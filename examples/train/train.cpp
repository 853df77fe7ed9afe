// train: trains a network compiled into this program with `resnetc_add_model(
// ... TRAIN)`, using resnetc's trainer (the same loop as `resnetc train`).
//
//   train [--data KIND:PATH] [--epochs E] [--lr LR] [--schedule S] [--warmup R]
//         [--augment pad4,crop,flip] [--train-images N] [--test-images N]
//         [--seed S] [--threads T] [--checkpoint-dir DIR [--resume]]
//         [--checkpoint-every STEPS] [--stop-after STEPS] [--ten-crop]
//         [--out FILE.rnw]
//         [--expect-accuracy A] [--quiet]
//
// The model's functions reach the trainer through a ModelApi table; a program
// with its own loop calls <model>_train_step (see docs/generated-library.md).

#include RESNETC_MODEL_HEADER
#include "resnetc/train/Trainer.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

namespace {

bool parse(int argc, char **argv, resnetc::train::TrainerOptions &o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--resume") {
      o.resume = true;
      continue;
    }
    if (arg == "--force") {
      o.force = true;
      continue;
    }
    if (arg == "--ten-crop") {
      o.tenCrop = true;
      continue;
    }
    if (arg == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (i + 1 >= argc)
      return false;
    const char *v = argv[++i];
    if (arg == "--data")
      o.data = v;
    else if (arg == "--epochs")
      o.epochs = std::atoi(v);
    else if (arg == "--lr")
      o.learningRate = std::atof(v);
    else if (arg == "--schedule")
      o.schedule = v;
    else if (arg == "--warmup")
      o.warmup = std::atof(v);
    else if (arg == "--augment")
      o.augment = v;
    else if (arg == "--train-images")
      o.trainImages = std::atoll(v);
    else if (arg == "--test-images")
      o.testImages = std::atoll(v);
    else if (arg == "--seed")
      o.seed = std::strtoull(v, nullptr, 10);
    else if (arg == "--threads")
      o.threads = std::atoi(v);
    else if (arg == "--checkpoint-dir")
      o.checkpointDir = v;
    else if (arg == "--checkpoint-every")
      o.checkpointEvery = std::atoll(v);
    else if (arg == "--stop-after")
      o.stopAfter = std::atoll(v);
    else if (arg == "--out")
      o.finalWeights = v;
    else if (arg == "--expect-accuracy")
      o.expectAccuracy = std::atof(v);
    else
      return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  resnetc::train::TrainerOptions options;
  options.initialWeights = RESNETC_INITIAL_WEIGHTS; // written by resnetc compile
  if (!parse(argc, argv, options)) {
    std::fprintf(
        stderr,
        "usage: %s [--data KIND:PATH] [--epochs E] [--lr LR] [--schedule S] "
        "[--warmup R] [--augment pad4,crop,flip] [--train-images N] "
        "[--test-images N] [--seed S] [--threads T] [--checkpoint-dir DIR "
        "[--resume [--force]]] [--checkpoint-every STEPS] [--stop-after STEPS] [--ten-crop] "
        "[--out FILE.rnw] "
        "[--expect-accuracy A] [--quiet]\n",
        argv[0]);
    return 2;
  }
  resnetc::train::ModelApi model;
  RESNETC_FILL_MODEL_API(model, RESNETC_MODEL, RESNETC_MODEL_UPPER);
  return resnetc::train::runTrainer(model, options, "train");
}
