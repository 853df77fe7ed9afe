//===- DeviceSpaces.cpp - Device copies of a model's memory spaces --------===//

#include "resnetc/runtime/DeviceSpaces.h"

#include <climits>

using resnetc::DeviceSpaces;

namespace {

constexpr int64_t kWordBytes = 4;
/// Rows of a space described in two dimensions (past INT32_MAX words).
constexpr int64_t kRowWords = int64_t(1) << 20;

} // namespace

const resnetc::DeviceCalls &resnetc::halideDeviceCalls() {
  static const DeviceCalls calls = {halide_copy_to_device, halide_copy_to_host,
                                    halide_device_malloc,  halide_device_free,
                                    halide_device_crop,    halide_device_release_crop,
                                    halide_error};
  return calls;
}

int32_t DeviceSpaces::refuse(void *userContext, const char *message) const {
  calls.error(userContext, message);
  return halide_error_code_generic_error;
}

int64_t DeviceSpaces::paddedBytes(int64_t bytes) {
  int64_t words = (bytes + kWordBytes - 1) / kWordBytes;
  if (words > INT32_MAX)
    words = (words + kRowWords - 1) / kRowWords * kRowWords;
  return words * kWordBytes;
}

DeviceSpaces::DeviceSpaces(const halide_device_interface_t *interface,
                           const int64_t (&bytes)[RESNETC_RT_SPACES], const DeviceCalls &calls)
    : interface(interface), calls(calls) {
  for (int i = 0; i < RESNETC_RT_SPACES; ++i) {
    Space &space = spaces[i];
    space.buffer.type = halide_type_t(halide_type_uint, 32);
    space.buffer.dim = space.dims;
    // A space whose size paddedBytes() would change cannot be described:
    // the host memory behind it is shorter. Refused when first used.
    space.describable = paddedBytes(bytes[i]) == bytes[i];
    int64_t words = paddedBytes(bytes[i]) / kWordBytes;
    if (words <= INT32_MAX) {
      space.buffer.dimensions = 1;
      space.dims[0] = halide_dimension_t(0, int32_t(words), 1);
    } else {
      space.buffer.dimensions = 2;
      space.dims[0] = halide_dimension_t(0, int32_t(kRowWords), 1);
      space.dims[1] = halide_dimension_t(0, int32_t(words / kRowWords), int32_t(kRowWords));
    }
    // Nothing is on the device yet; the arena's contents never matter
    // before a kernel writes them.
    space.hostCurrent = true;
    space.deviceCurrent = i == RESNETC_RT_ARENA;
  }
}

void DeviceSpaces::hostWritten(int space) {
  spaces[space].hostCurrent = true;
  spaces[space].deviceCurrent = false;
}

void DeviceSpaces::discard(int space) {
  spaces[space].hostCurrent = false;
  spaces[space].deviceCurrent = true;
}

int32_t DeviceSpaces::upload(void *userContext, Space &space, uint8_t *host) {
  if (!space.describable)
    return refuse(userContext, "a memory space is too large for one device buffer");
  if (!host)
    return refuse(userContext, "a kernel reads a memory space the call did not provide");
  space.buffer.host = host;
  space.buffer.flags = halide_buffer_flag_host_dirty;
  int32_t status = calls.copyToDevice(userContext, &space.buffer, interface);
  space.buffer.flags = 0;
  space.buffer.host = nullptr; // the API's spaces move between calls
  if (status != 0)
    return status;
  ++uploads;
  space.deviceCurrent = true;
  return 0;
}

int32_t DeviceSpaces::toHost(void *userContext, int index, uint8_t *host) {
  Space &space = spaces[index];
  if (!active() || space.hostCurrent || !space.buffer.device)
    return 0;
  if (!space.describable)
    return refuse(userContext, "a memory space is too large for one device buffer");
  space.buffer.host = host;
  space.buffer.flags = halide_buffer_flag_device_dirty;
  int32_t status = calls.copyToHost(userContext, &space.buffer);
  space.buffer.flags = 0;
  space.buffer.host = nullptr;
  if (status != 0)
    return status;
  ++downloads;
  space.hostCurrent = true;
  return 0;
}

int32_t DeviceSpaces::bind(void *userContext, int index, int64_t offset, uint8_t *host,
                           halide_buffer_t &argument) {
  Space &space = spaces[index];
  if (!space.deviceCurrent) {
    if (int32_t status = upload(userContext, space, host))
      return status;
  } else if (!space.buffer.device) {
    if (!space.describable)
      return refuse(userContext, "a memory space is too large for one device buffer");
    if (int32_t status = calls.malloc(userContext, &space.buffer, interface))
      return status;
  }
  // halide_device_crop aliases the range of the parent at the argument's
  // coordinates (all mins 0), so the parent is described in the argument's
  // type and rank with its first min shifted back by the offset. Past
  // INT32_MAX elements that takes two crops: whole rows first, then the rest.
  int64_t elementBytes = argument.type.bytes();
  if (offset % elementBytes != 0)
    return refuse(userContext, "a kernel argument is not aligned to its element type");
  int64_t elements = offset / elementBytes;
  int64_t rows = elements > INT32_MAX ? elements / kRowWords : 0;
  int64_t rest = elements - rows * kRowWords;
  if (rows > INT32_MAX)
    return refuse(userContext, "a kernel argument lies too far into its memory space");
  halide_dimension_t shifted[4], zero[4];
  for (int d = 0; d < argument.dimensions; ++d)
    shifted[d] = zero[d] = halide_dimension_t(0, 1, 0);
  halide_buffer_t parent = space.buffer;
  parent.type = argument.type;
  parent.dimensions = argument.dimensions;
  parent.dim = shifted;
  parent.flags = 0;
  halide_buffer_t rowCrop = parent;
  if (rows > 0) {
    shifted[0] = halide_dimension_t(-int32_t(rows), 1, int32_t(kRowWords));
    rowCrop.device = 0;
    rowCrop.device_interface = nullptr;
    rowCrop.dim = zero;
    if (int32_t status = calls.crop(userContext, &parent, &rowCrop))
      return status;
    rowCrop.dim = shifted;
  }
  shifted[0] = halide_dimension_t(-int32_t(rest), 1, 1);
  int32_t status = calls.crop(userContext, &rowCrop, &argument);
  // The argument's crop holds its own reference to the allocation.
  if (rows > 0) {
    rowCrop.dim = zero;
    int32_t released = calls.releaseCrop(userContext, &rowCrop);
    if (status == 0 && released != 0) {
      calls.releaseCrop(userContext, &argument);
      status = released;
    }
  }
  if (status != 0)
    return status;
  // A kernel stage that runs on the host must fetch the device's data first.
  argument.flags = space.hostCurrent ? 0 : halide_buffer_flag_device_dirty;
  return 0;
}

int32_t DeviceSpaces::unbind(void *userContext, int index, halide_buffer_t &argument,
                             uint64_t flagsBefore) {
  Space &space = spaces[index];
  int32_t status = 0;
  // Device-dirty going in, clean coming out: the kernel copied it to the host.
  uint64_t dirty = halide_buffer_flag_device_dirty | halide_buffer_flag_host_dirty;
  if ((flagsBefore & halide_buffer_flag_device_dirty) && !(argument.flags & dirty))
    ++downloads;
  if (argument.flags & halide_buffer_flag_device_dirty)
    space.hostCurrent = false;
  if (argument.flags & halide_buffer_flag_host_dirty) {
    // A stage ran on the host and wrote there: give the device that range.
    status = calls.copyToDevice(userContext, &argument, interface);
    if (status == 0)
      ++uploads;
  }
  argument.flags = 0;
  int32_t released = calls.releaseCrop(userContext, &argument);
  return status != 0 ? status : released;
}

void DeviceSpaces::release(void *userContext) {
  for (Space &space : spaces)
    if (space.buffer.device)
      calls.free(userContext, &space.buffer);
}
