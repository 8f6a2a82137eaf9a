"""The bad-input matrix: every row is one way a caller can get things wrong, and
each must end in a clear exception (or a non-zero exit with a precise message)
-- never a crash, a wrong result or a partial output file.

Rows already covered elsewhere are not repeated: the C++ parser's per-field
checks (tests/cpp/test_format.cc), input dtype/shape errors on the hand-built
graph (test_model.py), irnet-run argument errors (test_runtime.py), empty /
not-ONNX / unsupported-op / cyclic / truncated ONNX files (test_convert_cli.py).
This file adds the same corruptions seen through the public Python API and
irnet-run, graphs whose shapes do not chain, the remaining input kinds, and
the malformed ONNX models found by tests/fuzz/convert_fuzz.py.
"""
import os
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import irnet_infer
from irnet_infer.convert import ConvertError, convert
from irnet_infer.convert.cli import main as convert_main
from irnet_infer.irb import IrbWriter
from test_convert_layers import binary_conv_model
from test_model import H, N, W, build_resnet_like, make_params

HEADER = struct.Struct("<8sIIQQQQQII")


@pytest.fixture(scope="module")
def model_blob(tmp_path_factory):
    path = tmp_path_factory.mktemp("hardening") / "m.irb"
    build_resnet_like(path, make_params())
    return path.read_bytes()


def header(blob):
    magic, version, hsize, file_size, g_off, g_size, d_off, d_size, flags, reserved = HEADER.unpack_from(blob)
    return dict(file_size=file_size, graph_offset=g_off, graph_size=g_size, data_offset=d_off, data_size=d_size)


def refix_crc(blob):
    """Recomputes the trailer crc so that a check after the crc is what fails."""
    blob = bytearray(blob)
    struct.pack_into("<I", blob, len(blob) - 8, zlib.crc32(bytes(blob[:-8])))
    return bytes(blob)


def load_error(tmp_path, blob):
    """Loads blob through the Python API and through irnet-run; returns the
    message (both must refuse it with the same message, irnet-run with status 1)."""
    path = tmp_path / "bad.irb"
    path.write_bytes(blob)
    with pytest.raises(irnet_infer.ModelError) as e:
        irnet_infer.Model(path)
    msg = str(e.value)
    assert msg.startswith(str(path) + ": "), msg  # the file is named first
    r = subprocess.run([sys.executable, "-m", "irnet_infer.cli", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.strip() == f"irnet-run: error: {msg}", r.stderr
    return msg


# --- model files --------------------------------------------------------------

TRUNCATIONS = {  # where to cut (a function of the header) -> expected message
    "empty": (lambda h: 0, r"file is 0 bytes, smaller than the minimum 72"),
    "inside magic": (lambda h: 5, r"file is 5 bytes, smaller than the minimum"),
    "end of header": (lambda h: 64, r"file is 64 bytes, smaller than the minimum"),
    "start of graph": (lambda h: h["graph_offset"] + 8, r"header says file_size \d+ but the file has"),
    "end of graph": (lambda h: h["graph_offset"] + h["graph_size"], r"header says file_size \d+ but the file has"),
    "start of data": (lambda h: h["data_offset"], r"header says file_size \d+ but the file has"),
    "end of data": (lambda h: h["data_offset"] + h["data_size"], r"header says file_size \d+ but the file has"),
    "inside trailer": (lambda h: h["file_size"] - 3, r"header says file_size \d+ but the file has"),
}


@pytest.mark.parametrize("where", list(TRUNCATIONS))
def test_truncated_at_section_boundary(tmp_path, model_blob, where):
    cut, expected = TRUNCATIONS[where]
    n = cut(header(model_blob))
    assert 0 <= n < len(model_blob)
    assert re.search(expected, load_error(tmp_path, model_blob[:n]))


FLIPS = {  # a byte to flip (a function of the header) -> expected message
    "magic": (lambda h: 2, "bad magic: not an .irb model file"),
    "version": (lambda h: 9, "format version"),
    "header_size": (lambda h: 12, "header_size"),
    "file_size": (lambda h: 17, "file_size"),
    "graph (tensor table)": (lambda h: h["graph_offset"] + 40, "crc32 mismatch"),
    "data (a weight)": (lambda h: h["data_offset"] + 3, "crc32 mismatch"),
    "last data byte": (lambda h: h["data_offset"] + h["data_size"] - 1, "crc32 mismatch"),
    "crc": (lambda h: h["file_size"] - 7, "crc32 mismatch"),
    "end magic": (lambda h: h["file_size"] - 2, "missing end magic"),
}


@pytest.mark.parametrize("where", list(FLIPS))
def test_flipped_byte(tmp_path, model_blob, where):
    pos, expected = FLIPS[where]
    blob = bytearray(model_blob)
    blob[pos(header(model_blob))] ^= 0x5A
    assert expected in load_error(tmp_path, bytes(blob))


HEADER_FIELDS = {  # (offset, struct format, value) -> expected message; crc refixed
    "future version": (8, "<I", 2, r"model format version 2 is newer than this irnet \(supports <= 1\); upgrade irnet-infer"),
    "version 0": (8, "<I", 0, "format version 0 is invalid"),
    "huge file_size": (16, "<Q", 2**63, r"header says file_size 9223372036854775808 but the file has"),
    "huge graph_offset": (24, "<Q", 2**64 - 8, "graph section"),
    "huge graph_size": (32, "<Q", 2**64 - 1, "graph section"),
    "huge data_offset": (40, "<Q", 2**64 - 64, "data section"),
    "huge data_size": (48, "<Q", 2**63, "data section"),
    "flags set": (56, "<I", 1, "flags 1"),
}


@pytest.mark.parametrize("field", list(HEADER_FIELDS))
def test_bad_header_field(tmp_path, model_blob, field):
    offset, fmt, value, expected = HEADER_FIELDS[field]
    blob = bytearray(model_blob)
    struct.pack_into(fmt, blob, offset, value)
    assert re.search(expected, load_error(tmp_path, refix_crc(blob)))


@pytest.mark.parametrize("table", ["strings", "tensors"])
def test_huge_table_count(tmp_path, model_blob, table):
    """A table count of 2^32 - 1 must be refused before anything is allocated for it."""
    h = header(model_blob)
    blob = bytearray(model_blob)
    pos = h["graph_offset"]
    if table == "tensors":  # skip the string table to reach the tensor count
        count = struct.unpack_from("<I", blob, pos)[0]
        pos += 4
        for _ in range(count):
            pos += 4 + struct.unpack_from("<I", blob, pos)[0]
    struct.pack_into("<I", blob, pos, 0xFFFFFFFF)
    assert "cannot fit" in load_error(tmp_path, refix_crc(blob))


# --- graphs whose shapes do not chain ----------------------------------------

def _unchained(kind):
    w = IrbWriter()
    f = "f32"
    x = w.add_tensor("x", f, [1, 4, 4, 3], layout="nhwc")
    if kind == "Conv2d weights for other channels":
        y = w.add_tensor("y", f, [1, 2, 2, 8], layout="nhwc")
        wt = w.add_constant("w", f, [8, 3, 3, 5], np.zeros((8, 3, 3, 5), np.float32))
        w.add_node("Conv2d", "conv", [x, wt], [y], {"kernel": [3, 3]})
    elif kind == "Conv2d output declared too big":
        y = w.add_tensor("y", f, [1, 4, 4, 8], layout="nhwc")
        wt = w.add_constant("w", f, [8, 3, 3, 3], np.zeros((8, 3, 3, 3), np.float32))
        w.add_node("Conv2d", "conv", [x, wt], [y], {"kernel": [3, 3]})
    elif kind == "Reshape changing the element count":
        y = w.add_tensor("y", f, [1, 47])
        w.add_node("Reshape", "reshape", [x], [y], {"shape": [1, 47]})
    elif kind == "Concat along channels with other spatial size":
        y = w.add_tensor("y", f, [1, 4, 4, 6], layout="nhwc")
        z = w.add_tensor("z", f, [1, 2, 2, 3], layout="nhwc")
        w.add_node("MaxPool", "pool", [x], [z], {"kernel": [2, 2], "strides": [2, 2]})
        w.add_node("Concat", "concat", [x, z], [y], {"axis": 3})
    elif kind == "Gemm with the wrong K":
        flat = w.add_tensor("flat", f, [1, 48])
        w.add_node("Reshape", "flatten", [x], [flat], {"shape": [1, 48]})
        y = w.add_tensor("y", f, [1, 10])
        w.add_node("Gemm", "fc", [flat, w.add_constant("w", f, [10, 47], np.zeros((10, 47), np.float32))], [y])
    elif kind == "BinaryConv2d reading floats":
        y = w.add_tensor("y", f, [1, 2, 2, 8], layout="nhwc")
        wt = w.add_constant("w", "bits", [8, 3, 3, 3], np.zeros((8, 3, 3, 1), np.uint64))
        w.add_node("BinaryConv2d", "bconv", [x, wt], [y], {"kernel": [3, 3], "mode": "float"})
    elif kind == "graph output never produced":
        y = w.add_tensor("y", f, [1, 4, 4, 3], layout="nhwc")
        z = w.add_tensor("z", f, [1, 4, 4, 3], layout="nhwc")
        w.add_node("Relu", "relu", [x], [z])
    w.set_io([x], [y])
    return w


UNCHAINED = ["Conv2d weights for other channels", "Conv2d output declared too big",
             "Reshape changing the element count", "Concat along channels with other spatial size",
             "Gemm with the wrong K", "BinaryConv2d reading floats", "graph output never produced"]


@pytest.mark.parametrize("kind", UNCHAINED)
def test_shapes_that_do_not_chain(tmp_path, kind):
    w = _unchained(kind)
    w.save(tmp_path / "g.irb")
    msg = load_error(tmp_path, (tmp_path / "g.irb").read_bytes())
    # The message names a node, or for a dangling output the tensor that nothing produces.
    assert ("node '" in msg) or ("'y'" in msg), msg


# --- run() inputs --------------------------------------------------------------

@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("hardening_run") / "m.irb"
    build_resnet_like(path, make_params())
    m = irnet_infer.Model(path)
    x = np.random.default_rng(31).uniform(-1, 1, (N, 3, H, W)).astype(np.float32)
    return m, x, m.run(x)


EQUIVALENT_INPUTS = {  # accepted, and the result equals the one for the float32 C array
    "read-only": lambda x: _read_only(x),
    "Fortran order": lambda x: np.asfortranarray(x),
    "big-endian float32": lambda x: x.astype(">f4"),
    "strided view": lambda x: np.repeat(x, 2, axis=3)[..., ::2],
    "negative strides": lambda x: x[:, ::-1][:, ::-1],
    "float16 exact values": lambda x: x.astype(np.float16),  # compared against its own float32 cast
    "uint8 pixels": lambda x: (np.abs(x) * 50).astype(np.uint8),  # compared against its own float32 cast
    "int64 values": lambda x: (x * 50).astype(np.int64),  # compared against its own float32 cast
    "unaligned buffer": lambda x: _unaligned(x),
}


def _read_only(x):
    y = x.copy()
    y.setflags(write=False)
    return y


def _unaligned(x):
    raw = np.zeros(x.nbytes + 1, np.uint8)
    y = raw[1:].view(np.float32).reshape(x.shape)
    y[...] = x
    assert y.ctypes.data % 4 != 0
    return y


@pytest.mark.parametrize("kind", list(EQUIVALENT_INPUTS))
def test_equivalent_input_layouts(model, kind):
    m, x, y = model
    a = EQUIVALENT_INPUTS[kind](x)
    want = y if not kind.endswith("values") and not kind.endswith("pixels") else m.run(a.astype(np.float32))
    np.testing.assert_array_equal(m.run(a), want)


BAD_INPUTS = {  # -> (exception, message)
    "bool": (np.zeros((N, 3, H, W), np.bool_), TypeError, "must be a real .*got dtype bool"),
    "complex128": (np.zeros((N, 3, H, W), np.complex128), TypeError, "got dtype complex128"),
    "string": (np.full((N, 3, H, W), "a"), TypeError, "got dtype <U1"),
    "datetime": (np.zeros((N, 3, H, W), "datetime64[s]"), TypeError, "got dtype datetime64"),
    "Python scalar": (1.5, ValueError, r"must have rank 4 .*got rank 0"),
    "None": (None, TypeError, "got dtype object"),
    "rank 5": (np.zeros((1, N, 3, H, W), np.float32), ValueError, "got rank 5"),
    "zero-size batch": (np.zeros((0, 3, H, W), np.float32), ValueError, r"got \(0, 3, 8, 8\)"),
    "ragged nested list": ([[1.0, 2.0], [3.0]], ValueError, "inhomogeneous|rank"),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_inputs(model, kind):
    m, _, _ = model
    value, exc, message = BAD_INPUTS[kind]
    with pytest.raises(exc, match=message):
        m.run(value)


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf, -0.0, np.finfo(np.float32).max,
                                  np.finfo(np.float32).tiny / 2])
def test_special_values_are_deterministic(model, fill):
    """Documented in docs/errors.md: not scanned for, never a crash, same bits every time."""
    m, x, _ = model
    a = x.copy()
    a[:, :, ::3, ::2] = fill
    first = m.run(a)
    assert first.shape == (N, 10)
    np.testing.assert_array_equal(m.run(a), first)
    np.testing.assert_array_equal(irnet_infer.Model(m.path, threads=2).run(a), first)


def test_result_is_a_fresh_array(model):
    m, x, y = model
    a = m.run(x)
    a[...] = 0
    np.testing.assert_array_equal(m.run(x), y)
    assert not np.shares_memory(m.run(x), m.run(x))


# --- ONNX files (regressions found by tests/fuzz/convert_fuzz.py) --------------

def _mutated(tmp_path, mutate):
    src = binary_conv_model(tmp_path / "seed.onnx", 4, 4)
    model = onnx.load(src)
    mutate(model)
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def _drop_conv_weight(m):
    conv = [n for n in m.graph.node if n.op_type == "Conv"][0]
    del conv.input[1:]


def _truncate_weight(m):
    w = [t for t in m.graph.initializer if t.name == "w"][0]
    w.raw_data = w.raw_data[:-6]


def _undefined_weight_type(m):
    [t for t in m.graph.initializer if t.name == "w"][0].data_type = TensorProto.UNDEFINED


def _bad_utf8_attribute(m):
    conv = [n for n in m.graph.node if n.op_type == "Conv"][0]
    conv.attribute.append(helper.make_attribute("auto_pad", b"\xff\xfeNOTSET"))


def _bn_sizes_disagree(m):
    conv = [n for n in m.graph.node if n.op_type == "Conv"][0]
    conv.output[0] = "c"
    m.graph.node.append(helper.make_node("BatchNormalization", ["c", "bn.s", "bn.b", "bn.mean", "bn.var"], ["y"], name="bn"))
    for name, size in (("bn.s", 4), ("bn.b", 4), ("bn.mean", 3), ("bn.var", 4)):
        m.graph.initializer.append(numpy_helper.from_array(np.ones(size, np.float32), name))


ONNX_CASES = {
    "Conv without weights": (_drop_conv_weight, r"node 'conv' \(Conv\) has 1 inputs; opset 13 allows 2\.\.3"),
    "initializer bytes short of its dims": (_truncate_weight, "initializer 'w' cannot be decoded"),
    "initializer of undefined type": (_undefined_weight_type, "initializer 'w' cannot be decoded: The element type in the input tensor is UNDEFINED"),
    "attribute that is not UTF-8": (_bad_utf8_attribute, r"node 'conv' \(Conv\): attribute 'auto_pad' cannot be decoded: 'utf-8' codec"),
    "BatchNormalization parameter sizes disagree": (_bn_sizes_disagree, r"scale, B, mean and var must have one size, got 4, 4, 3, 4"),
}


@pytest.mark.parametrize("case", list(ONNX_CASES))
def test_malformed_onnx_raises_convert_error(tmp_path, capsys, case):
    mutate, message = ONNX_CASES[case]
    path = _mutated(tmp_path, mutate)
    out = tmp_path / "out.irb"
    with pytest.raises(ConvertError, match=message):
        convert(str(path), str(out))
    assert convert_main([str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("irnet-convert: error: ") and "unexpected" not in err, err
    assert sorted(os.listdir(tmp_path)) == ["bad.onnx", "seed.onnx"]  # no output, no temp file


def test_output_into_a_missing_directory(tmp_path, capsys):
    src = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    assert convert_main([src, "-o", str(tmp_path / "no" / "such" / "dir" / "m.irb")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"irnet-convert: error: cannot write '{tmp_path}/no/such/dir/m.irb': "
                          "No such file or directory"), err
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]


def test_output_is_a_directory(tmp_path, capsys):
    src = binary_conv_model(tmp_path / "m.onnx", 4, 4)
    (tmp_path / "out.irb").mkdir()
    assert convert_main([src, "-o", str(tmp_path / "out.irb")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"irnet-convert: error: cannot write '{tmp_path}/out.irb': Is a directory"), err
    assert sorted(os.listdir(tmp_path)) == ["m.onnx", "out.irb"]  # no temporary file left
    assert os.listdir(tmp_path / "out.irb") == []
