//===- CurvesPlot.cpp - curves.svg: loss, accuracy and learning rate ------===//
//
// Three panels side by side, drawn as plain SVG so a run's folder can be
// looked at in any browser without a plotting package. Every per-epoch value
// has a marker, so that a run of one epoch still shows its points; axis
// ticks fall on round values; each panel's legend sits below it, off the
// curves.
//
//===----------------------------------------------------------------------===//

#include "resnetc/runtime/AtomicFile.h"
#include "resnetc/train/MetricsLog.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

using namespace resnetc::train;

namespace {

constexpr double kPanelWidth = 400, kPanelHeight = 330, kMargin = 55, kLegendHeight = 60;

/// A curve: (x, y) points, drawn as a line, with markers where `markers`.
struct Series {
  std::string label, colour;
  std::vector<std::pair<double, double>> points;
  bool markers = true;
  double width = 2;
};

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", v);
  return text;
}

/// Round tick positions covering [low, high]: a step of 1, 2 or 5 times a
/// power of ten, about `count` of them.
std::vector<double> roundTicks(double &low, double &high, int count) {
  double raw = (high - low) / count;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  low = std::floor(low / step + 1e-9) * step;
  high = std::ceil(high / step - 1e-9) * step;
  std::vector<double> ticks;
  for (double t = low; t <= high + step / 2; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

/// One panel at horizontal offset `left`: axes, round ticks, the series,
/// the legend below.
void drawPanel(std::ostringstream &svg, double left, const std::string &title, double lastEpoch,
               const std::vector<Series> &series) {
  double low = INFINITY, high = -INFINITY;
  for (const Series &s : series)
    for (auto [x, y] : s.points)
      if (std::isfinite(y)) {
        low = std::min(low, y);
        high = std::max(high, y);
      }
  if (!std::isfinite(low))
    low = 0, high = 1;
  if (high - low < 1e-9 * std::max(1.0, std::fabs(high))) {
    double pad = std::max(std::fabs(high) * 0.1, 1e-3);
    low -= pad, high += pad;
  }
  std::vector<double> yTicks = roundTicks(low, high, 5);
  double xLow = 0, xHigh = std::max(lastEpoch, 1.0);
  std::vector<double> xTicks = roundTicks(xLow, xHigh, 6);
  double x0 = left + kMargin, y0 = 40, w = kPanelWidth - 1.4 * kMargin,
         h = kPanelHeight - kLegendHeight - 40 - 35;
  auto px = [&](double x) { return x0 + w * (x - xLow) / (xHigh - xLow); };
  auto py = [&](double y) { return y0 + h * (1 - (y - low) / (high - low)); };
  svg << "<text x='" << x0 + w / 2 << "' y='" << y0 - 15
      << "' text-anchor='middle' font-weight='bold'>" << title << "</text>\n";
  for (double t : yTicks)
    svg << "<text x='" << x0 - 5 << "' y='" << py(t) + 4 << "' text-anchor='end'>" << number(t)
        << "</text><line x1='" << x0 << "' x2='" << x0 + w << "' y1='" << py(t) << "' y2='" << py(t)
        << "' stroke='#ddd'/>\n";
  for (double t : xTicks)
    svg << "<text x='" << px(t) << "' y='" << y0 + h + 16 << "' text-anchor='middle'>" << number(t)
        << "</text>\n";
  svg << "<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << h
      << "' fill='none' stroke='#444'/>\n";
  svg << "<text x='" << x0 + w / 2 << "' y='" << y0 + h + 32
      << "' text-anchor='middle'>epoch</text>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const Series &s = series[i];
    svg << "<polyline fill='none' stroke-width='" << s.width << "' stroke='" << s.colour
        << "' points='";
    for (auto [x, y] : s.points)
      if (std::isfinite(y))
        svg << px(x) << "," << py(y) << " ";
    svg << "'/>\n";
    if (s.markers)
      for (auto [x, y] : s.points)
        if (std::isfinite(y))
          svg << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='3' fill='" << s.colour
              << "'/>\n";
    // The legend: below the axis label, one entry a line.
    double ly = y0 + h + 50 + 16 * double(i);
    svg << "<line x1='" << x0 << "' x2='" << x0 + 20 << "' y1='" << ly - 4 << "' y2='" << ly - 4
        << "' stroke='" << s.colour << "' stroke-width='" << s.width << "'/>";
    if (s.markers)
      svg << "<circle cx='" << x0 + 10 << "' cy='" << ly - 4 << "' r='3' fill='" << s.colour
          << "'/>";
    svg << "<text x='" << x0 + 26 << "' y='" << ly << "'>" << s.label << "</text>\n";
  }
}

} // namespace

bool resnetc::train::writeCurvesSvg(const std::string &path, const std::vector<EpochMetrics> &rows,
                                    const std::vector<StepMetrics> &steps, const std::string &title,
                                    std::string &error, const std::string &evaluatedOn) {
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << 3 * kPanelWidth << "' height='"
      << kPanelHeight << "' font-family='sans-serif' font-size='12'>\n"
      << "<title>" << title << "</title>\n<rect width='100%' height='100%' fill='white'/>\n";
  if (!rows.empty() || !steps.empty()) {
    Series stepLoss{"training loss, each step", "#aec7e8", {}, false, 1},
        trainLoss{"training loss, each epoch", "#1f77b4", {}},
        testLoss{evaluatedOn + " loss", "#d62728", {}},
        trainAccuracy{"training accuracy %", "#ff7f0e", {}},
        testAccuracy{evaluatedOn + " accuracy %", "#2ca02c", {}},
        rate{"learning rate, each step", "#9467bd", {}, false};
    double lastEpoch = 0;
    for (const StepMetrics &s : steps) {
      stepLoss.points.emplace_back(s.epoch, s.loss);
      rate.points.emplace_back(s.epoch, s.learningRate);
      lastEpoch = std::max(lastEpoch, s.epoch);
    }
    for (const EpochMetrics &m : rows) {
      trainLoss.points.emplace_back(m.epoch, m.trainLoss);
      testLoss.points.emplace_back(m.epoch, m.testLoss);
      trainAccuracy.points.emplace_back(m.epoch, 100 * m.trainAccuracy);
      testAccuracy.points.emplace_back(m.epoch, 100 * m.testAccuracy);
      lastEpoch = std::max(lastEpoch, double(m.epoch));
    }
    // Files without steps.csv: the rate of each epoch, with markers.
    if (steps.empty()) {
      rate.label = "learning rate, each epoch";
      rate.markers = true;
      for (const EpochMetrics &m : rows)
        rate.points.emplace_back(m.epoch, m.learningRate);
    }
    drawPanel(svg, 0, title + ": loss", lastEpoch, {stepLoss, trainLoss, testLoss});
    drawPanel(svg, kPanelWidth, title + ": accuracy", lastEpoch, {trainAccuracy, testAccuracy});
    drawPanel(svg, 2 * kPanelWidth, title + ": learning rate", lastEpoch, {rate});
  }
  svg << "</svg>\n";
  std::string text = svg.str();
  return writeFileAtomically(path, text.data(), text.size(), error);
}
