"""The graph IR: an append-only list of interned nodes, so a node's index is its identity and its place
in a topological order, and structurally equal subexpressions are one node.

Nodes are built only through Graph's smart constructors, which fold constants, apply the identities in
simplify.py, and intern the result. A Program is a Graph plus what the text said about it: the inputs in
order of first appearance, the output(s), and the user's names for statements.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .ops import OPS, op
from .simplify import RULES


class Node(NamedTuple):
    """One operation: op name, input ids (all smaller than this node's id), and a leaf's payload."""

    op: str
    args: tuple[int, ...]
    value: float | str | None = None  # a constant's number or an input's name


def _key(node: Node) -> tuple[Any, ...]:
    """Interning key; constants by exact bits, so 4 == 4.0 share and 0.0, -0.0 and nan do not mix up."""
    if node.op == "const":
        return ("const", float(node.value).hex())  # type: ignore[arg-type]
    return (node.op, node.args, node.value)


class Graph:
    """An append-only DAG of interned nodes with constructors that simplify as they build."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._index: dict[tuple[Any, ...], int] = {}

    def __len__(self) -> int:
        return len(self.nodes)

    def _intern(self, node: Node) -> int:
        key = _key(node)
        found = self._index.get(key)
        if found is not None:
            return found
        self.nodes.append(node)
        self._index[key] = len(self.nodes) - 1
        return len(self.nodes) - 1

    # --- leaves ---
    def var(self, name: str) -> int:
        """The input called `name`."""
        return self._intern(Node("var", (), name))

    def const(self, value: float) -> int:
        """The constant `value` (stored as a float)."""
        return self._intern(Node("const", (), float(value)))

    def constant_value(self, i: int) -> float | None:
        """The number of node i if it is a constant, else None."""
        node = self.nodes[i]
        return node.value if node.op == "const" else None  # type: ignore[return-value]

    # --- operations ---
    def apply(self, name: str, *args: int) -> int:
        """The node `name(*args)`, constant-folded and simplified where that is exact."""
        spec = op(name)
        if len(args) != spec.arity:
            raise ValueError(f"op {name} takes {spec.arity} inputs, got {len(args)}")
        values = [self.constant_value(a) for a in args]
        if args and all(v is not None for v in values):
            folded = _fold(spec.impl, values)
            if folded is not None:
                return self.const(folded)
        for rule in RULES.get(name, ()):
            found = rule(self, args)
            if found is not None:
                return found
        return self._intern(Node(name, tuple(args)))

    def call(self, name: str, *args: int) -> int:
        """A function node by op name; same as apply, reads better in adjoint rules."""
        return self.apply(name, *args)

    def add(self, a: int, b: int) -> int:
        return self.apply("add", a, b)

    def sub(self, a: int, b: int) -> int:
        return self.apply("sub", a, b)

    def mul(self, a: int, b: int) -> int:
        return self.apply("mul", a, b)

    def div(self, a: int, b: int) -> int:
        return self.apply("div", a, b)

    def neg(self, a: int) -> int:
        return self.apply("neg", a)

    def pow(self, a: int, b: int) -> int:
        return self.apply("pow", a, b)


def _fold(impl: Any, values: list[Any]) -> float | None:
    """impl(*values) as a float when it is finite; None leaves the node for run time (and its warning)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = float(impl(*values))
        except (ArithmeticError, ValueError, TypeError):
            return None
    return result if math.isfinite(result) else None


@dataclass
class Program:
    """A graph together with what the user's text said about it."""

    graph: Graph
    outputs: tuple[int, ...]  # one id for a formula; several for a tuple of outputs
    inputs: dict[str, int]  # input name -> node id, in order of first appearance
    names: dict[int, str] = field(default_factory=dict)  # node id -> the statement name that bound it
    text: str = ""

    @property
    def output(self) -> int:
        """The single output (the last statement)."""
        return self.outputs[-1]


def live_nodes(graph: Graph, roots: list[int] | tuple[int, ...]) -> list[bool]:
    """live[i] is True when node i is needed to compute any root; one reverse sweep, no recursion."""
    live = [False] * len(graph.nodes)
    for r in roots:
        live[r] = True
    for i in range(len(graph.nodes) - 1, -1, -1):
        if live[i]:
            for a in graph.nodes[i].args:
                live[a] = True
    return live


def evaluate(graph: Graph, inputs: dict[str, Any], upto: int | None = None) -> list[Any]:
    """Every node's value (up to id `upto`), interpreted with the op table's NumPy callables.

    This is the teaching view (explain, the step-by-step tables); compiled functions run generated code.
    """
    end = len(graph.nodes) if upto is None else upto + 1
    values: list[Any] = [None] * end
    for i in range(end):
        node = graph.nodes[i]
        if node.op == "var":
            values[i] = inputs[node.value]  # type: ignore[index]
        elif node.op == "const":
            values[i] = node.value
        else:
            values[i] = OPS[node.op].impl(*(values[a] for a in node.args))
    return values


def verify(graph: Graph) -> None:
    """Raise AssertionError unless every node refers to earlier ids, arities match and keys are unique."""
    seen: set[tuple[Any, ...]] = set()
    for i, node in enumerate(graph.nodes):
        spec = op(node.op)
        assert len(node.args) == spec.arity, f"node {i}: {node.op} has {len(node.args)} inputs"
        assert all(0 <= a < i for a in node.args), f"node {i}: an input is not an earlier node"
        assert (node.value is not None) == (node.op in ("var", "const")), f"node {i}: bad payload"
        key = _key(node)
        assert key not in seen, f"node {i}: duplicate of an earlier node"
        assert graph._index[key] == i, f"node {i}: index out of step"
        seen.add(key)
