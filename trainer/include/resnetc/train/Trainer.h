//===- Trainer.h - The training loop of `resnetc train` and examples -*- C++ -*-===//
//
// Trains a compiled network with its generated train step: data, seeded and
// augmented batches, the learning-rate schedule, evaluation (plain or
// ten-crop), a progress bar, checkpoints that resume exactly, metrics.csv and
// curves.svg. Everything model-specific comes in through ModelApi.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TRAIN_TRAINER_H
#define RESNETC_TRAIN_TRAINER_H

#include "resnetc/data/Datasets.h"
#include "resnetc/runtime/Communicator.h"
#include "resnetc/train/ModelApi.h"

#include <string>

namespace resnetc::train {

struct TrainerOptions {
  std::string data = "fashion-mnist:/usr/share/datasets/fashion-mnist";
  int epochs = 15;
  double learningRate = 0.1;
  std::string schedule = "multistep"; ///< constant | multistep[:f1,f2,..] | cosine
  double warmup = 0;                  ///< Train at this rate until the error is < 80%.
  /// The linear scaling rule: `learningRate` is the rate for a batch of this
  /// many images; the run uses learningRate * batch / lrReferenceBatch (0: as given).
  int64_t lrReferenceBatch = 0;
  /// Gradual warm-up over this many epochs, from learningRate to the scaled rate.
  double warmupEpochs = 0;
  std::string augment; ///< e.g. "pad4,crop,flip"; empty: none
  /// Use only the first N images (-1: all; 0 is refused: it would mean none).
  int64_t trainImages = -1, testImages = -1;
  /// Hold out the last N training images (after trainImages) and test each
  /// epoch on them; the test set is scored once, at the end (0: no split).
  int64_t validationImages = 0;
  uint64_t seed = 1;
  int threads = 0; ///< 0: one per core.
  /// Where checkpoint.rnw, metrics.csv, curves.svg and final.rnw go; empty:
  /// nothing is written but `finalWeights`.
  std::string checkpointDir;
  bool resume = false;
  /// --resume even where the run is finished or its configuration differs
  /// (batch, images, epochs, learning rate, schedule, augmentation).
  bool force = false;
  int64_t checkpointEvery = 0; ///< Also save every N steps (0: after each epoch only).
  int64_t stopAfter = 0;       ///< Save and stop once N steps are done in all (0: never).
  std::string initialWeights;  ///< .rnw to start from.
  std::string finalWeights;    ///< Where to save the trained weights (default: dir/final.rnw).
  bool tenCrop = false;        ///< Test on ten crops (see Evaluation.h).
  double expectAccuracy = -1;  ///< Exit 1 when the test accuracy ends below this.
  bool quiet = false;          ///< No progress bar.
  /// A text file of class names, one a line (default: the data set's own
  /// names where DataSource knows them); saved in the weights files.
  std::string classNames;
  /// Data-parallel training: this process is one rank of `communicator`
  /// (null: it trains alone). The model's batch is this rank's share of the
  /// global batch; every rank starts from rank 0's weights or checkpoint,
  /// and only rank 0 prints progress and writes files.
  const resnetc_communicator *communicator = nullptr;
  /// Tests: every rank also saves its own state as checkpoint.rank<r>.rnw
  /// beside rank 0's checkpoint, so that the ranks can be compared.
  bool everyRankSaves = false;
};

/// A file of the run's folder, `dir/name` (a trailing slash of `dir` kept single).
std::string runFile(const std::string &checkpointDir, const std::string &name);

/// Parses "pad4,crop,flip" (any subset; "none" or empty for none).
bool parseAugmentation(const std::string &text, data::Augmentation &out, std::string &error);

/// Checks what can be checked before a model is built: numbers in range, the
/// augmentation, the schedule, the data set's kind and folder.
bool checkTrainerOptions(const TrainerOptions &options, std::string &error);

/// Checks, before anything is compiled or loaded, that the data set's files
/// are there and fit a network of this input shape and number of classes
/// (and that ten-crop testing has padding where it needs it).
bool checkDataFitsModel(const TrainerOptions &options, int64_t channels, int64_t height,
                        int64_t width, int64_t classes, std::string &error);

/// Runs the training; prints one line per epoch on stdout, errors on stderr
/// prefixed with `tool`. Returns the process exit status (0, or 1 on error).
int runTrainer(const ModelApi &model, const TrainerOptions &options, const char *tool);

} // namespace resnetc::train

#endif // RESNETC_TRAIN_TRAINER_H
