//===- Trainer.cpp - The training loop of `resnetc train` and examples ----===//

#include "resnetc/train/Trainer.h"
#include "resnetc/data/LearningRateSchedules.h"
#include "resnetc/runtime/AtomicFile.h"
#include "resnetc/runtime/ModelRuntime.h"
#include "resnetc/train/DataSource.h"
#include "resnetc/train/Evaluation.h"
#include "resnetc/train/MetricsLog.h"
#include "resnetc/train/ProgressBar.h"
#include "resnetc/train/Ranks.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

using namespace resnetc;
using namespace resnetc::train;

std::string resnetc::train::runFile(const std::string &checkpointDir, const std::string &name) {
  bool slash = !checkpointDir.empty() && checkpointDir.back() == '/';
  return checkpointDir + (slash ? "" : "/") + name;
}

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
  auto number = [](double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  };
  if (o.epochs <= 0) {
    error = "--epochs must be positive, got " + number(o.epochs);
    return false;
  }
  if (!(o.learningRate > 0)) {
    error = "--lr must be positive, got " + number(o.learningRate);
    return false;
  }
  if (o.warmup < 0) {
    error = "--warmup cannot be negative, got " + number(o.warmup);
    return false;
  }
  if (o.lrReferenceBatch < 0 || !(o.warmupEpochs >= 0) || o.warmupEpochs >= o.epochs) {
    error = "--lr-reference-batch cannot be negative, and --warmup-epochs must be at least 0 "
            "and fewer than --epochs";
    return false;
  }
  if (o.checkpointEvery < 0 || o.stopAfter < 0 || o.trainImages < -1 || o.testImages < -1 ||
      o.validationImages < 0 || o.threads < 0) {
    error = "step and image counts and --threads cannot be negative";
    return false;
  }
  for (auto [count, option] :
       {std::pair{o.trainImages, "--train-images"}, std::pair{o.testImages, "--test-images"}})
    if (count == 0) {
      error = std::string(option) + " 0 would use no image: give a positive count, or leave " +
              option + " out to use them all";
      return false;
    }
  if (o.resume && o.checkpointDir.empty()) {
    error = "--resume needs the checkpoint folder of the run to continue";
    return false;
  }
  if (o.resume && !std::filesystem::exists(runFile(o.checkpointDir, "checkpoint.rnw"))) {
    error = "there is no " + runFile(o.checkpointDir, "checkpoint.rnw") + " to resume";
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

bool resnetc::train::checkDataFitsModel(const TrainerOptions &o, int64_t channels, int64_t height,
                                        int64_t width, int64_t classes, std::string &error) {
  DataShape data;
  data::Augmentation augmentation;
  if (!describeDataSource(o.data, data, error) ||
      !parseAugmentation(o.augment, augmentation, error))
    return false;
  auto shape = [](int64_t c, int64_t h, int64_t w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  };
  if (data.channels == 0) // raw tensors: read as the network's shape
    return true;
  if (data.channels != channels || data.height != height || data.width != width) {
    error = "the training images are " + shape(data.channels, data.height, data.width) +
            ", the network's input is " + shape(channels, height, width) +
            " (compile it with --input to match)";
    return false;
  }
  if (data.classes > classes) {
    error = "the data has " + std::to_string(data.classes) + " classes, the network " +
            std::to_string(classes);
    return false;
  }
  if (o.tenCrop && augmentation.pad <= 0) {
    error = "ten-crop testing needs square images larger than the network's square input, or "
            "padding (--augment pad4)";
    return false;
  }
  return true;
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

/// SIGINT or SIGTERM asks the run to stop after the current step, with a
/// checkpoint; a second one ends the process at once.
volatile std::sig_atomic_t stopSignal = 0;

extern "C" void onStopSignal(int signal) {
  if (stopSignal)
    ::_exit(128 + signal); // the second: at once (async-signal-safe)
  stopSignal = signal;
  static const char message[] =
      "\nstopping after this step, with a checkpoint (again to quit at once)\n";
  ssize_t written = ::write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)written;
}

/// Installs onStopSignal for SIGINT and SIGTERM while a run trains, and puts
/// the previous handlers back afterwards.
class StopSignals {
public:
  StopSignals() {
    stopSignal = 0;
    struct sigaction action = {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 2; ++i)
      ::sigaction(kSignals[i], &action, &previous[i]);
  }
  ~StopSignals() {
    for (int i = 0; i < 2; ++i)
      ::sigaction(kSignals[i], &previous[i], nullptr);
  }

private:
  static constexpr int kSignals[2] = {SIGINT, SIGTERM};
  struct sigaction previous[2];
};

/// A number of the run's configuration, as its checkpoints record it
/// (`config.<key>`), and how to say it as an option.
struct Setting {
  std::string key;
  double value;
  std::string option; ///< "--epochs 15"
  /// The value of a checkpoint written before the key was recorded (NaN: none).
  double absent = NAN;
};

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

void keepFirst(data::Dataset &data, int64_t count) {
  if (count < 0 || count >= data.size()) // -1: all
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
      : model(model), o(options), tool(tool), bar(stderr), ranks(options.communicator),
        globalBatch(model.batch * ranks.size()) {}
  int main();

private:
  bool fail(const std::string &message) {
    bar.clear();
    if (ranks.alone())
      std::fprintf(stderr, "%s: %s\n", tool, message.c_str());
    else
      std::fprintf(stderr, "%s: rank %d: %s\n", tool, ranks.rank(), message.c_str());
    return false;
  }
  /// Whether every rank got here without an error (each says its own).
  bool allOk(bool ok) {
    std::string error;
    return ranks.allOk(ok, error) || (ok ? fail(error) : false);
  }
  bool prints() const { return ranks.leader(); }
  /// The learning rate after the linear scaling rule (Goyal et al.).
  double scaledRate() const {
    return o.lrReferenceBatch > 0
               ? o.learningRate * double(globalBatch) / double(o.lrReferenceBatch)
               : o.learningRate;
  }
  bool drawsBar() const { return !o.quiet && ranks.leader(); }
  bool writesFiles() const { return !o.checkpointDir.empty() && ranks.leader(); }
  bool libraryFailed() { return fail(model.errorMessage(ctx.get())); }
  bool prepare();
  bool checkRanksAgree();
  bool openContext();
  bool loadLeaderFile(const std::string &path, bool checkpoint);
  /// The accuracy on `images` and, when asked, the loss, over every rank's share.
  bool testAccuracy(const data::Dataset &images, double &result, double *loss = nullptr);
  /// What each epoch is tested on: the held-out images with --validation,
  /// else the test set.
  bool validates() const { return o.validationImages > 0; }
  const data::Dataset &epochImages() const { return validates() ? validation : data.test; }
  const char *epochImagesName() const { return validates() ? "validation" : "test"; }
  bool recordDeployment();
  bool start();
  bool trainEpoch();
  bool saveCheckpoint();
  bool finish();
  /// The configuration a resumed run must share with its checkpoint.
  std::vector<Setting> configuration() const;
  /// --resume: refuses a finished run and a changed configuration (unless --force).
  bool checkResumedConfiguration();
  /// Says where a run stopped by a signal was saved; the exit status.
  int interrupted();
  std::string inDir(const char *name) const { return runFile(o.checkpointDir, name); }

  const ModelApi &model;
  const TrainerOptions &o;
  const char *tool;
  ProgressBar bar;
  Ranks ranks;
  int64_t globalBatch; ///< The model's batch is this rank's share.
  TrainingData data;
  data::Dataset validation; ///< --validation: the last training images, held out.
  int64_t testImages = 0;   ///< Of all ranks together.
  data::Normalization normalization;
  std::vector<std::string> classNames;
  data::Augmentation augmentation;
  LearningRateSchedule schedule;
  std::unique_ptr<void, void (*)(void *)> ctx{nullptr, nullptr};
  std::unique_ptr<data::Batches> batches;
  Progress p;
  /// The signal that stopped the run (every rank stops at the same step).
  int interruptedBy = 0;
  bool stopped = false; ///< By --stop-after.
  std::vector<EpochMetrics> history;
  std::vector<StepMetrics> stepHistory;
  double accuracy = 0;
};

bool Run::prepare() {
  std::string error;
  if (!checkTrainerOptions(o, error))
    return fail(error);
  if (!model.trainStep)
    return fail("the library of '" + model.name + "' has no train step: compile it with --train");
  if (!checkDataFitsModel(o, model.channels, model.height, model.width, model.classes, error))
    return fail(error);
  if (!parseAugmentation(o.augment, augmentation, error) ||
      !LearningRateSchedule::parse(o.schedule, scaledRate(), schedule, error) ||
      !loadDataSource(o.data, model.channels, model.height, model.width, model.classes, data,
                      error))
    return fail(error);
  keepFirst(data.train, o.trainImages);
  keepFirst(data.test, o.testImages);
  if (validates()) {
    if (o.validationImages >= data.train.size())
      return fail("--validation " + std::to_string(o.validationImages) +
                  " would hold out every one of the " + std::to_string(data.train.size()) +
                  " training images: give fewer");
    // The last images, as the paper's 45k/5k split of CIFAR-10's 50k.
    validation = data.train;
    int64_t kept = data.train.size() - o.validationImages;
    validation.labels.erase(validation.labels.begin(), validation.labels.begin() + kept);
    validation.images.erase(validation.images.begin(),
                            validation.images.begin() + kept * validation.imageValues());
    keepFirst(data.train, kept);
  }
  const data::Dataset &train = data.train;
  if (train.channels != model.channels || train.height != model.height ||
      train.width != model.width)
    return fail("the training images are " + shape(train.channels, train.height, train.width) +
                ", the network's input is " + shape(model.channels, model.height, model.width) +
                " (compile it with --input to match)");
  if (train.classes > model.classes)
    return fail("the data has " + std::to_string(train.classes) + " classes, the network " +
                std::to_string(model.classes));
  if (train.size() < globalBatch)
    return fail("there are " + std::to_string(train.size()) +
                " training images, fewer than a batch of " + std::to_string(globalBatch));
  normalization = data::channelStatistics(train);
  data::normalize(data.train, normalization);
  data::normalize(data.test, normalization);
  data::normalize(validation, normalization);
  testImages = data.test.size();
  if (!ranks.alone()) // each rank tests its share of the test and validation sets
    for (data::Dataset *test : {&data.test, &validation}) {
      int64_t first = test->size() * ranks.rank() / ranks.size();
      int64_t end = test->size() * (ranks.rank() + 1) / ranks.size();
      test->labels = {test->labels.begin() + first, test->labels.begin() + end};
      test->images = {test->images.begin() + first * test->imageValues(),
                      test->images.begin() + end * test->imageValues()};
    }
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
      model.setInputNormalization(ctx.get(), normalization.mean.data(), normalization.stddev.data(),
                                  normalization.mean.size()) != 0)
    return libraryFailed();
  std::vector<const char *> names;
  for (const std::string &name : classNames)
    names.push_back(name.c_str());
  if (model.setClassNames && !names.empty() &&
      model.setClassNames(ctx.get(), names.data(), names.size()) != 0)
    return libraryFailed();
  return true;
}

bool Run::checkRanksAgree() {
  if (ranks.alone())
    return true;
  auto text = [](auto value) {
    std::ostringstream os;
    os << value;
    return os.str();
  };
  std::string error;
  if (!ranks.sameAsLeader({{"the model", model.name},
                           {"the input", shape(model.channels, model.height, model.width)},
                           {"the classes", text(model.classes)},
                           {"the batch per rank", text(model.batch)},
                           {"--seed", text(o.seed)},
                           {"--epochs", text(o.epochs)},
                           {"--lr", text(o.learningRate)},
                           {"--schedule", o.schedule},
                           {"--lr-reference-batch", text(o.lrReferenceBatch)},
                           {"--warmup-epochs", text(o.warmupEpochs)},
                           {"--warmup", text(o.warmup)},
                           {"--augment", o.augment},
                           {"--data", o.data},
                           {"the training images", text(data.train.size())},
                           {"the test images", text(testImages)},
                           {"--validation", text(o.validationImages)},
                           {"--resume", o.resume ? "on" : "off"},
                           {"--checkpoint-every", text(o.checkpointEvery)},
                           {"--stop-after", text(o.stopAfter)},
                           {"--ten-crop", o.tenCrop ? "on" : "off"}},
                          error))
    return fail(error);
  return true;
}

bool Run::openContext() {
  ctx = {model.create(), model.destroy};
  if (!ctx)
    return fail("out of memory creating a context");
  if (model.setThreads(ctx.get(), o.threads) != 0)
    return libraryFailed();
  if (!ranks.alone()) {
    if (!model.setCommunicator)
      return fail("the library of '" + model.name +
                  "' cannot train on several ranks: compile it again with this resnetc");
    if (model.setCommunicator(ctx.get(), o.communicator) != 0)
      return libraryFailed();
  }
  // Dropout's masks: one stream per run and rank (libraries of an older
  // resnetc have no dropout and no entry).
  if (model.setRandomSeed &&
      model.setRandomSeed(ctx.get(),
                          int32_t(uint32_t(o.seed * 1000003u + uint64_t(ranks.rank())))) != 0)
    return libraryFailed();
  if (!writesFiles())
    return true;
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
  return true;
}

bool readWholeFile(const std::string &path, std::string &bytes) {
  std::ifstream in(path, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return bool(in) || in.eof();
}

/// Loads `path` (a checkpoint, or initial weights) into the context. With
/// several ranks, every rank loads rank 0's file: the ranks start alike
/// bit for bit, and only rank 0's machine needs the run's folder. A rank
/// whose own file at that path differs is refused.
bool Run::loadLeaderFile(const std::string &path, bool checkpoint) {
  auto load = [&](const std::string &file) {
    return (checkpoint ? model.loadCheckpoint : model.loadWeightsFile)(ctx.get(), file.c_str()) ==
           0;
  };
  if (ranks.alone())
    return load(path) || libraryFailed();
  std::string bytes, error;
  bool read = !ranks.leader() || readWholeFile(path, bytes);
  if (!read)
    fail("cannot read " + path);
  if (!allOk(read) || !ranks.fromLeader(bytes, error))
    return error.empty() ? false : fail(error);
  bool loaded = true;
  if (ranks.leader()) {
    loaded = load(path) || libraryFailed();
  } else {
    std::string own;
    if (std::filesystem::exists(path) && readWholeFile(path, own) && own != bytes)
      return allOk(fail(path + " differs from rank 0's file of that name"));
    std::filesystem::path copy =
        std::filesystem::temp_directory_path() /
        ("resnetc-rank" + std::to_string(ranks.rank()) + "-" + std::to_string(::getpid()) + ".rnw");
    std::ofstream out(copy, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    loaded = out ? load(copy.string()) || libraryFailed()
                 : fail("cannot write rank 0's " + path + " to " + copy.string());
    std::error_code ec;
    std::filesystem::remove(copy, ec);
  }
  return allOk(loaded);
}

bool Run::start() {
  if (!allOk(openContext()))
    return false;
  std::string error;
  if (o.resume) {
    if (!loadLeaderFile(inDir("checkpoint.rnw"), /*checkpoint=*/true))
      return false;
    for (int i = 0; i < Progress::count; ++i)
      if (model.checkpointValue(ctx.get(), Progress::keys[i], p.fields() + i) != 0)
        return fail(inDir("checkpoint.rnw") + " was not written by this trainer (no '" +
                    Progress::keys[i] + "')");
    if (uint64_t(p.seed) != o.seed)
      return fail("the run was started with --seed " + std::to_string(uint64_t(p.seed)) +
                  "; resume it with the same seed to continue it exactly");
    if (!checkResumedConfiguration())
      return false;
    if (writesFiles() && !readMetricsCsv(inDir("metrics.csv"), history, error))
      return fail(error);
    while (!history.empty() && history.back().epoch > int(p.epoch))
      history.pop_back(); // rows written after the checkpoint
    if (writesFiles() && !readStepsCsv(inDir("steps.csv"), stepHistory, error))
      return fail(error);
    while (!stepHistory.empty() && stepHistory.back().step > int64_t(p.step))
      stepHistory.pop_back();
    if (prints())
      std::printf("resuming epoch %d at step %lld\n", int(p.epoch) + 1,
                  static_cast<long long>(p.stepInEpoch));
  } else if (o.initialWeights.empty()) {
    return fail("no initial weights to start from");
  } else if (!loadLeaderFile(o.initialWeights, /*checkpoint=*/false)) {
    return false;
  }
  if (!recordDeployment())
    return false;
  p.seed = double(o.seed);
  if (o.warmup > 0)
    schedule.setWarmup(o.warmup, 0.8);
  if (o.warmupEpochs > 0)
    schedule.setGradualWarmup(o.learningRate, o.warmupEpochs / o.epochs);
  if (p.warmedUp != 0)
    schedule.observeTrainingError(0);
  batches = std::make_unique<data::Batches>(data.train, globalBatch, o.seed, augmentation,
                                            data::Shard{ranks.rank(), ranks.size()});
  batches->seek(uint64_t(p.epoch), int64_t(p.stepInEpoch) * globalBatch);
  if (prints()) {
    std::printf("training %s on %lld images (batch %lld, %lld steps an epoch), testing on %lld%s\n",
                model.name.c_str(), static_cast<long long>(data.train.size()),
                static_cast<long long>(globalBatch),
                static_cast<long long>(batches->batchesPerEpoch()),
                static_cast<long long>(testImages),
                validates() ? (" at the end; each epoch on the " +
                               std::to_string(o.validationImages) + " held-out images")
                                  .c_str()
                            : "");
    if (!ranks.alone())
      std::printf("data-parallel on %d ranks: %lld images per rank and step\n", ranks.size(),
                  static_cast<long long>(model.batch));
  }
  std::fflush(stdout);
  return true;
}

bool Run::testAccuracy(const data::Dataset &images, double &result, double *loss) {
  std::string error;
  double meanLoss = 0;
  if (!evaluate(model, ctx.get(), images, o.tenCrop, augmentation.pad, result, error, &meanLoss))
    return fail(error);
  // Each rank tested its share: the counts add up (exactly, as doubles).
  double size = double(images.size());
  double counts[3] = {std::round(result * size), size, meanLoss * size};
  if (!ranks.sum(counts, 3, error))
    return fail(error);
  result = counts[0] / counts[1];
  if (loss)
    *loss = counts[2] / counts[1];
  return true;
}

std::vector<Setting> Run::configuration() const {
  std::vector<Setting> settings = {
      {"batch", double(globalBatch), "--batch " + std::to_string(globalBatch)},
      {"train_images", double(data.train.size()),
       "--train-images " + std::to_string(data.train.size())},
      {"epochs", double(o.epochs), "--epochs " + std::to_string(o.epochs)},
      {"lr", o.learningRate, "--lr " + number(o.learningRate)},
      {"lr_reference_batch", double(o.lrReferenceBatch),
       "--lr-reference-batch " + std::to_string(o.lrReferenceBatch)},
      {"warmup_epochs", o.warmupEpochs, "--warmup-epochs " + number(o.warmupEpochs)},
      {"warmup", o.warmup, "--warmup " + number(o.warmup)},
      {"augment_pad", double(augmentation.pad), "--augment " + o.augment},
      {"augment_crop", augmentation.crop ? 1.0 : 0.0, "--augment " + o.augment},
      {"augment_flip", augmentation.flip ? 1.0 : 0.0, "--augment " + o.augment},
      {"schedule_kind", double(int(schedule.scheduleKind())), "--schedule " + o.schedule},
      {"validation_images", double(o.validationImages),
       "--validation " + std::to_string(o.validationImages), 0.0},
  };
  const std::vector<double> &milestones = schedule.stepMilestones();
  settings.push_back(
      {"schedule_milestones", double(milestones.size()), "--schedule " + o.schedule});
  for (size_t i = 0; i < milestones.size(); ++i)
    settings.push_back(
        {"schedule_milestone_" + std::to_string(i + 1), milestones[i], "--schedule " + o.schedule});
  return settings;
}

bool Run::checkResumedConfiguration() {
  std::string differences;
  bool recorded = true;
  for (const Setting &setting : configuration()) {
    double was = 0;
    if (model.checkpointValue(ctx.get(), ("config." + setting.key).c_str(), &was) != 0) {
      if (std::isnan(setting.absent)) {
        recorded = false; // a checkpoint of an older resnetc
        break;
      }
      was = setting.absent; // a key added later: its value before it was recorded
    }
    if (was != setting.value && differences.find(setting.option) == std::string::npos)
      differences += (differences.empty() ? "" : ", ") + setting.option + " (the run's " +
                     setting.key + ": " + number(was) + ")";
  }
  if (!recorded && prints())
    std::fprintf(stderr,
                 "%s: %s records no configuration (an older resnetc wrote it): the "
                 "options are not checked against the run's\n",
                 tool, inDir("checkpoint.rnw").c_str());
  if (!differences.empty() && !o.force)
    return fail("the run in " + o.checkpointDir + " was started differently: " + differences +
                "; resume it with its own options, or give --force to continue with these");
  std::string finalWeights = o.finalWeights.empty() ? inDir("final.rnw") : o.finalWeights;
  if (int(p.epoch) >= o.epochs && std::filesystem::exists(finalWeights) && !o.force)
    return fail("the run in " + o.checkpointDir + " is finished (" + std::to_string(int(p.epoch)) +
                " epochs): start a new run in another folder, or give --force with a larger "
                "--epochs to train it further");
  return true;
}

bool Run::saveCheckpoint() {
  // Each step's loss first, as metrics.csv: the files always agree with the
  // checkpoint (a resumed run drops the rows after it).
  std::string error;
  if (writesFiles() && !writeStepsCsv(inDir("steps.csv"), stepHistory, error))
    return fail(error);
  // The progress, then the configuration (`resnetc info` shows both).
  std::vector<std::string> names(std::begin(Progress::keys), std::end(Progress::keys));
  std::vector<double> values(p.fields(), p.fields() + Progress::count);
  for (const Setting &setting : configuration()) {
    names.push_back("config." + setting.key);
    values.push_back(setting.value);
  }
  std::vector<const char *> keys;
  for (const std::string &name : names)
    keys.push_back(name.c_str());
  auto save = [&](const std::string &path) {
    return model.saveCheckpoint(ctx.get(), path.c_str(), keys.data(), values.data(),
                                int64_t(keys.size())) == 0 ||
           libraryFailed();
  };
  if (o.everyRankSaves && !o.checkpointDir.empty() && !ranks.alone() &&
      !save(inDir("checkpoint.rank") + std::to_string(ranks.rank()) + ".rnw"))
    return false;
  return !writesFiles() || save(inDir("checkpoint.rnw"));
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
    int32_t localRight = 0;
    int32_t status = model.trainStep(ctx.get(), images.data(), images.size(), labels.data(),
                                     labels.size(), float(lr), &loss, &localRight);
    // The batch's loss and count over all ranks, and whether a rank failed:
    // every rank then stops at the same step, or none does.
    bool libraryError = status != 0 && status != RESNETC_ERROR_NUMERIC;
    // A stop signal on any rank stops every rank after this step.
    double sums[4] = {status == 0 ? double(loss) : std::nan(""), double(localRight),
                      libraryError ? 1.0 : 0.0, double(stopSignal)};
    std::string error;
    if (!ranks.sum(sums, 4, error))
      return fail(error);
    if (libraryError)
      return libraryFailed();
    if (sums[2] > 0)
      return fail("stopping: another rank failed (see above)");
    double meanLoss = sums[0] / ranks.size(), right = sums[1];
    if (!std::isfinite(meanLoss)) {
      if (prints()) // every rank stops here; one says why
        fail("the loss is not finite at epoch " + std::to_string(int(p.epoch) + 1) + ", step " +
             std::to_string(int64_t(p.stepInEpoch) + 1) + " (learning rate " + std::to_string(lr) +
             "): " + (status ? std::string(model.errorMessage(ctx.get())) : "") + "; stopping, " +
             (o.checkpointDir.empty() ? std::string("no checkpoint was asked for")
                                      : "the last good checkpoint is " + inDir("checkpoint.rnw")));
      return false;
    }
    p.lossSum += meanLoss;
    p.correct += right;
    p.recentCorrect += right;
    ++p.stepInEpoch;
    ++p.step;
    stepHistory.push_back({int64_t(p.step), p.epoch + p.stepInEpoch / double(steps), lr, meanLoss});
    if (++p.recentSteps == 50) { // warm-up ends on the error of the last 50 steps
      schedule.observeTrainingError(1.0 - p.recentCorrect / double(50 * globalBatch));
      p.warmedUp = schedule.warmingUp() ? 0 : 1;
      p.recentCorrect = p.recentSteps = 0;
    }
    p.seconds = secondsBefore +
                std::chrono::duration<double>(std::chrono::steady_clock::now() - resumedAt).count();
    double rate = p.stepInEpoch * double(globalBatch) / std::max(p.seconds, 1e-9);
    if (drawsBar())
      bar.update(int(p.epoch) + 1, o.epochs, int64_t(p.stepInEpoch), steps,
                 p.lossSum / p.stepInEpoch, p.correct / (p.stepInEpoch * double(globalBatch)), rate,
                 (double(steps - int64_t(p.stepInEpoch)) +
                  double(steps) * double(o.epochs - int(p.epoch) - 1)) *
                     double(globalBatch) / rate);
    if (sums[3] > 0) {
      interruptedBy = stopSignal ? int(stopSignal) : SIGINT;
      bar.clear();
      return saveCheckpoint();
    }
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
  double testLoss = 0;
  if (!testAccuracy(epochImages(), accuracy, &testLoss))
    return false;
  EpochMetrics m;
  m.epoch = int(p.epoch) + 1;
  m.steps = int64_t(p.stepInEpoch);
  m.learningRate = lr;
  m.trainLoss = p.lossSum / p.stepInEpoch;
  m.trainAccuracy = p.correct / (p.stepInEpoch * double(globalBatch));
  m.testAccuracy = accuracy;
  m.testLoss = testLoss;
  m.seconds = p.seconds;
  m.imagesPerSecond = p.stepInEpoch * double(globalBatch) / p.seconds;
  history.push_back(m);
  if (prints())
    std::printf("epoch %2d  lr %.4f  loss %.4f  train accuracy %.2f%%  %s accuracy %.2f%%  "
                "%.1f s  %.0f images/s  %.1f ms/step\n",
                m.epoch, lr, m.trainLoss, 100 * m.trainAccuracy, epochImagesName(), 100 * accuracy,
                m.seconds, m.imagesPerSecond, 1e3 * m.seconds / double(m.steps));
  std::fflush(stdout);
  p.epoch += 1;
  p.stepInEpoch = p.lossSum = p.correct = p.seconds = 0;
  // The metrics first: a run stopped between the two writes resumes from the
  // older checkpoint and drops the newer row, so the files always agree.
  std::string error;
  if (writesFiles() && (!writeMetricsCsv(inDir("metrics.csv"), history, error, validates()) ||
                        !writeCurvesSvg(inDir("curves.svg"), history, stepHistory, model.name,
                                        error, epochImagesName())))
    return fail(error);
  if (!saveCheckpoint())
    return false;
  stopped = o.stopAfter > 0 && int64_t(p.step) >= o.stopAfter;
  // A signal during the test or the saving: the checkpoint is this one.
  double signalled = double(stopSignal);
  if (!ranks.sum(&signalled, 1, error))
    return fail(error);
  if (signalled > 0)
    interruptedBy = stopSignal ? int(stopSignal) : SIGINT;
  return true;
}

int Run::interrupted() {
  if (prints()) {
    const char *name = interruptedBy == SIGTERM ? "SIGTERM" : "SIGINT";
    if (o.checkpointDir.empty())
      std::fprintf(stderr,
                   "%s: stopped by %s after step %lld; no --checkpoint-dir, so nothing "
                   "was saved\n",
                   tool, name, static_cast<long long>(p.step));
    else
      std::fprintf(stderr,
                   "%s: stopped by %s after step %lld (epoch %d): saved %s; continue "
                   "the run with --resume\n",
                   tool, name, static_cast<long long>(p.step), int(p.epoch) + 1,
                   inDir("checkpoint.rnw").c_str());
  }
  return 128 + interruptedBy;
}

bool Run::finish() {
  std::string out = o.finalWeights;
  if (out.empty() && !o.checkpointDir.empty())
    out = inDir("final.rnw");
  if (!allOk(!ranks.leader() || out.empty() || model.saveWeights(ctx.get(), out.c_str()) == 0 ||
             libraryFailed()))
    return false;
  // The test set, not seen during a run with --validation, is scored once;
  // test.csv keeps the score beside metrics.csv's validation columns.
  const double validationAccuracy = accuracy;
  double testLoss = 0;
  if (validates() && !testAccuracy(data.test, accuracy, &testLoss))
    return false;
  std::string error;
  if (validates() && writesFiles()) {
    char text[128];
    int length = std::snprintf(text, sizeof(text), "test_accuracy,test_loss\n%.8g,%.8g\n", accuracy,
                               testLoss);
    if (!writeFileAtomically(inDir("test.csv"), text, size_t(length), error))
      return fail(error);
  }
  if (!prints())
    return o.expectAccuracy < 0 || accuracy >= o.expectAccuracy;
  if (validates())
    std::printf("validation accuracy %.2f%%\n", 100.0 * validationAccuracy);
  std::printf("test accuracy %.2f%%\n", 100.0 * accuracy);
  struct rusage usage;
  if (::getrusage(RUSAGE_SELF, &usage) == 0)
    std::printf("peak memory %ld MiB\n", usage.ru_maxrss / 1024);
  if (!o.checkpointDir.empty())
    std::printf("wrote %s, %s, %s, %s%s and %s\n", inDir("checkpoint.rnw").c_str(), out.c_str(),
                inDir("metrics.csv").c_str(), inDir("steps.csv").c_str(),
                validates() ? (", " + inDir("test.csv")).c_str() : "", inDir("curves.svg").c_str());
  if (o.expectAccuracy >= 0 && accuracy < o.expectAccuracy)
    return fail("the test accuracy " + std::to_string(100 * accuracy) + "% is below the expected " +
                std::to_string(100 * o.expectAccuracy) + "%");
  return true;
}

int Run::main() {
  // A file-size limit (ulimit -f) must fail a write with EFBIG, reported like
  // a full disk, instead of killing the run with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  StopSignals signals;
  if (!allOk(prepare()) || !checkRanksAgree() || !start())
    return 1;
  if (int(p.epoch) >= o.epochs && !testAccuracy(epochImages(), accuracy))
    return 1;
  while (int(p.epoch) < o.epochs && !stopped && !interruptedBy)
    if (!trainEpoch())
      return 1;
  if (interruptedBy)
    return interrupted();
  if (stopped && int(p.epoch) < o.epochs) {
    if (prints())
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
