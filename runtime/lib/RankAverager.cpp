//===- RankAverager.cpp - Buckets averaged over the ranks -----------------===//

#include "resnetc/runtime/RankAverager.h"

#include <cstring>

using namespace resnetc;

namespace {

int64_t elementsOf(const resnetc_rt_buffer &buffer) {
  int64_t count = 1;
  for (int64_t d = 0; d < buffer.rank; ++d)
    count *= buffer.extent[d];
  return count;
}

/// The buffer's elements; the plan only averages dense float buffers, so
/// they are `elementsOf` floats from the buffer's start.
float *dataOf(const resnetc_rt_buffer &buffer, uint8_t *const *spaces) {
  return reinterpret_cast<float *>(spaces[buffer.space] + buffer.offset);
}

} // namespace

void RankAverager::setCommunicator(const resnetc_communicator *communicator) {
  comm = communicator;
  buckets.clear();
}

bool RankAverager::failed(const char *what, int64_t bucket, std::string &error) const {
  const char *message = comm->error_message ? comm->error_message(comm->state) : nullptr;
  error = "rank " + std::to_string(comm->rank) + " of " + std::to_string(comm->size) + ": " + what +
          " of gradient bucket " + std::to_string(bucket) +
          " failed: " + (message && *message ? message : "the communicator reported an error");
  return false;
}

bool RankAverager::start(int64_t bucket, int64_t count, const resnetc_rt_buffer *buffers,
                         uint8_t *const *spaces, std::string &error) {
  if (!comm || comm->size <= 1)
    return true;
  if (bucket >= int64_t(buckets.size()))
    buckets.resize(size_t(bucket + 1));
  Bucket &b = buckets[size_t(bucket)];
  if (b.started) { // a step that failed before finishing it: drain the old sum first
    comm->wait(comm->state, b.request);
    b.started = false;
  }
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i)
    total += elementsOf(buffers[i]);
  b.staging.resize(size_t(total));
  float *to = b.staging.data();
  for (int64_t i = 0; i < count; ++i) {
    int64_t n = elementsOf(buffers[i]);
    std::memcpy(to, dataOf(buffers[i], spaces), size_t(n) * sizeof(float));
    to += n;
  }
  if (comm->start_allreduce_sum(comm->state, b.staging.data(), total, &b.request) != 0)
    return failed("the sum", bucket, error);
  b.started = true;
  return true;
}

bool RankAverager::finish(int64_t bucket, int64_t count, const resnetc_rt_buffer *buffers,
                          uint8_t *const *spaces, std::string &error) {
  if (!comm || comm->size <= 1)
    return true;
  if (bucket >= int64_t(buckets.size()) || !buckets[size_t(bucket)].started) {
    error = "gradient bucket " + std::to_string(bucket) + " was finished before it was started";
    return false;
  }
  Bucket &b = buckets[size_t(bucket)];
  b.started = false;
  if (comm->wait(comm->state, b.request) != 0)
    return failed("waiting for the sum", bucket, error);
  const float ranks = float(comm->size);
  const float *from = b.staging.data();
  for (int64_t i = 0; i < count; ++i) {
    int64_t n = elementsOf(buffers[i]);
    float *to = dataOf(buffers[i], spaces);
    for (int64_t k = 0; k < n; ++k)
      to[k] = from[k] / ranks;
    from += n;
  }
  return true;
}
