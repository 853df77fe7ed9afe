//===- Evaluation.h - Test accuracy of a compiled network ----------*- C++ -*-===//

#ifndef RESNETC_TRAIN_EVALUATION_H
#define RESNETC_TRAIN_EVALUATION_H

#include "resnetc/data/Datasets.h"
#include "resnetc/train/ModelApi.h"

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc::train {

/// Top-1 accuracy of the network (evaluation mode: running statistics) on
/// every image of `test`; a last partial batch is padded and counted. With
/// `tenCrop`, each image is scored by the mean softmax of its ten crops of the
/// network's input size: images as large as the input are first padded with
/// `pad` zeros on each side. `loss`, when given, gets the mean cross-entropy
/// of those scores. False with a message on a library error.
bool evaluate(const ModelApi &model, void *ctx, const data::Dataset &test, bool tenCrop,
              int64_t pad, double &accuracy, std::string &error, double *loss = nullptr);

/// The class probabilities of every image of `test`, as evaluate() scores
/// them (test.size() rows of model.classes, the mean softmax of the image's
/// views): what multi-scale testing and ensembles average.
bool scoreImages(const ModelApi &model, void *ctx, const data::Dataset &test, bool tenCrop,
                 int64_t pad, std::vector<double> &probabilities, std::string &error);

/// Top-1 accuracy of rows of class probabilities against `labels`, and,
/// when asked, their mean cross-entropy.
void scoreAccuracy(const std::vector<double> &probabilities, const std::vector<int32_t> &labels,
                   int64_t classes, double &accuracy, double *loss = nullptr);

} // namespace resnetc::train

#endif // RESNETC_TRAIN_EVALUATION_H
