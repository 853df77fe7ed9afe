//===- DeviceSpaces.h - Device copies of a model's memory spaces -*- C++ -*-===//
//
// On a GPU target the kernels' data stays on the device between kernels.
// Each memory space of resnetc_rt_invoke (input, output, arena, weights,
// labels, scalars) has one device allocation; a kernel argument is a device
// crop of its space; data moves between host and device only when the API
// needs it on the other side (the input in, the logits or the loss out, the
// weights when they are loaded or saved). Which copy of a space is current
// is tracked per space.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_DEVICESPACES_H
#define RESNETC_RUNTIME_DEVICESPACES_H

#include "resnetc/runtime/ModelRuntime.h"

#include <HalideRuntime.h>

#include <cstdint>

namespace resnetc {

/// The Halide runtime calls DeviceSpaces makes (halide_copy_to_device, ...);
/// tests substitute a device of their own.
struct DeviceCalls {
  int (*copyToDevice)(void *, halide_buffer_t *, const halide_device_interface_t *);
  int (*copyToHost)(void *, halide_buffer_t *);
  int (*malloc)(void *, halide_buffer_t *, const halide_device_interface_t *);
  int (*free)(void *, halide_buffer_t *);
  int (*crop)(void *, const halide_buffer_t *, halide_buffer_t *);
  int (*releaseCrop)(void *, halide_buffer_t *);
  void (*error)(void *, const char *);
};

/// Halide's runtime functions.
const DeviceCalls &halideDeviceCalls();

class DeviceSpaces {
public:
  /// `interface` null: a CPU target, and every call below does nothing.
  /// `bytes`: the size of each space; the arena's and the weights' must be
  /// paddedBytes() already.
  DeviceSpaces(const halide_device_interface_t *interface,
               const int64_t (&bytes)[RESNETC_RT_SPACES],
               const DeviceCalls &calls = halideDeviceCalls());

  bool active() const { return interface != nullptr; }

  /// `bytes` rounded up so that a space of that size can be described as
  /// one device buffer (of 4-byte words, in rows of 4 MiB past 8 GiB): the
  /// host allocations of the arena and the weights use it.
  static int64_t paddedBytes(int64_t bytes);

  /// The host copy of `space` was written, or, for the API's spaces, now
  /// lives somewhere else: the device copy is out of date.
  void hostWritten(int space);
  /// The contents of `space` do not matter until a kernel writes them (an
  /// output, a scratch arena): nothing is copied to the device for them.
  void discard(int space);
  /// Copies `space` into `host` if the device holds the newer data.
  int32_t toHost(void *userContext, int space, uint8_t *host);

  /// Makes `argument` (describing host memory at `host`, `offset` bytes into
  /// `space`) a crop of the space's device copy, uploading the space first
  /// if the host's copy is newer.
  int32_t bind(void *userContext, int space, int64_t offset, uint8_t *host,
               halide_buffer_t &argument);
  /// After the kernel: records what it wrote through `argument` and
  /// releases the crop. `flagsBefore`: the argument's flags after bind().
  int32_t unbind(void *userContext, int space, halide_buffer_t &argument, uint64_t flagsBefore);

  /// Frees the device copies.
  void release(void *userContext);

  /// Copies between host and device so far: whole spaces, and any range a
  /// kernel stage running on the host had to fetch or write back (none with
  /// resnetc's GPU schedules). For tests and profiles.
  uint64_t uploads = 0, downloads = 0;

private:
  struct Space {
    halide_buffer_t buffer = {};
    halide_dimension_t dims[2] = {};
    bool hostCurrent = true;
    bool deviceCurrent = false;
    bool describable = true;
  };
  int32_t upload(void *userContext, Space &space, uint8_t *host);
  int32_t refuse(void *userContext, const char *message) const;

  const halide_device_interface_t *interface;
  const DeviceCalls &calls;
  Space spaces[RESNETC_RT_SPACES];
};

} // namespace resnetc

#endif // RESNETC_RUNTIME_DEVICESPACES_H
