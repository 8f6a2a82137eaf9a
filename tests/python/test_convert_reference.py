"""A plain numpy interpreter of .irb files, written from docs/format.md alone.

It is the converter tests' independent reference (alongside onnxruntime) until
and besides the C++ runtime: every op computes the spec's formula directly,
bits tensors are held unpacked as ±1 floats, binary dot products are exact
integers. The tests at the bottom check the interpreter itself against direct
float computations, so a wrong reference cannot silently agree with a wrong
converter.
"""
from __future__ import annotations

import numpy as np
import pytest

from irnet_infer.irb import IrbModel, read_irb, unpack_bits

F32 = np.float32


def _act(y, attrs):
    act = attrs.get("act", "none")
    if act == "relu":
        return np.maximum(y, F32(0))
    if act == "clip":
        lo, hi = attrs["clip"]
        return np.clip(y, F32(lo), F32(hi))
    return y


def _pad_nhwc(x, pads, value):
    t, l, b, r = pads
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def _windows(x, kernel, strides, dilations):
    """[N, OH, OW, kh, kw, C] view of the taps of an already padded NHWC tensor."""
    n, h, w, c = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w - (kw - 1) * dw - 1) // sw + 1
    out = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, :, i, j, :] = x[:, i * dh: i * dh + (oh - 1) * sh + 1: sh,
                                      j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
    return out


def conv_nhwc(x, w, strides, dilations, groups, dtype=np.float64):
    """x padded NHWC, w [O, kh, kw, I/g] → [N, OH, OW, O] accumulated in `dtype`.

    Binary convs use float32: their ±1/0 products sum to integers below 2^24, exactly.
    """
    win = _windows(x.astype(dtype), w.shape[1:3], strides, dilations)
    o = w.shape[0]
    cin_g, cout_g = w.shape[3], o // groups
    outs = []
    for gi in range(groups):
        part = win[..., gi * cin_g:(gi + 1) * cin_g]
        wg = w[gi * cout_g:(gi + 1) * cout_g].astype(dtype)
        outs.append(np.tensordot(part, wg, axes=([3, 4, 5], [1, 2, 3])))
    return np.concatenate(outs, axis=-1)


def _epilogue(dot, ins, attrs, channels_last=True):
    """The binary ops' output transform, in the spec's order and in float32: each step
    present in `ins` is one float32 operation, an absent step is skipped."""
    shift, scale, bias = ins[2], ins[3], ins[4]
    residual, shift_in, slope, shift_out, threshold = (list(ins[5:10]) + [None] * 5)[:5]
    y = dot.astype(F32)
    if shift is not None:
        y = (y * np.exp2(-shift.astype(np.float64)).astype(F32)).astype(F32)
    if scale is not None:
        y = (y * scale).astype(F32)
    if bias is not None:
        y = (y + bias).astype(F32)
    if residual is not None:      # output channel o adds residual channel o mod C_r
        y = (y + np.tile(residual, y.shape[-1] // residual.shape[-1])).astype(F32)
    if "clip" in attrs:
        y = np.clip(y, F32(attrs["clip"][0]), F32(attrs["clip"][1]))
    if slope is not None:
        z = y if shift_in is None else (y + shift_in).astype(F32)
        z = np.where(z < 0, (z * slope).astype(F32), z)
        y = z if shift_out is None else (z + shift_out).astype(F32)
    mode = attrs.get("mode", "float")
    signs = np.where((y if threshold is None else (y + threshold).astype(F32)) < 0, F32(-1), F32(1))
    return {"float": [y], "bits": [signs], "float+bits": [y, signs], "int32": [dot.astype(np.int32)]}[mode]


def op_binary_conv2d(ins, attrs):
    x, w = ins[0], ins[1]
    pv = attrs.get("pad_value", [0])[0]
    xp = _pad_nhwc(x, attrs.get("pads", [0, 0, 0, 0]), F32(pv))
    dot = conv_nhwc(xp, w, attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1]),
                    attrs.get("groups", [1])[0], dtype=F32)
    return _epilogue(dot, ins, attrs)


def op_binary_gemm(ins, attrs):
    dot = ins[0].astype(np.float64) @ ins[1].astype(np.float64).T
    return _epilogue(np.rint(dot), list(ins) + [None], attrs)


def op_conv2d(ins, attrs):
    x, w, b = ins
    xp = _pad_nhwc(x, attrs.get("pads", [0, 0, 0, 0]), F32(0))
    y = conv_nhwc(xp, w, attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1]),
                  attrs.get("groups", [1])[0])
    if b is not None:
        y = y + b
    return [_act(y.astype(F32), attrs)]


def op_gemm(ins, attrs):
    y = ins[0].astype(np.float64) @ ins[1].astype(np.float64).T
    if ins[2] is not None:
        y = y + ins[2]
    return [_act(y.astype(F32), attrs)]


def _pool(x, attrs, reduce, fill):
    xp = _pad_nhwc(x, attrs.get("pads", [0, 0, 0, 0]), fill)
    assert attrs.get("ceil_mode", [0])[0] == 0
    win = _windows(xp, attrs["kernel"], attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1]))
    return reduce(win)


def op_max_pool(ins, attrs):
    return [_pool(ins[0], attrs, lambda win: win.max(axis=(3, 4)), F32(-np.inf))]


def op_average_pool(ins, attrs):
    x = ins[0]
    total = _pool(x, attrs, lambda win: win.astype(np.float64).sum(axis=(3, 4)), F32(0))
    if attrs.get("count_include_pad", [0])[0]:
        count = np.float64(np.prod(attrs["kernel"]))
    else:
        count = _pool(np.ones_like(x[:1, :, :, :1]), attrs,
                      lambda win: win.astype(np.float64).sum(axis=(3, 4)), F32(0))
    return [(total / count).astype(F32)]


def op_slice(ins, attrs):
    idx = tuple(slice(s, e, st) for s, e, st in zip(attrs["starts"], attrs["ends"], attrs["steps"]))
    return [ins[0][idx]]


def op_pad(ins, attrs):
    p = attrs["pads"]
    r = ins[0].ndim
    return [np.pad(ins[0], list(zip(p[:r], p[r:])), constant_values=F32(attrs.get("value", [0.0])[0]))]


def _log_softmax(x, axis):
    shifted = x.astype(np.float64) - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


OPS = {
    "BinaryConv2d": op_binary_conv2d,
    "BinaryGemm": op_binary_gemm,
    "SignPack": lambda ins, a: [np.where((ins[0] if len(ins) < 2 or ins[1] is None
                                          else (ins[0] + ins[1]).astype(F32)) < 0, F32(-1), F32(1))],
    "Conv2d": op_conv2d,
    "Gemm": op_gemm,
    "ChannelAffine": lambda ins, a: [_act((ins[0] * ins[1] + ins[2]).astype(F32), a)],
    "Clip": lambda ins, a: [np.clip(ins[0], F32(a["clip"][0]), F32(a["clip"][1]))],
    "Relu": lambda ins, a: [np.maximum(ins[0], F32(0))],
    "PRelu": lambda ins, a: [np.where(ins[0] < 0, ins[0] * ins[1], ins[0]).astype(F32)],
    "Add": lambda ins, a: [_act((ins[0] + ins[1]).astype(F32), a)],
    "MaxPool": op_max_pool,
    "AveragePool": op_average_pool,
    "GlobalAveragePool": lambda ins, a: [ins[0].astype(np.float64).mean(axis=(1, 2), keepdims=True).astype(F32)],
    "Reshape": lambda ins, a: [ins[0].reshape(a["shape"])],
    "Transpose": lambda ins, a: [np.ascontiguousarray(ins[0].transpose(a["perm"]))],
    "Slice": op_slice,
    "Pad": op_pad,
    "Concat": lambda ins, a: [np.concatenate(ins, axis=a["axis"][0])],
    "Softmax": lambda ins, a: [np.exp(_log_softmax(ins[0], a.get("axis", [-1])[0])).astype(F32)],
    "LogSoftmax": lambda ins, a: [_log_softmax(ins[0], a.get("axis", [-1])[0]).astype(F32)],
}


def _constant(t):
    if t.dtype == "bits":
        rows = t.data.reshape(-1, (t.shape[-1] + 63) // 64)
        return unpack_bits(rows, t.shape[-1]).reshape(t.shape)
    return t.data.reshape(t.shape)


def run_irb(model, *inputs):
    """Runs a parsed (or on-disk) .irb model on NCHW inputs; returns the outputs as ONNX shows them."""
    if not isinstance(model, IrbModel):
        model = read_irb(model)
    env = {tid: _constant(t) for tid, t in enumerate(model.tensors) if t.is_constant}
    for tid, x in zip(model.inputs, inputs):
        t = model.tensors[tid]
        x = np.asarray(x, dtype=F32)
        env[tid] = x.transpose(0, 2, 3, 1) if t.layout == "nhwc" else x
        assert list(env[tid].shape) == t.shape, (t.name, env[tid].shape, t.shape)
    for node in model.nodes:
        ins = [None if i is None else env[i] for i in node.inputs]
        outs = OPS[node.op](ins, node.attrs)
        assert len(outs) == len(node.outputs), node.name
        for tid, y in zip(node.outputs, outs):
            t = model.tensors[tid]
            assert list(y.shape) == t.shape, (node.op, node.name, t.name, y.shape, t.shape)
            env[tid] = y
    result = []
    for tid in model.outputs:
        y = env[tid]
        result.append(y.transpose(0, 3, 1, 2) if model.tensors[tid].layout == "nhwc" else y)
    return result


# -- the interpreter's own checks ------------------------------------------------

def _onnxruntime_conv(path, x_nchw, w_oihw, stride, pad, dilation, groups):
    """An independent reference: one ONNX Conv node, saved to `path`, run by onnxruntime."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[stride] * 2, pads=[pad] * 4,
                            dilations=[dilation] * 2, group=groups)
    graph = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_nchw.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w_oihw, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), path)
    (y,) = ort_run(path, x_nchw)
    return y


@pytest.mark.parametrize("groups,stride,dilation,pad", [(1, 1, 1, 1), (2, 2, 1, 0), (1, 1, 2, 2), (3, 2, 2, 3)])
def test_conv_nhwc_matches_onnxruntime(tmp_path, groups, stride, dilation, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 9, 7)).astype(F32)
    w = rng.standard_normal((6, 6 // groups, 3, 3)).astype(F32)
    ref = _onnxruntime_conv(tmp_path / "conv.onnx", x, w, stride, pad, dilation, groups)
    xp = _pad_nhwc(x.transpose(0, 2, 3, 1), [pad] * 4, F32(0))
    got = conv_nhwc(xp, w.transpose(0, 2, 3, 1), [stride] * 2, [dilation] * 2, groups).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pad_value", [0, 1, -1])
def test_binary_conv_padding_values(pad_value):
    """A padded tap contributes pad_value·w: compare with a float conv on an explicitly padded ±1 input."""
    rng = np.random.default_rng(1)
    x = np.where(rng.standard_normal((1, 5, 5, 3)) < 0, F32(-1), F32(1))
    w = np.where(rng.standard_normal((4, 3, 3, 3)) < 0, F32(-1), F32(1))
    (y,) = op_binary_conv2d([x, w, None, None, None, None], {"pads": [1, 2, 0, 1], "pad_value": [pad_value],
                                                            "mode": "float"})
    xp = np.pad(x, ((0, 0), (1, 0), (2, 1), (0, 0)), constant_values=pad_value)
    expected = conv_nhwc(xp, w, [1, 1], [1, 1], 1)
    np.testing.assert_array_equal(y, expected.astype(F32))
    assert pad_value == 0 or not np.array_equal(y, conv_nhwc(_pad_nhwc(x, [1, 2, 0, 1], F32(-pad_value)), w,
                                                             [1, 1], [1, 1], 1))


def test_epilogue_order_and_modes():
    dot = np.array([[3.0, -5.0]])
    shift = np.array([1, 2], dtype=np.int32)
    scale = np.array([2.0, -1.0], dtype=F32)
    bias = np.array([0.25, 0.5], dtype=F32)
    residual = np.array([[-4.0, 0.0]], dtype=F32)
    y, bits = _epilogue(dot, [None, None, shift, scale, bias, residual],
                        {"mode": "float+bits", "clip": [-1.0, 1.0]})
    # (3/2)*2+0.25-4 = -0.75 ; (-5/4)*-1+0.5+0 = 1.75 → clipped to 1
    np.testing.assert_array_equal(y, np.array([[-0.75, 1.0]], dtype=F32))
    np.testing.assert_array_equal(bits, np.array([[-1.0, 1.0]], dtype=F32))


def test_epilogue_activation_threshold_and_residual_repeat():
    """RPReLU and the RSign threshold after the clip, the residual repeated over channels."""
    dot = np.array([[2.0, -6.0, 4.0, -1.0]])
    residual = np.array([[0.5, -0.5]], dtype=F32)          # channels 0, 1, then 0, 1 again
    shift_in = np.array([-1.0, 0.0, 0.25, 1.0], dtype=F32)
    slope = np.array([0.5, 0.25, 2.0, -1.0], dtype=F32)
    shift_out = np.array([0.0, 1.0, -3.0, 0.5], dtype=F32)
    threshold = np.array([0.0, 0.5, 0.0, -2.0], dtype=F32)
    y, bits = _epilogue(dot, [None, None, None, None, None, residual, shift_in, slope, shift_out, threshold],
                        {"mode": "float+bits"})
    # + residual: [2.5, -6.5, 4.5, -1.5]; + shift_in: [1.5, -6.5, 4.75, -0.5];
    # PReLU: [1.5, -1.625, 4.75, 0.5]; + shift_out: [1.5, -0.625, 1.75, 1.0]; + threshold: [1.5, -0.125, 1.75, -1.0]
    np.testing.assert_array_equal(y, np.array([[1.5, -0.625, 1.75, 1.0]], dtype=F32))
    np.testing.assert_array_equal(bits, np.array([[1.0, -1.0, 1.0, -1.0]], dtype=F32))


# -- helpers shared by the converter tests ------------------------------------------

def ort_run(onnx_path, x):
    """onnxruntime's outputs for one input (single thread, deterministic)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def ops_of(irb_path):
    """The engine op names of a .irb file, in order."""
    return [n.op for n in read_irb(irb_path).nodes]


def engine_run(irb_path, x):
    """The C++ engine's outputs (irnet_infer.Model, one thread) as a list."""
    import irnet_infer
    y = irnet_infer.Model(str(irb_path), threads=1).run(x)
    return list(y) if isinstance(y, tuple) else [y]


def assert_matches_ort(onnx_path, irb_path, x, rtol=1e-5):
    """The .irb agrees with onnxruntime to float rounding, run both by the numpy
    interpreter and by the C++ engine."""
    ref = ort_run(onnx_path, x)
    runs = {"interpreter": run_irb(irb_path, x), "engine": engine_run(irb_path, x)}
    for who, got in runs.items():
        assert len(got) == len(ref), who
        for g, r in zip(got, ref):
            assert g.shape == r.shape, who
            scale = max(1.0, float(np.abs(r).max()))
            np.testing.assert_allclose(g, r, rtol=0, atol=rtol * scale, err_msg=who)
