"""symgraph's value is NumPy's value: random formulas over every op, evaluated term by term with NumPy.

The reference below walks the formula's own tree and applies NumPy's function for each operation, with no
rewriting of any kind, on float64 arrays (np.power for every power). symgraph's answer must be the same bits,
or both nan. Inputs are arrays of broadcasting shapes and plain numbers, and the points include signed
zeros, tiny and huge numbers, inf and nan. The examples from the issue that found wrong answers are pinned
one by one at the end.
"""

from __future__ import annotations

import math
import random
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph
from symgraph.ops import OPS

# The documented meaning of each op, written with NumPy directly (not symgraph's op table).
NUMPY: dict[str, Any] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "neg": np.negative,
    "pow": np.power,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "cbrt": np.cbrt,
    "abs": np.abs,
    "sign": np.sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "heaviside": np.heaviside,
    "atan2": np.arctan2,
    "hypot": np.hypot,
    "max": np.maximum,
    "min": np.minimum,
    "sigmoid": lambda a: np.exp(-np.logaddexp(0.0, -a)),
    "softplus": lambda a: np.logaddexp(0.0, a),
    "log_sigmoid": lambda a: -np.logaddexp(0.0, -a),
    "relu": lambda a: np.maximum(a, 0.0),
    "sum": np.sum,
    "mean": np.mean,
}
INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}
ARITHMETIC = [*INFIX, "neg"]
USER_OPS = sorted(name for name, op in OPS.items() if op.user and op.arity >= 1 and not op.matrix)
# Constants that make identities tempting: zeros of both signs, ones, powers of two, the special exponents.
CONSTANTS = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0, 0.1, 4.0, 1e300, 1e-300, 5e-324, 0.3]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e308, -1e308, 1e-310, 5e-324, math.inf, -math.inf, math.nan, 7.0, -3.0]
NAMES = ("x", "y", "w")
SHAPES = {"x": (4,), "y": (1, 4), "w": ()}  # x and y broadcast to (1, 4); w is one number


def test_every_user_op_is_in_the_reference() -> None:
    assert set(USER_OPS) == set(NUMPY)


def random_formula(rng: random.Random, size: int) -> tuple[str, Any]:
    """(text, tree): a tree is a name, a float, or (op, children); the text spells it fully parenthesised."""
    pool: list[tuple[str, Any]] = [(n, n) for n in NAMES]
    for _ in range(size):
        op = rng.choice(ARITHMETIC if rng.random() < 0.6 else USER_OPS)  # where the tempting identities are
        args: list[tuple[str, Any]] = []
        for _k in range(OPS[op].arity):
            if rng.random() < 0.3:
                c = rng.choice(CONSTANTS)
                args.append((f"({c!r})" if math.copysign(1.0, c) < 0 else repr(c), c))
            else:  # mostly the newest results, so the formula grows as one expression over the inputs
                args.append(rng.choice(pool[-2:] if rng.random() < 0.6 else pool))
        if op in INFIX:
            text = f"({args[0][0]} {INFIX[op]} {args[1][0]})"
        elif op == "neg":
            text = f"(-{args[0][0]})"
        else:
            text = f"{op}({', '.join(a[0] for a in args)})"
        pool.append((text, (op, [a[1] for a in args])))
    return pool[-1]


def reference(tree: Any, point: dict[str, Any]) -> Any:
    """The tree evaluated term by term with NumPy, without recursion (post-order with an explicit stack)."""
    results: dict[int, Any] = {}
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, str):
            results[id(node)] = point[node]
        elif isinstance(node, float):
            results[id(node)] = np.float64(node)
        elif ready:
            op, children = node
            results[id(node)] = NUMPY[op](*(results[id(c)] for c in children))
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in node[1])
    return results[id(tree)]


def same(ours: Any, want: Any) -> bool:
    """Bitwise equal (sign of zero included) and of one shape, or nan in the same places."""
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (a.view(np.int64) == b.view(np.int64))))


def check(text: str, tree: Any, point: dict[str, Any]) -> None:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = symgraph.compile(text, wrt=[])
        want = reference(tree, point)
        value, _ = f(**{n: point[n] for n in f.variables})
    assert same(value, want), f"{text} at {point}: symgraph {value!r}, NumPy {want!r}"


def point_of(rng: random.Random, arrays: bool) -> dict[str, Any]:
    def draw() -> float:
        return rng.choice(SPECIAL) if rng.random() < 0.6 else rng.uniform(-3.0, 3.0)

    if not arrays:
        return {n: draw() for n in NAMES}
    return {n: np.array([draw() for _ in range(math.prod(SHAPES[n]))]).reshape(SHAPES[n]) for n in NAMES}


@settings(max_examples=max(300, settings().max_examples))  # the thorough profile runs more
@given(st.integers(0, 2**32 - 1), st.integers(1, 10), st.booleans())
def test_random_formulas_give_numpys_bits(seed: int, size: int, arrays: bool) -> None:
    rng = random.Random(seed)
    text, tree = random_formula(rng, size)
    point = point_of(rng, arrays)
    if not any(name in text for name in NAMES):  # constants alone: folding is tested with the rest
        return
    check(text, tree, point)


# --- the examples that found wrong answers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "point", "want"),
    [
        ("sum(x*0 + y)", {"x": np.ones(5), "y": 2.0}, 10.0),
        ("sum(x^0)", {"x": np.ones(5)}, 5.0),
        ("sum(w + 0*x)", {"w": 3.0, "x": np.ones(5)}, 15.0),
        ("sum(x - x + w)", {"x": np.ones(5), "w": 3.0}, 15.0),
        ("3*(0.1*x)", {"x": 7.0}, 3 * (0.1 * 7.0)),
        ("1e-300*(1e300*x)", {"x": 1e10}, math.inf),
        ("(1/y)*x", {"x": 1e-10, "y": 1e-310}, math.inf),
        ("1/(x+0)", {"x": -0.0}, math.inf),
        ("1/(0-x)", {"x": 0.0}, math.inf),
        ("atan2(x*0, -1)", {"x": -3.0}, -math.pi),
        ("x*0", {"x": math.inf}, math.nan),
        ("x*0", {"x": math.nan}, math.nan),
    ],
)
def test_the_reported_wrong_answers_are_numpys_now(text: str, point: dict[str, Any], want: float) -> None:
    f = symgraph.compile(text, wrt=[])
    with np.errstate(all="ignore"):
        value, _ = f(**point)
    assert same(value, want), (text, value, want)


def test_reported_gradients_have_the_right_size() -> None:
    _, (dx, dy) = symgraph.compile("sum(x*0 + y)")(np.ones(5), 2.0)
    np.testing.assert_array_equal(dx, np.zeros(5))
    assert dy == 5.0  # NumPy: d/dy sum(x*0 + y) = 5 over five points


def test_commutative_operands_are_one_node_and_constants_combine_only_when_exact() -> None:
    p = symgraph.parse("a = x*y; b = y*x; a + b")
    node = p.graph.nodes[p.output]
    assert node.args[0] == node.args[1]  # x*y and y*x are one node
    assert "4.0 * x" in symgraph.compile("2*(2*x)", wrt=[]).source  # powers of two: exact
    assert "3.0 * (0.1 * x)" in symgraph.compile("3*(0.1*x)", wrt=[]).source  # two roundings stay two
    src = symgraph.compile("h^3 + h^2 + 3*h^2", wrt=[]).source
    assert src.count("h * h") == 1  # h^2 is a product node, shared


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "number"])
def test_values_explain_and_check_read_the_generated_code(dtype: str) -> None:
    """One evaluator: values() and explain give f's own numbers, whatever the inputs are."""
    f = symgraph.compile("y = x^2; z = y + 1")
    x = 3.0 if dtype == "number" else np.array([2**32, 3], dtype=dtype)
    value, (d_x,) = f(x)
    shown = f.values(x=x)
    assert same(shown["z"], value) and same(shown["d_x"], d_x)
    explanation = symgraph.explain(f, at={"x": x})
    rows = {r.name: r.value for r in explanation.forward}
    assert same(rows["z"], value)
    back = {r.name: r.adjoint for r in explanation.backward}
    assert same(back["x"], d_x)


def test_exact_false_builds_whole_powers_from_products_and_combines_constants() -> None:
    """The opt-in fast mode: x^3 by multiplications (C's pow is 10-100x slower), 2*(3*x) as 6*x; the numbers may
    differ from NumPy's in the last bit, and the default stays NumPy's bits."""
    fast = symgraph.compile("((x+5)^3+1)^2 + x^-4 + 2*(3*x)", exact=False)
    body = fast.source[: fast.source.index("def _sum_to")]
    assert "np.power" not in body and "6.0 * x" in body
    assert "np.power" in symgraph.compile("((x+5)^3+1)^2").source
    x = np.linspace(-3.0, 3.0, 101) + 0.01
    value, (d_x,) = fast(x)
    exact_value, (exact_d_x,) = symgraph.compile("((x+5)^3+1)^2 + x^-4 + 2*(3*x)")(x)
    np.testing.assert_allclose(value, exact_value, rtol=1e-12)
    np.testing.assert_allclose(d_x, exact_d_x, rtol=1e-12)
    assert fast(-3.0)[0] == 81.0 + 1 / 81 - 18.0  # the seed's numbers still come out
    with pytest.raises(symgraph.ArgumentError, match="exact is True"):
        symgraph.compile("x^3", exact="no")  # type: ignore[arg-type]
