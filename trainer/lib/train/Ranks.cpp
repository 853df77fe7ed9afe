//===- Ranks.cpp - What the trainer's ranks agree on ----------------------===//

#include "resnetc/train/Ranks.h"

using namespace resnetc::train;

bool Ranks::failed(const char *what, std::string &error) const {
  const char *message = comm->error_message ? comm->error_message(comm->state) : nullptr;
  error = std::string(what) + " over the ranks failed: " +
          (message && *message ? message : "the communicator reported an error");
  return false;
}

bool Ranks::sum(double *values, int64_t count, std::string &error) const {
  if (alone())
    return true;
  if (comm->allreduce_sum_f64(comm->state, values, count) != 0)
    return failed("a sum", error);
  return true;
}

bool Ranks::allOk(bool ok, std::string &error) const {
  double failures = ok ? 0 : 1;
  if (!sum(&failures, 1, error))
    return false;
  if (failures == 0)
    return true;
  if (ok)
    error = "stopping: " + std::to_string(int(failures)) + " other rank" +
            (failures == 1 ? "" : "s") + " failed (see above)";
  return false;
}

bool Ranks::fromLeader(std::string &bytes, std::string &error) const {
  if (alone())
    return true;
  double size = double(bytes.size());
  if (comm->broadcast(comm->state, &size, sizeof size, 0) != 0)
    return failed("a broadcast", error);
  bytes.resize(size_t(size));
  if (!bytes.empty() && comm->broadcast(comm->state, bytes.data(), int64_t(bytes.size()), 0) != 0)
    return failed("a broadcast", error);
  return true;
}

bool Ranks::sameAsLeader(const std::vector<std::pair<std::string, std::string>> &settings,
                         std::string &error) const {
  if (alone())
    return true;
  std::string difference;
  for (const auto &[name, value] : settings) {
    std::string leaderValue = value;
    if (!fromLeader(leaderValue, error))
      return false;
    if (difference.empty() && leaderValue != value)
      difference = name + " is " + value + " here, " + leaderValue + " on rank 0";
  }
  bool same = difference.empty();
  if (allOk(same, error))
    return true;
  if (!same)
    error = "the ranks disagree: " + difference;
  return false;
}
