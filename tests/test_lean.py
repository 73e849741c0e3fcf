"""Lean generated code (issue 14): sums of products as dot products, a mean's 1/n applied to the sum instead of
to every element, whole powers printed as products with exact=False. Memory is measured with tracemalloc
(deterministic: bytes allocated, not time); the numbers are checked against HIPS autograd."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph
from symgraph.schedule import schedule
from tests.strategies import Formula, formulas

N = 200_000
RNG = np.random.default_rng(11)
X = RNG.uniform(-2.0, 2.0, N)
Y = 2.0 * X - 1.0 + RNG.normal(0.0, 0.1, N)


def peak_arrays(call: Callable[[], Any], points: int = N) -> float:
    """The peak memory one call allocates, in arrays of `points` float64s."""
    call()  # warm: first-call allocations (caches, code objects) are not the formula's
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / (8 * points)
    finally:
        tracemalloc.stop()


def mse(w: Any, x: Any, b: Any, y: Any) -> Any:
    return anp.mean((w * x + b - y) ** 2) / 2


@pytest.mark.parametrize("exact", [True, False])
def test_mse_gradient_is_dot_products_and_matches_autograd(exact: bool) -> None:
    f = symgraph.compile("mean((w*x+b-y)^2)/2", wrt=["w", "b"], exact=exact)
    body = f.source[: f.source.index("\ndef _")]
    assert "_sum_to_dot(x, t6, w, (w, x, b, y))" in body  # d_w: no array x * residual
    assert "t15 * _sum_to(t6, b" in body  # 1/n scales the sum, not the residual
    value, (d_w, d_b) = f(1.5, X, 0.25, Y)
    assert value == pytest.approx(mse(1.5, X, 0.25, Y), rel=1e-12)
    assert d_w == pytest.approx(autograd.grad(mse, 0)(1.5, X, 0.25, Y), rel=1e-12)
    assert d_b == pytest.approx(autograd.grad(mse, 2)(1.5, X, 0.25, Y), rel=1e-12)
    # the residual, and with the exact rounding of np.mean(r * r) also the squares: nothing else
    assert peak_arrays(lambda: f.function(1.5, X, 0.25, Y)) < (1.1 if not exact else 2.1)


def test_exact_false_value_sums_by_dot_product() -> None:
    f = symgraph.compile("mean((w*x+b-y)^2)/2", exact=False)
    assert "_dot_mean(t6, t6)" in f.source
    assert f(1.5, X, 0.25, Y)[0] == pytest.approx(mse(1.5, X, 0.25, Y), rel=1e-12)
    exact = symgraph.compile("mean((w*x+b-y)^2)/2").source
    assert "_dot_all(" not in exact[: exact.index("\ndef _")]  # the default keeps np.mean's bits


@pytest.mark.parametrize(
    "shapes",
    [
        ((N,), (N,), (N,), (N,)),  # w an array too: nothing to sum, every gradient full size
        ((), (50, 1), (), (1, 40)),  # broadcast: x * residual is not of one shape
        ((), (N,), (), (N,)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_to_dot_falls_back_where_a_dot_product_is_not_the_sum(shapes: tuple[Any, ...], dtype: Any) -> None:
    f = symgraph.compile("mean((w*x+b-y)^2)", wrt=["w", "x", "b"])
    assert "_sum_to_dot(x, t6, w, (w, x, b, y))" in f.source
    args = [np.asarray(RNG.uniform(-1, 1, s), dtype=dtype) for s in shapes]
    value, grads = f(*args)

    def cost(w: Any, x: Any, b: Any, y: Any) -> Any:
        return anp.mean((w * x + b - y) ** 2)

    want = [autograd.grad(cost, k)(*[a.astype(np.float64) for a in args]) for k in (0, 1, 2)]
    for got, w, a in zip(grads, want, args[:3], strict=True):
        assert np.shape(got) == np.shape(a)
        assert np.abs(got - w).max() <= (1e-5 if dtype == np.float32 else 1e-12) * np.abs(w).max()  # normwise
    assert np.result_type(value) == dtype


def test_exact_false_prints_cubes_as_products_of_a_named_base() -> None:
    f = symgraph.compile("((x+5)^3+1)^2", exact=False)
    body = f.source[: f.source.index("\ndef _")]
    assert "t2 * t2 * t2 + 1.0" in body and "np.power" not in body
    assert "t2 *= t2\n        d_x = 6.0 * t6 * t2" in body  # 3 x^2 from the pow rule, 2*3 combined (exact=False)
    assert f(-3.0) == (81.0, (216.0,))
    g = symgraph.compile("(x+1)^4 - x^-3", exact=False)
    assert "(x + 1.0) * (x + 1.0)" not in g.source  # the base has a line of its own, computed once
    x = np.linspace(0.5, 2.0, 7)
    value, (d_x,) = g(x)
    np.testing.assert_allclose(value, (x + 1) ** 4 - x**-3, rtol=1e-14)
    np.testing.assert_allclose(d_x, 4 * (x + 1) ** 3 + 3 * x**-4, rtol=1e-14)
    seed = symgraph.compile("((x+5)^3+1)^2", exact=False)
    s = RNG.uniform(-8.0, 2.0, N)
    # as by hand: three arrays at most (x+5, then its square in place; (x+5)^3+1, squared in place: the value;
    # the gradient)
    assert peak_arrays(lambda: seed.function(s)) < 3.1
    assert peak_arrays(lambda: symgraph.compile("((x+5)^3+1)^2").function(s)) < 3.1


def rosenbrock_text(n: int) -> str:
    return " + ".join(f"(1-x{i})^2 + 100*(x{i + 1}-x{i}^2)^2" for i in range(n - 1))


def test_each_terms_backward_runs_while_its_forward_values_are_alive() -> None:
    """The scheduler: a sum of n terms keeps a few terms' arrays alive, not all n terms' (3n before)."""
    n, points = 30, 20_000
    f = symgraph.compile(rosenbrock_text(n))
    xs = tuple(RNG.uniform(-1.5, 1.5, points) for _ in range(n))
    value, grads = f.function(*xs)

    def rosen(*x: Any) -> Any:
        return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1))

    np.testing.assert_allclose(value, rosen(*xs), rtol=1e-13)
    for k in (0, 7, n - 1):
        np.testing.assert_allclose(grads[k], autograd.elementwise_grad(rosen, k)(*xs), rtol=1e-12, atol=1e-12)
    assert peak_arrays(lambda: f.function(*xs), points) < n + 1 + 12  # the gradients, the value, a dozen in flight
    body = f.source[: f.source.index("\ndef _")]
    assert body.index("d_x0 = ") < body.index("t260 = x29 - x28 * x28")  # x0's gradient before the last term


def test_a_long_sum_adds_up_a_few_terms_at_a_time() -> None:
    """A line reads at most three names that hold arrays, so the value alone of a long sum keeps a handful of
    arrays alive (the running sum and a term or two), not a line's worth of terms' (11 arrays before)."""
    n, points = 40, 20_000
    text = rosenbrock_text(n)
    value_only, both = symgraph.compile(text, wrt=[]), symgraph.compile(text)
    xs = tuple(RNG.uniform(-1.5, 1.5, points) for _ in range(n))
    want = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    np.testing.assert_allclose(value_only.function(*xs)[0], want, rtol=1e-13)
    assert peak_arrays(lambda: value_only.function(*xs), points) < 6
    assert peak_arrays(lambda: both.function(*xs), points) < n + 1 + 5  # the gradients, the value, a few
    for f in (value_only, both):
        body = f.source[f.source.index("    try:") : f.source.index("    except")]
        for line in body.splitlines():
            names = set(re.findall(r"\bt\d+\b", line.split(" = ", 1)[-1]))
            assert len(names) <= 3 or line.lstrip().startswith("del "), line


@given(st.lists(st.lists(st.integers(0, 40), max_size=4), min_size=1, max_size=40), st.data())
def test_schedule_is_a_topological_order_of_every_line(raw: list[list[int]], data: st.DataObject) -> None:
    reads = [[j for j in r if j < k] for k, r in enumerate(raw)]  # line k reads earlier lines only
    freeable = data.draw(st.lists(st.booleans(), min_size=len(reads), max_size=len(reads)))
    order = schedule(reads, freeable)
    assert sorted(order) == list(range(len(reads)))
    position = {k: p for p, k in enumerate(order)}
    assert all(position[j] < position[k] for k, r in enumerate(reads) for j in r)


def test_schedule_keeps_the_graphs_order_where_nothing_is_freed() -> None:
    assert schedule([[], [0], [], [1, 2]], [False] * 4) == [0, 1, 2, 3]
    # line 2 frees line 0 (its last reader) and runs before line 1, which frees nothing
    assert schedule([[], [], [0], [1]], [True, False, False, False]) == [0, 2, 1, 3]


@pytest.mark.parametrize(
    "a, b",
    [
        (2.0, np.arange(4.0)),  # a number times an array
        (np.arange(1.0, 4.0).reshape(3, 1), np.arange(1.0, 5.0).reshape(1, 4)),  # broadcast both ways
        (np.float64(0.5), np.arange(6.0).reshape(2, 3)),
    ],
)
def test_exact_false_mean_of_a_product_counts_the_broadcast_shape(a: Any, b: Any) -> None:
    f = symgraph.compile("mean(a*b)", exact=False)
    value, grads = f(a, b)
    assert value == pytest.approx(np.mean(np.multiply(a, b)), rel=1e-14)
    want = autograd.grad(lambda u, v: anp.mean(u * v), (0, 1))(np.asarray(a), np.asarray(b))
    for got, w in zip(grads, want, strict=True):
        np.testing.assert_allclose(got, w, rtol=1e-14)


def test_float32_gradients_keep_their_dtype_and_pairwise_sums() -> None:
    """float32 sums stay np.sum's pairwise sums (BLAS's sdot loses digits over many elements), and no
    NumPy scalar moves into a float32 gradient's product (it would make it float64)."""
    x32, y32 = X.astype(np.float32), Y.astype(np.float32)
    f = symgraph.compile("mean((w*x-y)^2)", wrt=["w", "x"])
    value, (d_w, d_x) = f.function(np.float32(0.5), x32, y32)
    assert d_x.dtype == np.float32
    exact = autograd.grad(lambda w: anp.mean((w * X - Y) ** 2))(0.5)
    assert abs(d_w - exact) <= 1e-6 * abs(exact)
    g = symgraph.compile("sum(z*x)*w", wrt=["x"])
    assert g.function(1.2, x32, np.array(0.7))[1][0].dtype == np.float32  # as before the sums were rearranged


def test_in_place_steps_only_where_dtype_and_sharing_allow() -> None:
    """`t *= c` on a temporary that dies with its line: never on an integer array (c would not fit), never with a
    NumPy scalar that could raise a float32 array's precision, never on an array another result shares."""
    f = symgraph.compile("y = (x - 1)^2; z = 3*(x*x) + y")
    body = f.source[: f.source.index("\ndef _")]
    assert "*= " in body or "+= " in body  # the steps are there
    for x in (np.arange(5), np.arange(5.0), np.arange(5, dtype=np.float32), 2, 2.5):
        value, (d_x,) = f.function(x)
        xf = np.asarray(x, dtype=float)
        np.testing.assert_allclose(value, 3 * xf * xf + (xf - 1) ** 2, rtol=1e-6)
        np.testing.assert_allclose(d_x, 6 * xf + 2 * (xf - 1), rtol=1e-6)
        assert not np.shares_memory(value, d_x)
    g = symgraph.compile("(x*x)*mean(w)", wrt=["x"])  # mean(w) is a NumPy scalar: x*x stays out of place
    assert "*= mean" not in g.source and "*= np.mean" not in g.source
    x32 = np.arange(4, dtype=np.float32)
    assert g.function(x32, np.arange(3.0))[0].dtype == np.result_type(x32 * x32, np.float64(1.0))
    h = symgraph.compile("sum((x+1)*2)", wrt=["x"])  # x+1's array is summed: a reduction keeps no view
    assert h(np.arange(3.0))[0] == 12.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(max_steps=5), st.data())
def test_exact_false_agrees_with_the_default_on_arrays(formula: Formula, data: st.DataObject) -> None:
    """The fast mode's rewrites (products, dot products, in-place steps) give the default's numbers to rounding,
    for the value alone and with gradients, of the formula and of its mean over the points."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    args = [
        rng.uniform(0.2, 1.5, 7) if data.draw(st.booleans()) else float(rng.uniform(0.2, 1.5))
        for _ in formula.variables
    ]
    for text in (formula.text, f"mean({formula.text.replace(chr(10), '; ')})"):
        if text.startswith("mean(") and ";" in text:
            continue  # a mean of several statements is not one expression
        for wrt in ([], list(formula.wrt)):
            want = symgraph.compile(text, wrt=wrt)(*args)
            got = symgraph.compile(text, wrt=wrt, exact=False)(*args)
            with np.errstate(all="ignore"):
                for g, w in zip([got[0], *got[1]], [want[0], *want[1]], strict=True):
                    np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-12, equal_nan=True)


def test_a_dot_product_reads_its_factors_not_an_in_place_square() -> None:
    """Regression: with exact=False the value alone of a mean of squares printed `t6 *= t6` and then the dot
    product of t6 with itself (the fourth power)."""
    f = symgraph.compile("mean((w*x+b-y)^2)/2", wrt=[], exact=False)
    assert f(1.5, X, 0.25, Y)[0] == pytest.approx(mse(1.5, X, 0.25, Y), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 400_000),
    st.sampled_from([np.float64, np.float32]),
    st.sampled_from(["flat", "matrix", "strided", "broadcast"]),
    st.integers(0, 2**16),
)
def test_sum_and_mean_of_a_product_keep_numpys_bits(n: int, dtype: Any, layout: str, seed: int) -> None:
    """runtime._sum_product and _mean_product (the default's sum and mean of a product) give np.sum(a * b) and
    np.mean(a * b) to the bit, following NumPy's pairwise sum block by block, or falling back to it."""
    from symgraph.runtime import _mean_product, _sum_product

    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    if layout == "matrix" and n % 4 == 0:
        a, b = a.reshape(4, -1), b.reshape(4, -1)
    elif layout == "strided":
        a, b = a[::2], b[::2]
    elif layout == "broadcast":
        b = b[:1]
    for got, want in ((_sum_product(a, b), np.sum(a * b)), (_mean_product(a, b), np.mean(a * b))):
        assert type(got) is type(want) and got.tobytes() == want.tobytes()
    for small in (2.5, np.float32(2.5), np.arange(3.0)):  # numbers, 0-d and small arrays: NumPy's own
        assert np.array_equal(_sum_product(small, small), np.sum(np.multiply(small, small)))


def test_the_default_mean_square_makes_no_array_of_the_squares() -> None:
    """mean((w*x+b-y)^2)/2 by default: the residual is the one array it makes (the squares are summed block by
    block), with NumPy's own value to the bit."""
    f = symgraph.compile("mean((w*x+b-y)^2)/2", wrt=["w", "b"])
    x, y = np.tile(X, 10), np.tile(Y, 10)  # 2,000,000 points: blocks of 262,144 squares at a time
    value, _ = f.function(1.5, x, 0.25, y)
    r = 1.5 * x + 0.25 - y
    assert value == np.mean(r * r) / 2.0
    assert peak_arrays(lambda: f.function(1.5, x, 0.25, y), r.size) < 1.2  # the residual and one block (2.0 before)


def _reference_shift_functions(x: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """logsumexp, softmax and log_softmax as runtime.py wrote them before _shift_max: np.max as the shift."""
    m = np.max(x, axis=axis, keepdims=True)
    m0 = np.where(np.isfinite(m), m, 0.0)
    lse = np.squeeze(np.log(np.exp(x - m0).sum(axis=axis, keepdims=True)) + m0, axis=axis)
    e = np.exp(x - m)
    shifted = x - m0
    return (
        lse,
        e / np.sum(e, axis=axis, keepdims=True),
        shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)),
    )


SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e300, -1e300, np.inf, -np.inf, np.nan, 700.0, -745.0]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 80),
    st.integers(1, 40),
    st.sampled_from([np.float64, np.float32]),
    st.sampled_from(["C", "F", "rows"]),
    st.integers(0, 2**32 - 1),
)
def test_logsumexp_and_softmax_keep_their_bits_with_the_fortran_ordered_shift(
    rows: int, width: int, dtype: Any, layout: str, seed: int
) -> None:
    """runtime._shift_max takes the maximum along short rows from a Fortran-ordered copy; the three functions
    that shift by it give exactly the bits they gave with np.max, with signed zeros, infinities and nan in
    the rows (both axis spellings, views of every layout)."""
    from symgraph.runtime import _log_softmax, _logsumexp, _shift_max, _softmax

    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, (rows, width))
    special = rng.random(x.shape) < 0.2
    x[special] = rng.choice(SPECIAL, special.sum())
    with np.errstate(over="ignore"):  # 1e300 is inf in float32
        x = x.astype(dtype)
    x = np.asfortranarray(x) if layout == "F" else x[::2] if layout == "rows" else x
    for axis in (1, -1):
        shift = _shift_max(x, axis)
        want_shift = np.max(x, axis=axis, keepdims=True)
        assert shift.dtype == want_shift.dtype and np.array_equal(shift, want_shift, equal_nan=True)
        with np.errstate(all="ignore"):
            got = (_logsumexp(x, axis=axis), _softmax(x, axis=axis), _log_softmax(x, axis=axis))
            want = _reference_shift_functions(x, axis)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            nan = np.isnan(w)  # a nan may come back as another nan; every other element to the bit
            assert np.array_equal(np.isnan(g), nan)
            bits = [np.ascontiguousarray(np.where(nan, 0, a)).view(np.uint8) for a in (g, w)]
            assert np.array_equal(*bits)


def test_the_reverse_pass_rounds_constant_factors_and_powers_once_but_not_the_value() -> None:
    """Graph.reverse: a gradient's constant factors combine (its last bit is the compiler's), while the value
    keeps NumPy's bits and the adjoint of a named statement stays a step."""
    rosen = symgraph.compile("(1-x0)^2 + 100*(x1-x0^2)^2 + (1-x1)^2 + 100*(x2-x1^2)^2").source
    assert "x0 * (-400.0 * t8)" in rosen and "2.0 * (-200.0" not in rosen
    f = symgraph.compile("2*(3*x) + x^6")
    body = f.source.split("\ndef _")[0]
    assert "2.0 * (3.0 * x)" in body and "np.power(x, 6.0)" in body  # the value as written
    assert "np.power(x, 5.0)" in body  # not x * x * ... in a gradient: for an int8 x products wrap (review)
    x = np.linspace(-2.0, 2.0, 9)
    value, (d_x,) = f(x)
    assert np.array_equal(value, 2.0 * (3.0 * x) + np.power(x, 6.0))
    np.testing.assert_allclose(d_x, 6.0 + 6.0 * x**5, rtol=1e-15, atol=1e-15)
    quartic = symgraph.compile("x: [n]\nsum(x^4)")
    assert quartic.function(np.array([10, 2, -7], np.int8))[1][0].tolist() == [4000.0, 32.0, -1372.0]
    named = symgraph.compile("h = x + 5; g = h^3 + 1; f = g^2").source
    assert "d_g = 2.0 * g" in named and "d_h = 3.0 * d_g * (h * h)" in named
    assert symgraph.compile("h = x + 5; g = h^3 + 1; f = g^2")(-3.0) == (81.0, (216.0,))


def test_the_reverse_pass_combines_no_constant_or_power_that_float16_or_tiny_numbers_would_break() -> None:
    """Regression (review): 300*(300*x) made 90000 (inf in float16), x^-2's gradient 1/(x*x*x) overflowed in
    float16 (gradients' powers are np.power again), and 1e-160*(1e-160*y) made a subnormal constant; each gradient
    now agrees with float64 to rounding."""
    x16 = np.array([5.2e-5, 1e-5], np.float16)
    _, (d_x,) = symgraph.compile("sin(300 * (300 * x))")(x16)
    x64 = x16.astype(np.float64)
    np.testing.assert_allclose(d_x, 90000.0 * np.cos(90000.0 * x64), rtol=0.1)
    big = np.array([50.0, 100.0], np.float16)
    _, (d_big,) = symgraph.compile("x^-2")(big)
    np.testing.assert_allclose(d_big, -2.0 / big.astype(np.float64) ** 3, rtol=1e-2, atol=6e-8)  # subnormals
    f = symgraph.compile("y * (1e-160 * (1e-160 * x))")
    assert f.variables == ("y", "x")
    _, (_, d_x) = f(1e300, 1.0)  # y * 1e-160 * 1e-160: 1e-320 would be a subnormal with five digits
    assert abs(d_x / 1e-20 - 1) < 1e-12
