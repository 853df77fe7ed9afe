//===- LibrarySymbols.cpp - Hide all but the library's API ----------------===//

#include "resnetc/CodeGen/LibrarySymbols.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ObjCopy/ConfigManager.h"
#include "llvm/ObjCopy/ObjCopy.h"
#include "llvm/Object/Binary.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/raw_ostream.h"

#include <deque>

using namespace resnetc::codegen;

std::vector<std::string> resnetc::codegen::exportedSymbolPatterns(llvm::StringRef model) {
  return {(model + "_*").str(), "resnetc_rt_*", "halide_*"};
}

namespace {

/// The objcopy step: keep the exported patterns global, localise the rest,
/// remove the SHT_GROUP sections (GCC and LLVM both name them .group), which
/// leaves their members as ordinary sections. The matchers point into
/// `patterns`, which must outlive `config`.
llvm::Error makeConfig(llvm::ArrayRef<std::string> patterns, llvm::objcopy::ConfigManager &config) {
  auto passThrough = [](llvm::Error e) { return e; };
  for (const std::string &pattern : patterns)
    if (llvm::Error e =
            config.Common.SymbolsToKeepGlobal.addMatcher(llvm::objcopy::NameOrPattern::create(
                pattern, llvm::objcopy::MatchStyle::Wildcard, passThrough)))
      return e;
  return config.Common.ToRemove.addMatcher(llvm::objcopy::NameOrPattern::create(
      ".group", llvm::objcopy::MatchStyle::Literal, passThrough));
}

} // namespace

bool resnetc::codegen::hideLibrarySymbols(llvm::StringRef model,
                                          llvm::ArrayRef<llvm::MemoryBufferRef> objects,
                                          std::vector<llvm::SmallVector<char, 0>> &hidden,
                                          std::string &error) {
  const std::vector<std::string> patterns = exportedSymbolPatterns(model);
  llvm::objcopy::ConfigManager config;
  if (llvm::Error e = makeConfig(patterns, config)) {
    error = "internal error: the exported symbol patterns: " + llvm::toString(std::move(e));
    return false;
  }
  const llvm::objcopy::NameMatcher &exported = config.Common.SymbolsToKeepGlobal;

  // Which object defines each symbol about to be hidden, and what each uses.
  llvm::StringMap<size_t> hiddenDefinitions;
  std::vector<std::vector<llvm::StringRef>> uses(objects.size());
  std::vector<std::unique_ptr<llvm::object::Binary>> binaries;
  for (size_t i = 0; i < objects.size(); ++i) {
    llvm::StringRef name = objects[i].getBufferIdentifier();
    llvm::Expected<std::unique_ptr<llvm::object::Binary>> binary =
        llvm::object::createBinary(objects[i]);
    if (!binary) {
      error = name.str() + ": " + llvm::toString(binary.takeError());
      return false;
    }
    auto *object = llvm::dyn_cast<llvm::object::ELFObjectFileBase>(binary->get());
    if (!object) {
      error = name.str() + ": not an ELF object (generated libraries are ELF only)";
      return false;
    }
    for (const llvm::object::SymbolRef &symbol : object->symbols()) {
      llvm::Expected<uint32_t> flags = symbol.getFlags();
      if (!flags) {
        error = name.str() + ": " + llvm::toString(flags.takeError());
        return false;
      }
      llvm::Expected<llvm::StringRef> symbolName = symbol.getName();
      if (!symbolName) {
        error = name.str() + ": " + llvm::toString(symbolName.takeError());
        return false;
      }
      if (*flags & llvm::object::SymbolRef::SF_FormatSpecific)
        continue;
      if (*flags & llvm::object::SymbolRef::SF_Undefined) {
        uses[i].push_back(*symbolName);
        continue;
      }
      if (!(*flags & llvm::object::SymbolRef::SF_Global) || exported.matches(*symbolName))
        continue;
      // A local common symbol means nothing to a linker.
      if (*flags & llvm::object::SymbolRef::SF_Common) {
        error = name.str() + ": '" + symbolName->str() +
                "' is a common symbol and cannot be hidden (compile with -fno-common)";
        return false;
      }
      hiddenDefinitions.try_emplace(*symbolName, i);
    }
    binaries.push_back(std::move(*binary));
  }
  for (size_t i = 0; i < objects.size(); ++i)
    for (llvm::StringRef symbol : uses[i]) {
      auto it = hiddenDefinitions.find(symbol);
      if (it == hiddenDefinitions.end() || it->second == i)
        continue;
      error = objects[i].getBufferIdentifier().str() + " uses '" + symbol.str() + "' from " +
              objects[it->second].getBufferIdentifier().str() +
              ", which the library must not export (only " + llvm::join(patterns, ", ") +
              "): the two must be one relocatable object";
      return false;
    }

  hidden.assign(objects.size(), {});
  for (size_t i = 0; i < objects.size(); ++i) {
    config.Common.InputFilename = objects[i].getBufferIdentifier();
    llvm::raw_svector_ostream os(hidden[i]);
    if (llvm::Error e = llvm::objcopy::executeObjcopyOnBinary(config, *binaries[i], os)) {
      error = objects[i].getBufferIdentifier().str() + ": " + llvm::toString(std::move(e));
      return false;
    }
  }
  return true;
}

bool resnetc::codegen::renameSymbolPrefix(llvm::MemoryBufferRef object, llvm::StringRef from,
                                          llvm::StringRef to, llvm::SmallVector<char, 0> &renamed,
                                          std::string &error) {
  llvm::StringRef name = object.getBufferIdentifier();
  llvm::Expected<std::unique_ptr<llvm::object::Binary>> binary = llvm::object::createBinary(object);
  if (!binary) {
    error = name.str() + ": " + llvm::toString(binary.takeError());
    return false;
  }
  auto *file = llvm::dyn_cast<llvm::object::ELFObjectFileBase>(binary->get());
  if (!file) {
    error = name.str() + ": not an ELF object (generated libraries are ELF only)";
    return false;
  }
  llvm::objcopy::ConfigManager config;
  config.Common.InputFilename = name;
  std::deque<std::string> newNames; // what SymbolsToRename's values point into
  for (const llvm::object::SymbolRef &symbol : file->symbols()) {
    llvm::Expected<llvm::StringRef> symbolName = symbol.getName();
    if (!symbolName) {
      error = name.str() + ": " + llvm::toString(symbolName.takeError());
      return false;
    }
    if (symbolName->starts_with(from))
      config.Common.SymbolsToRename[*symbolName] =
          newNames.emplace_back((to + symbolName->drop_front(from.size())).str());
  }
  llvm::raw_svector_ostream os(renamed);
  if (llvm::Error e = llvm::objcopy::executeObjcopyOnBinary(config, *file, os)) {
    error = name.str() + ": " + llvm::toString(std::move(e));
    return false;
  }
  return true;
}
