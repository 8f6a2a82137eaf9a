"""irnet-convert's command line: summary, exit codes, precise errors, and no
output file left behind (or clobbered) when a conversion fails."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import irnet_infer
from irnet_infer.convert.cli import main
from test_convert_layers import binary_conv_model, save_model


def run_cli(*args):
    """Runs the real entry point in a subprocess: (exit code, stdout, stderr)."""
    env = dict(os.environ)
    pkg_root = os.path.dirname(os.path.dirname(irnet_infer.__file__))
    env["PYTHONPATH"] = pkg_root + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-m", "irnet_infer.convert", *map(str, args)],
                       capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def test_success_prints_summary(tmp_path):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 16, 8, conv_pads=(1, 1, 1, 1))
    rc, out, err = run_cli(onnx_path, "-o", tmp_path / "m.irb")
    assert rc == 0, err
    assert "binary layers: 1" in out and "conv: BinaryConv2d" in out
    assert f"MACs: binary {2 * 8 * 9 * 8 * 16 * 9:,}, float 0" in out
    assert f"{os.path.getsize(tmp_path / 'm.irb'):,} bytes" in out


def test_positional_output(tmp_path):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    assert main([str(onnx_path), str(tmp_path / "out.irb")]) == 0
    assert (tmp_path / "out.irb").exists()
    with pytest.raises(SystemExit) as e:  # argparse usage error: exit 2
        main([str(onnx_path), str(tmp_path / "a.irb"), "-o", str(tmp_path / "b.irb")])
    assert e.value.code == 2


def test_default_output_name(tmp_path, capsys):
    onnx_path = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    assert main([onnx_path]) == 0
    assert (tmp_path / "m.irb").exists()


def failing(tmp_path, capsys, *args):
    """Runs main on a failing conversion; checks exit 1, no new output; returns stderr."""
    out = tmp_path / "out.irb"
    rc = main([*map(str, args), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert not out.exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    return err


def test_empty_file(tmp_path, capsys):
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert "is empty" in failing(tmp_path, capsys, tmp_path / "empty.onnx")


@pytest.mark.parametrize("blob", [b"hello, this is not a model\n", bytes(range(256)) * 4,
                                  np.random.default_rng(0).bytes(1000)])
def test_not_onnx(tmp_path, capsys, blob):
    (tmp_path / "x.onnx").write_bytes(blob)
    assert "is not an ONNX model" in failing(tmp_path, capsys, tmp_path / "x.onnx")


def test_missing_file(tmp_path, capsys):
    assert "cannot read" in failing(tmp_path, capsys, tmp_path / "nope.onnx")


def test_unsupported_op_names_node_op_opset_and_supported_list(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="act"),
             helper.make_node("LRN", ["r"], ["y"], name="my_lrn", size=3)]
    path = save_model(tmp_path / "m.onnx", nodes, {}, (1, 4, 5, 5), 13)
    err = failing(tmp_path, capsys, path)
    assert "node 'my_lrn'" in err and "op 'LRN'" in err and "opset 13" in err
    assert "Supported ops" in err and "Conv" in err and "BatchNormalization" in err


def test_cycle(tmp_path, capsys):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Relu", ["b"], ["y"], name="third")]
    graph = helper.make_graph(nodes, "cyc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)])
    onnx.save(model, str(tmp_path / "cyc.onnx"))
    err = failing(tmp_path, capsys, tmp_path / "cyc.onnx")
    assert "cycle" in err and "'first'" in err and "'second'" in err


def test_failed_conversion_keeps_existing_output(tmp_path, capsys):
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "out.irb").write_bytes(b"previous model")
    assert main([str(tmp_path / "empty.onnx"), "-o", str(tmp_path / "out.irb")]) == 1
    assert (tmp_path / "out.irb").read_bytes() == b"previous model"


def test_dynamic_input_needs_input_shape(tmp_path, capsys):
    path = binary_conv_model(tmp_path / "m.onnx", 3, 4)
    model = onnx.load(path)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.save(model, str(tmp_path / "dyn.onnx"))
    err = failing(tmp_path, capsys, tmp_path / "dyn.onnx")
    assert "dynamic dimension 'batch' at axis 0" in err and "--input-shape x=" in err
    out = tmp_path / "fixed.irb"
    assert main([str(tmp_path / "dyn.onnx"), "-o", str(out), "--input-shape", "x=5,3,9,8"]) == 0
    from irnet_infer.irb import read_irb
    model = read_irb(out)
    assert model.tensors[model.inputs[0]].shape == [5, 9, 8, 3]          # NHWC inside
    assert "not a model input" in failing(tmp_path, capsys, tmp_path / "dyn.onnx", "--input-shape", "y=1,3,9,8")
    assert "positive integers" in failing(tmp_path, capsys, tmp_path / "dyn.onnx", "--input-shape", "x=1,a")


def test_keep_float_unknown_node(tmp_path, capsys):
    path = binary_conv_model(tmp_path / "m.onnx", 3, 4)
    assert "not nodes of the model" in failing(tmp_path, capsys, path, "--keep-float", "nope")
    assert "'sign' (Sign): only Conv, Gemm and MatMul" in failing(tmp_path, capsys, path, "--keep-float", "sign")


def test_exit_codes_of_the_real_entry_point(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    rc, out, err = run_cli(tmp_path / "empty.onnx", "-o", tmp_path / "o.irb")
    assert rc == 1 and err.startswith("irnet-convert: error:") and out == ""
    rc, _out, err = run_cli()                       # usage error
    assert rc == 2 and "usage:" in err


def test_external_weight_data(tmp_path):
    """Weights stored beside the .onnx file (how large exports are saved) are loaded."""
    path = binary_conv_model(tmp_path / "m.onnx", 16, 8, conv_pads=(1, 1, 1, 1))
    model = onnx.load(path)
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.data", size_threshold=0)
    assert (tmp_path / "ext.data").exists()
    assert main([str(tmp_path / "ext.onnx"), "-o", str(tmp_path / "ext.irb")]) == 0
    assert main([path, "-o", str(tmp_path / "inline.irb")]) == 0
    from irnet_infer.irb import read_irb
    ext, inline = read_irb(tmp_path / "ext.irb"), read_irb(tmp_path / "inline.irb")
    assert [n.op for n in ext.nodes] == [n.op for n in inline.nodes] == ["SignPack", "BinaryConv2d"]
    for a, b in zip(ext.tensors, inline.tensors):
        assert a.shape == b.shape and (a.data is None) == (b.data is None)
        assert a.data is None or np.array_equal(a.data, b.data)


def test_truncated_models_fail_cleanly(tmp_path, capsys):
    """Every truncation of a valid file either converts or fails with exit 1 and a message."""
    blob = open(binary_conv_model(tmp_path / "m.onnx", 16, 8, conv_pads=(1, 1, 1, 1)), "rb").read()
    for cut in (1, 7, 40, len(blob) // 3, len(blob) // 2, len(blob) - 9, len(blob) - 1):
        (tmp_path / "cut.onnx").write_bytes(blob[:cut])
        out = tmp_path / "cut.irb"
        rc = main([str(tmp_path / "cut.onnx"), "-o", str(out)])
        err = capsys.readouterr().err
        assert rc == 1 and err.startswith("irnet-convert: error:") and not out.exists(), (cut, rc, err)


def test_non_float_input(tmp_path, capsys):
    nodes = [helper.make_node("Cast", ["x"], ["y"], name="cast", to=TensorProto.FLOAT)]
    graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.INT64, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)]), str(tmp_path / "m.onnx"))
    assert "'x' has element type INT64" in failing(tmp_path, capsys, tmp_path / "m.onnx")


def test_window_larger_than_padded_input(tmp_path, capsys):
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[5, 5])]
    graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)])
    onnx.save(model, str(tmp_path / "m.onnx"))
    err = failing(tmp_path, capsys, tmp_path / "m.onnx")
    assert "mp" in err and ("does not fit" in err or "shape inference" in err)


def test_kernel_shape_disagrees_with_weight(tmp_path, capsys):
    path = binary_conv_model(tmp_path / "m.onnx", 4, 4, k=3)
    model = onnx.load(path)
    conv = model.graph.node[-1]
    conv.attribute.append(helper.make_attribute("kernel_shape", [2, 2]))
    onnx.save(model, str(tmp_path / "bad.onnx"))
    err = failing(tmp_path, capsys, tmp_path / "bad.onnx")
    assert "conv" in err and ("kernel_shape" in err or "shape inference" in err)


def test_non_finite_batchnorm(tmp_path, capsys):
    inits = {"w": np.ones((4, 3, 1, 1), np.float32), "g": np.ones(4, np.float32), "b": np.zeros(4, np.float32),
             "m": np.zeros(4, np.float32), "v": np.array([1, 1, -1, 1], np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"], name="bn", epsilon=0.0)]
    path = save_model(tmp_path / "m.onnx", nodes, inits, (1, 3, 4, 4), 13)
    err = failing(tmp_path, capsys, path)
    assert "non-finite" in err and "conv" in err


def test_attribute_of_the_wrong_type(tmp_path, capsys):
    path = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    model = onnx.load(path)
    conv = model.graph.node[-1]
    strides = next(a for a in conv.attribute if a.name == "strides")
    conv.attribute.remove(strides)
    conv.attribute.append(helper.make_attribute("strides", [1.0, 1.0]))
    onnx.save(model, str(tmp_path / "bad.onnx"))
    err = failing(tmp_path, capsys, tmp_path / "bad.onnx")
    assert "node 'conv' (Conv): attribute 'strides' has type FLOATS" in err and "requires INTS" in err
