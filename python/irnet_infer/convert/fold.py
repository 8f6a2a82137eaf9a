"""Constant folding with the onnx package's reference evaluator, within limits (evaluate.py).

Every node whose inputs are all constants (initializers, Constant outputs, or
results of other such nodes) is evaluated once, here, and replaced by its
result. In an IR-Net export this turns the ~24–37-node weight subgraph of each
binary conv (mean, std, log2, round, pow, sign, ...) into the ±s_o tensor the
Conv actually consumes. `Shape` of an activation whose shape is static is a
constant too, which folds the Shape→Gather→Concat→Reshape chains of `view()`.
"""
from __future__ import annotations

from typing import Dict, Optional, Set

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .evaluate import FoldingBudget, evaluate

# Ops that must not be evaluated at conversion time even with constant inputs.
NEVER_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
              "Multinomial", "Bernoulli"}


def _shape_of(node: onnx.NodeProto, shape: tuple) -> np.ndarray:
    """The value of Shape(x) for a static shape, honouring opset-15 start/end."""
    attrs = {a.name: a.i for a in node.attribute}
    rank = len(shape)
    start, end = attrs.get("start", 0), attrs.get("end", rank)
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = min(max(end + rank if end < 0 else end, 0), rank)
    return np.array(shape[start:end], dtype=np.int64)


def fold_constants(model: onnx.ModelProto, shapes: Dict[str, tuple], opset: int,
                   budget: Optional[FoldingBudget] = None) -> onnx.ModelProto:
    g = model.graph
    initializers = {t.name: t for t in g.initializer}
    constant: Set[str] = set(initializers) | {""}
    new_consts: Dict[str, np.ndarray] = {}
    to_eval, kept = [], []
    for n in g.node:
        if n.op_type == "Shape" and n.input[0] in shapes and n.input[0] not in constant:
            new_consts[n.output[0]] = _shape_of(n, shapes[n.input[0]])
            constant.add(n.output[0])
        elif n.op_type not in NEVER_FOLD and all(i in constant for i in n.input):
            to_eval.append(n)
            constant.update(n.output)
        else:
            kept.append(n)

    used = {i for n in kept for i in n.input} | {o.name for o in g.output}
    wanted = [o for n in to_eval for o in n.output if o and o in used]
    if wanted:
        sources = {i for n in to_eval for i in n.input if i}
        sub = helper.make_graph(
            to_eval, "fold",
            inputs=[],
            outputs=[helper.make_empty_tensor_value_info(o) for o in wanted],
            initializer=[initializers[s] for s in sorted(sources) if s in initializers]
            + [numpy_helper.from_array(v, s) for s, v in new_consts.items() if s in sources])
        sub_model = helper.make_model(sub, opset_imports=list(model.opset_import),
                                      ir_version=model.ir_version)
        values = evaluate(sub_model, budget)
        for name, v in zip(wanted, values):
            new_consts[name] = np.asarray(v)

    out = onnx.ModelProto()
    out.CopyFrom(model)
    og = out.graph
    del og.node[:]
    og.node.extend(kept)
    del og.initializer[:]
    og.initializer.extend(t for name, t in initializers.items() if name in used)
    og.initializer.extend(numpy_helper.from_array(v, name) for name, v in new_consts.items()
                          if name in used)
    real_inputs = [i for i in g.input if i.name not in initializers]
    del og.input[:]
    og.input.extend(real_inputs)
    del og.value_info[:]
    return out
