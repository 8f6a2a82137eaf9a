"""Recognizing binary layers, and what fuses into binary and float ops.

A binary layer is a Conv (or Gemm / MatMul) whose data input is sign(x),
possibly through a constant Pad on either side of the Sign, and whose folded
weight is ±α_o: every weight of output channel o has the same magnitude
α_o > 0. Then conv(sign(x), W) = α_o · dot(sign(x), sign(W)) exactly, with dot
the ±1 dot product the xnor-popcount kernels compute.

What follows it can move into the binary op's epilogue
  y = clip((dot · 2^-shift · scale + bias) + residual)
when the intermediate results have no other consumer: BatchNormalization
(an exact per-channel affine map), an Add of another activation (the
residual), and Clip. VGG-Small puts a MaxPool between the conv and its BN;
max commutes with an increasing affine map, so that BN moves in front of
the MaxPool when every BN scale is positive.

With activation fusion on (the default; `--no-fuse-activation` turns it off),
ReActNet's RPReLU after that, Add(per-channel constant) → PRelu(per-channel
slope) → Add(per-channel constant), becomes the epilogue's activation stage
(`match_activation`), each step one float32 operation as in ONNX; lower.py
adds the next RSign's threshold and merges the doubling Concat of binary convs.

Float ops absorb what follows them the same way (`match_float_epilogue`): a
Conv its BatchNormalization, a MatMul the Add of a constant bias, and Conv,
Gemm, MatMul, BatchNormalization and Add a final Relu or Clip. Both kinds of
fusion are planned once, before anything is emitted (lower.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from .graph import ConvertError, Graph, Node

# Relative tolerance when checking that a channel's weights share one magnitude
# (a weight computed as sign·s·γ/σ in float32 may differ in the last ulp).
MAGNITUDE_RTOL = 4e-7
# A straight-through estimator on weights, h - c + c with h = ±α and c = clamp(w, -1, 1),
# that the exporter folded itself (the dynamo exporter does) rounds twice in float32:
# |result - h| <= 2^-24·(2α + |c|) <= 2^-24·(2α + 1). Magnitudes within twice that of each
# other are accepted as ±α, α their mean, but never when they differ by more than
# STE_MAX_RTOL relative (tiny real-valued weights are not binary).
STE_ROUNDING = 2.0 ** -24
STE_MAX_RTOL = 1e-3


@dataclass
class BinaryData:
    source: str                    # the float tensor whose sign is the op's input
    pads: List[int]                # [top, left, bottom, right] added by Pad nodes
    pad_value: int                 # what those padded taps hold: 0, +1 or -1
    path: List[Node]               # the Sign (and Pad) nodes between source and op


@dataclass
class BinaryWeight:
    negative: np.ndarray           # bool, same shape as the weight: sign bit
    alpha: np.ndarray              # float32 [O] > 0, the per-channel magnitude
    ste_rounding: bool = False     # some channel's magnitudes differ by a folded STE's rounding


@dataclass
class Activation:
    """RPReLU in a binary op's epilogue: z = y + shift_in; z < 0 ? z·slope : z; + shift_out.
    float32 [C] each; a shift is None when the graph has no such Add."""
    shift_in: Optional[np.ndarray]
    slope: np.ndarray
    shift_out: Optional[np.ndarray]


@dataclass
class Epilogue:
    scale: Optional[np.ndarray] = None     # folded BN, float64 [C]
    shift: Optional[np.ndarray] = None
    offset: Optional[np.ndarray] = None    # per-channel constants added (Add/Sub), float64 [C]
    residual: Optional[str] = None
    clip: Optional[Tuple[float, float]] = None
    relu: bool = False                                # float ops: a fused Relu
    fused: List[Node] = field(default_factory=list)   # nodes folded away, in order
    output: str = ""                                  # ONNX name of the fused result
    bn_after_pool: Optional[Node] = None              # VGG-Small: BN moved before MaxPool
    residual_repeat: int = 1                          # the residual holds channels / repeat channels
    act: Optional[Activation] = None                  # RPReLU after the clip (match_activation)
    threshold: Optional[np.ndarray] = None            # float32 [C]: bits are sign(output + threshold)
    bits_output: str = ""                             # ONNX name of output + threshold (its Add is fused)


def pad_spec(g: Graph, node: Node) -> Optional[Tuple[List[int], float]]:
    """(pads [begin..., end...], value) of a constant-mode Pad, or None."""
    if node.attrs.get("mode", "constant") != "constant":
        return None
    if g.opset < 11:
        pads, value = node.attrs.get("pads"), float(node.attrs.get("value", 0.0))
    else:
        pads = g.const(node.inputs[1]) if len(node.inputs) > 1 else None
        v = g.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else np.zeros(1)
        if v is None:
            return None
        value = float(np.asarray(v).reshape(-1)[0])
        if len(node.inputs) > 3 and node.inputs[3]:
            axes = g.const(node.inputs[3])
            if axes is None or pads is None:
                return None
            rank = len(g.shape(node.inputs[0]))
            full = [0] * (2 * rank)
            for k, a in enumerate(int(a) % rank for a in axes):
                full[a], full[a + rank] = int(pads[k]), int(pads[k + len(axes)])
            pads = full
    if pads is None:
        return None
    return [int(p) for p in np.asarray(pads).reshape(-1)], value


def _spatial_pads(g: Graph, pad: Node) -> Optional[Tuple[List[int], float]]:
    """[top, left, bottom, right] and value of a Pad that pads only H and W of an NCHW tensor."""
    spec = pad_spec(g, pad)
    if spec is None or len(spec[0]) != 8:
        return None
    p, value = spec
    if p[0] or p[1] or p[4] or p[5] or min(p) < 0:
        return None
    return [p[2], p[3], p[6], p[7]], value


def conv_pads(node: Node, in_shape, kernel, strides, dilations) -> List[int]:
    """ONNX Conv/Pool padding as [top, left, bottom, right], auto_pad resolved."""
    auto = node.attrs.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        p = node.ints("pads", [0, 0, 0, 0])
        if len(p) != 4:
            raise ConvertError(f"{node.describe()}: pads {p} must have 4 values for a 2-D window")
        return p
    if auto == "VALID":
        return [0, 0, 0, 0]
    begin, end = [], []
    for size, k, s, d in zip(in_shape[2:], kernel, strides, dilations):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        lo = total // 2 if auto == "SAME_UPPER" else total - total // 2
        begin.append(lo)
        end.append(total - lo)
    return begin + end


def match_binary_data(g: Graph, name: str, spatial: bool) -> Optional[BinaryData]:
    """Recognizes sign(x), Pad(sign(x)) and sign(Pad(x)) feeding a binary op."""
    node = g.producer.get(name)
    pads, pad_value, path = [0, 0, 0, 0], 0, []
    if spatial and node is not None and node.op == "Pad":
        spec = _spatial_pads(g, node)
        if spec is None or spec[1] not in (-1.0, 0.0, 1.0):
            return None
        pads, pad_value = spec[0], int(spec[1])
        path.append(node)
        node = g.producer.get(node.inputs[0])
    if node is None or node.op != "Sign":
        return None
    path.append(node)
    source = node.inputs[0]
    before = g.producer.get(source)
    if spatial and not any(pads) and before is not None and before.op == "Pad" \
            and g.sole_user(before.outputs[0]) is node:
        spec = _spatial_pads(g, before)
        if spec is not None:
            pads, pad_value = spec[0], int(np.sign(spec[1]))   # sign() of the padded value
            path.append(before)
            source = before.inputs[0]
    if not any(pads):
        pad_value = 0
    return BinaryData(source, pads, pad_value, path)


def binary_weight(w: np.ndarray) -> Tuple[Optional[BinaryWeight], str]:
    """Splits a ±α_o weight into sign bits and α; else (None, why not)."""
    flat = np.abs(w.reshape(w.shape[0], -1).astype(np.float64))
    alpha = flat.max(axis=1)
    if np.any(alpha == 0):
        return None, f"output channel {int(np.argmin(alpha))} has only zero weights"
    gap = alpha - flat.min(axis=1)
    exact = gap <= MAGNITUDE_RTOL * alpha
    ste_bound = np.minimum(2 * STE_ROUNDING * (2 * alpha + 1), STE_MAX_RTOL * alpha)
    if not np.all(exact | (gap <= ste_bound)):
        tolerance = np.maximum(MAGNITUDE_RTOL * alpha, ste_bound) / alpha
        o = int(np.argmax(gap / alpha - tolerance))
        return None, (f"weights are not ±α per output channel: output channel {o} has magnitudes "
                      f"{w.dtype.type(flat[o].min())} and {w.dtype.type(alpha[o])}, a relative gap of "
                      f"{gap[o] / alpha[o]:.3g} (tolerance {tolerance[o]:.3g}: {MAGNITUDE_RTOL:g}, or "
                      f"the float rounding of a folded straight-through estimator, 2^-23·(2α + 1))")
    if np.all(exact):
        return BinaryWeight(np.signbit(w), alpha.astype(np.float32)), ""
    alpha = np.where(exact, alpha, flat.mean(axis=1))
    return BinaryWeight(np.signbit(w), alpha.astype(np.float32), ste_rounding=True), ""


def per_channel(c: np.ndarray, shape) -> Optional[np.ndarray]:
    """The constant `c` as one value per channel (axis 1 of `shape`), flattened, or [v] when
    it is one value everywhere; None if it varies along another axis or does not
    broadcast to `shape` without growing it.

    Judged by value, not by declared shape: `bias.expand_as(x)` exports as a full
    (1, C, H, W) constant whose values repeat over H and W.
    """
    rank = len(shape)
    if c.ndim > rank or not np.issubdtype(c.dtype, np.number):
        return None
    full = c.reshape((1,) * (rank - c.ndim) + c.shape)
    if any(d not in (1, s) for d, s in zip(full.shape, shape)):
        return None
    first = full[tuple(slice(None) if axis == 1 else slice(0, 1) for axis in range(rank))]
    if not np.array_equal(np.broadcast_to(first, full.shape), full):
        return None
    values = first.reshape(-1)
    if values.size > 1 and np.all(values == values[0]):
        return values[:1]
    return values


def bn_affine(g: Graph, bn: Node) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """BatchNormalization (inference) as y = x·scale + shift per channel (float64)."""
    params = [g.const(i) for i in bn.inputs[1:5]]
    if len(params) != 4 or any(p is None for p in params):
        return None
    gamma, beta, mean, var = (np.asarray(p, dtype=np.float64).reshape(-1) for p in params)
    require(gamma.size == beta.size == mean.size == var.size, bn,
            f"scale, B, mean and var must have one size, got {gamma.size}, {beta.size}, {mean.size}, {var.size}")
    with np.errstate(invalid="ignore", divide="ignore"):   # var + eps <= 0: non-finite, refused on emit
        scale = gamma / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
    return scale, beta - mean * scale


def clip_bounds(g: Graph, node: Node) -> Optional[Tuple[float, float]]:
    """(lo, hi) of a Clip with constant bounds (absent = ±inf), else None."""
    if g.opset < 11:
        return float(node.attrs.get("min", -np.inf)), float(node.attrs.get("max", np.inf))
    bounds = []
    for k, dflt in ((1, -np.inf), (2, np.inf)):
        if len(node.inputs) > k and node.inputs[k]:
            v = g.const(node.inputs[k])
            if v is None:
                return None
            bounds.append(float(np.asarray(v).reshape(-1)[0]))
        else:
            bounds.append(dflt)
    return bounds[0], bounds[1]


def match_epilogue(g: Graph, out: str, channels: int, allow_residual: bool,
                   fuse_activation: bool = False) -> Epilogue:
    """Follows BN → Add → Clip from a binary op's output while each step is the sole user,
    then (fuse_activation) RPReLU; an Add of a per-channel constant that feeds a PRelu is
    left for the activation stage, with or without fusion, so both conversions compute
    the same float operations."""
    ep = Epilogue(output=out)
    user = g.sole_user(out)
    if user is not None and user.op == "BatchNormalization":
        affine = bn_affine(g, user)
        if affine is not None and affine[0].size == channels:
            ep.scale, ep.shift = affine
            ep.fused.append(user)
            ep.output = user.outputs[0]
            user = g.sole_user(ep.output)
    elif user is not None and user.op == "MaxPool" and len(user.outputs) == 1:
        bn = g.sole_user(user.outputs[0])
        if bn is not None and bn.op == "BatchNormalization":
            affine = bn_affine(g, bn)
            if affine is not None and affine[0].size == channels and np.all(affine[0] > 0):
                ep.scale, ep.shift = affine
                ep.bn_after_pool = bn
        return ep
    user = _absorb_offsets(g, ep, user, channels)
    if allow_residual and user is not None and user.op == "Add":
        other = [i for i in user.inputs if i != ep.output]
        if len(other) == 1 and other[0] not in g.consts \
                and g.shape(other[0]) == g.shape(ep.output) == g.shape(user.outputs[0]):
            ep.residual = other[0]
            if fuse_activation:
                _repeat_residual(g, ep, user)
            ep.fused.append(user)
            ep.output = user.outputs[0]
            user = _absorb_offsets(g, ep, g.sole_user(ep.output), channels)
    if user is not None and user.op == "Clip":
        bounds = clip_bounds(g, user)
        if bounds is not None:
            ep.clip = bounds
            ep.fused.append(user)
            ep.output = user.outputs[0]
            user = g.sole_user(ep.output)
    if fuse_activation and allow_residual:
        match_activation(g, ep, user, channels)
    return ep


def _repeat_residual(g: Graph, ep: Epilogue, add: Node) -> None:
    """A residual Concat([x, ..., x]) on the channel axis read only by this Add: the op
    reads x with channel repeat instead (output channel o adds x[..., o mod C_x])."""
    cat = g.producer.get(ep.residual)
    if cat is None or not concat_on_channels(g, cat) or len(set(cat.inputs)) != 1 \
            or g.sole_user(ep.residual) is not add:
        return
    ep.residual = cat.inputs[0]
    ep.residual_repeat = len(cat.inputs)
    ep.fused.append(cat)


def concat_on_channels(g: Graph, node: Node) -> bool:
    """Whether `node` is a Concat of two or more NCHW tensors along C."""
    axis = node.attrs.get("axis")
    return node.op == "Concat" and len(node.inputs) >= 2 and len(g.shape(node.outputs[0])) == 4 \
        and isinstance(axis, int) and axis % 4 == 1


def prelu_slope(g: Graph, node: Optional[Node], x: str, channels: int) -> Optional[np.ndarray]:
    """PRelu(x, slope) with a constant slope of one value per channel or one value in all:
    the slope as float32 [channels], else None."""
    if node is None or node.op != "PRelu" or len(node.inputs) != 2 or node.inputs[0] != x:
        return None
    c = g.const(node.inputs[1])
    if c is None or g.shape(node.outputs[0]) != g.shape(x):
        return None
    slope = per_channel(c, g.shape(x))
    if slope is None or slope.size not in (1, channels):
        return None
    return np.broadcast_to(slope, (channels,)).astype(np.float32)


def _channel_offset(g: Graph, node: Optional[Node], x: str, channels: int) -> Optional[np.ndarray]:
    """b as float32 [channels] when `node` is x + b / x - b, b one value per channel or one
    value in all (x - b is x + (-b) exactly), else None."""
    if node is None:
        return None
    b = constant_offset(g, node, x)
    if b is None or b.size not in (1, channels):
        return None
    return np.broadcast_to(b, (channels,)).astype(np.float32)


def _feeds_prelu(g: Graph, node: Node, x: str, channels: int) -> bool:
    """Whether `node` is RPReLU's first shift: x ± per-channel constant whose sole user is a
    PRelu that match_activation takes."""
    return _channel_offset(g, node, x, channels) is not None \
        and prelu_slope(g, g.sole_user(node.outputs[0]), node.outputs[0], channels) is not None


def match_activation(g: Graph, ep: Epilogue, user: Optional[Node], channels: int) -> None:
    """RPReLU after the epilogue's output: [Add(shift_in)] → PRelu(slope) → [Add(shift_out)],
    each the sole user of the one before, constants float32 with one value per channel (or
    one value, broadcast). Sets ep.act and moves ep.output past it."""
    x, nodes, shift_in = ep.output, [], None
    if user is not None and user.op != "PRelu":
        if not _feeds_prelu(g, user, x, channels):
            return
        shift_in = _channel_offset(g, user, x, channels)
        nodes.append(user)
        x = user.outputs[0]
        user = g.sole_user(x)
    slope = prelu_slope(g, user, x, channels)
    if slope is None:
        return
    nodes.append(user)
    x = user.outputs[0]
    after = g.sole_user(x)
    shift_out = _channel_offset(g, after, x, channels)
    if shift_out is not None:
        nodes.append(after)
    ep.act = Activation(shift_in, slope, shift_out)
    ep.fused.extend(nodes)
    ep.output = nodes[-1].outputs[0]


def constant_offset(g: Graph, node: Node, x: str) -> Optional[np.ndarray]:
    """b (float64, [C] or [1]) when `node` computes x + b or x - b with b a per-channel
    constant and x the activation `x`, else None."""
    if node.op not in ("Add", "Sub") or len(node.inputs) != 2 or x not in node.inputs:
        return None
    k = node.inputs.index(x)
    if node.op == "Sub" and k != 0:
        return None
    c = g.const(node.inputs[1 - k])
    if c is None or g.shape(node.outputs[0]) != g.shape(x):
        return None
    b = per_channel(c, g.shape(x))
    if b is None:
        return None
    b = b.astype(np.float64)
    return -b if node.op == "Sub" else b


def _absorb_offsets(g: Graph, ep: Epilogue, user: Optional[Node], channels: int) -> Optional[Node]:
    """Folds Add/Sub of per-channel constants that follow the epilogue's result into its
    bias (x + b moves inside: (dot·s + bias + b) + residual), except RPReLU's first shift
    (one that feeds a PRelu); returns the next user."""
    while user is not None:
        b = constant_offset(g, user, ep.output)
        if b is None or b.size not in (1, channels) or _feeds_prelu(g, user, ep.output, channels):
            return user
        ep.offset = (0 if ep.offset is None else ep.offset) + np.broadcast_to(b, (channels,))
        ep.fused.append(user)
        ep.output = user.outputs[0]
        user = g.sole_user(ep.output)
    return None


# Float ops that absorb the nodes after them (match_float_epilogue).
FLOAT_FUSING = ("Conv", "Gemm", "MatMul", "BatchNormalization", "Add", "Sub")


def _absorb(ep: Epilogue, node: Node) -> Optional[Node]:
    ep.fused.append(node)
    ep.output = node.outputs[0]
    return None


def match_float_epilogue(g: Graph, n: Node) -> Epilogue:
    """What a float op absorbs while each step is the sole user: after a Conv, a
    BatchNormalization with one value per output channel (folded into weights and bias);
    after a MatMul by a constant [K, M], an Add of a constant of size 1 or M (its bias);
    then a Relu or a Clip with constant bounds (the engine op's act)."""
    ep = Epilogue(output=n.outputs[0])
    user = g.sole_user(ep.output)
    w = g.const(n.inputs[1]) if n.op in ("Conv", "MatMul") else None
    if n.op == "Conv" and w is not None and user is not None and user.op == "BatchNormalization":
        affine = bn_affine(g, user)
        if affine is not None and affine[0].size == w.shape[0]:
            ep.scale, ep.shift = affine
            _absorb(ep, user)
            user = g.sole_user(ep.output)
    if n.op == "MatMul" and w is not None and w.ndim == 2 and user is not None and user.op == "Add":
        other = [i for i in user.inputs if i != ep.output]
        c = g.const(other[0]) if len(other) == 1 else None
        if c is not None and c.size in (1, w.shape[1]):
            ep.offset = np.broadcast_to(c.astype(np.float64).reshape(-1), (w.shape[1],))
            _absorb(ep, user)
            user = g.sole_user(ep.output)
    if user is not None and user.op == "Relu":
        ep.relu = True
        _absorb(ep, user)
    elif user is not None and user.op == "Clip":
        bounds = clip_bounds(g, user)
        if bounds is not None:
            ep.clip = bounds
            _absorb(ep, user)
    return ep


def act_attrs(ep: Epilogue) -> dict:
    """The engine `act` attributes of a float op's fused Relu/Clip."""
    if ep.relu:
        return {"act": "relu"}
    if ep.clip is not None:
        return {"act": "clip", "clip": [float(b) for b in ep.clip]}
    return {}


def sign_zero_risk(g: Graph, source: str) -> Optional[str]:
    """Why sign(source) can be exactly 0 by construction (engine maps it to +1), or None."""
    node = g.producer.get(source)
    while node is not None and node.op in ("MaxPool", "Pad"):
        node = g.producer.get(node.inputs[0])
    if node is None:
        return None
    if node.op == "Relu":
        return f"its input comes from Relu '{node.name}': every non-positive value is exactly 0"
    if node.op == "Clip":
        bounds = clip_bounds(g, node)
        if bounds is not None and (bounds[0] >= 0 or bounds[1] <= 0):
            return f"its input comes from Clip '{node.name}' with bounds {bounds}, which produces exact zeros"
    return None


def require(cond: bool, node: Node, message: str) -> None:
    if not cond:
        raise ConvertError(f"{node.describe()}: {message}")
