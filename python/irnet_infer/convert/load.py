"""Reading an ONNX file into a Graph: parse, fix dynamic input dims, check the
node order, infer shapes, fold constants.

Every failure raises ConvertError with a message that names the file, input or
node concerned; nothing here writes a file.
"""
from __future__ import annotations

import os
import stat
from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference
from onnx.external_data_helper import uses_external_data

from .evaluate import FoldingBudget
from .fold import fold_constants
from .graph import ConvertError, Graph, Node
from .simplify import remove_dead, remove_ste

DEFAULT_DOMAINS = ("", "ai.onnx")


# protobuf cannot parse a message of 2 GiB or more; larger weights must be external data.
MAX_ONNX_FILE_BYTES = 2 ** 31 - 1


def _open_regular_file(path: str, what: str, follow_symlinks: bool = True):
    """(fd, size) of a regular file opened for reading. Devices, FIFOs and directories are
    refused before any read (O_NONBLOCK: opening a FIFO must not wait for a writer)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise ConvertError(f"cannot read '{path}': {e.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ConvertError(f"'{path}' is a directory, not {what}")
        raise ConvertError(f"'{path}' is not a regular file (it is a {_file_kind(st.st_mode)}), not {what}")
    return fd, st.st_size


def _read_regular_file(path: str, what: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes."""
    fd, _ = _open_regular_file(path, what)
    with os.fdopen(fd, "rb") as f:
        try:
            blob = f.read(limit + 1)
        except OSError as e:
            raise ConvertError(f"cannot read '{path}': {e.strerror}") from None
    if len(blob) > limit:
        raise ConvertError(f"'{path}' is larger than {limit:,} bytes, the limit for {what}")
    return blob


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return kind
    return "special file"


def read_model(path: str) -> onnx.ModelProto:
    """Parses the file, refusing what is empty or not an ONNX model."""
    blob = _read_regular_file(path, "an ONNX model", MAX_ONNX_FILE_BYTES)
    if not blob:
        raise ConvertError(f"'{path}' is empty (0 bytes), not an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(blob)
    except Exception as e:  # protobuf raises DecodeError (and, for some inputs, others)
        raise ConvertError(f"'{path}' is not an ONNX model (protobuf parse failed: {e})") from None
    if model.ir_version < 1 or not model.HasField("graph") or not model.graph.node:
        raise ConvertError(f"'{path}' is not an ONNX model (no ir_version or no graph nodes)")
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for t in _all_tensors(model.graph):
        if uses_external_data(t):
            t.raw_data = _external_data(t, folder, path)
            t.data_location = onnx.TensorProto.DEFAULT
            del t.external_data[:]
    return model


def _all_tensors(graph: onnx.GraphProto):
    """Initializers and tensor attributes, in subgraphs too: every tensor that may hold external data."""
    yield from graph.initializer
    for n in graph.node:
        for a in n.attribute:
            if a.HasField("t"):
                yield a.t
            yield from a.tensors
            if a.HasField("g"):
                yield from _all_tensors(a.g)
            for sub in a.graphs:
                yield from _all_tensors(sub)


def _stored_bytes(t: onnx.TensorProto) -> int:
    """The bytes of raw data a tensor of its type and dims takes."""
    if any(d < 0 for d in t.dims):
        raise ValueError(f"negative dims {list(t.dims)}")
    elements = int(np.prod(list(t.dims), dtype=object))
    four_bit = {getattr(onnx.TensorProto, k) for k in ("INT4", "UINT4", "FLOAT4E2M1") if hasattr(onnx.TensorProto, k)}
    if t.data_type in four_bit:
        return (elements + 1) // 2
    if t.data_type in (onnx.TensorProto.UNDEFINED, onnx.TensorProto.STRING):
        raise ValueError(f"type {onnx.TensorProto.DataType.Name(t.data_type)} cannot be stored as external data")
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    except KeyError:
        raise ValueError(f"unknown data type {t.data_type}") from None
    return elements * itemsize


def _external_data(t: onnx.TensorProto, folder: str, model_path: str) -> bytes:
    """Reads a tensor's external data ourselves, whatever the onnx version: the location must
    resolve (symlinks included) to a regular file inside the model's folder, and the bytes at
    offset/length must be exactly what the tensor's type and dims need."""
    who = f"'{model_path}': tensor '{t.name}' stored as external data"
    info = {e.key: e.value for e in t.external_data}
    location = info.get("location", "")
    try:
        offset = int(info.get("offset", 0))
        length = None if info.get("length") is None else int(info["length"])
        needed = _stored_bytes(t)
    except ValueError as e:
        raise ConvertError(f"{who}: {e}") from None
    if not location or os.path.isabs(location):
        raise ConvertError(f"{who}: location '{location}' must be a path relative to the model's folder")
    target = os.path.realpath(os.path.join(folder, location))
    if os.path.commonpath([folder, target]) != folder:
        raise ConvertError(f"{who}: location '{location}' leads to '{target}', outside the model's "
                           f"folder '{folder}'")
    if offset < 0 or (length is not None and length != needed):
        raise ConvertError(f"{who}: offset {offset}, length {length}, but its dims {list(t.dims)} "
                           f"need {needed:,} bytes")
    # target has its symlinks resolved: one appearing there now is refused (O_NOFOLLOW)
    fd, size = _open_regular_file(target, f"a weight file (location '{location}' of tensor '{t.name}')",
                                  follow_symlinks=False)
    try:
        if offset + needed > size or (length is None and size - offset != needed):
            raise ConvertError(f"{who}: '{location}' has {size:,} bytes; the tensor needs {needed:,} bytes "
                               f"from offset {offset:,}" + ("" if length is not None else " to the end of the file"))
        data = os.pread(fd, needed, offset)
    except OSError as e:
        raise ConvertError(f"cannot read '{target}': {e.strerror}") from None
    finally:
        os.close(fd)
    if len(data) != needed:
        raise ConvertError(f"{who}: '{location}' ended early (changed while being read?)")
    return data


def default_opset(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            return int(imp.version)
    raise ConvertError("the model imports no default ('ai.onnx') opset")


def parse_input_shapes(specs: Sequence[str]) -> Dict[str, List[int]]:
    """Parses --input-shape values of the form NAME=1,3,32,32 (or 1,3,32,32 for the only input)."""
    shapes: Dict[str, List[int]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        try:
            values = [int(d) for d in dims.replace("x", ",").split(",") if d.strip()]
        except ValueError:
            values = []
        if not values or any(v < 1 for v in values):
            raise ConvertError(f"--input-shape '{spec}': expected NAME=d0,d1,... with positive integers")
        shapes[name if sep else ""] = values
    return shapes


def apply_input_shapes(model: onnx.ModelProto, shapes: Dict[str, List[int]]) -> None:
    """Sets the given static dims on graph inputs; every input dim must end up static."""
    inits = {t.name for t in model.graph.initializer}
    real_inputs = [i for i in model.graph.input if i.name not in inits]
    if "" in shapes:
        if len(real_inputs) != 1:
            raise ConvertError("--input-shape without a name needs a model with exactly one input; "
                               f"inputs are {[i.name for i in real_inputs]}")
        shapes = {real_inputs[0].name: shapes.pop("")} | shapes
    names = [i.name for i in real_inputs]
    for name in shapes:
        if name not in names:
            raise ConvertError(f"--input-shape names '{name}', which is not a model input "
                               f"(inputs: {names})")
    for inp in real_inputs:
        tt = inp.type.tensor_type
        if inp.name in shapes:
            dims = shapes[inp.name]
            if tt.HasField("shape") and len(tt.shape.dim) != len(dims):
                raise ConvertError(f"--input-shape gives {len(dims)} dims for input '{inp.name}', "
                                   f"which has rank {len(tt.shape.dim)}")
            del tt.shape.dim[:]
            for d in dims:
                tt.shape.dim.add().dim_value = d
            continue
        if not tt.HasField("shape"):
            raise ConvertError(f"input '{inp.name}' has no shape; pass --input-shape {inp.name}=...")
        for axis, d in enumerate(tt.shape.dim):
            if d.dim_value < 1:
                label = d.dim_param or "?"
                raise ConvertError(f"input '{inp.name}' has a dynamic dimension '{label}' at axis {axis}; "
                                   f"pass --input-shape {inp.name}=d0,d1,... to fix it")


def check_order(model: onnx.ModelProto) -> None:
    """Sorts the nodes topologically in place; refuses cycles and undefined tensors.

    Depth-first from each node in file order, emitting a node once the producers of its
    inputs are emitted: linear in nodes + edges, and an already sorted graph keeps its order.
    """
    g = model.graph
    available = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
    nodes = list(g.node)
    produced_by = {o: k for k, n in enumerate(nodes) for o in n.output}
    for n in nodes:
        for i in n.input:
            if i not in available and i not in produced_by:
                raise ConvertError(f"node '{n.name}' ({n.op_type}) reads tensor '{i}', which no node, "
                                   "input or initializer produces")

    def producers(k: int) -> List[int]:
        return [produced_by[i] for i in nodes[k].input if i not in available]

    UNSEEN, ON_PATH, DONE = 0, 1, 2
    state = [UNSEEN] * len(nodes)
    ordered = []
    for root in range(len(nodes)):
        if state[root] == DONE:
            continue
        state[root] = ON_PATH
        path = [(root, iter(producers(root)))]
        while path:
            k, pending = path[-1]
            dep = next(pending, None)
            if dep is None:
                path.pop()
                state[k] = DONE
                ordered.append(nodes[k])
            elif state[dep] == ON_PATH:
                on_path = [j for j, _ in path]
                cycle = on_path[on_path.index(dep):] + [dep]
                names = " -> ".join(f"'{nodes[j].name}' ({nodes[j].op_type})" for j in cycle)
                raise ConvertError(f"the graph has a cycle (each node reads an output of the next): {names}")
            elif state[dep] == UNSEEN:
                state[dep] = ON_PATH
                path.append((dep, iter(producers(dep))))
    copies = [onnx.NodeProto() for _ in ordered]
    for c, n in zip(copies, ordered):
        c.CopyFrom(n)
    del g.node[:]
    g.node.extend(copies)


def check_arity(model: onnx.ModelProto, opset: int) -> None:
    """Refuses nodes with fewer or more inputs/outputs than their ONNX schema allows
    (shape inference does not check this for every op), or an attribute whose type is not
    the schema's (e.g. float kernel_shape). Ops without a schema are left to the lowering,
    which names them as unsupported."""
    for n in model.graph.node:
        try:
            known = onnx.defs.has(n.op_type)
        except TypeError:  # an op_type that is not valid text
            known = False
        if not known:
            continue
        try:
            schema = onnx.defs.get_schema(n.op_type, opset, "")
        except onnx.defs.SchemaError:  # the op exists only in later opsets
            continue
        for kind, names, lo, hi in (("inputs", n.input, schema.min_input, schema.max_input),
                                    ("outputs", n.output, schema.min_output, schema.max_output)):
            if not lo <= len(names) <= hi:
                raise ConvertError(f"node '{n.name}' ({n.op_type}) has {len(names)} {kind}; opset {opset} "
                                   f"allows {lo}..{hi}")
        for a in n.attribute:
            spec = schema.attributes.get(a.name)
            if spec is not None and int(a.type) != int(spec.type):
                raise ConvertError(
                    f"node '{n.name}' ({n.op_type}): attribute '{a.name}' has type "
                    f"{onnx.AttributeProto.AttributeType.Name(a.type)}, opset {opset} requires "
                    f"{onnx.AttributeProto.AttributeType.Name(int(spec.type))}")


def _decode_initializers(g: onnx.GraphProto) -> Dict[str, np.ndarray]:
    consts = {}
    for t in g.initializer:
        try:
            consts[t.name] = numpy_helper.to_array(t)
        except Exception as e:  # data size/dims/type mismatch in a malformed file
            raise ConvertError(f"initializer '{t.name}' cannot be decoded: {e}") from None
    return consts


def infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:
        raise ConvertError(f"ONNX shape inference failed: {e}") from None


def _static_shapes(model: onnx.ModelProto) -> Dict[str, tuple]:
    shapes = {}
    g = model.graph
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape") and all(d.dim_value >= 1 for d in tt.shape.dim):
            shapes[vi.name] = tuple(int(d.dim_value) for d in tt.shape.dim)
    return shapes


def refuse_empty_tensors(model: onnx.ModelProto) -> None:
    """Refuses a node output with a zero dim (e.g. from a zero-size weight): the engine's
    tensors have every dim >= 1, and the lowering must not meet an empty array."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    for vi in list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if 0 in dims and vi.name in producer:
            n = producer[vi.name]
            shape = ", ".join("?" if d is None else str(d) for d in dims)
            raise ConvertError(f"node '{n.name}' ({n.op_type}): output '{vi.name}' has shape [{shape}] "
                               "with no elements (a zero-size weight or input?); the engine needs "
                               "every dimension >= 1")


def _decode_attrs(node: onnx.NodeProto) -> dict:
    attrs = {}
    for a in node.attribute:
        try:
            v = _decode_attr(a)
        except Exception as e:  # a value of the wrong type or undecodable bytes/tensor
            raise ConvertError(f"node '{node.name}' ({node.op_type}): attribute '{a.name}' cannot be "
                               f"decoded: {e}") from None
        attrs[a.name] = v
    return attrs


def _decode_attr(a: onnx.AttributeProto):
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        v = v.decode("utf-8")
    elif isinstance(v, onnx.TensorProto):
        v = numpy_helper.to_array(v)
    elif isinstance(v, (list, tuple)):
        v = [x.decode("utf-8") if isinstance(x, bytes) else x for x in v]
    return v


def remove_identities(graph: Graph) -> None:
    """Drops Identity and inference-mode Dropout by renaming their outputs to their inputs."""
    rename: Dict[str, str] = {}
    kept = []
    for n in graph.nodes:
        n.inputs = [rename.get(i, i) for i in n.inputs]
        if n.op in ("Identity", "Dropout") and n.outputs[0] not in graph.outputs:
            rename[n.outputs[0]] = n.inputs[0]
            continue
        kept.append(n)
    graph.nodes = kept
    graph.outputs = [rename.get(o, o) for o in graph.outputs]
    graph.reindex()


def simplify_to_fixed_point(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """Shape inference, constant folding and dead-node removal, repeated until the node
    count stops falling. One pass is not enough when a shape depends on a constant
    subgraph the exporter left (the option-A shortcut's pad amounts): once folded, shape
    inference knows the shape, and the Shape node reading it folds in the next pass.
    Each pass removes at least one node or ends the loop."""
    budget = FoldingBudget()         # the folding limits hold for all passes together
    while True:
        count = len(model.graph.node)
        model = fold_constants(model, _static_shapes(model), opset, budget)
        remove_dead(model)
        model = infer_shapes(model)
        if len(model.graph.node) == count:
            return model


def load_graph(path: str, input_shapes: Optional[Dict[str, List[int]]] = None) -> Graph:
    """The full front end: file → folded, shape-annotated Graph."""
    model = read_model(path)
    if model.ir_version < 4:
        # IR 3 lists every initializer among the graph inputs and shape inference ignores an
        # initializer that is not also an input; IR 4 dropped that rule and changed nothing else
        # a graph here can use. Folding removes constants from the inputs, so read it as IR 4.
        model.ir_version = 4
    opset = default_opset(model)
    for n in model.graph.node:
        if n.domain not in DEFAULT_DOMAINS:
            raise ConvertError(f"node '{n.name}' ({n.op_type}) is in domain '{n.domain}'; only the "
                               f"default ONNX domain is supported")
    apply_input_shapes(model, dict(input_shapes or {}))
    check_order(model)
    check_arity(model, opset)
    model = infer_shapes(model)
    ste = remove_ste(model)
    remove_dead(model)               # the surrogates the STE removal orphaned: never evaluated
    model = simplify_to_fixed_point(model, opset)
    refuse_empty_tensors(model)
    shapes = _static_shapes(model)

    g = model.graph
    consts = _decode_initializers(g)
    nodes = [Node(n.op_type, n.name or f"{n.op_type}_{k}", list(n.input), list(n.output), _decode_attrs(n))
             for k, n in enumerate(g.node)]
    for vi in list(g.input) + list(g.output):
        elem = vi.type.tensor_type.elem_type
        if vi.name not in consts and elem != onnx.TensorProto.FLOAT:
            raise ConvertError(f"graph input/output '{vi.name}' has element type "
                               f"{onnx.TensorProto.DataType.Name(elem)}; the engine takes and returns float32")
    inputs = [i.name for i in g.input if i.name not in consts]
    outputs = [o.name for o in g.output]
    if not outputs:
        raise ConvertError("the graph declares no outputs; the engine needs at least one")
    for o in outputs:
        if o in consts:
            raise ConvertError(f"graph output '{o}' is a constant; nothing to run")
    graph = Graph(nodes, consts, shapes, inputs, outputs, opset, ste=ste)
    remove_identities(graph)
    return graph
