//===- ProgressBar.cpp - One redrawn status line per epoch ----------------===//

#include "resnetc/train/ProgressBar.h"

#include <string>
#include <unistd.h>

using namespace resnetc::train;

ProgressBar::ProgressBar(std::FILE *stream)
    : stream(stream), enabled(::isatty(::fileno(stream)) == 1) {}

void ProgressBar::update(int epoch, int epochs, int64_t step, int64_t steps, double loss,
                         double accuracy, double imagesPerSecond, double secondsLeft) {
  auto now = std::chrono::steady_clock::now();
  if (!enabled || (drawn && step < steps && now - lastDraw < std::chrono::milliseconds(100)))
    return;
  lastDraw = now;
  constexpr int kWidth = 24;
  int filled = steps > 0 ? int(kWidth * step / steps) : 0;
  std::string bar(size_t(filled), '=');
  if (filled < kWidth)
    bar += '>' + std::string(size_t(kWidth - filled - 1), ' ');
  long eta = secondsLeft > 0 ? long(secondsLeft + 0.5) : 0;
  std::fprintf(
      stream, "\r\033[Kepoch %d/%d [%s] %lld/%lld loss %.4f acc %.1f%% %.0f img/s ETA %ld:%02ld",
      epoch, epochs, bar.c_str(), static_cast<long long>(step), static_cast<long long>(steps), loss,
      100 * accuracy, imagesPerSecond, eta / 60, eta % 60);
  std::fflush(stream);
  drawn = true;
}

void ProgressBar::clear() {
  if (drawn) {
    std::fprintf(stream, "\r\033[K");
    std::fflush(stream);
    drawn = false;
  }
}
