"""THE op table: one frozen record per operation, the single source of truth for every function.

A record says how many inputs the op takes, how it prints in NumPy (a template over its inputs' text) and in
SymPy (a function name or an operator symbol), how to compute it (a NumPy callable, used to fold constants and
to interpret a graph), and its local derivative: one adjoint rule per input, which builds graph nodes from the
incoming adjoint `g`. Adding a function is one entry here plus its row in the table-driven tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import runtime
from .dims import sum_axes
from .opdef import ATOM, LEAF, LIKE, MAP, POWER, PRODUCT, REDUCE, SUM, SUM_TO, TENSOR, UNARY, VARIADIC, Op, Rule
from .tensor_ops import TENSOR_HELPERS, TENSOR_OPS, reduction_render

if TYPE_CHECKING:
    from .ir import Graph

__all__ = ["ATOM", "LEAF", "LIKE", "MAP", "POWER", "PRODUCT", "REDUCE", "SUM", "SUM_TO", "TENSOR", "UNARY"]
__all__ += ["VARIADIC", "Op", "Rule", "OPS", "FUNCTIONS", "CONSTANTS", "op"]


def _sq(b: Graph, x: int) -> int:
    return b.mul(x, x)


# --- adjoint rules -------------------------------------------------------------------------------------


def _one_at_zero(b: Graph, u: int) -> int:
    """1 where u is 0, else 0; for a constant u it folds away."""
    return b.call("one_at_zero", u)


def _pow_dbase(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    x, y = a
    # (y*g) * x^(y-1): when g and y are numbers (a reduction's adjoint, a constant exponent) the product
    # is one number and the array sees a single multiplication. Where y is 0 the exponent is taken as 1, so
    # d/dx x^0 is 0 at x = 0 too, not 0 * inf (HIPS autograd's rule).
    exponent = b.sub(y, b.const(1.0))
    if b.constant_value(y) is None:
        exponent = b.add(exponent, _one_at_zero(b, y))
    return b.mul(b.mul(y, g), b.pow(x, exponent))


def _pow_dexp(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    # x^y * log(x), with log(1) where x is 0: the limit 0 for y > 0 (one zero data point must not turn a
    # fitted exponent's gradient into nan), as HIPS autograd does.
    x = a[0]
    return b.mul(g, b.mul(out, b.call("log", b.add(x, _one_at_zero(b, x)))))


# With exact=False, x^3 and x^4 print as products of a named x: the derivative 3*x^2 keeps the pow rule's
# shape (one product x*x, shared), where products built in the graph would go through the product rule twice.
# Higher whole powers (up to simplify.MAX_POWER_BY_PRODUCTS) are built from products by squaring instead.
PRINTED_POWERS = (3.0, 4.0, -3.0, -4.0)


def power_by_products(b: Graph, i: int) -> int:
    """k when node i is x^k that prints as k-1 multiplications of x (exact=False, k in PRINTED_POWERS), else 0."""
    if b.exact or b.nodes[i].op != "pow":
        return 0
    k = b.constant_value(b.nodes[i].args[1])
    return int(k) if k in PRINTED_POWERS else 0


def _render_pow(b: Graph, i: int, texts: list[tuple[str, int]], call: str = "np.power") -> tuple[str, int]:
    """np.power(x, y), or with exact=False x * x * x for x^3 (1.0 / (x * x * x) for x^-3)."""
    k = power_by_products(b, i)
    (x, prec), (y, _) = texts
    if not k:
        return f"{call}({x}, {y})", ATOM
    base = x if prec >= POWER else f"({x})"
    product = " * ".join([base] * abs(k))
    return (product, PRODUCT) if k > 0 else (f"1.0 / ({product})", PRODUCT)


def _render_pow_xp(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """_render_pow in the Array-API form (xp.py)."""
    return _render_pow(b, i, texts, "xp.pow")


def _mul_d0(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    # x*x (how x^2 is built): the whole derivative 2*g*x comes through the first factor.
    return b.mul(b.mul(b.const(2.0), g), a[0]) if a[0] == a[1] else b.mul(g, a[1])


def _mul_d1(b: Graph, a: tuple[int, ...], out: int, g: int) -> int | None:
    return None if a[0] == a[1] else b.mul(g, a[0])


def _g(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    return g


def _neg_g(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    return b.neg(g)


def _over_sqrt(sign: float, inner: Callable[[Graph, int], int]) -> Rule:
    """g / sqrt(inner(x)), negated when sign < 0: the shape of asin, acos, asinh and acosh."""

    def rule(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
        d = b.div(g, b.call("sqrt", inner(b, a[0])))
        return d if sign > 0 else b.neg(d)

    return rule


def _one_minus_sq(b: Graph, x: int) -> int:
    return b.sub(b.const(1.0), _sq(b, x))


def _sigmoid_d(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    # s(x) * s(-x): both factors are accurate in their tails, unlike s * (1 - s) for large x.
    return b.mul(g, b.mul(out, b.call("sigmoid", b.neg(a[0]))))


def _half(b: Graph) -> int:
    return b.const(0.5)


def _max_d(first: bool, hi: bool) -> Rule:
    """max/min: the whole adjoint goes to the larger (smaller) input; a tie splits it half and half."""

    def rule(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
        this, other = (a[0], a[1]) if first else (a[1], a[0])
        diff = b.sub(this, other) if hi else b.sub(other, this)
        return b.mul(g, b.call("heaviside", diff, _half(b)))

    return rule


def _sigmoid(x: Any) -> Any:
    return np.exp(-np.logaddexp(0.0, -x))


def _binary(name: str, sym: str, impl: Callable[..., Any], prec: int, grads: tuple[Rule | None, ...], **kw: Any) -> Op:
    return Op(name, 2, "{0} " + sym + " {1}", sym, impl, grads, prec, (prec, prec + 1), **kw)


def _fn(name: str, impl: Callable[..., Any], grads: tuple[Rule | None, ...], sympy: str = "", **kw: Any) -> Op:
    arity = len(grads)
    args = ", ".join("{" + str(i) + "}" for i in range(arity))
    template = kw.pop("numpy", f"np.{kw.pop('np_name', name)}({args})")
    return Op(name, arity, template, sympy or name, impl, grads, **kw)


def _d(f: Callable[[Graph, int, int, int], int]) -> Rule:
    """A one-input rule written as f(b, x, out, g)."""
    return lambda b, a, out, g: f(b, a[0], out, g)


_LN2, _LN10 = math.log(2.0), math.log(10.0)

# --- reductions and the reverse pass's bookkeeping ----------------------------------------------------------

# The helpers generated modules carry (runtime.py); codegen copies their source into each module.
RUNTIME_HELPERS = (
    runtime._sum_to,
    runtime._sum_to_dot,
    runtime._dot_all,
    runtime._dot_mean,
    runtime._sum_product,
    runtime._mean_product,
    runtime._size,
    runtime._like,
    runtime._fresh,
    runtime._stack,
    runtime._python_numbers,
    runtime._numpy_floats,
    runtime._float_dtype,
    runtime._flat,
    runtime._directions,
    *TENSOR_HELPERS,
)


def _mean_d(b: Graph, a: tuple[int, ...], out: int, g: int) -> int:
    """d mean(u)/du_i = 1/size(u); the size is read from the inputs u broadcasts from, which live anyway."""
    return b.div(g, b.size_of(a[0]))


def _render_sum_to(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """`_sum_to(g, w, (w, x))`: g summed to the shape of the first inputs, over the shape of the rest."""
    node = b.nodes[i]
    k = node.params[0]
    if len(node.params) > 2:  # the dims are known (Graph.sum_to): so are the axes to sum
        lead, keep = sum_axes(b.dims(node.args[0]), b.dims(node.params[2]))  # type: ignore[arg-type]
        text = texts[0][0] if texts[0][1] >= ATOM else f"({texts[0][0]})"  # an array: its own sum method
        if keep:
            text = f"{text}.sum(axis={_axes(keep)}, keepdims=True)"
        if lead:
            text = f"{text}.sum(axis={_axes(lead)})"
        return (text, ATOM) if keep or lead else texts[0]
    like = [t for t, _ in texts[1 : 1 + k]]
    space = [t for t, _ in texts[1 + k :]]
    return f"_sum_to({texts[0][0]}, {_tuple_text(like)}, {_tuple_text(space)})", ATOM


DOTS = ("sum_to", "sum", "mean")  # sums that can take a product's factors and make no array of it


def product_factors(b: Graph, i: int, uses: int, named: dict[int, str]) -> tuple[int, int] | None:
    """The factors of node i when it is a product of two arrays (no number) that its one reader (`uses` 1)
    inlines; the helpers that sum it check at run time that the two have one shape."""
    node = b.nodes[i]
    if node.op != "mul" or uses != 1 or i in named:
        return None
    x, y = node.args
    return None if b.shapes[x].is_number or b.shapes[y].is_number else (x, y)


def dot_text(b: Graph, i: int, texts: list[tuple[str, int]], factors: tuple[str, str]) -> tuple[str, int] | None:
    """Node i (its operands' texts given), a sum of a product, as a dot product: a gradient's sums always (the
    order a gradient's terms are added in is ours to choose), the formula's own sum and mean with exact=False
    (the sum's rounding changes), and by default NumPy's own sum followed block by block (runtime._sum_product:
    the same bits, no array of the product). None where that does not apply."""
    node = b.nodes[i]
    if node.op == "sum_to":
        if len(node.params) > 2:  # known dims: the sum's axes are printed (_render_sum_to)
            return None
        k = node.params[0]
        like = _tuple_text([t for t, _ in texts[1 : 1 + k]])
        space = _tuple_text([t for t, _ in texts[1 + k :]])
        return f"_sum_to_dot({factors[0]}, {factors[1]}, {like}, {space})", ATOM
    helper = ("_sum_product", "_mean_product") if b.exact else ("_dot_all", "_dot_mean")  # exact: NumPy's own sum
    return f"{helper[node.op == 'mean']}({factors[0]}, {factors[1]})", ATOM


def _render_sum_to_xp(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """_render_sum_to in the Array-API form (xp.py): xp.sum for the arrays' sum method, the namespace to _sum_to."""
    node = b.nodes[i]
    if len(node.params) > 2:
        lead, keep = sum_axes(b.dims(node.args[0]), b.dims(node.params[2]))  # type: ignore[arg-type]
        text = texts[0][0]
        text = f"xp.sum({text}, axis={_axes(keep)}, keepdims=True)" if keep else text
        return (f"xp.sum({text}, axis={_axes(lead)})", ATOM) if lead else (text, ATOM if keep else texts[0][1])
    text, prec = _render_sum_to(b, i, texts)
    return "_sum_to(xp, " + text[len("_sum_to(") :], prec


def _axes(axes: tuple[int, ...]) -> str:
    return str(axes[0]) if len(axes) == 1 else str(axes)


def _tuple_text(items: list[str]) -> str:
    """One shape source as itself, several as a tuple (runtime._sum_to takes both)."""
    return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"


# fmt: off
OPS: dict[str, Op] = {op.name: op for op in [
    # Leaves: inputs and constants. Their printing is the codegen's business.
    Op("var", 0, "", "Symbol", lambda: None, (), user=False, shape=LEAF),
    Op("const", 0, "", "Float", lambda: None, (), user=False, shape=LEAF),
    # Arithmetic. The right operand of a same-precedence operator is parenthesised so that the printed
    # code evaluates in exactly the graph's order (floating point is not associative).
    _binary("add", "+", np.add, SUM, (_g, _g), commutative=True),
    _binary("sub", "-", np.subtract, SUM, (_g, _neg_g)),
    _binary("mul", "*", np.multiply, PRODUCT, (_mul_d0, _mul_d1), commutative=True),
    _binary("div", "/", np.true_divide, PRODUCT, (
        lambda b, a, o, g: b.div(g, a[1]),
        lambda b, a, o, g: b.neg(b.div(b.mul(g, o), a[1])))),
    Op("neg", 1, "-{0}", "-", np.negative, (_neg_g,), UNARY, (UNARY,)),
    Op("pos", 1, "{0}", "+", np.positive, (_g,), ATOM, (ATOM,), user=False, shares="operand"),
    # Powers that simplify.py does not turn into products, quotients or square roots go through np.power on
    # Python floats too, so that numbers and arrays get the same bits (C's pow and NumPy's differ).
    _fn("pow", np.power, (_pow_dbase, _pow_dexp), sympy="**", np_name="power", aliases=("power",), render=_render_pow,
        xp=_render_pow_xp,
        note="x^y for non-integer y is nan for x < 0, as in NumPy; d/dy is x^y*log(x), taken as 0 at x = 0."),
    # Elementary functions.
    _fn("sin", np.sin, (_d(lambda b, x, o, g: b.mul(g, b.call("cos", x))),)),
    _fn("cos", np.cos, (_d(lambda b, x, o, g: b.neg(b.mul(g, b.call("sin", x)))),)),
    _fn("tan", np.tan, (_d(lambda b, x, o, g: b.mul(g, b.add(b.const(1.0), _sq(b, o)))),)),
    _fn("asin", np.arcsin, (_over_sqrt(1, _one_minus_sq),), np_name="arcsin", aliases=("arcsin",), xp="xp.asin({0})",
        note="domain [-1, 1]; the derivative is infinite at the ends."),
    _fn("acos", np.arccos, (_over_sqrt(-1, _one_minus_sq),), np_name="arccos", aliases=("arccos",), xp="xp.acos({0})",
        note="domain [-1, 1]; the derivative is infinite at the ends."),
    _fn("atan", np.arctan, (_d(lambda b, x, o, g: b.div(g, b.add(b.const(1.0), _sq(b, x)))),),
        np_name="arctan", aliases=("arctan",), xp="xp.atan({0})"),
    _fn("sinh", np.sinh, (_d(lambda b, x, o, g: b.mul(g, b.call("cosh", x))),)),
    _fn("cosh", np.cosh, (_d(lambda b, x, o, g: b.mul(g, b.call("sinh", x))),)),
    _fn("tanh", np.tanh, (_d(lambda b, x, o, g: b.mul(g, b.sub(b.const(1.0), _sq(b, o)))),)),
    _fn("asinh", np.arcsinh, (_over_sqrt(1, lambda b, x: b.add(_sq(b, x), b.const(1.0))),),
        np_name="arcsinh", aliases=("arcsinh", "arsinh"), xp="xp.asinh({0})"),
    _fn("acosh", np.arccosh, (_over_sqrt(1, lambda b, x: b.sub(_sq(b, x), b.const(1.0))),),
        np_name="arccosh", aliases=("arccosh", "arcosh"),
        xp="xp.acosh({0})", note="domain [1, inf); the derivative is infinite at 1."),
    _fn("atanh", np.arctanh, (_d(lambda b, x, o, g: b.div(g, _one_minus_sq(b, x))),),
        np_name="arctanh", aliases=("arctanh", "artanh"), xp="xp.atanh({0})", note="domain (-1, 1)."),
    _fn("exp", np.exp, (_d(lambda b, x, o, g: b.mul(g, o)),)),
    _fn("expm1", np.expm1, (_d(lambda b, x, o, g: b.mul(g, b.add(o, b.const(1.0)))),)),
    _fn("log", np.log, (_d(lambda b, x, o, g: b.div(g, x)),), aliases=("ln",),
        note="natural logarithm; nan for x < 0 and -inf at 0, as in NumPy."),
    _fn("log1p", np.log1p, (_d(lambda b, x, o, g: b.div(g, b.add(b.const(1.0), x))),)),
    _fn("log2", np.log2, (_d(lambda b, x, o, g: b.div(g, b.mul(x, b.const(_LN2)))),)),
    _fn("log10", np.log10, (_d(lambda b, x, o, g: b.div(g, b.mul(x, b.const(_LN10)))),)),
    _fn("sqrt", np.sqrt, (_d(lambda b, x, o, g: b.div(g, b.mul(b.const(2.0), o))),),
        note="the derivative is infinite at 0."),
    _fn("cbrt", np.cbrt, (_d(lambda b, x, o, g: b.div(g, b.mul(b.const(3.0), _sq(b, o)))),),
        xp="_cbrt(xp, {0})", note="real cube root, defined for x < 0; the derivative is infinite at 0."),
    _fn("abs", np.abs, (_d(lambda b, x, o, g: b.mul(g, b.call("sign", x))),), sympy="Abs",
        note="d|x|/dx at 0 is 0 (the subgradient's midpoint; autograd, CasADi and PyTensor agree)."),
    _fn("sign", np.sign, (None,), aliases=("sgn",),
        note="-1, 0 or 1; derivative 0 (also at 0, where it is undefined)."),
    _fn("floor", np.floor, (None,), note="derivative 0 (undefined at integers)."),
    _fn("ceil", np.ceil, (None,), sympy="ceiling", aliases=("ceiling",), note="derivative 0 (undefined at integers)."),
    _fn("heaviside", np.heaviside, (None, None), sympy="Heaviside", xp="_heaviside(xp, {0}, {1})",
        note="heaviside(x, h0): 0 for x < 0, h0 at 0, 1 for x > 0; derivative 0."),
    # Two-argument functions.
    _fn("atan2", np.arctan2, (
        lambda b, a, o, g: b.div(b.mul(g, a[1]), b.add(_sq(b, a[1]), _sq(b, a[0]))),
        lambda b, a, o, g: b.neg(b.div(b.mul(g, a[0]), b.add(_sq(b, a[1]), _sq(b, a[0]))))),
        np_name="arctan2", aliases=("arctan2",),
        xp="xp.atan2({0}, {1})", note="atan2(y, x), the angle of the point (x, y)."),
    _fn("hypot", np.hypot, (
        lambda b, a, o, g: b.mul(g, b.div(a[0], o)),
        lambda b, a, o, g: b.mul(g, b.div(a[1], o))),
        note="sqrt(x^2 + y^2) without overflow; the gradient is nan at (0, 0)."),
    _fn("max", np.maximum, (_max_d(True, True), _max_d(False, True)), sympy="Max", np_name="maximum",
        note="at a tie the adjoint is split half and half (as JAX and autograd do)."),
    _fn("min", np.minimum, (_max_d(True, False), _max_d(False, False)), sympy="Min", np_name="minimum",
        note="at a tie the adjoint is split half and half (as JAX and autograd do)."),
    # Smooth building blocks of machine learning, stable in value and derivative.
    Op("sigmoid", 1, "np.exp(-np.logaddexp(0.0, -{0}))", "sigmoid", _sigmoid, (_sigmoid_d,), ATOM, (UNARY,),
       aliases=("expit", "logistic"),
       note="1/(1+exp(-x)) computed as exp(-log(1+exp(-x))): no overflow, accurate in both tails."),
    _fn("softplus", lambda x: np.logaddexp(0.0, x), (_d(lambda b, x, o, g: b.mul(g, b.call("sigmoid", x))),),
        numpy="np.logaddexp(0.0, {0})", note="log(1+exp(x)) as np.logaddexp(0, x): softplus(1000) is 1000."),
    _fn("relu", lambda x: np.maximum(x, 0.0),
        (_d(lambda b, x, o, g: b.mul(g, b.call("heaviside", x, b.const(0.0)))),),
        numpy="np.maximum({0}, 0.0)", note="max(x, 0); the derivative at 0 is 0 (as PyTorch and JAX)."),
    # Reductions: one number from all the elements of an array. Each element of the input gets the
    # output's whole adjoint, which broadcasts back over the input's shape.
    _fn("sum", np.sum, (_g,), sympy="Sum", shape=REDUCE, note="the sum of all elements; a scalar is its own sum.",
        render=reduction_render("sum", "np.sum({0})")),
    _fn("mean", np.mean, (_mean_d,), sympy="mean", shape=REDUCE, render=reduction_render("mean", "np.mean({0})"),
        note="sum(u)/size(u): the average over all elements."),
    # Where a derivative takes a limit at 0 (pow's): True (1) exactly where u is 0, so that u + this is never 0.
    # A bool, so a float32 array plus it stays float32; SymPy, which checks away from such points, reads 0.
    Op("one_at_zero", 1, "({0} == 0.0)", "one_at_zero", lambda u: np.equal(u, 0.0) * 1.0, (None,), ATOM, (SUM,),
       user=False, note="1 where u is 0, else 0.", xp="_one_at_zero(xp, {0})"),
    # The reverse pass's own bookkeeping (never written by the user): the number of points the inputs
    # broadcast to, and an adjoint summed down to the shape of the inputs an operand broadcasts from.
    Op("size", VARIADIC, "_size({args})", "size", runtime._size, (), shape=REDUCE, user=False,
       note="the number of elements the inputs broadcast to (1 for numbers)."),
    Op("sum_to", VARIADIC, "", "sum_to", runtime._sum_to, (_g,), shape=SUM_TO, user=False,
       render=_render_sum_to, xp=_render_sum_to_xp, shares="operand"),
    # A gradient whose value is the same at every point of its input (sum(w) in w): broadcast to the input's
    # shape, so that differentiating it again counts every point.
    Op("like", VARIADIC, "_like({args})", "like", runtime._like, (_g,), shape=LIKE, user=False, xp="_like(xp, {args})",
       shares="operand"),  # a new array, but for numbers (codegen's numbers path) the number itself
    *TENSOR_OPS,
]}
# fmt: on

# Names the text may call, aliases included, mapped to op names.
FUNCTIONS: dict[str, str] = {}
for _op in OPS.values():
    if _op.user and _op.arity and _op.name not in ("add", "sub", "mul", "div", "neg"):
        FUNCTIONS[_op.name] = _op.name
        for _alias in _op.aliases:
            FUNCTIONS[_alias] = _op.name

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def op(name: str) -> Op:
    """The op record for `name`; a loud error for an unknown op, never a fallback."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"symgraph has no op {name!r}") from None
