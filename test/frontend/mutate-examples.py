#!/usr/bin/env python3
"""Seeded mutations of the example models, as a user's typos would make them:
every mutated file that resnetc refuses must be refused with an error located
in that file (file:line:col: error:), never only in the prelude, never
without a location, and never with a crash.

    mutate-examples.py RESNETC EXAMPLES_DIR [--count N] [--seed S]
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")


def mutate(text, rng):
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    kind = rng.choice(["number", "name", "delete-line", "duplicate-line", "delete-char", "swap"])
    i = rng.choice(body)
    line = lines[i]
    tokens = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(line)]
    if kind == "number":
        numbers = [t for t in tokens if t[2].isdigit()]
        if numbers:
            start, end, _ = rng.choice(numbers)
            line = line[:start] + rng.choice(["-1", "0", "100000000", "3x3"]) + line[end:]
    elif kind == "name":
        names = [t for t in tokens if t[2][0].isalpha() or t[2][0] == "_"]
        if names:
            start, end, name = rng.choice(names)
            line = line[:start] + rng.choice([name + "x", name[:-1], name.upper()]) + line[end:]
    elif kind == "delete-line":
        line = None
    elif kind == "duplicate-line":
        lines.insert(i, line)
    elif kind == "delete-char" and line:
        at = rng.randrange(len(line))
        line = line[:at] + line[at + 1:]
    elif kind == "swap" and len(tokens) >= 2:
        a = rng.randrange(len(tokens) - 1)
        (s1, e1, t1), (s2, e2, t2) = tokens[a], tokens[a + 1]
        line = line[:s1] + t2 + line[e1:s2] + t1 + line[e2:]
    if line is None:
        del lines[i]
    else:
        lines[i] = line
    return "\n".join(lines), kind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("resnetc")
    parser.add_argument("examples")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    models = sorted(f for f in os.listdir(args.examples) if f.endswith(".rn"))
    accepted = located = 0
    failures = []
    with tempfile.TemporaryDirectory() as work:
        for n in range(args.count):
            model = rng.choice(models)
            with open(os.path.join(args.examples, model)) as f:
                text, kind = mutate(f.read(), rng)
            path = os.path.join(work, "m%03d_%s" % (n, model))
            with open(path, "w") as f:
                f.write(text)
            run = subprocess.run([args.resnetc, "stats", path], capture_output=True, text=True,
                                 timeout=60)
            if run.returncode == 0:
                accepted += 1
                continue
            first = next((l for l in run.stderr.splitlines() if "error:" in l), "")
            if run.returncode == 1 and re.match(re.escape(path) + r":\d+:\d+: error: ", first):
                located += 1
                continue
            failures.append((path, kind, run.returncode, first or run.stderr[:200]))
            with open(path) as f:
                failures[-1] += (f.read(),)
    print("%d mutations of %d example models: %d accepted, %d refused with an error in the "
          "mutated file, %d not" % (args.count, len(models), accepted, located, len(failures)))
    for path, kind, code, first, text in failures[:10]:
        print("--- %s (%s), exit %d:\n%s" % (os.path.basename(path), kind, code, first))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
