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

    def describe(self) -> str:
        return f"node '{self.name}' ({self.op})"


@dataclass
class Graph:
    nodes: List[Node]
    consts: Dict[str, np.ndarray]
    shapes: Dict[str, Tuple[int, ...]]
    inputs: List[str]
    outputs: List[str]
    opset: int

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
