"""Algebraic identities the graph constructors apply before interning a node.

Each rule is a small named function for one op: given the graph and the input ids it returns the id of an
equivalent existing or simpler node, or None to leave the node as it is. Only identities that hold exactly
in IEEE arithmetic for every finite input are here (x*0 -> 0 is the one that needs "finite"); nothing that
reorders sums or products, since that would change rounding. Constant folding is in Graph.apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ir import Graph

SimpleRule = Callable[["Graph", tuple[int, ...]], "int | None"]


def _is(b: Graph, i: int, value: float) -> bool:
    return b.constant_value(i) == value


def add_zero(b: Graph, a: tuple[int, ...]) -> int | None:
    """x + 0 -> x and 0 + x -> x."""
    if _is(b, a[1], 0.0):
        return a[0]
    return a[1] if _is(b, a[0], 0.0) else None


def add_negative(b: Graph, a: tuple[int, ...]) -> int | None:
    """x + (-y) -> x - y, (-x) + y -> y - x, x + (-c) -> x - c: the same number, read as meant."""
    left, right = b.nodes[a[0]], b.nodes[a[1]]
    if right.op == "neg":
        return b.sub(a[0], right.args[0])
    if left.op == "neg":
        return b.sub(a[1], left.args[0])
    c = b.constant_value(a[1])
    if c is not None and c < 0:
        return b.sub(a[0], b.const(-c))
    return None


def sub_zero(b: Graph, a: tuple[int, ...]) -> int | None:
    """x - 0 -> x and 0 - x -> -x."""
    if _is(b, a[1], 0.0):
        return a[0]
    return b.neg(a[1]) if _is(b, a[0], 0.0) else None


def sub_negative(b: Graph, a: tuple[int, ...]) -> int | None:
    """x - (-y) -> x + y."""
    right = b.nodes[a[1]]
    return b.add(a[0], right.args[0]) if right.op == "neg" else None


def mul_one_zero(b: Graph, a: tuple[int, ...]) -> int | None:
    """x * 1 -> x, 1 * x -> x, x * 0 -> 0 (finite x), x * -1 -> -x."""
    for this, other in ((a[1], a[0]), (a[0], a[1])):
        c = b.constant_value(this)
        if c == 1.0:
            return other
        if c == 0.0:
            return b.const(0.0)
        if c == -1.0:
            return b.neg(other)
    return None


def mul_negatives(b: Graph, a: tuple[int, ...]) -> int | None:
    """(-x) * y -> -(x * y) and x * (-y) -> -(x * y): pulls signs outward so they can cancel."""
    left, right = b.nodes[a[0]], b.nodes[a[1]]
    if left.op == "neg":
        return b.neg(b.mul(left.args[0], a[1]))
    if right.op == "neg":
        return b.neg(b.mul(a[0], right.args[0]))
    return None


def mul_constants(b: Graph, a: tuple[int, ...]) -> int | None:
    """c1 * (c2 * x) -> (c1*c2) * x: one multiply fewer, within an ulp; kept only when c1*c2 is normal."""
    c1 = b.constant_value(a[0])
    inner = b.nodes[a[1]]
    if c1 is None or inner.op != "mul":
        return None
    c2 = b.constant_value(inner.args[0])
    if c2 is None:
        return None
    c = c1 * c2
    if c == 0.0 or abs(c) < 2.2250738585072014e-308 or abs(c) == float("inf"):
        return None
    return b.mul(b.const(c), inner.args[1])


def mul_reciprocal(b: Graph, a: tuple[int, ...]) -> int | None:
    """(1/y) * x -> x / y and x * (1/y) -> x / y: one operation instead of two (within an ulp)."""
    for this, other in ((a[0], a[1]), (a[1], a[0])):
        node = b.nodes[this]
        if node.op == "div" and b.constant_value(node.args[0]) == 1.0:
            return b.div(other, node.args[1])
    return None


def div_one(b: Graph, a: tuple[int, ...]) -> int | None:
    """x / 1 -> x (0 / x stays: it is nan at x = 0)."""
    return a[0] if _is(b, a[1], 1.0) else None


def div_negative(b: Graph, a: tuple[int, ...]) -> int | None:
    """(-x) / y -> -(x / y)."""
    left = b.nodes[a[0]]
    return b.neg(b.div(left.args[0], a[1])) if left.op == "neg" else None


def neg_neg(b: Graph, a: tuple[int, ...]) -> int | None:
    """--x -> x."""
    inner = b.nodes[a[0]]
    return inner.args[0] if inner.op == "neg" else None


def pow_simple(b: Graph, a: tuple[int, ...]) -> int | None:
    """x^1 -> x, x^0 -> 1 (IEEE pow gives 1 even for nan), x^0.5 -> sqrt(x)."""
    c = b.constant_value(a[1])
    if c == 1.0:
        return a[0]
    if c == 0.0:
        return b.const(1.0)
    if c == 0.5:
        return b.call("sqrt", a[0])
    return None


def pos_identity(b: Graph, a: tuple[int, ...]) -> int | None:
    """+x -> x."""
    return a[0]


RULES: dict[str, tuple[SimpleRule, ...]] = {
    "add": (add_zero, add_negative),
    "sub": (sub_zero, sub_negative),
    "mul": (mul_one_zero, mul_negatives, mul_constants, mul_reciprocal),
    "div": (div_one, div_negative),
    "neg": (neg_neg,),
    "pow": (pow_simple,),
    "pos": (pos_identity,),
}
