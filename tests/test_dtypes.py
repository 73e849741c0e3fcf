"""float32 in, float32 out; limits at zero of the power's derivatives (checked against HIPS autograd's rule)."""

from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import symgraph

FORMULAS = ["x + y", "2*x", "x/3", "sum(x)", "mean(x)", "w*x", "x*y", "sum(x*y) + w", "(w*x + b - y)^2/2"]


@pytest.mark.parametrize("text", FORMULAS)
def test_float32_arrays_give_float32_value_and_gradients(text: str) -> None:
    f = symgraph.compile(text)
    point = {"x": np.linspace(0.5, 2.0, 4, dtype=np.float32), "y": np.ones(4, np.float32), "w": 2.0, "b": 0.5}
    value, grads = f(*(point[n] for n in f.variables))
    assert np.asarray(value).dtype == np.float32, text
    for name, g in zip(f.wrt, grads):
        if isinstance(point[name], np.ndarray):
            assert g.dtype == np.float32 and g.shape == point[name].shape, (text, name)
        else:  # a Python number: a float32 number where float32 data enter its gradient, else a Python float
            assert np.ndim(g) == 0 and (np.asarray(g).dtype == np.float32 or type(g) is float), (text, name)


def test_the_retry_keeps_float32() -> None:
    x = np.ones(3, np.float32)
    with warnings.catch_warnings(), np.errstate(divide="ignore"):
        warnings.simplefilter("ignore")
        value, (d_x, d_y) = symgraph.compile("x + 1/y")(x, 0.0)  # 1/0.0 raises in Python: retried in NumPy
    assert value.dtype == np.float32 and np.all(np.isinf(value))
    assert d_x.dtype == np.float32


def test_the_exponent_gradient_at_a_zero_data_point_is_the_limit() -> None:
    x = np.array([0.0, 1.0, 2.0])
    _, (_, d_p) = symgraph.compile("sum(x^p)")(x, 2.0)
    want = grad(lambda p: anp.sum(x**p))(2.0)  # autograd: x^p * log(x) with log(1) at x = 0
    assert d_p == pytest.approx(want, rel=1e-15) and d_p == pytest.approx(4 * np.log(2.0), rel=1e-15)


def test_the_base_gradient_of_x_to_the_0_at_0_is_0() -> None:
    _, (d_x, d_y) = symgraph.compile("x^y")(0.0, 0.0)
    assert d_x == 0.0  # autograd's rule: the exponent y - 1 is taken as 1 where y is 0
    assert d_x == grad(lambda x: x**0.0)(0.0)
    assert d_y == 0.0
