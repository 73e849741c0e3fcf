"""The graph IR: an append-only list of interned nodes, so a node's index is its identity and its place
in a topological order, and structurally equal subexpressions are one node.

Nodes are built only through Graph's smart constructors, which fold constants, apply the identities in
simplify.py, and intern the result. Each node carries its parameters (in its key) and its Shape, computed by
the op's shape rule as it is interned. A Program is a Graph plus what the text said about it: the inputs in
order of first appearance, the output(s), and the user's names for statements.
"""

from __future__ import annotations

import functools
import math
import operator
import warnings
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, NamedTuple

import numpy as np

from . import dims as D
from .ops import LIKE, MAP, OPS, REDUCE, SUM_TO, TENSOR, VARIADIC, op
from .shapes import MAX_TRACKED, NUMBER, OWN, UNTRACKED, NewDims, Shape
from .simplify import RULES, number_factors, triggers


class Node(NamedTuple):
    """One operation: op name, input ids (all smaller than this node's id), a leaf's payload, parameters."""

    op: str
    args: tuple[int, ...]
    value: float | str | None = None  # a constant's number or an input's name
    params: tuple[Any, ...] = ()  # hashable op parameters (sum_to: how many inputs give the target shape, and
    # the first node of the shape it sums over, which the reverse pass spreads its adjoint over again)


def _key(node: Node) -> tuple[Any, ...]:
    """Interning key; constants by exact bits (float.hex), so 4 == 4.0 share, 0.0 and -0.0 do not, and every nan
    is one node (unlike a float key: nan != nan)."""
    if node.op == "const":
        return ("const", float(node.value).hex())  # type: ignore[arg-type]
    return (node.op, node.args, node.value, node.params)


class Graph:
    """An append-only DAG of interned nodes with constructors that simplify as they build."""

    def __init__(self, declared: dict[str, D.Dims] | None = None, exact: bool = True) -> None:
        self.declared = dict(declared or {})  # input name -> its declared dimensions
        self.exact = exact  # False: the rewrites that may change the last bit are allowed too (simplify.py)
        self.reverse = False  # True while the reverse pass builds adjoints: their last bit is the compiler's
        self.named: dict[int, str] = {}  # node -> its statement's name: the reverse pass keeps their adjoints
        self.nodes: list[Node] = []
        self.shapes: list[Shape] = []
        self._index: dict[tuple[Any, ...], int] = {}
        self._first: dict[int, int] = {}  # id of each Shape (one object per shape) -> its first node
        self._unions: dict[frozenset[int], Shape] = {}  # one Shape object per set of inputs
        self._pairs: dict[tuple[int, int], Shape] = {}  # (id, id) of two operands' Shapes -> the result's
        self._by_dims: dict[D.Dims, Shape] = {(): NUMBER}  # one Shape object per known dims
        self._consts: dict[float, int] = {}  # constant -> its node, for the numbers other than zeros and nan

    def __len__(self) -> int:
        return len(self.nodes)

    def _intern(self, node: Node, shape: Shape, key: tuple[Any, ...] | None = None) -> int:
        key = _key(node) if key is None else key
        found = self._index.get(key)
        if found is not None:
            return found
        self.nodes.append(node)
        i = len(self.nodes) - 1
        if type(shape) is NewDims:
            dims = shape.dims  # type: ignore[attr-defined]
            shape = self._by_dims.get(dims) or self._by_dims.setdefault(dims, Shape(frozenset({i}), i, dims))
        elif shape is UNTRACKED:
            shape = Shape(None, i)
        elif shape is OWN:
            shape = Shape(frozenset({i}), i)
        self.shapes.append(shape)
        self._first.setdefault(id(shape), i)
        self._index[key] = i
        return i

    def var(self, name: str) -> int:
        """The input called `name`."""
        found = self._index.get(("var", (), name, ()))
        if found is not None:
            return found
        dims = self.declared.get(name)
        if dims is not None:
            return self._intern(Node("var", (), name), self._dims_shape(dims))
        return self._intern(Node("var", (), name), Shape(frozenset({len(self.nodes)})))

    def _dims_shape(self, dims: D.Dims) -> Shape:
        """The Shape of known dims: the one object for them, or the marker that makes it at interning."""
        return self._by_dims.get(dims) or NewDims(dims)  # type: ignore[return-value]

    def dims(self, i: int) -> D.Dims | None:
        """Node i's dimensions when known (every input it depends on declared), else None."""
        return self.shapes[i].dims

    def rank(self, i: int) -> int | None:
        """Node i's number of axes when known."""
        return None if self.shapes[i].dims is None else len(self.shapes[i].dims)  # type: ignore[arg-type]

    def const(self, value: float) -> int:
        """The constant `value` (stored as a float)."""
        value = float(value)
        found = self._consts.get(value)
        if found is None:
            found = self._intern(Node("const", (), value), NUMBER)
            if value and value == value:  # not 0.0, -0.0 or nan: the number alone fixes the bits, so it is a key
                self._consts[value] = found
        return found

    def constant_value(self, i: int) -> float | None:
        """The number of node i if it is a constant, else None."""
        return self.nodes[i].value if self.nodes[i].op == "const" else None  # type: ignore[return-value]

    def shape_of(self, name: str, args: tuple[int, ...], params: tuple[Any, ...] = ()) -> Shape:
        """The Shape of name(*args) by the op's shape rule."""
        spec = OPS[name]
        rule = spec.shape
        if rule == REDUCE:
            return NUMBER
        if rule == TENSOR:
            dims = spec.infer(self, args, params)  # type: ignore[misc]
            if type(dims) is int:  # the Shape of that operand
                return self.shapes[args[dims]]
            return OWN if dims is None else self._dims_shape(dims)  # type: ignore[arg-type]
        if rule == SUM_TO:
            if len(params) > 2:  # summed along known axes to the shape of node params[2]
                return self.shapes[params[2]]
            args = args[1 : 1 + params[0]]
        elif rule == LIKE:
            args = args[1:]
        if not args:
            return NUMBER
        shapes = self.shapes
        best = shapes[args[0]]
        if len(args) == 2:  # the usual case, answered once per pair of Shapes
            other = shapes[args[1]]
            pair = (id(best), id(other))
            found = self._pairs.get(pair)
            if found is None:
                found = self._pairs[pair] = self._broadcast([best, other])
            return found
        return self._broadcast([shapes[a] for a in args])

    def _broadcast(self, shapes: list[Shape]) -> Shape:
        """The Shape of an elementwise op of operands of these Shapes."""
        best = shapes[0]
        for other in shapes[1:]:  # one input's shape holds all the others' (the usual case): the result has that shape
            if other is best or other is NUMBER:
                continue
            if best is NUMBER:
                best = other
                continue
            if other.within(best):
                continue
            if best.within(other):
                best = other
                continue
            return self._union(shapes)
        return best

    def _union(self, shapes: list[Shape]) -> Shape:
        """The Shape broadcasting from every input of `shapes`, one object per set of inputs (or per dims)."""
        inputs: frozenset[int] = frozenset()
        known = True  # every operand's dims are known
        for sh in shapes:
            if sh.inputs is None:
                return UNTRACKED
            inputs |= sh.inputs
            known = known and sh.dims is not None
        if known:
            return self._dims_shape(D.broadcast([sh.dims for sh in shapes]))  # type: ignore[misc]
        if len(inputs) > MAX_TRACKED:
            return UNTRACKED
        found = self._unions.get(inputs)
        if found is None:
            found = self._unions[inputs] = Shape(inputs)
        return found

    def apply(self, name: str, *args: int, params: tuple[Any, ...] = ()) -> int:
        """The node `name(*args)`, constant-folded and simplified where that is exact (simplify.py).

        A rewrite is taken only when its result has the node's Shape: an identity never drops an array.
        """
        spec = OPS.get(name) or op(name)
        _spec, arity, commutative, shape_rule, rules, looks = _INFO.get(id(spec)) or _info(spec)
        if arity != VARIADIC and len(args) != arity:
            raise ValueError(f"op {name} takes {arity} inputs, got {len(args)}")
        nodes = self.nodes
        if commutative:  # constants first in a product and last in a sum, else by id
            c0, c1 = nodes[args[0]].op == "const", nodes[args[1]].op == "const"
            if (c0 == c1 and args[1] < args[0]) or (c0 != c1 and c1 == (name == "mul")):
                args = (args[1], args[0])
        key = (name, args, None, params)  # the interning key (_key): the node's own fields
        found = self._index.get(key)  # built before, when the rules gave nothing (in reverse they might now: it stands)
        if found is not None:
            return found
        if args and (shape_rule == MAP or shape_rule == REDUCE):
            for a in args:
                if nodes[a].op != "const":
                    break
            else:
                folded = _fold(spec.impl, [nodes[a].value for a in args])
                if folded is not None:
                    return self.const(folded)
        shapes = self.shapes
        if shape_rule == MAP and len(args) == 1:  # the usual cases, inline: one operand, or a pair
            shape = shapes[args[0]]
        elif shape_rule == MAP and len(args) == 2:  # shape_of's answer, once per pair (a Shape is never false)
            s0, s1 = shapes[args[0]], shapes[args[1]]
            if s0 is s1 or s1 is NUMBER:
                shape = s0
            elif s0 is NUMBER:
                shape = s1
            elif s0.inputs is None or s1.inputs is None:  # an untracked Shape is its node's alone: not worth a pair
                shape = UNTRACKED
            else:
                pair = (id(s0), id(s1))
                shape = self._pairs.get(pair) or self._pairs.setdefault(pair, self._broadcast([s0, s1]))
        else:
            shape = self.shape_of(name, args, params)
        if rules and (
            looks is None or nodes[args[0]].op in looks[0] or (len(args) > 1 and nodes[args[1]].op in looks[1])
        ):
            for rule in rules:
                found = rule(self, args)
                if found is not None and shapes[found] is shape:  # Shapes are one object each (see _union)
                    return found
            found = self._index.get(key)  # a rule's work may have built this very node
            if found is not None:
                return found
        if shape is UNTRACKED or shape is OWN or type(shape) is NewDims:  # a Shape made with the node
            return self._intern(_node(key), shape, key)
        i = len(nodes)
        nodes.append(_node(key))
        shapes.append(shape)
        self._first.setdefault(id(shape), i)
        self._index[key] = i
        return i

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

    def sources(self, i: int) -> list[int]:
        """Nodes whose shapes broadcast to node i's: the inputs of its Shape, or node i itself if untracked."""
        inputs = self.shapes[i].inputs
        return [i] if inputs is None else sorted(inputs)

    def size_of(self, i: int) -> int:
        """The number of elements of node i, as a node over the inputs it broadcasts from (1 for a number)."""
        inputs = self.sources(i)
        return self.apply("size", *inputs) if inputs else self.const(1.0)

    def broadcast_like(self, g: int, like: int) -> int:
        """Node g (whose Shape is within node `like`'s) as an array of exactly like's shape."""
        if self.shapes[g] is self.shapes[like] or self.shapes[g] == self.shapes[like]:
            return g
        return self.apply("like", g, *self.sources(like))

    def held(self, i: int) -> int:
        """The node whose value node i passes on, through the reverse pass's sums back to a shape (sum_to,
        like): what a reader of an adjoint sees, and what a returned gradient may be the very array of."""
        while self.nodes[i].op in ("sum_to", "like"):
            i = self.nodes[i].args[0]
        return i

    def sum_to(self, g: int, like: int, over: int) -> int:
        """Adjoint g of a use spread over node `over`'s shape, summed to `like`'s (simplify.number_factors)."""
        if self.shapes[over].within(self.shapes[like]):
            return g
        g, scale = number_factors(self, g)
        space = self._first[id(self.shapes[over])]
        dims, like_dims = self.shapes[g].dims, self.shapes[like].dims
        if dims is not None and like_dims is not None and dims == self.shapes[over].dims:  # known axes: g alone
            total = self.apply("sum_to", g, params=(0, space, self._first[id(self.shapes[like])]))
        else:
            k = self.sources(like)
            total = self.apply("sum_to", g, *k, *self.sources(over), params=(len(k), space))
        return total if scale is None else self.mul(total, scale)


_node = functools.partial(tuple.__new__, Node)  # Node(*fields) without NamedTuple's Python-level __new__

# Op record (by id; OPS entries may be replaced) -> (it, arity, commutative, shape rule, rules, their triggers).
_INFO: dict[int, tuple[Any, ...]] = {}


def _info(spec: Any) -> tuple[Any, ...]:
    """What Graph.apply reads of an op record, once per record (simplify.triggers: when its rules can apply)."""
    rules = RULES.get(spec.name, ())
    info = _INFO[id(spec)] = (spec, spec.arity, spec.commutative, spec.shape, rules, triggers(rules))
    return info


_NP = (np.add, np.subtract, np.multiply, np.true_divide, np.negative)
_PLAIN: dict[Any, Any] = dict(zip(_NP, (operator.add, operator.sub, operator.mul, operator.truediv, operator.neg)))


def _fold(impl: Any, values: list[Any]) -> float | None:
    """impl(*values) as a float when it is finite; None leaves the node for run time (and its warning)."""
    try:
        if impl in _PLAIN:  # Python's float arithmetic is IEEE's, NumPy's bits, without its error-state machinery
            result = _PLAIN[impl](*values)
        else:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = float(impl(*values))
    except (ArithmeticError, ValueError, TypeError):  # x/0 included, where NumPy gives inf or nan: left for run time
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
    shapes: dict[str, Any] = field(default_factory=dict)  # input shapes given beside the text (compile's shapes=)

    @property
    def declared(self) -> dict[str, Any]:
        """Every input's declared dims, from the text and from `shapes`."""
        return self.graph.declared

    @property
    def matrix(self) -> bool:
        """True for a matrix formula (a matrix op, or a declared array shape): its inputs are arrays, and its
        higher derivatives are over every element of each input."""
        if any(len(dims) for dims in self.graph.declared.values()):
            return True
        return any(OPS[node.op].matrix for node in self.graph.nodes)

    @property
    def output(self) -> int:
        """The single output (the last statement)."""
        return self.outputs[-1]


def live_nodes(graph: Graph, roots: list[int] | tuple[int, ...]) -> list[bool]:
    """live[i] is True when node i is needed to compute any root; one reverse sweep, no recursion."""
    nodes = graph.nodes
    live = [False] * len(nodes)
    for r in roots:
        live[r] = True
    for i in compress(range(len(nodes) - 1, -1, -1), reversed(live)):  # reads live[i] as it reaches i: set by now
        for a in nodes[i].args:
            live[a] = True
    return live


def verify(graph: Graph) -> None:
    """Raise AssertionError unless every node refers to earlier ids, arities match and keys are unique."""
    seen: set[tuple[Any, ...]] = set()
    for i, node in enumerate(graph.nodes):
        spec = op(node.op)
        assert spec.arity in (VARIADIC, len(node.args)), f"node {i}: {node.op} has {len(node.args)} inputs"
        assert all(0 <= a < i for a in node.args), f"node {i}: an input is not an earlier node"
        assert (node.value is not None) == (node.op in ("var", "const")), f"node {i}: bad payload"
        key = _key(node)
        assert key not in seen, f"node {i}: duplicate of an earlier node"
        assert graph._index[key] == i, f"node {i}: index out of step"
        if node.op != "var":
            shape = graph.shape_of(node.op, node.args, node.params)
            if type(shape) is NewDims:
                shape = graph._by_dims[shape.dims]  # type: ignore[attr-defined]
            elif shape is UNTRACKED:
                shape = Shape(None, i)
            elif shape is OWN:
                shape = Shape(frozenset({i}), i)
            assert graph.shapes[i] == shape, f"node {i}: shape out of step"
        seen.add(key)
