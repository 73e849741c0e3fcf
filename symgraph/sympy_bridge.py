"""The bridge to SymPy, and the only module that imports it: graphs to SymPy expressions and back.

`to_sympy(f)` turns a compiled function's value and gradient nodes into SymPy expressions, one node at a time
in id order (ids are a topological order, so no recursion). `from_sympy(expr)` walks a SymPy expression with an
explicit stack (post-order) and builds the graph through the usual smart constructors. Op spellings come from
the op table's `sympy` field; the few of ours that are not SymPy functions are written out in `SPECIAL`.
Inputs are real symbols: plain symbols make SymPy differentiate |x| into re(x)*Derivative(re(x), x).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .errors import ArgumentError, LimitError, SymgraphError
from .function import CompiledFunction
from .ir import Graph, Program
from .names import is_safe_identifier
from .ops import OPS

# Our ops that SymPy has no function for (or one with another meaning: sympy.cbrt is the principal,
# complex, cube root), written in SymPy's elementary functions.
SPECIAL: dict[str, Callable[..., Any]] = {
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "log_sigmoid": lambda x: -sp.log(1 + sp.exp(-x)),
    "relu": lambda x: sp.Max(x, 0),
    "log2": lambda x: sp.log(x) / sp.log(2),
    "log10": lambda x: sp.log(x) / sp.log(10),
    "expm1": lambda x: sp.exp(x) - 1,
    "log1p": lambda x: sp.log(1 + x),
    "cbrt": lambda x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
    "hypot": lambda x, y: sp.sqrt(x**2 + y**2),
    "sqrt": sp.sqrt,
    # SymPy's symbols here are numbers, and the sum or mean of one number is that number. For array data
    # the reductions' derivatives are checked against SymPy in tests/test_reductions.py instead.
    "sum": lambda u: u,
    "mean": lambda u: u,
    # The reverse pass's bookkeeping for reductions (adjoint.py), over numbers: one element, nothing to total.
    "size": lambda *inputs: sp.S.One,
    "one_at_zero": lambda u: sp.S.Zero,  # 1 only where u is 0, a point the checks stay away from
    "sum_to": lambda g, *shape_sources: g,
    "like": lambda g, *shape_sources: g,
}

# Python operator symbols of the table's `sympy` field, by arity.
OPERATORS: dict[tuple[str, int], Callable[..., Any]] = {
    ("+", 2): lambda a, b: a + b,
    ("-", 2): lambda a, b: a - b,
    ("*", 2): lambda a, b: a * b,
    ("/", 2): lambda a, b: a / b,
    ("**", 2): lambda a, b: a**b,
    ("-", 1): lambda a: -a,
    ("+", 1): lambda a: a,
}

# Constants our graphs hold as floats that SymPy knows exactly (so that simplify can cancel them).
_KNOWN = {math.pi: sp.pi, math.e: sp.E, math.log(2.0): sp.log(2), math.log(10.0): sp.log(10)}


def sympy_function(name: str) -> Callable[..., Any]:
    """The SymPy callable for op `name`; a loud error for an op nobody mapped, never a guess."""
    if name in SPECIAL:
        return SPECIAL[name]
    spec = OPS[name]
    if (spec.sympy, spec.arity) in OPERATORS:
        return OPERATORS[(spec.sympy, spec.arity)]
    found = getattr(sp, spec.sympy, None)
    if isinstance(found, type) and issubclass(found, sp.Basic):
        return found
    raise NotImplementedError(
        f"op {name!r} has no SymPy spelling: its table entry says sympy={spec.sympy!r}, which is not a SymPy "
        "function; add the op to SPECIAL in symgraph/sympy_bridge.py"
    )


def sympy_number(value: float) -> sp.Expr:
    """A float as the exact SymPy number it most plausibly is: 3.0 -> 3, 0.25 -> 1/4, math.pi -> pi."""
    if value in _KNOWN:
        return _KNOWN[value]
    if not math.isfinite(value):
        return sp.nan if math.isnan(value) else (sp.oo if value > 0 else -sp.oo)
    frac = Fraction(value).limit_denominator(1_000_000)
    if float(frac) == value:
        return sp.Rational(frac.numerator, frac.denominator)
    return sp.Float(value, 17)


# SymPy's automatic evaluation walks the argument tree at each construction (is_number, factor_terms), with
# recursion: a formula nested a few hundred levels deep (sin(sin(...)), x^x^...) is a RecursionError inside
# SymPy, while a long flat chain (a product of 1000 inputs) is not. So the graph is built evaluated first and,
# when SymPy recurses too deeply, unevaluated. A graph over EVALUATED_TREE nodes as a SymPy tree (shared nodes
# counted at every use: cbrt(cbrt(...)) doubles at each level) is built unevaluated at once.
EVALUATED_TREE = 20_000


def graph_to_sympy(graph: Graph, roots: Sequence[int]) -> list[sp.Expr]:
    """SymPy expressions for the nodes `roots`, built once per node in id order: evaluated (SymPy's usual
    automatic simplification) when SymPy can, unevaluated (the same value, as written) when the graph is
    too large or too deep for that. A LimitError if SymPy recurses too deeply all the same."""
    end = max(roots, default=-1) + 1
    if _evaluable(graph, end):
        try:
            return _build(graph, roots, end, evaluate=True)
        except RecursionError:
            pass  # nested too deeply for SymPy's evaluation: build it unevaluated
    try:
        return _build(graph, roots, end, evaluate=False)
    except RecursionError:
        raise LimitError(
            f"the formula ({end:,} graph nodes) is too deeply nested for SymPy, whose constructors recurse",
            hint="split the formula, or check it with symgraph.check(..., symbolic=False)",
        ) from None


def _build(graph: Graph, roots: Sequence[int], end: int, *, evaluate: bool) -> list[sp.Expr]:
    exprs: list[Any] = [None] * end
    with sp.evaluate(evaluate):
        for i in range(end):
            node = graph.nodes[i]
            if node.op == "var":
                exprs[i] = sp.Symbol(str(node.value), real=True)
            elif node.op == "const":
                exprs[i] = sympy_number(float(node.value))  # type: ignore[arg-type]
            else:
                exprs[i] = sympy_function(node.op)(*(exprs[a] for a in node.args))
                if not evaluate:  # asked here, bottom up, each answer is one step; asked later, it recurses
                    exprs[i].is_commutative  # noqa: B018
    return [exprs[r] for r in roots]


def _evaluable(graph: Graph, end: int) -> bool:
    """True when nodes 0..end-1 are at most EVALUATED_TREE nodes as SymPy trees (an op written with its
    argument twice, like cbrt, counts it twice)."""
    size = [0] * end
    for i in range(end):
        args = graph.nodes[i].args
        size[i] = min(1 + _uses(graph.nodes[i].op) * sum(size[a] for a in args), EVALUATED_TREE + 1) if args else 1
        if size[i] > EVALUATED_TREE:
            return False
    return True


@functools.cache
def _uses(op: str) -> int:
    """How many times the SymPy spelling of `op` uses an argument (2 for cbrt: sign(u)*Abs(u)**(1/3))."""
    args = sp.symbols(f"u0:{OPS[op].arity}") if OPS[op].arity > 0 else ()
    try:
        with sp.evaluate(False):
            expr = sympy_function(op)(*args)
    except Exception:  # noqa: BLE001 - an op SymPy cannot spell fails later, with its own message
        return 1
    return max([1, *(expr.count(a) for a in args)])


def to_sympy(f: CompiledFunction) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """(value, (d_w1, d_w2, ...)) of a compiled function as SymPy expressions, in `f.wrt` order. A formula
    nested too deeply for SymPy's evaluation comes back unevaluated; SymPy may still recurse when printing,
    differentiating or simplifying it."""
    value, *grads = graph_to_sympy(f.program.graph, [f.program.output, *f.gradients])
    return value, tuple(grads)


def away_from_kinks(d: sp.Expr) -> sp.Expr:
    """A SymPy derivative with DiracDelta and unevaluated d floor/dx, d ceiling/dx set to 0: their value
    everywhere except at the jumps, which is where symgraph's derivatives of sign, heaviside, floor, ceil live."""
    d = d.replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    return d.replace(
        lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.floor, sp.ceiling, sp.sign), lambda e: sp.S.Zero
    )


def numeric(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> Callable[..., Any] | None:
    """SymPy's own NumPy function for `expr` (lambdify), or None when SymPy cannot print it for NumPy."""
    try:
        fn = sp.lambdify(list(symbols), expr, modules="numpy", cse=True)  # cse: shared parts printed once
        with np.errstate(all="ignore"):
            fn(*[np.float64(0.5)] * len(symbols))
    except (NameError, TypeError, KeyError, sp.SympifyError):
        return None
    except (ArithmeticError, ValueError):
        pass  # outside the domain at 0.5: printable all the same
    return fn


def symbols_of(f: CompiledFunction) -> dict[str, sp.Symbol]:
    """The real SymPy symbol of each input of `f`, by name."""
    return {name: sp.Symbol(name, real=True) for name in f.variables}


# --- from SymPy ------------------------------------------------------------------------------------------


def _function_op(func: type) -> str | None:
    """Our op for a SymPy function class: by the table's `sympy` name, then by our own name (which matches
    sympy.codegen.cfunctions' expm1, log1p, log2, log10, hypot and Cbrt)."""
    for spec in OPS.values():
        if spec.user and spec.sympy == func.__name__ and spec.arity and spec.sympy.isidentifier():
            return spec.name
    lowered = func.__name__.lower()
    return lowered if lowered in OPS and OPS[lowered].user else None


def _is_negative_number(e: sp.Expr) -> bool:
    return bool(e.is_Number and e.is_negative)


def _split_mul(e: sp.Mul) -> tuple[sp.Expr, list[sp.Expr], list[sp.Expr]]:
    """A product as (rational coefficient, numerator factors, denominator factors), so 2*x/(3*y) -> x/y."""
    coeff, factors = e.as_coeff_mul()
    numer: list[sp.Expr] = []
    denom: list[sp.Expr] = []
    for factor in factors:
        if factor.is_Pow and _is_negative_number(factor.exp):
            denom.append(factor.base if factor.exp == -1 else factor.base ** (-factor.exp))
        else:
            numer.append(factor)
    return coeff, numer, denom


def _children(e: sp.Expr) -> list[sp.Expr]:
    """The SymPy expressions whose nodes building `e` needs, in the order `_build` reads them."""
    if e.is_Atom:
        return []
    if e.is_Add:
        return [(-t if t.could_extract_minus_sign() else t) for t in e.args]
    if e.is_Mul:
        _, numer, denom = _split_mul(e)
        return numer + denom
    if e.is_Pow:
        if e.exp == sp.S.Half or e.exp == -1 or e.base is sp.E:
            return [e.base if e.base is not sp.E else e.exp]
        return [e.base, e.exp]
    return list(e.args)


def _fits(n: Any) -> bool:
    """True when the integer `n` converts to a finite float."""
    try:
        return math.isfinite(float(n))
    except OverflowError:
        return False


def _shown(e: Any) -> str:
    """A number for a message: as written when short, else its first digits and its length."""
    text = str(e)
    if len(text) <= 40:
        return text
    try:
        about = f" (about {sp.Float(e, 3)})"
    except (TypeError, ValueError):
        about = ""
    return f"{text[:12]}...{text[-8:]}{about}"


class _Builder:
    """Builds graph nodes for SymPy expressions whose children are already built."""

    def __init__(self, graph: Graph) -> None:
        self.b = graph
        self.symbols: set[str] = set()

    def number(self, e: Any) -> int:
        """A constant node; an ArgumentError naming the number when it is finite but beyond float64."""
        try:
            value = float(e)
        except TypeError:
            raise SymgraphError(f"from_sympy: {e} is not a real number") from None
        except OverflowError:
            value = math.inf
        if math.isinf(value) and not sp.sympify(e).is_infinite:
            raise ArgumentError(
                f"from_sympy: the number {_shown(e)} is too large for a float (the largest is about 1.8e308)",
                hint="rescale the expression so that its numbers fit in float64",
            )
        return self.b.const(value)

    def product(self, ids: list[int]) -> int | None:
        out = None
        for i in ids:
            out = i if out is None else self.b.mul(out, i)
        return out

    def build(self, e: sp.Expr, kids: list[int]) -> int:
        b = self.b
        if e.is_Symbol:
            self.symbols.add(e.name)
            return b.var(e.name)
        if e.is_Number or e.is_NumberSymbol:
            return self.number(e)
        if e.is_Add:
            out = None
            for term, k in zip(e.args, kids):
                neg = term.could_extract_minus_sign()
                if out is None:
                    out = b.neg(k) if neg else k
                else:
                    out = b.sub(out, k) if neg else b.add(out, k)
            return out  # type: ignore[return-value]
        if e.is_Mul:
            coeff, numer, _ = _split_mul(e)
            p, q = (coeff.p, coeff.q) if coeff.is_Rational else (coeff, 1)
            if not (_fits(p) and _fits(q)):  # 10**400/3 overflows, 10**400/10**399 does not: one float
                self.number(coeff)
                p, q = float(coeff), 1
            num_ids = ([] if abs(p) == 1 else [self.number(abs(p))]) + kids[: len(numer)]
            den_ids = ([] if q == 1 else [self.number(q)]) + kids[len(numer) :]
            top = self.product(num_ids)
            bottom = self.product(den_ids)
            out = b.const(1.0) if top is None else top
            if bottom is not None:
                out = b.div(out, bottom)
            return b.neg(out) if p < 0 else out
        if e.is_Pow:
            if e.base is sp.E:
                return b.call("exp", kids[0])
            if e.exp == sp.S.Half:
                return b.call("sqrt", kids[0])
            if e.exp == -1:
                return b.div(b.const(1.0), kids[0])
            return b.pow(kids[0], kids[1])
        if isinstance(e, (sp.Function, sp.Max, sp.Min)):
            name = _function_op(e.func)
            if name == "heaviside" and len(kids) == 1:  # SymPy's default value at 0 is 1/2
                kids = [kids[0], b.const(0.5)]
            if name in ("max", "min") and len(kids) > 2:  # n-ary in SymPy: fold pairwise
                out = kids[0]
                for k in kids[1:]:
                    out = b.call(name, out, k)
                return out
            if name is None or OPS[name].arity != len(kids):
                raise SymgraphError(f"from_sympy: symgraph has no function for {e.func.__name__}{e.args}")
            return b.call(name, *kids)
        raise SymgraphError(f"from_sympy: cannot compile {type(e).__name__} ({e}); symgraph has no such operation")


def from_sympy(
    expr: Any,
    wrt: Sequence[str] | str | None = None,
    *,
    variables: Sequence[str] | None = None,
    name: str = "value_and_grad",
) -> CompiledFunction:
    """Compile a SymPy expression directly (no printing, no parsing) to a function returning value and
    gradients. Inputs are its free symbols sorted by name, or `variables` in the order given."""
    if isinstance(expr, str):
        raise ArgumentError("from_sympy takes a SymPy expression, not text", hint="use symgraph.compile for text")
    try:
        expr = sp.sympify(expr, strict=True)  # numbers and SymPy objects only, never parsed text
    except sp.SympifyError:
        raise ArgumentError(f"from_sympy: {expr!r} is not a SymPy expression") from None
    graph = Graph()
    builder = _Builder(graph)
    built: dict[sp.Expr, int] = {}
    stack: list[tuple[sp.Expr, bool]] = [(expr, False)]
    while stack:
        e, expanded = stack.pop()
        if e in built:
            continue
        kids = _children(e)
        if not expanded:
            stack.append((e, True))
            stack.extend((k, False) for k in reversed(kids) if k not in built)
            continue
        built[e] = builder.build(e, [built[k] for k in kids])
    free = sorted(builder.symbols)  # collected by the walk: SymPy's free_symbols recurses
    order = free if variables is None else list(variables)
    missing = [s for s in free if s not in order]
    if missing:
        raise ArgumentError(f"from_sympy: variables= leaves out {', '.join(missing)}, which the expression uses")
    bad = [s for s in order if not is_safe_identifier(s)]
    if bad:
        raise ArgumentError(f"from_sympy: {', '.join(map(repr, bad))} cannot name an input (use an identifier)")
    inputs = {s: graph.var(s) for s in order}
    # The text only labels the generated module; a large expression is not printed (SymPy's printer recurses).
    text = sp.sstr(expr) if len(built) <= 200 else f"a SymPy expression of {len(built)} distinct subexpressions"
    program = Program(graph, (built[expr],), inputs, {}, text)
    return CompiledFunction(program, wrt, name)
