"""A hypothesis strategy for random well-formed formulas over every user op of the op table.

A formula is grown like a stack machine: a pool starts with the inputs and a few constants; each step applies
a random op to operands drawn from the pool and puts the result back, so results are reused (shared
subexpressions) and nest. Some results are bound to statement names and referred to by name afterwards
(multi-statement text). Alongside the text, the same formula is built as a SymPy expression from SymPy's own
functions (tests/reference.py's names, not symgraph's bridge), the reference the property tests compare with.

Domains are respected by construction: an op whose domain is limited gets an argument that is inside it
(log of a positive expression, asin of tanh(.)/2, ...); see ARGUMENTS. Overflow and poles at random points
are left to the tests, which skip points where SymPy's reference value is not finite.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from hypothesis import strategies as st

from symgraph.ops import OPS
from tests.reference import SYMPY_NAMES

NAMES = ("x", "y", "z")

# How each user op's arguments are made safe: one kind per argument.
#   any: any expression; pos: a positive one; above1: one above 1; unit: inside (-1/2, 1/2);
#   nonzero: any, but not the very same pool item as the other operand (SymPy would cancel a - a, a / a);
#   h0: heaviside's value at 0, a constant 0, 1/2 or 1; int: a small integer constant.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "add": ("any", "any"),
    "sub": ("any", "nonzero"),
    "mul": ("any", "any"),
    "div": ("any", "pos"),
    "neg": ("any",),
    "pow": ("pos", "any"),
    "sin": ("any",),
    "cos": ("any",),
    "tan": ("any",),
    "asin": ("unit",),
    "acos": ("unit",),
    "atan": ("any",),
    "sinh": ("any",),
    "cosh": ("any",),
    "tanh": ("any",),
    "asinh": ("any",),
    "acosh": ("above1",),
    "atanh": ("unit",),
    "exp": ("any",),
    "expm1": ("any",),
    "log": ("pos",),
    "log1p": ("pos",),
    "log2": ("pos",),
    "log10": ("pos",),
    "sqrt": ("pos",),
    "cbrt": ("any",),
    "abs": ("any",),
    "sign": ("any",),
    "floor": ("any",),
    "ceil": ("any",),
    "heaviside": ("any", "h0"),
    "atan2": ("any", "any"),
    "hypot": ("any", "any"),
    "max": ("any", "nonzero"),
    "min": ("any", "nonzero"),
    "sigmoid": ("any",),
    "softplus": ("any",),
    "log_sigmoid": ("any",),
    "relu": ("any",),
    "sum": ("any",),  # of one number: the number (array data: tests/test_reductions.py)
    "mean": ("any",),
}

# Text spelling of the operators (every other op is written as a call, name(args)).
INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}

# SymPy for the spellings SymPy's namespace does not have under our name.
EXTRA_SYMPY: dict[str, Callable[..., Any]] = {
    "heaviside": lambda x, h0: sp.Heaviside(x, h0),
    "sign": sp.sign,
    "neg": lambda x: -x,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


def user_ops() -> list[str]:
    """Every op a formula can spell, in table order."""
    return [name for name, spec in OPS.items() if spec.user and spec.arity > 0 and not spec.matrix]


def reference_function(name: str) -> Callable[..., Any]:
    """SymPy's function for our op `name`, from reference.py and SymPy's namespace (never from symgraph)."""
    if name in EXTRA_SYMPY:
        return EXTRA_SYMPY[name]
    if name in SYMPY_NAMES:
        return SYMPY_NAMES[name]
    found = getattr(sp, name, None)
    if found is None:
        raise KeyError(f"tests/strategies.py has no SymPy reference for op {name!r}")
    return found


@dataclass(frozen=True)
class Term:
    text: str  # an atom or a parenthesised expression
    expr: Any  # the same, as a SymPy expression


@dataclass(frozen=True)
class Formula:
    """A generated formula: its text, its SymPy twin, its inputs in order of appearance, a wrt subset."""

    text: str
    expr: Any
    variables: tuple[str, ...]
    wrt: tuple[str, ...]

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        return f"Formula({self.text!r}, wrt={self.wrt!r})"


def _wrap(kind: str, t: Term, variant: int) -> Term:
    """An argument of the given kind built from t, inside the op's domain for every real t."""
    if kind == "pos":
        return [
            Term(f"(1 + {t.text}^2)", 1 + t.expr**2),
            Term(f"exp({t.text})", sp.exp(t.expr)),
            Term(f"(2 + sin({t.text}))", 2 + sp.sin(t.expr)),
        ][variant % 3]
    if kind == "above1":
        return Term(f"(2 + {t.text}^2)", 2 + t.expr**2)
    if kind == "unit":
        return Term(f"(tanh({t.text})/2)", sp.tanh(t.expr) / 2)
    return t


@st.composite
def formulas(draw: st.DrawFn, max_steps: int = 6, ops: tuple[str, ...] | None = None) -> Formula:
    """A random formula over `ops` (default: every user op), 1 to max_steps operations, maybe several statements."""
    chosen = list(ops or user_ops())
    n_inputs = draw(st.integers(1, len(NAMES)))
    symbols = {n: sp.Symbol(n, real=True) for n in NAMES[:n_inputs]}
    pool = [Term(n, s) for n, s in symbols.items()]
    pool.append(draw(st.sampled_from([Term("2", sp.Integer(2)), Term("0.5", sp.Rational(1, 2)), Term("pi", sp.pi)])))
    lines: list[str] = []
    steps = draw(st.integers(1, max_steps))
    for step in range(steps):
        name = draw(st.sampled_from(chosen))
        args: list[Term] = []
        for kind in ARGUMENTS[name]:
            if kind == "h0":
                args.append(draw(st.sampled_from([Term("0", sp.Integer(0)), Term("0.5", sp.S.Half), Term("1", 1)])))
                continue
            # Prefer recent results, so that formulas nest rather than stay flat.
            index = len(pool) - 1 - draw(st.integers(0, len(pool) - 1))
            if kind == "nonzero" and args and pool[index].expr == args[0].expr:
                index = next(i for i in range(len(pool) - 1, -1, -1) if pool[i].expr != args[0].expr)
            args.append(_wrap(kind, pool[index], draw(st.integers(0, 2))))
        if name == "pow" and draw(st.booleans()):  # integer powers of any base, negative included
            k = draw(st.sampled_from([2, 3, -1, 4]))
            args = [pool[-1], Term(str(k) if k > 0 else f"({k})", sp.Integer(k))]
        text = _spell(name, [a.text for a in args])
        expr = reference_function(name)(*(a.expr for a in args))
        if step < steps - 1 and draw(st.booleans()):
            bound = f"s{step}"
            lines.append(f"{bound} = {text}")
            pool.append(Term(bound, expr))
        else:
            pool.append(Term(f"({text})", expr))
    last = pool[-1]
    if not last.expr.free_symbols:  # a constant formula has no gradient to check: make it depend on an input
        last = Term(f"({last.text} * x)", last.expr * symbols["x"])
    lines.append(last.text)
    text = "\n".join(lines) if draw(st.booleans()) else "; ".join(lines)
    variables = tuple(n for n in NAMES if n in _names_in(lines, set(symbols)))
    wrt = tuple(draw(st.lists(st.sampled_from(variables), unique=True, min_size=1))) if variables else ()
    return Formula(text, last.expr, variables, wrt)


def _spell(name: str, args: list[str]) -> str:
    if name in INFIX:
        return f"{args[0]} {INFIX[name]} {args[1]}"
    if name == "neg":
        return f"-{args[0]}"
    return f"{name}({', '.join(args)})"


def _names_in(lines: list[str], inputs: set[str]) -> set[str]:
    """The inputs the text mentions (a formula may not use every input it could)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", "\n".join(lines)))
    return words & inputs


@st.composite
def points(draw: st.DrawFn, n: int) -> list[float]:
    """A point with coordinates of magnitude 0.1 to 3 and either sign (away from the kinks at 0)."""
    return [draw(st.floats(0.1, 3.0)) * draw(st.sampled_from([-1.0, 1.0])) for _ in range(n)]
