"""irnet_infer.Model on hand-built IR-Net graphs, against numpy references.

The main graph is a small ResNet-20-like network written with IrbWriter:
float stem (Conv2d + Hardtanh) -> SignPack -> two Bi-Real blocks
(BinaryConv2d with bit-shift, folded BN, residual and clip; the first emits
float+bits so the second reads its bits directly) -> a stride-2 block whose
"option A" shortcut is Slice + channel Pad -> GlobalAveragePool -> Reshape ->
ChannelAffine (BatchNorm1d) -> Gemm -> LogSoftmax.

The numpy reference follows IR-Net semantics (sign(0) never occurs here;
zero padding after sign) and evaluates every binary epilogue in float32 in the
engine's order, so binary layers match exactly; float layers to 1e-5.
"""
import threading

import numpy as np
import pytest

import irnet_infer
from irnet_infer.irb import IrbWriter, pack_bits

N, H, W = 2, 8, 8
C1, C2, CLASSES = 16, 32, 10


# ---------------------------------------------------------------------------
# numpy reference (NCHW)

def conv2d_nchw(x, w, stride=1, pad=(0, 0, 0, 0), dilation=1):
    """x [N,C,H,W], w [O,C,kh,kw]; pad (top, left, bottom, right) with zeros."""
    top, left, bottom, right = pad
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    o, c, kh, kw = w.shape
    oh = (xp.shape[2] - dilation * (kh - 1) - 1) // stride + 1
    ow = (xp.shape[3] - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((x.shape[0], o, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dilation:i * dilation + stride * (oh - 1) + 1:stride,
                       j * dilation:j * dilation + stride * (ow - 1) + 1:stride]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return y


def sign(x):
    return np.where(x < 0, -1.0, 1.0)


def binary_epilogue(dot, shift, scale, bias, residual=None, clip=None):
    """The engine's order, in float32: dot*2^-shift, *scale, +bias, +residual, clip."""
    c = (None, slice(None), None, None)
    y = dot.astype(np.float32) * np.float32(2.0) ** (-shift.astype(np.float32))[c]
    y = (y * scale[c]).astype(np.float32)
    y = (y + bias[c]).astype(np.float32)
    if residual is not None:
        y = (y + residual).astype(np.float32)
    if clip is not None:
        y = np.clip(y, np.float32(clip[0]), np.float32(clip[1]))
    return y


def binary_conv_ref(x, w, stride, pad, shift, scale, bias, residual=None, clip=None):
    dot = np.rint(conv2d_nchw(sign(x), sign(w), stride, pad)).astype(np.int64)
    return binary_epilogue(dot, shift, scale, bias, residual, clip)


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------
# the model

def nhwc_weight(w):
    return np.ascontiguousarray(np.transpose(w, (0, 2, 3, 1)))


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    p = {
        "stem.w": rng.standard_normal((C1, 3, 3, 3)).astype(np.float32) * 0.5,
        "stem.b": rng.standard_normal(C1).astype(np.float32) * 0.1,
        "fc.w": rng.standard_normal((CLASSES, C2)).astype(np.float32) * 0.3,
        "fc.b": rng.standard_normal(CLASSES).astype(np.float32) * 0.1,
        "bn.scale": rng.uniform(0.5, 2.0, C2).astype(np.float32),
        "bn.bias": rng.standard_normal(C2).astype(np.float32) * 0.1,
    }
    for name, cin, cout in (("b1", C1, C1), ("b2", C1, C1), ("b3", C1, C2)):
        p[name + ".w"] = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
        p[name + ".shift"] = rng.integers(0, 3, cout).astype(np.int32)
        # BN folded: some negative scales (a flipped channel) on purpose.
        p[name + ".scale"] = (rng.uniform(0.02, 0.1, cout) * rng.choice([-1, 1], cout, p=[0.2, 0.8])).astype(np.float32)
        p[name + ".bias"] = (rng.standard_normal(cout) * 0.1).astype(np.float32)
    return p


def build_resnet_like(path, p, batch=N):
    w = IrbWriter()
    f32 = "f32"
    x = w.add_tensor("input", f32, [batch, H, W, 3], layout="nhwc")
    stem_w = w.add_constant("stem.w", f32, [C1, 3, 3, 3], nhwc_weight(p["stem.w"]))
    stem_b = w.add_constant("stem.b", f32, [C1], p["stem.b"])
    h0 = w.add_tensor("h0", f32, [batch, H, W, C1], layout="nhwc")
    w.add_node("Conv2d", "stem", [x, stem_w, stem_b], [h0],
               {"kernel": [3, 3], "pads": [1, 1, 1, 1], "act": "clip", "clip": [-1.0, 1.0]})
    h0b = w.add_tensor("h0.bits", "bits", [batch, H, W, C1], layout="nhwc")
    w.add_node("SignPack", "sign0", [h0], [h0b])

    def consts(name, cin, cout):
        k = w.add_constant(name + ".w", "bits", [cout, 3, 3, cin], pack_bits(nhwc_weight(p[name + ".w"])))
        s = w.add_constant(name + ".shift", "i32", [cout], p[name + ".shift"])
        a = w.add_constant(name + ".scale", f32, [cout], p[name + ".scale"])
        b = w.add_constant(name + ".bias", f32, [cout], p[name + ".bias"])
        return k, s, a, b

    # Block 1: float + bits out (bits feed block 2's conv, float its residual).
    h1 = w.add_tensor("h1", f32, [batch, H, W, C1], layout="nhwc")
    h1b = w.add_tensor("h1.bits", "bits", [batch, H, W, C1], layout="nhwc")
    k, s, a, b = consts("b1", C1, C1)
    w.add_node("BinaryConv2d", "b1", [h0b, k, s, a, b, h0], [h1, h1b],
               {"kernel": [3, 3], "pads": [1, 1, 1, 1], "mode": "float+bits", "clip": [-1, 1]})
    h2 = w.add_tensor("h2", f32, [batch, H, W, C1], layout="nhwc")
    k, s, a, b = consts("b2", C1, C1)
    w.add_node("BinaryConv2d", "b2", [h1b, k, s, a, b, h1], [h2],
               {"kernel": [3, 3], "pads": [1, 1, 1, 1], "mode": "float", "clip": [-1.0, 1.0]})
    # Block 3: stride 2, 16 -> 32 channels, option-A shortcut = Slice + Pad.
    h2b = w.add_tensor("h2.bits", "bits", [batch, H, W, C1], layout="nhwc")
    w.add_node("SignPack", "sign2", [h2], [h2b])
    sl = w.add_tensor("short.slice", f32, [batch, H // 2, W // 2, C1], layout="nhwc")
    w.add_node("Slice", "short.slice", [h2], [sl],
               {"starts": [0, 0, 0, 0], "ends": [batch, H, W, C1], "steps": [1, 2, 2, 1]})
    sp = w.add_tensor("short.pad", f32, [batch, H // 2, W // 2, C2], layout="nhwc")
    lo = (C2 - C1) // 2
    w.add_node("Pad", "short.pad", [sl], [sp], {"pads": [0, 0, 0, lo, 0, 0, 0, C2 - C1 - lo], "value": 0.0})
    h3 = w.add_tensor("h3", f32, [batch, H // 2, W // 2, C2], layout="nhwc")
    k, s, a, b = consts("b3", C1, C2)
    w.add_node("BinaryConv2d", "b3", [h2b, k, s, a, b, sp], [h3],
               {"kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "mode": "float",
                "clip": [-1.0, 1.0]})
    g = w.add_tensor("gap", f32, [batch, 1, 1, C2], layout="nhwc")
    w.add_node("GlobalAveragePool", "gap", [h3], [g])
    flat = w.add_tensor("flat", f32, [batch, C2])
    w.add_node("Reshape", "flatten", [g], [flat], {"shape": [batch, C2]})
    bn = w.add_tensor("bn", f32, [batch, C2])
    w.add_node("ChannelAffine", "bn1d", [flat, w.add_constant("bn.scale", f32, [C2], p["bn.scale"]),
                                         w.add_constant("bn.bias", f32, [C2], p["bn.bias"])], [bn])
    logits = w.add_tensor("logits", f32, [batch, CLASSES])
    w.add_node("Gemm", "fc", [bn, w.add_constant("fc.w", f32, [CLASSES, C2], p["fc.w"]),
                              w.add_constant("fc.b", f32, [CLASSES], p["fc.b"])], [logits])
    out = w.add_tensor("log_probs", f32, [batch, CLASSES])
    w.add_node("LogSoftmax", "log_softmax", [logits], [out], {"axis": -1})
    w.set_io([x], [out])
    w.metadata["producer"] = "test_model.py"
    w.save(path)


def reference_forward(x, p):
    """Returns (log_probs, h3) for NCHW input x."""
    h0 = np.clip(conv2d_nchw(x, p["stem.w"], 1, (1, 1, 1, 1)) + p["stem.b"][None, :, None, None], -1, 1)
    h0 = h0.astype(np.float32)

    def block(name, inp, residual, stride=1):
        return binary_conv_ref(inp, p[name + ".w"], stride, (1, 1, 1, 1), p[name + ".shift"],
                               p[name + ".scale"], p[name + ".bias"], residual, (-1.0, 1.0))

    h1 = block("b1", h0, h0)
    h2 = block("b2", h1, h1)
    short = np.zeros((x.shape[0], C2, H // 2, W // 2), dtype=np.float32)
    lo = (C2 - C1) // 2
    short[:, lo:lo + C1] = h2[:, :, ::2, ::2]
    h3 = block("b3", h2, short, stride=2)
    feat = h3.astype(np.float64).mean(axis=(2, 3))
    bn = feat * p["bn.scale"] + p["bn.bias"]
    logits = bn @ p["fc.w"].T.astype(np.float64) + p["fc.b"]
    return log_softmax(logits), h3


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    p = make_params()
    path = tmp_path_factory.mktemp("model") / "resnet_like.irb"
    build_resnet_like(path, p)
    return path, p


def test_resnet_like_matches_numpy(resnet):
    path, p = resnet
    m = irnet_infer.Model(path)
    assert m.inputs == [{"name": "input", "shape": (N, 3, H, W), "dtype": "f32"}]
    assert m.outputs[0]["shape"] == (N, CLASSES)
    x = np.random.default_rng(5).uniform(-1, 1, (N, 3, H, W)).astype(np.float32)
    y = m.run(x)
    ref, _ = reference_forward(x, p)
    assert y.shape == (N, CLASSES) and y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=0, atol=2e-5)
    # The classes are not all equally likely: the check above is not vacuous.
    assert np.ptp(ref) > 0.5


def test_threads_give_identical_results(resnet):
    path, _ = resnet
    x = np.random.default_rng(6).uniform(-1, 1, (N, 3, H, W)).astype(np.float32)
    ys = [irnet_infer.Model(path, threads=t).run(x) for t in (1, 2, 3)]
    for y in ys[1:]:
        np.testing.assert_array_equal(y, ys[0])


def test_concurrent_python_threads(resnet):
    path, _ = resnet
    m = irnet_infer.Model(path, threads=2)
    rng = np.random.default_rng(7)
    xs = [rng.uniform(-1, 1, (N, 3, H, W)).astype(np.float32) for _ in range(4)]
    expected = [m.run(x) for x in xs]
    results = {}

    def worker(i):
        for _ in range(10):
            y = m.run(xs[i])
            if not np.array_equal(y, expected[i]):
                results[i] = "mismatch"
                return
        results[i] = "ok"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: "ok" for i in range(4)}


def test_input_conversions(resnet):
    path, _ = resnet
    m = irnet_infer.Model(path)
    x = np.random.default_rng(8).uniform(-1, 1, (N, 3, H, W)).astype(np.float32)
    y = m.run(x)
    np.testing.assert_array_equal(m.run(x.astype(np.float64)), y)  # exactly representable
    nhwc = np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))
    view = np.transpose(nhwc, (0, 3, 1, 2))  # non-contiguous NCHW view
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(m.run(view), y)
    np.testing.assert_array_equal(m.run(x[..., ::-1][..., ::-1]), y)


@pytest.mark.parametrize("bad", [np.bool_, np.complex64, object])
def test_input_dtype_errors(resnet, bad):
    path, _ = resnet
    m = irnet_infer.Model(path)
    with pytest.raises(TypeError, match="must be a real"):
        m.run(np.zeros((N, 3, H, W), dtype=bad))


@pytest.mark.parametrize("real", [np.float64, np.int32, np.int64, np.uint8])
def test_other_real_dtypes_are_converted(resnet, real):
    path, _ = resnet
    m = irnet_infer.Model(path)
    x = np.random.default_rng(3).integers(-3, 4, (N, 3, H, W))
    if np.issubdtype(real, np.unsignedinteger):
        x = np.abs(x)
    np.testing.assert_array_equal(m.run(x.astype(real)), m.run(x.astype(np.float32)))


def test_input_shape_errors(resnet):
    path, _ = resnet
    m = irnet_infer.Model(path)
    with pytest.raises(ValueError, match=r"must have rank 4 \(shape \(2, 3, 8, 8\), NCHW\), got rank 3"):
        m.run(np.zeros((3, H, W), np.float32))
    with pytest.raises(ValueError, match=r"must have shape \(2, 3, 8, 8\) \(NCHW\), got \(1, 3, 8, 8\)"):
        m.run(np.zeros((1, 3, H, W), np.float32))
    with pytest.raises(ValueError, match=r"got \(2, 8, 8, 3\)"):
        m.run(np.zeros((N, H, W, 3), np.float32))  # NHWC by mistake
    with pytest.raises(ValueError, match="has 1 input"):
        m.run()
    with pytest.raises(ValueError, match="has 1 input"):
        m.run(np.zeros((N, 3, H, W), np.float32), np.zeros((N, 3, H, W), np.float32))


def test_nan_and_inf_inputs_do_not_crash(resnet):
    # Documented (docs/errors.md): inputs are not scanned; NaN/Inf propagate by IEEE rules.
    path, _ = resnet
    m = irnet_infer.Model(path)
    x = np.zeros((N, 3, H, W), np.float32)
    x[0, 0, 0, 0] = np.nan
    x[1, 1, 2, 2] = np.inf
    y = m.run(x)
    assert y.shape == (N, CLASSES)


def test_batch_is_fixed_by_the_file(tmp_path):
    p = make_params()
    build_resnet_like(tmp_path / "b1.irb", p, batch=1)
    m = irnet_infer.Model(tmp_path / "b1.irb")
    x = np.random.default_rng(9).uniform(-1, 1, (1, 3, H, W)).astype(np.float32)
    np.testing.assert_allclose(m.run(x), reference_forward(x, p)[0], atol=2e-5)
    with pytest.raises(ValueError, match=r"must have shape \(1, 3, 8, 8\)"):
        m.run(np.zeros((2, 3, H, W), np.float32))


def test_summary(resnet):
    path, _ = resnet
    m = irnet_infer.Model(path)
    s = m.summary_dict()
    ops = [layer["op"] for layer in s["layers"]]
    assert ops == ["Conv2d", "SignPack", "BinaryConv2d", "BinaryConv2d", "SignPack", "Slice", "Pad",
                   "BinaryConv2d", "GlobalAveragePool", "Reshape", "ChannelAffine", "Gemm", "LogSoftmax"]
    b1 = s["layers"][2]
    assert b1["binary_macs"] == N * H * W * C1 * 9 * C1
    assert b1["output_shape"] == (N, C1, H, W)  # the API's layout, as model.inputs
    assert b1["scratch_bytes"] > 0 and s["layers"][9]["scratch_bytes"] == 0  # Reshape needs none
    assert s["scratch_bytes"] == max(layer["scratch_bytes"] for layer in s["layers"])
    assert s["kernels"] == {family: irnet_infer.selected_kernel(family) for family in irnet_infer.kernels()}
    assert b1["kernel"].startswith(irnet_infer.selected_kernel("bgemm") + "+bconv_epilogue_")
    # weights 16*9 rows of 1 word + shift/scale/bias (3 x 16 x 4 bytes)
    assert b1["param_bytes"] == C1 * 9 * 8 + 3 * C1 * 4
    assert s["binary_macs"] == N * H * W * C1 * 9 * C1 * 2 + N * (H // 2) * (W // 2) * C2 * 9 * C1
    # Liveness reuse: the arena holds less than all activations and scratches together.
    from irnet_infer.irb import packed_size, read_irb
    f = read_irb(path)
    everything = sum(packed_size(t.dtype, t.shape) for t in f.tensors if not t.is_constant)
    everything += sum(layer["scratch_bytes"] for layer in s["layers"])
    assert s["scratch_bytes"] < s["peak_activation_bytes"] < everything
    assert "BinaryConv2d" in m.summary() and "peak activation memory" in m.summary()


def test_summary_text_has_full_names_and_nchw_shapes(tmp_path):
    """The table shows every layer name whole and shapes in the API's NCHW layout (stored NHWC)."""
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [1, 5, 7, 3], layout="nhwc")
    y = w.add_tensor("y", "f32", [1, 5, 7, 3], layout="nhwc")
    name = "backbone.stage4.block2.conv2.activation/Relu_output_0"
    w.add_node("Relu", name, [x], [y])
    w.set_io([x], [y])
    w.save(tmp_path / "relu.irb")
    m = irnet_infer.Model(str(tmp_path / "relu.irb"))
    assert m.inputs[0]["shape"] == m.summary_dict()["layers"][0]["output_shape"] == (1, 3, 5, 7)
    header, row = m.summary().splitlines()[:2]
    assert "output (NCHW)" in header
    assert row.startswith(name + "  Relu ") and "[1, 3, 5, 7]" in row


def test_binary_gemm_and_int32_mode(tmp_path):
    rng = np.random.default_rng(10)
    batch, k, m_out = 3, 70, 5
    wf = rng.standard_normal((m_out, k)).astype(np.float32)
    shift = rng.integers(0, 4, m_out).astype(np.int32)
    scale = rng.uniform(-2, 2, m_out).astype(np.float32)
    bias = rng.standard_normal(m_out).astype(np.float32)
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [batch, k])
    xb = w.add_tensor("xb", "bits", [batch, k])
    w.add_node("SignPack", "sign", [x], [xb])
    wk = w.add_constant("w", "bits", [m_out, k], pack_bits(wf))
    y = w.add_tensor("y", "f32", [batch, m_out])
    w.add_node("BinaryGemm", "fc", [xb, wk, w.add_constant("s", "i32", [m_out], shift),
                                    w.add_constant("a", "f32", [m_out], scale),
                                    w.add_constant("b", "f32", [m_out], bias)], [y], {"mode": "float"})
    w.set_io([x], [y])
    w.save(tmp_path / "gemm.irb")
    xv = rng.standard_normal((batch, k)).astype(np.float32)
    xv[0, :5] = 0.0  # sign(0) maps to +1 in the engine
    dot = (np.where(xv < 0, -1, 1) @ np.where(wf < 0, -1, 1).T)
    ref = binary_epilogue(dot[:, :, None, None], shift, scale, bias)[:, :, 0, 0]
    model = irnet_infer.Model(tmp_path / "gemm.irb")
    np.testing.assert_array_equal(model.run(xv), ref)
    # Binarization of special values (docs/errors.md): NaN -> +1, +-Inf by sign.
    special = xv.copy()
    special[1, :3] = [np.nan, np.inf, -np.inf]
    same = xv.copy()
    same[1, :3] = [1.0, 1.0, -1.0]
    np.testing.assert_array_equal(model.run(special), model.run(same))
    assert not np.array_equal(model.run(same), model.run(-same))


# ---------------------------------------------------------------------------
# ReActNet's fused epilogue (BinaryConv2d inputs 6..9 and a repeated residual),
# written with IrbWriter: the doubling 1x1 block in -> 2 in with residual x (r = 2),
# RPReLU and the next RSign's threshold, whose bits feed a second binary conv.

def react_params(cin=64, seed=11):
    rng = np.random.default_rng(seed)
    f = lambda *shape, lo=-1.0, hi=1.0: rng.uniform(lo, hi, shape).astype(np.float32)  # noqa: E731
    return {"w1": f(2 * cin, cin), "scale": f(2 * cin, lo=0.01, hi=0.1), "bias": f(2 * cin),
            "shift_in": f(2 * cin, lo=-0.3, hi=0.3), "slope": f(2 * cin, lo=-0.5, hi=1.0),
            "shift_out": f(2 * cin, lo=-0.3, hi=0.3), "threshold": f(2 * cin, lo=-0.3, hi=0.3),
            "w2": f(16, 2 * cin)}


def build_react(path, p, threshold_mode="float+bits"):
    cout, cin = p["w1"].shape
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [N, H, W, cin], layout="nhwc")
    xb = w.add_tensor("x.bits", "bits", [N, H, W, cin], layout="nhwc")
    w.add_node("SignPack", "sign_x", [x], [xb])
    k1 = w.add_constant("w1", "bits", [cout, 1, 1, cin], pack_bits(p["w1"][:, None, None, :]))
    const = {name: w.add_constant(name, "f32", [cout], p[name])
             for name in ("scale", "bias", "shift_in", "slope", "shift_out", "threshold")}
    y = w.add_tensor("y", "f32", [N, H, W, cout], layout="nhwc")
    yb = w.add_tensor("y.bits", "bits", [N, H, W, cout], layout="nhwc")
    w.add_node("BinaryConv2d", "conv1",
               [xb, k1, None, const["scale"], const["bias"], x, const["shift_in"], const["slope"],
                const["shift_out"], const["threshold"]],
               [y, yb] if threshold_mode == "float+bits" else [y], {"kernel": [1, 1], "mode": threshold_mode})
    outputs = [y]
    if threshold_mode == "float+bits":
        k2 = w.add_constant("w2", "bits", [16, 1, 1, cout], pack_bits(p["w2"][:, None, None, :]))
        outputs.append(w.add_tensor("z", "f32", [N, H, W, 16], layout="nhwc"))
        w.add_node("BinaryConv2d", "conv2", [yb, k2], [outputs[1]], {"kernel": [1, 1], "mode": "float"})
    w.set_io(inputs=[x], outputs=outputs)
    w.save(path)


def react_reference(x, p):
    """NCHW; every step one float32 operation in the engine's order (docs/format.md)."""
    c = (None, slice(None), None, None)
    dot = np.einsum("nchw,oc->nohw", sign(x), sign(p["w1"])).astype(np.float32)
    y = (dot * p["scale"][c]).astype(np.float32)
    y = (y + p["bias"][c]).astype(np.float32)
    y = (y + np.concatenate([x, x], axis=1)).astype(np.float32)  # residual x repeated (r = 2)
    z = (y + p["shift_in"][c]).astype(np.float32)
    z = np.where(z < 0, (z * p["slope"][c]).astype(np.float32), z)
    y = (z + p["shift_out"][c]).astype(np.float32)
    bits = (y + p["threshold"][c]).astype(np.float32) < 0
    z2 = np.einsum("nchw,oc->nohw", np.where(bits, -1.0, 1.0), sign(p["w2"])).astype(np.float32)
    return y, z2


def test_fused_react_epilogue_matches_numpy(tmp_path):
    p = react_params()
    path = tmp_path / "react.irb"
    build_react(path, p)
    x = np.random.default_rng(12).uniform(-1, 1, (N, 64, H, W)).astype(np.float32)
    y, z = irnet_infer.Model(path).run(x)
    y_ref, z_ref = react_reference(x, p)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(z, z_ref)
    assert (y < 0).any() and (y > 0).any() and np.ptp(z_ref) > 4  # not vacuous


def test_fused_react_epilogue_refusals_name_the_input(tmp_path):
    p = react_params()
    path = tmp_path / "react_float.irb"
    build_react(path, p, threshold_mode="float")  # a threshold without bits output
    with pytest.raises(Exception, match=r"conv1.*input 9 \(threshold\) needs mode bits or float\+bits"):
        irnet_infer.Model(path)
