//===- DeviceSpacesTest.cpp - The runtime's device bookkeeping, on a fake device -===//
//
// DeviceSpaces (runtime/lib/DeviceSpaces.cpp) against a device of the test's
// own: device "pointers" are numbers, a crop is the parent's number plus the
// byte offset Halide's runtime computes for it (the sum over dimensions of
// (dst.min - src.min) * src.stride * element size), and each copy is
// counted. This checks what needs no GPU: which calls copy, what a crop
// points at, including arguments more than 2^31 elements into a space (a
// space past 8 GiB, which no test machine could allocate on a device), and
// the refusals.
//
//===----------------------------------------------------------------------===//

#include "resnetc/runtime/DeviceSpaces.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using resnetc::DeviceCalls;
using resnetc::DeviceSpaces;

namespace {

struct FakeDevice {
  int uploads = 0, downloads = 0, mallocs = 0, frees = 0, crops = 0, releases = 0;
  uint64_t next = uint64_t(1) << 44; // device addresses, far apart
  std::string lastError;
};
FakeDevice *gDevice = nullptr;
const halide_device_interface_t *const kInterface =
    reinterpret_cast<const halide_device_interface_t *>(&gDevice); // only compared, never called

int64_t bytesOf(const halide_buffer_t *b) {
  int64_t end = 1;
  for (int d = 0; d < b->dimensions; ++d)
    end += int64_t(b->dim[d].extent - 1) * b->dim[d].stride;
  return end * b->type.bytes();
}

int fakeMalloc(void *, halide_buffer_t *b, const halide_device_interface_t *interface) {
  if (!b->device) {
    b->device = gDevice->next;
    b->device_interface = interface;
    gDevice->next += uint64_t(bytesOf(b)) + 4096;
    ++gDevice->mallocs;
  }
  return 0;
}

int fakeCopyToDevice(void *uc, halide_buffer_t *b, const halide_device_interface_t *interface) {
  fakeMalloc(uc, b, interface);
  if (b->flags & halide_buffer_flag_host_dirty)
    ++gDevice->uploads;
  b->flags &= ~uint64_t(halide_buffer_flag_host_dirty);
  return 0;
}

int fakeCopyToHost(void *, halide_buffer_t *b) {
  if (b->flags & halide_buffer_flag_device_dirty)
    ++gDevice->downloads;
  b->flags &= ~uint64_t(halide_buffer_flag_device_dirty);
  return 0;
}

int fakeFree(void *, halide_buffer_t *b) {
  b->device = 0;
  ++gDevice->frees;
  return 0;
}

// Halide 14's halide_device_crop and calc_device_crop_byte_offset.
int fakeCrop(void *, const halide_buffer_t *src, halide_buffer_t *dst) {
  if (!src->device || dst->device || src->dimensions != dst->dimensions)
    return -1;
  int64_t offset = 0;
  for (int d = 0; d < src->dimensions; ++d)
    offset += int64_t(dst->dim[d].min - src->dim[d].min) * int64_t(src->dim[d].stride);
  dst->device = src->device + uint64_t(offset * src->type.bytes());
  dst->device_interface = src->device_interface;
  ++gDevice->crops;
  return 0;
}

int fakeReleaseCrop(void *, halide_buffer_t *b) {
  b->device = 0;
  b->device_interface = nullptr;
  ++gDevice->releases;
  return 0;
}

void fakeError(void *, const char *message) { gDevice->lastError = message; }

const DeviceCalls kFakeCalls = {fakeCopyToDevice, fakeCopyToHost,  fakeMalloc, fakeFree,
                                fakeCrop,         fakeReleaseCrop, fakeError};

/// A float argument of `rank` dimensions of extent 2 (dense).
struct Argument {
  halide_buffer_t buffer = {};
  halide_dimension_t dims[4];
  explicit Argument(int rank) {
    buffer.type = halide_type_t(halide_type_float, 32);
    buffer.dimensions = rank;
    buffer.dim = dims;
    for (int d = 0, stride = 1; d < rank; ++d, stride *= 2)
      dims[d] = halide_dimension_t(0, 2, stride);
  }
};

class DeviceSpacesTest : public ::testing::Test {
protected:
  void SetUp() override { gDevice = &device; }
  void TearDown() override { gDevice = nullptr; }
  FakeDevice device;
  std::vector<uint8_t> host = std::vector<uint8_t>(1 << 16);
};

void sizes(int64_t arena, int64_t weights, int64_t (&out)[RESNETC_RT_SPACES]) {
  for (int64_t &v : out)
    v = 64;
  out[RESNETC_RT_ARENA] = DeviceSpaces::paddedBytes(arena);
  out[RESNETC_RT_WEIGHTS] = DeviceSpaces::paddedBytes(weights);
}

TEST_F(DeviceSpacesTest, CopiesOnlyWhenTheOtherSideIsNewer) {
  int64_t bytes[RESNETC_RT_SPACES];
  sizes(4096, 4096, bytes);
  DeviceSpaces spaces(kInterface, bytes, kFakeCalls);
  ASSERT_TRUE(spaces.active());

  // The arena never needs the host's contents: allocated, not uploaded.
  Argument a(4);
  ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_ARENA, 256, host.data(), a.buffer), 0);
  EXPECT_EQ(device.uploads, 0);
  EXPECT_EQ(device.mallocs, 1);
  a.buffer.flags |= halide_buffer_flag_device_dirty; // the kernel wrote it
  ASSERT_EQ(spaces.unbind(nullptr, RESNETC_RT_ARENA, a.buffer, 0), 0);
  EXPECT_EQ(a.buffer.device, 0u) << "the crop is released";

  // The weights: uploaded once, then current on the device.
  for (int call = 0; call < 3; ++call) {
    Argument w(2);
    ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_WEIGHTS, 0, host.data(), w.buffer), 0);
    EXPECT_EQ(w.buffer.flags, 0u) << "both copies current: no dirty flag";
    ASSERT_EQ(spaces.unbind(nullptr, RESNETC_RT_WEIGHTS, w.buffer, 0), 0);
  }
  EXPECT_EQ(device.uploads, 1);
  EXPECT_EQ(spaces.uploads, 1u);

  // A kernel writes the weights (SGD): the host copy is stale, and the next
  // argument says so, so a stage on the host would fetch it first.
  Argument w(1);
  ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_WEIGHTS, 64, host.data(), w.buffer), 0);
  w.buffer.flags |= halide_buffer_flag_device_dirty;
  ASSERT_EQ(spaces.unbind(nullptr, RESNETC_RT_WEIGHTS, w.buffer, 0), 0);
  Argument again(1);
  ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_WEIGHTS, 64, host.data(), again.buffer), 0);
  EXPECT_EQ(again.buffer.flags, uint64_t(halide_buffer_flag_device_dirty));
  // A host stage that fetched it: counted as a download.
  again.buffer.flags = 0;
  ASSERT_EQ(spaces.unbind(nullptr, RESNETC_RT_WEIGHTS, again.buffer,
                          halide_buffer_flag_device_dirty),
            0);
  EXPECT_EQ(spaces.downloads, 1u);

  // Saving reads the weights: one download, then nothing until they change.
  ASSERT_EQ(spaces.toHost(nullptr, RESNETC_RT_WEIGHTS, host.data()), 0);
  ASSERT_EQ(spaces.toHost(nullptr, RESNETC_RT_WEIGHTS, host.data()), 0);
  EXPECT_EQ(device.downloads, 1);
  EXPECT_EQ(spaces.downloads, 2u);

  // New images each call: hostWritten makes the next use upload them.
  for (int call = 0; call < 2; ++call) {
    spaces.hostWritten(RESNETC_RT_INPUT);
    Argument in(4);
    ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_INPUT, 0, host.data(), in.buffer), 0);
    ASSERT_EQ(spaces.unbind(nullptr, RESNETC_RT_INPUT, in.buffer, 0), 0);
  }
  EXPECT_EQ(device.uploads, 3);

  // An output the kernels write first: discarded, never uploaded.
  spaces.discard(RESNETC_RT_OUTPUT);
  Argument out(2);
  ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_OUTPUT, 0, nullptr, out.buffer), 0);
  out.buffer.flags |= halide_buffer_flag_device_dirty;
  ASSERT_EQ(spaces.unbind(nullptr, RESNETC_RT_OUTPUT, out.buffer, 0), 0);
  EXPECT_EQ(device.uploads, 3);
  ASSERT_EQ(spaces.toHost(nullptr, RESNETC_RT_OUTPUT, host.data()), 0);
  EXPECT_EQ(device.downloads, 2);

  EXPECT_EQ(device.crops, device.releases) << "every crop is released";
  spaces.release(nullptr);
  EXPECT_EQ(device.frees, device.mallocs);
}

TEST_F(DeviceSpacesTest, CropsPointAtTheArgumentsBytes) {
  int64_t bytes[RESNETC_RT_SPACES];
  sizes(1 << 20, 4096, bytes);
  DeviceSpaces spaces(kInterface, bytes, kFakeCalls);
  for (int rank = 1; rank <= 4; ++rank)
    for (int64_t offset : {int64_t(0), int64_t(4), int64_t(512), int64_t(1 << 19)}) {
      Argument a(rank);
      ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_ARENA, offset, host.data(), a.buffer), 0);
      Argument base(rank);
      ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_ARENA, 0, host.data(), base.buffer), 0);
      EXPECT_EQ(a.buffer.device - base.buffer.device, uint64_t(offset))
          << "rank " << rank << ", offset " << offset;
      spaces.unbind(nullptr, RESNETC_RT_ARENA, a.buffer, 0);
      spaces.unbind(nullptr, RESNETC_RT_ARENA, base.buffer, 0);
    }
  EXPECT_EQ(device.crops, device.releases);
}

TEST_F(DeviceSpacesTest, CropsPastTwoToTheThirtyOneElements) {
  // A 40 GiB arena: described in rows, and cropped in two steps beyond
  // INT32_MAX floats. Nothing is allocated for real.
  const int64_t GiB = int64_t(1) << 30;
  int64_t bytes[RESNETC_RT_SPACES];
  sizes(40 * GiB, 4096, bytes);
  DeviceSpaces spaces(kInterface, bytes, kFakeCalls);
  for (int rank = 1; rank <= 4; ++rank)
    for (int64_t offset : {8 * GiB - 4, 8 * GiB, 12 * GiB + 64, 39 * GiB + 4 * 12345}) {
      Argument base(rank), a(rank);
      ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_ARENA, 0, host.data(), base.buffer), 0);
      ASSERT_EQ(spaces.bind(nullptr, RESNETC_RT_ARENA, offset, host.data(), a.buffer), 0)
          << device.lastError;
      EXPECT_EQ(a.buffer.device - base.buffer.device, uint64_t(offset))
          << "rank " << rank << ", offset " << offset;
      spaces.unbind(nullptr, RESNETC_RT_ARENA, a.buffer, 0);
      spaces.unbind(nullptr, RESNETC_RT_ARENA, base.buffer, 0);
    }
  EXPECT_EQ(device.crops, device.releases) << "the intermediate row crops are released too";
}

TEST_F(DeviceSpacesTest, RefusesWhatItCannotDescribe) {
  int64_t bytes[RESNETC_RT_SPACES];
  sizes(4096, 4096, bytes);
  bytes[RESNETC_RT_INPUT] = 9 * (int64_t(1) << 30) + 4; // past 8 GiB, not whole rows
  DeviceSpaces spaces(kInterface, bytes, kFakeCalls);
  Argument misaligned(1);
  EXPECT_NE(spaces.bind(nullptr, RESNETC_RT_ARENA, 2, host.data(), misaligned.buffer), 0);
  EXPECT_EQ(device.lastError, "a kernel argument is not aligned to its element type");
  Argument tooLarge(1);
  EXPECT_NE(spaces.bind(nullptr, RESNETC_RT_INPUT, 0, host.data(), tooLarge.buffer), 0);
  EXPECT_EQ(device.lastError, "a memory space is too large for one device buffer");
  spaces.hostWritten(RESNETC_RT_LABELS);
  Argument missing(1);
  EXPECT_NE(spaces.bind(nullptr, RESNETC_RT_LABELS, 0, nullptr, missing.buffer), 0);
  EXPECT_EQ(device.lastError, "a kernel reads a memory space the call did not provide");
  EXPECT_EQ(device.crops, 0);
}

TEST(DeviceSpacesCpu, InactiveDoesNothing) {
  int64_t bytes[RESNETC_RT_SPACES];
  sizes(4096, 4096, bytes);
  DeviceSpaces spaces(nullptr, bytes);
  EXPECT_FALSE(spaces.active());
  uint8_t host[64];
  EXPECT_EQ(spaces.toHost(nullptr, RESNETC_RT_WEIGHTS, host), 0);
  EXPECT_EQ(spaces.uploads + spaces.downloads, 0u);
}

} // namespace
