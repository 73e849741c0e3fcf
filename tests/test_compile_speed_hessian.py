"""The Hessian's size limits: a Hessian whose generated code would take seconds to build is refused first, with a
message that says what was too big, what to do instead and how to raise the limit; smaller ones still work.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import symgraph
from symgraph import higher
from symgraph.parse import parse


def product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(n))


def test_the_400_input_product_is_refused_for_its_work() -> None:
    with pytest.raises(symgraph.LimitError, match=r"400 reverse pass\(es\).*MAX_DERIVATIVE_WORK") as info:
        higher.HessianFunction(parse(product(400)))
    assert "hvp" in str(info.value) and "raise symgraph.higher.MAX_DERIVATIVE_WORK" in str(info.value)


def test_a_hessian_with_too_many_entries_is_refused_with_what_to_do() -> None:
    n = 101  # within MAX_DERIVATIVE_WORK, but 5,151 entries
    entries = n * (n + 1) // 2
    assert entries > higher.MAX_HESSIAN_ENTRIES
    with pytest.raises(symgraph.LimitError) as info:
        symgraph.hessian(product(n), name="refused")
    message = str(info.value)
    assert f"the Hessian of {n} inputs has" in message and f"{entries:,} distinct entries" in message
    assert f"the limit is {higher.MAX_HESSIAN_ENTRIES:,} (MAX_HESSIAN_ENTRIES)" in message
    assert "symgraph.hvp" in message and "wrt=" in message and "raise symgraph.higher.MAX_HESSIAN_ENTRIES" in message


def test_fewer_inputs_in_wrt_pass_the_entries_limit() -> None:
    f = symgraph.hessian(product(101), wrt=["x0", "x1", "x2"], name="few")
    point = np.linspace(0.5, 1.5, 101)
    _value, gradient, hessian = f(*point)
    assert hessian.shape == (3, 3) and gradient.shape == (3,)
    assert math.isclose(hessian[0, 1], np.prod(point[2:]), rel_tol=1e-12)


@pytest.mark.parametrize("text,entries", [("a*b*c*d*f", 15), ("mean(a*b*c)", 9)])
def test_the_entries_limit_admits_its_bound_and_refuses_one_more(monkeypatch, text: str, entries: int) -> None:
    monkeypatch.setattr(higher, "MAX_HESSIAN_ENTRIES", entries)
    higher.HessianFunction(parse(text))  # at the limit: compiled
    monkeypatch.setattr(higher, "MAX_HESSIAN_ENTRIES", entries - 1)
    with pytest.raises(symgraph.LimitError, match=f"{entries:,} distinct entries"):
        higher.HessianFunction(parse(text))


def test_a_matrix_formula_hessian_is_not_limited_by_entries(monkeypatch) -> None:
    monkeypatch.setattr(higher, "MAX_HESSIAN_ENTRIES", 1)
    f = higher.HessianFunction(parse("w: [3]\nsum(w*w*w)"))  # by columns, at run time
    w = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(f(w)[2], np.diag(6 * w))


@pytest.mark.parametrize("n", [2, 7, 30])
def test_products_below_the_limit_match_their_hessian(n: int) -> None:
    point = np.random.default_rng(n).uniform(0.5, 1.5, n)
    value, gradient, hessian = symgraph.hessian(product(n), name=f"p{n}")(*point)
    expected = np.array([[np.prod(np.delete(point, [i, j])) if i != j else 0.0 for j in range(n)] for i in range(n)])
    assert math.isclose(value, np.prod(point), rel_tol=1e-12)
    np.testing.assert_allclose(gradient, [np.prod(np.delete(point, i)) for i in range(n)], rtol=1e-12)
    np.testing.assert_allclose(hessian, expected, rtol=1e-12)


def test_a_dense_hessian_below_the_limit_matches_sympy() -> None:
    n = 6
    coupling = " + ".join(f"sin(x{i})*x{i % n + 1}" for i in range(1, n + 1))
    valley = " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))
    f = symgraph.hessian(f"s = {coupling}\nf = {valley} + log(1 + s^2)")
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    s = sum(sp.sin(xs[i]) * xs[(i + 1) % n] for i in range(n))
    expr = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)) + sp.log(1 + s**2)
    point = list(np.random.default_rng(1).uniform(-1, 1, n))
    at = dict(zip(xs, point))
    reference = np.array(sp.hessian(expr, xs).subs(at).evalf(), dtype=float)
    np.testing.assert_allclose(f(*point)[2], reference, rtol=1e-10, atol=1e-10)
