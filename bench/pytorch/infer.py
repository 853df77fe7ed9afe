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
import torch.nn.functional as F  # noqa: E402
from cifar_resnet import CifarResNet, count_macs, peak_mib  # noqa: E402

# Before any parallel work: the inter-op pool cannot be resized once used.
torch.set_num_interop_threads(1)
if args.threads > 0:
    torch.set_num_threads(args.threads)


# --- ImageNet ResNets (He et al. 2016, Table 1; option B shortcuts) -----------

def conv_bn(in_channels, out_channels, kernel, stride):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels))


class Basic(nn.Module):
    """conv 3x3 (stride) BN ReLU, conv 3x3 BN, + shortcut, ReLU."""
    expansion = 1

    def __init__(self, in_channels, width, stride, variant=None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        # Option B: a projection (1x1 conv with the stride, BN) only where the
        # shape changes.
        self.shortcut = (conv_bn(in_channels, width, 1, stride)
                         if stride != 1 or in_channels != width else nn.Identity())

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class Bottleneck(nn.Module):
    """conv 1x1 BN ReLU, conv 3x3 BN ReLU, conv 1x1 (x4) BN, + shortcut, ReLU.
    v1 has the stride on the first 1x1, v1.5 on the 3x3; with groups, the 3x3
    is grouped (ResNeXt, as examples/models/resnext50_32x4d.rn)."""
    expansion = 4

    def __init__(self, in_channels, width, stride, variant="v1.5", groups=1, base_width=64):
        super().__init__()
        s1, s2 = (stride, 1) if variant == "v1" else (1, stride)
        out = width * self.expansion
        inner = width * base_width // 64 * groups  # ResNeXt: grouped 3x3 (Xie et al.)
        self.conv1 = nn.Conv2d(in_channels, inner, 1, s1, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(inner)
        self.conv2 = nn.Conv2d(inner, inner, 3, s2, 1, bias=False, groups=groups)
        self.bn2 = nn.BatchNorm2d(inner)
        self.conv3 = nn.Conv2d(inner, out, 1, 1, 0, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = (conv_bn(in_channels, out, 1, stride)
                         if stride != 1 or in_channels != out else nn.Identity())

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + self.shortcut(x))


class ImageNetResNet(nn.Module):
    """examples/models/resnet18.rn and resnet50.rn: 3x224x224 -> 1000 classes."""

    def __init__(self, block, blocks, variant="v1.5", classes=1000, **block_args):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1))
        layers, channels = [], 64
        for i, (width, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            for b in range(count):
                stride = 2 if i > 0 and b == 0 else 1
                layers.append(block(channels, width, stride, variant, **block_args))
                channels = width * block.expansion
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


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
