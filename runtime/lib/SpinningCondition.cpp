//===- SpinningCondition.cpp - Halide's condition variables, spinning first ===//
//
// Halide's thread pool parks a thread that waits for work, or for the rest
// of its loop, after about 40 sched_yields (some 60 us here). Waking a
// parked thread took 45-90 us on the 2-core VMs resnetc is measured on,
// longer than many batch-1 kernels' parallel loops, and a loop split into
// one chunk per thread (ParallelLoops.h) makes its caller wait for the last
// chunk every time. These replace the runtime's condition variables (weak
// symbols in every Halide runtime, meant to be replaced): a waiter watches
// the condition's sequence number for up to kSpinNanoseconds, yielding the
// core now and then, before it sleeps on a futex. Linux only, as the
// generated libraries are.
//
//===----------------------------------------------------------------------===//

#include <HalideRuntime.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

constexpr uint64_t kSpinNanoseconds = 1000000;
/// How often a spinning waiter gives the core to another runnable thread (on
/// an idle machine sched_yield returns at once).
constexpr uint64_t kYieldNanoseconds = 20000;

/// A halide_cond: a sequence number that each signal or broadcast advances,
/// and how many waiters sleep on it. Zero is the initial state.
struct Condition {
  std::atomic<uint32_t> sequence;
  std::atomic<uint32_t> sleepers;
};
static_assert(sizeof(Condition) <= sizeof(halide_cond), "a halide_cond holds a Condition");

Condition &conditionOf(halide_cond *cond) { return *reinterpret_cast<Condition *>(cond); }

uint64_t nowNanoseconds() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1000000000u + uint64_t(t.tv_nsec);
}

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

long futex(std::atomic<uint32_t> &word, int operation, uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t *>(&word), operation, value, nullptr, nullptr,
                 0);
}

void wake(halide_cond *cond, int waiters) {
  Condition &c = conditionOf(cond);
  c.sequence.fetch_add(1, std::memory_order_seq_cst);
  // A waiter counts itself before it checks the sequence and sleeps, so
  // either it sees the new sequence or this sees it.
  if (c.sleepers.load(std::memory_order_seq_cst))
    futex(c.sequence, FUTEX_WAKE_PRIVATE, uint32_t(waiters));
}

/// Whether the sequence moved from `seen` within the spin.
bool spinUntilChanged(Condition &c, uint32_t seen) {
  const uint64_t start = nowNanoseconds();
  uint64_t lastYield = start;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (c.sequence.load(std::memory_order_acquire) != seen)
        return true;
      cpuRelax();
    }
    const uint64_t now = nowNanoseconds();
    if (now - start >= kSpinNanoseconds)
      return false;
    if (now - lastYield >= kYieldNanoseconds) {
      sched_yield();
      lastYield = now;
    }
  }
}

} // namespace

extern "C" void halide_cond_broadcast(halide_cond *cond) { wake(cond, INT_MAX); }

extern "C" void halide_cond_signal(halide_cond *cond) { wake(cond, 1); }

extern "C" void halide_cond_wait(halide_cond *cond, halide_mutex *mutex) {
  Condition &c = conditionOf(cond);
  // Read under the mutex: a signal after this moves the sequence.
  const uint32_t seen = c.sequence.load(std::memory_order_seq_cst);
  halide_mutex_unlock(mutex);
  if (!spinUntilChanged(c, seen)) {
    c.sleepers.fetch_add(1, std::memory_order_seq_cst);
    while (c.sequence.load(std::memory_order_seq_cst) == seen)
      futex(c.sequence, FUTEX_WAIT_PRIVATE, seen);
    c.sleepers.fetch_sub(1, std::memory_order_seq_cst);
  }
  halide_mutex_lock(mutex);
}
