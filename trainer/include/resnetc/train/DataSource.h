//===- DataSource.h - `kind:path` names of training data sets -----*- C++ -*-===//
//
//   fashion-mnist:DIR  mnist:DIR  {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
//   cifar10:DIR        data_batch_{1..5}.bin, test_batch.bin (the binary version)
//   cifar100:DIR       train.bin, test.bin
//   raw:DIR            {train,test}-images.f32 and {train,test}-labels.i32: float32
//                      images of the network's input shape and int32 labels
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TRAIN_DATASOURCE_H
#define RESNETC_TRAIN_DATASOURCE_H

#include "resnetc/data/Datasets.h"

#include <string>
#include <vector>

namespace resnetc::train {

struct TrainingData {
  data::Dataset train, test;
};

/// Checks that `spec` names a known kind and an existing folder.
bool checkDataSource(const std::string &spec, std::string &error);

/// Loads the training and test sets named by `spec`. `channels`, `height`,
/// `width` and `classes` are the network's: raw tensors take that shape.
bool loadDataSource(const std::string &spec, int64_t channels, int64_t height, int64_t width,
                    int64_t classes, TrainingData &out, std::string &error);

/// The class names of the data sets whose names are fixed (fashion-mnist,
/// mnist, cifar10); empty for the others.
std::vector<std::string> defaultClassNames(const std::string &spec);

/// Reads class names, one a line (blank lines and a trailing newline ignored;
/// names are kept as written, spaces included).
bool readClassNames(const std::string &path, std::vector<std::string> &names, std::string &error);

} // namespace resnetc::train

#endif // RESNETC_TRAIN_DATASOURCE_H
