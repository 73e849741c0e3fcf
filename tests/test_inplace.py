"""In-place steps (symgraph/inplace.py) against the same code without them: the same bits, dtypes and shapes,
the caller's arrays untouched, no result sharing an input's memory.

The reference is the very same compiler with `InPlace.steps` finding nothing, so any difference is the steps'
doing: a step that widened a float32 array, wrote past a broadcast shape, or overwrote an array something
else still reads (a view, an input, another result).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph
from symgraph import inplace
from tests.strategies import Formula, formulas

_names = itertools.count()


@contextmanager
def no_steps() -> Iterator[None]:
    """Compile without in-place steps (and so without the line order they ask for)."""
    original = inplace.InPlace.steps
    inplace.InPlace.steps = lambda self, members, dying: []  # type: ignore[method-assign,assignment,misc]
    try:
        yield
    finally:
        inplace.InPlace.steps = original  # type: ignore[method-assign]


def both(text: str, wrt: list[str] | None = None, **options: Any) -> tuple[Any, Any]:
    """The generated function with and without in-place steps (fresh names: the cache cannot serve them)."""
    with_steps = symgraph.compile(text, wrt=wrt, name=f"f{next(_names)}", **options)
    with no_steps():
        without = symgraph.compile(text, wrt=wrt, name=f"f{next(_names)}", **options)
    return with_steps, without


def flat(result: Any) -> list[Any]:
    value, grads = result
    return [value, *grads]


def assert_same(got: Any, want: Any, inputs: list[Any], before: list[Any]) -> None:
    """Bit for bit, dtype and shape alike; the inputs unchanged; no result sharing an input's memory."""
    for g, w in zip(flat(got), flat(want), strict=True):
        assert type(g) is type(w) and np.shape(g) == np.shape(w)
        assert getattr(g, "dtype", None) == getattr(w, "dtype", None)
        np.testing.assert_array_equal(g, w, strict=True)
        for a in inputs:
            assert not (isinstance(g, np.ndarray) and isinstance(a, np.ndarray) and np.shares_memory(g, a))
    for a, b in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


KINDS = ("f64 (3, 4)", "f64 (4,)", "f64 (3, 1)", "f32 (3, 4)", "f32 (4,)", "float", "int (4,)", "f32 scalar")


def make(kind: str, rng: np.random.Generator) -> Any:
    if kind == "float":
        return float(rng.uniform(0.2, 1.5))
    if kind == "f32 scalar":
        return np.float32(rng.uniform(0.2, 1.5))
    dtype, shape = kind.split(" ", 1)
    dims = tuple(int(d) for d in shape.strip("(,)").replace(" ", "").split(",") if d)
    if dtype in ("int", "i8", "u8"):  # float functions of int8 give float16, a number with it float64
        return rng.integers(1, 4, dims).astype({"int": np.int64, "i8": np.int8, "u8": np.uint8}[dtype])
    return rng.uniform(0.2, 1.5, dims).astype(np.float32 if dtype == "f32" else np.float64)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(max_steps=6), st.data())
def test_steps_change_no_bit_dtype_or_shape(formula: Formula, data: st.DataObject) -> None:
    """Random formulas on mixed inputs (float64 and float32 arrays that broadcast, integer arrays, Python and
    NumPy numbers), value alone and with gradients, plain and averaged."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    declared = data.draw(st.booleans())  # Shapes from declared dims, where equal dims fit whatever the inputs
    kinds = ("f64 (4,)", "f32 (4,)", "int (4,)", "i8 (4,)", "u8 (4,)") if declared else KINDS
    args = [make(data.draw(st.sampled_from(kinds)), rng) for _ in formula.variables]
    head = "".join(f"{v}: [4]; " for v in formula.variables)[:-2] + "\n" if declared else ""
    texts = [head + formula.text]
    if "\n" not in formula.text and ";" not in formula.text:
        texts.append(f"{head}mean({formula.text}) * sum({formula.text})")
    for text in texts:
        for wrt in ([], list(formula.wrt)):
            f, reference = both(text, wrt)
            with np.errstate(all="ignore"):
                try:
                    want = reference.function(*args)
                except (ValueError, TypeError, OverflowError, ZeroDivisionError) as e:  # noqa: PERF203
                    with pytest.raises(type(e)):
                        f.function(*args)
                    continue
                before = [np.copy(a) for a in args]
                assert_same(f.function(*args), want, args, before)


NETWORK = """X: [n, 4]; W1: [4, 5]; b1: [5]; W2: [5, 3]
H = tanh(X @ W1 + b1)
Z = H @ W2
mean(logsumexp(Z, axis=1)) + sum(H * H) / 7"""


@pytest.mark.parametrize(
    "text",
    [
        NETWORK,  # H is read through H.T (d_W2) before its last line squares it in place
        "X: [n, 4]; W: [4, 4]\nH = tanh(X @ W)\nT = H.T\nsum(T @ H) + sum(exp(H) * H)",  # a named view of H
        "X: [n, 4]; W: [4, 4]\nH = tanh(X @ W)\nsum(H.T @ H) + sum((H * H) * 2)",
        "X: [n, 4]; w: [4]\nh = tanh(X @ w)\nsum(h @ X) + sum(h * h * 3)",
        "A: [3, 3]\nB = exp(A)\nC = B.T.T\nsum(C @ (B * 2))",  # a view of a view of B is alive
        "A: [3, 3]\nB = exp(A)\nC = B.T\nsum(C @ (B * 2))",  # B's view C is alive where B is last read
        "v: [3]\nt = exp(v) * 2\nsum(t * outer(v, v))",  # from t's own input, yet wider than t
        "A: [3, 3]; v: [3]\nB = exp(A) * 2\nsum(B @ v) + sum((B * v) * B)",  # an array step with a broadcast operand
    ],
)
def test_matrix_formulas_keep_every_view_intact(text: str) -> None:
    rng = np.random.default_rng(3)
    shapes = {"X": (6, 4), "W1": (4, 5), "b1": (5,), "W2": (5, 3), "W": (4, 4), "w": (4,), "A": (3, 3), "v": (3,)}
    for wrt in ([], None):
        f, reference = both(text, wrt)
        args = [rng.uniform(-1.0, 1.0, shapes[name]) for name in f.variables]
        before = [a.copy() for a in args]
        got = f.function(*args)
        assert_same(got, reference.function(*args), args, before)
    if text == NETWORK:  # and against autograd, which we did not write

        def loss(X: Any, W1: Any, b1: Any, W2: Any) -> Any:
            H = anp.tanh(X @ W1 + b1)
            Z = H @ W2
            m = anp.max(Z, axis=1, keepdims=True)
            return anp.mean(anp.log(anp.sum(anp.exp(Z - m), axis=1)) + m[:, 0]) + anp.sum(H * H) / 7

        want = autograd.grad(loss, tuple(range(4)))(*args)
        for g, w in zip(got[1], want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
        assert "H *= H" in f.source


def test_an_array_step_needs_the_other_operand_to_fit_and_not_widen() -> None:
    """`t op u` in t's array only where u comes from t's inputs, so its dtype cannot be wider (and its shape
    fits): times 2 sin(x) it is a step, times y + 1 it is not, and float32 x with float64 y gives float64. Nor
    times x + 1 (review): for int8 x, x + 1.0 is float64 where t, made by np.exp of x, is float16."""
    square = "(exp(x)*3+1) * (exp(x)*3+1)"
    for declared in (False, True):  # undeclared, any input may be a Python number: no array steps
        own = symgraph.compile(f"{'x: [k]; ' * declared}{square} * (sin(x)*2)", wrt=[])
        other = symgraph.compile(f"{'x: [k]; y: [k]; ' * declared}{square} * (y+1)", wrt=[])
        assert ("t5 *= 2.0 * np.sin(x)" in own.source) == declared and "*= y" not in other.source
        assert "*= x + 1.0" not in symgraph.compile(f"{'x: [k]; ' * declared}{square} * (x+1)", wrt=[]).source
        x32 = np.linspace(0.1, 1.0, 5, dtype=np.float32)
        for y in (np.ones((3, 5)), np.ones(5, dtype=np.float32), 2.0, np.ones(5)):
            if declared and np.shape(y) != (5,):
                continue
            f, reference = both(f"{'x: [k]; y: [k]; ' * declared}{square} * (y+1)")
            assert_same(f.function(x32, y), reference.function(x32, y), [x32, y], [x32.copy(), np.copy(y)])


@pytest.mark.parametrize(
    "text, make",
    [
        # np.sin of a Python number is an np.float64: it widens a float32 array, so no `t3 *= np.sin(s)`
        ("sin(x*s) * cos(s)", lambda: (np.linspace(0.1, 0.9, 4, dtype=np.float32), 0.5)),
        ("A: [3, 3]\nE = exp(A)\ntr(E) + sum(E * E)", lambda: (np.eye(3, dtype=np.float32) + 0.5,)),  # eye_like
        ("sin(k) * (k * 1.5)", lambda: (np.arange(1, 5, dtype=np.int16),)),  # sin of int16 is float32
        # 3.0 * (x * x) is float64 for int8 x, np.cos(x) float16: no np.subtract(3.0 * (x * x), t4, out=t4)
        ("x: [n]\nsum(x^3) + sum(cos(x) * cos(x))", lambda: (np.array([1, 2, 3], dtype=np.int8),)),
        ("y: [n]\nsum(tanh(y)) + sum(y*y*2)", lambda: (np.array([1, 2, 3], dtype=np.uint8),)),
        ("Y: [n, 3]\nH = tanh(abs(Y - Y))\nsum(tanh(Y)) + sum(H * H)", lambda: (np.ones((2, 3), dtype=np.uint8),)),
        # int8 * uint8 is int16: float16 cos(x) * cos(y) * (x * y) is float32, so no `t4 -= t3 * t5 * ...` in float16
        (
            "x: [n]; y: [n]\nsum(cos(x) * cos(y) * (x * y))",
            lambda: (np.array([100, 7, 3], np.int8), np.array([200, 250, 3], np.uint8)),
        ),
    ],
)
def test_an_array_step_never_narrows_the_dtype(text: str, make: Any) -> None:
    """Regression (review): array steps kept t's float32 where t op u is float64."""
    args = make()
    f, reference = both(text)
    before = [np.copy(a) for a in args]
    assert_same(f.function(*args), reference.function(*args), list(args), before)


def test_two_zero_gradients_are_two_arrays() -> None:
    """Regression (review): equal declared shapes made both zero gradients one interned `like` node, returned
    twice as one array (writing into d_A changed d_B)."""
    f = symgraph.compile("A: [2, 2]; B: [2, 2]; S = A + B; sum(x) * sin(x)")
    A = np.ones((2, 2))
    _, (d_A, d_B, _) = f(A, A + 1, np.arange(3.0))
    assert not np.shares_memory(d_A, d_B)


def test_functions_and_left_operands_step_into_declared_float_arrays_only() -> None:
    """A dying float array of declared dims takes a NumPy function with out= (np.exp(Z, out=Z)) and a
    subtraction or division with itself on the right (np.subtract(1.0, H, out=H)), as the hand-written backprop
    does; a formula without declared dims does neither (a Python float has no memory to write into)."""
    digits = "X: [n, 4]; Y: [n, 3]; W1: [4, 5]; b1: [5]; W2: [5, 3]; b2: [3]\n"
    digits += "H = tanh(X @ W1 + b1)\nZ = H @ W2 + b2\nmean(logsumexp(Z, axis=1) - sum(Y*Z, axis=1))"
    f, reference = both(digits, ["W1", "b1", "W2", "b2"])
    assert "np.subtract(1.0, H, out=H)" in f.source
    softmax = symgraph.compile("X: [n, 3]\nZ = sin(X) * 2.0\nsum(logsumexp(Z, axis=1))")
    assert "Z -= t4[:, None]\n    np.exp(Z, out=Z)" in softmax.source
    rng = np.random.default_rng(5)
    shapes = {"X": (6, 4), "Y": (6, 3), "W1": (4, 5), "b1": (5,), "W2": (5, 3), "b2": (3,)}
    for dtype in (np.float64, np.float32):
        args = [rng.uniform(-1.0, 1.0, shapes[name]).astype(dtype) for name in f.variables]
        assert_same(f(*args), reference(*args), args, [a.copy() for a in args])
    for text in ("q: [k]\nsum(-(1.0 - sqrt(q * q)))", "q: [k]\nr = exp(q)\nsum(r * log(r * 2))"):  # np.divide(.., out=)
        f, reference = both(text)
        assert "out=" in f.source.split("\ndef _")[0]
        q = np.linspace(0.5, 2.0, 5)
        assert_same(f(q), reference(q), [q], [q.copy()])
    undeclared = symgraph.compile("2.0 / exp(q * q) - tanh(q * q)")
    assert "out=" not in undeclared.source.split("\ndef _")[0]  # the function, without the runtime helpers
    value, (d_q,) = undeclared(0.5)  # Python floats: each step rebinds a name
    assert isinstance(value, float) and isinstance(d_q, float) and value == 2.0 / np.exp(0.25) - np.tanh(0.25)


def test_values_and_traces_check_declared_shapes_as_calls_do() -> None:
    """Regression (review): values() ran the generated code on a Python float given for a declared vector, and
    the step np.divide(1.0, t3, out=t3) raised a raw TypeError; it is the call's ArgumentError now."""
    g = symgraph.compile("q: [k]\nsum(-(1.0 - sqrt(q * q)))")
    for call in (g, g.values):
        with pytest.raises(symgraph.ArgumentError, match="declared shape"):
            call(0.5)
    assert g.values(np.array([0.5, 2.0]))["d_q"].shape == (2,)
