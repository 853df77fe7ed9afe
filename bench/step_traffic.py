#!/usr/bin/env python3
"""Kernel calls and bytes a compiled training step (or forward pass) moves.

Reads the plan that `resnetc compile --emit=kernels` prints and counts, per
kernel kind, the calls of one step and the bytes of their arguments (each
tensor a call reads or writes counted once: a kernel that passes over its
input twice, as batch norm's statistics do, moves more). The table is how a
fusion is checked: fewer calls and fewer bytes, before and after.

usage: bench/step_traffic.py MODEL.rn [--batch N] [--section train|forward]
                             [--resnetc PATH] [-- extra resnetc compile flags]
"""
import argparse
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = re.compile(r"^  (\S+_k\d+) kind=([a-z0-9_]+)")
SECTION = re.compile(r"^([a-z ]+) \((\d+) steps\):$")
CALL = re.compile(r"^  (\S+_k\d+) ")
BUFFER = re.compile(r"@\d+\[([0-9,]+)\]")


def plan_of(args):
    command = [args.resnetc, "compile", args.model, "--emit=kernels", "--batch", str(args.batch)]
    if args.section == "train":
        command.append("--train")
    command += args.extra
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"step_traffic.py: {args.resnetc} is missing: build resnetc first")
    except subprocess.CalledProcessError as failure:
        sys.exit(f"step_traffic.py: resnetc failed:\n{failure.stderr}")


def traffic(plan, section):
    kinds, calls, bytes_ = {}, collections.Counter(), collections.Counter()
    current = None
    for line in plan.splitlines():
        if match := KERNEL.match(line):
            kinds[match.group(1)] = match.group(2)
            continue
        if match := SECTION.match(line):
            current = match.group(1)
            continue
        if not line.startswith("  "):
            current = None
        if current != section or not (match := CALL.match(line)):
            continue
        kind = kinds.get(match.group(1), "?")
        calls[kind] += 1
        for dims in BUFFER.findall(line):
            elements = 1
            for extent in dims.split(","):
                elements *= int(extent)
            bytes_[kind] += 4 * elements  # every tensor of the plan is 32-bit
    return calls, bytes_


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--section", choices=["train", "forward"], default="train")
    parser.add_argument("--resnetc", default=os.path.join(
        os.environ.get("RESNETC_BUILD_DIR", os.path.join(ROOT, "build")), "bin", "resnetc"))
    parser.add_argument("extra", nargs="*", help="more `resnetc compile` flags (after --)")
    args = parser.parse_args()
    if args.batch < 1:
        parser.error("--batch must be positive")
    calls, bytes_ = traffic(plan_of(args), args.section)
    if not calls:
        sys.exit(f"step_traffic.py: the plan has no '{args.section}' steps")
    print(f"{os.path.basename(args.model)}, batch {args.batch}, {args.section}: "
          "kernel calls and the MB of their arguments (each once a call)")
    print("| kernel | calls | MB |")
    print("|---|---|---|")
    for kind in sorted(calls, key=lambda k: (-bytes_[k], k)):
        print(f"| {kind} | {calls[kind]} | {bytes_[kind] / 1e6:.1f} |")
    print(f"| total | {sum(calls.values())} | {sum(bytes_.values()) / 1e6:.1f} |")


if __name__ == "__main__":
    main()
