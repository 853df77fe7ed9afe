"""The ImageNet ResNets of He et al. (2016, Table 1) with option B shortcuts, and
ResNeXt's grouped bottleneck, as examples/models/resnet18.rn, resnet50.rn and
resnext50_32x4d.rn build them (torchvision is not used). Shared by
bench/pytorch/infer.py and resnet20_fmnist.py (the ResNet-50 training step)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


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
