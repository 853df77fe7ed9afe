//===- DataSource.cpp - `kind:path` names of training data sets -----------===//

#include "resnetc/train/DataSource.h"

#include <sys/stat.h>

using namespace resnetc;
using namespace resnetc::train;

namespace {
const char *const kKinds[] = {"fashion-mnist", "mnist", "cifar10", "cifar100", "raw"};
} // namespace

bool resnetc::train::checkDataSource(const std::string &spec, std::string &error) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos || colon + 1 == spec.size()) {
    error =
        "--data is KIND:PATH (fashion-mnist, mnist, cifar10, cifar100 or raw), got '" + spec + "'";
    return false;
  }
  std::string kind = spec.substr(0, colon), dir = spec.substr(colon + 1);
  bool known = false;
  for (const char *k : kKinds)
    known |= kind == k;
  if (!known) {
    error =
        "unknown data set kind '" + kind + "': use fashion-mnist, mnist, cifar10, cifar100 or raw";
    return false;
  }
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = "the data folder '" + dir + "' does not exist" +
            (kind == "fashion-mnist" ? " (Debian's dataset-fashion-mnist installs it)" : "");
    return false;
  }
  return true;
}

bool resnetc::train::loadDataSource(const std::string &spec, int64_t channels, int64_t height,
                                    int64_t width, int64_t classes, TrainingData &out,
                                    std::string &error) {
  if (!checkDataSource(spec, error))
    return false;
  size_t colon = spec.find(':');
  std::string kind = spec.substr(0, colon), dir = spec.substr(colon + 1);
  auto at = [&](const std::string &name) { return dir + "/" + name; };
  if (kind == "fashion-mnist" || kind == "mnist")
    return data::loadFashionMnist(dir, true, out.train, error) &&
           data::loadFashionMnist(dir, false, out.test, error);
  if (kind == "cifar10") {
    std::vector<std::string> batches;
    for (int i = 1; i <= 5; ++i)
      batches.push_back(at("data_batch_" + std::to_string(i) + ".bin"));
    return data::loadCifar(batches, false, out.train, error) &&
           data::loadCifar({at("test_batch.bin")}, false, out.test, error);
  }
  if (kind == "cifar100")
    return data::loadCifar({at("train.bin")}, true, out.train, error) &&
           data::loadCifar({at("test.bin")}, true, out.test, error);
  return data::loadRawTensors(at("train-images.f32"), at("train-labels.i32"), channels, height,
                              width, classes, out.train, error) &&
         data::loadRawTensors(at("test-images.f32"), at("test-labels.i32"), channels, height, width,
                              classes, out.test, error);
}
