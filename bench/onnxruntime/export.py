#!/usr/bin/python3
"""Exports a network of bench/pytorch/infer.py to ONNX for ONNX Runtime.

The ONNX Runtime side of bench/infer.sh runs the very networks PyTorch runs
(the same definitions and initialisation, eval mode), exported by torch.onnx
with a fixed batch.  See bench/README.md.

  export.py --model resnet50 --variant v1 --batch 1 -o resnet50-v1-b1.onnx

Needs PyTorch (Debian's python3-torch: run it with /usr/bin/python3).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pytorch"))

import infer  # noqa: E402  (bench/pytorch/infer.py)
import torch  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=infer.MODELS, required=True)
    p.add_argument("--variant", choices=("v1", "v1.5"), default="v1.5")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args()
    if args.batch <= 0:
        p.error("--batch must be positive")
    torch.manual_seed(args.seed)
    model_args = infer.parse_args(["--model", args.model, "--variant", args.variant])
    model, shape = infer.build(model_args)
    infer.initialise(model)
    model.eval()
    inputs = torch.randn(args.batch, *shape)
    temporary = args.output + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, inputs, temporary, input_names=["images"],
                          output_names=["logits"], opset_version=13, do_constant_folding=True)
    os.replace(temporary, args.output)  # never a half-written model
    print(f"{args.output}: {args.model}, batch {args.batch}, input {'x'.join(map(str, shape))}")


if __name__ == "__main__":
    main()
