//===- ModelArchive.cpp - lib<model>.a ------------------------------------===//

#include "resnetc/CodeGen/KernelCompiler.h"
#include "resnetc/CodeGen/LibrarySymbols.h"
#include "resnetc/CodeGen/ModelLibrary.h"

#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <deque>

using namespace resnetc::codegen;

bool resnetc::codegen::writeModelArchive(const std::string &path, llvm::StringRef model,
                                         llvm::ArrayRef<char> orchestration,
                                         const std::vector<std::string> &kernelObjects,
                                         const std::vector<std::string> &kernelNames,
                                         const std::string &halideRuntime,
                                         const std::string &runtimeArchive, std::string &error) {
  // Every object, read first, then hidden: `objects` names each for messages
  // (the runtime's as archive(member)), `memberNames` as it is in lib<model>.a.
  std::deque<std::string> strings; // what the StringRefs point into
  auto keep = [&](std::string s) -> llvm::StringRef { return strings.emplace_back(std::move(s)); };
  std::vector<llvm::MemoryBufferRef> objects;
  std::vector<llvm::StringRef> memberNames;
  memberNames.push_back(keep((model + ".o").str()));
  objects.emplace_back(llvm::StringRef(orchestration.data(), orchestration.size()),
                       memberNames.back());

  // Kernel objects live in the cache under content hashes; inside the archive
  // each is named after its kernel (<model>_k<n>.o, halide_runtime.o), so the
  // archive depends neither on where the cache is nor on its keys. Each
  // kernel's symbols get their name in this library.
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> files;
  std::deque<llvm::SmallVector<char, 0>> renamedKernels;
  std::vector<std::string> objectFiles = kernelObjects;
  objectFiles.push_back(halideRuntime);
  for (size_t i = 0; i < objectFiles.size(); ++i) {
    const std::string &file = objectFiles[i];
    auto buffer = llvm::MemoryBuffer::getFile(file);
    if (!buffer) {
      error = "cannot read " + file + ": " + buffer.getError().message();
      return false;
    }
    memberNames.push_back(
        keep(i < kernelNames.size() ? kernelNames[i] + ".o" : "halide_runtime.o"));
    llvm::MemoryBufferRef object((*buffer)->getBuffer(), memberNames.back());
    files.push_back(std::move(*buffer));
    if (i < kernelNames.size()) {
      llvm::SmallVector<char, 0> &renamed = renamedKernels.emplace_back();
      if (!renameSymbolPrefix(object, kCachedKernelName, kernelNames[i], renamed, error))
        return false;
      object = llvm::MemoryBufferRef(llvm::StringRef(renamed.data(), renamed.size()),
                                     memberNames.back());
    }
    objects.push_back(object);
  }

  auto runtimeBuffer = llvm::MemoryBuffer::getFile(runtimeArchive);
  if (!runtimeBuffer) {
    error = "cannot read the runtime library " + runtimeArchive + ": " +
            runtimeBuffer.getError().message();
    return false;
  }
  llvm::Error archiveError = llvm::Error::success();
  llvm::object::Archive runtime((*runtimeBuffer)->getMemBufferRef(), archiveError);
  if (archiveError) {
    error = runtimeArchive + ": " + llvm::toString(std::move(archiveError));
    return false;
  }
  llvm::Error childError = llvm::Error::success();
  for (const llvm::object::Archive::Child &child : runtime.children(childError)) {
    llvm::Expected<llvm::MemoryBufferRef> buffer = child.getMemoryBufferRef();
    if (!buffer) {
      error = runtimeArchive + ": " + llvm::toString(buffer.takeError());
      return false;
    }
    memberNames.push_back(buffer->getBufferIdentifier()); // points into the archive
    objects.emplace_back(buffer->getBuffer(),
                         keep(runtimeArchive + "(" + memberNames.back().str() + ")"));
  }
  if (childError) {
    error = runtimeArchive + ": " + llvm::toString(std::move(childError));
    return false;
  }

  // Only the library's API stays global (LibrarySymbols.h).
  std::vector<llvm::SmallVector<char, 0>> hidden;
  if (!hideLibrarySymbols(model, objects, hidden, error)) {
    error = "lib" + model.str() + ".a: " + error;
    return false;
  }
  std::vector<llvm::NewArchiveMember> members;
  for (size_t i = 0; i < objects.size(); ++i)
    members.emplace_back(
        llvm::MemoryBufferRef(llvm::StringRef(hidden[i].data(), hidden[i].size()), memberNames[i]));
  if (llvm::Error e = llvm::writeArchive(path, members, llvm::SymtabWritingMode::NormalSymtab,
                                         llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                                         /*Thin=*/false)) {
    error = "cannot write " + path + ": " + llvm::toString(std::move(e));
    return false;
  }
  return true;
}
