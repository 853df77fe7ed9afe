//===- ProgressBar.h - One redrawn status line per epoch ----------*- C++ -*-===//

#ifndef RESNETC_TRAIN_PROGRESSBAR_H
#define RESNETC_TRAIN_PROGRESSBAR_H

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace resnetc::train {

/// Draws `epoch 3/15 [=====>    ] 412/937 loss 0.3121 acc 88.2% 930 img/s ETA 0:32`
/// on a terminal, at most ten times a second; draws nothing when the stream
/// is not a terminal (logs get the epoch lines only).
class ProgressBar {
public:
  explicit ProgressBar(std::FILE *stream);
  void update(int epoch, int epochs, int64_t step, int64_t steps, double loss, double accuracy,
              double imagesPerSecond, double secondsLeft);
  /// Clears the line, so the next output starts on an empty one.
  void clear();

private:
  std::FILE *stream;
  bool enabled;
  bool drawn = false;
  std::chrono::steady_clock::time_point lastDraw;
};

} // namespace resnetc::train

#endif // RESNETC_TRAIN_PROGRESSBAR_H
