"""The converter's working form of an ONNX graph.

After loading and constant folding (load.py, fold.py) a model becomes a Graph:
the nodes that compute on activations, in topological order, with decoded
attributes; every constant as a numpy array; and the static shape of every
tensor. The pattern matchers and the lowering read this; they never touch
protobuf.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np


class ConvertError(Exception):
    """The model cannot be converted; the message says which node and why."""


@dataclass
class Node:
    op: str
    name: str
    inputs: List[str]          # "" marks an absent optional input
    outputs: List[str]
    attrs: Dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # protobuf hands out bytes for strings that are not valid UTF-8
        for text in [self.op, self.name] + list(self.inputs) + list(self.outputs):
            if not isinstance(text, str):
                raise ConvertError(f"a {self.op!r} node has a name or tensor name that is not valid "
                                   f"UTF-8: {text!r}")

    def describe(self) -> str:
        return f"node '{self.name}' ({self.op})"

    def ints(self, key: str, default: List[int]) -> List[int]:
        """An integer-list attribute, or `default` when absent; anything else is an error."""
        value = self.attrs.get(key, default)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) for v in value):
            raise ConvertError(f"{self.describe()}: attribute '{key}' must be a list of integers, "
                               f"got {value!r}")
        return [int(v) for v in value]


@dataclass
class Graph:
    nodes: List[Node]
    consts: Dict[str, np.ndarray]
    shapes: Dict[str, Tuple[int, ...]]
    inputs: List[str]
    outputs: List[str]
    opset: int
    # STE results replaced by their forward value: replaced tensor name -> that value's name
    ste: Dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        """Recomputes producer/consumer maps after the node list changed."""
        self.producer: Dict[str, Node] = {}
        self.consumers: Dict[str, List[Node]] = {}
        for n in self.nodes:
            for o in n.outputs:
                self.producer[o] = n
            for i in n.inputs:
                if i:
                    self.consumers.setdefault(i, []).append(n)

    def users(self, name: str) -> List[Node]:
        return self.consumers.get(name, [])

    def sole_user(self, name: str) -> Optional[Node]:
        """The only consumer of `name`, if it has exactly one and is not a graph output."""
        users = self.users(name)
        if len(users) == 1 and name not in self.outputs:
            return users[0]
        return None

    def const(self, name: str) -> Optional[np.ndarray]:
        return self.consts.get(name) if name else None

    def shape(self, name: str) -> Tuple[int, ...]:
        if name in self.consts:
            return tuple(self.consts[name].shape)
        if name not in self.shapes:
            node = self.producer.get(name)
            where = node.describe() if node else "graph input"
            raise ConvertError(f"the shape of tensor '{name}' (output of {where}) is unknown after "
                               f"shape inference; pass --input-shape to make every dimension static")
        return self.shapes[name]
