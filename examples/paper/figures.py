#!/usr/bin/env python3
"""The figures and tables of examples/paper/, as SVG and Markdown (no plotting
library: Python's standard library only).

  figures.py degradation DIR   DIR/runs.csv and DIR/metrics/*.csv -> DIR/fig6.svg, DIR/table.md
  figures.py responses DIR     DIR/<net>.csv (resnetc analyze responses) -> DIR/fig7.svg

runs.csv lists the runs: kind (plain or resnet), depth, seed, parameters, and
the metrics.csv of the run (relative to DIR).
"""
import csv
import math
import os
import statistics
import sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def nice_ticks(low, high, count=5):
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


def label(value):
    return ("%g" % value) if abs(value) >= 1e-3 or value == 0 else ("%.1e" % value)


class Panel:
    """One plot: data coordinates to SVG, axes with round ticks, a legend below."""

    def __init__(self, x, y, width, height, xs, ys, title, xlabel, ylabel):
        self.x, self.y, self.width, self.height = x, y, width, height
        self.xticks, self.yticks = nice_ticks(*xs), nice_ticks(*ys)
        self.x0, self.x1 = self.xticks[0], self.xticks[-1]
        self.y0, self.y1 = self.yticks[0], self.yticks[-1]
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.parts = []
        self.legend = []

    def px(self, value):
        return self.x + (value - self.x0) / (self.x1 - self.x0) * self.width

    def py(self, value):
        return self.y + self.height - (value - self.y0) / (self.y1 - self.y0) * self.height

    def line(self, points, colour, width, name=None, dash=None, markers=False):
        points = [(a, b) for a, b in points if b is not None and not math.isnan(b)]
        if not points:
            return
        path = " ".join("%.1f,%.1f" % (self.px(a), self.py(b)) for a, b in points)
        style = " stroke-dasharray='%s'" % dash if dash else ""
        self.parts.append("<polyline points='%s' fill='none' stroke='%s' stroke-width='%g'%s/>"
                          % (path, colour, width, style))
        if markers or len(points) == 1:
            for a, b in points:
                self.parts.append("<circle cx='%.1f' cy='%.1f' r='%g' fill='%s'/>"
                                  % (self.px(a), self.py(b), 1.5 + width / 2, colour))
        if name:
            self.legend.append((name, colour, width, dash))

    def svg(self):
        out = ["<g font-family='sans-serif' font-size='12'>"]
        out.append("<text x='%.1f' y='%.1f' text-anchor='middle' font-weight='bold'>%s</text>"
                   % (self.x + self.width / 2, self.y - 8, self.title))
        for tick in self.xticks:
            out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
                       % (self.px(tick), self.y, self.px(tick), self.y + self.height))
            out.append("<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>"
                       % (self.px(tick), self.y + self.height + 15, label(tick)))
        for tick in self.yticks:
            out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
                       % (self.x, self.py(tick), self.x + self.width, self.py(tick)))
            out.append("<text x='%.1f' y='%.1f' text-anchor='end'>%s</text>"
                       % (self.x - 5, self.py(tick) + 4, label(tick)))
        out.append("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='black'/>"
                   % (self.x, self.y, self.width, self.height))
        out.append("<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>"
                   % (self.x + self.width / 2, self.y + self.height + 32, self.xlabel))
        out.append("<text transform='translate(%.1f,%.1f) rotate(-90)' text-anchor='middle'>%s</text>"
                   % (self.x - 42, self.y + self.height / 2, self.ylabel))
        out.append("<clipPath id='c%d'><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/></clipPath>"
                   % (id(self), self.x, self.y, self.width, self.height))
        out.append("<g clip-path='url(#c%d)'>" % id(self))
        out.extend(self.parts)
        out.append("</g>")
        for i, (name, colour, width, dash) in enumerate(self.legend):
            lx = self.x + (i % 3) * self.width / 3
            ly = self.y + self.height + 52 + (i // 3) * 16
            style = " stroke-dasharray='%s'" % dash if dash else ""
            out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='%g'%s/>"
                       % (lx, ly - 4, lx + 22, ly - 4, colour, width, style))
            out.append("<text x='%.1f' y='%.1f'>%s</text>" % (lx + 27, ly, name))
        out.append("</g>")
        return "\n".join(out)


def write_svg(path, width, height, panels, title, note=None):
    with open(path + ".tmp", "w") as f:
        f.write("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'>\n" % (width, height))
        f.write("<title>%s</title>\n<rect width='100%%' height='100%%' fill='white'/>\n" % title)
        for panel in panels:
            f.write(panel.svg() + "\n")
        if note:
            f.write("<text x='%d' y='%d' font-family='sans-serif' font-size='12' "
                    "text-anchor='middle' fill='#444'>%s</text>\n" % (width / 2, height - 10, note))
        f.write("</svg>\n")
    os.replace(path + ".tmp", path)


def read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def mean_spread(values):
    """'mean ± sample std' (just the value for one)."""
    if len(values) == 1:
        return "%.2f" % values[0]
    return "%.2f ± %.2f" % (statistics.mean(values), statistics.stdev(values))


def test_column(rows):
    """The column of the epochs' test accuracy (a run with --validation names it so)."""
    return "test_accuracy" if "test_accuracy" in rows[0] else "validation_accuracy"


def degradation(folder):
    runs = read_rows(os.path.join(folder, "runs.csv"))
    curves = {}  # (kind, depth) -> list of metrics rows per seed
    parameters = {}
    for run in runs:
        key = (run["kind"], int(run["depth"]))
        rows = read_rows(os.path.join(folder, run["metrics"]))
        if not rows:
            sys.exit("figures.py: %s has no epoch" % run["metrics"])
        curves.setdefault(key, []).append(rows)
        parameters[key] = int(run["parameters"])
    lengths = sorted({len(rows) for seeds in curves.values() for rows in seeds})
    if len(lengths) > 1:
        sys.stderr.write("figures.py: warning: the runs have %s epochs: each net's table row "
                         "is of its own last epoch\n" % " and ".join(map(str, lengths)))
    epochs = lengths[-1]

    def error_curve(seeds, column):
        """Per epoch, the mean over seeds of the error in % (seeds that reached it)."""
        points = []
        for e in range(epochs):
            values = [100 * (1 - float(rows[e][column(rows)])) for rows in seeds if len(rows) > e]
            if values:
                points.append((e + 1, statistics.mean(values)))
        return points

    train_column = lambda rows: "train_accuracy"
    all_errors = [v for seeds in curves.values() for column in (train_column, test_column)
                  for _, v in error_curve(seeds, column)]
    high = min(max(all_errors), 40)
    panels = []
    for i, (kind, title) in enumerate((("plain", "plain networks"), ("resnet", "ResNets"))):
        panel = Panel(70 + i * 440, 40, 360, 280, (1, epochs), (0, high), title,
                      "epoch", "error (%)")
        depths = sorted(d for k, d in curves if k == kind)
        for j, depth in enumerate(depths):
            seeds = curves[(kind, depth)]
            colour = COLOURS[j % len(COLOURS)]
            name = "%s-%d" % ("plain" if kind == "plain" else "ResNet", depth)
            panel.line(error_curve(seeds, train_column), colour, 1, dash="4,3")
            panel.line(error_curve(seeds, test_column), colour, 2.5, name=name, markers=True)
        panels.append(panel)
    write_svg(os.path.join(folder, "fig6.svg"), 900, 440, panels,
              "Fashion-MNIST: training error (dashed) and test error (bold), as the paper's Fig. 6",
              "Fashion-MNIST, resnetc: dashed lines training error, bold lines test error "
              "(mean over the seeds)")

    lines = ["| network | layers | parameters | seeds | epochs | training error (%) | test error (%) |",
             "|---|---|---|---|---|---|---|"]
    for kind in ("plain", "resnet"):
        for depth in sorted(d for k, d in curves if k == kind):
            seeds = curves[(kind, depth)]
            train = [100 * (1 - float(rows[-1]["train_accuracy"])) for rows in seeds]
            test = [100 * (1 - float(rows[-1][test_column(rows)])) for rows in seeds]
            name = "%s-%d" % ("plain" if kind == "plain" else "ResNet", depth)
            lines.append("| %s | %d | %.2fM | %d | %s | %s | %s |"
                         % (name, depth, parameters[(kind, depth)] / 1e6, len(seeds),
                            "/".join(sorted({str(len(rows)) for rows in seeds})),
                            mean_spread(train), mean_spread(test)))
    lines.append("")
    lines.append("Errors of each run's last epoch; mean ± sample standard deviation over the "
                 "seeds. Training error: the running error of the epoch's augmented batches.")
    with open(os.path.join(folder, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def responses(folder, nets):
    """nets: NAME=FILE.csv items, in legend order."""
    series = []
    for item in nets:
        name, path = item.split("=", 1)
        rows = read_rows(os.path.join(folder, path))
        series.append((name, [float(r["std"]) for r in rows]))
    most = max(len(values) for _, values in series)
    high = max(max(values) for _, values in series)
    panels = [Panel(70, 40, 760, 220, (1, most), (0, high), "by layer (original order)",
                    "layer index", "std"),
              Panel(70, 360, 760, 220, (1, most), (0, high), "sorted by magnitude",
                    "layer index (sorted)", "std")]
    for i, (name, values) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        panels[0].line(list(enumerate(values, 1)), colour, 1.5, name=name, markers=True)
        panels[1].line(list(enumerate(sorted(values, reverse=True), 1)), colour, 1.5, name=name,
                       markers=True)
    write_svg(os.path.join(folder, "fig7.svg"), 880, 680, panels,
              "Fashion-MNIST: std of the 3x3 layers' responses, as the paper's Fig. 7")


def main(argv):
    if len(argv) >= 3 and argv[1] == "degradation":
        degradation(argv[2])
    elif len(argv) >= 4 and argv[1] == "responses":
        responses(argv[2], argv[3:])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
