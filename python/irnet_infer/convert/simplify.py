"""Graph simplifications that run on the ONNX model before it becomes a Graph.

Straight-through estimators. Training code writes "forward = hard, backward =
soft" as `hard.detach() - soft.detach() + soft` or `soft + (hard - soft).detach()`.
`detach()` does not exist in ONNX, so the export computes Add(Sub(H, S), S) or
Add(S, Sub(H, S)): S is a whole surrogate subgraph of x (a Clip, or Bi-Real's
Less/Cast/Mul/Add polynomial) and the forward value is H. `remove_ste` replaces
each such Add by H, structurally (the Sub's subtrahend is the Add's other
operand), before constant folding: on weights this leaves sign(w)·α to fold, so
the folded weight is exactly ±α instead of carrying the float rounding of
(α·sign(w) − clamp(w)) + clamp(w).

`remove_dead` drops nodes whose outputs nothing reads (the surrogates the STE
removal orphaned, and what folding left unused).
"""
from __future__ import annotations

from typing import Dict, List, Optional

import onnx
from onnx import helper

from .fold import NEVER_FOLD

# How deep two surrogate subgraphs are compared node by node (Bi-Real's ApproxSign is ~20).
MAX_COMPARE_DEPTH = 64


def _shape_key(vi: Optional[onnx.ValueInfoProto]):
    """The declared shape of a value as a comparable tuple (dim values or names), or None."""
    if vi is None or not vi.type.tensor_type.HasField("shape"):
        return None
    dims = vi.type.tensor_type.shape.dim
    if any(not d.dim_value and not d.dim_param for d in dims):
        return None
    return tuple(d.dim_value or d.dim_param for d in dims)


def remove_ste(model: onnx.ModelProto) -> Dict[str, str]:
    """Replaces every Add(Sub(H, S), S) / Add(S, Sub(H, S)) by Identity(H), in place.

    Needs the model's shapes inferred: an Add whose output shape is not H's (a
    broadcast) is left alone. Returns {tensor name: H's name} for every replaced
    Add output, for the report.
    """
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    info = {vi.name: vi for vi in list(g.value_info) + list(g.input) + list(g.output)}
    info.update({t.name: helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                 for t in g.initializer})

    def resolve(name: str) -> str:
        """Follows Identity nodes back to the tensor they copy (detach() may export as one)."""
        seen = 0
        while name in producer and producer[name].op_type == "Identity" and seen < len(g.node):
            name = producer[name].input[0]
            seen += 1
        return name

    def same_value(a: str, b: str, depth: int = 0) -> bool:
        """True when a and b are one tensor, or computed by equal nodes (same op, attributes and
        inputs, recursively: `clamp(x)` written twice exports as two equal Clip nodes)."""
        a, b = resolve(a), resolve(b)
        if a == b:
            return True
        if (a, b) in compared:
            return compared[(a, b)]
        compared[(a, b)] = False         # a cycle in a malformed graph compares unequal
        na, nb = producer.get(a), producer.get(b)
        if na is None or nb is None or depth > MAX_COMPARE_DEPTH or na.op_type in NEVER_FOLD \
                or na.op_type != nb.op_type \
                or na.domain != nb.domain or len(na.input) != len(nb.input) \
                or list(na.output).index(a) != list(nb.output).index(b) \
                or [x.SerializeToString() for x in na.attribute] != [x.SerializeToString() for x in nb.attribute]:
            return False
        compared[(a, b)] = all(same_value(x, y, depth + 1) for x, y in zip(na.input, nb.input))
        return compared[(a, b)]

    compared: Dict[tuple, bool] = {}

    removed: Dict[str, str] = {}
    for k, n in enumerate(g.node):
        if n.op_type != "Add" or len(n.input) != 2:
            continue
        for diff, other in ((n.input[0], n.input[1]), (n.input[1], n.input[0])):
            sub = producer.get(resolve(diff))
            if sub is None or sub.op_type != "Sub" or len(sub.input) != 2 \
                    or not same_value(sub.input[1], other):
                continue
            hard = sub.input[0]
            out_shape, hard_shape = _shape_key(info.get(n.output[0])), _shape_key(info.get(hard))
            if out_shape is None or out_shape != hard_shape:
                continue
            replacement = helper.make_node("Identity", [hard], [n.output[0]], name=n.name or f"ste_{k}")
            g.node[k].CopyFrom(replacement)
            producer[n.output[0]] = g.node[k]
            removed[n.output[0]] = hard
            break
    return removed


def remove_dead(model: onnx.ModelProto) -> None:
    """Drops, in place, every node none of whose outputs reaches a graph output."""
    g = model.graph
    needed = {o.name for o in g.output}
    kept: List[onnx.NodeProto] = []
    for n in reversed(g.node):        # nodes are in topological order
        if any(o in needed for o in n.output):
            kept.append(n)
            needed.update(i for i in n.input if i)
    if len(kept) == len(g.node):
        return
    kept.reverse()
    copies = [onnx.NodeProto() for _ in kept]
    for c, n in zip(copies, kept):
        c.CopyFrom(n)
    del g.node[:]
    g.node.extend(copies)
    used = needed
    live = [t for t in g.initializer if t.name in used]
    if len(live) != len(g.initializer):
        copies_t = [onnx.TensorProto() for _ in live]
        for c, t in zip(copies_t, live):
            c.CopyFrom(t)
        del g.initializer[:]
        g.initializer.extend(copies_t)
