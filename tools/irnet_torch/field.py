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
* ReActNet-A: learnable per-channel shifts before the sign (RSign) written as
  ``x + bias.expand_as(x)``, RPReLU, binary 3x3 and 1x1 convs, a 2x2
  average-pool shortcut and channel doubling by concatenation.

Everything is a plain composition of torch ops in ``eval()``; no torchvision.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "SignSTE", "ClampSTESign", "ApproxSign", "ScaledSignConv2d", "IRNetConv2d", "IRNetCifarBlock", "LearnableBias",
    "RSign", "RPReLU", "IRNetCifarResNet20", "BiRealBlock", "BiRealResNet18", "ReActBlock",
    "ReActNetA", "REACTNET_A_STAGES", "reactnet_a", "bireal_resnet18", "irnet_cifar_resnet20",
    "randomize_learnable_shifts",
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


class ApproxSign(nn.Module):
    """Bi-Real Net's activation: sign(x) forward, the derivative of the piecewise
    quadratic ApproxSign (-1; x^2 + 2x; -x^2 + 2x; 1) backward."""

    def forward(self, x):
        hard = torch.sign(x)
        below_m1 = (x < -1).type(torch.float32)
        below_0 = (x < 0).type(torch.float32)
        below_1 = (x < 1).type(torch.float32)
        soft = (-1) * below_m1 + (x * x + 2 * x) * (1 - below_m1)
        soft = soft * below_0 + (-x * x + 2 * x) * (1 - below_0)
        soft = soft * below_1 + 1 * (1 - below_1)
        return hard.detach() - soft.detach() + soft


class ScaledSignConv2d(nn.Conv2d):
    """Bi-Real / ReActNet binary conv: weights ``mean|w_o| * sign(w)`` per output channel,
    trained through the straight-through estimator over ``clamp(w, -1, 1)``. The input is
    binarized by the caller (an activation module before the conv)."""

    def forward(self, x):
        w = self.weight
        scale = torch.mean(torch.mean(torch.mean(abs(w), dim=3, keepdim=True), dim=2, keepdim=True),
                           dim=1, keepdim=True).detach()
        hard = scale * torch.sign(w)
        soft = torch.clamp(w, -1.0, 1.0)
        binary = hard.detach() - soft.detach() + soft
        return F.conv2d(x, binary, self.bias, self.stride, self.padding, self.dilation, self.groups)


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


class LearnableBias(nn.Module):
    """ReActNet's per-channel shift ``x + bias.expand_as(x)`` (RSign's threshold, RPReLU's moves)."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        return x + self.bias.expand_as(x)


class RSign(nn.Module):
    """ReActNet's RSign: sign(x + b_c) through Bi-Real's ApproxSign estimator."""

    def __init__(self, channels: int):
        super().__init__()
        self.move = LearnableBias(channels)
        self.sign = ApproxSign()

    def forward(self, x):
        return self.sign(self.move(x))


class RPReLU(nn.Module):
    """ReActNet's RPReLU: PReLU(x - gamma_c; beta_c) + zeta_c."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.prelu = nn.PReLU(channels, init=0.25)
        self.zeta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        return self.prelu(x - self.gamma.expand_as(x)) + self.zeta.expand_as(x)


class ReActBlock(nn.Module):
    """ReActNet-A block: RSign -> binary 3x3 conv (stride s) -> BN, + shortcut (2x2 average
    pool when s = 2), RPReLU; then RSign -> binary 1x1 conv -> BN, + shortcut, RPReLU.
    When the 1x1 doubles the channels, ``duplicate`` selects the shortcut: False writes
    ReActNet's two 1x1 convs whose outputs are concatenated, each with the input as its
    shortcut; True writes one 1x1 conv to 2C with the input concatenated with itself."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, duplicate: bool = False):
        super().__init__()
        if planes not in (inplanes, 2 * inplanes):
            raise ValueError(f"a ReActNet block keeps or doubles the channels, not {inplanes} -> {planes}")
        self.sign1 = RSign(inplanes)
        self.conv3x3 = ScaledSignConv2d(inplanes, inplanes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.pool = nn.AvgPool2d(2, 2) if stride == 2 else None
        self.act1 = RPReLU(inplanes)
        self.sign2 = RSign(inplanes)
        split = planes != inplanes and not duplicate
        self.pointwise = nn.ModuleList(ScaledSignConv2d(inplanes, inplanes if split else planes, 1, bias=False)
                                       for _ in range(2 if split else 1))
        self.bn2 = nn.ModuleList(nn.BatchNorm2d(c.out_channels) for c in self.pointwise)
        self.act2 = RPReLU(planes)

    def forward(self, x):
        shortcut = x if self.pool is None else self.pool(x)
        out1 = self.act1(self.bn1(self.conv3x3(self.sign1(x))) + shortcut)
        binary = self.sign2(out1)
        if len(self.pointwise) == 2:
            out2 = torch.cat([bn(conv(binary)) + out1 for conv, bn in zip(self.pointwise, self.bn2)], dim=1)
        else:
            out2 = self.bn2[0](self.pointwise[0](binary))
            out2 = out2 + (torch.cat([out1, out1], dim=1) if out2.shape[1] != out1.shape[1] else out1)
        return self.act2(out2)


# ReActNet-A (MobileNet-V1 layout): output channels and strides of its 13 blocks.
REACTNET_A_STAGES = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
                     (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class ReActNetA(nn.Module):
    """ReActNet-A: float 3x3/2 stem + BN, 13 ReActBlocks, global average pool, float fc.
    ``width`` divides every channel count (1 = the paper's 32 ... 1024)."""

    def __init__(self, num_classes: int = 1000, width: int = 1, duplicate: bool = False):
        super().__init__()
        stem = 32 // width
        self.conv1 = nn.Conv2d(3, stem, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        blocks, inplanes = [], stem
        for planes, stride in REACTNET_A_STAGES:
            blocks.append(ReActBlock(inplanes, planes // width, stride, duplicate))
            inplanes = planes // width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.blocks(self.bn1(self.conv1(x)))
        x = self.pool(x)
        return self.fc(x.view(x.size(0), -1))


def irnet_cifar_resnet20(num_classes: int = 10) -> IRNetCifarResNet20:
    return IRNetCifarResNet20(num_classes)


def bireal_resnet18(num_classes: int = 1000, widths: Sequence[int] = (64, 128, 256, 512)) -> BiRealResNet18:
    return BiRealResNet18(num_classes, widths)


def reactnet_a(num_classes: int = 1000, width: int = 1, duplicate: bool = False) -> ReActNetA:
    return ReActNetA(num_classes, width, duplicate)


def randomize_learnable_shifts(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give RSign/RPReLU shifts and PReLU slopes random values, as after training
    (zeros would leave every shift an exact no-op)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LearnableBias):
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=gen))
            elif isinstance(m, RPReLU):
                m.gamma.copy_(0.2 * torch.randn(m.gamma.shape, generator=gen))
                m.zeta.copy_(0.2 * torch.randn(m.zeta.shape, generator=gen))
                m.prelu.weight.copy_(0.5 * torch.rand(m.prelu.weight.shape, generator=gen))
    return model
