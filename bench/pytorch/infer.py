#!/usr/bin/python3
"""Inference time of ResNet-18/50 (ImageNet) and ResNet-20/56 (CIFAR) in PyTorch.

The PyTorch side of bench/infer.sh: the networks of examples/models/, defined
here (torchvision is not used), in eval mode under torch.no_grad(), timed on
random images.  See bench/README.md.

  infer.py --model resnet50 --batch 1 [--threads T] [--runs 20] [--warmup 3] [--channels-last]
  infer.py --model resnet50 --count-macs      print the multiply-adds per image

The last lines are `inference: median X ms, best Y ms, Z images/s (threads T,
batch B, channels_last yes|no)` and `peak memory N MiB`.

Needs PyTorch (Debian's python3-torch: run it with /usr/bin/python3).
"""

import argparse
import math
import statistics
import time

MODELS = ("resnet18", "resnet50", "resnext50_32x4d", "resnet20", "resnet56")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=MODELS, default="resnet50")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=0,
                   help="intra-op threads (default: PyTorch's choice)")
    p.add_argument("--runs", type=int, default=20, help="timed runs (default %(default)s)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs first (default %(default)s)")
    p.add_argument("--channels-last", action="store_true",
                   help="torch.channels_last for the model and the input (NHWC, as resnetc)")
    p.add_argument("--variant", choices=("v1", "v1.5"), default="v1.5",
                   help="ResNet-50's bottleneck: v1.5 puts the stride on the 3x3 conv "
                        "(torchvision; the default), v1 on the first 1x1 (the paper, and "
                        "examples/models/resnet50.rn; bench/infer.sh passes v1)")
    p.add_argument("--pad-channels", choices=("split", "after"), default="split",
                   help="CIFAR option A: the zero channels split below and above the old ones "
                        "(resnetc's rn.zero_pad_shortcut; default) or all after them")
    p.add_argument("--fold-bn", action="store_true",
                   help="fold each batch norm into the conv before it (as resnetc does; "
                        "default: PyTorch's eager modules as they are)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count-macs", action="store_true",
                   help="print the forward multiply-adds per image and exit")
    args = p.parse_args(argv)
    if args.batch <= 0 or args.runs <= 0 or args.warmup < 0 or args.threads < 0:
        p.error("--batch and --runs must be positive, --warmup and --threads not negative")
    return args


# Imported (bench/pytorch/gpu.py): the defaults, and the command line is theirs.
args = parse_args() if __name__ == "__main__" else parse_args([])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from cifar_resnet import CifarResNet, count_macs, peak_mib  # noqa: E402
from imagenet_resnet import Basic, Bottleneck, ImageNetResNet  # noqa: E402

# Before any parallel work: the inter-op pool cannot be resized once used.
torch.set_num_interop_threads(1)
if args.threads > 0:
    torch.set_num_threads(args.threads)


# --- ImageNet ResNets: bench/pytorch/imagenet_resnet.py ---------------------

# --- CIFAR ResNets: bench/pytorch/cifar_resnet.py ---------------------------

def build(args):
    """The model and its input shape (C, H, W)."""
    if args.model == "resnet18":
        return ImageNetResNet(Basic, (2, 2, 2, 2)), (3, 224, 224)
    if args.model == "resnet50":
        return ImageNetResNet(Bottleneck, (3, 4, 6, 3), args.variant), (3, 224, 224)
    if args.model == "resnext50_32x4d":
        return (ImageNetResNet(Bottleneck, (3, 4, 6, 3), "v1.5", groups=32, base_width=4),
                (3, 224, 224))
    n = {"resnet20": 3, "resnet56": 9}[args.model]
    return CifarResNet(3, 10, n, args.pad_channels), (3, 32, 32)


def initialise(model):
    """He-normal convs, BN with non-trivial statistics (so that nothing folds
    away by accident), fc U(+-1/sqrt(fan_in)); the time does not depend on it."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.1, 0.1)
            nn.init.uniform_(m.running_mean, -0.1, 0.1)
            nn.init.uniform_(m.running_var, 0.5, 1.5)
        elif isinstance(m, nn.Linear):
            bound = 1 / math.sqrt(m.in_features)
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.uniform_(m.bias, -bound, bound)


def fold_batch_norm(model):
    """Folds every BatchNorm2d into the Conv2d that feeds it (eval mode), leaving
    an Identity in its place: the convs get a bias, as in resnetc's kernels."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    folded = 0
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                if isinstance(module[i], nn.Conv2d) and isinstance(module[i + 1], nn.BatchNorm2d):
                    module[i] = fuse_conv_bn_eval(module[i], module[i + 1])
                    module[i + 1] = nn.Identity()
                    folded += 1
        for conv, bn in (("conv", "bn"), ("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")):
            if (isinstance(getattr(module, conv, None), nn.Conv2d)
                    and isinstance(getattr(module, bn, None), nn.BatchNorm2d)):
                setattr(module, conv, fuse_conv_bn_eval(getattr(module, conv), getattr(module, bn)))
                setattr(module, bn, nn.Identity())
                folded += 1
    left = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    if left:
        raise SystemExit(f"--fold-bn: {left} batch norms are not after a conv")
    return folded


def main():
    torch.manual_seed(args.seed)
    model, shape = build(args)
    initialise(model)
    model.eval()
    if args.count_macs:
        print(f"multiply-adds per image forward: {count_macs(model, shape)}")
        return
    macs = count_macs(model, shape)
    folded = fold_batch_norm(model) if args.fold_bn else 0
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    inputs = torch.randn(args.batch, *shape).contiguous(memory_format=memory_format)
    threads = torch.get_num_threads()
    name = args.model + (f" ({args.variant})" if args.model == "resnet50" else "")
    print(f"{name}, PyTorch {torch.__version__}: {macs / 1e6:.2f}M multiply-adds an image, "
          f"input {args.batch}x{'x'.join(map(str, shape))}, "
          f"{'channels_last' if args.channels_last else 'NCHW'}, {threads} threads, "
          f"{f'{folded} batch norms folded' if args.fold_bn else 'batch norms as modules'}; "
          f"{args.warmup} warm-up and {args.runs} timed runs", flush=True)
    times = []
    with torch.no_grad():
        for i in range(args.warmup + args.runs):
            start = time.perf_counter()
            logits = model(inputs)
            elapsed = 1e3 * (time.perf_counter() - start)  # CPU: the call returns when done
            if i >= args.warmup:
                times.append(elapsed)
                print(f"run {i - args.warmup + 1}: {elapsed:.2f} ms", flush=True)
    if not torch.isfinite(logits).all():
        raise SystemExit("a logit is not finite")
    median, best = statistics.median(times), min(times)
    flops = 2 * macs * args.batch
    print(f"inference: {flops / 1e9:.3f} GFLOP a batch (2 x multiply-adds x batch), "
          f"{flops / median / 1e6:.1f} GFLOP/s at the median")
    print(f"inference: median {median:.2f} ms, best {best:.2f} ms, "
          f"{args.batch / median * 1e3:.1f} images/s (threads {threads}, batch {args.batch}, "
          f"channels_last {'yes' if args.channels_last else 'no'})")
    print(f"peak memory {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
