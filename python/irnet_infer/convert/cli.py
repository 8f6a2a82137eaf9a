"""irnet-convert: ONNX model → .irb model for irnet-infer.

    irnet-convert model.onnx model.irb [--input-shape x=1,3,32,32]
                  [--no-bit-shift] [--keep-float NODE ...]
                  [--allow-sign-of-zero] [--no-fuse-activation]
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

from .converter import convert, onnx_loader, printable
from .graph import ConvertError


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
    ap.add_argument("--allow-sign-of-zero", action="store_true",
                    help="convert sign() of tensors that can be exactly 0 (e.g. after Relu); the 1-bit "
                         "sign is +1 where ONNX gives 0, so outputs change (the report says where)")
    ap.add_argument("--no-fuse-activation", action="store_true",
                    help="keep RPReLU, the next RSign's threshold and the doubling Concat of binary "
                         "convs as separate ops instead of in the binary conv's epilogue (same results)")
    args = ap.parse_args(argv)
    if args.output and args.output_pos and args.output != args.output_pos:
        ap.error(f"two different outputs given: {args.output_pos!r} and -o {args.output!r}")
    output = args.output or args.output_pos or os.path.splitext(args.model)[0] + ".irb"
    try:
        onnx_loader()
    except ModuleNotFoundError as e:
        print(f"irnet-convert: error: {e}", file=sys.stderr)
        return 1
    try:
        report = convert(args.model, output, args.input_shape, not args.no_bit_shift, args.keep_float,
                         args.allow_sign_of_zero, not args.no_fuse_activation)
    except ConvertError as e:
        print(f"irnet-convert: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a malformed model the checks above did not anticipate
        print(f"irnet-convert: error: unexpected {type(e).__name__} while converting "
              f"'{args.model}': {e}", file=sys.stderr)
        return 1
    print(report.render(printable(output), os.path.getsize(output)))
    return 0
