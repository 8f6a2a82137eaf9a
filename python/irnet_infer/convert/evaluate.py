"""Constant folding's evaluator: the onnx reference implementation, one node at a
time, within limits.

The reference evaluator has no limits of its own: a constant `Loop` with trip
count 2^62 runs for ever, and a `ConstantOfShape` allocates whatever its shape
input says. Here each node's output size is known before the node runs (onnx
shape inference on that node, given its actual input values), `Loop` and `If`
bodies run node by node through the same checks, and the limits below apply;
every refusal is a ConvertError naming the node, its op and the limit.
"""
from __future__ import annotations

import time
from collections import ChainMap
from typing import Dict, List, MutableMapping, Optional, Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference
from onnx.reference import ReferenceEvaluator

from .graph import ConvertError

MAX_NODE_BYTES = 256 << 20       # the outputs of one node
MAX_FOLDED_BYTES = 1 << 30       # all folded values held at one time
MAX_LOOP_ITERATIONS = 10_000     # one run of one Loop node
MAX_SECONDS = 60.0               # the whole folding, checked before each node (and Loop iteration)

# Ops whose output shape depends on the values of input 0, so that shape inference cannot
# give it, but whose outputs are bounded by its size (see _value_dependent_bound).
_BOUNDED_BY_INPUT = ("NonZero", "Unique", "Compress")
# Inputs of up to this many elements are given to shape inference as values, so that output
# shapes set by a value (shape, repeats, pads, sizes, ranges) are known before the node runs.
_VALUE_ELEMENTS = 4096


def _describe(node: onnx.NodeProto, within: str) -> str:
    return f"node '{node.name}' ({node.op_type}){within}"


def _nbytes(value) -> int:
    if isinstance(value, (list, tuple)):  # a sequence value
        return sum(_nbytes(v) for v in value)
    return int(np.asarray(value).nbytes)


def _value_dependent_bound(inputs: List[object]) -> int:
    """The most the outputs of a _BOUNDED_BY_INPUT node can take: each of its at most 4
    outputs has at most rank x size elements of at most 8 bytes."""
    x = np.asarray(inputs[0])
    return 4 * max(x.ndim, 1) * x.size * 8


def _scalar(value, node: onnx.NodeProto, what: str, within: str):
    x = np.asarray(value)
    if x.size != 1:
        raise ConvertError(f"constant folding: {_describe(node, within)}: {what} must have one element, "
                           f"got shape {list(x.shape)}")
    return x.reshape(-1)[0]


def _flag(value, node: onnx.NodeProto, what: str, within: str) -> bool:
    return bool(_scalar(value, node, what, within))


def _decode(t: onnx.TensorProto, what: str) -> np.ndarray:
    try:
        return numpy_helper.to_array(t)
    except Exception as e:  # data size/dims/type mismatch in a malformed file
        raise ConvertError(f"{what} '{t.name}' cannot be decoded: {e}") from None


class FoldingBudget:
    """The clock and the bytes held, shared by every evaluate() of one model's folding (the
    fixed-point simplification folds in several passes)."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.held = 0

    def check_fits(self, nbytes: int, node: onnx.NodeProto, within: str) -> None:
        if nbytes > MAX_NODE_BYTES:
            raise ConvertError(f"constant folding: {_describe(node, within)} would produce {nbytes:,} "
                               f"bytes, more than the limit of {MAX_NODE_BYTES:,} bytes per node")
        if self.held + nbytes > MAX_FOLDED_BYTES:
            raise ConvertError(f"constant folding: {_describe(node, within)} would bring the folded "
                               f"values to {self.held + nbytes:,} bytes, more than the limit of "
                               f"{MAX_FOLDED_BYTES:,} bytes")

    def check_time(self, node: onnx.NodeProto, within: str) -> None:
        if time.monotonic() > self.deadline:
            raise ConvertError(f"constant folding took more than the limit of {MAX_SECONDS:g} s; "
                               f"stopped at {_describe(node, within)}")


def evaluate(model: onnx.ModelProto, budget: Optional[FoldingBudget] = None) -> List[object]:
    """Runs the graph (constant nodes and their initializers, no inputs); returns the values
    of its outputs. Raises ConvertError naming the node for every failure and limit."""
    g = model.graph
    env: Dict[str, object] = {t.name: _decode(t, "initializer") for t in g.initializer}
    _Folding(model, budget or FoldingBudget()).run_nodes(g.node, env)
    return [env[o.name] for o in g.output]


class _Folding:
    """One evaluate(): the opsets, the evaluators built so far, and the budget."""

    def __init__(self, model: onnx.ModelProto, budget: FoldingBudget) -> None:
        self.opset_imports = list(model.opset_import)
        opsets = {i.domain: int(i.version) for i in self.opset_imports}
        self.opset = opsets.get("", opsets.get("ai.onnx", 1))
        self.ir_version = model.ir_version
        self.budget = budget
        self.evaluators: Dict[int, tuple] = {}   # id(node) -> (node, its evaluator)

    # -- nodes ----------------------------------------------------------------
    def run_nodes(self, nodes: Sequence[onnx.NodeProto], env: MutableMapping[str, object],
                  within: str = "") -> int:
        """Evaluates the nodes in order into env; returns the bytes their outputs hold."""
        charged = 0
        for node in nodes:
            self.budget.check_time(node, within)
            inputs = []
            for name in node.input:
                if name and name not in env:
                    raise ConvertError(f"constant folding: {_describe(node, within)} reads '{name}', "
                                       "which is not a constant")
                inputs.append(env[name] if name else None)
            if node.op_type == "Loop":
                outputs = self.loop(node, inputs, env, within)
            elif node.op_type == "If":
                outputs = self.branch(node, inputs, env, within)
            elif any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
                raise ConvertError(f"constant folding: {_describe(node, within)}: a constant "
                                   f"{node.op_type} cannot be folded (only Loop and If bodies are run)")
            else:
                self.budget.check_fits(self.output_bound(node, inputs, within), node, within)
                outputs = self.reference(node, inputs, within)
            size = sum(_nbytes(v) for v in outputs)
            self.budget.check_fits(size, node, within)
            self.budget.held += size
            charged += size
            env.update((name, v) for name, v in zip(node.output, outputs) if name)
        return charged

    def reference(self, node: onnx.NodeProto, inputs: List[object], within: str) -> List[object]:
        try:
            # A Loop body's nodes run once per iteration: build each evaluator once. The entry
            # keeps the node alive, so that its id cannot be reused by another node meanwhile.
            cached = self.evaluators.get(id(node))
            if cached is None or cached[0] is not node:
                cached = self.evaluators[id(node)] = (node, ReferenceEvaluator(self.one_node_model(node)))
            return list(cached[1].run(None, {name: v for name, v in zip(node.input, inputs) if name}))
        except Exception as e:  # the reference implementation's own checks, numpy errors
            raise ConvertError(f"constant folding failed at {_describe(node, within)} (onnx reference "
                               f"evaluator): {type(e).__name__}: {e}") from None

    def one_node_model(self, node: onnx.NodeProto) -> onnx.ModelProto:
        """The node as a model of the file's opsets (an evaluator built on a bare NodeProto
        would take the newest opset's semantics: Unsqueeze's axes as an input, not an attribute)."""
        inputs = list(dict.fromkeys(filter(None, node.input)))
        graph = helper.make_graph([node], node.name or node.op_type,
                                  [helper.make_empty_tensor_value_info(i) for i in inputs],
                                  [helper.make_empty_tensor_value_info(o) for o in node.output if o])
        return helper.make_model(graph, opset_imports=self.opset_imports, ir_version=self.ir_version)

    def output_bound(self, node: onnx.NodeProto, inputs: List[object], within: str) -> int:
        """The bytes the node's outputs will take, from shape inference on the node with its
        actual inputs; refuses a node whose output size cannot be known before it runs."""
        types, values = {}, {}
        for name, v in zip(node.input, inputs):
            if name and isinstance(v, np.ndarray):
                types[name] = helper.make_tensor_type_proto(helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                if v.size <= _VALUE_ELEMENTS:
                    values[name] = numpy_helper.from_array(v, name)
        try:
            schema = onnx.defs.get_schema(node.op_type, self.opset, "")
            out_types = shape_inference.infer_node_outputs(schema, node, types, values,
                                                           opset_imports=self.opset_imports,
                                                           ir_version=self.ir_version)
        except Exception as e:
            raise ConvertError(f"constant folding: {_describe(node, within)}: shape inference on its "
                               f"constant inputs failed: {e}") from None
        total = 0
        for name in filter(None, node.output):
            t = out_types.get(name)
            known = (t is not None and t.HasField("tensor_type") and t.tensor_type.HasField("shape")
                     and all(d.HasField("dim_value") for d in t.tensor_type.shape.dim))
            if not known:
                if node.op_type in _BOUNDED_BY_INPUT:
                    return _value_dependent_bound(inputs)
                raise ConvertError(f"constant folding: {_describe(node, within)}: the size of output "
                                   f"'{name}' cannot be known before running it, so it is not evaluated")
            elements = int(np.prod([d.dim_value for d in t.tensor_type.shape.dim], dtype=object))
            total += elements * helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type).itemsize
        return total

    # -- control flow ---------------------------------------------------------
    def subgraph(self, graph: onnx.GraphProto, env: MutableMapping[str, object], node: onnx.NodeProto,
                 within: str) -> ChainMap:
        """A scope for a body: its initializers over the enclosing values."""
        return ChainMap({t.name: _decode(t, f"{_describe(node, within)}: body initializer")
                         for t in graph.initializer}, env)

    def body(self, node: onnx.NodeProto, attr: str, inputs: int, outputs: int, within: str) -> onnx.GraphProto:
        """The subgraph attribute `attr`, checked to take `inputs` and give at least `outputs` values."""
        graphs = [a.g for a in node.attribute if a.name == attr and a.type == onnx.AttributeProto.GRAPH]
        if not graphs or len(graphs[0].input) != inputs or len(graphs[0].output) < outputs:
            raise ConvertError(f"constant folding: {_describe(node, within)}: needs a graph attribute "
                               f"'{attr}' with {inputs} inputs and at least {outputs} outputs")
        return graphs[0]

    def branch(self, node: onnx.NodeProto, inputs: List[object], env, within: str) -> List[object]:
        taken = "then_branch" if _flag(inputs[0], node, "cond", within) else "else_branch"
        graph = self.body(node, taken, 0, len(node.output), within)
        scope = self.subgraph(graph, env, node, within)
        self.budget.held -= self.run_nodes(graph.node, scope, f" in the {taken} of {_describe(node, within)}")
        return [scope[o.name] for o in graph.output]

    def loop(self, node: onnx.NodeProto, inputs: List[object], env, within: str) -> List[object]:
        """ONNX Loop: inputs (M, cond, carried...), body (i, cond, carried...) ->
        (cond, carried..., scan...); outputs (carried..., scan outputs stacked)."""
        carried = list(inputs[2:])
        body = self.body(node, "body", 2 + len(carried), 1 + len(carried), within)
        body_nodes = list(body.node)
        trip = None if inputs[0] is None else int(_scalar(inputs[0], node, "M", within))
        go_on = True if inputs[1] is None else _flag(inputs[1], node, "cond", within)
        if trip is not None and inputs[1] is None and trip > MAX_LOOP_ITERATIONS:
            raise ConvertError(f"constant folding: {_describe(node, within)} has trip count {trip:,}, "
                               f"more than the limit of {MAX_LOOP_ITERATIONS:,} iterations")
        inner = f" in the body of {_describe(node, within)}"
        scans: List[List[object]] = []
        scan_bytes, i = 0, 0
        while go_on and (trip is None or i < trip):
            if i == MAX_LOOP_ITERATIONS:
                count = "no trip count" if trip is None else f"trip count {trip:,}"
                raise ConvertError(f"constant folding: {_describe(node, within)} ({count}) is still running "
                                   f"after {i:,} iterations, the limit")
            self.budget.check_time(node, within)
            scope = self.subgraph(body, env, node, within)
            values = [np.array(i, np.int64), np.array(go_on)] + carried
            scope.update((vi.name, v) for vi, v in zip(body.input, values))
            charged = self.run_nodes(body_nodes, scope, inner)
            out = [scope[o.name] for o in body.output]
            go_on = _flag(out[0], node, "the body's condition output", within)
            carried = out[1:1 + len(carried)]
            scans.append(out[1 + len(carried):])
            size = sum(_nbytes(v) for v in scans[-1])
            self.budget.held -= charged
            self.budget.check_fits(size, node, within)
            self.budget.held += size
            scan_bytes += size
            i += 1
        self.budget.held -= scan_bytes
        stacked = []
        for k, out in enumerate(body.output[1 + len(carried):]):
            shapes = {np.shape(s[k]) for s in scans}
            if len(shapes) > 1:
                raise ConvertError(f"constant folding: {_describe(node, within)}: scan output '{out.name}' "
                                   f"changes shape between iterations ({sorted(shapes)[:2]})")
            stacked.append(np.stack([s[k] for s in scans]) if scans else np.zeros((0,), np.float32))
        return carried + stacked
