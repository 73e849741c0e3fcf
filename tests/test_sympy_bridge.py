"""symgraph.to_sympy and symgraph.from_sympy: graphs to SymPy and back, compared with SymPy's own algebra."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, hypot, log1p, log2, log10

import symgraph
from symgraph import sympy_bridge
from symgraph.ir import verify
from symgraph.ops import OPS

x, y, z = sp.symbols("x y z", real=True)


def test_to_sympy_gives_the_formula_and_sympys_own_derivatives() -> None:
    value, (d_x,) = symgraph.to_sympy(symgraph.compile("((x+5)^3+1)^2"))
    assert sp.expand(value - ((x + 5) ** 3 + 1) ** 2) == 0
    assert sp.expand(d_x - sp.diff(((x + 5) ** 3 + 1) ** 2, x)) == 0


def test_to_sympy_follows_wrt_order_and_uses_real_symbols() -> None:
    f = symgraph.compile("abs(x) * exp(y) + z", wrt=["z", "x"])
    value, grads = symgraph.to_sympy(f)
    assert len(grads) == 2
    assert all(s.is_real for s in value.free_symbols)
    assert sp.simplify(grads[0] - 1) == 0
    assert sp.simplify(grads[1] - sp.sign(x) * sp.exp(y)) == 0  # not re(x)*Derivative(re(x), x)


def test_shared_subexpressions_are_one_sympy_object() -> None:
    value, _ = symgraph.to_sympy(symgraph.compile("h = sin(x); h * h + h"))
    assert value == sp.sin(x) ** 2 + sp.sin(x)


def test_constants_become_exact_numbers() -> None:
    assert sympy_bridge.sympy_number(3.0) == 3 and isinstance(sympy_bridge.sympy_number(3.0), sp.Integer)
    assert sympy_bridge.sympy_number(0.25) == sp.Rational(1, 4)
    assert sympy_bridge.sympy_number(math.pi) == sp.pi
    assert sympy_bridge.sympy_number(math.log(2.0)) == sp.log(2)
    assert isinstance(sympy_bridge.sympy_number(math.sqrt(2.0)), sp.Float)


# One argument point inside every op's domain (acosh needs > 1, heaviside's second argument is h0).
ARGS = {1: (0.3,), 2: (0.3, 0.7), 3: (0.3, 0.7, 0.9)}


@pytest.mark.parametrize("name", [n for n, s in OPS.items() if s.arity > 0 and not s.matrix])
def test_every_op_has_a_sympy_spelling_with_the_same_values(name: str) -> None:
    spec = OPS[name]
    args = (1.3,) if name == "acosh" else ARGS[spec.arity]
    expr = sympy_bridge.sympy_function(name)(*(sp.Float(a) for a in args))
    assert float(expr) == pytest.approx(float(spec.impl(*args)), rel=1e-14, abs=1e-15)


def test_an_op_without_a_sympy_spelling_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = dataclasses.replace(OPS["sin"], name="frobnicate", sympy="frobnicate")
    monkeypatch.setitem(OPS, "frobnicate", fake)
    with pytest.raises(NotImplementedError, match="frobnicate.*SPECIAL"):
        sympy_bridge.sympy_function("frobnicate")


def _agree(f: symgraph.CompiledFunction, expr: sp.Expr, point: dict[str, float]) -> None:
    symbols = [sp.Symbol(n, real=True) for n in f.variables]
    args = [point[n] for n in f.variables]
    value, grads = f(*args)
    assert value == pytest.approx(float(sp.lambdify(symbols, expr)(*args)), rel=1e-12)
    for w, g in zip(f.wrt, grads, strict=True):
        ref = sp.lambdify(symbols, sp.diff(expr, sp.Symbol(w, real=True)))(*args)
        assert g == pytest.approx(float(ref), rel=1e-12, abs=1e-14)


def test_from_sympy_compiles_a_sympy_expression() -> None:
    expr = x**2 * sp.sin(y) / (3 * z) - sp.exp(-x) + sp.sqrt(y) - 1 / y**2 + sp.pi * sp.Abs(z - x)
    f = symgraph.from_sympy(expr)
    verify(f.program.graph)
    assert f.variables == ("x", "y", "z")  # sorted by name
    _agree(f, expr, {"x": 0.7, "y": 1.3, "z": -0.4})
    assert "def value_and_grad(x, y, z):" in f.source


def test_from_sympy_input_order_and_wrt() -> None:
    f = symgraph.from_sympy(x * y, wrt=["y"], variables=["y", "x", "z"])
    assert f.variables == ("y", "x", "z") and f.wrt == ("y",)
    assert f(2.0, 3.0, 5.0) == (6.0, (3.0,))
    with pytest.raises(symgraph.ArgumentError, match="leaves out x"):
        symgraph.from_sympy(x * y, variables=["y"])


def test_from_sympy_maps_sympy_functions_back_to_our_ops() -> None:
    cases = {
        sp.Max(x, y, z): "max",
        sp.Min(x, 2): "min",
        sp.Heaviside(x): "heaviside",
        sp.atan2(y, x): "atan2",
        sp.ceiling(x): "ceil",
        sp.sign(x): "sign",
        expm1(x): "expm1",
        log1p(x): "log1p",
        log2(x): "log2",
        log10(x): "log10",
        hypot(x, y): "hypot",
        sp.acosh(x): "acosh",
    }
    for expr, op_name in cases.items():
        f = symgraph.from_sympy(expr)
        assert op_name in {n.op for n in f.program.graph.nodes}, expr
    f = symgraph.from_sympy(sp.Max(x, y, z))
    assert f(1.0, 3.0, 2.0)[0] == 3.0
    assert symgraph.from_sympy(sp.Heaviside(x))(0.0)[0] == 0.5


def test_from_sympy_builds_quotients_and_differences() -> None:
    f = symgraph.from_sympy(x / 3 - y)
    ops = [n.op for n in f.program.graph.nodes]
    assert "div" in ops and "sub" in ops  # x/3, not x * 0.333...
    assert f(1.0, 0.0)[0] == 1.0 / 3.0


def test_from_sympy_round_trips_to_sympy() -> None:
    f = symgraph.compile("h = x*y + 1; log(h^2) * sigmoid(x) - cbrt(y)")
    value, _ = symgraph.to_sympy(f)
    g = symgraph.from_sympy(value, variables=f.variables)
    for point in [(0.4, -1.5), (2.0, 0.3)]:
        (v1, g1), (v2, g2) = f(*point), g(*point)
        assert v2 == pytest.approx(v1, rel=1e-12)
        assert np.allclose(g2, g1, rtol=1e-12)


def test_from_sympy_deep_nesting_does_not_recurse() -> None:
    expr = x
    for _ in range(3000):
        expr = sp.sin(expr, evaluate=False)  # evaluating sin(sin(...)) recurses inside SymPy itself
    f = symgraph.from_sympy(expr)
    assert len(f.program.graph.nodes) > 3000
    value, (d_x,) = f(0.5)
    assert np.isfinite(value) and np.isfinite(d_x)


@pytest.mark.parametrize(
    "bad,message",
    [
        ("x + 1", "not text"),
        (sp.I * x, "cannot compile"),
        (sp.Integral(x, x), "cannot compile"),
        (sp.Function("g")(x), "no function for g"),
        (object(), "not a SymPy expression"),
    ],
)
def test_from_sympy_refuses_what_it_cannot_compile(bad: object, message: str) -> None:
    with pytest.raises(symgraph.SymgraphError, match=message):
        symgraph.from_sympy(bad)


def test_import_symgraph_does_not_import_sympy() -> None:
    import subprocess
    import sys

    code = "import sys, symgraph; symgraph.compile('x'); print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
