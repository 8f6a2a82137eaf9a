"""IR-Net binary layers for PyTorch (training and ONNX export only).

IR-Net (Qin et al., CVPR 2020) binarizes a convolution in two places:

Weights -- Libra Parameter Binarization (Libra-PB).  Per output channel o with
n = Cin*kh*kw latent weights W_o:

    mu_o   = mean(W_o)
    sigma_o = std(W_o - mu_o)                      unbiased (n - 1), no epsilon
    Wn_o   = (W_o - mu_o) / sigma_o                 zero mean, unit variance
    s_o    = 2 ** round(log2(mean |Wn_o|))          round half to even (torch.round)
    Qw_o   = sign(Wn_o) * s_o

Standardizing maximizes the entropy of the binary weights (half +1, half -1)
and s_o is a power of two, so inference applies it as a shift.  s_o is treated
as a constant in the backward pass (as in the official code).

Activations -- sign(x) with torch.sign, so sign(0) = 0 (PyTorch and ONNX agree).

Backward -- Error Decay Estimator (EDE).  The derivative of sign is replaced by

    d sign(x)/dx ~= k * t * (1 - tanh(t*x)^2),
    t = 10 ** (log10 Tmin + (log10 Tmax - log10 Tmin) * epoch / epochs),
    k = max(1/t, 1),

which starts close to the identity (t = Tmin = 0.1: k*t = 1, tanh almost
linear) and ends close to sign's true derivative (t = Tmax = 10).  EDE is used
for both the activations and the weights, as in the official code.

Ablation switches (``BinaryConfig``): ``libra`` turns weight standardization
and the bit-shift scale on or off (off: Qw = sign(W)); ``ede`` selects EDE or
the plain straight-through estimator (STE: identity for weights, the clipped
identity 1{|x| <= 1} for activations).  ``binary_activations = False`` gives
the 1W/32A variant.

In ``eval()`` mode every layer is a plain composition of torch ops, so the
legacy ONNX exporter writes the weight subgraph of docs (ReduceMean, Sub, Div,
Sqrt, Abs, Log, Round, Pow, Sign, Mul) and the activation path ``Sign -> Conv``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

try:
    import torch
except ImportError as exc:  # the runtime never needs torch; only these tools do
    raise ImportError("tools.irnet_torch needs PyTorch: install the training extra, "
                      "pip install '.[train]' (pins torch==2.13.0)") from exc
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "BinaryConfig", "IRNET", "PLAIN", "LIBRA_ONLY", "EDE_ONLY", "ABLATION_CONFIGS",
    "ede_parameters", "libra_pb_weight", "bitshift_scale", "BinaryConv2d", "BinaryLinear",
    "set_ede_epoch", "heavy_tailed_latent_weights",
]


@dataclass(frozen=True)
class BinaryConfig:
    """How a binary layer quantizes and which gradient estimator it trains with."""
    libra: bool = True                 # Libra-PB weight standardization + bit-shift scale
    ede: bool = True                   # EDE backward (else STE)
    binary_activations: bool = True    # False: 1W/32A (real-valued activations)
    tmin: float = 0.1
    tmax: float = 10.0

    def __post_init__(self):
        if not (0 < self.tmin <= self.tmax):
            raise ValueError(f"EDE needs 0 < tmin <= tmax, got tmin={self.tmin}, tmax={self.tmax}")


IRNET = BinaryConfig()
PLAIN = BinaryConfig(libra=False, ede=False)
LIBRA_ONLY = BinaryConfig(libra=True, ede=False)
EDE_ONLY = BinaryConfig(libra=False, ede=True)
ABLATION_CONFIGS = {"plain": PLAIN, "libra-pb": LIBRA_ONLY, "ede": EDE_ONLY, "ir-net": IRNET}


def ede_parameters(epoch: float, epochs: int, tmin: float = 0.1, tmax: float = 10.0) -> tuple[float, float]:
    """(k, t) of the EDE schedule at ``epoch`` (0 <= epoch <= epochs)."""
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    if not (0 < tmin <= tmax):
        raise ValueError(f"EDE needs 0 < tmin <= tmax, got tmin={tmin}, tmax={tmax}")
    progress = min(max(epoch / epochs, 0.0), 1.0)
    t = 10.0 ** (math.log10(tmin) + (math.log10(tmax) - math.log10(tmin)) * progress)
    return max(1.0 / t, 1.0), t


class _SignEDE(torch.autograd.Function):
    """sign(x) forward; EDE gradient k*t*(1 - tanh(t*x)^2) backward."""

    @staticmethod
    def forward(ctx, x, k: float, t: float):
        ctx.save_for_backward(x)
        ctx.k, ctx.t = k, t
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad = ctx.k * ctx.t * (1.0 - torch.tanh(ctx.t * x).square())
        return grad_out * grad, None, None


class _SignSTE(torch.autograd.Function):
    """sign(x) forward; straight-through backward, optionally clipped to |x| <= 1."""

    @staticmethod
    def forward(ctx, x, clipped: bool):
        ctx.save_for_backward(x)
        ctx.clipped = clipped
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        if ctx.clipped:
            return grad_out * (x.abs() <= 1).to(grad_out.dtype), None
        return grad_out, None


def bitshift_scale(wn: torch.Tensor) -> torch.Tensor:
    """s_o = 2^round(log2(mean|Wn_o|)) per output channel (dim 0), shaped to broadcast."""
    flat = wn.reshape(wn.shape[0], -1)
    exponent = torch.round(torch.log2(flat.abs().mean(dim=1)))
    return torch.pow(2.0, exponent).reshape((-1,) + (1,) * (wn.dim() - 1))


def libra_pb_weight(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(Wn, s): standardized weights and their bit-shift scale (detached)."""
    flat = w.reshape(w.shape[0], -1)
    centered = flat - flat.mean(dim=1, keepdim=True)
    wn = (centered / centered.std(dim=1, keepdim=True, unbiased=True)).reshape(w.shape)
    return wn, bitshift_scale(wn).detach()


class _BinaryMixin:
    """Shared state and binarization of BinaryConv2d / BinaryLinear."""

    def _init_binary(self, config: BinaryConfig):
        per_channel = self.weight[0].numel()
        if config.libra and per_channel < 2:
            raise ValueError(f"Libra-PB needs at least 2 weights per output channel (the unbiased "
                             f"std of {per_channel} value is undefined); use a larger layer or "
                             f"libra=False")
        self.config = config
        self.k, self.t = ede_parameters(0, 1, config.tmin, config.tmax)

    def set_ede_epoch(self, epoch: float, epochs: int):
        self.k, self.t = ede_parameters(epoch, epochs, self.config.tmin, self.config.tmax)

    def _sign(self, x: torch.Tensor, is_weight: bool) -> torch.Tensor:
        if not (self.training and torch.is_grad_enabled()):
            return torch.sign(x)          # export / inference: a plain Sign node
        if self.config.ede:
            return _SignEDE.apply(x, self.k, self.t)
        return _SignSTE.apply(x, not is_weight)

    def binary_weight(self) -> torch.Tensor:
        """Qw: sign(Wn)*s with Libra-PB, else sign(W)."""
        if not self.config.libra:
            return self._sign(self.weight, is_weight=True)
        wn, scale = libra_pb_weight(self.weight)
        return self._sign(wn, is_weight=True) * scale

    def binary_input(self, x: torch.Tensor) -> torch.Tensor:
        return self._sign(x, is_weight=False) if self.config.binary_activations else x

    def extra_repr(self) -> str:
        c = self.config
        return (super().extra_repr() + f", libra={c.libra}, ede={c.ede}, "
                f"binary_activations={c.binary_activations}")


class BinaryConv2d(_BinaryMixin, nn.Conv2d):
    """IR-Net binary convolution: conv2d(sign(x), sign(Wn)*s); zero padding after sign."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=False, config: BinaryConfig = IRNET):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias)
        self._init_binary(config)

    def forward(self, x):
        return self._conv_forward(self.binary_input(x), self.binary_weight(), self.bias)


class BinaryLinear(_BinaryMixin, nn.Linear):
    """IR-Net binary fully connected layer: sign(x) @ (sign(Wn)*s)^T."""

    def __init__(self, in_features, out_features, bias=False, config: BinaryConfig = IRNET):
        super().__init__(in_features, out_features, bias)
        self._init_binary(config)

    def forward(self, x):
        return F.linear(self.binary_input(x), self.binary_weight(), self.bias)


def heavy_tailed_latent_weights(modules, seed: int = 0) -> None:
    """Draws every module's latent ``weight`` as Student-t (2 degrees of freedom)
    x 0.05, in place: heavy tailed, as training leaves a binary layer's latent
    weights, so per-channel weight statistics (Libra-PB's bit-shift scales,
    mean|w| scales) differ by channel instead of being all alike."""
    import numpy as np

    gen = np.random.default_rng(seed)
    with torch.no_grad():
        for m in modules:
            w = gen.standard_t(2.0, size=tuple(m.weight.shape)).astype(np.float32)
            m.weight.copy_(torch.from_numpy(w * 0.05))


def set_ede_epoch(model: nn.Module, epoch: float, epochs: int) -> tuple[float, float] | None:
    """Advance the EDE schedule of every binary layer; (k, t), or None without binary layers."""
    kt = None
    for module in model.modules():
        if isinstance(module, _BinaryMixin):
            module.set_ede_epoch(epoch, epochs)
            kt = (module.k, module.t)
    return kt
