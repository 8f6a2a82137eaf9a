"""irnet-convert against hostile ONNX files and paths (issue 15, converter side).

Every test builds its file with onnx.helper and checks that the converter ends
with a ConvertError (CLI: exit 1, one line naming the node, tensor or file and
the limit) and leaves no output behind -- never a hang, a huge allocation, an
"unexpected ..." error or an overwritten input.
"""
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import irnet_infer
from irnet_infer.convert import ConvertError, convert
from irnet_infer.convert.cli import main as convert_main
from irnet_infer.convert.load import check_order
from irnet_infer.irb import IrbWriter, read_irb
from test_convert_layers import binary_conv_model, random_input, save_model
from test_convert_reference import assert_matches_ort


def run_cli(*args, timeout=120):
    """irnet-convert in a subprocess (a hang fails the test): (exit code, stdout, stderr)."""
    env = dict(os.environ)
    pkg_root = os.path.dirname(os.path.dirname(irnet_infer.__file__))
    env["PYTHONPATH"] = pkg_root + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-m", "irnet_infer.convert", *args],
                       capture_output=True, env=env, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def refused(tmp_path, capsys, src, message, output=None):
    """Checks that converting `src` raises ConvertError matching `message` and that the CLI
    exits 1 with the same one-line error; no output or temp file is left. Returns stderr."""
    out = str(output or tmp_path / "out.irb")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ConvertError, match=message):
        convert(str(src), out)
    assert convert_main([str(src), "-o", out]) == 1
    err = capsys.readouterr().err
    assert err.startswith("irnet-convert: error: ") and "unexpected" not in err, err
    assert sorted(os.listdir(tmp_path)) == before
    return err


# --- item 8: linear topological sort ------------------------------------------

def test_topological_sort_is_linear_in_the_node_count():
    """8,000 Relu nodes stored in reverse order. The sort used to make one pass over the
    waiting nodes per node emitted (6,000 nodes: ~13 s of CPU); depth-first it takes
    ~0.03 s. The bound is CPU time, 30x above the linear sort, so load does not matter."""
    n = 8000
    nodes = [helper.make_node("Relu", [f"t{k}"], [f"t{k + 1}"], name=f"r{k}") for k in range(n)]
    graph = helper.make_graph(nodes[::-1], "chain", [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info(f"t{n}", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    start = time.process_time()
    check_order(model)
    assert time.process_time() - start < 1.0
    assert [x.name for x in model.graph.node] == [f"r{k}" for k in range(n)]


def test_topological_sort_keeps_a_sorted_graph_and_names_a_cycle():
    """A sorted graph keeps its order (independent branches are not regrouped); a cycle is
    named node by node, the way round."""
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="a"), helper.make_node("Neg", ["x"], ["b"], name="b"),
             helper.make_node("Add", ["a", "b"], ["y"], name="c")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    check_order(model)
    assert [n.name for n in model.graph.node] == ["a", "b", "c"]
    nodes = [helper.make_node("Relu", ["x"], ["p"], name="start"), helper.make_node("Add", ["p", "r"], ["q"], name="first"),
             helper.make_node("Relu", ["q"], ["r"], name="second"), helper.make_node("Relu", ["r"], ["y"], name="last")]
    model.graph.ClearField("node")
    model.graph.node.extend(nodes[::-1])
    with pytest.raises(ConvertError, match=r"the graph has a cycle: 'second' \(Relu\) -> 'first' \(Add\) -> "
                                           r"'second' \(Relu\)$"):
        check_order(model)


# --- item 12: files that are not regular, names that are not UTF-8, empty weights --

@pytest.mark.parametrize("kind", ["/dev/zero", "directory", "fifo"])
def test_model_path_that_is_not_a_regular_file(tmp_path, kind):
    """/dev/zero used to be read until memory ran out (MemoryError, or the OOM killer); a
    directory gave "unexpected IsADirectoryError"; a FIFO blocked in open() for ever.
    Run as a subprocess so that the old behaviour fails the test instead of ending it."""
    if kind == "directory":
        src, message = tmp_path / "model.onnx", "is a directory, not an ONNX model"
        src.mkdir()
    elif kind == "fifo":
        src, message = tmp_path / "model.onnx", "is not a regular file (it is a FIFO), not an ONNX model"
        os.mkfifo(src)
    else:
        src, message = "/dev/zero", "'/dev/zero' is not a regular file (it is a character device)"
    rc, _, err = run_cli(str(src), "-o", str(tmp_path / "out.irb"), timeout=60)
    assert rc == 1 and err.startswith("irnet-convert: error: ") and message in err, err
    assert not (tmp_path / "out.irb").exists()


def test_model_file_name_that_is_not_utf8(tmp_path):
    """A byte 0xff in the file name gave "unexpected UnicodeEncodeError" (the name went into
    the .irb metadata); now it converts, the name is stored with the byte escaped."""
    src = os.fsencode(binary_conv_model(tmp_path / "m.onnx", 4, 4))
    odd = os.path.join(os.fsencode(tmp_path), b"m\xff.onnx")
    os.rename(src, odd)
    rc, out, err = run_cli(odd, os.path.join(os.fsencode(tmp_path), b"o\xff.irb"))
    assert rc == 0, err
    assert "wrote " in out and "o\\xff.irb" in out
    model = read_irb(os.path.join(os.fsencode(tmp_path), b"o\xff.irb"))
    assert model.metadata["source"] == "m\\xff.onnx"


def test_zero_size_conv_weight(tmp_path, capsys):
    """A Conv weight of shape [0, 4, 3, 3] used to end in "unexpected ValueError: cannot
    reshape array of size 0" inside the binary-weight check."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])]
    src = save_model(tmp_path / "m.onnx", nodes, {"w": np.zeros((0, 4, 3, 3), np.float32)}, (1, 4, 5, 5), 13)
    refused(tmp_path, capsys, src, r"node 'conv' \(Conv\): output 'y' has shape \[1, 0, 3, 3\] with no elements")


# --- item 13: IR version 3 ------------------------------------------------------

def test_ir_version_3_opset_7(tmp_path):
    """IR 3 lists the initializers among the graph inputs. Folding drops them from the inputs,
    after which shape inference (still at IR 3) ignored them: "shape ... unknown". The model
    passes onnx's checker and now converts and matches onnxruntime."""
    rng = np.random.default_rng(0)
    inits = {"w": rng.standard_normal((6, 4, 3, 3)).astype(np.float32),
             "s": rng.uniform(0.5, 2, 6).astype(np.float32), "b": rng.standard_normal(6).astype(np.float32),
             "m": rng.standard_normal(6).astype(np.float32), "v": rng.uniform(0.5, 2, 6).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["y"], name="relu")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])] + [
        helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in inits.items()]
    graph = helper.make_graph(nodes, "ir3", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 6, 6])],
                              initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 7)])
    model.ir_version = 3
    onnx.checker.check_model(model)
    onnx.save(model, str(tmp_path / "m.onnx"))
    convert(str(tmp_path / "m.onnx"), str(tmp_path / "m.irb"))
    assert_matches_ort(str(tmp_path / "m.onnx"), str(tmp_path / "m.irb"), random_input((1, 4, 6, 6)))


# --- item 14: output = input ----------------------------------------------------

@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
def test_output_that_is_the_input(tmp_path, capsys, how):
    """`irnet-convert m.onnx m.onnx` used to replace the ONNX model with the .irb."""
    src = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    original = open(src, "rb").read()
    out = src if how == "same path" else str(tmp_path / "out.onnx")
    if how == "symlink":
        os.symlink(src, out)
    elif how == "hard link":
        os.link(src, out)
    refused(tmp_path, capsys, src, r"the output '.*' is the input file '.*m\.onnx' \(the same file", output=out)
    assert open(src, "rb").read() == original


# --- informational: temp files left by a killed conversion ----------------------

def test_stale_temp_files_are_removed_by_the_next_save(tmp_path):
    """kill -9 during a write leaves `.NAME.<hex>.tmp`; the next save of NAME removes such
    files once they are a minute old, and leaves fresh ones (a save in progress) and
    other names alone."""
    stale, fresh = tmp_path / ".m.irb.0123456789ab.tmp", tmp_path / ".m.irb.ba9876543210.tmp"
    other, not_ours = tmp_path / ".n.irb.0123456789ab.tmp", tmp_path / ".m.irb.0123.tmp"
    for p in (stale, fresh, other, not_ours):
        p.write_bytes(b"partial")
    old = time.time() - 120
    for p in (stale, other, not_ours):
        os.utime(p, (old, old))
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [1, 4])
    y = w.add_tensor("y", "f32", [1, 4])
    w.add_node("Relu", "relu", [x], [y])
    w.set_io([x], [y])
    w.save(tmp_path / "m.irb")
    assert sorted(os.listdir(tmp_path)) == sorted([fresh.name, other.name, not_ours.name, "m.irb"])
