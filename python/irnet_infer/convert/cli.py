"""irnet-convert: ONNX model → .irb model for irnet-infer.

    irnet-convert model.onnx model.irb [--input-shape x=1,3,32,32]
                  [--no-bit-shift] [--keep-float NODE ...]
    (the output may also be given as -o model.irb; default: model.irb beside the input)

Exit status: 0 on success, 1 when the model cannot be converted (the message
names the node and the reason), 2 for bad command-line usage. On failure no
output file is created or modified.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .. import __version__
from .graph import ConvertError
from .lower import Options, lower

ONNX_MISSING = ("the converter needs the 'onnx' package, which is not installed (the runtime does "
                "not): pip install 'irnet-infer[convert]', or pip install 'onnx>=1.14'")


def _onnx_loader():
    """irnet_infer.convert.load, the only part of the converter that needs onnx (the
    `convert` extra): imported on first use, so the runtime installs without onnx."""
    try:
        from . import load
    except ModuleNotFoundError as e:
        if e.name is None or e.name.split(".")[0] != "onnx":
            raise
        raise ModuleNotFoundError(ONNX_MISSING, name="onnx") from None
    return load


def convert(onnx_path: str, output: str, input_shapes=None, bit_shift: bool = True,
            keep_float=()):
    """Converts one file; returns the Report. Raises ConvertError; writes only on success.
    Raises ModuleNotFoundError naming the `convert` extra when onnx is not installed."""
    load = _onnx_loader()
    graph = load.load_graph(onnx_path, load.parse_input_shapes(input_shapes or []))
    layers = {n.name: n.op for n in graph.nodes}
    unknown = sorted(set(keep_float) - set(layers))
    if unknown:
        raise ConvertError(f"--keep-float names {unknown}, which are not nodes of the model")
    not_layers = sorted(f"'{k}' ({layers[k]})" for k in keep_float if layers[k] not in ("Conv", "Gemm", "MatMul"))
    if not_layers:
        raise ConvertError(f"--keep-float names {', '.join(not_layers)}: only Conv, Gemm and MatMul "
                           "nodes can be kept float")
    writer, report = lower(graph, Options(bit_shift=bit_shift, keep_float=set(keep_float)))
    writer.metadata["producer"] = f"irnet-convert {__version__}"
    writer.metadata["source"] = os.path.basename(onnx_path)
    writer.metadata["bit_shift"] = "1" if bit_shift else "0"
    try:
        writer.save(output)
    except OSError as e:  # missing directory, output is a directory, disk full, no permission
        raise ConvertError(f"cannot write '{output}': {e.strerror}") from None
    return report


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="irnet-convert", description=__doc__.split("\n")[0])
    ap.add_argument("model", help="the ONNX file")
    ap.add_argument("output_pos", nargs="?", metavar="output", help="the .irb file to write "
                    "(default: MODEL with .irb suffix)")
    ap.add_argument("-o", "--output", help="the .irb file to write (same as the positional output)")
    ap.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                    help="static shape for an input with dynamic dims (repeatable; NAME= may be "
                         "omitted for a single-input model)")
    ap.add_argument("--no-bit-shift", action="store_true",
                    help="fold power-of-two weight scales into the float scale instead of a shift")
    ap.add_argument("--keep-float", action="append", default=[], metavar="NODE",
                    help="leave this ONNX Conv/Gemm node in float even if it is binary (repeatable)")
    args = ap.parse_args(argv)
    if args.output and args.output_pos and args.output != args.output_pos:
        ap.error(f"two different outputs given: {args.output_pos!r} and -o {args.output!r}")
    output = args.output or args.output_pos or os.path.splitext(args.model)[0] + ".irb"
    try:
        _onnx_loader()
    except ModuleNotFoundError as e:
        print(f"irnet-convert: error: {e}", file=sys.stderr)
        return 1
    try:
        report = convert(args.model, output, args.input_shape, not args.no_bit_shift, args.keep_float)
    except ConvertError as e:
        print(f"irnet-convert: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a malformed model the checks above did not anticipate
        print(f"irnet-convert: error: unexpected {type(e).__name__} while converting "
              f"'{args.model}': {e}", file=sys.stderr)
        return 1
    print(report.render(output, os.path.getsize(output)))
    return 0
