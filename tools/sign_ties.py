"""Sign ties: the samples on which two correct runs of a binary network may disagree.

A binary activation sign(x) whose float input x lies within float rounding of 0 (a tie)
can come out either way in two correct implementations (another summation order, a
BatchNorm folded into a conv), and one flipped bit changes the network's output far
beyond rounding. A comparison of two runs on the same ONNX file therefore finds, per
sample, whether some Sign on activations has an input that close to 0 (onnxruntime runs
the file with those inputs as extra outputs) and judges the samples apart:

* a sample that differs and has no tie is a real mismatch;
* a sample that differs at a tie is reported, not failed, but at most a quarter of the
  samples may (a real error that only shows near ties still fails, on most samples);
* figures (top-1, relative L2) are taken over the samples that do not differ at a tie.

Used by tests/python/test_convert_field.py, tools/irnet_torch/export.py (PyTorch against
onnxruntime) and benchmarks/table5.py (irnet against onnxruntime). Needs numpy, onnx and
onnxruntime, not torch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIE_RTOL = 2.0 ** -18       # |sign input| at most this times max(1, the tensor's max magnitude): a tie
MAX_TIE_SHARE = 0.25        # of the samples, at most this many may differ at a tie


class OutputMismatch(RuntimeError):
    """Two runs differ on a sample without a tie, or on too many samples with one."""


def _computed_from_inputs(model) -> set[str]:
    """Names of the tensors computed from a graph input (not from constants only)."""
    live = {i.name for i in model.graph.input} - {t.name for t in model.graph.initializer}
    for node in model.graph.node:
        if any(name in live for name in node.input):
            live.update(node.output)
    return live


def sign_ties(onnx_path, x: np.ndarray, rtol: float = TIE_RTOL) -> np.ndarray:
    """Per sample of x (the model's first input, batch first): True where the input of some
    Sign on activations lies within rtol x max(1, that tensor's max magnitude) of 0. A model
    with a fixed batch is run in chunks of that batch."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    model = onnx.load(str(onnx_path))
    live = _computed_from_inputs(model)
    probes = sorted({n.input[0] for n in model.graph.node if n.op_type == "Sign" and n.input[0] in live})
    ties = np.zeros(len(x), dtype=bool)
    if not probes:
        return ties
    del model.graph.output[:]
    model.graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in probes)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    step = feed.shape[0] if isinstance(feed.shape[0], int) and feed.shape[0] > 0 else len(x)
    # Per probe: each sample's smallest and largest |value|; the tie limit uses the largest over the batch.
    smallest = np.empty((len(probes), len(x)))
    largest = np.empty((len(probes), len(x)))
    for start in range(0, len(x), step):
        values = session.run(None, {feed.name: x[start:start + step]})
        for p, v in enumerate(values):
            v = np.abs(v.reshape(step, -1))
            smallest[p, start:start + step] = v.min(axis=1)
            largest[p, start:start + step] = v.max(axis=1)
    limit = rtol * np.maximum(1.0, largest.max(axis=1, keepdims=True))
    return (smallest <= limit).any(axis=0)


@dataclass
class Agreement:
    """Two runs' outputs compared sample by sample (all arrays: one entry per sample)."""
    differ: np.ndarray            # beyond the tolerance, or another top-1 class
    ties: np.ndarray              # some Sign input within rounding of 0
    top1_identical: np.ndarray
    max_abs: np.ndarray           # max |got - want|
    relative_l2: np.ndarray       # ||got - want|| / ||want||

    @property
    def real(self) -> np.ndarray:
        """Samples that differ without a tie."""
        return self.differ & ~self.ties

    @property
    def at_tie(self) -> np.ndarray:
        """Samples that differ at a tie: left out of the figures."""
        return self.differ & self.ties

    def check(self, what: str, max_tie_share: float = MAX_TIE_SHARE) -> None:
        """Raises OutputMismatch on a real mismatch or when more than max_tie_share of the
        samples differ at a tie; `what` names the comparison in the message."""
        real = np.flatnonzero(self.real)
        if real.size:
            raise OutputMismatch(f"{what}: differs in samples {real.tolist()} (max |diff| "
                                 f"{self.max_abs[real].max():.3g}), which have no sign input near 0")
        allowed = int(max_tie_share * len(self.differ))
        if self.at_tie.sum() > allowed:
            raise OutputMismatch(f"{what}: {int(self.at_tie.sum())} of {len(self.differ)} samples differ at "
                                 f"sign ties (at most {allowed} may)")

    def summary(self) -> dict:
        """The figures over the samples that do not differ at a tie, and the tie counts."""
        kept = ~self.at_tie
        rel = self.relative_l2[kept]
        return {"samples": len(self.differ), "sign_ties": int(self.ties.sum()),
                "differ_at_tie": int(self.at_tie.sum()), "compared": int(kept.sum()),
                "top1_identical": int(self.top1_identical[kept].sum()),
                "median_relative_l2": float(np.median(rel)) if rel.size else float("nan"),
                "max_relative_l2": float(rel.max()) if rel.size else float("nan"),
                "real_mismatches": int(self.real.sum())}


def worst_of(agreements: list[Agreement]) -> Agreement:
    """Several comparisons of the same samples as one: a sample differs if it differs in any."""
    return Agreement(differ=np.any([a.differ for a in agreements], axis=0), ties=agreements[0].ties,
                     top1_identical=np.all([a.top1_identical for a in agreements], axis=0),
                     max_abs=np.max([a.max_abs for a in agreements], axis=0),
                     relative_l2=np.max([a.relative_l2 for a in agreements], axis=0))


def compare(got: np.ndarray, want: np.ndarray, ties: np.ndarray, tolerance: float = 1e-4) -> Agreement:
    """got against want (batch first, same shape): a sample differs when max |got - want|
    exceeds tolerance x max(1, max |want|) of that sample (or is NaN) or its top-1 class
    (the argmax over axis 1, at every position of a feature map) differs."""
    if got.shape != want.shape:
        raise OutputMismatch(f"output shapes differ: {got.shape} against {want.shape}")
    g = got.reshape(len(got), -1).astype(np.float64)
    w = want.reshape(len(want), -1).astype(np.float64)
    max_abs = np.abs(g - w).max(axis=1)
    top1 = (got.argmax(axis=1) == want.argmax(axis=1)).reshape(len(got), -1).all(axis=1)
    limit = tolerance * np.maximum(1.0, np.abs(w).max(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_l2 = np.linalg.norm(g - w, axis=1) / np.linalg.norm(w, axis=1)
    return Agreement(differ=~(max_abs <= limit) | ~top1, ties=np.asarray(ties, dtype=bool), top1_identical=top1,
                     max_abs=max_abs, relative_l2=relative_l2)
