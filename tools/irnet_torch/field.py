"""Binary networks written the way public training code writes them.

The project's own layers (layers.py) export clean graphs. Training code from the
field uses other idioms, and these survive ONNX export as arithmetic that the
converter must see through (docs/converter.md, "Idioms from training code").
This module writes those idioms in this project's own code, so tests and
benchmarks can export them with both PyTorch exporters:

* IR-Net's CIFAR code: binarization inside the conv's forward (Libra-PB written
  with ``view``/``mean``/``std``), option-A shortcut as a lambda layer
  ``F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))``,
  ``avg_pool2d(out, out.size()[3])`` and ``out.view(out.size(0), -1)``.
* Bi-Real Net: the piecewise-quadratic ApproxSign as straight-through estimator
  arithmetic ``hard.detach() - soft.detach() + soft``; weights
  ``mean|w| * sign(w)`` through the same estimator over ``clamp(w, -1, 1)``;
  a real-valued shortcut around every binary conv, AvgPool + 1x1 conv downsampling.

ReActNet-A and its blocks (RSign, RPReLU, channel doubling by concatenation) are
in reactnet.py, which also owns the ApproxSign and the scaled-sign binary conv
this module's Bi-Real layers use. Everything is a plain composition of torch ops
in ``eval()``; no torchvision.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .reactnet import ApproxSign, ScaledSignConv2d

__all__ = [
    "SignSTE", "ClampSTESign", "IRNetConv2d", "IRNetCifarBlock", "IRNetCifarResNet20", "BiRealBlock",
    "BiRealResNet18", "bireal_resnet18", "irnet_cifar_resnet20",
]


class SignSTE(nn.Module):
    """sign(x) forward, identity backward: ``hard.detach() - x.detach() + x``."""

    def forward(self, x):
        return torch.sign(x).detach() - x.detach() + x


class ClampSTESign(nn.Module):
    """sign(x) forward, the clipped identity backward, in the other operand order:
    ``soft + (hard - soft).detach()``."""

    def forward(self, x):
        soft = torch.clamp(x, -1.0, 1.0)
        return soft + (torch.sign(x) - soft).detach()


class _BinaryQuantize(torch.autograd.Function):
    """IR-Net's quantizer as a custom autograd function (EDE backward at fixed k, t)."""

    @staticmethod
    def forward(ctx, x, k, t):
        ctx.save_for_backward(x, k, t)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_out):
        x, k, t = ctx.saved_tensors
        return k * t * (1 - torch.tanh(x * t).pow(2)) * grad_out, None, None


class IRNetConv2d(nn.Conv2d):
    """IR-Net's CIFAR binary conv: Libra-PB written with view/mean/std and a power-of-two
    scale from log/round/pow, sign of weights and inputs inside the conv's forward."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("k", torch.tensor([10.0]))
        self.register_buffer("t", torch.tensor([0.1]))

    def forward(self, x):
        w = self.weight
        bw = w - w.view(w.size(0), -1).mean(-1).view(w.size(0), 1, 1, 1)
        bw = bw / bw.view(bw.size(0), -1).std(-1).view(bw.size(0), 1, 1, 1)
        sw = torch.pow(torch.tensor([2.0] * bw.size(0)),
                       (torch.log(bw.abs().view(bw.size(0), -1).mean(-1)) / math.log(2)).round()
                       ).view(bw.size(0), 1, 1, 1).detach()
        bw = _BinaryQuantize.apply(bw, self.k, self.t) * sw
        ba = _BinaryQuantize.apply(x, self.k, self.t)
        return F.conv2d(ba, bw, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class IRNetCifarBlock(nn.Module):
    """IR-Net CIFAR basic block: two binary convs, a shortcut after each, hardtanh."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = IRNetConv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = IRNetConv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:   # option A: subsample, zero channels on both sides
            self.shortcut = _Lambda(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4),
                                                    "constant", 0))

    def forward(self, x):
        out = self.bn1(self.conv1(x))
        out += self.shortcut(x)
        out = F.hardtanh(out)
        x1 = out
        out = self.bn2(self.conv2(out))
        out += x1
        return F.hardtanh(out)


class IRNetCifarResNet20(nn.Module):
    """IR-Net's CIFAR-10 ResNet-20 1W/1A: float stem, 3 x 3 blocks (18 binary convs),
    BatchNorm1d before the float classifier."""

    def __init__(self, num_classes: int = 10, num_blocks: Sequence[int] = (3, 3, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, blocks, stride in zip((16, 32, 64), num_blocks, (1, 2, 2)):
            for s in [stride] + [1] * (blocks - 1):
                layers.append(IRNetCifarBlock(in_planes, planes, s))
                in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.bn2 = nn.BatchNorm1d(64)
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        out = F.hardtanh(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        return self.linear(self.bn2(out))


class BiRealBlock(nn.Module):
    """Bi-Real block: ApproxSign -> binary 3x3 conv -> BN, plus a real-valued shortcut
    (AvgPool 2x2 -> float 1x1 conv -> BN when the shape changes)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.binary_activation = ApproxSign()
        self.binary_conv = ScaledSignConv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.AvgPool2d(kernel_size=2, stride=stride),
                                            nn.Conv2d(inplanes, planes, 1, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.bn1(self.binary_conv(self.binary_activation(x)))
        out += residual
        return out


class BiRealResNet18(nn.Module):
    """Bi-Real Net ResNet-18: 7x7 float stem + max pool, 4 stages of 4 one-conv blocks,
    average pool and a float classifier."""

    def __init__(self, num_classes: int = 1000, widths: Sequence[int] = (64, 128, 256, 512),
                 blocks: Sequence[int] = (4, 4, 4, 4)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, inplanes = [], widths[0]
        for stage, (planes, n) in enumerate(zip(widths, blocks)):
            for i in range(n):
                layers.append(BiRealBlock(inplanes, planes, 2 if stage > 0 and i == 0 else 1))
                inplanes = planes
        self.layers = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        x = self.maxpool(self.bn1(self.conv1(x)))
        x = self.avgpool(self.layers(x))
        return self.fc(x.view(x.size(0), -1))


def irnet_cifar_resnet20(num_classes: int = 10) -> IRNetCifarResNet20:
    return IRNetCifarResNet20(num_classes)


def bireal_resnet18(num_classes: int = 1000, widths: Sequence[int] = (64, 128, 256, 512)) -> BiRealResNet18:
    return BiRealResNet18(num_classes, widths)
