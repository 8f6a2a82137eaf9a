"""irnet-convert on single layers: every padding form, odd channel counts,
stride/dilation, shift and scale forms, binary Gemm, 1W/32A and --keep-float.

Each model is converted, run by the numpy .irb interpreter
(test_convert_reference.py) and compared with onnxruntime on the ONNX file.
"""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from irnet_infer.convert import convert
from irnet_infer.irb import read_irb
from test_convert_reference import assert_matches_ort, ops_of


def save_model(path, nodes, inits, x_shape, opset):
    graph = helper.make_graph(
        nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def pad_node(name, inp, out, pads_tlbr, value, opset, inits):
    """A constant-mode Pad of H and W, in the attribute (opset < 11) or input form."""
    t, l, b, r = pads_tlbr
    pads = [0, 0, t, l, 0, 0, b, r]
    if opset < 11:
        return helper.make_node("Pad", [inp], [out], name=name, mode="constant", pads=pads, value=float(value))
    inits[name + ".pads"] = np.array(pads, dtype=np.int64)
    inits[name + ".value"] = np.array(value, dtype=np.float32)
    return helper.make_node("Pad", [inp, name + ".pads", name + ".value"], [out], name=name)


def binary_conv_model(path, cin, cout, k=3, stride=1, dilation=1, conv_pads=(0, 0, 0, 0),
                      pad=None, alphas=None, bias=True, opset=13, hw=(9, 8), seed=0, groups=1):
    """x → [Pad] → Sign → [Pad] → Conv(±α_o weights, bias) → y.

    pad = (where, pads_tlbr, value) with where "before" or "after" the Sign.
    """
    rng = np.random.default_rng(seed)
    if alphas is None:
        alphas = rng.uniform(0.05, 2.0, cout)
    signs = np.where(rng.standard_normal((cout, cin // groups, k, k)) < 0, -1.0, 1.0)
    w = signs * np.asarray(alphas).reshape(-1, 1, 1, 1)
    inits = {"w": w.astype(np.float32)}
    nodes, cur = [], "x"
    if pad and pad[0] == "before":
        nodes.append(pad_node("pad", cur, "padded", pad[1], pad[2], opset, inits))
        cur = "padded"
    nodes.append(helper.make_node("Sign", [cur], ["s"], name="sign"))
    cur = "s"
    if pad and pad[0] == "after":
        nodes.append(pad_node("pad", cur, "padded", pad[1], pad[2], opset, inits))
        cur = "padded"
    conv_in = [cur, "w"]
    if bias:
        inits["b"] = rng.standard_normal(cout).astype(np.float32)
        conv_in.append("b")
    nodes.append(helper.make_node("Conv", conv_in, ["y"], name="conv", kernel_shape=[k, k],
                                  strides=[stride] * 2, dilations=[dilation] * 2, pads=list(conv_pads),
                                  group=groups))
    return save_model(path, nodes, inits, (2, cin) + tuple(hw), opset)


def random_input(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def binary_node(irb_path, op="BinaryConv2d"):
    nodes = [n for n in read_irb(irb_path).nodes if n.op == op]
    assert len(nodes) == 1, ops_of(irb_path)
    return nodes[0]


@pytest.mark.parametrize("cin,cout,k,stride,dilation,pads", [
    (1, 4, 3, 1, 1, (1, 1, 1, 1)),
    (3, 8, 3, 2, 1, (0, 0, 0, 0)),
    (16, 16, 3, 1, 1, (1, 1, 1, 1)),
    (63, 5, 3, 1, 2, (2, 2, 2, 2)),
    (64, 64, 3, 2, 1, (1, 1, 1, 1)),
    (65, 7, 3, 2, 1, (3, 1, 0, 2)),      # asymmetric
    (130, 9, 1, 1, 1, (0, 0, 0, 0)),
    (130, 3, 3, 1, 2, (1, 0, 1, 3)),
])
def test_binary_conv_shapes_match_onnxruntime(tmp_path, cin, cout, k, stride, dilation, pads):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", cin, cout, k, stride, dilation, pads)
    convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryConv2d"]
    node = binary_node(tmp_path / "m.irb")
    assert node.attrs["pads"] == list(pads) and node.attrs["strides"] == [stride] * 2
    assert node.attrs["dilations"] == [dilation] * 2 and node.attrs["pad_value"] == [0]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, cin, 9, 8)))


@pytest.mark.parametrize("opset", [10, 13])
@pytest.mark.parametrize("where,value,expected", [
    ("after", -1.0, -1), ("after", 1.0, 1), ("after", 0.0, 0),
    ("before", -1.0, -1), ("before", 0.0, 0), ("before", 2.5, 1),   # sign() of the padded value
])
def test_pad_node_forms(tmp_path, opset, where, value, expected):
    """daBNN-style Pad(value=−1) and friends, attribute form (opset 10) and input form (13)."""
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 65, 6, pad=(where, (1, 2, 1, 0), value), opset=opset)
    convert(onnx_path, tmp_path / "m.irb")
    node = binary_node(tmp_path / "m.irb")
    assert node.attrs["pad_value"] == [expected] and node.attrs["pads"] == [1, 2, 1, 0]
    assert "Pad" not in ops_of(tmp_path / "m.irb")
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 65, 9, 8)))


def test_grouped_binary_conv(tmp_path):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 130, 6, conv_pads=(1, 1, 1, 1), groups=2)
    convert(onnx_path, tmp_path / "m.irb")
    assert binary_node(tmp_path / "m.irb").attrs["groups"] == [2]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 130, 9, 8)))


def test_pad_node_plus_conv_zero_pads(tmp_path):
    """Pad(value 0) after Sign adds up with the Conv's own pads (both are zeros)."""
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 3, 4, conv_pads=(1, 1, 1, 1),
                                  pad=("after", (1, 0, 0, 2), 0.0))
    convert(onnx_path, tmp_path / "m.irb")
    assert binary_node(tmp_path / "m.irb").attrs["pads"] == [2, 1, 1, 3]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 3, 9, 8)))


def test_power_of_two_scales_become_shifts(tmp_path):
    alphas = [1.0, 0.5, 0.25, 0.125, 0.5, 1.0]
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 16, 6, conv_pads=(1, 1, 1, 1), alphas=alphas, bias=False)
    convert(onnx_path, tmp_path / "m.irb")
    model = read_irb(tmp_path / "m.irb")
    node = binary_node(tmp_path / "m.irb")
    shift, scale = node.inputs[2], node.inputs[3]
    assert scale is None and model.tensors[shift].data.tolist() == [0, 1, 2, 3, 1, 0]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 16, 9, 8)))

    convert(onnx_path, tmp_path / "noshift.irb", bit_shift=False)
    model = read_irb(tmp_path / "noshift.irb")
    node = binary_node(tmp_path / "noshift.irb")
    assert node.inputs[2] is None
    np.testing.assert_array_equal(model.tensors[node.inputs[3]].data, np.array(alphas, dtype=np.float32))
    assert_matches_ort(onnx_path, tmp_path / "noshift.irb", random_input((2, 16, 9, 8)))


def test_negative_and_non_power_of_two_scales(tmp_path):
    """Dynamo-style ±α_o with BN fused in: α arbitrary, the sign of γ is in the weight signs."""
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 16, 4, conv_pads=(1, 1, 1, 1), alphas=[0.3, 1.7, 0.01, 3.0])
    convert(onnx_path, tmp_path / "m.irb")
    node = binary_node(tmp_path / "m.irb")
    assert node.inputs[2] is None and node.inputs[3] is not None
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 16, 9, 8)))


def test_non_binary_weights_stay_float(tmp_path):
    """Sign(x) into a conv whose weights are not ±α: a float conv after a float Sign."""
    rng = np.random.default_rng(0)
    inits = {"w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 3, 9, 8), 13)
    report = convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryConv2d", "Conv2d"]   # ±1, then float
    assert "not ±α" in report.render("m.irb", 0)
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 3, 9, 8)))


def test_keep_float_and_one_w_32a(tmp_path):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 8, 4, conv_pads=(1, 1, 1, 1))
    report = convert(onnx_path, tmp_path / "m.irb", keep_float=["conv"])
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryConv2d", "Conv2d"]   # ±1, then float
    assert "--keep-float" in report.render("m.irb", 0)
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 8, 9, 8)))

    # 1W/32A: ±α weights on real activations (no Sign): a float conv, said so in the summary.
    model = onnx.load(onnx_path)
    model.graph.node[1].input[0] = "x"
    del model.graph.node[0]
    onnx.save(model, str(tmp_path / "w1a32.onnx"))
    report = convert(tmp_path / "w1a32.onnx", tmp_path / "w1a32.irb")
    assert ops_of(tmp_path / "w1a32.irb") == ["Conv2d"]
    assert "1W/32A" in report.render("x", 0)
    assert_matches_ort(tmp_path / "w1a32.onnx", tmp_path / "w1a32.irb", random_input((2, 8, 9, 8)))


def test_keep_float_gemm(tmp_path):
    """A kept-float binary Gemm: sign(x) of a rank-2 tensor as ±1 floats, then a float Gemm."""
    rng = np.random.default_rng(10)
    inits = {"w": (np.where(rng.standard_normal((6, 70)) < 0, -1.0, 1.0) * 0.25).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Gemm", ["s", "w"], ["y"], name="fc", transB=1)]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (3, 70), 13)
    convert(onnx_path, tmp_path / "m.irb", keep_float=["fc"])
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "Reshape", "BinaryConv2d", "Reshape", "Gemm"]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((3, 70)))


def test_binary_gemm_with_bn_and_clip(tmp_path):
    rng = np.random.default_rng(3)
    w = (np.where(rng.standard_normal((10, 70)) < 0, -1.0, 1.0) * 0.5).astype(np.float32)
    inits = {"w": w, "c": rng.standard_normal(10).astype(np.float32),
             "g": rng.uniform(-1, 1, 10).astype(np.float32), "be": rng.standard_normal(10).astype(np.float32),
             "m": rng.standard_normal(10).astype(np.float32), "v": rng.uniform(0.5, 2, 10).astype(np.float32),
             "lo": np.array(-1, np.float32), "hi": np.array(1, np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Gemm", ["s", "w", "c"], ["f"], name="fc", transB=1),
             helper.make_node("BatchNormalization", ["f", "g", "be", "m", "v"], ["n"], name="bn"),
             helper.make_node("Clip", ["n", "lo", "hi"], ["y"], name="clip")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (4, 70), 13)
    convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryGemm"]
    node = binary_node(tmp_path / "m.irb", "BinaryGemm")
    assert node.attrs["clip"] == [-1.0, 1.0] and node.inputs[2] is not None   # shift 1 for α = ½
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((4, 70)))


def test_sign_shared_by_binary_and_float_conv(tmp_path):
    """One Sign feeds a binary conv and a conv kept float: both read one SignPack of the
    source, the kept conv through a ±1 float view."""
    rng = np.random.default_rng(4)
    inits = {"w1": np.where(rng.standard_normal((8, 8, 3, 3)) < 0, -0.5, 0.5).astype(np.float32),
             "w2": np.where(rng.standard_normal((8, 8, 3, 3)) < 0, -2.0, 2.0).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w1"], ["a"], name="bin", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["s", "w2"], ["b"], name="kept", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["a", "b"], ["y"], name="sum")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 8, 6, 5), 13)
    convert(onnx_path, tmp_path / "m.irb", keep_float=["kept"])
    ops = ops_of(tmp_path / "m.irb")
    # one SignPack; ±1 floats for the kept conv; the binary conv fuses the Add (residual)
    assert ops == ["SignPack", "BinaryConv2d", "Conv2d", "BinaryConv2d"]
    model = read_irb(tmp_path / "m.irb")
    assert model.nodes[1].attrs["groups"] == [8] and model.nodes[3].inputs[5] is not None
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 8, 6, 5)))


@pytest.mark.parametrize("consumer", ["gemm", "softmax", "reshape4d"])
def test_flatten_of_nhwc_tensor(tmp_path, consumer):
    """Flatten of an NHWC tensor with H·W > 1: Gemm weights are permuted; anything else
    gets a Transpose to NCHW order first; a rank-4 result goes back to NHWC."""
    rng = np.random.default_rng(6)
    inits = {"w": rng.standard_normal((5, 3, 3, 3)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Flatten", ["c"], ["f"], name="flat", axis=1)]
    if consumer == "gemm":
        inits["fc"] = rng.standard_normal((7, 5 * 4 * 3)).astype(np.float32)
        nodes.append(helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc", transB=1))
        expected = ["Conv2d", "Reshape", "Gemm"]
    elif consumer == "softmax":
        nodes.append(helper.make_node("Softmax", ["f"], ["y"], name="sm", axis=1))
        expected = ["Conv2d", "Transpose", "Reshape", "Softmax"]
    else:
        inits["shape"] = np.array([2, 3, 5, 4], dtype=np.int64)
        nodes.append(helper.make_node("Reshape", ["f", "shape"], ["y"], name="back"))
        expected = ["Conv2d", "Transpose", "Reshape", "Reshape", "Transpose"]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 3, 4, 3), 13)
    convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == expected
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 3, 4, 3)))


def test_option_a_shortcut_slice_and_channel_pad(tmp_path):
    """ResNet-20's parameter-free shortcut: x[:, :, ::2, ::2] then zero channels on both sides."""
    inits = {"starts": np.array([0, 0], np.int64), "ends": np.array([2**62, 2**62], np.int64),
             "axes": np.array([2, 3], np.int64), "steps": np.array([2, 2], np.int64),
             "pads": np.array([0, 2, 0, 0, 0, 2, 0, 0], np.int64)}
    nodes = [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["s"], name="slice"),
             helper.make_node("Pad", ["s", "pads"], ["y"], name="pad")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 3, 7, 6), 13)
    convert(onnx_path, tmp_path / "m.irb")
    model = read_irb(tmp_path / "m.irb")
    assert [n.op for n in model.nodes] == ["Slice", "Pad"]
    assert model.nodes[0].attrs["steps"] == [1, 2, 2, 1]                 # NHWC order
    assert model.nodes[1].attrs["pads"] == [0, 0, 0, 2, 0, 0, 0, 2]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 3, 7, 6)))


def test_float_op_zoo(tmp_path):
    """Pools with padding, Concat on channels, BN+Relu, PRelu, per-channel Add, Identity/Dropout,
    ReduceMean(keepdims=0) and MatMul+Add, all in one graph."""
    rng = np.random.default_rng(7)
    inits = {"g": rng.uniform(0.5, 2, 8).astype(np.float32), "be": rng.standard_normal(8).astype(np.float32),
             "m": rng.standard_normal(8).astype(np.float32), "v": rng.uniform(0.5, 2, 8).astype(np.float32),
             "slope": rng.uniform(0, 0.3, (8, 1, 1)).astype(np.float32),
             "cb": rng.standard_normal((1, 8, 1, 1)).astype(np.float32),
             "mm": rng.standard_normal((8, 5)).astype(np.float32), "mb": rng.standard_normal(5).astype(np.float32)}
    nodes = [helper.make_node("Identity", ["x"], ["i"], name="id"),
             helper.make_node("MaxPool", ["i"], ["a"], name="maxpool", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1]),
             helper.make_node("AveragePool", ["x"], ["b"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2],
                              pads=[0, 0, 1, 1], count_include_pad=1),
             helper.make_node("Concat", ["a", "b"], ["c"], name="cat", axis=1),
             helper.make_node("BatchNormalization", ["c", "g", "be", "m", "v"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["d"], name="relu"),
             helper.make_node("PRelu", ["d", "slope"], ["e"], name="prelu"),
             helper.make_node("Add", ["e", "cb"], ["f"], name="addc"),
             helper.make_node("Dropout", ["f"], ["h0"], name="drop"),
             helper.make_node("ReduceMean", ["h0"], ["h"], name="mean", axes=[2, 3], keepdims=0),
             helper.make_node("MatMul", ["h", "mm"], ["mo"], name="matmul"),
             helper.make_node("Add", ["mo", "mb"], ["y"], name="bias")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 4, 6, 6), 13)
    convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["MaxPool", "AveragePool", "Concat", "ChannelAffine", "PRelu", "Add",
                                          "GlobalAveragePool", "Reshape", "Gemm"]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 4, 6, 6)))


@pytest.mark.parametrize("negative_gamma", [False, True])
def test_bn_after_maxpool_moves_only_when_exact(tmp_path, negative_gamma):
    """VGG-Small: bconv → MaxPool → BN. The BN moves into the conv only if every scale is > 0."""
    rng = np.random.default_rng(8)
    gamma = rng.uniform(0.5, 2, 6)
    if negative_gamma:
        gamma[2] = -0.7
    inits = {"w": np.where(rng.standard_normal((6, 5, 3, 3)) < 0, -1.0, 1.0).astype(np.float32),
             "g": gamma.astype(np.float32), "be": rng.standard_normal(6).astype(np.float32),
             "m": rng.standard_normal(6).astype(np.float32), "v": rng.uniform(0.5, 2, 6).astype(np.float32),
             "lo": np.array(-1, np.float32), "hi": np.array(1, np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["c"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("BatchNormalization", ["p", "g", "be", "m", "v"], ["n"], name="bn"),
             helper.make_node("Clip", ["n", "lo", "hi"], ["y"], name="hardtanh")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 5, 8, 6), 13)
    convert(onnx_path, tmp_path / "m.irb")
    expected = ["SignPack", "BinaryConv2d", "MaxPool"] + (["ChannelAffine"] if negative_gamma else ["Clip"])
    assert ops_of(tmp_path / "m.irb") == expected
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 5, 8, 6)))


def test_identity_as_graph_output(tmp_path):
    inits = {"w": np.where(np.random.default_rng(9).standard_normal((4, 4, 3, 3)) < 0, -1.0, 1.0).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Identity", ["c"], ["y"], name="id")]
    onnx_path = save_model(tmp_path / "m.onnx", nodes, inits, (2, 4, 5, 5), 13)
    convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["SignPack", "BinaryConv2d", "Reshape"]
    assert_matches_ort(onnx_path, tmp_path / "m.irb", random_input((2, 4, 5, 5)))


@pytest.mark.parametrize("auto_pad,stride", [("SAME_UPPER", 2), ("SAME_LOWER", 2), ("SAME_UPPER", 1), ("VALID", 2)])
def test_auto_pad(tmp_path, auto_pad, stride):
    path = binary_conv_model(tmp_path / "m.onnx", 5, 4, k=4 if stride == 1 else 3, stride=stride)
    model = onnx.load(path)
    conv = model.graph.node[-1]
    conv.attribute.remove(next(a for a in conv.attribute if a.name == "pads"))
    conv.attribute.append(helper.make_attribute("auto_pad", auto_pad))
    onnx.save(model, str(tmp_path / "auto.onnx"))
    convert(tmp_path / "auto.onnx", tmp_path / "m.irb")
    pads = binary_node(tmp_path / "m.irb").attrs["pads"]
    assert (pads == [0, 0, 0, 0]) == (auto_pad == "VALID")
    assert_matches_ort(tmp_path / "auto.onnx", tmp_path / "m.irb", random_input((2, 5, 9, 8)))
