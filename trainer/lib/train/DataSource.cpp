//===- DataSource.cpp - `kind:path` names of training data sets -----------===//

#include "resnetc/train/DataSource.h"

#include <fstream>
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

bool resnetc::train::describeDataSource(const std::string &spec, DataShape &shape,
                                        std::string &error) {
  if (!checkDataSource(spec, error))
    return false;
  size_t colon = spec.find(':');
  std::string kind = spec.substr(0, colon), dir = spec.substr(colon + 1);
  std::vector<std::string> files;
  if (kind == "fashion-mnist" || kind == "mnist") {
    shape = {1, 28, 28, 10};
    for (const char *name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
      files.push_back(name); // or .gz
  } else if (kind == "cifar10") {
    shape = {3, 32, 32, 10};
    for (int i = 1; i <= 5; ++i)
      files.push_back("data_batch_" + std::to_string(i) + ".bin");
    files.push_back("test_batch.bin");
  } else if (kind == "cifar100") {
    shape = {3, 32, 32, 100};
    files = {"train.bin", "test.bin"};
  } else {
    shape = {};
    files = {"train-images.f32", "train-labels.i32", "test-images.f32", "test-labels.i32"};
  }
  struct stat info;
  for (const std::string &file : files) {
    std::string path = dir + "/" + file;
    bool gzipAllowed = kind == "fashion-mnist" || kind == "mnist";
    if (::stat(path.c_str(), &info) != 0 &&
        !(gzipAllowed && ::stat((path + ".gz").c_str(), &info) == 0)) {
      error = "the " + kind + " data in '" + dir + "' has no " + file +
              (gzipAllowed ? " (nor " + file + ".gz)" : std::string());
      return false;
    }
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

std::vector<std::string> resnetc::train::defaultClassNames(const std::string &spec) {
  std::string kind = spec.substr(0, spec.find(':'));
  if (kind == "fashion-mnist")
    return {"t-shirt/top", "trouser", "pullover", "dress", "coat",
            "sandal",      "shirt",   "sneaker",  "bag",   "ankle boot"};
  if (kind == "mnist")
    return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  if (kind == "cifar10")
    return {"airplane", "automobile", "bird",  "cat",  "deer",
            "dog",      "frog",       "horse", "ship", "truck"};
  return {};
}

bool resnetc::train::readClassNames(const std::string &path, std::vector<std::string> &names,
                                    std::string &error) {
  std::ifstream file(path);
  if (!file) {
    error = "cannot open the class names '" + path + "'";
    return false;
  }
  names.clear();
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos)
      names.push_back(line);
  }
  if (names.empty()) {
    error = path + " names no classes";
    return false;
  }
  return true;
}
