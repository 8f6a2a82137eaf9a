"""irnet-convert against hostile ONNX files and paths (docs/hardening.md, converter side).

Every test builds its file with onnx.helper and checks that the converter ends
with a ConvertError (CLI: exit 1, one line naming the node, tensor or file and
the limit) and leaves no output behind -- never a hang, a huge allocation, an
"unexpected ..." error or an overwritten input.
"""
import os
import re
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
from irnet_infer.irb import read_irb
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
    with pytest.raises(ConvertError, match=r"the graph has a cycle \(each node reads an output of the next\): "
                                           r"'second' \(Relu\) -> 'first' \(Add\) -> 'second' \(Relu\)$"):
        check_order(model)


# --- item 12: files that are not regular, names that are not UTF-8, empty weights --

@pytest.mark.parametrize("kind", ["/dev/zero", "directory", "fifo"])
def test_model_path_that_is_not_a_regular_file(tmp_path, kind):
    """Read unchecked, /dev/zero runs until memory runs out (MemoryError, or the OOM killer),
    a directory gives "unexpected IsADirectoryError" and a FIFO blocks in open() for ever:
    each must be refused by name. Run as a subprocess so that a hang or a crash fails the
    test instead of ending it."""
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
    convert(binary_conv_model(tmp_path / "m.onnx", 4, 4), str(tmp_path / "m.irb"))  # IrbWriter.save
    assert sorted(os.listdir(tmp_path)) == sorted([fresh.name, other.name, not_ours.name, "m.onnx", "m.irb"])


# --- items 3 and 9: constant folding within limits --------------------------------

def _fold_model(path, nodes, inits, y_shape=(1, 4)):
    """x [1, 4] + (whatever the constant nodes compute into 'c') -> y."""
    graph = helper.make_graph(nodes + [helper.make_node("Add", ["x", "c"], ["y"], name="add")], "fold",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))],
                              initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def test_fold_uses_the_models_opset(tmp_path):
    """Each node is evaluated under the file's opset: opset 11's Unsqueeze takes its axes as an
    attribute (opset 13 made them an input), and ReduceSum too."""
    nodes = [helper.make_node("Unsqueeze", ["row"], ["u"], name="unsqueeze", axes=[0]),
             helper.make_node("ReduceSum", ["u"], ["c"], name="sum", axes=[0], keepdims=1)]
    graph = helper.make_graph(nodes + [helper.make_node("Add", ["x", "c"], ["y"], name="add")], "fold",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                              initializer=[numpy_helper.from_array(np.array([1, 2, 3, 4], np.float32), "row")])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 11)])
    model.ir_version = 6
    onnx.save(model, str(tmp_path / "m.onnx"))
    convert(str(tmp_path / "m.onnx"), str(tmp_path / "m.irb"))
    assert_matches_ort(str(tmp_path / "m.onnx"), str(tmp_path / "m.irb"), random_input((1, 4)))


def _counting_loop(path, trip_count, with_cond):
    """Loop(M = trip_count[, cond = true]) adding 1 to a [1, 4] zero per iteration."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
         helper.make_node("Add", ["v_in", "one"], ["v_out"], name="count")], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, 4])],
        initializer=[numpy_helper.from_array(np.ones((1, 4), np.float32), "one")])
    inits = {"M": np.array(trip_count, np.int64), "v0": np.zeros((1, 4), np.float32)}
    if with_cond:
        inits["cond"] = np.array(True)
    loop = helper.make_node("Loop", ["M", "cond" if with_cond else "", "v0"], ["c"], name="loop", body=body)
    return _fold_model(path, [loop], inits)


def test_fold_loop_trip_count_2_62(tmp_path):
    """A few hundred bytes: a constant Loop with trip count 2^62 and no condition. The onnx
    reference evaluator ran it for ever; now it is refused before the first iteration.
    (A subprocess, so that the old behaviour fails the test by its timeout.)"""
    src = _counting_loop(tmp_path / "m.onnx", 2 ** 62, with_cond=False)
    assert os.path.getsize(src) < 400
    rc, _, err = run_cli(src, "-o", str(tmp_path / "m.irb"), timeout=60)
    assert rc == 1 and "unexpected" not in err, err
    assert ("node 'loop' (Loop) has trip count 4,611,686,018,427,387,904, more than the limit of "
            "10,000 iterations") in err
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]


def test_fold_loop_with_condition_stops_at_the_iteration_limit(tmp_path, capsys, monkeypatch):
    """With a condition input the trip count is only an upper bound (PyTorch exports while
    loops that way), so the loop runs, up to the limit; a small loop folds exactly."""
    from irnet_infer.convert import evaluate
    monkeypatch.setattr(evaluate, "MAX_LOOP_ITERATIONS", 50)
    src = _counting_loop(tmp_path / "m.onnx", 2 ** 62, with_cond=True)
    refused(tmp_path, capsys, src, r"constant folding: node 'loop' \(Loop\) \(trip count "
                                   r"4,611,686,018,427,387,904\) is still running after 50 iterations, the limit")
    ok = _counting_loop(tmp_path / "ok.onnx", 50, with_cond=True)
    convert(ok, str(tmp_path / "ok.irb"))
    x = random_input((1, 4))
    assert_matches_ort(ok, str(tmp_path / "ok.irb"), x)


def test_fold_loop_scan_outputs_match_onnxruntime(tmp_path):
    """The folding's own Loop: carried values and scan outputs (stacked per iteration), the
    iteration number input, and a condition that ends the loop before its trip count."""
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["fi"], name="as_float", to=TensorProto.FLOAT),
         helper.make_node("Add", ["v_in", "fi"], ["v_out"], name="accumulate"),
         helper.make_node("Less", ["i", "stop"], ["cond_out"], name="before_stop"),
         helper.make_node("Mul", ["v_out", "v_out"], ["sq"], name="square")], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("sq", TensorProto.FLOAT, [1, 4])],
        initializer=[numpy_helper.from_array(np.array(6, np.int64), "stop")])
    nodes = [helper.make_node("Loop", ["M", "cond", "v0"], ["last", "squares"], name="loop", body=body),
             helper.make_node("ReduceSum", ["squares", "axis0"], ["total"], name="sum", keepdims=0),
             helper.make_node("Add", ["last", "total"], ["c"], name="both")]
    inits = {"M": np.array(100, np.int64), "cond": np.array(True), "axis0": np.array([0], np.int64),
             "v0": np.array([[0.5, -1, 2, 3]], np.float32)}
    src = _fold_model(tmp_path / "m.onnx", nodes, inits)
    convert(src, str(tmp_path / "m.irb"))
    assert_matches_ort(src, str(tmp_path / "m.irb"), random_input((1, 4)))


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand", "Tile", "Range"])
def test_fold_output_size_is_known_before_the_node_runs(tmp_path, capsys, op):
    """Tiny files whose constant node would allocate 4 TiB (ConstantOfShape: numpy's
    MemoryError as the message) or 1-8 GiB (which an unchecked fold allocates): refused before
    running, naming the node and the per-node limit."""
    big = 2 ** 40
    if op == "ConstantOfShape":
        nodes, inits = [helper.make_node(op, ["shape"], ["k"], name="big")], {"shape": np.array([big, 4], np.int64)}
    elif op == "Expand":
        nodes, inits = [helper.make_node(op, ["one", "shape"], ["k"], name="big")], {
            "one": np.ones((1, 4), np.float32), "shape": np.array([2 ** 28, 4], np.int64)}
    elif op == "Tile":
        nodes, inits = [helper.make_node(op, ["one", "reps"], ["k"], name="big")], {
            "one": np.ones((1, 4), np.float32), "reps": np.array([2 ** 26, 1], np.int64)}
    else:
        nodes, inits = [helper.make_node(op, ["start", "limit", "delta"], ["k"], name="big")], {
            "start": np.array(0, np.int64), "limit": np.array(big, np.int64), "delta": np.array(1, np.int64)}
    nodes.append(helper.make_node("ReduceMax", ["k"], ["m"], name="max", keepdims=0))
    nodes.append(helper.make_node("Cast", ["m"], ["c"], name="cast", to=TensorProto.FLOAT))
    src = _fold_model(tmp_path / "m.onnx", nodes, inits)
    assert os.path.getsize(src) < 300
    refused(tmp_path, capsys, src, rf"constant folding: node 'big' \({op}\) would produce [0-9,]+ bytes, "
                                   r"more than the limit of 268,435,456 bytes per node")


def test_fold_total_size_is_capped(tmp_path, capsys, monkeypatch):
    """Each node under the per-node limit, their sum over the total limit (scaled down here:
    the real limits are 256 MiB per node and 1 GiB in all)."""
    from irnet_infer.convert import evaluate
    monkeypatch.setattr(evaluate, "MAX_NODE_BYTES", 1 << 20)
    monkeypatch.setattr(evaluate, "MAX_FOLDED_BYTES", 3 << 20)
    nodes, parts = [], []
    for k in range(4):
        nodes.append(helper.make_node("ConstantOfShape", ["shape"], [f"k{k}"], name=f"fill{k}"))
        parts.append(f"k{k}")
    nodes.append(helper.make_node("Sum", parts, ["s"], name="sum"))
    nodes.append(helper.make_node("ReduceMax", ["s"], ["c"], name="max", keepdims=0))
    src = _fold_model(tmp_path / "m.onnx", nodes, {"shape": np.array([200_000], np.int64)}, y_shape=(1, 4))
    refused(tmp_path, capsys, src, r"constant folding: node 'fill3' \(ConstantOfShape\) would bring the folded "
                                   r"values to 3,200,000 bytes, more than the limit of 3,145,728 bytes")


def test_fold_time_is_capped(tmp_path, capsys, monkeypatch):
    """The clock is checked before every node and Loop iteration (a limit of 0 s here stops
    the first body node; the real limit is 60 s)."""
    from irnet_infer.convert import evaluate
    monkeypatch.setattr(evaluate, "MAX_SECONDS", 0.0)
    src = _counting_loop(tmp_path / "m.onnx", 5, with_cond=False)
    refused(tmp_path, capsys, src, r"constant folding took more than the limit of 0 s; stopped at "
                                   r"node 'loop' \(Loop\)$")


def test_fold_checks_the_nodes_of_an_if_branch(tmp_path, capsys):
    """An If whose taken branch holds a huge ConstantOfShape: branch nodes go through the same
    checks as the graph's; with the other branch taken the model folds and converts."""
    big = helper.make_graph([helper.make_node("ConstantOfShape", ["shape"], ["out"], name="inner")], "then",
                            [], [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                            initializer=[numpy_helper.from_array(np.array([2 ** 30, 4], np.int64), "shape")])
    small = helper.make_graph([helper.make_node("Identity", ["zero"], ["out"], name="plain")], "else",
                              [], [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                              initializer=[numpy_helper.from_array(np.full((1, 4), 3, np.float32), "zero")])
    nodes = [helper.make_node("If", ["flag"], ["c"], name="choose", then_branch=big, else_branch=small)]
    src = _fold_model(tmp_path / "m.onnx", nodes, {"flag": np.array(True)})
    refused(tmp_path, capsys, src, r"constant folding: node 'inner' \(ConstantOfShape\) in the then_branch of "
                                   r"node 'choose' \(If\) would produce 17,179,869,184 bytes")
    src = _fold_model(tmp_path / "ok.onnx", nodes, {"flag": np.array(False)})
    convert(src, str(tmp_path / "ok.irb"))
    assert_matches_ort(src, str(tmp_path / "ok.irb"), random_input((1, 4)))


def test_fold_refuses_a_constant_scan(tmp_path, capsys):
    """Scan bodies are not run by the folding (their size could not be bounded): refused."""
    body = helper.make_graph([helper.make_node("Add", ["s_in", "e"], ["s_out"], name="acc")], "body",
                             [helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [4]),
                              helper.make_tensor_value_info("e", TensorProto.FLOAT, [4])],
                             [helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [4])])
    nodes = [helper.make_node("Scan", ["s0", "rows"], ["c"], name="scan", body=body, num_scan_inputs=1)]
    src = _fold_model(tmp_path / "m.onnx", nodes, {"s0": np.zeros(4, np.float32),
                                                   "rows": np.ones((3, 4), np.float32)})
    refused(tmp_path, capsys, src, r"constant folding: node 'scan' \(Scan\): a constant Scan cannot be folded")


# --- item 4: external data ---------------------------------------------------------

def _external_model(folder, location, offset=None, length=None, data_type=None):
    """model.onnx in `folder`: the Conv weight 'w' [2, 4, 3, 3] stored as external data."""
    folder.mkdir(exist_ok=True)
    w = np.random.default_rng(3).standard_normal((2, 4, 3, 3)).astype(np.float32)
    t = numpy_helper.from_array(w, "w")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    if data_type is not None:
        t.data_type = data_type
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, str(value)
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])], "ext",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, 3])], initializer=[t])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)])
    model.ir_version = 8
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path), w.tobytes()


def test_external_data_inside_the_folder_converts(tmp_path):
    """The legitimate forms: a file beside the model, with offset/length inside a bigger file,
    and a symlink whose target is inside the model's folder."""
    src, raw = _external_model(tmp_path / "m", "w.bin")
    (tmp_path / "m" / "w.bin").write_bytes(raw)
    convert(src, str(tmp_path / "a.irb"))
    assert_matches_ort(src, str(tmp_path / "a.irb"), random_input((1, 4, 5, 5)))
    src, raw = _external_model(tmp_path / "m", "sub/all.bin", offset=64, length=len(raw))
    (tmp_path / "m" / "sub").mkdir()
    (tmp_path / "m" / "sub" / "all.bin").write_bytes(b"\0" * 64 + raw + b"\1" * 10)
    os.symlink("sub/all.bin", tmp_path / "m" / "link.bin")
    convert(src, str(tmp_path / "b.irb"))
    src, _ = _external_model(tmp_path / "m", "link.bin", offset=64, length=len(raw))
    convert(src, str(tmp_path / "c.irb"))
    assert (tmp_path / "a.irb").read_bytes()[:200] == (tmp_path / "c.irb").read_bytes()[:200]


@pytest.mark.parametrize("case", ["symlink out", "dotdot", "absolute", "directory", "fifo",
                                  "length", "short file", "longer file", "unknown type"])
def test_external_data_is_checked(tmp_path, capsys, case):
    """onnx < 1.21 followed a symlink in the model's folder and the target's bytes went into
    the .irb. The converter now reads external data itself: the location must resolve inside
    the model's folder to a regular file holding exactly the tensor's bytes."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\x42" * 288)
    folder = tmp_path / "m"
    location, offset, length, data_type = "w.bin", None, None, None
    message = None
    if case == "symlink out":
        folder.mkdir()
        os.symlink(secret, folder / "w.bin")
        message = r"location 'w.bin' leads to '.*secret\.bin', outside the model's folder"
    elif case == "dotdot":
        location, message = "../secret.bin", r"location '\.\./secret\.bin' leads to .* outside the model's folder"
    elif case == "absolute":
        location, message = str(secret), r"location '/.*' must be a path relative to the model's folder"
    elif case == "directory":
        folder.mkdir()
        (folder / "w.bin").mkdir()
        message = r"'.*w\.bin' is a directory, not a weight file \(location 'w\.bin' of tensor 'w'\)"
    elif case == "fifo":
        folder.mkdir()
        os.mkfifo(folder / "w.bin")
        message = r"'.*w\.bin' is not a regular file \(it is a FIFO\)"
    elif case == "length":
        folder.mkdir()
        (folder / "w.bin").write_bytes(b"\0" * 288)
        length, message = 10, r"tensor 'w' stored as external data: offset 0, length 10, but its dims " \
                              r"\[2, 4, 3, 3\] need 288 bytes"
    elif case == "unknown type":
        folder.mkdir()
        (folder / "w.bin").write_bytes(b"\0" * 288)
        data_type, message = 9999, "tensor 'w' stored as external data: unknown data type 9999"
    else:
        folder.mkdir()
        (folder / "w.bin").write_bytes(b"\0" * (200 if case == "short file" else 300))
        message = (r"'w\.bin' has {} bytes; the tensor needs 288 bytes from offset 0 to the end of the file"
                   .format(200 if case == "short file" else 300))
    src, _ = _external_model(folder, location, offset, length, data_type)
    if case == "fifo":  # convert() in a subprocess: opening a FIFO for reading used to block
        rc, _, err = run_cli(src, "-o", str(tmp_path / "out.irb"), timeout=60)
        assert rc == 1 and re.search(message, err), err
        return
    refused(tmp_path, capsys, src, message)


# --- informational: files the engine would refuse -----------------------------------

def test_activation_limit_is_the_engines():
    from irnet_infer import _engine
    from irnet_infer.irb import MAX_ACTIVATION_BYTES
    assert _engine.MAX_ACTIVATION_BYTES == MAX_ACTIVATION_BYTES == 1 << 30


@pytest.mark.parametrize("rows,ok", [(2 ** 28, True), (2 ** 28 + 1, False)])
def test_activation_over_the_engines_limit(tmp_path, capsys, rows, ok):
    """The converter wrote a model whose activation the engine then refused at load
    ("more than the limit of 1073741824 (1 GiB)"); now the converter refuses it, naming the
    tensor. Exactly 1 GiB is allowed, as by the engine."""
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    if ok:
        convert(str(tmp_path / "m.onnx"), str(tmp_path / "m.irb"))
        assert read_irb(tmp_path / "m.irb").tensors[0].shape == [rows, 1]
        return
    refused(tmp_path, capsys, tmp_path / "m.onnx", r"tensor 'x' of shape \[268435457, 1\] takes 1,073,741,828 bytes, "
                                                  r"more than the engine's limit of 1,073,741,824 bytes for one activation")


def test_graph_without_outputs(tmp_path, capsys):
    """Found by the converter fuzz loop (seed 21): a graph that declares no outputs was
    written, and the engine refused the file ("the graph has no outputs")."""
    src = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    model = onnx.load(src)
    model.graph.ClearField("output")
    onnx.save(model, src)
    refused(tmp_path, capsys, src, "the graph declares no outputs; the engine needs at least one")
