"""Training: the examples converge to the parameters their data were made with, and symgraph.optimize
packs named parameters for SciPy correctly (checked against SciPy's own curve_fit and check_grad)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgraph
from symgraph.optimize import minimize, objective

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(name: str) -> str:
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def fitted(out: str) -> dict[str, float]:
    line = next(line for line in out.splitlines() if line.startswith("fitted "))
    return {k: float(v) for k, v in re.findall(r"(\w+) = (-?[\d.]+)", line.split("(")[0])}


def test_linear_regression_follows_the_tutorial_and_converges() -> None:
    out = run("linear_regression.py")
    assert "forward:  c = -9, f = -8, d = -13, J = 84.5" in out
    assert "dJ/dd = -13, dJ/df = -13, dJ/dc = -13, dJ/db = -13, dJ/dw = 39" in out
    costs = [float(c) for c in re.findall(r"cost (\S+)", out)]
    assert costs[0] > 1.0 and costs[-1] < 0.0013  # the noise's variance / 2 is 0.00125
    fit = fitted(out)
    assert abs(fit["w"] - 2.0) < 1e-3 and abs(fit["b"] + 1.0) < 1e-3


def test_logistic_regression_recovers_the_weights() -> None:
    out = run("logistic_regression.py")
    costs = [float(c) for c in re.findall(r"cost (\S+)", out)]
    assert costs == sorted(costs, reverse=True) and costs[0] == pytest.approx(np.log(2.0))
    fit = fitted(out)
    assert abs(fit["w1"] - 2.0) < 0.05 and abs(fit["w2"] + 3.0) < 0.05 and abs(fit["b"] - 0.5) < 0.05


def test_curve_fit_agrees_with_scipy_curve_fit() -> None:
    out = run("curve_fit_scipy.py")
    assert "Optimization terminated successfully" in out
    ref = re.search(r"scipy curve_fit:  K = (\S+), r = (\S+), t0 = (\S+)", out).groups()
    fit = fitted(out)
    np.testing.assert_allclose([fit["K"], fit["r"], fit["t0"]], [float(v) for v in ref], atol=2e-4)
    np.testing.assert_allclose([fit["K"], fit["r"], fit["t0"]], [10.0, 1.2, 4.0], atol=0.05)


def test_objective_packs_scalars_and_arrays_in_start_order() -> None:
    cost = objective("sum((a*x + c - y)^2)", start={"c": 0.5, "a": np.ones((2, 1))}, data={"x": 1.0, "y": 2.0})
    assert cost.params == ("c", "a") and cost.shapes == {"c": (), "a": (2, 1)}
    np.testing.assert_array_equal(cost.x0, [0.5, 1.0, 1.0])
    named = cost.unpack(np.array([1.0, 2.0, 3.0]))
    assert named["c"] == 1.0 and isinstance(named["c"], float)
    np.testing.assert_array_equal(named["a"], [[2.0], [3.0]])
    value, grad = cost(np.array([1.0, 2.0, 3.0]))
    residual = np.array([2.0 + 1.0 - 2.0, 3.0 + 1.0 - 2.0])
    assert value == pytest.approx(np.sum(residual**2))
    np.testing.assert_allclose(grad, [2 * residual.sum(), *(2 * residual)])


def test_objective_gradient_matches_finite_differences() -> None:
    from scipy.optimize import check_grad

    rng = np.random.default_rng(0)
    t = np.linspace(0, 3, 40)
    y = np.sin(2.0 * t) * np.exp(-0.3 * t) + rng.normal(0, 0.01, t.size)
    cost = objective("mean((A*sin(w*t)*exp(-k*t) - y)^2)", start={"A": 0.8, "w": 1.7, "k": 0.2}, data={"t": t, "y": y})
    error = check_grad(lambda v: cost(v)[0], lambda v: cost(v)[1], cost.x0)
    assert error < 1e-6 * np.linalg.norm(cost(cost.x0)[1])


def test_minimize_solves_a_linear_least_squares_problem_exactly() -> None:
    """Against np.linalg.lstsq, a reference computed another way."""
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=(2, 50))
    y = 1.5 * x1 - 0.5 * x2 + 0.25 + rng.normal(0, 0.1, 50)
    best, result = minimize(
        "mean((a*x1 + b*x2 + c - y)^2)", {"a": 0.0, "b": 0.0, "c": 0.0}, {"x1": x1, "x2": x2, "y": y}, method="BFGS"
    )
    assert result.success
    want, *_ = np.linalg.lstsq(np.column_stack([x1, x2, np.ones(50)]), y, rcond=None)
    np.testing.assert_allclose([best["a"], best["b"], best["c"]], want, atol=1e-6)


def test_objective_reports_misnamed_inputs() -> None:
    with pytest.raises(symgraph.ArgumentError, match="(?s)not an input.*did you mean y"):
        objective("sum((a*x - y)^2)", start={"a": 1.0}, data={"x": 1.0, "yy": 2.0})
    with pytest.raises(symgraph.ArgumentError, match="no value for input"):
        objective("sum((a*x - y)^2)", start={"a": 1.0}, data={"x": 1.0})
    with pytest.raises(symgraph.ArgumentError, match="both as a parameter"):
        objective("sum((a*x - y)^2)", start={"a": 1.0}, data={"a": 1.0, "x": 1.0, "y": 1.0})
    f = symgraph.compile("sum((a*x - y)^2)", wrt=["x"])
    with pytest.raises(symgraph.ArgumentError, match="not among the inputs differentiated"):
        objective(f, start={"a": 1.0}, data={"x": 1.0, "y": 1.0})
    cost = objective("a*x", start={"a": 1.0}, data={"x": 2.0})
    with pytest.raises(symgraph.ArgumentError, match="does not hold"):
        cost(np.zeros(2))


def test_the_core_does_not_import_scipy() -> None:
    code = "import sys, symgraph, symgraph.optimize; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
