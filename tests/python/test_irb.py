"""Round trip and validation of the Python .irb writer/reader (docs/format.md)."""
import os
import struct
import zlib

import numpy as np
import pytest

from irnet_infer import irb
from irnet_infer.irb import IrbFormatError, IrbWriter, pack_bits, read_irb, unpack_bits


def test_pack_bits_convention():
    # bit 1 <=> negative; 0, -0 and NaN pack as +1; channel c in bit c % 64 of word c // 64.
    x = np.zeros(130, dtype=np.float32)
    x[[0, 63, 64, 129]] = -1.0
    x[1] = -0.0
    x[2] = np.nan
    x[3] = 5.0
    w = pack_bits(x)
    assert w.dtype == np.uint64 and w.shape == (3,)
    assert int(w[0]) == (1 | (1 << 63))
    assert int(w[1]) == 1
    assert int(w[2]) == 1 << 1  # channel 129; tail bits 0


@pytest.mark.parametrize("channels", [1, 3, 16, 63, 64, 65, 130, 512])
def test_pack_unpack_round_trip(channels):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((4, 3, channels)).astype(np.float32)
    w = pack_bits(x)
    assert w.shape == (4, 3, irb.packed_words(channels))
    np.testing.assert_array_equal(unpack_bits(w, channels), np.where(x < 0, -1, 1))
    # Tail bits of the last word are zero.
    tail = channels % 64
    if tail:
        assert np.all(w[..., -1] >> np.uint64(tail) == 0)


def test_pack_bits_axis():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 70, 2))
    np.testing.assert_array_equal(pack_bits(x, axis=1), pack_bits(np.moveaxis(x, 1, -1)))
    with pytest.raises(TypeError):
        pack_bits(np.array(["a"]))


def _small_model(tmp_path):
    rng = np.random.default_rng(1)
    w = IrbWriter()
    x = w.add_tensor("input", "f32", [1, 4, 4, 70], layout="nhwc")
    xb = w.add_tensor("x.bits", "bits", [1, 4, 4, 70], layout="nhwc")
    wf = rng.standard_normal((8, 3, 3, 70)).astype(np.float32)
    k = w.add_constant("conv.w", "bits", [8, 3, 3, 70], pack_bits(wf))
    shift = w.add_constant("conv.shift", "i32", [8], np.arange(8, dtype=np.int32))
    bias = w.add_constant("conv.bias", "f32", [8], rng.standard_normal(8))
    y = w.add_tensor("y", "f32", [1, 4, 4, 8], layout="nhwc")
    w.add_node("SignPack", "sign", inputs=[x], outputs=[xb])
    w.add_node("BinaryConv2d", "conv", inputs=[xb, k, shift, None, bias, None], outputs=[y],
               attrs={"kernel": [3, 3], "pads": [1, 1, 1, 1], "mode": "float",
                      "clip": [-1.0, 1.0]})
    w.set_io(inputs=[x], outputs=[y])
    w.metadata["producer"] = "test"
    path = tmp_path / "m.irb"
    w.save(path)
    return w, path, wf


def test_round_trip(tmp_path):
    w, path, wf = _small_model(tmp_path)
    blob = path.read_bytes()
    assert blob == w.to_bytes()
    m = read_irb(path)
    assert m.version == 1
    assert [t.name for t in m.tensors] == [t.name for t in w.tensors]
    assert m.tensors[0].layout == "nhwc" and m.tensors[0].shape == [1, 4, 4, 70]
    assert not m.tensors[0].is_constant
    np.testing.assert_array_equal(unpack_bits(m.tensors[2].data.reshape(8, 3, 3, 2), 70),
                                  np.where(wf < 0, -1, 1))
    assert m.tensors[3].data.dtype == np.int32 and list(m.tensors[3].data) == list(range(8))
    assert m.tensors[4].data.dtype == np.float32
    conv = m.nodes[1]
    assert conv.op == "BinaryConv2d" and conv.inputs == [1, 2, 3, None, 4, None]
    assert conv.attrs == {"kernel": [3, 3], "pads": [1, 1, 1, 1], "mode": "float",
                          "clip": [-1.0, 1.0]}
    assert m.inputs == [0] and m.outputs == [5]
    assert m.metadata == {"producer": "test"}


def test_layout_alignment_and_crc(tmp_path):
    _, path, _ = _small_model(tmp_path)
    blob = path.read_bytes()
    magic, version, hs, fsize, goff, gsize, doff, dsize, flags, res = \
        struct.unpack_from("<8sIIQQQQQII", blob)
    assert magic == b"IRNETB\r\n" and version == 1 and hs == 64 and fsize == len(blob)
    assert goff == 64 and goff + gsize <= doff and doff % 64 == 0
    assert doff + dsize == fsize - 8
    crc, end = struct.unpack_from("<I4s", blob, fsize - 8)
    assert end == b"IEND" and crc == zlib.crc32(blob[:-8])
    m = read_irb(path)
    # Every constant starts on a 64-byte boundary of the file.
    constants = [t for t in m.tensors if t.is_constant]
    assert len(constants) == 3
    for t in constants:
        at = blob.find(t.data.tobytes(), doff)
        assert at >= doff and at % 64 == 0


def test_atomic_save_leaves_no_temp(tmp_path):
    _small_model(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["m.irb"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "m.irb").stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def test_save_failure_keeps_old_file(tmp_path):
    _, path, _ = _small_model(tmp_path)
    before = path.read_bytes()
    bad = IrbWriter()
    bad.add_tensor("s", "f32", [1])
    bad.metadata["k"] = "a\0b"  # a NUL in a string fails during serialization
    with pytest.raises(ValueError):
        bad.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.irb"]


def test_reader_rejects_corruption(tmp_path):
    _, path, _ = _small_model(tmp_path)
    blob = bytearray(path.read_bytes())
    flipped = bytearray(blob)
    flipped[100] ^= 1
    with pytest.raises(IrbFormatError, match="crc32"):
        irb.parse_irb(bytes(flipped))
    with pytest.raises(IrbFormatError, match="magic"):
        irb.parse_irb(b"X" + bytes(blob[1:]))
    newer = bytearray(blob)
    struct.pack_into("<I", newer, 8, 2)
    with pytest.raises(IrbFormatError, match="newer than this irnet"):
        irb.parse_irb(bytes(newer))
    with pytest.raises(IrbFormatError):
        irb.parse_irb(bytes(blob[:-1]))


def test_writer_rejects_bad_constants():
    w = IrbWriter()
    with pytest.raises(TypeError, match="packed as uint64"):
        w.add_constant("k", "bits", [2, 64], np.ones((2, 64), np.float32))
    with pytest.raises(ValueError, match="needs 2 words"):
        w.add_constant("k", "bits", [2, 64], np.zeros(3, np.uint64))
    with pytest.raises(ValueError, match=">= 1"):
        w.add_tensor("t", "f32", [1, 0])
    with pytest.raises(ValueError, match="unknown dtype"):
        w.add_tensor("t", "f16", [1])
    with pytest.raises(ValueError, match="out of i32 range"):
        w.add_constant("s", "i32", [1], np.array([2**40]))
    with pytest.raises(ValueError, match="not defined"):
        w.add_node("Relu", "r", inputs=[5], outputs=[6])
