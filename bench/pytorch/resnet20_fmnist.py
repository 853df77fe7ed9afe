#!/usr/bin/python3
"""ResNet-20 on Fashion-MNIST in PyTorch, with the recipe of `resnetc train`.

The network is examples/models/resnet20_fmnist.rn (He et al. 2015, the CIFAR
ResNet-20 on a 1x28x28 input, option A shortcuts), trained the way
trainer/lib/train/Trainer.cpp trains it, so that accuracy and speed can be
compared side by side with resnetc.  See bench/README.md.

Two modes:

  resnet20_fmnist.py [--epochs 15] [--augment] ...   train, one line per epoch
  resnet20_fmnist.py --time-steps N [--warmup-steps W] time N training steps
  resnet20_fmnist.py --count-macs                     print the multiply-adds

Needs PyTorch (Debian's python3-torch: run it with /usr/bin/python3) and numpy.
"""

import argparse
import gzip
import math
import os
import statistics
import struct
import sys
import time


# --network: (blocks a stage, input C x H x W) of the 6n+2-layer networks, and
# ResNet-50 (v1, as examples/models/resnet50.rn; ImageNet, 1000 classes).
NETWORKS = {
    "resnet20_fmnist": (3, (1, 28, 28)),
    "resnet20": (3, (3, 32, 32)),
    "resnet56": (9, (3, 32, 32)),
    "resnet50": ((3, 4, 6, 3), (3, 224, 224)),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                   help="folder of the gzipped IDX files (default %(default)s)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--schedule", default="multistep",
                   help="constant, cosine or multistep[:F1,F2,...] (divide by 10 at these "
                        "fractions of the run; default 0.5,0.75)")
    p.add_argument("--augment", action="store_true",
                   help="pad 4 with zeros, random 28x28 crop, random horizontal flip")
    p.add_argument("--threads", type=int, default=0,
                   help="intra-op threads (default: PyTorch's choice)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-images", type=int, default=0, help="first N only (0 = all)")
    p.add_argument("--test-images", type=int, default=0, help="first N only (0 = all)")
    p.add_argument("--channels-last", action="store_true",
                   help="torch.channels_last for the model and the inputs (NHWC, as resnetc)")
    p.add_argument("--pad-channels", choices=["split", "after"], default="split",
                   help="where option A puts the zero channels: split below and above the "
                        "old ones, as resnetc's rn.zero_pad_shortcut (default), or all after")
    p.add_argument("--csv", help="also write metrics.csv-style rows to this file")
    p.add_argument("--time-steps", type=int, default=0,
                   help="time N training steps on random data instead of training")
    p.add_argument("--warmup-steps", type=int, default=3,
                   help="untimed steps before --time-steps (default 3)")
    p.add_argument("--network", choices=sorted(NETWORKS), default="resnet20_fmnist",
                   help="with --time-steps and --count-macs: the network (default "
                        "%(default)s; resnet20 and resnet56 are the CIFAR ones, 3x32x32; "
                        "resnet50 the ImageNet one, 3x224x224)")
    p.add_argument("--count-macs", action="store_true",
                   help="print the forward multiply-adds per image and exit")
    args = p.parse_args(argv)
    if args.epochs <= 0 or args.batch <= 0 or not args.lr > 0:
        p.error("--epochs, --batch and --lr must be positive")
    if args.time_steps < 0 or args.warmup_steps < 0:
        p.error("--time-steps and --warmup-steps cannot be negative")
    try:
        args.milestones = parse_schedule(args.schedule)
    except ValueError as e:
        p.error(str(e))
    return args


def parse_schedule(text):
    """None for constant and cosine, the milestone fractions for multistep."""
    name, _, rest = text.partition(":")
    if name in ("constant", "cosine") and not rest and ":" not in text:
        return None
    if name != "multistep":
        raise ValueError(f"unknown schedule '{text}' (constant, multistep[:0.5,0.75] or cosine)")
    milestones, previous = [], 0.0
    for item in (rest or "0.5,0.75").split(","):
        try:
            f = float(item)
        except ValueError:
            f = float("nan")
        if not (previous < f < 1):
            raise ValueError("multistep milestones are increasing fractions of the run in "
                             f"(0, 1), got '{rest}'")
        milestones.append(f)
        previous = f
    return milestones


def learning_rate(args, progress):
    """resnetc's LearningRateSchedule::rate (trainer/lib/data/LearningRateSchedules.cpp)."""
    if args.schedule == "constant":
        return args.lr
    if args.schedule == "cosine":
        return 0.5 * args.lr * (1 + math.cos(math.pi * progress))
    rate = args.lr
    for m in args.milestones:
        if progress >= m:
            rate /= 10
    return rate


args = parse_args()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from cifar_resnet import CifarResNet, count_macs, peak_mib  # noqa: E402
from imagenet_resnet import Bottleneck, ImageNetResNet  # noqa: E402

# Before any parallel work: the inter-op pool cannot be resized once used.
torch.set_num_interop_threads(1)
if args.threads > 0:
    torch.set_num_threads(args.threads)


# --- The network (bench/pytorch/cifar_resnet.py) ----------------------------

def make_optimizer(model, lr):
    # All parameters, BN's and the fc bias included, as resnetc's sgd_update.
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)


# --- Data --------------------------------------------------------------------

def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        sys.exit(f"{path}: {body.size} bytes of data, the header says {shape} (truncated?)")
    return body.reshape(shape)


def idx_path(folder, base):
    for name in (base + ".gz", base):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit(f"no {base}[.gz] in {folder}")


def load_fashion_mnist(folder, train_images, test_images):
    def load(prefix, keep):
        x = read_idx(idx_path(folder, prefix + "-images-idx3-ubyte"))
        y = read_idx(idx_path(folder, prefix + "-labels-idx1-ubyte"))
        if len(x) != len(y):
            sys.exit(f"{folder}: {len(x)} {prefix} images but {len(y)} labels")
        if keep > 0:
            x, y = x[:keep], y[:keep]
        return x.astype(np.float32)[:, None] / 255.0, y.astype(np.int64)

    (xtrain, ytrain), (xtest, ytest) = load("train", train_images), load("t10k", test_images)
    # Per channel, over the training images kept, population std (as resnetc's
    # channelStatistics, in double).
    mean = xtrain.mean(axis=(0, 2, 3), dtype=np.float64)
    std = np.sqrt(np.maximum(xtrain.var(axis=(0, 2, 3), dtype=np.float64), 1e-24))
    shift = mean.astype(np.float32)[None, :, None, None]
    scale = std.astype(np.float32)[None, :, None, None]
    xtrain = (xtrain - shift) / scale
    xtest = (xtest - shift) / scale
    return (torch.from_numpy(xtrain), torch.from_numpy(ytrain),
            torch.from_numpy(xtest), torch.from_numpy(ytest), mean, std)


def augment(x, generator, pad=4):
    """Zero padding of `pad`, a random crop of the original size and a random
    horizontal flip, per image, in one gather for the whole batch.  Like
    resnetc, on the normalised images (the padding is 0 after normalisation)."""
    n, c, h, w = x.shape
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = dy[:, None] + torch.arange(h)[None, :]                        # n x h
    cols = torch.arange(w)[None, :].expand(n, w)
    cols = torch.where(flip[:, None], (w - 1) - cols, cols) + dx[:, None]  # n x w
    images = torch.arange(n)[:, None, None]
    # Advanced indices apart from the channel slice: the result is n x h x w x c.
    out = padded.permute(0, 2, 3, 1)[images, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


# --- Training ----------------------------------------------------------------

def evaluate(model, x, y, batch, memory_format):
    model.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, len(x), batch):
            inputs = x[first:first + batch].contiguous(memory_format=memory_format)
            correct += (model(inputs).argmax(1) == y[first:first + batch]).sum().item()
    model.train()
    return correct / max(len(x), 1)


def train(args):
    torch.manual_seed(args.seed)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    xtrain, ytrain, xtest, ytest, mean, std = load_fashion_mnist(
        args.data, args.train_images, args.test_images)
    if len(xtrain) < args.batch:
        sys.exit(f"there are {len(xtrain)} training images, fewer than a batch of {args.batch}")
    model = CifarResNet(xtrain.shape[1], 10, pad_channels=args.pad_channels).to(
        memory_format=memory_format)
    optimizer = make_optimizer(model, args.lr)
    shuffle = torch.Generator().manual_seed(args.seed)
    augmentation = torch.Generator().manual_seed(args.seed + 0x5EED)
    steps = len(xtrain) // args.batch  # the last partial batch is dropped
    print(f"training resnet20_fmnist (PyTorch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, {'channels_last' if args.channels_last else 'NCHW'}) on {len(xtrain)} "
          f"images (batch {args.batch}, {steps} steps an epoch), testing on {len(xtest)}; "
          f"mean {mean[0]:.4f} std {std[0]:.4f}; "
          f"{count_macs(model, tuple(xtrain.shape[1:])) / 1e6:.2f}M multiply-adds an image",
          flush=True)
    csv = None
    if args.csv:
        csv = open(args.csv, "w")
        csv.write("epoch,steps,learning_rate,train_loss,train_accuracy,test_accuracy,"
                  "seconds,images_per_second\n")
    model.train()
    accuracy = 0.0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(xtrain), generator=shuffle)
        loss_sum, correct, lr = 0.0, 0, args.lr
        for step in range(steps):
            lr = learning_rate(args, (epoch + step / steps) / args.epochs)
            for group in optimizer.param_groups:
                group["lr"] = lr
            index = order[step * args.batch:(step + 1) * args.batch]
            inputs, labels = xtrain[index], ytrain[index]
            if args.augment:
                inputs = augment(inputs, augmentation)
            inputs = inputs.contiguous(memory_format=memory_format)
            optimizer.zero_grad(set_to_none=True)
            logits = model(inputs)
            loss = F.cross_entropy(logits, labels)
            loss.backward()
            optimizer.step()
            value = loss.item()
            if not math.isfinite(value):
                sys.exit(f"the loss is not finite at epoch {epoch + 1}, step {step + 1} "
                         f"(learning rate {lr}): stopping")
            loss_sum += value
            correct += (logits.detach().argmax(1) == labels).sum().item()
        seconds = time.perf_counter() - start
        accuracy = evaluate(model, xtest, ytest, args.batch, memory_format)
        loss_mean, train_accuracy = loss_sum / steps, correct / (steps * args.batch)
        rate = steps * args.batch / seconds
        print(f"epoch {epoch + 1:2d}  lr {lr:.4f}  loss {loss_mean:.4f}  "
              f"train accuracy {100 * train_accuracy:.2f}%  test accuracy {100 * accuracy:.2f}%  "
              f"{seconds:.1f} s  {rate:.0f} images/s  {1e3 * seconds / steps:.1f} ms/step",
              flush=True)
        if csv:
            csv.write(f"{epoch + 1},{steps},{lr:.8g},{loss_mean:.8g},{train_accuracy:.8g},"
                      f"{accuracy:.8g},{seconds:.4f},{rate:.2f}\n")
            csv.flush()
    if csv:
        csv.close()
    print(f"test accuracy {100 * accuracy:.2f}%")
    print(f"peak memory {peak_mib():.0f} MiB")


def network(args):
    """The model of --network and its input shape (C, H, W)."""
    blocks, shape = NETWORKS[args.network]
    if args.network == "resnet50":
        return ImageNetResNet(Bottleneck, blocks, "v1"), shape
    return CifarResNet(in_channels=shape[0], blocks=blocks, pad_channels=args.pad_channels), shape


def time_steps(args):
    torch.manual_seed(args.seed)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model, shape = network(args)
    model = model.to(memory_format=memory_format)
    model.train()
    optimizer = make_optimizer(model, args.lr)
    macs = count_macs(model, shape)
    inputs = torch.randn(args.batch, *shape).contiguous(memory_format=memory_format)
    labels = torch.randint(0, model.fc.out_features, (args.batch,))
    threads = torch.get_num_threads()
    print(f"{args.network}, PyTorch {torch.__version__}: {macs / 1e6:.2f}M multiply-adds an "
          f"image forward; {args.warmup_steps} warm-up and {args.time_steps} timed steps",
          flush=True)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss.item()  # waits for the step, as resnetc's returns its loss

    for _ in range(args.warmup_steps):
        step()
    times = []
    for i in range(args.time_steps):
        start = time.perf_counter()
        loss = step()
        times.append(1e3 * (time.perf_counter() - start))
        print(f"step {i + 1:3d}  {times[-1]:.1f} ms  loss {loss:.4f}", flush=True)
    median, best = statistics.median(times), min(times)
    flops = 3 * 2 * macs * args.batch  # backward ~ 2x forward
    print(f"train step: {flops / 1e9:.2f} GFLOP (3 x 2 x multiply-adds x batch), "
          f"{flops / median / 1e6:.1f} GFLOP/s at the median")
    print(f"train step: median {median:.1f} ms, best {best:.1f} ms, "
          f"{args.batch / median * 1e3:.0f} images/s (threads {threads}, batch {args.batch}, "
          f"channels_last {'yes' if args.channels_last else 'no'})")
    print(f"peak memory {peak_mib():.0f} MiB")


if __name__ == "__main__":
    if args.count_macs:
        model, shape = network(args)
        print(f"multiply-adds per image forward: {count_macs(model, shape)}")
    elif args.time_steps > 0:
        time_steps(args)
    else:
        train(args)
