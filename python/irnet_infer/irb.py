"""The .irb model format: writer, reader and the bit-packing convention.

docs/format.md is the specification; this module and engine/src/format/ both
follow it. The writer packs nothing by itself: constants are given as numpy
arrays already in their stored layout (bits as uint64 words, see pack_bits).

Bit convention (shared with the C++ engine): bit 1 <=> -1 <=> x < 0;
bit 0 <=> +1 <=> x >= 0, including +0, -0 and NaN. A row of C values packs into
ceil(C/64) little-endian uint64 words, value c in bit c % 64 of word c // 64,
tail bits 0.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

FORMAT_VERSION = 1
MAGIC = b"IRNETB\r\n"
END_MAGIC = b"IEND"
HEADER_SIZE = 64
CONST_ALIGN = 64
ABSENT = 0xFFFFFFFF  # tensor id of an absent optional input
ACTIVATION_OFFSET = 0xFFFFFFFFFFFFFFFF  # data_offset of a non-constant tensor
MAX_RANK = 6
# The largest activation the engine loads: kIrbMaxActivationBytes in engine/src/format/irb_file.h,
# exposed as irnet_infer._engine.MAX_ACTIVATION_BYTES (a test checks that the two agree). Kept
# here too because the writer and the converter work without the compiled engine.
MAX_ACTIVATION_BYTES = 1 << 30

DTYPE_CODES = {"f32": 1, "i32": 2, "bits": 3, "i8": 4}
DTYPE_NAMES = {v: k for k, v in DTYPE_CODES.items()}
LAYOUT_CODES = {"plain": 0, "nhwc": 1}
LAYOUT_NAMES = {v: k for k, v in LAYOUT_CODES.items()}
ATTR_INTS, ATTR_FLOATS, ATTR_STRING = 1, 2, 3

_HEADER = struct.Struct("<8sIIQQQQQII")
assert _HEADER.size == HEADER_SIZE


class IrbFormatError(ValueError):
    """A .irb file (or a graph given to the writer) violates docs/format.md."""


def packed_words(channels: int) -> int:
    """64-bit words one row of `channels` packed bits occupies."""
    return (int(channels) + 63) // 64


def packed_size(dtype: str, shape: Sequence[int]) -> int:
    """Bytes a tensor of this dtype and logical shape occupies in the file."""
    shape = [int(d) for d in shape]
    if dtype == "bits":
        if not shape:
            raise IrbFormatError("a bits tensor needs rank >= 1 (the packed axis is the last)")
        return int(np.prod(shape[:-1], dtype=object)) * packed_words(shape[-1]) * 8
    itemsize = {"f32": 4, "i32": 4, "i8": 1}[dtype]
    return int(np.prod(shape, dtype=object)) * itemsize


def pack_bits(values, axis: int = -1) -> np.ndarray:
    """Packs signs along `axis` into uint64 words (bit 1 <=> value < 0).

    `values` may hold floats or ±1 signs. The packed axis becomes the last one,
    of length ceil(C/64): the result for a [O, kh, kw, C] weight is
    [O, kh, kw, ceil(C/64)] uint64, exactly the stored layout of a bits tensor
    of logical shape [O, kh, kw, C].
    """
    a = np.asarray(values)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"pack_bits needs real numbers, got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError("pack_bits needs an array of rank >= 1")
    a = np.moveaxis(a, axis, -1)
    channels = a.shape[-1]
    words = packed_words(channels)
    negative = np.zeros(a.shape[:-1] + (words * 64,), dtype=np.uint8)
    negative[..., :channels] = a < 0  # NaN < 0 is False: NaN packs as +1
    bits = np.packbits(negative, axis=-1, bitorder="little")  # 8 bytes per word, LE
    return np.ascontiguousarray(bits).view("<u8").astype(np.uint64, copy=False)


def unpack_bits(words, channels: int) -> np.ndarray:
    """Inverse of pack_bits: float32 ±1 values, packed axis last."""
    w = np.ascontiguousarray(np.asarray(words, dtype=np.uint64))
    if w.shape[-1] != packed_words(channels):
        raise ValueError(f"last axis has {w.shape[-1]} words, {channels} channels need "
                         f"{packed_words(channels)}")
    raw = w.astype("<u8", copy=False).view(np.uint8)
    bits = np.unpackbits(raw, axis=-1, bitorder="little")[..., :channels]
    return np.where(bits == 1, np.float32(-1), np.float32(1)).astype(np.float32)


@dataclass
class IrbTensor:
    name: str
    dtype: str
    shape: List[int]
    layout: str = "plain"
    data: Optional[np.ndarray] = None  # constants only; stored layout (bits: uint64 words)

    @property
    def is_constant(self) -> bool:
        return self.data is not None


@dataclass
class IrbNode:
    op: str
    name: str
    inputs: List[Optional[int]]
    outputs: List[int]
    attrs: Dict[str, Union[List[int], List[float], str]] = field(default_factory=dict)


def _const_array(name: str, dtype: str, shape: List[int], array) -> np.ndarray:
    """Checks a constant's array against its dtype and shape; returns it in stored form."""
    a = np.asarray(array)
    count = int(np.prod(shape, dtype=object))
    if dtype == "bits":
        if a.dtype != np.uint64:
            raise TypeError(f"constant '{name}': bits must be given packed as uint64 words "
                            f"(see pack_bits), got dtype {a.dtype}")
        expected = count // shape[-1] * packed_words(shape[-1])
        stored = a.astype("<u8", copy=False)
    elif dtype == "f32":
        if a.dtype.kind not in "fiu":
            raise TypeError(f"constant '{name}': f32 needs real numbers, got dtype {a.dtype}")
        expected, stored = count, a.astype("<f4", copy=False)
    else:
        if a.dtype.kind not in "iu":
            raise TypeError(f"constant '{name}': {dtype} needs integers, got dtype {a.dtype}")
        info = np.iinfo(np.int32 if dtype == "i32" else np.int8)
        if a.size and (a.min() < info.min or a.max() > info.max):
            raise ValueError(f"constant '{name}': values out of {dtype} range")
        expected, stored = count, a.astype("<i4" if dtype == "i32" else "i1", copy=False)
    if a.size != expected:
        raise ValueError(f"constant '{name}': {dtype} shape {shape} needs {expected} "
                         f"{'words' if dtype == 'bits' else 'values'}, got {a.size}")
    return np.ascontiguousarray(stored).reshape(-1)


def _check_shape(name: str, shape) -> List[int]:
    dims = [int(d) for d in shape]
    if len(dims) > MAX_RANK:
        raise ValueError(f"tensor '{name}': rank {len(dims)} > {MAX_RANK}")
    if any(d < 1 for d in dims):
        raise ValueError(f"tensor '{name}': every dim must be >= 1, got {dims}")
    return dims


class IrbWriter:
    """Builds a .irb file; see docs/format.md "Python writer API"."""

    def __init__(self) -> None:
        self.tensors: List[IrbTensor] = []
        self.nodes: List[IrbNode] = []
        self.inputs: List[int] = []
        self.outputs: List[int] = []
        self.metadata: Dict[str, str] = {}

    def add_tensor(self, name: str, dtype: str, shape: Sequence[int],
                   layout: str = "plain") -> int:
        """Declares an activation tensor; returns its id."""
        if dtype not in DTYPE_CODES:
            raise ValueError(f"tensor '{name}': unknown dtype '{dtype}' (one of {list(DTYPE_CODES)})")
        if layout not in LAYOUT_CODES:
            raise ValueError(f"tensor '{name}': unknown layout '{layout}' (one of {list(LAYOUT_CODES)})")
        dims = _check_shape(name, shape)
        if dtype == "bits" and not dims:
            raise ValueError(f"tensor '{name}': a bits tensor needs rank >= 1")
        self.tensors.append(IrbTensor(str(name), dtype, dims, layout))
        return len(self.tensors) - 1

    def add_constant(self, name: str, dtype: str, shape: Sequence[int], array,
                     layout: str = "plain") -> int:
        """Declares a constant; `array` is in stored form (bits: packed uint64 words)."""
        tid = self.add_tensor(name, dtype, shape, layout)
        t = self.tensors[tid]
        t.data = _const_array(t.name, dtype, t.shape, array)
        return tid

    def add_node(self, op: str, name: str, inputs: Sequence[Optional[int]],
                 outputs: Sequence[int], attrs: Optional[dict] = None) -> int:
        """Appends a node (nodes run in the order added); None marks an absent input."""
        for tid in list(inputs) + list(outputs):
            if tid is not None and not (0 <= int(tid) < len(self.tensors)):
                raise ValueError(f"node '{name}': tensor id {tid} is not defined")
        norm = {str(k): self._attr_value(name, k, v) for k, v in (attrs or {}).items()}
        self.nodes.append(IrbNode(str(op), str(name),
                                  [None if t is None else int(t) for t in inputs],
                                  [int(t) for t in outputs], norm))
        return len(self.nodes) - 1

    @staticmethod
    def _attr_value(node: str, key: str, v):
        if isinstance(v, str):
            return v
        if isinstance(v, np.ndarray):
            v = v.tolist()
        items = list(v) if isinstance(v, (list, tuple)) else [v]
        if all(isinstance(x, (bool, int, np.integer)) for x in items):
            return [int(x) for x in items]
        if all(isinstance(x, (bool, int, float, np.integer, np.floating)) for x in items):
            return [float(x) for x in items]
        raise TypeError(f"node '{node}': attribute '{key}' must be a string, ints or floats, got {v!r}")

    def set_io(self, inputs: Sequence[int], outputs: Sequence[int]) -> None:
        self.inputs = [int(t) for t in inputs]
        self.outputs = [int(t) for t in outputs]

    # -- serialization ----------------------------------------------------
    def to_bytes(self) -> bytes:
        strings: List[str] = []
        index: Dict[str, int] = {}

        def sid(s: str) -> int:
            if s not in index:
                index[s] = len(strings)
                strings.append(s)
            return index[s]

        # Constants: laid out in the data section, each on a 64-byte boundary.
        const_offsets: Dict[int, int] = {}
        data_size = 0
        for tid, t in enumerate(self.tensors):
            if t.is_constant:
                data_size = -(-data_size // CONST_ALIGN) * CONST_ALIGN
                const_offsets[tid] = data_size
                data_size += t.data.nbytes

        body = bytearray()
        u32 = lambda v: body.extend(struct.pack("<I", v))  # noqa: E731
        tensor_blob, node_blob = bytearray(), bytearray()
        for tid, t in enumerate(self.tensors):
            tensor_blob += struct.pack("<IBBBB", sid(t.name), DTYPE_CODES[t.dtype],
                                       LAYOUT_CODES[t.layout], len(t.shape), 0)
            tensor_blob += struct.pack(f"<{len(t.shape)}Q", *t.shape)
            if t.is_constant:
                tensor_blob += struct.pack("<QQ", const_offsets[tid], t.data.nbytes)
            else:
                tensor_blob += struct.pack("<QQ", ACTIVATION_OFFSET, 0)
        for n in self.nodes:
            node_blob += struct.pack("<III", sid(n.op), sid(n.name), len(n.inputs))
            node_blob += struct.pack(f"<{len(n.inputs)}I",
                                     *[ABSENT if t is None else t for t in n.inputs])
            node_blob += struct.pack(f"<I{len(n.outputs)}I", len(n.outputs), *n.outputs)
            node_blob += struct.pack("<I", len(n.attrs))
            for key, v in n.attrs.items():
                if isinstance(v, str):
                    node_blob += struct.pack("<IBII", sid(key), ATTR_STRING, 1, sid(v))
                elif v and isinstance(v[0], float):
                    node_blob += struct.pack(f"<IBI{len(v)}f", sid(key), ATTR_FLOATS, len(v), *v)
                else:
                    node_blob += struct.pack(f"<IBI{len(v)}q", sid(key), ATTR_INTS, len(v), *v)
        meta = [(sid(k), sid(str(v))) for k, v in self.metadata.items()]

        u32(len(strings))
        for s in strings:
            raw = s.encode("utf-8")
            if b"\0" in raw:
                raise ValueError(f"string {s!r} contains NUL")
            u32(len(raw))
            body += raw
        u32(len(self.tensors))
        body += tensor_blob
        u32(len(self.nodes))
        body += node_blob
        u32(len(self.inputs))
        body += struct.pack(f"<{len(self.inputs)}I", *self.inputs)
        u32(len(self.outputs))
        body += struct.pack(f"<{len(self.outputs)}I", *self.outputs)
        u32(len(meta))
        for k, v in meta:
            body += struct.pack("<II", k, v)

        graph_offset = HEADER_SIZE
        data_offset = -(-(graph_offset + len(body)) // CONST_ALIGN) * CONST_ALIGN
        file_size = data_offset + data_size + 8
        out = bytearray(file_size)
        _HEADER.pack_into(out, 0, MAGIC, FORMAT_VERSION, HEADER_SIZE, file_size, graph_offset,
                          len(body), data_offset, data_size, 0, 0)
        out[graph_offset:graph_offset + len(body)] = body
        for tid, off in const_offsets.items():
            raw = self.tensors[tid].data.tobytes()
            out[data_offset + off:data_offset + off + len(raw)] = raw
        struct.pack_into("<I4s", out, file_size - 8, zlib.crc32(bytes(out[:file_size - 8])), END_MAGIC)
        return bytes(out)

    def save(self, path) -> None:
        """Writes the file atomically: a temp file beside it, fsync, then rename.

        The temp file is created with mode 0666 & ~umask (as open() would), so
        the model gets the usual permissions; on any error it is removed and an
        existing file at `path` is left untouched.
        """
        blob = self.to_bytes()
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        _remove_stale_temp_files(directory, os.path.basename(path))
        tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(TEMP_TOKEN_BYTES)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


TEMP_TOKEN_BYTES = 6           # IrbWriter.save's temp file: .NAME.<12 hex digits>.tmp beside NAME
STALE_TEMP_SECONDS = 60


def _remove_stale_temp_files(directory: str, name: str) -> None:
    """Removes the temp files of earlier saves to the same path that were killed before they
    could clean up (kill -9, power loss): regular files named like IrbWriter.save's temp file
    for `name` and not modified for STALE_TEMP_SECONDS (a save in progress keeps its file fresh)."""
    pattern = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{{2 * TEMP_TOKEN_BYTES}}}\.tmp")
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_TEMP_SECONDS:
                os.unlink(entry.path)
        except OSError:  # removed meanwhile, or not ours to remove
            pass


@dataclass
class IrbModel:
    """A parsed .irb file (what read_irb returns)."""
    version: int
    tensors: List[IrbTensor]
    nodes: List[IrbNode]
    inputs: List[int]
    outputs: List[int]
    metadata: Dict[str, str]


class _Cursor:
    def __init__(self, buf: bytes, start: int, end: int) -> None:
        self.buf, self.pos, self.end = buf, start, end

    def take(self, fmt: str):
        s = struct.Struct("<" + fmt)
        if self.pos + s.size > self.end:
            raise IrbFormatError(f"graph section truncated at file offset {self.pos} "
                                 f"(need {s.size} bytes, section ends at {self.end})")
        vals = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return vals

    def raw(self, n: int) -> bytes:
        if self.pos + n > self.end:
            raise IrbFormatError(f"graph section truncated at file offset {self.pos}")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b


def parse_irb(buf: bytes) -> IrbModel:
    """Parses and validates the container (header, crc, tables, constants)."""
    if len(buf) < HEADER_SIZE + 8:
        raise IrbFormatError(f"file is {len(buf)} bytes, smaller than the minimum {HEADER_SIZE + 8}")
    (magic, version, header_size, file_size, graph_offset, graph_size, data_offset,
     data_size, _flags, _reserved) = _HEADER.unpack_from(buf, 0)
    if magic != MAGIC:
        raise IrbFormatError("not an .irb file (bad magic at offset 0)")
    if version > FORMAT_VERSION:
        raise IrbFormatError(f"model format version {version} is newer than this irnet "
                             f"(supports <= {FORMAT_VERSION}); upgrade irnet-infer")
    if header_size != HEADER_SIZE or file_size != len(buf):
        raise IrbFormatError(f"header says header_size {header_size}, file_size {file_size}; "
                             f"actual file is {len(buf)} bytes")
    crc, end = struct.unpack_from("<I4s", buf, file_size - 8)
    if end != END_MAGIC:
        raise IrbFormatError(f"missing end magic at offset {file_size - 4}")
    if crc != zlib.crc32(buf[:file_size - 8]):
        raise IrbFormatError("crc32 mismatch: the file is corrupt")
    if not (HEADER_SIZE <= graph_offset and graph_offset + graph_size <= data_offset
            and data_offset % CONST_ALIGN == 0 and data_offset + data_size <= file_size - 8):
        raise IrbFormatError("section offsets/sizes out of range")

    c = _Cursor(buf, graph_offset, graph_offset + graph_size)
    strings = []
    for _ in range(c.take("I")[0]):
        strings.append(c.raw(c.take("I")[0]).decode("utf-8"))

    def s(i: int) -> str:
        if i >= len(strings):
            raise IrbFormatError(f"string id {i} out of range ({len(strings)} strings)")
        return strings[i]

    tensors = []
    for _ in range(c.take("I")[0]):
        name, dtype, layout, rank, _r = c.take("IBBBB")
        if dtype not in DTYPE_NAMES or layout not in LAYOUT_NAMES or rank > MAX_RANK:
            raise IrbFormatError(f"tensor '{s(name)}': bad dtype/layout/rank")
        dims = list(c.take(f"{rank}Q"))
        off, size = c.take("QQ")
        t = IrbTensor(s(name), DTYPE_NAMES[dtype], dims, LAYOUT_NAMES[layout])
        if off != ACTIVATION_OFFSET:
            if size != packed_size(t.dtype, dims) or off % CONST_ALIGN or off + size > data_size:
                raise IrbFormatError(f"constant '{t.name}': bad offset {off} / size {size}")
            np_dtype = {"f32": "<f4", "i32": "<i4", "bits": "<u8", "i8": "i1"}[t.dtype]
            start = data_offset + off
            t.data = np.frombuffer(buf[start:start + size], dtype=np_dtype).copy()
        tensors.append(t)

    def tid(i: int) -> int:
        if i >= len(tensors):
            raise IrbFormatError(f"tensor id {i} out of range ({len(tensors)} tensors)")
        return i

    nodes = []
    for _ in range(c.take("I")[0]):
        op, name = c.take("II")
        ins = [None if i == ABSENT else tid(i) for i in c.take(f"{c.take('I')[0]}I")]
        outs = [tid(i) for i in c.take(f"{c.take('I')[0]}I")]
        attrs = {}
        for _a in range(c.take("I")[0]):
            key, typ, count = c.take("IBI")
            if typ == ATTR_INTS:
                attrs[s(key)] = list(c.take(f"{count}q"))
            elif typ == ATTR_FLOATS:
                attrs[s(key)] = list(c.take(f"{count}f"))
            elif typ == ATTR_STRING and count == 1:
                attrs[s(key)] = s(c.take("I")[0])
            else:
                raise IrbFormatError(f"node '{s(name)}': attribute '{s(key)}' has bad type {typ}")
        nodes.append(IrbNode(s(op), s(name), ins, outs, attrs))
    inputs = [tid(i) for i in c.take(f"{c.take('I')[0]}I")]
    outputs = [tid(i) for i in c.take(f"{c.take('I')[0]}I")]
    metadata = {}
    for _ in range(c.take("I")[0]):
        k, v = c.take("II")
        metadata[s(k)] = s(v)
    if c.pos != c.end:
        raise IrbFormatError(f"{c.end - c.pos} unparsed bytes at the end of the graph section")
    return IrbModel(version, tensors, nodes, inputs, outputs, metadata)


def read_irb(path) -> IrbModel:
    """Reads and parses a .irb file (see parse_irb)."""
    with open(path, "rb") as f:
        return parse_irb(f.read())
