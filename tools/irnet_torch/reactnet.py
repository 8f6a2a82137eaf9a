"""ReActNet-A (Liu et al., ECCV 2020), written the way its training code writes it.

MobileNet-V1 channel plan at 224x224: a float 3x3/2 stem 3->32 + BN, 13 blocks,
global average pool and a float fc 1024->1000. Each block is

    RSign -> binary 3x3 conv (stride s) -> BN -> + shortcut -> RPReLU     (Cin -> Cin)
    RSign -> binary 1x1 conv            -> BN -> + shortcut -> RPReLU     (Cin -> Cout)

with a 2x2 average pool as the first shortcut when s = 2. A block that doubles
the channels runs two 1x1 convs Cin -> Cin, each with the block's first half as
its shortcut, and concatenates them: the shortcut of the doubled output is the
input duplicated. ``duplicate=True`` writes that doubling the other way training
code does: one 1x1 conv Cin -> 2 Cin plus the first half concatenated with itself.

* RSign(x) = sign(x + b_c), the shift written ``x + self.bias.expand_as(x)``
  and the sign through Bi-Real's ApproxSign straight-through estimator
  ``hard.detach() - soft.detach() + soft``;
* binary convs: weights ``mean|w_o| * sign(w)`` per output channel, through the
  estimator ``hard.detach() - clamp(w).detach() + clamp(w)``;
* RPReLU(x) = PReLU_c(x - gamma_c) + zeta_c, written as ReActNet does: a
  learnable shift (bias = -gamma), ``nn.PReLU``, a learnable shift (zeta).

In ``eval()`` every estimator's forward value is exactly its hard value, so the
exported ONNX computes ReActNet-A; the estimator arithmetic stays in the graph
for the converter to see through. ``randomize_like_trained`` gives the weights
a trained model's character (see there); ``randomize_learnable_shifts`` only the
shifts and slopes. Field-code idioms of other networks (IR-Net CIFAR, Bi-Real)
are in field.py, which shares ApproxSign and ScaledSignConv2d from here. Binary MACs per 224x224 pass: 4.82 G
(3x3: 4.28 G, 1x1: 0.54 G; ``binary_macs``).
"""
from __future__ import annotations

import copy
from typing import Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import heavy_tailed_latent_weights

__all__ = [
    "LearnableBias", "ApproxSign", "RSign", "RPReLU", "ScaledSignConv2d", "ReActBlock", "ReActNetA",
    "REACTNET_A_CHANNELS", "reactnet_a", "randomize_learnable_shifts", "randomize_like_trained", "binary_macs",
]

# Output channels of the stem and of the 13 blocks (MobileNet-V1). A block whose
# channels double has stride 2, except the first (32 -> 64 at 112x112).
REACTNET_A_CHANNELS = (32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)


class LearnableBias(nn.Module):
    """x + b_c: a learnable per-channel shift, as ReActNet writes it."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        return x + self.bias.expand_as(x)


class ApproxSign(nn.Module):
    """sign(x) forward; backward the derivative of Bi-Real's piecewise quadratic
    (-1 below -1, x^2 + 2x up to 0, -x^2 + 2x up to 1, 1 above)."""

    def forward(self, x):
        hard = torch.sign(x)
        below_m1 = (x < -1).type(torch.float32)
        below_0 = (x < 0).type(torch.float32)
        below_1 = (x < 1).type(torch.float32)
        soft = -1 * below_m1 + (x * x + 2 * x) * (1 - below_m1)
        soft = soft * below_0 + (-x * x + 2 * x) * (1 - below_0)
        soft = soft * below_1 + 1 * (1 - below_1)
        return hard.detach() - soft.detach() + soft


class RSign(nn.Module):
    """sign(x + b_c)."""

    def __init__(self, channels: int):
        super().__init__()
        self.move = LearnableBias(channels)
        self.sign = ApproxSign()

    def forward(self, x):
        return self.sign(self.move(x))


class RPReLU(nn.Module):
    """PReLU_c(x - gamma_c) + zeta_c, with shift_in.bias = -gamma and shift_out.bias = zeta."""

    def __init__(self, channels: int):
        super().__init__()
        self.shift_in = LearnableBias(channels)
        self.prelu = nn.PReLU(channels)
        self.shift_out = LearnableBias(channels)

    def forward(self, x):
        return self.shift_out(self.prelu(self.shift_in(x)))


class ScaledSignConv2d(nn.Conv2d):
    """Bi-Real / ReActNet binary conv of an already binarized input: weights
    ``mean|w_o| * sign(w)`` per output channel (the mean written as their code writes
    it, one dimension at a time), trained through the straight-through estimator
    over ``clamp(w, -1, 1)``."""

    def forward(self, x):
        w = self.weight
        scale = torch.mean(torch.mean(torch.mean(abs(w), dim=3, keepdim=True), dim=2, keepdim=True),
                           dim=1, keepdim=True).detach()
        hard = scale * torch.sign(w)
        soft = torch.clamp(w, -1.0, 1.0)
        binary = hard.detach() - soft.detach() + soft
        return F.conv2d(x, binary, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ReActBlock(nn.Module):
    """One ReActNet-A block, Cin -> Cout with Cout in (Cin, 2 Cin). When the channels
    double, ``duplicate`` selects the form: False, two 1x1 convs Cin -> Cin whose outputs
    are concatenated, each with the first half as its shortcut; True, one 1x1 conv
    Cin -> 2 Cin with the first half concatenated with itself as its shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, duplicate: bool = False):
        super().__init__()
        if out_channels not in (in_channels, 2 * in_channels):
            raise ValueError(f"a ReActNet-A block keeps or doubles its channels, not {in_channels} -> "
                             f"{out_channels}")
        c = in_channels
        self.sign1 = RSign(c)
        self.conv3x3 = ScaledSignConv2d(c, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.pool = nn.AvgPool2d(2, 2) if stride == 2 else None
        self.act1 = RPReLU(c)
        self.sign2 = RSign(c)
        self.doubles = out_channels == 2 * c
        split = self.doubles and not duplicate
        self.pointwise = nn.ModuleList(ScaledSignConv2d(c, c if split else out_channels, 1, bias=False)
                                       for _ in range(2 if split else 1))
        self.bn2 = nn.ModuleList(nn.BatchNorm2d(conv.out_channels) for conv in self.pointwise)
        self.act2 = RPReLU(out_channels)

    def forward(self, x):
        shortcut = x if self.pool is None else self.pool(x)
        out1 = self.act1(self.bn1(self.conv3x3(self.sign1(x))) + shortcut)
        binary = self.sign2(out1)
        if len(self.pointwise) == 2:
            out2 = torch.cat([bn(conv(binary)) + out1 for conv, bn in zip(self.pointwise, self.bn2)], dim=1)
        else:
            out2 = self.bn2[0](self.pointwise[0](binary))
            out2 = out2 + (torch.cat([out1, out1], dim=1) if self.doubles else out1)
        return self.act2(out2)


class ReActNetA(nn.Module):
    """ReActNet-A: float 3x3/2 stem + BN, 13 ReActBlocks, global average pool, float fc.
    ``width`` divides every channel count; ``duplicate`` is the doubling blocks' form."""

    def __init__(self, num_classes: int = 1000, channels: Iterable[int] = REACTNET_A_CHANNELS, width: int = 1,
                 duplicate: bool = False):
        super().__init__()
        channels = tuple(c // width for c in channels)
        self.stem = nn.Conv2d(3, channels[0], 3, 2, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(channels[0])
        blocks = []
        for i, (cin, cout) in enumerate(zip(channels, channels[1:])):
            stride = 2 if cout == 2 * cin and i > 0 else 1
            blocks.append(ReActBlock(cin, cout, stride, duplicate))
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels[-1], num_classes)

    def forward(self, x):
        x = self.blocks(self.stem_bn(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def reactnet_a(num_classes: int = 1000, config=None, width: int = 1, duplicate: bool = False) -> ReActNetA:
    """ReActNet-A for 1x3x224x224 (any multiple of 32 works). ``config`` (the
    IR-Net binarization settings of the other models) does not apply."""
    del config
    return ReActNetA(num_classes, width=width, duplicate=duplicate)


def randomize_learnable_shifts(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give RSign thresholds, RPReLU shifts ~ N(0, 0.2^2) and PReLU slopes in [0, 0.5]
    random values, as after training (zeros would leave every shift an exact no-op).
    Per RPReLU the draws are gamma (shift_in.bias = -gamma), zeta, slopes."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, RSign):
                m.move.bias.copy_(0.2 * torch.randn(m.move.bias.shape, generator=gen))
            elif isinstance(m, RPReLU):
                m.shift_in.bias.copy_(-0.2 * torch.randn(m.shift_in.bias.shape, generator=gen))
                m.shift_out.bias.copy_(0.2 * torch.randn(m.shift_out.bias.shape, generator=gen))
                m.prelu.weight.copy_(0.5 * torch.rand(m.prelu.weight.shape, generator=gen))
    return model


def randomize_like_trained(model: nn.Module, seed: int = 0, calibration_shape=(2, 3, 64, 64)) -> nn.Module:
    """Random weights with a trained ReActNet's character, in place:

    * binary latent weights Student-t (2 degrees of freedom) x 0.05: heavy
      tailed, so the per-channel scales mean|w_o| differ by channel;
    * RSign thresholds, RPReLU shifts and PReLU slopes as ``randomize_learnable_shifts``;
    * BatchNorm: affine gamma in [0.5, 1.5], beta ~ N(0, 0.2^2), and running
      statistics of the layer's actual inputs (one train-mode pass over a
      random calibration batch with momentum 1), so activations stay of order
      one through the 13 residual blocks and the thresholds are not negligible.

    Returns the model in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    heavy_tailed_latent_weights([m for m in model.modules() if isinstance(m, ScaledSignConv2d)], seed)
    randomize_learnable_shifts(model, seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.num_features, generator=gen))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=gen))
        norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = 1.0
        model.train()
        model(torch.randn(*calibration_shape, generator=gen))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    return model.eval()


def binary_macs(model: nn.Module, input_shape) -> dict[int, int]:
    """Binary multiply-accumulates of one pass, by kernel size (3, 1). Traced
    on a copy of the model on the meta device: shapes only, no arithmetic."""
    macs: dict[int, int] = {}

    def count(module, inputs, output):
        kh, kw = module.kernel_size
        macs[kh] = macs.get(kh, 0) + output.numel() * module.in_channels // module.groups * kh * kw

    shadow = copy.deepcopy(model).to("meta").eval()
    for m in shadow.modules():
        if isinstance(m, ScaledSignConv2d):
            m.register_forward_hook(count)
    with torch.no_grad():
        shadow(torch.zeros(*input_shape, device="meta"))
    return macs
