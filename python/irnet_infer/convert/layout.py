"""NCHW (ONNX) → NHWC (engine) bookkeeping.

Rank-4 activations are NHWC inside the engine (docs/format.md); every other
rank keeps the ONNX order. These helpers map shapes, axes and weights.
"""
from __future__ import annotations

from typing import List, Sequence

import numpy as np

NCHW_TO_NHWC = (0, 2, 3, 1)   # nhwc_shape[i] = nchw_shape[NCHW_TO_NHWC[i]]
NHWC_TO_NCHW = (0, 3, 1, 2)


def is_spatial(rank: int) -> bool:
    """True for the activations the engine stores NHWC."""
    return rank == 4


def engine_shape(onnx_shape: Sequence[int]) -> List[int]:
    s = [int(d) for d in onnx_shape]
    return [s[i] for i in NCHW_TO_NHWC] if is_spatial(len(s)) else s


def engine_axis(axis: int, rank: int) -> int:
    """Position in the engine layout of ONNX axis `axis` (negative allowed)."""
    axis = axis + rank if axis < 0 else axis
    return NCHW_TO_NHWC.index(axis) if is_spatial(rank) else axis


def engine_per_axis(values: Sequence, rank: int) -> list:
    """Reorders one value per ONNX axis into engine axis order."""
    values = list(values)
    return [values[i] for i in NCHW_TO_NHWC] if is_spatial(rank) else values


def conv_weight_ohwi(w: np.ndarray) -> np.ndarray:
    """ONNX [O, I/g, kh, kw] → engine [O, kh, kw, I/g]."""
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1))


def gemm_weight_for_nhwc_flatten(w: np.ndarray, c: int, h: int, w_: int) -> np.ndarray:
    """Reorders the K columns of a [M, K] Gemm weight that follows Flatten(NCHW [N,C,H,W]).

    ONNX flattens in (c, h, w) order; the engine's NHWC tensor flattens in
    (h, w, c) order. Column c·H·W + h·W + w moves to (h·W + w)·C + c.
    """
    m = w.shape[0]
    return np.ascontiguousarray(w.reshape(m, c, h, w_).transpose(0, 2, 3, 1).reshape(m, c * h * w_))
