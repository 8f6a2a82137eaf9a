"""irnet-infer: binary neural network inference for IR-Net models.

    import irnet_infer
    m = irnet_infer.Model("model.irb", threads=2)
    y = m.run(x)              # float32 NCHW in, numpy array (tuple if several outputs) out

The compiled engine lives in irnet_infer._engine; the pure-Python parts (the
.irb writer/reader in irnet_infer.irb and the converter) work without it.
"""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np

__version__ = "0.1.0"

try:
    from . import _engine
    from ._engine import ModelError
    _ENGINE_IMPORT_ERROR = None
except ImportError as exc:  # pure-Python use (converter, .irb tools) still works
    _engine = None
    _ENGINE_IMPORT_ERROR = exc

    class ModelError(ValueError):
        """A model file or a call was rejected by the engine."""

__all__ = ["Model", "ModelError", "plan", "kernels", "selected_kernel", "force_kernel", "cpu_description",
           "__version__"]


def _require_engine():
    if _engine is None:
        raise ImportError(
            "irnet_infer._engine (the compiled engine) is not built: run "
            "`pip install --no-build-isolation -e .` or scripts/bootstrap.sh "
            f"({_ENGINE_IMPORT_ERROR})")
    return _engine


def _as_float32(x, info: dict, index: int) -> np.ndarray:
    """Validates one input and returns it as a C-contiguous float32 array."""
    name = info["name"]
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":  # real numbers only: bool, complex, object, text, dates are mistakes
        raise TypeError(f"input {index} '{name}' must be a real (float or integer) array, float32 "
                        f"preferred; got dtype {a.dtype}")
    expected = tuple(info["shape"])
    if a.ndim != len(expected):
        raise ValueError(f"input {index} '{name}' must have rank {len(expected)} "
                         f"(shape {expected}, NCHW), got rank {a.ndim} (shape {a.shape})")
    if a.shape != expected:
        raise ValueError(f"input {index} '{name}' must have shape {expected} (NCHW), got {a.shape}")
    # Not np.ascontiguousarray: it returns at least 1-d, so a rank-0 input
    # would reach the engine as shape (1,).
    return np.asarray(a, dtype=np.float32, order="C")


class Model:
    """A loaded .irb model.

    Model(path, threads=1). run() may be called from several Python threads at
    once: the GIL is released while the engine computes, and each call uses its
    own activation arena (see docs/api.md).
    """

    def __init__(self, path, threads: int = 1) -> None:
        engine = _require_engine()
        path = os.fspath(path)
        if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool):
            raise TypeError(f"threads must be an int, got {type(threads).__name__}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"model file '{path}' does not exist")
        self._model = engine.Model(path, int(threads))
        self.path = path

    @property
    def inputs(self) -> List[dict]:
        """[{'name', 'shape' (NCHW tuple), 'dtype'}] per graph input."""
        return self._model.inputs

    @property
    def outputs(self) -> List[dict]:
        return self._model.outputs

    @property
    def threads(self) -> int:
        return self._model.threads

    @property
    def metadata(self) -> Dict[str, str]:
        return self._model.metadata

    def _prepare(self, inputs) -> list:
        infos = self._model.inputs
        if len(inputs) != len(infos):
            raise ValueError(f"the model has {len(infos)} input(s), got {len(inputs)}")
        return [_as_float32(x, info, i) for i, (x, info) in enumerate(zip(inputs, infos))]

    def run(self, *inputs):
        """Runs the model: one array per input (float32 NCHW; other float dtypes are
        converted, integer/bool/complex/object arrays raise TypeError). Returns a
        numpy array, or a tuple of arrays for several outputs."""
        outs, _ = self._model.run(self._prepare(inputs), False)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def profile(self, *inputs) -> Tuple[object, List[float]]:
        """Like run(), also returning the wall time in seconds of every layer."""
        outs, seconds = self._model.run(self._prepare(inputs), True)
        return (outs[0] if len(outs) == 1 else tuple(outs)), list(seconds)

    def summary(self) -> str:
        """Per-layer table (full layer name, op, output shape in NCHW like `inputs`, MACs,
        parameter and scratch bytes, kernel) and totals."""
        return self._model.summary()["text"]

    def summary_dict(self) -> dict:
        """summary() as data: 'layers' (list of dicts; 'output_shape' NCHW), totals,
        'peak_activation_bytes', 'kernels' ({family: variant} the model runs with)."""
        return self._model.summary()

    def __repr__(self) -> str:
        return f"Model({self.path!r}, threads={self.threads})"


def plan(path) -> dict:
    """Reads, validates and plans a model like Model(path) but allocates no
    activation memory and starts no threads; returns what Model(path).summary_dict()
    would (threads 1). Raises ModelError for what Model(path) refuses."""
    engine = _require_engine()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file '{path}' does not exist")
    return engine.plan_model(path)


def kernels() -> Dict[str, List[dict]]:
    """{family: [{'name', 'supported', 'selected'}, ...]} for every kernel family."""
    engine = _require_engine()
    return {f: engine.kernel_variants(f) for f in engine.kernel_families()}


def selected_kernel(family: str) -> str:
    return _require_engine().selected_kernel(family)


def force_kernel(family: str, name: str) -> None:
    """Selects a kernel variant ('auto' restores the default) for models loaded afterwards."""
    _require_engine().force_kernel(family, name)


def cpu_description() -> str:
    return _require_engine().cpu_description()
