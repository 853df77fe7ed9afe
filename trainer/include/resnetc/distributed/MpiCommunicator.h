//===- MpiCommunicator.h - MPI_COMM_WORLD as a communicator ------*- C++ -*-===//
//
// The communicator `resnetc train` gives a training library when mpirun (or
// mpiexec, Open MPI or MPICH) started it: a resnetc_communicator
// (resnetc/runtime/Communicator.h) over MPI_COMM_WORLD.
//
// Every MPI call after MPI_Init_thread is made by one worker thread, in the
// order the calls were asked for. A sum that the training step starts then
// proceeds while the step computes (MPI libraries progress a nonblocking
// collective only inside MPI calls), and MPI_THREAD_SERIALIZED suffices.
// A training step's wait for a sum that hears nothing from the other ranks
// for `timeoutSeconds` fails instead of hanging (a rank that is stuck; one
// that dies is reported by mpirun, which stops the others).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DISTRIBUTED_MPICOMMUNICATOR_H
#define RESNETC_DISTRIBUTED_MPICOMMUNICATOR_H

#include "resnetc/runtime/Communicator.h"

#include <memory>
#include <string>

namespace resnetc::distributed {

/// Whether a launcher started this process as one of several ranks (the
/// environment of Open MPI, or of MPICH's and PMIx's process managers).
bool launchedAsRanks();

class MpiCommunicator {
public:
  /// Initialises MPI (MPI_Init_thread) and starts the worker. Null with
  /// `error` set when MPI cannot start, or was not built in.
  static std::unique_ptr<MpiCommunicator> start(double timeoutSeconds, std::string &error);
  /// Finishes MPI (MPI_Finalize) once the worker is done.
  ~MpiCommunicator();

  const resnetc_communicator *table() const { return &comm; }
  int rank() const { return comm.rank; }
  int size() const { return comm.size; }

  /// What the training steps' sums cost this rank: how many, how long the
  /// worker spent in them (waiting for the other ranks included), and how
  /// long the steps waited for them (the part the backward pass did not hide).
  struct Statistics {
    int64_t sums = 0;
    double sumSeconds = 0, waitSeconds = 0;
  };
  Statistics statistics() const;

  /// Stops every rank now (MPI_Abort): for a rank that cannot go on while
  /// the others wait for it.
  [[noreturn]] void abort(int status);

  struct Impl;

private:
  MpiCommunicator() = default;
  resnetc_communicator comm{};
  std::unique_ptr<Impl> impl;
};

} // namespace resnetc::distributed

#endif // RESNETC_DISTRIBUTED_MPICOMMUNICATOR_H
