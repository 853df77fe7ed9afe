//===- KernelCompiler.cpp - Kernels to objects, in parallel, cached -------===//
//
// Halide (with its own LLVM 14) runs in separate resnetc-kernelgen
// processes: it never shares a process with LLVM 22, and kernels compile in
// parallel.
//
//===----------------------------------------------------------------------===//

#include "resnetc/CodeGen/KernelCompiler.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <cerrno>
#include <csignal>

using namespace resnetc::codegen;

namespace {

struct Job {
  std::vector<std::string> args;
  std::string object; ///< Its path in the cache (kernelgen writes it atomically).
  std::string log;    ///< kernelgen's stderr.
  std::string what;   ///< For error messages.
};

std::string hex(uint64_t value) {
  char text[17];
  snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

/// Runs one job to completion; false with `error` set if it fails.
bool runJob(Job &job, const std::string &program, std::string &error) {
  std::vector<llvm::StringRef> argv{program};
  for (const std::string &a : job.args)
    argv.push_back(a);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(job.log),
                                                llvm::StringRef(job.log)};
  std::string launchError;
  // Ctrl-C: the log goes with this process (kernelgen's own temporary
  // object is removed by the next compile, removeStaleFiles).
  llvm::sys::RemoveFileOnSignal(job.log);
  int status =
      llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0, 0, &launchError);
  bool ok = true;
  if (status < 0) {
    error = "cannot run " + program + ": " + launchError;
    ok = false;
  } else if (status != 0) {
    auto log = llvm::MemoryBuffer::getFile(job.log);
    error = "compiling " + job.what + " failed (exit " + std::to_string(status) + ")" +
            (log ? ": " + (*log)->getBuffer().trim().str() : std::string());
    ok = false;
  }
  llvm::sys::fs::remove(job.log);
  llvm::sys::DontRemoveFileOnSignal(job.log);
  return ok;
}

/// Runs the jobs on LLVM's thread pool, at most `parallel` at a time. After
/// the first failure no new job starts; the error reported is the first one
/// in the jobs' order, so that it does not depend on timing.
bool runJobs(std::vector<Job> &jobs, const std::string &program, unsigned parallel,
             std::string &error) {
  std::vector<std::string> errors(jobs.size());
  std::atomic<bool> failed{false};
  {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency(std::max(1u, parallel)));
    for (size_t i = 0; i < jobs.size(); ++i)
      pool.async([&, i] {
        if (!failed && !runJob(jobs[i], program, errors[i]))
          failed = true;
      });
    pool.wait();
  }
  for (const std::string &message : errors)
    if (!message.empty()) {
      error = message;
      return false;
    }
  return true;
}

/// The process id in a cache file's name that a compile leaves while it
/// runs: <key>.o.log.<pid>.<job> (its logs) or <key>.o.tmp.<pid>
/// (kernelgen's object being written); 0 for any other file.
long writerOf(llvm::StringRef name) {
  llvm::StringRef rest;
  if (name.contains(".o.log."))
    rest = name.split(".o.log.").second.split('.').first;
  else if (name.contains(".o.tmp."))
    rest = name.split(".o.tmp.").second;
  long pid = 0;
  return !rest.empty() && !rest.getAsInteger(10, pid) && pid > 0 ? pid : 0;
}

/// Removes what killed compiles left in the cache: the files of processes
/// that no longer exist. A live process's files (another compile sharing the
/// cache) are kept.
void removeStaleFiles(const std::string &cacheDir) {
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(cacheDir, ec), end; it != end && !ec;
       it.increment(ec)) {
    long pid = writerOf(llvm::sys::path::filename(it->path()));
    if (pid > 0 && ::kill(pid_t(pid), 0) == -1 && errno == ESRCH)
      llvm::sys::fs::remove(it->path());
  }
}

} // namespace

std::string resnetc::codegen::resolveTarget(const std::string &kernelgen, const std::string &target,
                                            std::string &error) {
  llvm::SmallString<128> output;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("resnetc-target", "txt", output)) {
    error = "cannot create a temporary file: " + ec.message();
    return "";
  }
  // stdout and stderr both: the answer, or the generator's reason.
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(output),
                                                llvm::StringRef(output)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(kernelgen, {kernelgen, "--print-target", target},
                                         std::nullopt, redirects, 0, 0, &message);
  std::string text;
  if (auto file = llvm::MemoryBuffer::getFile(output))
    text = (*file)->getBuffer().trim().str();
  llvm::sys::fs::remove(output);
  if (status == 0 && !text.empty())
    return text;
  error = "cannot resolve the target '" + target + "': " +
          (!text.empty()      ? text
           : !message.empty() ? message
                              : kernelgen + " failed");
  return "";
}

bool resnetc::codegen::compileKernels(const KernelPlan &plan, const KernelCompileOptions &options,
                                      KernelObjects &objects, std::string &error) {
  const std::string target = resolveTarget(options.kernelgen, options.target, error);
  if (target.empty())
    return false;
  if (std::error_code ec = llvm::sys::fs::create_directories(options.cacheDir)) {
    error = "cannot create the kernel cache " + options.cacheDir + ": " + ec.message();
    return false;
  }
  removeStaleFiles(options.cacheDir);
  // A rebuilt kernel generator may schedule differently: its bytes are part of the key.
  auto generator = llvm::MemoryBuffer::getFile(options.kernelgen);
  if (!generator) {
    error = "cannot read the kernel generator " + options.kernelgen + ": " +
            generator.getError().message();
    return false;
  }
  uint64_t generatorHash = llvm::xxh3_64bits(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>((*generator)->getBufferStart()),
                              (*generator)->getBufferSize()));

  std::vector<Job> jobs;
  auto request = [&](std::vector<std::string> args, llvm::StringRef keyText, std::string what) {
    std::string key = hex(llvm::xxh3_64bits(keyText) ^ generatorHash);
    std::string object = options.cacheDir + "/" + key + ".o";
    if (llvm::sys::fs::exists(object)) {
      ++objects.cached;
      return object;
    }
    ++objects.built;
    std::string unique =
        std::to_string(llvm::sys::Process::getProcessId()) + "." + std::to_string(jobs.size());
    Job job;
    job.object = object;
    job.log = object + ".log." + unique;
    job.what = std::move(what);
    job.args = std::move(args);
    job.args.push_back("-o");
    job.args.push_back(job.object);
    jobs.push_back(std::move(job));
    return object;
  };

  for (const KernelDef &kernel : plan.kernels)
    objects.kernels.push_back(
        request({"--spec", kernel.spec, "--name", kCachedKernelName, "--target", target},
                "kernel\n" + kernel.spec + "\n" + target,
                "kernel " + kernel.name + " (" + kernel.spec + ")"));
  objects.halideRuntime =
      request({"--runtime", "--target", target}, "runtime\n" + target, "the Halide runtime");
  return runJobs(jobs, options.kernelgen, options.jobs, error);
}
