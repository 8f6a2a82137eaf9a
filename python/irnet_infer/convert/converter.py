"""The public conversion entry point: ONNX file in, .irb file out, Report back.

    from irnet_infer.convert import convert
    report = convert("model.onnx", "model.irb")

`irnet-convert` (cli.py) is a command-line wrapper around this function.
"""
from __future__ import annotations

import os

from .. import __version__
from .graph import ConvertError
from .lower import Options, lower

ONNX_MISSING = ("the converter needs the 'onnx' package, which is not installed (the runtime does "
                "not): pip install 'irnet-infer[convert]', or pip install 'onnx>=1.21'")


def onnx_loader():
    """irnet_infer.convert.load, the way into the converter's parts that need onnx (the
    `convert` extra): imported on first use, so the runtime installs and imports without onnx.
    Raises ModuleNotFoundError naming the extra when onnx is missing."""
    try:
        from . import load
    except ModuleNotFoundError as e:
        if e.name is None or e.name.split(".")[0] != "onnx":
            raise
        raise ModuleNotFoundError(ONNX_MISSING, name="onnx") from None
    return load


def convert(onnx_path: str, output: str, input_shapes=None, bit_shift: bool = True,
            keep_float=(), allow_sign_of_zero: bool = False, fuse_activation: bool = True):
    """Converts one file; returns the Report. Raises ConvertError; writes only on success.

    input_shapes: "NAME=d0,d1,..." strings for inputs with dynamic dims.
    bit_shift: False folds power-of-two weight scales into the float scale.
    keep_float: names of Conv/Gemm/MatMul nodes to leave float.
    allow_sign_of_zero: convert sign() of tensors that can be exactly 0 (their 1-bit
    sign is +1 where ONNX gives 0) instead of refusing them.
    fuse_activation: False keeps RPReLU, the RSign thresholds that follow a binary op and
    the doubling Concat of binary convs as separate engine ops (the same float arithmetic,
    op by op; docs/converter.md).
    Raises ModuleNotFoundError naming the `convert` extra when onnx is not installed.
    """
    if _same_file(onnx_path, output):
        raise ConvertError(f"the output '{output}' is the input file '{onnx_path}' (the same file, "
                           "possibly through a link); writing it would replace the ONNX model")
    load = onnx_loader()
    graph = load.load_graph(onnx_path, load.parse_input_shapes(input_shapes or []))
    layers = {n.name: n.op for n in graph.nodes}
    unknown = sorted(set(keep_float) - set(layers))
    if unknown:
        raise ConvertError(f"--keep-float names {unknown}, which are not nodes of the model")
    not_layers = sorted(f"'{k}' ({layers[k]})" for k in keep_float if layers[k] not in ("Conv", "Gemm", "MatMul"))
    if not_layers:
        raise ConvertError(f"--keep-float names {', '.join(not_layers)}: only Conv, Gemm and MatMul "
                           "nodes can be kept float")
    writer, report = lower(graph, Options(bit_shift=bit_shift, keep_float=set(keep_float),
                                          allow_sign_of_zero=allow_sign_of_zero,
                                          fuse_activation=fuse_activation))
    writer.metadata["producer"] = f"irnet-convert {__version__}"
    writer.metadata["source"] = printable(os.path.basename(onnx_path))
    writer.metadata["bit_shift"] = "1" if bit_shift else "0"
    try:
        writer.save(output)
    except OSError as e:  # missing directory, output is a directory, disk full, no permission
        raise ConvertError(f"cannot write '{output}': {e.strerror}") from None
    return report


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (after symlinks; hard links share the inode)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):  # b does not exist yet, or a path with a NUL byte
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def printable(path: str) -> str:
    """A path as valid UTF-8 text: bytes that are not UTF-8 (decoded by Python as lone
    surrogates) become \\xNN escapes, so the path can be printed and stored in metadata."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")

