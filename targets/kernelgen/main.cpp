//===- main.cpp - resnetc-kernelgen command line --------------------------===//
//
// Compiles one Halide kernel (or the Halide runtime) to an object file. Runs
// in its own process so that libHalide's LLVM 14 never meets the compiler's
// LLVM 22.
//
//   resnetc-kernelgen --spec SPEC --name FUNCTION --target TARGET -o OUT.o
//   resnetc-kernelgen --runtime --target TARGET -o OUT.o
//
//===----------------------------------------------------------------------===//

#include "../cpu/Schedules.h"
#include "../gpu/Schedules.h"
#include "HostTarget.h"
#include "Kernels.h"
#include "resnetc/KernelSpec/KernelSpec.h"
#include "resnetc/Target/TargetDescription.h"
#include "resnetc/runtime/AtomicFile.h"

#include "Halide.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

#ifndef RESNETC_VERSION
#define RESNETC_VERSION "unknown"
#endif

using namespace resnetc;
using namespace resnetc::kernelgen;

namespace {

const char *const kTool = "resnetc-kernelgen";

int fail(const std::string &message) {
  std::string text = message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  std::cerr << kTool << ": error: " << text << "\n";
  return 1;
}

void printHelp() {
  std::cout << "usage: " << kTool << " --spec SPEC --name FUNCTION --target TARGET -o OUT.o\n"
            << "       " << kTool << " --runtime --target TARGET -o OUT.o\n"
            << "       " << kTool << " --print-target TARGET\n"
            << "       " << kTool << " --help | --version\n"
            << "\n"
            << "Compiles one resnetc kernel (or the Halide runtime) to an object "
               "file.\n"
            << "\n"
            << "  --spec SPEC      kernel spec, e.g. 'kind=relu;input=1x16x32x32'\n"
            << "  --name FUNCTION  name of the generated function\n"
            << "  --target TARGET  Halide target string (host, "
               "x86-64-linux-avx2-fma, arm-64-linux, ...)\n"
            << "  --runtime        emit the Halide runtime instead of a kernel\n"
            << "  --print-target T print the Halide target T resolves to (host: this CPU)\n"
            << "  -o OUT.o         output object file\n"
            << "\n"
            << "Kernels are compiled with the no_runtime and user_context "
               "features;\n"
            << "link exactly one runtime object (--runtime) into each program.\n";
}

bool isIdentifier(const std::string &name) {
  if (name.empty() || !(std::isalpha((unsigned char)name[0]) || name[0] == '_'))
    return false;
  for (char ch : name)
    if (!(std::isalnum((unsigned char)ch) || ch == '_'))
      return false;
  return true;
}

struct Options {
  std::string spec, name, target, output;
  bool haveSpec = false, haveName = false, haveTarget = false, haveOutput = false;
  bool runtime = false;
};

int run(const Options &opts) {
  if (!opts.haveTarget)
    return fail("missing --target");
  if (!opts.haveOutput || opts.output.empty())
    return fail("missing -o OUT.o");
  if (!Halide::Target::validate_target_string(opts.target))
    return fail("invalid Halide target '" + opts.target + "'");
  const TargetDescription *description = findTarget(opts.target);
  if (!description)
    return fail("unsupported target '" + opts.target + "' (supported: " + supportedTargetsText() +
                ")");
  Halide::Target target = resolveTarget(opts.target);
  target = target.with_feature(Halide::Target::UserContext);

  // Halide writes the object itself, to the temporary file; a failed or
  // interrupted run never leaves a partial object.
  AtomicFile out(opts.output);
  if (std::FILE *probe = std::fopen(out.tempPath().c_str(), "wb"))
    std::fclose(probe); // Halide reports an unwritable output only as an internal error
  else
    return fail("cannot write '" + opts.output + "': " + std::strerror(errno));
  if (opts.runtime) {
    if (opts.haveSpec || opts.haveName)
      return fail("--runtime takes no --spec or --name");
    Halide::compile_standalone_runtime(out.tempPath(), target);
  } else {
    if (!opts.haveSpec)
      return fail("missing --spec");
    if (!opts.haveName)
      return fail("missing --name");
    if (!isIdentifier(opts.name))
      return fail("function name '" + opts.name + "' is not a C identifier");
    KernelSpec spec;
    std::string error;
    if (!parseKernelSpec(opts.spec, spec, error))
      return fail("bad spec '" + opts.spec + "': " + error);
    std::unique_ptr<Scheduler> scheduler;
    if (description->scheduler == SchedulerKind::Gpu)
      scheduler = std::make_unique<GpuScheduler>(target);
    else
      scheduler = std::make_unique<CpuScheduler>(target);
    KernelPipeline kernel = buildKernel(spec, *scheduler);
    kernel.pipeline.compile_to_object(out.tempPath(), kernel.arguments, opts.name,
                                      target.with_feature(Halide::Target::NoRuntime));
  }
  std::string error;
  if (!out.commit(error))
    return fail(error);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag, std::string &dest, bool &seen) -> bool {
      std::string f = flag;
      if (arg == f) {
        if (i + 1 >= argc) {
          fail("missing value after " + f);
          return false;
        }
        dest = argv[++i];
      } else {
        dest = arg.substr(f.size() + 1); // --flag=value
      }
      if (seen) {
        fail(f + " given twice");
        return false;
      }
      seen = true;
      return true;
    };
    auto is = [&](const char *flag) {
      std::string f = flag;
      return arg == f || arg.rfind(f + "=", 0) == 0;
    };
    if (arg == "--help" || arg == "-h") {
      printHelp();
      return 0;
    } else if (arg == "--version") {
      std::cout << kTool << " " << RESNETC_VERSION << " (Halide 14)\n";
      return 0;
    } else if (arg == "--runtime") {
      opts.runtime = true;
    } else if (arg == "--print-target") {
      // The Halide target a target string resolves to (host: this CPU's).
      if (i + 1 >= argc)
        return fail("missing value after --print-target");
      std::string text = argv[++i];
      if (!Halide::Target::validate_target_string(text))
        return fail("invalid Halide target '" + text + "'");
      if (!findTarget(text))
        return fail("unsupported target '" + text + "' (supported: " + supportedTargetsText() +
                    ")");
      std::cout << resolveTarget(text).to_string() << "\n";
      return 0;
    } else if (is("--spec")) {
      if (!value("--spec", opts.spec, opts.haveSpec))
        return 1;
    } else if (is("--name")) {
      if (!value("--name", opts.name, opts.haveName))
        return 1;
    } else if (is("--target")) {
      if (!value("--target", opts.target, opts.haveTarget))
        return 1;
    } else if (arg == "-o" || is("--output")) {
      if (!value(arg == "-o" ? "-o" : "--output", opts.output, opts.haveOutput))
        return 1;
    } else {
      return fail("unknown argument '" + arg + "' (try --help)");
    }
  }
  try {
    return run(opts);
  } catch (const Halide::CompileError &e) {
    return fail(std::string("Halide compile error: ") + e.what());
  } catch (const Halide::InternalError &e) {
    return fail(std::string("Halide internal error: ") + e.what());
  } catch (const Halide::Error &e) {
    return fail(std::string("Halide error: ") + e.what());
  } catch (const std::exception &e) {
    return fail(e.what());
  } catch (...) {
    return fail("unknown exception");
  }
}
