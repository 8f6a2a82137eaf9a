"""Sliding-window geometry checks for Conv and pooling nodes.

ONNX shape inference trusts attributes; a malformed model can declare an output
shape its kernel, strides and pads cannot produce (or a window larger than the
padded input). The engine would refuse such a file at load time; the converter
refuses the model first, naming the node.
"""
from __future__ import annotations

from typing import Sequence

from .graph import ConvertError, Node
from .patterns import conv_pads

LIMIT = 2 ** 31   # the engine keeps geometry in int


def window_output(size: int, k: int, s: int, d: int, pad_begin: int, pad_end: int, ceil_mode: int) -> int:
    """Output length of a window of k taps (dilation d, stride s) over a padded axis; < 1 if none fits."""
    span = size + pad_begin + pad_end - (k - 1) * d - 1
    if span < 0:
        return 0
    return (-(-span // s) if ceil_mode else span // s) + 1


def check_window(node: Node, in_shape: Sequence[int], out_shape: Sequence[int], kernel: Sequence[int],
                 strides: Sequence[int], dilations: Sequence[int], pads: Sequence[int],
                 ceil_mode: int = 0) -> None:
    """Validates a 2-D window op: parameter ranges and the declared NCHW output's H and W."""
    def fail(message: str):
        raise ConvertError(f"{node.describe()}: {message}")

    for name, values, lo, n in (("kernel", kernel, 1, 2), ("strides", strides, 1, 2),
                                ("dilations", dilations, 1, 2), ("pads", pads, 0, 4)):
        if len(values) != n or any(not lo <= int(v) < LIMIT for v in values):
            fail(f"{name} {list(values)} must be {n} values in [{lo}, 2^31)")
    for axis, name in ((0, "height"), (1, "width")):
        expected = window_output(int(in_shape[2 + axis]), kernel[axis], strides[axis], dilations[axis],
                                 pads[axis], pads[axis + 2], ceil_mode)
        if expected < 1:
            fail(f"the {kernel[axis]}-tap window (dilation {dilations[axis]}) does not fit the padded "
                 f"{name} {in_shape[2 + axis]} + {pads[axis]} + {pads[axis + 2]}")
        if int(out_shape[2 + axis]) != expected:
            fail(f"output {name} is declared {out_shape[2 + axis]}, but input {list(in_shape)} with kernel "
                 f"{list(kernel)}, strides {list(strides)}, dilations {list(dilations)}, pads {list(pads)} "
                 f"gives {expected}")


def conv_attrs(node: Node, in_shape: Sequence[int], out_shape: Sequence[int], w_shape: Sequence[int]) -> dict:
    """kernel/strides/dilations/pads/groups of an ONNX Conv (NCHW, weight [O, I/g, kh, kw]),
    checked against its weight, input and declared output."""
    def fail(message: str):
        raise ConvertError(f"{node.describe()}: {message}")

    if len(w_shape) != 4:
        fail(f"only 2-D convolution is supported, the weight has shape {list(w_shape)}")
    kernel = [int(k) for k in w_shape[2:]]
    if node.ints("kernel_shape", kernel) != kernel:
        fail(f"kernel_shape {node.attrs['kernel_shape']} differs from the weight's {kernel}")
    strides = node.ints("strides", [1, 1])
    dilations = node.ints("dilations", [1, 1])
    groups = node.attrs.get("group", 1)
    if not isinstance(groups, int):
        fail(f"attribute 'group' must be an integer, got {groups!r}")
    out_c, in_per_group = int(w_shape[0]), int(w_shape[1])
    if groups < 1 or out_c % groups or in_shape[1] != in_per_group * groups or out_shape[1] != out_c:
        fail(f"input {list(in_shape)}, weight {list(w_shape)}, group {groups} and output {list(out_shape)} "
             "do not agree (need C_in = weight dim 1 · group, C_out = weight dim 0, divisible by group)")
    pads = conv_pads(node, in_shape, kernel, strides, dilations)
    check_window(node, in_shape, out_shape, kernel, strides, dilations, pads)
    return {"kernel": kernel, "strides": strides, "dilations": dilations, "pads": pads, "groups": groups}
