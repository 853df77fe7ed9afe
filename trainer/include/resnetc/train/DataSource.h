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

/// What a data set holds, known before it is loaded: the images' shape and
/// the number of classes (all 0 for raw tensors, which take the network's).
struct DataShape {
  int64_t channels = 0, height = 0, width = 0, classes = 0;
};

/// checkDataSource, and that every file of the set is there; its shape.
bool describeDataSource(const std::string &spec, DataShape &shape, std::string &error);

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
