"""The fused ReActNet epilogue (docs/converter.md, "Epilogue fusion"): RPReLU, the next
RSign's threshold and the channel-doubling Concat go into the binary conv before them.

Hand-built ONNX in the forms exporters write (RPReLU's first shift as Add, Sub or Add
of a negated full-size constant; slopes and shifts per channel in several shapes, or
one value), at several opsets. Each model is converted twice, fused and with
--no-fuse-activation (those ops kept separate), and

- the fused .irb has the expected ops (no Add/PRelu/SignPack/Concat between binary
  convs) and the unfused one keeps them;
- both conversions give identical floats (numpy interpreter and C++ engine): the fused
  epilogue performs the same float32 operations in the same order;
- the fused one agrees with onnxruntime (test_convert_field.assert_agrees: top-1, 1e-4,
  sign ties reported).

Patterns that must not fuse convert unfused and still agree.
"""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from irnet_infer.convert import convert
from irnet_infer.convert.cli import main as convert_main
from irnet_infer.irb import read_irb
from test_convert_field import assert_agrees, assert_same_as_unfused
from test_convert_layers import random_input, save_model
from test_convert_reference import ops_of

C, N, H, W = 6, 4, 5, 5


def _bn(name, inp, out, rng, inits, channels=C):
    inits[name + ".g"] = rng.uniform(0.5, 1.5, channels).astype(np.float32)
    inits[name + ".b"] = (0.3 * rng.standard_normal(channels)).astype(np.float32)
    inits[name + ".m"] = (0.5 * rng.standard_normal(channels)).astype(np.float32)
    inits[name + ".v"] = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    return helper.make_node("BatchNormalization", [inp] + [name + s for s in (".g", ".b", ".m", ".v")], [out],
                            name=name)


def _weight(rng, cout, cin, k, power_of_two=False):
    alpha = 2.0 ** -rng.integers(0, 3, cout) if power_of_two else rng.uniform(0.05, 1.0, cout)
    signs = np.where(rng.standard_normal((cout, cin, k, k)) < 0, -1.0, 1.0)
    return (signs * alpha.reshape(-1, 1, 1, 1)).astype(np.float32)


def _per_channel(rng, shape, scale=0.3):
    """A per-channel constant of the declared shape (values repeat along non-channel axes)."""
    values = (scale * rng.standard_normal(C)).astype(np.float32)
    if shape == "scalar":
        return values[:1].copy()
    if shape == "C11":
        return values.reshape(C, 1, 1)
    if shape == "full":         # dynamo: bias.expand_as(x) folded to (N, C, H, W)
        return np.ascontiguousarray(np.broadcast_to(values.reshape(1, C, 1, 1), (N, C, H, W)))
    return values.reshape(1, C, 1, 1)


def _shift_in_nodes(kind, inp, out, rng, inits):
    """RPReLU's first shift x - gamma as exporters write it."""
    if kind == "none":
        return [helper.make_node("Identity", [inp], [out], name="no_shift_in")]
    if kind == "sub":
        inits["gamma"] = _per_channel(rng, "1C11")
        return [helper.make_node("Sub", [inp, "gamma"], [out], name="shift_in")]
    inits["minus_gamma"] = _per_channel(rng, {"add": "1C11", "add_full": "full", "add_C11": "C11",
                                              "add_scalar": "scalar"}[kind])
    return [helper.make_node("Add", [inp, "minus_gamma"], [out], name="shift_in")]


def rprelu_block(path, shift_in="add", slope_shape="C11", opset=13, float_reader=True, shift_out=True):
    """x → RSign → binary 3x3 → BN → + x → RPReLU (y1) → RSign → binary 1x1 → BN [+ y1] → y.

    float_reader: y1 is also the second conv's residual (first conv mode float+bits),
    otherwise only the RSign reads it (mode bits)."""
    rng = np.random.default_rng(3)
    inits = {"rsign0": _per_channel(rng, "1C11"), "w1": _weight(rng, C, C, 3), "w2": _weight(rng, C, C, 1),
             "slope": np.abs(_per_channel(rng, slope_shape, 0.5)), "zeta": _per_channel(rng, "1C11"),
             "rsign1": _per_channel(rng, "full")}
    nodes = [helper.make_node("Add", ["x", "rsign0"], ["t0"], name="rsign0"),
             helper.make_node("Sign", ["t0"], ["s0"], name="sign0"),
             helper.make_node("Conv", ["s0", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             _bn("bn1", "c1", "n1", rng, inits),
             helper.make_node("Add", ["n1", "x"], ["r1"], name="residual1")]
    nodes += _shift_in_nodes(shift_in, "r1", "a1", rng, inits)
    nodes.append(helper.make_node("PRelu", ["a1", "slope"], ["p1" if shift_out else "y1"], name="prelu"))
    if shift_out:
        nodes.append(helper.make_node("Add", ["p1", "zeta"], ["y1"], name="shift_out"))
    nodes += [helper.make_node("Add", ["y1", "rsign1"], ["t1"], name="rsign1"),
              helper.make_node("Sign", ["t1"], ["s1"], name="sign1"),
              helper.make_node("Conv", ["s1", "w2"], ["c2"], name="conv2", kernel_shape=[1, 1]),
              _bn("bn2", "c2", "n2" if float_reader else "y", rng, inits)]
    if float_reader:
        nodes.append(helper.make_node("Add", ["n2", "y1"], ["y"], name="residual2"))
    return save_model(path, nodes, inits, (N, C, H, W), opset)


def convert_checked(onnx_path, tmp_path):
    """Converts fused and unfused; checks that both give the same floats and that the fused
    one agrees with onnxruntime on a random batch. Returns (fused, unfused) .irb paths."""
    fused = tmp_path / "fused.irb"
    convert(onnx_path, fused)
    x = random_input((N, C, H, W))
    unfused = assert_same_as_unfused(onnx_path, fused, x)
    assert_agrees(onnx_path, fused, x)
    return fused, unfused


def binary_nodes(irb_path):
    model = read_irb(irb_path)
    return model, [n for n in model.nodes if n.op == "BinaryConv2d"]


SHIFT_IN_FORMS = ["add", "sub", "add_full", "add_C11", "add_scalar", "none"]


@pytest.mark.parametrize("shift_in", SHIFT_IN_FORMS)
@pytest.mark.parametrize("slope_shape", ["C11", "1C11", "scalar"])
def test_rprelu_and_rsign_fuse_into_the_conv(tmp_path, shift_in, slope_shape):
    onnx_path = rprelu_block(tmp_path / "m.onnx", shift_in, slope_shape)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    model, (first, second) = binary_nodes(fused)
    assert [n.op for n in model.nodes] == ["SignPack", "BinaryConv2d", "BinaryConv2d"]
    assert first.attrs["mode"] == "float+bits" and second.attrs["mode"] == "float"
    assert len(first.inputs) == 10 and len(second.inputs) == 6
    shift_in_id, slope_id, shift_out_id, threshold_id = first.inputs[6:]
    assert (shift_in_id is None) == (shift_in == "none")
    for tid in (slope_id, shift_out_id, threshold_id) + ((shift_in_id,) if shift_in != "none" else ()):
        assert model.tensors[tid].is_constant and model.tensors[tid].shape == [C]
    slope = model.tensors[slope_id].data.reshape(-1)
    assert slope_shape != "scalar" or np.all(slope == slope[0])
    unfused_ops = ops_of(unfused)
    assert unfused_ops == ["SignPack", "BinaryConv2d"] + ["Add"] * (shift_in != "none") \
        + ["PRelu", "Add", "SignPack", "BinaryConv2d"]


def test_fused_sub_is_the_negated_shift(tmp_path):
    """x - gamma becomes act_shift_in = -gamma (x + (-gamma) is the same float operation)."""
    onnx_path = rprelu_block(tmp_path / "m.onnx", "sub")
    convert(onnx_path, tmp_path / "m.irb")
    model, (first, _) = binary_nodes(tmp_path / "m.irb")
    gamma = onnx.numpy_helper.to_array(next(t for t in onnx.load(onnx_path).graph.initializer
                                            if t.name == "gamma"))
    np.testing.assert_array_equal(model.tensors[first.inputs[6]].data.reshape(-1), -gamma.reshape(-1))


@pytest.mark.parametrize("opset", [11, 13, 17, 20])
def test_rprelu_fuses_at_every_opset(tmp_path, opset):
    onnx_path = rprelu_block(tmp_path / "m.onnx", "add_full", "1C11", opset=opset)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    assert ops_of(fused) == ["SignPack", "BinaryConv2d", "BinaryConv2d"]


def test_rsign_only_reader_gives_mode_bits(tmp_path):
    """When the RPReLU output feeds only the next RSign, the conv writes only bits."""
    onnx_path = rprelu_block(tmp_path / "m.onnx", float_reader=False)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    model, (first, _) = binary_nodes(fused)
    assert first.attrs["mode"] == "bits" and len(first.inputs) == 10
    assert [n.op for n in model.nodes] == ["SignPack", "BinaryConv2d", "BinaryConv2d"]


def test_rprelu_without_second_shift(tmp_path):
    onnx_path = rprelu_block(tmp_path / "m.onnx", shift_out=False)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    _, (first, _) = binary_nodes(fused)
    assert first.inputs[6] is not None and first.inputs[7] is not None and first.inputs[8] is None


def test_report_names_the_fused_patterns(tmp_path, capsys):
    onnx_path = rprelu_block(tmp_path / "m.onnx")
    assert convert_main([onnx_path, str(tmp_path / "m.irb")]) == 0
    out = capsys.readouterr().out
    assert "RPReLU: shift -> PReLU -> shift" in out
    assert "RSign threshold of the next binary op: writes sign(y + t)" in out
    assert "threshold: sign(x + b) with b per channel (RSign threshold of the binary op before)" in out
    assert "mode float+bits; fused BatchNormalization + Add + Add + PRelu + Add + Add (RSign threshold)" in out
    assert convert_main([onnx_path, str(tmp_path / "u.irb"), "--no-fuse-activation"]) == 0
    out = capsys.readouterr().out
    assert "RPReLU" not in out and "PRelu" not in out


# -- must not fuse ---------------------------------------------------------------------------

def test_shift_that_is_not_a_per_channel_constant_stays_separate(tmp_path):
    """A first shift by an activation (here x once more) is no act_shift_in: Add, PRelu, Add
    stay engine ops."""
    onnx_path = rprelu_block(tmp_path / "m.onnx", "add")
    model = onnx.load(onnx_path)
    next(n for n in model.graph.node if n.name == "shift_in").input[1] = "x"
    onnx.save(model, onnx_path)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    model, (first, _) = binary_nodes(fused)
    assert len(first.inputs) == 6 and first.attrs["mode"] == "float"
    assert ops_of(fused) == ["SignPack", "BinaryConv2d", "Add", "PRelu", "Add", "SignPack", "BinaryConv2d"]


@pytest.mark.parametrize("read", ["a1", "r1"])
def test_prelu_input_read_elsewhere_stays_separate(tmp_path, read):
    """The value before the PReLU (after the first shift, or the residual sum) is also a graph
    output: the conv cannot skip writing it, so the PRelu stays an engine op."""
    onnx_path = rprelu_block(tmp_path / "m.onnx")
    model = onnx.load(onnx_path)
    model.graph.output.append(helper.make_tensor_value_info(read, TensorProto.FLOAT, None))
    onnx.save(model, onnx_path)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    _, (first, _) = binary_nodes(fused)
    assert len(first.inputs) == 6 and "PRelu" in ops_of(fused)


# -- the doubling Concat ---------------------------------------------------------------------

def doubling_block(path, same_input=True, power_of_two=(False, False), same_residual=True, two_signs=False):
    """x → RSign → two binary 1x1 convs C → C, each → BN → + x, Concat → RPReLU (2C) → y:
    ReActNet-A's channel-doubling block (its second half). same_input=False gives the second
    conv its own RSign; same_residual=False adds x to the first and x + k to the second;
    two_signs gives the second conv its own Sign node of the same shifted input."""
    rng = np.random.default_rng(5)
    inits = {"rsign_a": _per_channel(rng, "1C11"), "rsign_b": _per_channel(rng, "1C11"),
             "wa": _weight(rng, C, C, 1, power_of_two[0]), "wb": _weight(rng, C, C, 1, power_of_two[1]),
             "minus_gamma": (0.3 * rng.standard_normal((1, 2 * C, 1, 1))).astype(np.float32),
             "slope": rng.uniform(0, 0.5, (2 * C, 1, 1)).astype(np.float32),
             "zeta": (0.3 * rng.standard_normal((1, 2 * C, 1, 1))).astype(np.float32)}
    nodes = [helper.make_node("Add", ["x", "rsign_a"], ["ta"], name="rsign_a"),
             helper.make_node("Sign", ["ta"], ["sa"], name="sign_a")]
    source_b = "sa"
    if not same_input:
        nodes += [helper.make_node("Add", ["x", "rsign_b"], ["tb"], name="rsign_b"),
                  helper.make_node("Sign", ["tb"], ["sb"], name="sign_b")]
        source_b = "sb"
    elif two_signs:
        nodes.append(helper.make_node("Sign", ["ta"], ["sa2"], name="sign_a2"))
        source_b = "sa2"
    residual_b = "x"
    if not same_residual:
        inits["k"] = _per_channel(rng, "1C11")
        nodes.append(helper.make_node("Add", ["x", "k"], ["xk"], name="other_residual"))
        residual_b = "xk"
    nodes += [helper.make_node("Conv", ["sa", "wa"], ["ca"], name="conv_a", kernel_shape=[1, 1]),
              _bn("bn_a", "ca", "na", rng, inits),
              helper.make_node("Add", ["na", "x"], ["ra"], name="residual_a"),
              helper.make_node("Conv", [source_b, "wb"], ["cb"], name="conv_b", kernel_shape=[1, 1]),
              _bn("bn_b", "cb", "nb", rng, inits),
              helper.make_node("Add", ["nb", residual_b], ["rb"], name="residual_b"),
              helper.make_node("Concat", ["ra", "rb"], ["cat"], name="concat", axis=1),
              helper.make_node("Add", ["cat", "minus_gamma"], ["a"], name="shift_in"),
              helper.make_node("PRelu", ["a", "slope"], ["p"], name="prelu"),
              helper.make_node("Add", ["p", "zeta"], ["y"], name="shift_out")]
    return save_model(path, nodes, inits, (N, C, H, W), 13)


@pytest.mark.parametrize("power_of_two,two_signs", [((False, False), False), ((True, True), False),
                                                    ((True, False), False), ((False, True), True)])
def test_doubling_concat_merges_into_one_conv(tmp_path, power_of_two, two_signs):
    """Two convs on one input, each + x, concatenated: one conv of 2C output channels reading
    x with channel repeat 2, RPReLU after the Concat in its epilogue. Shifts on one conv and
    float scales on the other merge exactly (the shift goes into that conv's scale)."""
    onnx_path = doubling_block(tmp_path / "m.onnx", power_of_two=power_of_two, two_signs=two_signs)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    model, (conv,) = binary_nodes(fused)
    assert [n.op for n in model.nodes] == ["SignPack", "BinaryConv2d"]
    assert model.tensors[conv.inputs[1]].shape == [2 * C, 1, 1, C]
    assert model.tensors[conv.inputs[5]].shape == [N, H, W, C]          # residual x, repeated twice
    assert all(model.tensors[t].shape == [2 * C] for t in conv.inputs[6:9])
    assert (conv.inputs[2] is not None) == all(power_of_two)             # shift only when both have one
    assert ops_of(unfused) == ["SignPack", "BinaryConv2d", "BinaryConv2d", "Concat", "Add", "PRelu", "Add"]
    report = convert(onnx_path, tmp_path / "again.irb")
    (layer,) = [x for x in report.layers if x.binary]
    assert layer.name == "conv_a + conv_b"
    assert "doubling concat merged: 2 convs on one input, output channels stacked" in layer.recognised
    assert "residual read with channel repeat r = 2 (no Concat copy)" in layer.recognised


@pytest.mark.parametrize("same_input,same_residual", [(False, True), (True, False)])
def test_concat_of_convs_on_different_inputs_or_residuals_is_not_merged(tmp_path, same_input, same_residual):
    onnx_path = doubling_block(tmp_path / "m.onnx", same_input=same_input, same_residual=same_residual)
    fused, unfused = convert_checked(onnx_path, tmp_path)
    ops = ops_of(fused)
    assert ops.count("BinaryConv2d") == 2 and "Concat" in ops
