//===- SharedModel.cpp - Load a compiled library into resnetc itself ------===//

#include "resnetc/Driver/SharedModel.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace resnetc;

namespace {

std::string findLinker(const std::string &requested, std::string &error) {
  std::vector<std::string> candidates;
  if (!requested.empty())
    candidates.push_back(requested);
  else if (const char *cxx = std::getenv("CXX"); cxx && *cxx)
    candidates.push_back(cxx);
  for (const char *name : {"c++", "g++", "clang++"})
    candidates.push_back(name);
  for (const std::string &candidate : candidates) {
    if (llvm::sys::path::is_absolute(candidate) && llvm::sys::fs::can_execute(candidate))
      return candidate;
    if (auto path = llvm::sys::findProgramByName(candidate))
      return *path;
    if (!requested.empty())
      break;
  }
  error = requested.empty() ? "no C++ compiler (c++, g++ or clang++) on the PATH to link the "
                              "model into a shared object; install g++ or pass --linker"
                            : "--linker " + requested + ": not an executable";
  return "";
}

/// Only the generated API is exported: the library's copy of the Halide and
/// resnetc runtimes stays private to it.
bool writeVersionScript(const std::string &path, const std::string &model, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  os << "{\n  global: " << model << "_*;\n  local: *;\n};\n";
  return true;
}

} // namespace

bool resnetc::loadSharedModel(const LibraryReport &report, const std::string &linker,
                              train::ModelApi &api, std::string &error) {
  std::string program = findLinker(linker, error);
  if (program.empty())
    return false;
  llvm::SmallString<256> folder(report.archive);
  llvm::sys::path::remove_filename(folder);
  std::string shared = (folder + "/lib" + report.model + ".so").str();
  std::string versionScript = (folder + "/lib" + report.model + ".map").str();
  if (!writeVersionScript(versionScript, report.model, error))
    return false;
  std::string versionScriptFlag = "-Wl,--version-script=" + versionScript;
  std::vector<llvm::StringRef> arguments = {program,
                                            "-shared",
                                            "-o",
                                            shared,
                                            "-Wl,--whole-archive",
                                            report.archive,
                                            "-Wl,--no-whole-archive",
                                            "-Wl,-Bsymbolic",
                                            versionScriptFlag,
                                            "-lpthread",
                                            "-ldl"};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, arguments, std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    error = "linking " + shared + " with " + program + " failed" +
            (message.empty() ? " (status " + std::to_string(status) + ")" : ": " + message);
    return false;
  }
  auto library = llvm::sys::DynamicLibrary::getPermanentLibrary(shared.c_str(), &message);
  if (!library.isValid()) {
    error = "cannot load " + shared + ": " + message;
    return false;
  }
  bool missing = false;
  auto lookUp = [&](auto &slot, const char *suffix, bool required = true) {
    std::string symbol = report.model + "_" + suffix;
    void *address = library.getAddressOfSymbol(symbol.c_str());
    if (!address && required && !missing) {
      error = shared + " has no " + symbol;
      missing = true;
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
  api.name = report.model;
  api.batch = report.inputShape[0];
  api.channels = report.inputShape[1];
  api.height = report.inputShape[2];
  api.width = report.inputShape[3];
  api.classes = report.outputShape[1];
  lookUp(api.create, "create");
  // Inference libraries have no training entry points.
#define LOOK_UP(A, B, name, Field, Result, Params, Signature, Training, Doc)                       \
  lookUp(api.Field, #name, !(Training) || report.training);
  RESNETC_MODEL_API_LIST(LOOK_UP, _, _)
#undef LOOK_UP
  return !missing;
}
