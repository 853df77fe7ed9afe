//===- ModelArchive.cpp - lib<model>.a ------------------------------------===//

#include "resnetc/CodeGen/ModelLibrary.h"

#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace resnetc::codegen;

bool resnetc::codegen::writeModelArchive(const std::string &path,
                                         llvm::ArrayRef<char> orchestration,
                                         const std::string &orchestrationName,
                                         const std::vector<std::string> &objectFiles,
                                         const std::string &runtimeArchive, std::string &error) {
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(llvm::MemoryBufferRef(
      llvm::StringRef(orchestration.data(), orchestration.size()), orchestrationName));

  // Kernel objects live in the cache under content hashes; inside the archive
  // they keep only that file name, so the archive does not depend on where
  // the cache is.
  std::vector<std::string> names;
  names.reserve(objectFiles.size()); // MemberName points into these strings
  for (const std::string &file : objectFiles) {
    llvm::Expected<llvm::NewArchiveMember> member =
        llvm::NewArchiveMember::getFile(file, /*Deterministic=*/true);
    if (!member) {
      error = "cannot read " + file + ": " + llvm::toString(member.takeError());
      return false;
    }
    names.push_back(llvm::sys::path::filename(file).str());
    member->MemberName = names.back();
    members.push_back(std::move(*member));
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
    llvm::Expected<llvm::NewArchiveMember> member =
        llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!member) {
      error = runtimeArchive + ": " + llvm::toString(member.takeError());
      return false;
    }
    members.push_back(std::move(*member));
  }
  if (childError) {
    error = runtimeArchive + ": " + llvm::toString(std::move(childError));
    return false;
  }
  if (llvm::Error e = llvm::writeArchive(path, members, llvm::SymtabWritingMode::NormalSymtab,
                                         llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                                         /*Thin=*/false)) {
    error = "cannot write " + path + ": " + llvm::toString(std::move(e));
    return false;
  }
  return true;
}
