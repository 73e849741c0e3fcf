"""Reference derivatives from SymPy (which we did not write), for comparing with symgraph's."""

from __future__ import annotations

import numpy as np
import sympy as sp

# symgraph spelling -> SymPy, for the functions whose names differ.
SYMPY_NAMES = {
    "sum": lambda u: u,  # over one number (scalar points); array data is checked in tests/test_reductions.py
    "mean": lambda u: u,
    "abs": sp.Abs,
    "ln": sp.log,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
    "pi": sp.pi,
    "e": sp.E,
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "log_sigmoid": lambda x: -sp.log(1 + sp.exp(-x)),
    "relu": lambda x: sp.Max(x, 0),
    "log2": lambda x: sp.log(x, 2),
    "log10": lambda x: sp.log(x, 10),
    "expm1": lambda x: sp.exp(x) - 1,
    "log1p": lambda x: sp.log(1 + x),
    "cbrt": lambda x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
    "hypot": lambda x, y: sp.sqrt(x**2 + y**2),
    "atan2": sp.atan2,
    "max": sp.Max,
    "min": sp.Min,
    "ceil": sp.ceiling,
}


def sympy_value_and_grad(text: str, names: tuple[str, ...], wrt: tuple[str, ...]):
    """A lambdified (value, gradients) pair from SymPy's own parse of a single-expression text."""
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    expr = sp.sympify(text.replace("^", "**"), locals={**SYMPY_NAMES, **symbols})
    args = [symbols[n] for n in names]
    value = sp.lambdify(args, expr, "numpy")
    derivs = [_zero_away_from_kinks(sp.diff(expr, symbols[w])) for w in wrt]
    grads = [sp.lambdify(args, d, "numpy") for d in derivs]
    return value, grads


def _zero_away_from_kinks(d: sp.Expr) -> sp.Expr:
    """DiracDelta (from sign, Heaviside) and SymPy's unevaluated d floor/dx, d ceiling/dx are 0 away
    from the kinks, which is where the random points are."""
    d = d.replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    return d.replace(
        lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.floor, sp.ceiling), lambda e: sp.S.Zero
    )


def rel_close(a: float, b: float, rtol: float = 1e-10, atol: float = 1e-12) -> bool:
    return bool(np.isclose(a, b, rtol=rtol, atol=atol))
