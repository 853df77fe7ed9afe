#!/usr/bin/python3
"""PyTorch on the GPU: the baseline of bench/gpu.sh.

  gpu.py --case infer-resnet50-b1|infer-resnet50-b32|train-step-resnet20|train-step-resnet50
         [--runs 20] [--warmup 3]

The same networks as bench/pytorch/infer.py and cifar_resnet.py (ResNet-50
v1, as examples/models/resnet50.rn), channels_last, on torch.device("cuda"),
timed with torch.cuda.synchronize() around each call, the input copied from
the host each call (as resnetc's API does). The last line is
`<case>: median X ms, best Y ms, Z images/s (batch B)`.

Exits 3, saying why, where torch has no CUDA device (Debian's python3-torch is
built without CUDA).
"""

import argparse
import statistics
import sys
import time

import torch
import torch.nn as nn

import infer
from cifar_resnet import CifarResNet

CASES = {
    # name: (network, batch, training)
    "infer-resnet50-b1": ("resnet50", 1, False),
    "infer-resnet50-b32": ("resnet50", 32, False),
    "train-step-resnet20": ("resnet20", 128, True),
    "train-step-resnet50": ("resnet50", 32, True),
}


def network(name):
    """The model and its input shape (C, H, W)."""
    if name == "resnet50":
        model = infer.ImageNetResNet(infer.Bottleneck, (3, 4, 6, 3), "v1")
        infer.initialise(model)
        return model, (3, 224, 224)
    return CifarResNet(3, 10, 3), (3, 32, 32)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=sorted(CASES), required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    if not torch.cuda.is_available():
        print(f"skipped: torch {torch.__version__} has no CUDA device "
              f"(built with CUDA {torch.version.cuda})")
        sys.exit(3)
    name, batch, training = CASES[args.case]
    device = torch.device("cuda")
    torch.manual_seed(1)
    model, shape = network(name)
    model = model.to(device, memory_format=torch.channels_last)
    images = torch.randn(batch, *shape).pin_memory()
    labels = torch.randint(0, 1000 if name == "resnet50" else 10, (batch,)).pin_memory()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    model.train(training)
    print(f"{args.case}, PyTorch {torch.__version__} on {torch.cuda.get_device_name()}, "
          f"batch {batch}, channels_last", flush=True)

    def call():
        x = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        if training:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), labels.to(device, non_blocking=True))
            loss.backward()
            optimizer.step()
            return loss.item()  # resnetc's step returns the loss to the host
        with torch.no_grad():
            return model(x).cpu()

    times = []
    for i in range(args.warmup + args.runs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        call()
        torch.cuda.synchronize()
        elapsed = 1e3 * (time.perf_counter() - start)
        if i >= args.warmup:
            times.append(elapsed)
    median, best = statistics.median(times), min(times)
    print(f"{args.case}: median {median:.2f} ms, best {best:.2f} ms, "
          f"{batch / median * 1e3:.1f} images/s (batch {batch})")


if __name__ == "__main__":
    main()
