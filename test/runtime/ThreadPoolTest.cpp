//===- ThreadPoolTest.cpp - Chunked parallel loops, spinning conditions ---===//
//
// The model runtime's policy for Halide's thread pool (ParallelLoops.h,
// SpinningCondition.cpp), through the Halide runtime that the kernels link.
//
//===----------------------------------------------------------------------===//

#include "resnetc/runtime/ParallelLoops.h"

#include <HalideRuntime.h>

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

namespace {

struct Record {
  std::vector<std::atomic<int>> runs;
  std::vector<std::thread::id> threads;
  int min = 0;
  int failAt = -1;
  explicit Record(int min, int extent) : runs(size_t(extent)), threads(size_t(extent)), min(min) {}
};

int recordIteration(void *, int i, uint8_t *closure) {
  Record &r = *reinterpret_cast<Record *>(closure);
  r.runs[size_t(i - r.min)].fetch_add(1);
  r.threads[size_t(i - r.min)] = std::this_thread::get_id();
  return i == r.failAt ? -7 : 0;
}

class ThreadPool : public ::testing::Test {
protected:
  void SetUp() override {
    halide_shutdown_thread_pool();
    halide_set_num_threads(2);
    resnetc::useChunkedParallelLoops(2);
  }
  void TearDown() override { halide_shutdown_thread_pool(); }
};

TEST_F(ThreadPool, EveryIterationRunsOnce) {
  for (int extent : {1, 2, 3, 7, 1000}) {
    Record r(5, extent);
    ASSERT_EQ(halide_do_par_for(nullptr, recordIteration, 5, extent, reinterpret_cast<uint8_t *>(&r)),
              0);
    for (int i = 0; i < extent; ++i)
      EXPECT_EQ(r.runs[size_t(i)].load(), 1) << "iteration " << i << " of " << extent;
  }
  EXPECT_EQ(resnetc::parallelLoopChunks(), 2);
}

TEST_F(ThreadPool, TheCallerRunsTheFirstChunk) {
  // The first half is the caller's, whenever the worker starts: the same
  // rows stay on the same core from one layer to the next.
  for (int repeat = 0; repeat < 20; ++repeat) {
    Record r(0, 64);
    ASSERT_EQ(halide_do_par_for(nullptr, recordIteration, 0, 64, reinterpret_cast<uint8_t *>(&r)), 0);
    for (int i = 0; i < 32; ++i)
      ASSERT_EQ(r.threads[size_t(i)], std::this_thread::get_id()) << "iteration " << i;
  }
}

int nestedLoop(void *, int, uint8_t *closure) {
  Record inner(0, 10);
  int status = halide_do_par_for(nullptr, recordIteration, 0, 10, reinterpret_cast<uint8_t *>(&inner));
  for (int i = 0; i < 10; ++i)
    if (inner.runs[size_t(i)].load() != 1)
      return -1;
  reinterpret_cast<std::atomic<int> *>(closure)->fetch_add(1);
  return status;
}

TEST_F(ThreadPool, ALoopInsideALoopRuns) {
  std::atomic<int> outer{0};
  EXPECT_EQ(halide_do_par_for(nullptr, nestedLoop, 0, 4, reinterpret_cast<uint8_t *>(&outer)), 0);
  EXPECT_EQ(outer.load(), 4);
}

TEST_F(ThreadPool, AFailingIterationFailsTheLoop) {
  Record r(0, 100);
  r.failAt = 80;
  EXPECT_EQ(halide_do_par_for(nullptr, recordIteration, 0, 100, reinterpret_cast<uint8_t *>(&r)), -7);
}

TEST_F(ThreadPool, OneThreadRunsTheLoopAsHalideDoes) {
  resnetc::useChunkedParallelLoops(1);
  Record r(0, 9);
  EXPECT_EQ(halide_do_par_for(nullptr, recordIteration, 0, 9, reinterpret_cast<uint8_t *>(&r)), 0);
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(r.runs[size_t(i)].load(), 1);
}

// A waiter wakes on a broadcast both while it spins and once it sleeps (the
// spin lasts a millisecond).
void expectWakes(std::chrono::microseconds delay) {
  halide_mutex mutex = {};
  halide_cond cond = {};
  bool ready = false;
  std::thread waiter([&] {
    halide_mutex_lock(&mutex);
    while (!ready)
      halide_cond_wait(&cond, &mutex);
    halide_mutex_unlock(&mutex);
  });
  std::this_thread::sleep_for(delay);
  halide_mutex_lock(&mutex);
  ready = true;
  halide_cond_broadcast(&cond);
  halide_mutex_unlock(&mutex);
  waiter.join(); // hangs (and the test times out) if the wake is lost
}

TEST(SpinningCondition, WakesASpinningWaiter) { expectWakes(std::chrono::microseconds(100)); }

TEST(SpinningCondition, WakesASleepingWaiter) { expectWakes(std::chrono::microseconds(20000)); }

TEST(SpinningCondition, SignalWakesOneOfTwo) {
  halide_mutex mutex = {};
  halide_cond cond = {};
  int tokens = 0, done = 0;
  auto consume = [&] {
    halide_mutex_lock(&mutex);
    while (tokens == 0)
      halide_cond_wait(&cond, &mutex);
    --tokens;
    ++done;
    halide_mutex_unlock(&mutex);
  };
  std::thread a(consume), b(consume);
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    halide_mutex_lock(&mutex);
    ++tokens;
    halide_cond_signal(&cond);
    halide_mutex_unlock(&mutex);
  }
  a.join();
  b.join();
  EXPECT_EQ(done, 2);
}

} // namespace
