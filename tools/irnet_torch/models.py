"""IR-Net model definitions (written for this project, following the official layouts).

Every 1W/1A model uses Hardtanh as its activation; the 1W/32A variant
(``BinaryConfig(binary_activations=False)``) uses ReLU instead.

* ``BiRealResNet``: the "Bi-Real" layout of the IR-Net ImageNet ResNet-18/34,
  a real-valued shortcut around *every* binary 3x3 conv,
  ``out = act(BN(bconv(x)) + shortcut(x))``, where the shortcut is the identity
  or, when the shape changes, an FP 1x1/stride-2 conv + BN.  Stem, pooling and
  head are configurable so the same class also builds the small digits model.
  The ImageNet head is AvgPool 7 -> BatchNorm1d(512) -> fc -> BatchNorm1d(1000)
  -> LogSoftmax: the official code has a BatchNorm1d after fc as well, and only
  with it does ResNet-18 have the 11,692,536 parameters of the paper's size
  table (46.77 MB).
* ``CifarResNet20``: Bi-Real layout, 16/32/64 channels, parameter-free
  "option A" shortcut (stride-2 slice + zero channel padding).
* ``CifarResNet18``: standard blocks (one shortcut per two binary convs, FP 1x1
  conv shortcut when the shape changes).
* ``VGGSmall``: MaxPool between a binary conv and its BatchNorm.
* ``FloatResNet18``: ordinary float32 ResNet-18 (torchvision layout, ReLU).

``reactnet_a`` (ReActNet-A, its own binarization: RSign, RPReLU, scaled-sign
weights) is defined in reactnet.py and registered here with the others.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import IRNET, BinaryConfig, BinaryConv2d
from .reactnet import ScaledSignConv2d, reactnet_a

__all__ = [
    "BiRealResNet", "CifarResNet20", "CifarResNet18", "VGGSmall", "FloatResNet18",
    "resnet18", "resnet34", "resnet20", "resnet18_cifar", "vgg_small", "resnet18_float",
    "birealnet_digits", "floatnet_digits", "reactnet_a", "MODELS", "build_model", "count_parameters",
    "count_binary_weights",
]


def _activation(config: BinaryConfig) -> nn.Module:
    return nn.Hardtanh() if config.binary_activations else nn.ReLU()


class BiRealBlock(nn.Module):
    """out = act(BN(bconv3x3(x)) + shortcut(x)): one binary conv, one shortcut."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, config: BinaryConfig,
                 binary: bool = True):
        super().__init__()
        self.conv = BinaryConv2d(in_ch, out_ch, 3, stride, 1, config=config) if binary \
            else nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = _activation(config)
        self.downsample = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act(self.bn(self.conv(x)) + shortcut)


class BiRealResNet(nn.Module):
    """Bi-Real layout ResNet: stages of binary 3x3 convs, each with its own shortcut.

    ``convs_per_stage[i]`` binary convs in stage i (ResNet-18: 4 each = 2 basic
    blocks of 2 convs); the first conv of every stage but the first has stride 2.
    ``binary_convs=False`` builds the float twin (same layout, float 3x3 convs).
    """

    def __init__(self, convs_per_stage: Sequence[int], widths: Sequence[int], num_classes: int,
                 in_channels: int = 3, stem_kernel: int = 7, stem_stride: int = 2,
                 stem_maxpool: bool = True, pool_kernel: int = 7, bn_after_fc: bool = True,
                 config: BinaryConfig = IRNET, binary_convs: bool = True):
        super().__init__()
        if len(convs_per_stage) != len(widths):
            raise ValueError("convs_per_stage and widths must have the same length")
        stem = [nn.Conv2d(in_channels, widths[0], stem_kernel, stem_stride, stem_kernel // 2,
                          bias=False), nn.BatchNorm2d(widths[0]), _activation(config)]
        if stem_maxpool:
            stem.append(nn.MaxPool2d(3, 2, 1))
        self.stem = nn.Sequential(*stem)
        blocks, in_ch = [], widths[0]
        for stage, (count, width) in enumerate(zip(convs_per_stage, widths)):
            for i in range(count):
                stride = 2 if (stage > 0 and i == 0) else 1
                blocks.append(BiRealBlock(in_ch, width, stride, config, binary_convs))
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AvgPool2d(pool_kernel)
        self.bn_features = nn.BatchNorm1d(in_ch)
        self.fc = nn.Linear(in_ch, num_classes)
        self.bn_logits = nn.BatchNorm1d(num_classes) if bn_after_fc else nn.Identity()
        self.log_softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        x = self.bn_features(torch.flatten(x, 1))
        return self.log_softmax(self.bn_logits(self.fc(x)))


def resnet18(num_classes: int = 1000, config: BinaryConfig = IRNET) -> BiRealResNet:
    """IR-Net ResNet-18, ImageNet, Bi-Real layout (16 binary convs), 224x224 input."""
    return BiRealResNet([4, 4, 4, 4], [64, 128, 256, 512], num_classes, config=config)


def resnet34(num_classes: int = 1000, config: BinaryConfig = IRNET) -> BiRealResNet:
    """IR-Net ResNet-34, ImageNet, Bi-Real layout (32 binary convs), 224x224 input."""
    return BiRealResNet([6, 8, 12, 6], [64, 128, 256, 512], num_classes, config=config)


DIGITS_INPUT = (1, 1, 16, 16)


def birealnet_digits(config: BinaryConfig = IRNET, widths=(16, 32, 64), convs_per_stage=(2, 2, 2),
                     binary_convs: bool = True) -> BiRealResNet:
    """Small IR-Net for 1x16x16 digits: FP 3x3 stem, binary stages 16x16 -> 8x8 -> 4x4."""
    return BiRealResNet(list(convs_per_stage), list(widths), 10, in_channels=1, stem_kernel=3,
                        stem_stride=1, stem_maxpool=False,
                        pool_kernel=DIGITS_INPUT[-1] >> (len(widths) - 1), bn_after_fc=False,
                        config=config, binary_convs=binary_convs)


def floatnet_digits(config: BinaryConfig = IRNET) -> BiRealResNet:
    """Float32 twin of ``birealnet_digits``: same layout and Hardtanh, float 3x3 convs."""
    return birealnet_digits(config, binary_convs=False)


class _OptionAShortcut(nn.Module):
    """Parameter-free shortcut: x[:, :, ::2, ::2] and zero channels on both sides."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        if (out_ch - in_ch) % 2:
            raise ValueError("option A shortcut needs an even channel increase")
        self.pad = (out_ch - in_ch) // 2

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class CifarResNet20(nn.Module):
    """IR-Net ResNet-20 for CIFAR-10, Bi-Real layout, option-A shortcuts (18 binary convs)."""

    def __init__(self, num_classes: int = 10, config: BinaryConfig = IRNET):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  _activation(config))
        blocks, in_ch = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for i in range(6):
                stride = 2 if (stage > 0 and i == 0) else 1
                block = BiRealBlock(width, width, 1, config) if stride == 1 and in_ch == width \
                    else _BiRealOptionABlock(in_ch, width, config)
                blocks.append(block)
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AvgPool2d(8)
        self.bn_features = nn.BatchNorm1d(64)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(self.bn_features(torch.flatten(x, 1)))


class _BiRealOptionABlock(nn.Module):
    """Stride-2 Bi-Real binary conv whose shortcut is the option-A slice + channel pad."""

    def __init__(self, in_ch: int, out_ch: int, config: BinaryConfig):
        super().__init__()
        self.conv = BinaryConv2d(in_ch, out_ch, 3, 2, 1, config=config)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = _activation(config)
        self.shortcut = _OptionAShortcut(in_ch, out_ch)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)) + self.shortcut(x))


class _StandardBlock(nn.Module):
    """act(BN(bconv(act(BN(bconv(x))))) + shortcut(x)): one shortcut per two convs."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, config: BinaryConfig):
        super().__init__()
        self.conv1 = BinaryConv2d(in_ch, out_ch, 3, stride, 1, config=config)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = BinaryConv2d(out_ch, out_ch, 3, 1, 1, config=config)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.act1, self.act2 = _activation(config), _activation(config)
        self.shortcut = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_ch))

    def forward(self, x):
        out = self.act1(self.bn1(self.conv1(x)))
        return self.act2(self.bn2(self.conv2(out)) + self.shortcut(x))


class CifarResNet18(nn.Module):
    """IR-Net ResNet-18 for CIFAR-10: FP 3x3 stem, standard blocks, AvgPool 4 -> fc."""

    def __init__(self, num_classes: int = 10, config: BinaryConfig = IRNET):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                                  _activation(config))
        blocks, in_ch = [], 64
        for stage, width in enumerate((64, 128, 256, 512)):
            for i in range(2):
                blocks.append(_StandardBlock(in_ch, width, 2 if stage > 0 and i == 0 else 1, config))
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AvgPool2d(4)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


class VGGSmall(nn.Module):
    """IR-Net VGG-Small for CIFAR-10: FP conv0, five binary convs, FP Linear(8192, 10)."""

    def __init__(self, num_classes: int = 10, config: BinaryConfig = IRNET):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 128, 3, 1, 1, bias=False)
        self.bn0 = nn.BatchNorm2d(128)
        # (in, out, MaxPool 2x2 between the conv and its BN)
        plan = [(128, 128, True), (128, 256, False), (256, 256, True), (256, 512, False),
                (512, 512, True)]
        layers = []
        for in_ch, out_ch, pool in plan:
            layers.append(BinaryConv2d(in_ch, out_ch, 3, 1, 1, config=config))
            if pool:
                layers.append(nn.MaxPool2d(2, 2))
            layers += [nn.BatchNorm2d(out_ch), _activation(config)]
        self.act0 = _activation(config)
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(512 * 4 * 4, num_classes)

    def forward(self, x):
        x = self.features(self.act0(self.bn0(self.conv0(x))))
        return self.fc(torch.flatten(x, 1))


class _FloatBasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.downsample = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_ch))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + shortcut)


class FloatResNet18(nn.Module):
    """Ordinary float32 ResNet-18 (torchvision layout, 11,689,512 parameters)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, in_ch = [], 64
        for stage, width in enumerate((64, 128, 256, 512)):
            for i in range(2):
                blocks.append(_FloatBasicBlock(in_ch, width, 2 if stage > 0 and i == 0 else 1))
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


def resnet20(num_classes: int = 10, config: BinaryConfig = IRNET) -> CifarResNet20:
    return CifarResNet20(num_classes, config)


def resnet18_cifar(num_classes: int = 10, config: BinaryConfig = IRNET) -> CifarResNet18:
    return CifarResNet18(num_classes, config)


def vgg_small(num_classes: int = 10, config: BinaryConfig = IRNET) -> VGGSmall:
    return VGGSmall(num_classes, config)


def resnet18_float(num_classes: int = 1000, config: BinaryConfig = IRNET) -> FloatResNet18:
    del config  # no binary layers
    return FloatResNet18(num_classes)


# name -> (constructor(config=...), input shape NCHW with batch 1)
MODELS: dict[str, tuple[Callable[..., nn.Module], tuple[int, int, int, int]]] = {
    "resnet18": (resnet18, (1, 3, 224, 224)),
    "resnet34": (resnet34, (1, 3, 224, 224)),
    "resnet20": (resnet20, (1, 3, 32, 32)),
    "resnet18_cifar": (resnet18_cifar, (1, 3, 32, 32)),
    "vgg_small": (vgg_small, (1, 3, 32, 32)),
    "resnet18_float": (resnet18_float, (1, 3, 224, 224)),
    "birealnet_digits": (birealnet_digits, DIGITS_INPUT),
    "floatnet_digits": (floatnet_digits, DIGITS_INPUT),
    "reactnet_a": (reactnet_a, (1, 3, 224, 224)),
}


def build_model(name: str, config: BinaryConfig = IRNET) -> tuple[nn.Module, tuple[int, ...]]:
    """(model, default input shape) for a name of ``MODELS``."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; choose one of {', '.join(sorted(MODELS))}")
    ctor, shape = MODELS[name]
    return ctor(config=config), shape


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_binary_weights(model: nn.Module) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (BinaryConv2d, ScaledSignConv2d)))
