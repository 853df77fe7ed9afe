//===- SharedModel.h - Load a compiled library into resnetc itself -*- C++ -*-===//
//
// `resnetc train` runs the library it has just compiled: it links
// lib<model>.a into lib<model>.so with the system's C++ compiler driver (the
// one users link generated libraries with), exporting only <model>_*, loads
// it and looks the generated API up.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DRIVER_SHAREDMODEL_H
#define RESNETC_DRIVER_SHAREDMODEL_H

#include "resnetc/Driver/CompileLibrary.h"
#include "resnetc/train/ModelApi.h"

#include <string>

namespace resnetc {

/// `linker` is a C++ compiler driver; empty: $CXX, else c++, g++, clang++ on
/// the PATH. Fills `api` from the library of `report`.
bool loadSharedModel(const LibraryReport &report, const std::string &linker, train::ModelApi &api,
                     std::string &error);

} // namespace resnetc

#endif // RESNETC_DRIVER_SHAREDMODEL_H
