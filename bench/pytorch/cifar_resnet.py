"""The CIFAR ResNets of He et al. (2016, section 4.2) with option A shortcuts,
as resnetc builds them, and helpers shared by the PyTorch benchmarks."""

import math
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F


def shortcut_a(x, out_channels, stride, pad_channels):
    """Option A: x[:, :, ::s, ::s] with zero channels for the extra width."""
    if stride != 1:
        x = x[:, :, ::stride, ::stride]
    extra = out_channels - x.shape[1]
    if extra:
        below = extra // 2 if pad_channels == "split" else 0
        x = F.pad(x, (0, 0, 0, 0, below, extra - below))
    return x


class BasicBlock(nn.Module):
    def __init__(self, in_channels, channels, stride, pad_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.channels, self.stride = channels, stride
        self.identity = stride == 1 and in_channels == channels
        self.pad_channels = pad_channels

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.identity else shortcut_a(x, self.channels, self.stride, self.pad_channels)
        return F.relu(y + s)


class CifarResNet(nn.Module):
    """6n+2 layers: resnet20_fmnist.rn (1x28x28, n = 3), resnet20.rn and
    resnet56.rn (3x32x32, n = 3 and 9); 10 classes."""

    def __init__(self, in_channels=1, classes=10, blocks=3, pad_channels="split"):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, width = [], 16
        for channels, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(blocks):
                layers.append(BasicBlock(width, channels, stride if b == 0 else 1, pad_channels))
                width = channels
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(width, classes)
        self.reset_parameters()

    def reset_parameters(self):
        # resnetc's initialisation (compiler/lib/Weights/InitializeWeights.cpp):
        # conv he_normal N(0, 2/fan_in); BN gamma 1, beta 0; fc U(+-1/sqrt(fan_in)).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.uniform_(m.bias, -bound, bound)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.blocks(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def count_macs(model, shape):
    """Forward multiply-adds per image of the convs and the fc, from their shapes."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    model.train(was_training)
    for h in handles:
        h.remove()
    return total


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
