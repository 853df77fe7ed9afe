//===- AtomicFile.cpp - Files that are never left half-written ------------===//

#include "resnetc/runtime/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace {

std::string errnoText() { return std::strerror(errno); }

/// Makes the rename itself durable; failure here is not an error (some file
/// systems refuse to fsync a folder), the data is already on disk.
void syncParentFolder(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

} // namespace

bool resnetc::writeFileAtomically(const std::string &path, const void *data, size_t size,
                                  std::string &error) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create '" + temp + "': " + errnoText();
    return false;
  }
  auto bytes = static_cast<const char *>(data);
  size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = "cannot write '" + temp + "': " + (n == 0 ? std::string("no progress") : errnoText());
      ::close(fd);
      ::unlink(temp.c_str());
      return false;
    }
    written += size_t(n);
  }
  if (::fsync(fd) != 0) {
    error = "cannot flush '" + temp + "': " + errnoText();
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  }
  if (::close(fd) != 0) {
    error = "cannot close '" + temp + "': " + errnoText();
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    error = "cannot rename '" + temp + "' to '" + path + "': " + errnoText();
    ::unlink(temp.c_str());
    return false;
  }
  syncParentFolder(path);
  return true;
}
