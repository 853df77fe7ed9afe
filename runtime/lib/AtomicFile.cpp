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

resnetc::AtomicFile::AtomicFile(std::string path)
    : path(std::move(path)), temp(this->path + ".tmp." + std::to_string(::getpid())) {}

resnetc::AtomicFile::~AtomicFile() {
  if (!committed)
    ::unlink(temp.c_str());
}

bool resnetc::AtomicFile::commit(std::string &error) {
  int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open '" + temp + "': " + errnoText();
    return false;
  }
  bool flushed = ::fsync(fd) == 0;
  std::string flushError = flushed ? "" : errnoText();
  ::close(fd);
  if (!flushed) {
    error = "cannot flush '" + temp + "': " + flushError;
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    error = "cannot rename '" + temp + "' to '" + path + "': " + errnoText();
    return false;
  }
  committed = true;
  syncParentFolder(path);
  return true;
}

bool resnetc::writeFileAtomically(const std::string &path, const void *data, size_t size,
                                  std::string &error) {
  AtomicFile file(path);
  int fd = ::open(file.tempPath().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create '" + file.tempPath() + "': " + errnoText();
    return false;
  }
  auto bytes = static_cast<const char *>(data);
  size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = "cannot write '" + file.tempPath() +
              "': " + (n == 0 ? std::string("no progress") : errnoText());
      ::close(fd);
      return false;
    }
    written += size_t(n);
  }
  if (::close(fd) != 0) {
    error = "cannot close '" + file.tempPath() + "': " + errnoText();
    return false;
  }
  return file.commit(error);
}
