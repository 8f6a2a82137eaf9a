"""irnet-convert on binary networks written the way public training code writes them.

The idioms (straight-through estimators as arithmetic, RSign, RPReLU, option-A
shortcuts with view(size(0), -1), concat duplication) come from
tools/irnet_torch/field.py. Small modules using each are committed as ONNX files
under tests/fixtures/field/ (legacy exporter at opsets 11/13/17, dynamo at
18/20, the option-A ones also unfolded and with a dynamic batch; make_fixtures.py
regenerates them) with PyTorch's output on a random input,
so the comparisons below run without torch: converted model (numpy interpreter
and C++ engine) against onnxruntime and against PyTorch, top-1 identical and
max |difference| <= 1e-4 * max(1, |reference|), per sample. Only a sample in
which some sign input lies within float rounding of 0 (a tie: either sign is
right; found with onnxruntime) may differ; such samples are reported and may be
at most a quarter of the batch.

Whole models (IR-Net's CIFAR ResNet-20, a Bi-Real ResNet-18 stack, ReActNet-A
blocks and a narrow ReActNet-A) are exported at test time and need torch.
"""
import glob
import importlib.util
import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from irnet_infer.convert import ConvertError, convert
from irnet_infer.convert.cli import main as convert_main
from irnet_infer.irb import read_irb
from test_convert_layers import binary_conv_model, random_input, save_model
from test_convert_reference import engine_run, ops_of, ort_run, run_irb

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, ROOT)
from tools.sign_ties import OutputMismatch, compare, sign_ties, worst_of  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "field")

# The marker is registered in pyproject.toml; without torch these tests are skipped.
needs_torch = [pytest.mark.torch,
               pytest.mark.skipif(importlib.util.find_spec("torch") is None
                                  and not os.environ.get("IRNET_REQUIRE_TORCH"),
                                  reason="needs torch (pip install '.[test]')")]


def with_torch(fn):
    for mark in needs_torch:
        fn = mark(fn)
    return fn


# -- comparison ------------------------------------------------------------------------

def assert_same_as_unfused(onnx_path, irb_path, x, input_shapes=None):
    """The .irb (default conversion) computes the same floats, in the numpy interpreter and
    in the C++ engine, as the conversion with --no-fuse-activation (RPReLU, RSign thresholds
    and doubling Concats as separate ops): fusion changes no bit. Returns the unfused .irb."""
    unfused = str(irb_path) + ".unfused.irb"
    convert(onnx_path, unfused, input_shapes, fuse_activation=False)
    for run in (run_irb, engine_run):
        for a, b in zip(run(irb_path, x), run(unfused, x)):
            np.testing.assert_array_equal(a, b, err_msg=f"{onnx_path}: fused vs unfused ({run.__name__})")
    return unfused


def assert_agrees(onnx_path, irb_path, x, torch_y=None, tolerance=1e-4):
    """Converted model vs onnxruntime (and PyTorch when given), sample by sample.

    A sample may differ only if some sign input in it lies within float rounding of 0
    (a tie, where either sign is right; tools/sign_ties.py); at most a quarter of the batch
    may. Returns the number of samples that differ at a tie."""
    ties = sign_ties(onnx_path, x)
    refs = {"onnxruntime": ort_run(onnx_path, x)[0]}
    if torch_y is not None:
        refs["torch"] = torch_y
    runs = {"interpreter": run_irb(irb_path, x)[0], "engine": engine_run(irb_path, x)[0]}
    agreements = []
    for who, got in runs.items():
        for ref_name, ref in refs.items():
            agreements.append(compare(got, ref, ties, tolerance))
            agreements[-1].check(f"{onnx_path}: {who} vs {ref_name}")
    worst = worst_of(agreements)
    worst.check(f"{onnx_path}: any run vs any reference")
    differ = int(worst.at_tie.sum())
    if differ:
        print(f"{os.path.basename(str(onnx_path))}: {differ} sample(s) differ where a sign "
              f"input is within float rounding of 0 ({int(ties.sum())} such samples)")
    return differ


def sign_conv_model(path, seed, batch=8):
    w = np.where(np.random.default_rng(seed).standard_normal((4, 4, 3, 3)) < 0, -0.5, 0.5)
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    return save_model(path, nodes, {"w": w.astype(np.float32)}, (batch, 4, 5, 5), 13)


def test_ties_are_tolerated_and_real_mismatches_are_not(tmp_path):
    """The comparison itself: a sample whose sign input is exactly 0 (ONNX sign 0, engine +1)
    may differ and is counted; a converted model of other weights fails on tie-free samples."""
    onnx_path = sign_conv_model(tmp_path / "m.onnx", seed=0)
    convert(onnx_path, tmp_path / "m.irb")
    x = random_input((8, 4, 5, 5))
    x[3, 2, 2, 2] = 0.0
    assert assert_agrees(onnx_path, tmp_path / "m.irb", x) == 1
    convert(sign_conv_model(tmp_path / "other.onnx", seed=5), tmp_path / "other.irb")
    with pytest.raises(OutputMismatch, match="which have no sign input near 0"):
        assert_agrees(onnx_path, tmp_path / "other.irb", random_input((8, 4, 5, 5)))


# -- committed fixtures (no torch) -------------------------------------------------------

# idiom -> (binary convs, patterns every binary conv reports under the legacy exporter,
#           patterns under both exporters)
EXPECTED = {
    "ste_sub_first": (1, ["STE on activations removed"], []),
    "ste_add_first": (1, ["STE on activations removed"], []),
    "ste_approxsign": (1, ["STE on activations removed"], []),
    "weight_ste": (1, ["STE on weights removed before folding"], []),
    "rsign_expand": (1, ["STE on weights removed before folding"],
                     ["STE on activations removed", "threshold: sign(x + b)"]),
    "rsign_broadcast": (1, ["STE on weights removed before folding"],
                        ["STE on activations removed", "threshold: sign(x + b)"]),
    "rprelu": (1, ["STE on weights removed before folding"],
               ["STE on activations removed", "threshold: sign(x + b)", "RPReLU: shift -> PReLU -> shift"]),
    "option_a_view": (2, [], []),
    "option_a_flatten": (2, [], []),
    "option_a_reshape": (2, [], []),
    "concat_duplicate": (2, ["STE on weights removed before folding"],
                         ["STE on activations removed", "threshold: sign(x + b) with b per channel",
                          "RPReLU: shift -> PReLU -> shift"]),
}
FIXTURE_FILES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(FIXTURES, "*.onnx")))


def test_every_idiom_has_fixtures():
    idioms = {f.rsplit("-", 1)[0] for f in FIXTURE_FILES}
    assert idioms == set(EXPECTED)
    assert len(FIXTURE_FILES) == 5 * len(EXPECTED) + 6   # + option_a_* unfolded and dynamic-batch


@pytest.mark.parametrize("fixture", FIXTURE_FILES)
def test_idiom_converts_and_agrees(tmp_path, fixture):
    idiom, export = fixture[:-len(".onnx")].rsplit("-", 1)
    onnx_path = os.path.join(FIXTURES, fixture)
    data = np.load(os.path.join(FIXTURES, idiom + ".npz"))
    shape = ["input=" + ",".join(map(str, data["x"].shape))] if "dynamic" in export else None
    report = convert(onnx_path, tmp_path / "m.irb", shape)
    binary = [x for x in report.layers if x.binary]
    n_binary, legacy_patterns, patterns = EXPECTED[idiom]
    assert len(binary) == n_binary, report.render("m.irb", 0)
    assert not [x for x in report.layers if not x.binary and x.op == "BinaryConv2d"]
    for layer in binary:
        wanted = patterns + (legacy_patterns if export.startswith("legacy") else [])
        for pattern in wanted:
            assert any(r.startswith(pattern) for r in layer.recognised), (layer.name, layer.recognised)
    assert_agrees(onnx_path, tmp_path / "m.irb", data["x"], data["y"])
    assert_same_as_unfused(onnx_path, tmp_path / "m.irb", data["x"], shape)


def test_option_a_needs_folding_to_a_fixed_point(tmp_path):
    """The legacy export's view(size(0), -1) reads Shape of a tensor whose shape is known only
    after the pad amounts fold: everything folds, no Shape/Gather survives."""
    convert(os.path.join(FIXTURES, "option_a_view-legacy_unfolded13.onnx"), tmp_path / "m.irb")
    ops = ops_of(tmp_path / "m.irb")
    assert ops.count("BinaryConv2d") == 2 and "Gemm" in ops


def test_rsign_expand_constant_is_per_channel_by_value(tmp_path):
    """dynamo folds bias.expand_as(x) into a (N, C, H, W) constant: it becomes SignPack's
    [C] threshold."""
    onnx_path = os.path.join(FIXTURES, "rsign_expand-dynamo18.onnx")
    shapes = [list(t.dims) for t in onnx.load(onnx_path).graph.initializer]
    assert [8, 4, 4, 4] in shapes
    convert(onnx_path, tmp_path / "m.irb")
    model = read_irb(tmp_path / "m.irb")
    sign_pack = next(n for n in model.nodes if n.op == "SignPack")
    assert model.tensors[sign_pack.inputs[1]].shape == [4]


@pytest.mark.parametrize("fixture", [f for f in FIXTURE_FILES if f.startswith("concat_duplicate-")])
def test_reactnet_block_is_fused_into_its_binary_convs(tmp_path, fixture):
    """A ReActNet-A block (RSign -> 3x3 -> BN + pool(x) -> RPReLU -> RSign -> 1x1 -> BN +
    cat(out, out) -> RPReLU): the block input's RSign is a SignPack threshold; the first
    conv's epilogue holds its RPReLU and the second RSign's threshold and writes the float
    residual and the bits; the second conv reads that residual with channel repeat 2 and
    holds its RPReLU. Without activation fusion the RPReLUs, the second RSign and the Concat
    are separate ops, and both conversions give the same floats."""
    onnx_path = os.path.join(FIXTURES, fixture)
    convert(onnx_path, tmp_path / "m.irb")
    model = read_irb(tmp_path / "m.irb")
    assert sorted(n.op for n in model.nodes) == ["AveragePool", "BinaryConv2d", "BinaryConv2d", "SignPack"]
    (pack,) = [n for n in model.nodes if n.op == "SignPack"]
    assert len(pack.inputs) == 2 and model.tensors[pack.inputs[1]].shape == [4]
    first, second = [n for n in model.nodes if n.op == "BinaryConv2d"]
    assert first.attrs["mode"] == "float+bits" and second.attrs["mode"] == "float"
    assert all(model.tensors[t].shape == [4] for t in first.inputs[6:10])
    assert second.inputs[5] == first.outputs[0] and second.inputs[0] == first.outputs[1]
    assert model.tensors[second.inputs[5]].shape[-1] * 2 == model.tensors[second.outputs[0]].shape[-1]
    assert len(second.inputs) == 10 and second.inputs[9] is None
    data = np.load(os.path.join(FIXTURES, "concat_duplicate.npz"))
    assert_agrees(onnx_path, tmp_path / "m.irb", data["x"], data["y"])
    unfused = assert_same_as_unfused(onnx_path, tmp_path / "m.irb", data["x"])
    assert sorted(ops_of(unfused)) == sorted(["AveragePool", "SignPack", "BinaryConv2d", "Add", "PRelu", "Add",
                                              "SignPack", "Concat", "BinaryConv2d", "Add", "PRelu", "Add"])


def test_weight_ste_folds_to_exact_alpha(tmp_path):
    """Removed before folding, the weight STE leaves exactly mean|w|·sign(w): one magnitude
    per channel, no rounding from (α·sign(w) - clamp(w)) + clamp(w)."""
    from irnet_infer.convert.load import load_graph
    graph = load_graph(os.path.join(FIXTURES, "weight_ste-legacy13.onnx"))
    conv = next(n for n in graph.nodes if n.op == "Conv")
    w = np.abs(graph.consts[conv.inputs[1]].reshape(4, -1))
    assert np.all(w.max(axis=1) == w.min(axis=1))


# -- sign of an input that can be exactly 0 ------------------------------------------------

def relu_sign_conv(tmp_path):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    model = onnx.load(onnx_path)
    model.graph.node.insert(0, helper.make_node("Relu", ["x"], ["r"], name="relu"))
    model.graph.node[1].input[0] = "r"
    onnx.save(model, str(tmp_path / "relu.onnx"))
    return str(tmp_path / "relu.onnx")


def test_sign_of_relu_is_refused_by_default(tmp_path, capsys):
    onnx_path = relu_sign_conv(tmp_path)
    with pytest.raises(ConvertError, match=r"Relu 'relu'.*sign\(0\) = 0.*one bit.*--allow-sign-of-zero"):
        convert(onnx_path, tmp_path / "m.irb")
    assert not os.path.exists(tmp_path / "m.irb")
    assert convert_main([onnx_path, str(tmp_path / "m.irb")]) == 1
    assert "--allow-sign-of-zero" in capsys.readouterr().err


def test_sign_of_relu_converts_when_allowed(tmp_path, capsys):
    onnx_path = relu_sign_conv(tmp_path)
    assert convert_main([onnx_path, str(tmp_path / "m.irb"), "--allow-sign-of-zero"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: sign(0) = +1" in out and "outputs differ from the ONNX model" in out
    # away from 0 it is exact: inputs with no zero after Relu (all positive) agree
    x = np.abs(random_input((2, 4, 9, 8))) + 0.1
    np.testing.assert_allclose(run_irb(tmp_path / "m.irb", x)[0], ort_run(onnx_path, x)[0], rtol=0, atol=1e-5)


# -- why a conv stays float ------------------------------------------------------------------

def test_float_conv_message_names_channel_magnitudes_gap_and_tolerance(tmp_path):
    alphas = np.array([0.5, 0.25, 0.125, 1.0])
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 4, 4, alphas=alphas)
    model = onnx.load(onnx_path)
    w = onnx.numpy_helper.to_array(model.graph.initializer[0]).copy()
    w[2, 1, 0, 0] *= 1.001          # channel 2: 0.125 and 0.125125
    model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(w, "w"))
    onnx.save(model, onnx_path)
    report = convert(onnx_path, tmp_path / "m.irb")
    (layer,) = report.layers
    assert not layer.binary
    assert "output channel 2 has magnitudes 0.125 and 0.125125" in layer.reason
    assert "relative gap of 0.000999 (tolerance 1.19e-06" in layer.reason


def test_folded_ste_rounding_is_binary_and_larger_gaps_are_not(tmp_path):
    """Magnitudes within a folded STE's rounding (2^-23·(2α+1)) are ±α, α their mean; a gap
    just beyond it is a float conv."""
    rng = np.random.default_rng(0)
    alpha = np.float32(0.01)
    bound = 2.0 ** -23 * (2 * alpha + 1)
    for gap, binary in ((0.9 * bound, True), (1.5 * bound, False)):
        w = np.full((4, 4, 3, 3), alpha, dtype=np.float64)
        w[:, :, 0, 0] += gap
        w *= np.where(rng.standard_normal(w.shape) < 0, -1, 1)
        onnx_path = binary_conv_model(tmp_path / "m.onnx", 4, 4)
        model = onnx.load(onnx_path)
        model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(w.astype(np.float32), "w"))
        onnx.save(model, onnx_path)
        report = convert(onnx_path, tmp_path / "m.irb")
        assert report.layers[0].binary == binary, report.layers[0].reason
        if binary:
            assert any("folded STE" in r for r in report.layers[0].recognised)


@pytest.mark.parametrize("same_clip_node", [True, False])
def test_ste_surrogate_computed_twice_is_recognised(tmp_path, same_clip_node):
    """sign(x).detach() - clamp(x).detach() + clamp(x) with clamp called twice exports two
    equal Clip nodes; the STE is still Add(Sub(H, S), S)."""
    rng = np.random.default_rng(0)
    inits = {"lo": np.array(-1, np.float32), "hi": np.array(1, np.float32),
             "w": np.where(rng.standard_normal((4, 4, 3, 3)) < 0, -0.5, 0.5).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["h"], name="sign"),
             helper.make_node("Clip", ["x", "lo", "hi"], ["c1"], name="clip1"),
             helper.make_node("Clip", ["x", "lo", "hi"], ["c2"], name="clip2"),
             helper.make_node("Sub", ["h", "c1"], ["d"], name="sub"),
             helper.make_node("Add", ["d", "c1" if same_clip_node else "c2"], ["s"], name="ste"),
             helper.make_node("Conv", ["s", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 4, 5, 5), 13)
    report = convert(onnx_path, tmp_path / "m.irb")
    assert report.layers[0].binary and report.layers[0].recognised == ["STE on activations removed"]
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryConv2d"]
    x = random_input((2, 4, 5, 5))
    np.testing.assert_allclose(run_irb(tmp_path / "m.irb", x)[0], ort_run(onnx_path, x)[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("shift_op", ["Add", "Sub"])
def test_threshold_after_a_binary_conv_moves_into_its_bias(tmp_path, shift_op):
    """sign(bn(conv(sign(x))) +/- b): the shift joins the first conv's bias, which writes bits
    (Add as ReActNet's LearnableBias writes it, Sub as ``x - gamma`` would)."""
    rng = np.random.default_rng(1)
    inits = {"w1": np.where(rng.standard_normal((6, 6, 3, 3)) < 0, -0.5, 0.5).astype(np.float32),
             "w2": np.where(rng.standard_normal((6, 6, 1, 1)) < 0, -0.25, 0.25).astype(np.float32),
             "g": rng.uniform(0.5, 1.5, 6).astype(np.float32), "be": rng.standard_normal(6).astype(np.float32),
             "m": rng.standard_normal(6).astype(np.float32), "v": rng.uniform(0.5, 2, 6).astype(np.float32),
             "b": np.broadcast_to(rng.standard_normal((1, 6, 1, 1)), (2, 6, 5, 5)).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s1"], name="sign1"),
             helper.make_node("Conv", ["s1", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "g", "be", "m", "v"], ["n1"], name="bn1"),
             helper.make_node(shift_op, ["n1", "b"], ["t"], name="rsign_shift"),
             helper.make_node("Sign", ["t"], ["s2"], name="sign2"),
             helper.make_node("Conv", ["s2", "w2"], ["y"], name="conv2", kernel_shape=[1, 1])]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 6, 5, 5), 13)
    report = convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryConv2d", "BinaryConv2d"]
    first = binary_node_named(tmp_path / "m.irb", "conv1")
    assert first.attrs["mode"] == "bits"
    assert "per-channel shift after the conv folded into the bias" in report.layers[0].recognised
    x = random_input((2, 6, 5, 5))
    assert_agrees(onnx_path, tmp_path / "m.irb", x)


@pytest.mark.parametrize("op,also_output", [("Add", False), ("Sub", False), ("Add", True)])
def test_threshold_on_an_activation_becomes_signpack_input(tmp_path, op, also_output):
    """sign(x + b) / sign(x - b) on a graph input: SignPack(x, ±b) without the float op,
    unless the shifted value is read elsewhere too (here: a graph output)."""
    rng = np.random.default_rng(2)
    b = rng.standard_normal((1, 6, 1, 1)).astype(np.float32)
    inits = {"w": np.where(rng.standard_normal((6, 6, 3, 3)) < 0, -0.5, 0.5).astype(np.float32), "b": b}
    nodes = [helper.make_node(op, ["x", "b"], ["t"], name="shift"),
             helper.make_node("Sign", ["t"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (4, 6, 5, 5), 13)
    if also_output:
        model = onnx.load(onnx_path)
        model.graph.output.append(helper.make_tensor_value_info("t", TensorProto.FLOAT, None))
        onnx.save(model, onnx_path)
    convert(onnx_path, tmp_path / "m.irb")
    model = read_irb(tmp_path / "m.irb")
    ops = [n.op for n in model.nodes]
    sign_pack = next(n for n in model.nodes if n.op == "SignPack")
    if also_output:
        assert ops == ["Add", "SignPack", "BinaryConv2d"] and len(sign_pack.inputs) == 1
    else:
        assert ops == ["SignPack", "BinaryConv2d"]
        threshold = model.tensors[sign_pack.inputs[1]]
        assert threshold.shape == [6]
        want = b.reshape(-1) if op == "Add" else -b.reshape(-1)
        np.testing.assert_array_equal(threshold.data.reshape(-1), want)
    x = random_input((4, 6, 5, 5))
    x[0, :, 1, 1] = -b.reshape(-1) if op == "Add" else b.reshape(-1)    # x + b exactly 0: bit +1
    ort = ort_run(onnx_path, x)
    for got in (run_irb(tmp_path / "m.irb", x), engine_run(tmp_path / "m.irb", x)):
        for g, r in zip(got, ort):
            # ONNX's sign(0) = 0 where x = -b; the engine's +1 differs only in that sample
            np.testing.assert_allclose(g[1:], r[1:], rtol=0, atol=1e-5 * max(1.0, float(np.abs(r).max())))


def binary_node_named(irb_path, name):
    return next(n for n in read_irb(irb_path).nodes if n.name == name)


def test_ste_with_broadcast_is_not_removed(tmp_path):
    """Add(Sub(H, S), S) whose result is larger than H (S broadcasts) is not an STE."""
    nodes = [helper.make_node("Sign", ["h0"], ["h"], name="sign"),
             helper.make_node("Sub", ["h", "x"], ["d"], name="sub"),
             helper.make_node("Add", ["d", "x"], ["y"], name="add")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, {"h0": np.ones((1, 3), np.float32)}, (2, 3), 13)
    from irnet_infer.convert.load import load_graph
    graph = load_graph(onnx_path)
    assert [n.op for n in graph.nodes] == ["Sub", "Add"] and not graph.ste


# -- whole models (torch) ------------------------------------------------------------------

def _trained_like(model, seed=0):
    """Heavy-tailed weights per output channel, as after training (0.05·z^p, p in 1, 3, 5)."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (7, 7):
                z = torch.randn(m.weight.shape, generator=gen)
                powers = torch.tensor([1.0, 3.0, 5.0])[torch.arange(m.weight.shape[0]) % 3]
                m.weight.copy_(z.pow(powers.view(-1, 1, 1, 1)) * 0.05)
    return model


def _whole_model(name):
    import torch
    sys.path.insert(0, ROOT)
    from tools.irnet_torch import field, reactnet
    from tools.irnet_torch.export import randomize_batchnorm
    torch.manual_seed(0)
    # model, input shape, binary ops (a doubling block's two 1x1 convs are one op)
    builders = {
        "irnet_resnet20": (field.irnet_cifar_resnet20, (16, 3, 32, 32), 18),
        "bireal_resnet18": (lambda: field.bireal_resnet18(100, (16, 32, 64, 128)), (16, 3, 32, 32), 16),
        "reactnet_block_split": (lambda: reactnet.ReActBlock(8, 16, 2), (16, 8, 8, 8), 2),
        "reactnet_block_duplicate": (lambda: reactnet.ReActBlock(8, 16, 2, duplicate=True), (16, 8, 8, 8), 2),
        "reactnet_a_narrow": (lambda: reactnet.reactnet_a(10, width=16), (16, 3, 32, 32), 26),
    }
    ctor, shape, n_binary = builders[name]
    model = reactnet.randomize_learnable_shifts(randomize_batchnorm(_trained_like(ctor())))
    return model.eval(), shape, n_binary


WHOLE_MODELS = [(name, exporter) for name in ("irnet_resnet20", "bireal_resnet18", "reactnet_block_split",
                                               "reactnet_block_duplicate", "reactnet_a_narrow")
                for exporter in ("legacy", "dynamo")] + [("irnet_resnet20", "legacy_unfolded")]


@with_torch
@pytest.mark.parametrize("name,exporter", WHOLE_MODELS)
def test_whole_model(tmp_path, name, exporter):
    import torch
    sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", "field"))
    from make_fixtures import export
    model, shape, n_binary = _whole_model(name)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    onnx_path = str(tmp_path / "m.onnx")
    export(model, x, onnx_path, exporter, 18 if exporter == "dynamo" else 13)
    report = convert(onnx_path, tmp_path / "m.irb")
    binary = [x for x in report.layers if x.binary]
    assert len(binary) == n_binary, report.render("m.irb", 0)
    with torch.no_grad():
        want = model(x).numpy()
    assert_agrees(onnx_path, tmp_path / "m.irb", x.numpy(), want)
    if name.startswith("reactnet"):
        assert_reactnet_fused(onnx_path, tmp_path / "m.irb", x.numpy())


def assert_reactnet_fused(onnx_path, irb_path, x):
    """Between two binary convs of a ReActNet-A nothing but the 2x2 average-pool shortcut
    is left: BN, residual, RPReLU, the next RSign and the doubling Concat are in the first
    conv's epilogue; the one SignPack is the first block's RSign of the float stem's output
    (or of the block input). Without activation fusion they are separate ops; both
    conversions give the same floats."""
    ops = ops_of(irb_path)
    binary = ops.count("BinaryConv2d")
    assert ops.count("SignPack") == 1 and not {"Add", "PRelu", "Concat"} & set(ops), ops
    unfused = assert_same_as_unfused(onnx_path, irb_path, x)
    unfused_ops = ops_of(unfused)
    # per binary conv output: the RPReLU's Add, PRelu, Add; per RSign after one: a SignPack
    assert unfused_ops.count("PRelu") == binary and unfused_ops.count("Concat") >= 1
    assert unfused_ops.count("SignPack") == binary


@with_torch
def test_fixture_script_reproduces_the_committed_references(tmp_path):
    """make_fixtures.py builds the same modules and inputs as the committed .npz files."""
    import torch
    sys.path.insert(0, FIXTURES)
    import make_fixtures
    for name in make_fixtures.IDIOMS:
        data = np.load(os.path.join(FIXTURES, name + ".npz"))
        with torch.no_grad():
            y = make_fixtures.build(name)(torch.from_numpy(data["x"])).numpy()
        np.testing.assert_allclose(y, data["y"], rtol=0, atol=1e-5, err_msg=name)
