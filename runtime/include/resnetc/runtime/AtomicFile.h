//===- AtomicFile.h - Files that are never left half-written -------*- C++ -*-===//

#ifndef RESNETC_RUNTIME_ATOMICFILE_H
#define RESNETC_RUNTIME_ATOMICFILE_H

#include <cstddef>
#include <string>

namespace resnetc {

/// Writes `size` bytes to `path` through a temporary file in the same folder,
/// fsync and rename: a crash or a full disk leaves either the old file or the
/// new one, never a mix. The temporary file is removed on failure.
bool writeFileAtomically(const std::string &path, const void *data, size_t size,
                         std::string &error);

} // namespace resnetc

#endif // RESNETC_RUNTIME_ATOMICFILE_H
