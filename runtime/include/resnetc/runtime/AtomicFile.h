//===- AtomicFile.h - Files that are never left half-written -------*- C++ -*-===//
//
// The one way resnetc writes a file that others read: through a temporary
// file in the same folder, fsync and rename, so that a crash or a full disk
// leaves either the old file or the new one, never a mix. Used by the
// runtime (weights, checkpoints, metrics), the compiler's outputs and
// resnetc-kernelgen's objects.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_ATOMICFILE_H
#define RESNETC_RUNTIME_ATOMICFILE_H

#include <cstddef>
#include <string>

namespace resnetc {

/// A file that replaces `path` all at once: write tempPath() (by any means,
/// another library included), then commit(). Destroyed before commit(), it
/// removes the temporary file.
class AtomicFile {
public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;

  const std::string &tempPath() const { return temp; }
  /// Flushes the temporary file to disk and renames it to the path; false
  /// with `error` set on failure.
  bool commit(std::string &error);

private:
  std::string path, temp;
  bool committed = false;
};

/// Writes `size` bytes to `path` as an AtomicFile.
bool writeFileAtomically(const std::string &path, const void *data, size_t size,
                         std::string &error);

} // namespace resnetc

#endif // RESNETC_RUNTIME_ATOMICFILE_H
