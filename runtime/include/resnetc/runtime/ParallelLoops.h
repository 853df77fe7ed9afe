//===- ParallelLoops.h - How the kernels' parallel loops are shared -*- C++ -*-===//
//
// Halide hands each parallel loop's iterations to its thread pool one at a
// time, to whichever thread asks first. At batch 1 that moved every layer's
// rows between the two cores at random, and each claim took the pool's lock:
// ResNet-50 on two threads spent 1.3x the one-thread time in its kernels'
// loops. The model runtime splits a loop into one contiguous chunk per
// thread instead, chunk i preferably on thread i (the caller is thread 0),
// as OpenMP's static schedule does: consecutive layers split the same way
// find their rows in the core that wrote them. A thread that finds its own
// chunk taken runs another, so every chunk runs even when a worker is late.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_PARALLELLOOPS_H
#define RESNETC_RUNTIME_PARALLELLOOPS_H

namespace resnetc {

/// Installs the chunked parallel loop (halide_set_custom_do_par_for, a
/// process-wide setting) for a pool of `threads` threads (0: Halide's
/// default, HL_NUM_THREADS or one per core). Call it again when the pool's
/// size changes, after halide_shutdown_thread_pool: the new pool's workers
/// are numbered from 1 again.
void useChunkedParallelLoops(int threads);

/// The chunks a loop is split into now (tests).
int parallelLoopChunks();

} // namespace resnetc

#endif // RESNETC_RUNTIME_PARALLELLOOPS_H
