//===- RankAverager.h - Buckets averaged over the ranks ---------*- C++ -*-===//
//
// The runtime's half of data-parallel training: the generated training step
// starts and finishes averaging its buckets of gradients (and running
// statistics) with resnetc_rt_collective; this gathers a bucket's buffers
// into one staging block, sums it over the ranks through the application's
// communicator while the step goes on, and scatters the mean back.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_RANKAVERAGER_H
#define RESNETC_RUNTIME_RANKAVERAGER_H

#include "resnetc/runtime/Communicator.h"
#include "resnetc/runtime/ModelRuntime.h"

#include <string>
#include <vector>

namespace resnetc {

class RankAverager {
public:
  /// Null, or a communicator of one rank: start and finish do nothing.
  void setCommunicator(const resnetc_communicator *communicator);
  const resnetc_communicator *communicator() const { return comm; }

  /// Gathers the buffers of `bucket` and starts their sum. False with
  /// `error` set when the communicator fails.
  bool start(int64_t bucket, int64_t count, const resnetc_rt_buffer *buffers,
             uint8_t *const *spaces, std::string &error);
  /// Waits for the sum and writes the mean back into the buffers.
  bool finish(int64_t bucket, int64_t count, const resnetc_rt_buffer *buffers,
              uint8_t *const *spaces, std::string &error);

private:
  struct Bucket {
    std::vector<float> staging;
    void *request = nullptr;
    bool started = false;
  };
  bool failed(const char *what, int64_t bucket, std::string &error) const;

  const resnetc_communicator *comm = nullptr;
  std::vector<Bucket> buckets;
};

} // namespace resnetc

#endif // RESNETC_RUNTIME_RANKAVERAGER_H
