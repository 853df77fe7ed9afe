//===- Trainer.cpp - The training loop of `resnetc train` and examples ----===//

#include "resnetc/train/Trainer.h"
#include "resnetc/runtime/ModelRuntime.h"
#include "resnetc/data/LearningRateSchedules.h"
#include "resnetc/train/DataSource.h"
#include "resnetc/train/Evaluation.h"
#include "resnetc/train/MetricsLog.h"
#include "resnetc/train/ProgressBar.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <sys/resource.h>

using namespace resnetc;
using namespace resnetc::train;

bool resnetc::train::parseAugmentation(const std::string &text, data::Augmentation &out,
                                       std::string &error) {
  out = data::Augmentation{};
  if (text.empty() || text == "none")
    return true;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    if (item == "crop")
      out.crop = true;
    else if (item == "flip")
      out.flip = true;
    else if (item.rfind("pad", 0) == 0 && item.size() > 3 &&
             item.find_first_not_of("0123456789", 3) == std::string::npos && item.size() < 6)
      out.pad = std::stoll(item.substr(3));
    else {
      error = "unknown augmentation '" + item + "': use pad<N>, crop and flip, e.g. pad4,crop,flip";
      return false;
    }
  }
  if (out.crop && out.pad == 0) {
    error = "a random crop needs padding first, e.g. pad4,crop";
    return false;
  }
  return true;
}

bool resnetc::train::checkTrainerOptions(const TrainerOptions &o, std::string &error) {
  if (o.epochs <= 0 || !(o.learningRate > 0) || o.warmup < 0) {
    error = "--epochs and --lr must be positive";
    return false;
  }
  if (o.checkpointEvery < 0 || o.stopAfter < 0 || o.trainImages < 0 || o.testImages < 0 ||
      o.threads < 0) {
    error = "step and image counts and --threads cannot be negative";
    return false;
  }
  if (o.resume && o.checkpointDir.empty()) {
    error = "--resume needs the checkpoint folder of the run to continue";
    return false;
  }
  if (o.resume && !std::filesystem::exists(o.checkpointDir + "/checkpoint.rnw")) {
    error = "there is no " + o.checkpointDir + "/checkpoint.rnw to resume";
    return false;
  }
  data::Augmentation augmentation;
  LearningRateSchedule schedule;
  std::vector<std::string> names;
  if (!o.classNames.empty() && !readClassNames(o.classNames, names, error))
    return false;
  if (!parseAugmentation(o.augment, augmentation, error) ||
      !LearningRateSchedule::parse(o.schedule, o.learningRate, schedule, error))
    return false;
  return checkDataSource(o.data, error);
}

namespace {


/// What a checkpoint holds besides the network's state: enough to continue
/// in the middle of an epoch exactly where the run stopped.
struct Progress {
  double epoch = 0;                             ///< Completed epochs.
  double stepInEpoch = 0;                       ///< Steps done in the current epoch.
  double step = 0;                              ///< Steps done in all.
  double lossSum = 0, correct = 0, seconds = 0; ///< Of the current epoch so far.
  double recentCorrect = 0, recentSteps = 0;    ///< Warm-up's window.
  double warmedUp = 0;
  double seed = 0;

  static constexpr const char *keys[] = {
      "epoch",         "step_in_epoch",  "step",         "epoch_loss_sum", "epoch_correct",
      "epoch_seconds", "recent_correct", "recent_steps", "warmed_up",      "seed"};
  double *fields() { return &epoch; }
  static constexpr int count = 10;
};
static_assert(sizeof(Progress) == Progress::count * sizeof(double), "fields() is an array");

void keepFirst(data::Dataset &data, int64_t count) {
  if (count <= 0 || count >= data.size())
    return;
  data.labels.resize(size_t(count));
  data.images.resize(size_t(count * data.imageValues()));
}

std::string shape(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

class Run {
public:
  Run(const ModelApi &model, const TrainerOptions &options, const char *tool)
      : model(model), o(options), tool(tool), bar(stderr) {}
  int main();

private:
  bool fail(const std::string &message) {
    bar.clear();
    std::fprintf(stderr, "%s: %s\n", tool, message.c_str());
    return false;
  }
  bool libraryFailed() { return fail(model.errorMessage(ctx.get())); }
  bool prepare();
  bool recordDeployment();
  bool start();
  bool trainEpoch();
  bool saveCheckpoint();
  bool finish();
  std::string inDir(const char *name) const { return o.checkpointDir + "/" + name; }

  const ModelApi &model;
  const TrainerOptions &o;
  const char *tool;
  ProgressBar bar;
  TrainingData data;
  data::Normalization normalization;
  std::vector<std::string> classNames;
  data::Augmentation augmentation;
  LearningRateSchedule schedule;
  std::unique_ptr<void, void (*)(void *)> ctx{nullptr, nullptr};
  std::unique_ptr<data::Batches> batches;
  Progress p;
  bool stopped = false; ///< By --stop-after.
  std::vector<EpochMetrics> history;
  double accuracy = 0;
};

bool Run::prepare() {
  std::string error;
  if (!checkTrainerOptions(o, error))
    return fail(error);
  if (!model.trainStep)
    return fail("the library of '" + model.name + "' has no train step: compile it with --train");
  if (!parseAugmentation(o.augment, augmentation, error) ||
      !LearningRateSchedule::parse(o.schedule, o.learningRate, schedule, error) ||
      !loadDataSource(o.data, model.channels, model.height, model.width, model.classes, data,
                      error))
    return fail(error);
  keepFirst(data.train, o.trainImages);
  keepFirst(data.test, o.testImages);
  const data::Dataset &train = data.train;
  if (train.channels != model.channels || train.height != model.height ||
      train.width != model.width)
    return fail("the training images are " + shape(train.channels, train.height, train.width) +
                ", the network's input is " + shape(model.channels, model.height, model.width) +
                " (compile it with --input to match)");
  if (train.classes > model.classes)
    return fail("the data has " + std::to_string(train.classes) + " classes, the network " +
                std::to_string(model.classes));
  if (train.size() < model.batch)
    return fail("there are " + std::to_string(train.size()) +
                " training images, fewer than a batch of " + std::to_string(model.batch));
  normalization = data::channelStatistics(train);
  data::normalize(data.train, normalization);
  data::normalize(data.test, normalization);
  if (!o.classNames.empty()) {
    if (!readClassNames(o.classNames, classNames, error))
      return fail(error);
    if (int64_t(classNames.size()) != model.classes)
      return fail(o.classNames + " names " + std::to_string(classNames.size()) +
                  " classes, the network has " + std::to_string(model.classes));
  } else {
    classNames = defaultClassNames(o.data);
    if (int64_t(classNames.size()) != model.classes)
      classNames.clear(); // a network with more outputs than the data set's classes
  }
  return true;
}

bool Run::recordDeployment() {
  // What an application needs to feed the trained network goes into every
  // file the run saves (the library keeps it in the context).
  if (model.setInputNormalization &&
      model.setInputNormalization(ctx.get(), normalization.mean.data(),
                                  normalization.stddev.data(), normalization.mean.size()) != 0)
    return libraryFailed();
  std::vector<const char *> names;
  for (const std::string &name : classNames)
    names.push_back(name.c_str());
  if (model.setClassNames && !names.empty() &&
      model.setClassNames(ctx.get(), names.data(), names.size()) != 0)
    return libraryFailed();
  return true;
}

bool Run::start() {
  ctx = {model.create(), model.destroy};
  if (!ctx)
    return fail("out of memory creating a context");
  if (model.setThreads(ctx.get(), o.threads) != 0)
    return libraryFailed();
  std::string error;
  if (!o.checkpointDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.checkpointDir, ec);
    if (ec)
      return fail("cannot create '" + o.checkpointDir + "': " + ec.message());
    // Temporary files of a run killed while saving: never complete, never read.
    for (const auto &entry : std::filesystem::directory_iterator(o.checkpointDir, ec))
      if (entry.path().filename().string().find(".tmp.") != std::string::npos)
        std::filesystem::remove(entry.path(), ec);
    if (!o.resume && std::filesystem::exists(inDir("checkpoint.rnw")))
      return fail(o.checkpointDir + " already holds a run's checkpoint: continue it with "
                                    "--resume, or choose another folder");
  }
  if (o.resume) {
    if (model.loadCheckpoint(ctx.get(), inDir("checkpoint.rnw").c_str()) != 0)
      return libraryFailed();
    for (int i = 0; i < Progress::count; ++i)
      if (model.checkpointValue(ctx.get(), Progress::keys[i], p.fields() + i) != 0)
        return fail(inDir("checkpoint.rnw") + " was not written by this trainer (no '" +
                    Progress::keys[i] + "')");
    if (uint64_t(p.seed) != o.seed)
      return fail("the run was started with --seed " + std::to_string(uint64_t(p.seed)) +
                  "; resume it with the same seed to continue it exactly");
    if (!readMetricsCsv(inDir("metrics.csv"), history, error))
      return fail(error);
    while (!history.empty() && history.back().epoch > int(p.epoch))
      history.pop_back(); // rows written after the checkpoint
    std::printf("resuming after epoch %d, step %lld\n", int(p.epoch),
                static_cast<long long>(p.stepInEpoch));
  } else if (o.initialWeights.empty()) {
    return fail("no initial weights to start from");
  } else if (model.loadWeightsFile(ctx.get(), o.initialWeights.c_str()) != 0) {
    return libraryFailed();
  }
  if (!recordDeployment())
    return false;
  p.seed = double(o.seed);
  if (o.warmup > 0)
    schedule.setWarmup(o.warmup, 0.8);
  if (p.warmedUp != 0)
    schedule.observeTrainingError(0);
  batches = std::make_unique<data::Batches>(data.train, model.batch, o.seed, augmentation);
  batches->seek(uint64_t(p.epoch), int64_t(p.stepInEpoch) * model.batch);
  std::printf("training %s on %lld images (batch %lld, %lld steps an epoch), testing on %lld\n",
              model.name.c_str(), static_cast<long long>(data.train.size()),
              static_cast<long long>(model.batch),
              static_cast<long long>(batches->batchesPerEpoch()),
              static_cast<long long>(data.test.size()));
  std::fflush(stdout);
  return true;
}

bool Run::saveCheckpoint() {
  if (o.checkpointDir.empty())
    return true;
  if (model.saveCheckpoint(ctx.get(), inDir("checkpoint.rnw").c_str(), Progress::keys, p.fields(),
                           Progress::count) != 0)
    return libraryFailed();
  return true;
}

bool Run::trainEpoch() {
  const int64_t batch = model.batch, steps = batches->batchesPerEpoch();
  std::vector<float> images(size_t(batch * model.imageValues()));
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  double lr = schedule.rate(p.epoch / o.epochs);
  auto resumedAt = std::chrono::steady_clock::now();
  double secondsBefore = p.seconds;
  while (batches->next(images.data(), labels.data())) {
    lr = schedule.rate((p.epoch + p.stepInEpoch / double(steps)) / double(o.epochs));
    float loss = 0;
    int32_t right = 0;
    int32_t status = model.trainStep(ctx.get(), images.data(), images.size(), labels.data(),
                                     labels.size(), float(lr), &loss, &right);
    if (status == RESNETC_ERROR_NUMERIC || (status == 0 && !std::isfinite(loss)))
      return fail(
          "the loss is not finite at epoch " + std::to_string(int(p.epoch) + 1) + ", step " +
          std::to_string(int64_t(p.stepInEpoch) + 1) + " (learning rate " + std::to_string(lr) +
          "): " + (status ? std::string(model.errorMessage(ctx.get())) : "") + "; stopping, " +
          (o.checkpointDir.empty() ? std::string("no checkpoint was asked for")
                                   : "the last good checkpoint is " + inDir("checkpoint.rnw")));
    if (status != 0)
      return libraryFailed();
    p.lossSum += loss;
    p.correct += right;
    p.recentCorrect += right;
    ++p.stepInEpoch;
    ++p.step;
    if (++p.recentSteps == 50) { // warm-up ends on the error of the last 50 steps
      schedule.observeTrainingError(1.0 - p.recentCorrect / double(50 * batch));
      p.warmedUp = schedule.warmingUp() ? 0 : 1;
      p.recentCorrect = p.recentSteps = 0;
    }
    p.seconds = secondsBefore +
                std::chrono::duration<double>(std::chrono::steady_clock::now() - resumedAt).count();
    double rate = p.stepInEpoch * double(batch) / std::max(p.seconds, 1e-9);
    if (!o.quiet)
      bar.update(int(p.epoch) + 1, o.epochs, int64_t(p.stepInEpoch), steps,
                 p.lossSum / p.stepInEpoch, p.correct / (p.stepInEpoch * double(batch)), rate,
                 (double(steps - int64_t(p.stepInEpoch)) +
                  double(steps) * double(o.epochs - int(p.epoch) - 1)) *
                     double(batch) / rate);
    if (int64_t(p.stepInEpoch) == steps)
      continue; // the epoch's end saves the checkpoint
    if (o.stopAfter > 0 && int64_t(p.step) >= o.stopAfter) {
      stopped = true;
      bar.clear();
      return saveCheckpoint();
    }
    if (o.checkpointEvery > 0 && int64_t(p.step) % o.checkpointEvery == 0 && !saveCheckpoint())
      return false;
  }
  bar.clear();
  std::string error;
  if (!evaluate(model, ctx.get(), data.test, o.tenCrop, augmentation.pad, accuracy, error))
    return fail(error);
  EpochMetrics m;
  m.epoch = int(p.epoch) + 1;
  m.steps = int64_t(p.stepInEpoch);
  m.learningRate = lr;
  m.trainLoss = p.lossSum / p.stepInEpoch;
  m.trainAccuracy = p.correct / (p.stepInEpoch * double(batch));
  m.testAccuracy = accuracy;
  m.seconds = p.seconds;
  m.imagesPerSecond = p.stepInEpoch * double(batch) / p.seconds;
  history.push_back(m);
  std::printf("epoch %2d  lr %.4f  loss %.4f  train accuracy %.2f%%  test accuracy %.2f%%  "
              "%.1f s  %.0f images/s  %.1f ms/step\n",
              m.epoch, lr, m.trainLoss, 100 * m.trainAccuracy, 100 * accuracy, m.seconds,
              m.imagesPerSecond, 1e3 * m.seconds / double(m.steps));
  std::fflush(stdout);
  p.epoch += 1;
  p.stepInEpoch = p.lossSum = p.correct = p.seconds = 0;
  // The metrics first: a run stopped between the two writes resumes from the
  // older checkpoint and drops the newer row, so the files always agree.
  if (!o.checkpointDir.empty() &&
      (!writeMetricsCsv(inDir("metrics.csv"), history, error) ||
       !writeCurvesSvg(inDir("curves.svg"), history, model.name, error)))
    return fail(error);
  if (!saveCheckpoint())
    return false;
  stopped = o.stopAfter > 0 && int64_t(p.step) >= o.stopAfter;
  return true;
}

bool Run::finish() {
  std::string out = o.finalWeights;
  if (out.empty() && !o.checkpointDir.empty())
    out = inDir("final.rnw");
  if (!out.empty() && model.saveWeights(ctx.get(), out.c_str()) != 0)
    return libraryFailed();
  std::printf("test accuracy %.2f%%\n", 100.0 * accuracy);
  struct rusage usage;
  if (::getrusage(RUSAGE_SELF, &usage) == 0)
    std::printf("peak memory %ld MiB\n", usage.ru_maxrss / 1024);
  if (!o.checkpointDir.empty())
    std::printf("wrote %s, %s, %s and %s\n", inDir("checkpoint.rnw").c_str(), out.c_str(),
                inDir("metrics.csv").c_str(), inDir("curves.svg").c_str());
  if (o.expectAccuracy >= 0 && accuracy < o.expectAccuracy)
    return fail("the test accuracy " + std::to_string(100 * accuracy) + "% is below the expected " +
                std::to_string(100 * o.expectAccuracy) + "%");
  return true;
}

int Run::main() {
  // A file-size limit (ulimit -f) must fail a write with EFBIG, reported like
  // a full disk, instead of killing the run with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  if (!prepare() || !start())
    return 1;
  if (int(p.epoch) >= o.epochs) {
    std::string error;
    if (!evaluate(model, ctx.get(), data.test, o.tenCrop, augmentation.pad, accuracy, error))
      return fail(error), 1;
  }
  while (int(p.epoch) < o.epochs && !stopped)
    if (!trainEpoch())
      return 1;
  if (stopped && int(p.epoch) < o.epochs) {
    std::printf("stopped after step %lld as asked%s\n", static_cast<long long>(p.step),
                o.checkpointDir.empty() ? "" : ": continue the run with --resume");
    return 0;
  }
  return finish() ? 0 : 1;
}

} // namespace

int resnetc::train::runTrainer(const ModelApi &model, const TrainerOptions &options,
                               const char *tool) {
  return Run(model, options, tool).main();
}
