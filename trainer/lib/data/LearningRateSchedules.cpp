//===- LearningRateSchedules.cpp - Learning-rate schedules ----------------===//

#include "resnetc/data/LearningRateSchedules.h"

#include <cmath>
#include <cstdlib>

using namespace resnetc;

bool LearningRateSchedule::parse(const std::string &text, double baseRate,
                                 LearningRateSchedule &schedule, std::string &error) {
  schedule = LearningRateSchedule();
  schedule.base = baseRate;
  if (!(baseRate > 0) || !std::isfinite(baseRate)) {
    error = "the learning rate must be positive";
    return false;
  }
  std::string name = text.substr(0, text.find(':'));
  if (name == "constant" && text == name) {
    schedule.kind = Kind::Constant;
    return true;
  }
  if (name == "cosine" && text == name) {
    schedule.kind = Kind::Cosine;
    return true;
  }
  if (name != "multistep") {
    error = "unknown schedule '" + text + "' (constant, multistep[:0.5,0.75] or cosine)";
    return false;
  }
  schedule.kind = Kind::Multistep;
  std::string list = text.size() > name.size() ? text.substr(name.size() + 1) : "0.5,0.75";
  double previous = 0;
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(',', start);
    std::string item =
        list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    char *rest = nullptr;
    double fraction = std::strtod(item.c_str(), &rest);
    if (item.empty() || *rest || !(fraction > previous) || !(fraction < 1)) {
      error =
          "multistep milestones are increasing fractions of the run in (0, 1), got '" + list + "'";
      return false;
    }
    schedule.milestones.push_back(fraction);
    previous = fraction;
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return true;
}

double LearningRateSchedule::rate(double progress) const {
  if (warmingUp())
    return warmupRate;
  double scheduled = scheduledRate(progress);
  if (progress < gradualUntil)
    return gradualStart + (scheduled - gradualStart) * progress / gradualUntil;
  return scheduled;
}

double LearningRateSchedule::scheduledRate(double progress) const {
  switch (kind) {
  case Kind::Constant:
    return base;
  case Kind::Cosine:
    return 0.5 * base * (1 + std::cos(M_PI * progress));
  case Kind::Multistep: {
    double rate = base;
    for (double milestone : milestones)
      if (progress >= milestone)
        rate /= 10;
    return rate;
  }
  }
  return base;
}
