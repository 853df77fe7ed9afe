/*===- Communicator.h - How a training step talks to the other ranks -*- C -*-===*
 *
 * Data-parallel training runs one process (rank) per share of every batch.
 * A generated training library averages its gradients over the ranks
 * through this table of functions, which the application fills and passes
 * to <model>_set_communicator: the library itself links no communication
 * library. resnetc's trainer fills it with MPI (resnetc/distributed/
 * MpiCommunicator.h); NCCL or Gloo fit the same table (docs/distributed.md).
 *
 * Every function returns 0 on success, anything else on failure, after
 * which error_message(state) says what went wrong. The step calls them from
 * the thread that runs <model>_train_step, one call at a time.
 *
 *===----------------------------------------------------------------------===*/

#ifndef RESNETC_RUNTIME_COMMUNICATOR_H
#define RESNETC_RUNTIME_COMMUNICATOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct resnetc_communicator {
  void *state;  /* the implementation's, passed to every function */
  int32_t rank; /* this process, in [0, size) */
  int32_t size; /* the number of ranks */
  /* Starts summing `count` floats in place over the ranks (every rank passes
   * the same count, in the same order of calls). `*request` receives the
   * implementation's handle, for wait. The data must stay untouched until
   * wait returns. */
  int32_t (*start_allreduce_sum)(void *state, float *data, int64_t count, void **request);
  /* Waits until a started sum is in its data. */
  int32_t (*wait)(void *state, void *request);
  /* Sums `count` doubles in place over the ranks, blocking (metrics, checks). */
  int32_t (*allreduce_sum_f64)(void *state, double *data, int64_t count);
  /* Copies `bytes` bytes from rank `root` to every rank, blocking. */
  int32_t (*broadcast)(void *state, void *data, int64_t bytes, int32_t root);
  /* Returns once every rank has called it. */
  int32_t (*barrier)(void *state);
  /* What the last failing call reported. */
  const char *(*error_message)(void *state);
} resnetc_communicator;

#ifdef __cplusplus
}
#endif

#endif /* RESNETC_RUNTIME_COMMUNICATOR_H */
