"""Identities the graph constructors apply before interning a node, each one exact.

Each rule is a small named function for one op: given the graph and the (canonically ordered) input ids it
returns the id of an equivalent node, or None to leave the node as it is. A rule is here only when its result
is bit for bit what NumPy computes on float64 arrays for the unrewritten node, at every input, signed zeros,
infinities and nan included (a nan may come back as another nan); its docstring says why. Graph.apply
takes a rule's result only when it has the node's Shape, so no rule can replace an array by a number.

Deliberately absent, because they are not exact: x*0 -> 0 (nan and inf give nan, -3*0 is -0.0), x+0 -> x
(-0.0 + 0.0 is +0.0), 0-x -> -x (0.0 - 0.0 is +0.0), c1*(c2*x) -> (c1*c2)*x in general (two roundings
become one: 3*(0.1*x) is not 0.3*x), (1/y)*x -> x/y (1/y may overflow where x/y does not).
Constant folding is in Graph.apply.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ir import Graph

SimpleRule = Callable[["Graph", tuple[int, ...]], "int | None"]
_LOOKS: dict[SimpleRule, tuple[frozenset[str], frozenset[str]]] = {}


def looks_at(first: str = "", second: str = "") -> Callable[[SimpleRule], SimpleRule]:
    """Declare when a rule can give a node: only when its first operand's op is one of `first` or its second's one
    of `second` (space-separated op names); otherwise it returns None and builds nothing. Graph.apply skips the
    rules of a node whose operands are none of these (most nodes): the same graph for fewer calls."""

    def mark(rule: SimpleRule) -> SimpleRule:
        _LOOKS[rule] = (frozenset(first.split()), frozenset(second.split()))
        return rule

    return mark


def triggers(rules: tuple[SimpleRule, ...]) -> tuple[frozenset[str], frozenset[str]] | None:
    """The operand ops under which one of `rules` can give a node (see looks_at); None when one of them may apply
    to any node."""
    first: frozenset[str] = frozenset()
    second: frozenset[str] = frozenset()
    for rule in rules:
        if rule not in _LOOKS:
            return None
        first, second = first | _LOOKS[rule][0], second | _LOOKS[rule][1]
    return first, second


def _c(b: Graph, i: int) -> float | None:
    """Node i's number if it is a constant (Graph.constant_value, read here directly: the rules ask often)."""
    node = b.nodes[i]
    return node.value if node.op == "const" else None  # type: ignore[return-value]


def _is(b: Graph, i: int, value: float) -> bool:
    """Node i is the constant `value`, sign of zero included."""
    node = b.nodes[i]
    if node.op != "const" or node.value != value:
        return False
    return math.copysign(1.0, node.value) == math.copysign(1.0, value)  # type: ignore[arg-type]


_HALF_RANGE = (2.0**-14, 65504.0)  # float16's normal numbers


def _power_of_two_at_least_one(c: float | None) -> bool:
    """|c| = 2^k with k >= 0: multiplying by it is exact until it overflows, and overflows alike."""
    if c is None or not math.isfinite(c) or c == 0.0:
        return False
    mantissa, exponent = math.frexp(abs(c))
    return mantissa == 0.5 and exponent >= 1


@looks_at(second="const")
def add_negative_zero(b: Graph, a: tuple[int, ...]) -> int | None:
    """x + (-0.0) -> x: adding -0.0 changes no number, +0.0 and -0.0 included (constants come last)."""
    return a[0] if _is(b, a[1], -0.0) else None


@looks_at(first="neg", second="neg const")
def add_negative(b: Graph, a: tuple[int, ...]) -> int | None:
    """x + (-y) -> x - y and x + (-c) -> x - c: IEEE defines x - y as x + (-y), so this is the same number."""
    left, right = b.nodes[a[0]], b.nodes[a[1]]
    if right.op == "neg":
        return b.sub(a[0], right.args[0])
    if left.op == "neg":
        return b.sub(a[1], left.args[0])
    c = _c(b, a[1])
    if c is not None and math.copysign(1.0, c) < 0 and not math.isnan(c):
        return b.sub(a[0], b.const(-c))
    return None


@looks_at(first="const", second="const")
def sub_zero(b: Graph, a: tuple[int, ...]) -> int | None:
    """x - 0.0 -> x (it is x + (-0.0)); -0.0 - x -> -x (it is -0.0 + (-x), which is -x)."""
    if _is(b, a[1], 0.0):
        return a[0]
    return b.neg(a[1]) if _is(b, a[0], -0.0) else None


@looks_at(second="neg const")
def sub_negative(b: Graph, a: tuple[int, ...]) -> int | None:
    """x - (-y) -> x + y and x - (-c) -> x + c: the same IEEE operation."""
    right = b.nodes[a[1]]
    if right.op == "neg":
        return b.add(a[0], right.args[0])
    c = _c(b, a[1])
    if c is not None and math.copysign(1.0, c) < 0 and not math.isnan(c):
        return b.add(a[0], b.const(-c))
    return None


@looks_at(first="const")
def mul_one(b: Graph, a: tuple[int, ...]) -> int | None:
    """1 * x -> x and -1 * x -> -x: exact for every x (constants come first in a product)."""
    if _is(b, a[0], 1.0):
        return a[1]
    return b.neg(a[1]) if _is(b, a[0], -1.0) else None


@looks_at(first="neg", second="neg")
def mul_negatives(b: Graph, a: tuple[int, ...]) -> int | None:
    """(-x) * y -> -(x * y), c * (-y) -> (-c) * y: rounding is symmetric in sign, so signs move freely.

    Signs go out of products of arrays (so they cancel) and into a constant factor (so they cost nothing).
    """
    left, right = b.nodes[a[0]], b.nodes[a[1]]
    c = _c(b, a[0])
    if c is not None and right.op == "neg":
        return b.mul(b.const(-c), right.args[0])
    if left.op == "neg":
        return b.neg(b.mul(left.args[0], a[1]))
    if right.op == "neg":
        return b.neg(b.mul(a[0], right.args[0]))
    return None


@looks_at(first="const")
def mul_constants(b: Graph, a: tuple[int, ...]) -> int | None:
    """c1 * (c2 * x) -> (c1*c2) * x when c1 and c2 are both +-2^k, k >= 0.

    Multiplying by such a number is exact (a shift of the exponent) until it overflows, and the product
    overflows exactly when one of the steps would, so both sides are the same number. Other constants are
    left alone: 3*(0.1*x) rounds twice, 0.3*x once; but with exact=False any two combine, and in the reverse
    pass (Graph.reverse: a gradient's last bit is the compiler's, 2*(-200*t) is -400*t) any two that, with
    their product, are normal float16 numbers, so that a float16 or float32 array meets no constant that
    overflows or loses digits where the two did not.
    """
    c1 = _c(b, a[0])
    inner = b.nodes[a[1]]
    if inner.op != "mul" or c1 is None:
        return None
    c2 = _c(b, inner.args[0])
    if c2 is None:
        return None
    if not b.exact and math.isfinite(c1 * c2) and c1 * c2 != 0.0:  # exact=False: one rounding for two
        return b.mul(b.const(c1 * c2), inner.args[1])
    if b.reverse and all(_HALF_RANGE[0] <= abs(c) <= _HALF_RANGE[1] for c in (c1, c2, c1 * c2)):
        return b.mul(b.const(c1 * c2), inner.args[1])  # a gradient: one rounding, and no new overflow
    if not (_power_of_two_at_least_one(c1) and _power_of_two_at_least_one(c2)):
        return None
    return b.mul(b.const(c1 * c2), inner.args[1])


@looks_at(second="const")
def div_one(b: Graph, a: tuple[int, ...]) -> int | None:
    """x / 1 -> x and x / -1 -> -x (0 / x stays: it is nan at x = 0)."""
    if _is(b, a[1], 1.0):
        return a[0]
    return b.neg(a[0]) if _is(b, a[1], -1.0) else None


@looks_at(first="neg")
def div_negative(b: Graph, a: tuple[int, ...]) -> int | None:
    """(-x) / y -> -(x / y): rounding is symmetric in sign."""
    left = b.nodes[a[0]]
    return b.neg(b.div(left.args[0], a[1])) if left.op == "neg" else None


@looks_at(first="neg")
def neg_neg(b: Graph, a: tuple[int, ...]) -> int | None:
    """--x -> x."""
    inner = b.nodes[a[0]]
    return inner.args[0] if inner.op == "neg" else None


@looks_at(first="mul div")
def neg_constant_factor(b: Graph, a: tuple[int, ...]) -> int | None:
    """-(c * x) -> (-c) * x and -(c / x) -> (-c) / x: the sign rides on the constant for free."""
    inner = b.nodes[a[0]]
    if inner.op in ("mul", "div"):
        c = _c(b, inner.args[0])
        if c is not None:
            return b.apply(inner.op, b.const(-c), inner.args[1])
    return None


@looks_at(second="const")
def pow_special(b: Graph, a: tuple[int, ...]) -> int | None:
    """The exponents NumPy's array power itself computes another way, so these are its very bits:
    x^2 -> x*x (np.square), x^-1 -> 1/x (np.reciprocal), x^0.5 -> sqrt(x) (np.sqrt: -0.0 at -0.0, nan at
    -inf, where C's pow gives 0.0 and inf); and x^1 -> x, x^0 -> 1 (pow(nan, 0) is 1; taken only for a
    number, by the Shape check). As graph nodes, x*x is shared with every other use of it. Not exact, so only
    with exact=False: whole powers by products. (Not in a gradient either: x * x * x of an int8 array wraps
    where np.power(x, 3.0) is float64.)
    """
    c = _c(b, a[1])
    if c == 1.0:
        return a[0]
    if c == 0.0:
        return b.const(1.0)
    if c == 2.0:
        return b.mul(a[0], a[0])
    if c == -1.0:
        return b.div(b.const(1.0), a[0])
    if c == 0.5:
        return b.call("sqrt", a[0])
    if not b.exact and c is not None and c == int(c) and 5 <= abs(c) <= MAX_POWER_BY_PRODUCTS:
        return _by_squaring(b, a[0], int(c))
    return None


# With exact=False, x^n for a whole n from 5 up to this (and x^-n) is built from products, shared by
# hash-consing: x^5 = ((x*x)*(x*x))*x (x^3 and x^4 print as products instead: ops.power_by_products).
# NumPy's array power calls pow for these (C's pow: 10-100x a multiplication); products round once per
# multiplication, so the result may differ from np.power in the last bit.
MAX_POWER_BY_PRODUCTS = 16


def _by_squaring(b: Graph, x: int, n: int) -> int:
    """x^n (|n| >= 2) as products by repeated squaring, 1/x^|n| for a negative n."""
    k, result, square = abs(n), None, x
    while k:
        if k & 1:
            result = square if result is None else b.mul(result, square)
        k >>= 1
        if k:
            square = b.mul(square, square)
    assert result is not None
    return result if n > 0 else b.div(b.const(1.0), result)


def number_factors(b: Graph, g: int, most: int = 8) -> tuple[int, int | None]:
    """g as (array product, number) when g is a product (mul nodes looked through, up to `most` factors) with
    factors that are Python numbers, one of them computed (a mean's 1/n): the reverse pass sums the array product
    and scales the sum, a multiplication of one number in place of an array pass. Not exact, so not a RULE:
    for gradients only, whose order of summing is the compiler's choice. (g, None) otherwise; constant factors
    stay where they are, so a product shared with another gradient stays one node."""
    if b.shapes[g].is_number:
        return g, None
    arrays: list[int] = []
    numbers: list[int] = []
    todo, negated = [g], False
    while todo:
        i = todo.pop()
        op = b.nodes[i].op
        if b.shapes[i].is_number:
            numbers.append(i)
        elif op == "neg":  # -(t * c): the sign goes with the number
            negated = not negated
            todo.append(b.nodes[i].args[0])
        elif op == "mul" and len(arrays) + len(numbers) + len(todo) < most:
            todo += reversed(b.nodes[i].args)
        else:
            arrays.append(i)
    if all(b.nodes[n].op == "const" for n in numbers) or not all(python_number(b, n) for n in numbers):
        return g, None
    inner, scale = arrays[0], numbers[0]
    for f in arrays[1:]:
        inner = b.mul(inner, f)
    for f in numbers[1:]:
        scale = b.mul(scale, f)
    return inner, b.neg(scale) if negated else scale


_ARITHMETIC = ("const", "size", "add", "sub", "mul", "div", "neg")  # what a Python number is made with


def python_number(b: Graph, n: int, most: int = 16) -> bool:
    """Node n is built from constants and sizes alone (+ - * /): a Python number at run time, which leaves an
    array's dtype as it is (a float32 gradient stays float32), unlike a NumPy scalar or 0-d array would.
    (Also inplace.py's test for `t *= c`.)"""
    op = b.nodes[n].op
    if op not in _ARITHMETIC or op == "const":  # the usual answers, without the walk
        return op == "const"
    todo = [n]
    while todo:
        node = b.nodes[todo.pop()]
        if node.op not in _ARITHMETIC or len(todo) > most:
            return False
        if node.args and all(b.nodes[a].op == "const" for a in node.args):
            return False  # left by folding (1/0): printed over np.float64 constants (codegen), a NumPy float
        if node.op != "size":
            todo += node.args
    return True


def pos_identity(b: Graph, a: tuple[int, ...]) -> int | None:
    """+x -> x."""
    return a[0]


RULES: dict[str, tuple[SimpleRule, ...]] = {
    "add": (add_negative_zero, add_negative),
    "sub": (sub_zero, sub_negative),
    "mul": (mul_one, mul_negatives, mul_constants),
    "div": (div_one, div_negative),
    "neg": (neg_neg, neg_constant_factor),
    "pow": (pow_special,),
    "pos": (pos_identity,),
}
