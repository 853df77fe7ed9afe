//===- Ranks.h - What the trainer's ranks agree on -----------------*- C++ -*-===//
//
// The trainer's view of a data-parallel run, over the communicator a
// program gives it (resnetc/runtime/Communicator.h): sums of metrics, the
// settings every rank must share, rank 0's files, and stopping together.
// Alone (no communicator), every call is the single-process answer.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TRAIN_RANKS_H
#define RESNETC_TRAIN_RANKS_H

#include "resnetc/runtime/Communicator.h"

#include <string>
#include <utility>
#include <vector>

namespace resnetc::train {

class Ranks {
public:
  explicit Ranks(const resnetc_communicator *communicator) : comm(communicator) {}

  int rank() const { return comm ? comm->rank : 0; }
  int size() const { return comm ? comm->size : 1; }
  bool leader() const { return rank() == 0; }
  bool alone() const { return size() == 1; }

  /// Sums `values` in place over the ranks.
  bool sum(double *values, int64_t count, std::string &error) const;
  /// True when `ok` on every rank. A rank that failed has said why; the
  /// others get `error` naming how many failed.
  bool allOk(bool ok, std::string &error) const;
  /// Compares each (name, value) with rank 0's; false on every rank when
  /// one differs anywhere, with `error` naming it on the ranks that differ.
  bool sameAsLeader(const std::vector<std::pair<std::string, std::string>> &settings,
                    std::string &error) const;
  /// Rank 0's `bytes`, on every rank.
  bool fromLeader(std::string &bytes, std::string &error) const;

private:
  bool failed(const char *what, std::string &error) const;
  const resnetc_communicator *comm;
};

} // namespace resnetc::train

#endif // RESNETC_TRAIN_RANKS_H
