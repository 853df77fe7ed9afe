//===- LearningRateSchedules.h - Learning-rate schedules --------*- C++ -*-===//
//
// The schedules of the paper's recipes, as functions of the training
// progress: constant; multistep (divide by 10 at given fractions of the run,
// e.g. 32k and 48k of 64k iterations = 0.5 and 0.75); cosine; and a warm-up
// at a small rate until the training error first falls below a threshold
// (ResNet-110: 0.01 until the error is under 80%). For large batches, the
// gradual warm-up of Goyal et al. ("Accurate, Large Minibatch SGD"): from a
// small rate linearly up to the schedule's over the first part of the run.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_LEARNINGRATESCHEDULES_H
#define RESNETC_RUNTIME_LEARNINGRATESCHEDULES_H

#include <string>
#include <vector>

namespace resnetc {

class LearningRateSchedule {
public:
  enum class Kind { Constant, Multistep, Cosine };

  /// Parses `constant`, `multistep[:f1,f2,...]` (default 0.5,0.75) or
  /// `cosine`; false with a message otherwise.
  static bool parse(const std::string &text, double baseRate, LearningRateSchedule &schedule,
                    std::string &error);

  /// Warm up at `rate` until the training error is below `errorBelow`.
  void setWarmup(double rate, double errorBelow) {
    warmupRate = rate;
    warmupErrorBelow = errorBelow;
  }
  /// Reports the training error measured so far; ends the warm-up once.
  void observeTrainingError(double error) {
    if (error < warmupErrorBelow)
      warmedUp = true;
  }
  bool warmingUp() const { return warmupRate > 0 && !warmedUp; }

  /// Gradual warm-up: from `startRate` linearly to the schedule's rate,
  /// reached at `untilProgress` of the run.
  void setGradualWarmup(double startRate, double untilProgress) {
    gradualStart = startRate;
    gradualUntil = untilProgress;
  }

  /// The rate at `progress` in [0, 1) of the run.
  double rate(double progress) const;

  /// What the schedule is (for the configuration a checkpoint records).
  Kind scheduleKind() const { return kind; }
  const std::vector<double> &stepMilestones() const { return milestones; }

private:
  double scheduledRate(double progress) const;

  Kind kind = Kind::Constant;
  double base = 0.1;
  std::vector<double> milestones;
  double warmupRate = 0, warmupErrorBelow = 0;
  double gradualStart = 0, gradualUntil = 0;
  bool warmedUp = false;
};

} // namespace resnetc

#endif // RESNETC_RUNTIME_LEARNINGRATESCHEDULES_H
