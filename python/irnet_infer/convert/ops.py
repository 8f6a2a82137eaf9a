"""Float (non-binary) ONNX ops → engine ops, one handler per ONNX op type.

Each handler reads its inputs' engine values from the Lowering, appends engine
nodes and records the value of its ONNX output(s). What a handler's op absorbs
(BN, bias, activation) was planned before emission (`lw.float_epilogue(n)`,
patterns.match_float_epilogue); handlers only apply it. Rank-4 tensors are NHWC
in the engine, so axes, pads and weights are remapped here (layout.py).
"""
from __future__ import annotations

from typing import Callable, Dict

import numpy as np

from ..irb import pack_bits
from . import layout
from .geometry import check_window, conv_attrs
from .graph import Node
from .patterns import (act_attrs, bn_affine, clip_bounds, constant_offset, conv_pads, pad_spec,
                       per_channel, require)
from .report import LayerInfo


def conv(lw, n: Node) -> None:
    g = lw.g
    x_shape = g.shape(n.inputs[0])
    require(len(x_shape) == 4, n, f"only 2-D convolution (rank-4 input) is supported, got shape {x_shape}")
    w = g.const(n.inputs[1])
    require(w is not None, n, "the weight must be a constant")
    require(w.ndim == 4, n, f"only 2-D convolution is supported, the weight has shape {list(w.shape)}")
    w = w.astype(np.float64)
    out_c = w.shape[0]
    bias = np.zeros(out_c)
    has_bias = len(n.inputs) > 2 and bool(n.inputs[2])
    if has_bias:
        b = g.const(n.inputs[2])
        require(b is not None, n, "the bias must be a constant")
        bias = b.astype(np.float64).reshape(-1)
    ep = lw.float_epilogue(n)
    if ep.scale is not None:
        w = w * ep.scale.reshape(-1, 1, 1, 1)
        bias = bias * ep.scale + ep.shift
        has_bias = True
    attrs = act_attrs(ep)
    attrs.update(conv_attrs(n, x_shape, g.shape(n.outputs[0]), w.shape))
    inputs = [lw.f32_of(n.inputs[0], n), lw.f32_const(n.name + ".w", layout.conv_weight_ohwi(w)),
              lw.f32_const(n.name + ".bias", bias) if has_bias else None]
    y = lw.new_f32(ep.output)
    lw.w.add_node("Conv2d", n.name, inputs, [y], attrs)
    macs = int(np.prod(g.shape(n.outputs[0]))) * int(np.prod(w.shape[1:]))
    lw.report.layer(LayerInfo(n.name, "Conv2d", False, macs, w.size,
                              lw.float_reason.get(n.name, "real-valued weights"), ""))


def gemm_like(lw, n: Node) -> None:
    """Gemm, or MatMul by a constant 2-D matrix (with a following constant Add as bias)."""
    g = lw.g
    x_shape = g.shape(n.inputs[0])
    require(len(x_shape) == 2, n, f"the data input must be 2-D [N, K], got shape {x_shape}")
    w = g.const(n.inputs[1])
    require(w is not None and w.ndim == 2, n, "the weight must be a 2-D constant")
    w = w.astype(np.float64)
    ep = lw.float_epilogue(n)
    bias = ep.offset
    if n.op == "Gemm":
        require(not n.attrs.get("transA", 0), n, "transA = 1 is not supported")
        w = (w if n.attrs.get("transB", 0) else w.T) * float(n.attrs.get("alpha", 1.0))
        if len(n.inputs) > 2 and n.inputs[2]:
            c = g.const(n.inputs[2])
            require(c is not None and c.size in (1, w.shape[0]), n, "C must be a constant of shape [M] or [1]")
            beta = float(n.attrs.get("beta", 1.0))
            bias = np.broadcast_to(c.astype(np.float64).reshape(-1), (w.shape[0],)) * beta
    else:
        w = w.T
    require(w.shape[1] == x_shape[1], n, f"the weight is [M, K] = {list(w.shape)} but the input is "
            f"{list(x_shape)}: K differs")
    src = lw.value(n.inputs[0], n)
    if src.flatten_chw is not None:
        w = layout.gemm_weight_for_nhwc_flatten(w, *src.flatten_chw)
    inputs = [lw.f32_of(n.inputs[0], n), lw.f32_const(n.name + ".w", w),
              None if bias is None else lw.f32_const(n.name + ".bias", bias)]
    lw.w.add_node("Gemm", n.name, inputs, [lw.new_f32(ep.output)], act_attrs(ep))
    lw.report.layer(LayerInfo(n.name, "Gemm", False, x_shape[0] * w.size, w.size,
                              lw.float_reason.get(n.name, "real-valued weights"), ""))


def batch_norm(lw, n: Node) -> None:
    affine = bn_affine(lw.g, n)
    require(affine is not None, n, "scale, bias, mean and var must be constants")
    shape = lw.g.shape(n.inputs[0])
    require(len(shape) in (2, 4), n, f"only [N,C] and [N,C,H,W] inputs are supported, got {shape}")
    ep = lw.float_epilogue(n)
    inputs = [lw.f32_of(n.inputs[0], n), lw.f32_const(n.name + ".scale", affine[0]),
              lw.f32_const(n.name + ".bias", affine[1])]
    lw.w.add_node("ChannelAffine", n.name, inputs, [lw.new_f32(ep.output)], act_attrs(ep))


def add(lw, n: Node) -> None:
    """Add of two activations of one shape, or x ± b with b a per-channel or scalar constant
    (Sub only in that form)."""
    g = lw.g
    a, b = n.inputs
    if a in g.consts and n.op == "Add":
        a, b = b, a
    shape = g.shape(n.outputs[0])
    require(a not in g.consts and g.shape(a) == shape, n, "the first operand must be an activation "
            "of the output's shape")
    ep = lw.float_epilogue(n)
    if b in g.consts:
        offset = constant_offset(g, n, a)
        require(offset is not None, n, f"constant operand of shape {g.consts[b].shape} is neither "
                f"a scalar nor one value per channel for output shape {shape}")
        other = lw.f32_const(n.name + ".b", offset)
    else:
        require(n.op == "Add", n, "only x - b with b a constant is supported (the engine has no "
                "subtraction of two activations)")
        require(g.shape(b) == shape, n, f"operands must have equal shapes, got {g.shape(a)} and {g.shape(b)}")
        other = lw.f32_of(b, n)
    lw.w.add_node("Add", n.name, [lw.f32_of(a, n), other], [lw.new_f32(ep.output)], act_attrs(ep))


def clip(lw, n: Node) -> None:
    bounds = clip_bounds(lw.g, n)
    require(bounds is not None, n, "the bounds must be constants")
    lw.w.add_node("Clip", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])],
                  {"clip": [float(b) for b in bounds]})


def relu(lw, n: Node) -> None:
    lw.w.add_node("Relu", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])])


def prelu(lw, n: Node) -> None:
    slope = lw.g.const(n.inputs[1])
    shape = lw.g.shape(n.inputs[0])
    slope = None if slope is None or len(shape) < 2 else per_channel(slope, shape)
    require(slope is not None, n, "slope must be a constant with one value per channel (axis 1) or one "
            "value, on an input of rank >= 2")
    lw.w.add_node("PRelu", n.name, [lw.f32_of(n.inputs[0], n), lw.f32_const(n.name + ".slope", slope)],
                  [lw.new_f32(n.outputs[0])])


def sign(lw, n: Node) -> None:
    """A Sign that also feeds float ops (e.g. a conv kept float) as ±1 floats.

    The catalog has no float sign; a depthwise 1×1 BinaryConv2d with +1 weights in
    float mode turns the packed signs back into ±1 exactly (dot = the one input bit).
    Rank-2 tensors go through it as [N, 1, 1, C]. sign(0) is +1 here, 0 in ONNX.
    """
    shape = lw.g.shape(n.inputs[0])
    require(len(shape) in (2, 4), n, f"only rank-2 and rank-4 inputs are supported, got {shape}")
    lw.report.warn(f"{n.describe()} also feeds float ops: its ±1 output comes from the packed signs, "
                   "so an exact 0 input gives +1 (ONNX: 0)")
    channels = shape[1]
    bits = lw.bits_of(n.inputs[0], n)
    as_nhwc = (shape[0], channels, 1, 1)          # ONNX-order shape of the rank-4 view
    if len(shape) == 2:
        view = lw.activation_tensor(n.inputs[0] + ":bits4d", "bits", as_nhwc)
        lw.w.add_node("Reshape", n.name + ":to4d", [bits], [view], {"shape": layout.engine_shape(as_nhwc)})
        bits = view
    ones = lw.constant(n.name + ".ones", "bits", [channels, 1, 1, 1], pack_bits(np.ones((channels, 1, 1, 1))))
    attrs = {"kernel": [1, 1], "groups": channels, "mode": "float"}
    inputs = [bits, ones, None, None, None, None]
    if len(shape) == 4:
        lw.w.add_node("BinaryConv2d", n.name, inputs, [lw.new_f32(n.outputs[0])], attrs)
        return
    y4 = lw.activation_tensor(n.outputs[0] + ":4d", "f32", as_nhwc)
    lw.w.add_node("BinaryConv2d", n.name, inputs, [y4], attrs)
    lw.w.add_node("Reshape", n.name + ":to2d", [y4], [lw.new_f32(n.outputs[0])], {"shape": list(shape)})


def _pool_attrs(lw, n: Node):
    """(attrs common to both pools, dilations) of a MaxPool/AveragePool node, geometry checked."""
    require("kernel_shape" in n.attrs, n, "attribute 'kernel_shape' is required")
    kernel = n.ints("kernel_shape", [])
    strides = n.ints("strides", [1] * len(kernel))
    dilations = n.ints("dilations", [1] * len(kernel))
    in_shape = lw.g.shape(n.inputs[0])
    pads = conv_pads(n, in_shape, kernel, strides, dilations)
    ceil_mode = int(n.attrs.get("ceil_mode", 0))
    check_window(n, in_shape, lw.g.shape(n.outputs[0]), kernel, strides, dilations, pads, ceil_mode)
    attrs = {"kernel": kernel, "strides": strides, "pads": pads, "ceil_mode": ceil_mode}
    return attrs, dilations


def max_pool(lw, n: Node) -> None:
    require(len(n.outputs) == 1 or not n.outputs[1], n, "the Indices output is not supported")
    require(len(lw.g.shape(n.inputs[0])) == 4, n, "only 2-D pooling is supported")
    attrs, dilations = _pool_attrs(lw, n)
    attrs["dilations"] = dilations
    lw.w.add_node("MaxPool", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])], attrs)


def average_pool(lw, n: Node) -> None:
    require(len(lw.g.shape(n.inputs[0])) == 4, n, "only 2-D pooling is supported")
    attrs, dilations = _pool_attrs(lw, n)
    require(all(d == 1 for d in dilations), n, "dilated average pooling is not supported")
    attrs["count_include_pad"] = int(n.attrs.get("count_include_pad", 0))
    lw.w.add_node("AveragePool", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])], attrs)


def global_average_pool(lw, n: Node) -> None:
    require(len(lw.g.shape(n.inputs[0])) == 4, n, "only rank-4 inputs are supported")
    lw.w.add_node("GlobalAveragePool", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])])


def reduce_mean(lw, n: Node) -> None:
    """ReduceMean over H and W (how the dynamo exporter writes adaptive_avg_pool2d(1))."""
    g = lw.g
    shape = g.shape(n.inputs[0])
    axes = n.attrs.get("axes")
    if axes is None and len(n.inputs) > 1 and n.inputs[1]:
        axes = g.const(n.inputs[1])
    spatial = axes is not None and sorted(int(a) % 4 for a in np.asarray(axes).reshape(-1)) == [2, 3]
    require(len(shape) == 4 and spatial, n,
            "only a mean over the spatial axes (2, 3) of a rank-4 tensor is supported")
    x = lw.f32_of(n.inputs[0], n)
    if n.attrs.get("keepdims", 1):
        lw.w.add_node("GlobalAveragePool", n.name, [x], [lw.new_f32(n.outputs[0])])
    else:
        pooled = lw.activation_tensor(n.outputs[0] + ":pooled", "f32", (shape[0], shape[1], 1, 1))
        lw.w.add_node("GlobalAveragePool", n.name, [x], [pooled])
        lw.w.add_node("Reshape", n.name + ":squeeze", [pooled], [lw.new_f32(n.outputs[0])],
                      {"shape": list(g.shape(n.outputs[0]))})


def reshape(lw, n: Node) -> None:
    """Flatten / Reshape / Squeeze / Unsqueeze: same elements, new shape (in ONNX order).

    The engine holds rank-4 tensors NHWC, so a reshape that mixes H·W > 1 with
    other axes needs the elements in NCHW order: either the single Gemm that
    reads the result gets its weight columns permuted, or a Transpose goes in.
    """
    g = lw.g
    x = lw.f32_of(n.inputs[0], n)
    in_shape, out_shape = g.shape(n.inputs[0]), g.shape(n.outputs[0])
    if layout.is_spatial(len(in_shape)) and in_shape[2] * in_shape[3] > 1:
        users = g.users(n.outputs[0])
        if len(out_shape) == 2 and out_shape[0] == in_shape[0] and n.outputs[0] not in g.outputs \
                and users and all(u.op in ("Gemm", "MatMul") and u.inputs[0] == n.outputs[0] for u in users):
            y = lw.new_f32(n.outputs[0])
            lw.values[n.outputs[0]].flatten_chw = tuple(in_shape[1:])
            lw.w.add_node("Reshape", n.name, [x], [y], {"shape": list(out_shape)})
            return
        nchw = lw.plain_tensor(n.inputs[0] + ":nchw", in_shape)
        lw.w.add_node("Transpose", n.name + ":to_nchw", [x], [nchw], {"perm": list(layout.NHWC_TO_NCHW)})
        x = nchw
    if layout.is_spatial(len(out_shape)) and out_shape[2] * out_shape[3] > 1:
        tmp = lw.plain_tensor(n.outputs[0] + ":nchw", out_shape)
        lw.w.add_node("Reshape", n.name, [x], [tmp], {"shape": list(out_shape)})
        lw.w.add_node("Transpose", n.name + ":to_nhwc", [tmp], [lw.new_f32(n.outputs[0])],
                      {"perm": list(layout.NCHW_TO_NHWC)})
        return
    lw.w.add_node("Reshape", n.name, [x], [lw.new_f32(n.outputs[0])],
                  {"shape": layout.engine_shape(out_shape)})


def identity(lw, n: Node) -> None:
    """An Identity/Dropout that produces a graph output (the others are removed at load): a copy."""
    lw.w.add_node("Reshape", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])],
                  {"shape": layout.engine_shape(lw.g.shape(n.outputs[0]))})


def _ints_from(lw, n: Node, index: int, attr: str):
    if attr in n.attrs:
        return [int(v) for v in n.attrs[attr]]
    if len(n.inputs) > index and n.inputs[index]:
        c = lw.g.const(n.inputs[index])
        require(c is not None, n, f"input {index} ({attr}) must be a constant")
        return [int(v) for v in np.asarray(c).reshape(-1)]
    return None


def slice_(lw, n: Node) -> None:
    shape = lw.g.shape(n.inputs[0])
    rank = len(shape)
    starts, ends = _ints_from(lw, n, 1, "starts"), _ints_from(lw, n, 2, "ends")
    axes = _ints_from(lw, n, 3, "axes") or list(range(len(starts)))
    steps = _ints_from(lw, n, 4, "steps") or [1] * len(starts)
    full_s, full_e, full_st = [0] * rank, list(shape), [1] * rank
    for a, s, e, st in zip(axes, starts, ends, steps):
        a %= rank
        require(st > 0, n, f"step {st} on axis {a}: only positive steps are supported")
        dim = shape[a]
        s = s + dim if s < 0 else s
        e = e + dim if e < 0 else e
        full_s[a], full_e[a], full_st[a] = min(max(s, 0), dim), min(max(e, 0), dim), st
    attrs = {"starts": layout.engine_per_axis(full_s, rank), "ends": layout.engine_per_axis(full_e, rank),
             "steps": layout.engine_per_axis(full_st, rank)}
    lw.w.add_node("Slice", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])], attrs)


def pad(lw, n: Node) -> None:
    spec = pad_spec(lw.g, n)
    require(spec is not None, n, "only constant-mode Pad with constant pads is supported")
    pads, value = spec
    rank = len(lw.g.shape(n.inputs[0]))
    pads = layout.engine_per_axis(pads[:rank], rank) + layout.engine_per_axis(pads[rank:], rank)
    require(min(pads) >= 0, n, "negative pads (cropping) are not supported")
    lw.w.add_node("Pad", n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])],
                  {"pads": pads, "value": [float(value)]})


def concat(lw, n: Node) -> None:
    rank = len(lw.g.shape(n.outputs[0]))
    xs = [lw.f32_of(i, n) for i in n.inputs]
    lw.w.add_node("Concat", n.name, xs, [lw.new_f32(n.outputs[0])],
                  {"axis": [layout.engine_axis(int(n.attrs["axis"]), rank)]})


def softmax(lw, n: Node) -> None:
    rank = len(lw.g.shape(n.inputs[0]))
    axis = int(n.attrs.get("axis", -1 if lw.g.opset >= 13 else 1)) % rank
    require(lw.g.opset >= 13 or axis == rank - 1, n,
            f"opset < 13 {n.op} flattens from axis {axis}; only the last axis is supported")
    lw.w.add_node(n.op, n.name, [lw.f32_of(n.inputs[0], n)], [lw.new_f32(n.outputs[0])],
                  {"axis": [layout.engine_axis(axis, rank)]})


HANDLERS: Dict[str, Callable] = {
    "Conv": conv, "Gemm": gemm_like, "MatMul": gemm_like, "BatchNormalization": batch_norm,
    "Add": add, "Sub": add, "Clip": clip, "Relu": relu, "PRelu": prelu, "Sign": sign,
    "MaxPool": max_pool, "AveragePool": average_pool, "GlobalAveragePool": global_average_pool,
    "ReduceMean": reduce_mean, "Flatten": reshape, "Reshape": reshape, "Squeeze": reshape,
    "Unsqueeze": reshape, "Identity": identity, "Dropout": identity, "Slice": slice_, "Pad": pad, "Concat": concat,
    "Softmax": softmax, "LogSoftmax": softmax,
}
