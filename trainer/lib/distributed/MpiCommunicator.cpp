//===- MpiCommunicator.cpp - MPI_COMM_WORLD as a communicator -------------===//

#include "resnetc/distributed/MpiCommunicator.h"

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#if RESNETC_HAVE_MPI
// The C API only: MPI's C++ bindings are deprecated and need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

using namespace resnetc::distributed;

bool resnetc::distributed::launchedAsRanks() {
  for (const char *variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(variable))
      return true;
  return false;
}

#if !RESNETC_HAVE_MPI

struct MpiCommunicator::Impl {};

MpiCommunicator::Statistics MpiCommunicator::statistics() const { return {}; }

std::unique_ptr<MpiCommunicator> MpiCommunicator::start(double, std::string &error) {
  error = "this resnetc was built without MPI: install libopenmpi-dev (or libmpich-dev) and "
          "build it again";
  return nullptr;
}

MpiCommunicator::~MpiCommunicator() = default;

void MpiCommunicator::abort(int status) { std::_Exit(status); }

#else

namespace {

/// One MPI call (or a few), run by the worker.
struct Operation {
  std::function<int()> body; ///< Returns an MPI error code.
  bool done = false;
  int status = MPI_SUCCESS;
};

std::string mpiMessage(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, size_t(length));
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// MPI_Wait, without spinning on a core the training step needs: MPI's
/// shared-memory transport busy-polls inside MPI_Wait, which on a machine
/// with one core per rank takes the backward pass's core. Tests for
/// completion (which also progresses the operation) with short sleeps.
int waitPolitely(MPI_Request &request) {
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (int status = MPI_Test(&request, &done, MPI_STATUS_IGNORE))
      return status;
    if (done)
      return MPI_SUCCESS;
    if (polls >= 16) // a few fast polls first: small sums finish in microseconds
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

/// MPI counts are ints: larger arrays go in pieces.
template <typename Call> int inPieces(int64_t count, Call call) {
  for (int64_t first = 0; first < count; first += INT_MAX)
    if (int status = call(first, int(std::min<int64_t>(INT_MAX, count - first))))
      return status;
  return MPI_SUCCESS;
}

} // namespace

struct MpiCommunicator::Impl {
  double timeoutSeconds = 0;
  std::mutex mutex;
  std::condition_variable queued, finished;
  std::deque<std::shared_ptr<Operation>> queue;
  bool stopping = false;
  bool stuck = false; ///< A wait timed out: the worker may never come back.
  std::string error;
  std::thread worker;
  Statistics statistics; ///< Under `mutex`.

  void work() {
    for (;;) {
      std::shared_ptr<Operation> op;
      {
        std::unique_lock<std::mutex> lock(mutex);
        queued.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty())
          return;
        op = queue.front();
        queue.pop_front();
      }
      int status = op->body();
      {
        std::lock_guard<std::mutex> lock(mutex);
        op->status = status;
        op->done = true;
      }
      finished.notify_all();
    }
  }

  std::shared_ptr<Operation> submit(std::function<int()> body) {
    auto op = std::make_shared<Operation>();
    op->body = std::move(body);
    {
      std::lock_guard<std::mutex> lock(mutex);
      queue.push_back(op);
    }
    queued.notify_one();
    return op;
  }

  /// Waits for `op`; `bounded`: for at most timeoutSeconds.
  int await(Operation &op, const char *what, bool bounded) {
    std::unique_lock<std::mutex> lock(mutex);
    auto isDone = [&] { return op.done; };
    if (!bounded)
      finished.wait(lock, isDone);
    else if (!finished.wait_for(lock, std::chrono::duration<double>(timeoutSeconds), isDone)) {
      stuck = true;
      error = std::string(what) + ": no answer from the other ranks in " +
              std::to_string(int(timeoutSeconds)) + " s (a rank stopped, or is stuck)";
      return -1;
    }
    if (op.status != MPI_SUCCESS) {
      error = std::string(what) + ": " + mpiMessage(op.status);
      return -1;
    }
    return 0;
  }

  /// Blocking calls wait as long as they take (a start-up waits for rank
  /// 0's compilation); mpirun stops the run when a rank dies meanwhile.
  int run(std::function<int()> body, const char *what) {
    std::shared_ptr<Operation> op = submit(std::move(body));
    return await(*op, what, /*bounded=*/false);
  }

  // The resnetc_communicator functions.
  static Impl &of(void *state) { return *static_cast<Impl *>(state); }

  static int32_t startAllreduceSum(void *state, float *data, int64_t count, void **request) {
    Impl &self = of(state);
    auto op = self.submit([&self, data, count] {
      auto started = std::chrono::steady_clock::now();
      int status = inPieces(count, [&](int64_t first, int n) {
        MPI_Request pending;
        if (int status = MPI_Iallreduce(MPI_IN_PLACE, data + first, n, MPI_FLOAT, MPI_SUM,
                                        MPI_COMM_WORLD, &pending))
          return status;
        return waitPolitely(pending);
      });
      std::lock_guard<std::mutex> lock(self.mutex);
      self.statistics.sums += 1;
      self.statistics.sumSeconds += secondsSince(started);
      return status;
    });
    *request = new std::shared_ptr<Operation>(std::move(op));
    return 0;
  }

  static int32_t wait(void *state, void *request) {
    std::unique_ptr<std::shared_ptr<Operation>> op(
        static_cast<std::shared_ptr<Operation> *>(request));
    auto started = std::chrono::steady_clock::now();
    int status = of(state).await(**op, "the allreduce", /*bounded=*/true);
    std::lock_guard<std::mutex> lock(of(state).mutex);
    of(state).statistics.waitSeconds += secondsSince(started);
    return status;
  }

  static int32_t allreduceSumF64(void *state, double *data, int64_t count) {
    return of(state).run(
        [data, count] {
          return inPieces(count, [&](int64_t first, int n) {
            return MPI_Allreduce(MPI_IN_PLACE, data + first, n, MPI_DOUBLE, MPI_SUM,
                                 MPI_COMM_WORLD);
          });
        },
        "a sum over the ranks");
  }

  static int32_t broadcast(void *state, void *data, int64_t bytes, int32_t root) {
    return of(state).run(
        [data, bytes, root] {
          return inPieces(bytes, [&](int64_t first, int n) {
            return MPI_Bcast(static_cast<char *>(data) + first, n, MPI_BYTE, root, MPI_COMM_WORLD);
          });
        },
        "a broadcast");
  }

  static int32_t barrier(void *state) {
    return of(state).run([] { return MPI_Barrier(MPI_COMM_WORLD); }, "a barrier");
  }

  static const char *errorMessage(void *state) { return of(state).error.c_str(); }
};

MpiCommunicator::Statistics MpiCommunicator::statistics() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->statistics;
}

std::unique_ptr<MpiCommunicator> MpiCommunicator::start(double timeoutSeconds, std::string &error) {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    error = "MPI could not start (MPI_Init_thread failed)";
    return nullptr;
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    error = "this MPI library does not allow calls from a second thread (MPI_THREAD_SERIALIZED)";
    MPI_Finalize();
    return nullptr;
  }
  // Errors come back as codes, reported with the rank, instead of aborting.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiCommunicator> self(new MpiCommunicator);
  self->impl = std::make_unique<Impl>();
  Impl &impl = *self->impl;
  impl.timeoutSeconds = timeoutSeconds;
  resnetc_communicator &comm = self->comm;
  MPI_Comm_rank(MPI_COMM_WORLD, &comm.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &comm.size);
  comm.state = &impl;
  comm.start_allreduce_sum = &Impl::startAllreduceSum;
  comm.wait = &Impl::wait;
  comm.allreduce_sum_f64 = &Impl::allreduceSumF64;
  comm.broadcast = &Impl::broadcast;
  comm.barrier = &Impl::barrier;
  comm.error_message = &Impl::errorMessage;
  impl.worker = std::thread([&impl] { impl.work(); });
  return self;
}

MpiCommunicator::~MpiCommunicator() {
  {
    std::lock_guard<std::mutex> lock(impl->mutex);
    impl->stopping = true;
    if (impl->stuck) // the worker may be inside MPI for good: do not wait for it
      std::_Exit(1);
  }
  impl->queued.notify_one();
  impl->worker.join();
  MPI_Finalize();
}

void MpiCommunicator::abort(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);
}

#endif
