//===- CurvesPlot.cpp - curves.svg: loss and accuracy per epoch -----------===//
//
// Two panels side by side, drawn as plain SVG so a run's folder can be looked
// at in any browser without a plotting package.
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

constexpr double kPanelWidth = 420, kPanelHeight = 300, kMargin = 50;

struct Series {
  std::string label, colour;
  std::vector<double> values; // one per row
};

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", v);
  return text;
}

/// One panel at horizontal offset `left`: axes, ticks, a polyline per series.
void drawPanel(std::ostringstream &svg, double left, const std::string &title,
               const std::vector<EpochMetrics> &rows, const std::vector<Series> &series) {
  double low = INFINITY, high = -INFINITY;
  for (const Series &s : series)
    for (double v : s.values)
      if (std::isfinite(v)) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
  if (!std::isfinite(low))
    low = 0, high = 1;
  if (high - low < 1e-9)
    high = low + 1;
  double firstEpoch = rows.front().epoch,
         lastEpoch = std::max(rows.back().epoch, rows.front().epoch + 1);
  double x0 = left + kMargin, y0 = kMargin, w = kPanelWidth - 1.5 * kMargin,
         h = kPanelHeight - 2 * kMargin;
  auto px = [&](double epoch) { return x0 + w * (epoch - firstEpoch) / (lastEpoch - firstEpoch); };
  auto py = [&](double v) { return y0 + h * (1 - (v - low) / (high - low)); };
  svg << "<text x='" << x0 + w / 2 << "' y='" << y0 - 15
      << "' text-anchor='middle' font-weight='bold'>" << title << "</text>\n";
  svg << "<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << h
      << "' fill='none' stroke='#444'/>\n";
  for (int t = 0; t <= 4; ++t) {
    double v = low + (high - low) * t / 4;
    svg << "<text x='" << x0 - 5 << "' y='" << py(v) + 4 << "' text-anchor='end'>" << number(v)
        << "</text><line x1='" << x0 << "' x2='" << x0 + w << "' y1='" << py(v) << "' y2='" << py(v)
        << "' stroke='#ddd'/>\n";
  }
  for (const EpochMetrics &m : rows)
    svg << "<text x='" << px(m.epoch) << "' y='" << y0 + h + 16 << "' text-anchor='middle'>"
        << m.epoch << "</text>\n";
  svg << "<text x='" << x0 + w / 2 << "' y='" << y0 + h + 34
      << "' text-anchor='middle'>epoch</text>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const Series &s = series[i];
    svg << "<polyline fill='none' stroke-width='2' stroke='" << s.colour << "' points='";
    for (size_t r = 0; r < rows.size(); ++r)
      if (std::isfinite(s.values[r]))
        svg << px(rows[r].epoch) << "," << py(s.values[r]) << " ";
    svg << "'/>\n<text x='" << x0 + 10 << "' y='" << y0 + 16 + 16 * double(i) << "' fill='"
        << s.colour << "'>" << s.label << "</text>\n";
  }
}

} // namespace

bool resnetc::train::writeCurvesSvg(const std::string &path, const std::vector<EpochMetrics> &rows,
                                    const std::string &title, std::string &error) {
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << 2 * kPanelWidth << "' height='"
      << kPanelHeight << "' font-family='sans-serif' font-size='12'>\n"
      << "<title>" << title << "</title>\n<rect width='100%' height='100%' fill='white'/>\n";
  if (!rows.empty()) {
    Series loss{"train loss", "#1f77b4", {}}, trainAccuracy{"train accuracy %", "#ff7f0e", {}},
        testAccuracy{"test accuracy %", "#2ca02c", {}};
    for (const EpochMetrics &m : rows) {
      loss.values.push_back(m.trainLoss);
      trainAccuracy.values.push_back(100 * m.trainAccuracy);
      testAccuracy.values.push_back(100 * m.testAccuracy);
    }
    drawPanel(svg, 0, title + ": loss", rows, {loss});
    drawPanel(svg, kPanelWidth, title + ": accuracy", rows, {trainAccuracy, testAccuracy});
  }
  svg << "</svg>\n";
  std::string text = svg.str();
  return writeFileAtomically(path, text.data(), text.size(), error);
}
