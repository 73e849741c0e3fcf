"""Property tests: random formulas over every op compile, and their gradients agree with SymPy's diff of an
independently built SymPy expression (tests/strategies.py), with from_sympy, and with symgraph.check.

Points are drawn away from 0 (|coordinate| in [0.1, 3]). A point where SymPy's own value or derivative is not
finite (overflow, a pole), where one of our intermediate values is beyond float64, or where a function sits
exactly at a kink (KINKS) is assumed away; tolerances are never loosened for it.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symgraph
from symgraph.ir import live_nodes, verify
from tests.reference import _zero_away_from_kinks
from tests.strategies import NAMES, Formula, formulas, points, user_ops

RTOL, ATOL = 1e-8, 1e-10  # the same as symgraph.check: float64 evaluations of one function in two forms


def _close(ours: Any, ref: Any) -> bool:
    return bool(np.isclose(float(ours), float(ref), rtol=RTOL, atol=ATOL))


def _away_from_kinks(d: Any) -> Any:
    """reference.py's rule (DiracDelta, d floor, d ceiling -> 0), plus SymPy's unevaluated d sign(u)/dx."""
    d = _zero_away_from_kinks(d)
    return d.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.func is sp.sign, lambda e: sp.S.Zero)


def _reference(form: Formula, point: dict[str, float]) -> tuple[float, list[float]]:
    """SymPy's value and derivatives at the point, from lambdify of the strategy's SymPy twin."""
    symbols = [sp.Symbol(n, real=True) for n in point]
    derivs = [_away_from_kinks(sp.diff(form.expr, sp.Symbol(w, real=True))) for w in form.wrt]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = sp.lambdify(symbols, form.expr, "numpy")(*point.values())
            grads = [sp.lambdify(symbols, d, "numpy")(*point.values()) for d in derivs]
        except (OverflowError, ZeroDivisionError):  # constant parts are evaluated in Python floats
            return math.nan, []
    return float(value), [float(g) for g in grads]


# Where each function is not differentiable (its conventions there are symgraph's choice, not SymPy's: max at a
# tie splits the adjoint, so max(max(y, x), y) gives d/dx = 1/4 where SymPy's Max(x, y) gives 1/2).
KINKS: dict[str, Any] = {
    "max": lambda a, b: a == b,
    "min": lambda a, b: a == b,
    "abs": lambda a: a == 0,
    "sign": lambda a: a == 0,
    "relu": lambda a: a == 0,
    "heaviside": lambda a, h0: a == 0,
    "cbrt": lambda a: a == 0,
    "floor": lambda a: a == np.round(a),
    "ceil": lambda a: a == np.round(a),
    "hypot": lambda a, b: a == 0 and b == 0,
    "atan2": lambda a, b: a == 0 and b == 0,
}


def _generic_point(f: symgraph.CompiledFunction, point: dict[str, float]) -> bool:
    """True when every intermediate value is finite and no function is at a kink. exp(1358) ^ x is 0 at x = -1
    but its derivative 0 * log(inf) is nan: beyond float64, not a wrong gradient; kinks: see KINKS."""
    graph, output = f.program.graph, f.program.output
    live = live_nodes(graph, [output])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        needed_ids = [i for i, alive in enumerate(live) if alive]
        values = f.trace(needed_ids)(*(np.float64(point[n]) for n in f.variables))
    for i, (node, needed) in enumerate(zip(graph.nodes, live)):
        if not needed:
            continue
        value = values[i]
        if not np.isfinite(value):
            return False
        kink = KINKS.get(node.op)
        if kink is not None and kink(*(values[a] for a in node.args)):
            return False
    return True


def _ours(f: symgraph.CompiledFunction, point: dict[str, float]) -> tuple[Any, tuple[Any, ...]]:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(**{n: np.float64(point[n]) for n in f.variables})


def _agree(form: Formula, coords: list[float]) -> None:
    f = symgraph.compile(form.text, wrt=form.wrt)
    verify(f.program.graph)
    assert set(f.variables) == set(form.variables)
    point = dict(zip(NAMES, coords))
    ref_value, ref_grads = _reference(form, point)
    assume(np.isfinite(ref_value) and all(np.isfinite(ref_grads)) and _generic_point(f, point))
    value, grads = _ours(f, point)
    assert _close(value, ref_value), (value, ref_value)
    for name, got, ref in zip(f.wrt, grads, ref_grads, strict=True):
        assert _close(got, ref), (name, got, ref)


@given(formulas(), points(len(NAMES)))
def test_gradients_agree_with_sympy(form: Formula, coords: list[float]) -> None:
    _agree(form, coords)


# Each op on its own, in formulas of one to three steps: a tenth of the profile's examples per op.
PER_OP = settings(max_examples=max(3, settings.default.max_examples // 10))


@pytest.mark.parametrize("name", user_ops())
@PER_OP
@given(data=st.data())
def test_each_op_agrees_with_sympy(name: str, data: st.DataObject) -> None:
    form = data.draw(formulas(max_steps=3, ops=(name,)), label="formula")
    _agree(form, data.draw(points(len(NAMES)), label="point"))


@given(formulas(max_steps=4), points(len(NAMES)))
def test_from_sympy_compiles_the_same_function(form: Formula, coords: list[float]) -> None:
    f = symgraph.compile(form.text, wrt=form.wrt)
    g = symgraph.from_sympy(form.expr, wrt=form.wrt, variables=f.variables)
    verify(g.program.graph)
    point = dict(zip(NAMES, coords))
    ref_value, ref_grads = _reference(form, point)
    assume(np.isfinite(ref_value) and all(np.isfinite(ref_grads)) and _generic_point(g, point))
    value, grads = _ours(g, point)
    assert _close(value, ref_value)
    for got, ref in zip(grads, ref_grads, strict=True):
        assert _close(got, ref), (got, ref)


@given(formulas(max_steps=4), st.integers(0, 2**16))
def test_check_passes_on_random_formulas(form: Formula, seed: int) -> None:
    report = symgraph.check(form.text, wrt=form.wrt, points=4, seed=seed, symbolic=False)
    assert [c.name for c in report.checks] == list(form.wrt)
    assume(all(c.points or c.fd_points for c in report.checks))  # else no point was inside float64's range
    assert report.ok, str(report)
