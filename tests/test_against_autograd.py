"""symgraph's values and derivatives on arrays against HIPS autograd (an independent reverse-mode AD that we did
not write): gradients of every user op on broadcasting shapes, reductions, Hessians, Hessian-vector products,
Jacobians, and random formulas from tests/strategies.py evaluated at array points.

The convention compared (README "Arrays" and "Higher derivatives"): every derivative is that of the SUM of the
formula's values, so the reference is always autograd's derivative of `anp.sum(formula)`. Gradients have their
input's shape; Hessian/HVP/Jacobian results have shape (n,) + W or (n, n) + W, W the broadcast shape of the
wrt inputs (and of the directions v for an HVP).

Each autograd function below is written from the formula's text with autograd.numpy (never from symgraph's
output). Where the two compute the same mathematics in the same way the tolerance is rtol 1e-12; looser
tolerances say why.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, hessian, jacobian
from autograd.differential_operators import hessian_tensor_product
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symgraph
from symgraph.ops import OPS
from tests.strategies import Formula, formulas

RTOL = 1e-12  # the same mathematics, float64 rounding only
ATOL = 1e-13  # derivatives that are exactly 0 on one side may be a few ulp of a sum on the other


def _close(got: Any, want: Any, what: object, rtol: float = RTOL, atol: float = ATOL) -> None:
    assert np.shape(got) == np.shape(want), (what, np.shape(got), np.shape(want))
    np.testing.assert_allclose(
        np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol, atol, err_msg=str(what)
    )


def _quiet(fn: Callable[..., Any], *args: Any) -> Any:
    """autograd warns "Output seems independent of input" for derivatives that are 0 (floor, sign, x*0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args)


def _autograd_value_and_grads(fn: Callable[..., Any], inputs: dict[str, Any], wrt: tuple[str, ...]):
    """fn's value at the inputs and autograd's gradient of the sum of its values for each name in wrt."""
    names = list(inputs)
    args = [inputs[n] for n in names]

    def total(*a: Any) -> Any:
        return anp.sum(fn(**dict(zip(names, a))))

    grads = [_quiet(grad(total, names.index(w)), *args) for w in wrt]
    return fn(**inputs), grads


def _symgraph_value_and_grads(text: str, inputs: dict[str, Any], wrt: tuple[str, ...]):
    f = symgraph.compile(text, wrt=list(wrt))
    assert set(f.variables) == set(inputs), (text, f.variables)
    return f(**{n: inputs[n] for n in f.variables})


def _agree(text: str, fn: Callable[..., Any], inputs: dict[str, Any], wrt: tuple[str, ...] | None = None) -> None:
    """symgraph's value and gradients of `text` against autograd's of `fn` (the same formula in autograd.numpy)."""
    wrt = tuple(inputs) if wrt is None else wrt
    value, grads = _symgraph_value_and_grads(text, inputs, wrt)
    ref_value, ref_grads = _autograd_value_and_grads(fn, inputs, wrt)
    _close(value, ref_value, (text, "value"))
    assert len(grads) == len(wrt)
    for name, got, want in zip(wrt, grads, ref_grads, strict=True):
        assert np.shape(got) == np.shape(inputs[name]), (text, name, "a gradient has its input's shape")
        _close(got, want, (text, "d/d" + name))


# --- 1. every user op, on broadcasting shapes -----------------------------------------------------------------


def _heaviside(x: Any, h0: Any) -> Any:
    # autograd has no VJP for np.heaviside: the same step from `where` (derivative 0 in x, as symgraph's); h0 is
    # multiplied in, not selected by `where`, whose VJP does not sum a broadcast operand back to its shape.
    return anp.where(x > 0, 1.0, 0.0) + anp.where(x == 0, 1.0, 0.0) * h0


def _cbrt(x: Any) -> Any:
    # autograd has no VJP for np.cbrt: the real cube root as sign(x) * |x|^(1/3), points away from 0.
    return anp.sign(x) * anp.abs(x) ** (1.0 / 3.0)


# symgraph op -> the autograd.numpy function of the same arguments.
AUTOGRAD: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": anp.power,
    "sin": anp.sin,
    "cos": anp.cos,
    "tan": anp.tan,
    "asin": anp.arcsin,
    "acos": anp.arccos,
    "atan": anp.arctan,
    "sinh": anp.sinh,
    "cosh": anp.cosh,
    "tanh": anp.tanh,
    "asinh": anp.arcsinh,
    "acosh": anp.arccosh,
    "atanh": anp.arctanh,
    "exp": anp.exp,
    "expm1": anp.expm1,
    "log": anp.log,
    "log1p": anp.log1p,
    "log2": anp.log2,
    "log10": anp.log10,
    "sqrt": anp.sqrt,
    "cbrt": _cbrt,
    "abs": anp.abs,
    "sign": anp.sign,  # autograd: no gradient (0), as symgraph
    "floor": anp.floor,  # autograd: no gradient (0), as symgraph
    "ceil": anp.ceil,  # autograd: no gradient (0), as symgraph
    "heaviside": _heaviside,
    "atan2": anp.arctan2,
    "hypot": anp.hypot,
    "max": anp.maximum,
    "min": anp.minimum,
    "sigmoid": lambda x: 1.0 / (1.0 + anp.exp(-x)),  # symgraph computes exp(-logaddexp(0, -x)): |x| <= 3 here
    "softplus": lambda x: anp.logaddexp(0.0, x),
    "log_sigmoid": lambda x: -anp.logaddexp(0.0, -x),
    "relu": lambda x: anp.maximum(x, 0.0),  # points away from 0, where autograd splits the adjoint and we give 0
    "sum": anp.sum,
    "mean": anp.mean,
}

INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}

# Samplers: rng, shape -> points inside the op's domain and away from its kinks.


def _any(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(-2.0, 2.0, shape)


def _pos(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(0.3, 3.0, shape)


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(-0.9, 0.9, shape)


def _above1(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(1.2, 3.0, shape)


def _nonzero(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _fractional(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """Away from the integers (floor, ceil): k + [0.1, 0.9]."""
    return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape)


def _low(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """max/min: the first operand in k + [0, 0.4] and the second in k + [0.5, 0.9] never tie, either may win."""
    return rng.integers(-2, 2, shape) + rng.uniform(0.0, 0.4, shape)


def _high(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.integers(-2, 2, shape) + rng.uniform(0.5, 0.9, shape)


def _h0(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(0.0, 1.0, shape)


def _tan(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(-1.2, 1.2, shape)


def _log1p(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(-0.5, 3.0, shape)


Sampler = Callable[[np.random.Generator, tuple[int, ...]], Any]

DOMAINS: dict[str, tuple[Sampler, ...]] = {
    "add": (_any, _any),
    "sub": (_any, _any),
    "mul": (_any, _any),
    "div": (_any, _nonzero),
    "neg": (_any,),
    "pow": (_pos, _any),
    "tan": (_tan,),
    "asin": (_unit,),
    "acos": (_unit,),
    "atanh": (_unit,),
    "acosh": (_above1,),
    "log": (_pos,),
    "log1p": (_log1p,),
    "log2": (_pos,),
    "log10": (_pos,),
    "sqrt": (_pos,),
    "cbrt": (_nonzero,),
    "abs": (_nonzero,),
    "sign": (_nonzero,),
    "relu": (_nonzero,),
    "floor": (_fractional,),
    "ceil": (_fractional,),
    "heaviside": (_nonzero, _h0),
    "atan2": (_nonzero, _nonzero),
    "hypot": (_nonzero, _nonzero),
    "max": (_low, _high),
    "min": (_high, _low),
}

# Shapes that broadcast: (3,) against (2, 3), (1, 3) against (2, 3) and scalars against both.
UNARY_SHAPES = [(), (3,), (1, 3), (2, 3)]
BINARY_SHAPES = [((3,), (2, 3)), ((2, 3), (1, 3)), ((), (2, 3)), ((1, 3), ()), ((), ()), ((2, 1), (1, 3))]
WEIGHT = (2, 3)  # the shape of `w` in `op(...) * w`: every operand is broadcast against it


def user_ops() -> list[str]:
    """Every op the text may call or spell, read from the op table (a new op fails here until it has a row)."""
    return [name for name, spec in OPS.items() if spec.user and spec.arity >= 1 and not spec.matrix]


def _spell(name: str, args: list[str]) -> str:
    if name in INFIX:
        return f"({args[0]} {INFIX[name]} {args[1]})"
    if name == "neg":
        return f"(-{args[0]})"
    return f"{name}({', '.join(args)})"


def test_the_table_covers_every_user_op() -> None:
    assert set(AUTOGRAD) == set(user_ops())
    assert all(OPS[n].arity == len(DOMAINS.get(n, (_any,) * OPS[n].arity)) for n in user_ops())


@pytest.mark.parametrize("name", user_ops())
def test_each_op_on_broadcasting_arrays(name: str) -> None:
    """op(x[, y]) alone, and times w of shape (2, 3), at every shape combination; value and every gradient."""
    arity = OPS[name].arity
    samplers = DOMAINS.get(name, (_any,) * arity)
    reference = AUTOGRAD[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    names = ["x", "y"][:arity]
    combos = [(s,) for s in UNARY_SHAPES] if arity == 1 else BINARY_SHAPES
    for shapes in combos:
        inputs = {n: sample(rng, s) for n, sample, s in zip(names, samplers, shapes)}
        op_text = _spell(name, names)
        _agree(op_text, lambda **a: reference(*(a[n] for n in names)), inputs)
        weighted = {**inputs, "w": rng.uniform(-2.0, 2.0, WEIGHT)}
        _agree(f"{op_text} * w", lambda **a: reference(*(a[n] for n in names)) * a["w"], weighted)
        # the op's result reduced, then broadcast again: d/dx of sum(op(x) * w) = op'(x) * w summed to x's shape
        _agree(
            f"sum({op_text} * w) * w",
            lambda **a: anp.sum(reference(*(a[n] for n in names)) * a["w"]) * a["w"],
            weighted,
        )


def test_heaviside_with_a_constant_value_at_zero() -> None:
    rng = np.random.default_rng(5)
    x = _nonzero(rng, (2, 3))
    _agree("heaviside(x, 0.5) * x", lambda x: _heaviside(x, 0.5) * x, {"x": x})


def test_integer_powers_of_a_negative_base() -> None:
    rng = np.random.default_rng(6)
    inputs = {"x": rng.uniform(-2.0, -0.3, (2, 3)), "y": rng.uniform(-2.0, 2.0, (3,))}
    _agree("x^3 * y + x^2 - 1/x^4", lambda x, y: x**3 * y + x**2 - 1.0 / x**4, inputs)


def test_sigmoid_and_softplus_in_their_tails() -> None:
    """symgraph's stable forms against autograd's direct ones at |x| up to 30 (1/(1+exp(-x)) is accurate there:
    exp does not overflow and 1 + exp(-x) loses nothing relative)."""
    x = np.linspace(-30.0, 30.0, 13)
    _agree("sigmoid(x)", AUTOGRAD["sigmoid"], {"x": x})
    _agree("softplus(x)", AUTOGRAD["softplus"], {"x": x})


# --- reductions --------------------------------------------------------------------------------------------------

REDUCTIONS: list[tuple[str, Callable[..., Any], dict[str, tuple[int, ...]]]] = [
    (
        "mean((w*x+b-y)^2)/2",
        lambda w, x, b, y: anp.mean((w * x + b - y) ** 2) / 2,
        {"w": (), "x": (7,), "b": (), "y": (7,)},
    ),
    (
        "mean((w*x+b-y)^2)/2",
        lambda w, x, b, y: anp.mean((w * x + b - y) ** 2) / 2,
        {"w": (3,), "x": (4, 1), "b": (), "y": (4, 3)},
    ),
    ("sum(tanh(x)^2)", lambda x: anp.sum(anp.tanh(x) ** 2), {"x": (5,)}),
    ("sum(tanh(x)^2)", lambda x: anp.sum(anp.tanh(x) ** 2), {"x": (2, 3)}),
    ("x * sum(y)", lambda x, y: x * anp.sum(y), {"x": (3,), "y": (2, 3)}),
    ("x * sum(y)", lambda x, y: x * anp.sum(y), {"x": (2, 3), "y": (4,)}),
    ("sum(x*0 + y)", lambda x, y: anp.sum(x * 0 + y), {"x": (2, 3), "y": (3,)}),
    ("x*0 + y", lambda x, y: x * 0 + y, {"x": (2, 3), "y": (3,)}),
    ("sum(sum(y) + x)", lambda x, y: anp.sum(anp.sum(y) + x), {"y": (4,), "x": (3,)}),
    ("mean(x) * y", lambda x, y: anp.mean(x) * y, {"x": (2, 3), "y": (1, 3)}),
    ("mean(x*y) - sum(x)/mean(y)", lambda x, y: anp.mean(x * y) - anp.sum(x) / anp.mean(y), {"x": (3,), "y": (2, 3)}),
    ("exp(mean(log(x)))", lambda x: anp.exp(anp.mean(anp.log(x))), {"x": (2, 3)}),
    ("s = sum(x*x); x / sqrt(s)", lambda x: x / anp.sqrt(anp.sum(x * x)), {"x": (4,)}),
    (
        "softplus(x) - mean(softplus(x)) + sum(sigmoid(x*y))",
        lambda x, y: anp.logaddexp(0.0, x) - anp.mean(anp.logaddexp(0.0, x)) + anp.sum(1.0 / (1.0 + anp.exp(-x * y))),
        {"x": (3,), "y": (2, 1)},
    ),
    ("sum(x)", lambda x: anp.sum(x), {"x": ()}),
    ("mean(x) * x", lambda x: anp.mean(x) * x, {"x": ()}),
]


@pytest.mark.parametrize("text, fn, shapes", REDUCTIONS, ids=[f"{t} {list(s.values())}" for t, _, s in REDUCTIONS])
def test_reductions(text: str, fn: Callable[..., Any], shapes: dict[str, tuple[int, ...]]) -> None:
    rng = np.random.default_rng(7)
    inputs = {n: rng.uniform(0.3, 2.0, s) for n, s in shapes.items()}  # positive: log(x) and 1/mean(y)
    _agree(text, fn, inputs)


def test_mean_cost_gradient_for_two_of_four_inputs() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(2, 50))
    inputs = {"w": 0.7, "x": x, "b": -0.2, "y": y}
    _agree("mean((w*x+b-y)^2)/2", lambda w, x, b, y: anp.mean((w * x + b - y) ** 2) / 2, inputs, wrt=("w", "b"))


# --- 2. Hessians and Hessian-vector products ---------------------------------------------------------------------


def _hessian_in_parameters(text: str, fn: Callable[..., Any], wrt: list[str], point: dict[str, Any]):
    """symgraph's Hessian of `text` in scalar parameters `wrt` against autograd's hessian of the sum of fn's values
    as a function of the packed parameter vector; also checks the value and the gradient."""

    def total(p: Any) -> Any:
        return anp.sum(fn(**{**point, **dict(zip(wrt, p))}))

    p = np.array([point[w] for w in wrt], dtype=float)
    h = symgraph.hessian(text, wrt=wrt)
    value, g, hess = h(**{n: point[n] for n in h.variables})
    assert g.shape == (len(wrt),) and hess.shape == (len(wrt), len(wrt))
    _close(value, fn(**point), (text, "value"))
    _close(g, grad(total)(p), (text, "gradient"))
    return hess, hessian(total)(p)


_DATA = np.random.default_rng(9).normal(size=(2, 40))
SCALAR_PARAMETER_HESSIANS = [
    ("mean((w*x+b-y)^2)/2", lambda w, x, b, y: anp.mean((w * x + b - y) ** 2) / 2),
    ("mean(softplus(-(w*x+b)*y))", lambda w, x, b, y: anp.mean(anp.logaddexp(0.0, -(w * x + b) * y))),
    ("mean(log(1 + (w*x + b - y)^2))", lambda w, x, b, y: anp.mean(anp.log(1 + (w * x + b - y) ** 2))),
    ("sum((w*x + b - y)^2) + w^2*b^2", lambda w, x, b, y: anp.sum((w * x + b - y) ** 2) + w**2 * b**2),
    ("(w*x + b - y)^2/2 + log(1 + w^2*b^2)", lambda w, x, b, y: (w * x + b - y) ** 2 / 2 + anp.log(1 + w**2 * b**2)),
    ("exp(mean(w*x)) * sum(b*y)", lambda w, x, b, y: anp.exp(anp.mean(w * x)) * anp.sum(b * y)),
]


@pytest.mark.parametrize("text, fn", SCALAR_PARAMETER_HESSIANS, ids=[t for t, _ in SCALAR_PARAMETER_HESSIANS])
def test_hessian_in_scalar_parameters_with_data(text: str, fn: Callable[..., Any]) -> None:
    """Scalar w, b with data x, y of length 40: one (2, 2) matrix, that of the summed cost (packed parameters)."""
    point = {"w": 0.7, "x": _DATA[0], "b": -0.3, "y": _DATA[1]}
    got, want = _hessian_in_parameters(text, fn, ["w", "b"], point)
    _close(got, want, text)


_X3, _Y4 = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.5, -1.0, 2.0])


@pytest.mark.parametrize(
    "text, fn, wrt, point",
    [
        pytest.param(
            "sum(x + b)^2",
            lambda x, b: anp.sum(x + b) ** 2,
            ["b"],
            {"x": _X3, "b": 0.5},
            id="sum(x + b)^2",
        ),
        pytest.param(
            "mean(x + b)^2",
            lambda x, b: anp.mean(x + b) ** 2,
            ["b"],
            {"x": _X3, "b": 0.5},
            id="mean(x + b)^2",
        ),
        pytest.param(
            "exp(sum(x + b))",
            lambda x, b: anp.exp(anp.sum(x + b)),
            ["b"],
            {"x": _X3, "b": 0.5},
            id="exp(sum(x + b))",
        ),
        pytest.param(
            "sum(w*x)^2 + y",
            lambda w, x, y: anp.sum(w * x) ** 2 + y,
            ["w"],
            {"w": 0.7, "x": _X3, "y": _Y4},
            id="sum(w*x)^2 + y",
        ),
        pytest.param(
            "exp(mean(w*x + b)) * y",
            lambda w, x, b, y: anp.exp(anp.mean(w * x + b)) * y,
            ["w", "b"],
            {"w": 0.7, "x": _X3, "b": -0.2, "y": _Y4},
            id="exp(mean(w*x + b)) * y",
        ),
    ],
)
def test_hessian_in_a_scalar_broadcast_inside_a_reduction(
    text: str, fn: Callable[..., Any], wrt: list[str], point: dict[str, Any]
) -> None:
    """A scalar parameter broadcast against data inside sum/mean, or a reduction broadcast against data."""
    got, want = _hessian_in_parameters(text, fn, wrt, point)
    _close(got, want, text)


ROSENBROCK = "100*(y - x^2)^2 + (1 - x)^2"


def _rosenbrock(p: Any) -> Any:
    return 100 * (p[1] - p[0] ** 2) ** 2 + (1 - p[0]) ** 2


@pytest.mark.parametrize("point", [(-1.2, 1.0), (1.0, 1.0), (0.3, -0.7), (2.5, 4.0)])
def test_rosenbrock_hessian_and_hvp_at_scalars(point: tuple[float, float]) -> None:
    p = np.array(point)
    value, g, hess = symgraph.hessian(ROSENBROCK, wrt=["x", "y"])(x=point[0], y=point[1])  # variables: (y, x)
    assert hess.shape == (2, 2)
    _close(value, _rosenbrock(p), "value")
    _close(g, grad(_rosenbrock)(p), "gradient")
    _close(hess, hessian(_rosenbrock)(p), "hessian")
    v = np.array([0.4, -1.3])
    hv_fn = symgraph.hvp(ROSENBROCK, wrt=["x", "y"])
    assert hv_fn.variables == ("y", "x", "v_x", "v_y")
    _, _, hv = hv_fn(x=point[0], y=point[1], v_x=v[0], v_y=v[1])
    _close(hv, hessian_tensor_product(_rosenbrock)(p, v), "hvp")


def test_rosenbrock_on_arrays_gives_one_hessian_per_point() -> None:
    """Elementwise inputs of one shape S: (2, 2) + S, the block of autograd's full Hessian at each point."""
    rng = np.random.default_rng(10)
    x, y = rng.uniform(-2.0, 2.0, (2, 4))
    _, g, hess = symgraph.hessian(ROSENBROCK, wrt=["x", "y"])(x=x, y=y)
    assert g.shape == (2, 4) and hess.shape == (2, 2, 4)

    def total(p: Any) -> Any:  # p = [x..., y...]
        return anp.sum(100 * (p[4:] - p[:4] ** 2) ** 2 + (1 - p[:4]) ** 2)

    packed = np.concatenate([x, y])
    _close(g, grad(total)(packed).reshape(2, 4), "gradient")
    full = hessian(total)(packed).reshape(2, 4, 2, 4)
    per_point = np.einsum("ikjk->ijk", full)
    off = full.copy()
    for k in range(4):
        off[:, k, :, k] = 0.0
    assert not off.any(), "the reference is block diagonal: points do not couple"
    _close(hess, per_point, "hessian")


def test_sum_of_tanh_squared_on_an_array() -> None:
    """One array input x of length 5: W = (5,). The formula is elementwise under the sum, so autograd's full
    Hessian is diagonal and symgraph's (1, 1, 5) Hessian is that diagonal; the HVP is the full Hessian times v."""
    rng = np.random.default_rng(11)
    x, v = rng.normal(size=(2, 5))

    def f(x: Any) -> Any:
        return anp.sum(anp.tanh(x) ** 2)

    full = hessian(f)(x)
    assert np.count_nonzero(full - np.diag(np.diag(full))) == 0
    value, g, hess = symgraph.hessian("sum(tanh(x)^2)", wrt=["x"])(x)
    assert np.shape(value) == () and g.shape == (1, 5) and hess.shape == (1, 1, 5)
    _close(value, f(x), "value")
    _close(g[0], grad(f)(x), "gradient")
    _close(hess[0, 0], np.diag(full), "hessian")
    _, g2, hv = symgraph.hvp("sum(tanh(x)^2)", wrt=["x"])(x, v)
    assert g2.shape == (1, 5) and hv.shape == (1, 5)
    _close(hv[0], full @ v, "hvp")
    _close(hv[0], hessian_tensor_product(f)(x, v), "hvp")


@pytest.mark.parametrize(
    "text, fn",
    [
        ("sum(tanh(x))^2 * sum(y)", lambda x, y: anp.sum(anp.tanh(x)) ** 2 * anp.sum(y)),
        ("x * sum(y)", lambda x, y: x * anp.sum(y)),
        ("sum(x*x) * sum(y)", lambda x, y: anp.sum(x * x) * anp.sum(y)),
        ("exp(sum(x*y)/10) * y", lambda x, y: anp.exp(anp.sum(x * y) / 10) * y),
        ("mean(x)*sum(y)^2 + sum(x*y)", lambda x, y: anp.mean(x) * anp.sum(y) ** 2 + anp.sum(x * y)),
        ("sum(exp(x*sum(y)))", lambda x, y: anp.sum(anp.exp(x * anp.sum(y)))),
        ("sin(x)*y^2 + cos(x*y)", lambda x, y: anp.sin(x) * y**2 + anp.cos(x * y)),
        pytest.param(
            "sum(x)^2 + y",
            lambda x, y: anp.sum(x) ** 2 + y,
        ),
        pytest.param(
            "s = sum(x*y); exp(s/10) + sin(x)*y^2",
            lambda x, y: anp.exp(anp.sum(x * y) / 10) + anp.sin(x) * y**2,
        ),
        pytest.param(
            "sum(tanh(x))^2 + y^2",
            lambda x, y: anp.sum(anp.tanh(x)) ** 2 + y**2,
        ),
    ],
)
def test_hvp_of_array_inputs_coupled_by_reductions(text: str, fn: Callable[..., Any]) -> None:
    """x, y, v_x, v_y all of shape (4,): hv is the full Hessian of the sum (points coupled) times v, (2, 4)."""
    rng = np.random.default_rng(12)
    x, y, vx, vy = rng.normal(size=(4, 4))

    def total(p: Any) -> Any:
        return anp.sum(fn(p[:4], p[4:]))

    packed, v = np.concatenate([x, y]), np.concatenate([vx, vy])
    h = symgraph.hvp(text, wrt=["x", "y"])
    assert h.variables[-2:] == ("v_x", "v_y")
    args = {"x": x, "y": y, "v_x": vx, "v_y": vy}
    value, g, hv = h(*(args[n] for n in h.variables))
    assert g.shape == (2, 4) and hv.shape == (2, 4)
    _close(value, fn(x, y), "value")
    _close(g, grad(total)(packed).reshape(2, 4), "gradient")
    _close(hv, (hessian(total)(packed) @ v).reshape(2, 4), "hvp")


def test_hvp_minimal_reduction_added_to_an_array() -> None:
    """The smallest case that once disagreed: the gradient first (the HVP is checked below)."""
    x, y = np.array([1.0, 2.0, 3.0]), np.ones(3)
    _, (dx, dy) = symgraph.compile("sum(x)^2 + y")(x=x, y=y)
    _close(dx, np.full(3, 36.0), "d/dx")  # 3 * 2 * sum(x)
    _close(dy, np.ones(3), "d/dy")


def test_hvp_minimal_reduction_added_to_an_array_matches() -> None:
    x, y, vx = np.array([1.0, 2.0, 3.0]), np.ones(3), np.array([1.0, 0.0, 0.0])

    def total(x: Any) -> Any:
        return anp.sum(anp.sum(x) ** 2 + y)

    _, _, hv = symgraph.hvp("sum(x)^2 + y", wrt=["x", "y"])(x=x, y=y, v_x=vx, v_y=np.zeros(3))
    _close(hv[0], hessian_tensor_product(total)(x, vx), "hv_x")


def _row_sums(text: str, fn: Callable[..., Any], wrt: list[str], x: Any, y: Any):
    """symgraph's (2, 2, n) Hessian and what it documents for array inputs: entry (i, j) at point q is
    d/dw_j[q] of the sum of gradient i, the sum over p of autograd's full Hessian block (i, j) at (p, q)."""
    n = len(x)

    def total(p: Any) -> Any:
        return anp.sum(fn(p[:n], p[n:]))

    full = hessian(total)(np.concatenate([x, y])).reshape(2, n, 2, n)
    want = full.sum(axis=1)  # (i, j, q)
    order = [["x", "y"].index(w) for w in wrt]
    want = want[np.ix_(order, order)]
    inputs = {"x": x, "y": y}
    h = symgraph.hessian(text, wrt=wrt)
    return h(*(inputs[v] for v in h.variables))[2], want


def test_hessian_of_array_inputs_coupled_by_a_reduction_is_order_independent() -> None:
    """Points coupled by sum(.): each entry is d/dw_j of the sum of gradient i (not mirrored), whatever the
    order of wrt; where points do not couple that is the per-point Hessian (tests above)."""
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])

    def fn(x: Any, y: Any) -> Any:
        return anp.sum(x * x) * anp.sum(y)

    for wrt in (["x", "y"], ["y", "x"]):
        got, want = _row_sums("sum(x*x) * sum(y)", fn, wrt, x, y)
        _close(got, want, wrt)


def test_hessian_of_one_array_input_coupled_by_a_reduction_is_the_row_sums() -> None:
    x = np.array([1.0, 2.0, 3.0])

    def f(x: Any) -> Any:
        return anp.sum(anp.tanh(x)) ** 2

    _, _, hess = symgraph.hessian("sum(tanh(x))^2", wrt=["x"])(x)
    assert hess.shape == (1, 1, 3)
    _close(hess[0, 0], hessian(f)(x).sum(axis=0), "d/dx of the sum of the gradient")
    _, _, hv = symgraph.hvp("sum(tanh(x))^2", wrt=["x"])(x, np.array([0.3, -1.0, 2.0]))
    _close(hv[0], hessian(f)(x) @ np.array([0.3, -1.0, 2.0]), "the exact Hessian through hvp")


def test_hessian_of_a_scalar_parameter_and_an_array_is_consistent_with_autograd() -> None:
    """a * x^3 + sin(a*x), a scalar and x (3,), W = (3,): d2/da2 is one number (of the sum) at every position,
    d2/da dx_k and d2/dx_k^2 are per point (README "Higher derivatives")."""
    a, x = 0.8, np.array([0.5, -1.0, 2.0])

    def total(p: Any) -> Any:
        return anp.sum(p[0] * p[1:] ** 3 + anp.sin(p[0] * p[1:]))

    packed = np.concatenate([[a], x])
    full, g_ref = hessian(total)(packed), grad(total)(packed)
    _, g, hess = symgraph.hessian("a * x^3 + sin(a*x)", wrt=["a", "x"])(a=a, x=x)
    assert g.shape == (2, 3) and hess.shape == (2, 2, 3)
    _close(g, [np.full(3, g_ref[0]), g_ref[1:]], "gradient")
    want = [[np.full(3, full[0, 0]), full[0, 1:]], [full[1:, 0], np.diag(full[1:, 1:])]]
    _close(hess, want, "hessian")


# --- 3. Jacobians -----------------------------------------------------------------------------------------------


def test_jacobian_of_two_reduced_outputs_in_scalar_parameters() -> None:
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(2, 9))
    text = "r = w*x + b - y; (mean(r^2)/2, sum(tanh(w*x + b)*y))"

    def outputs(p: Any) -> Any:
        r = p[0] * x + p[1] - y
        return anp.stack([anp.mean(r**2) / 2, anp.sum(anp.tanh(p[0] * x + p[1]) * y)])

    p = np.array([0.6, -0.4])
    values, jac = symgraph.jacobian(text, wrt=["w", "b"])(w=p[0], x=x, b=p[1], y=y)
    assert len(values) == 2 and jac.shape == (2, 2)
    _close(np.array(values), outputs(p), "values")
    _close(jac, jacobian(outputs)(p), "jacobian")


def test_jacobian_in_an_array_input() -> None:
    """wrt x of shape (5,): (2, 1, 5), row k the gradient of output k (a sum), compared with autograd's (2, 5)."""
    rng = np.random.default_rng(14)
    x, y = rng.normal(size=(2, 5))

    def outputs(x: Any) -> Any:
        return anp.stack([anp.sum(anp.tanh(x) ** 2), anp.mean(x * y) * anp.sum(x)])

    values, jac = symgraph.jacobian("(sum(tanh(x)^2), mean(x*y) * sum(x))", wrt=["x"])(x=x, y=y)
    assert jac.shape == (2, 1, 5)
    _close(np.array(values), outputs(x), "values")
    _close(jac[:, 0, :], jacobian(outputs)(x), "jacobian")


def test_jacobian_rows_of_an_array_output_are_derivatives_of_its_sum() -> None:
    """An elementwise output beside a reduction: row 0 is d(sum of x*y)/d(w, b) for scalar w, b."""
    x, y = np.array([1.0, -2.0, 0.5]), np.array([[0.3], [1.1]])

    def outputs(p: Any) -> Any:
        return anp.stack([anp.sum(p[0] * x * y + p[1]), anp.mean(anp.exp(p[0] * x) * p[1])])

    p = np.array([0.4, 1.7])
    values, jac = symgraph.jacobian("(w*x*y + b, mean(exp(w*x)*b))", wrt=["w", "b"])(w=p[0], x=x, b=p[1], y=y)
    assert np.shape(values[0]) == (2, 3) and jac.shape == (2, 2)
    _close(np.sum(values[0]), outputs(p)[0], "value 0")
    _close(jac, jacobian(outputs)(p), "jacobian")


# --- 4. random formulas (tests/strategies.py) at array points ---------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")


def _autograd_function(form: Formula) -> Callable[..., Any]:
    """The formula's text as a Python function over autograd.numpy: the strategy's spelling is Python's with `^`
    for `**` (same precedence and associativity: tests/../grammar/symgraph.lark) and op names as calls.
    Integer literals become floats so that constant parts are float64 (2^4^... never a Python int)."""
    lines = [_NUMBER.sub(r"\1.0", line.replace("^", "**")) for line in re.split(r"[;\n]", form.text)]
    body = [line.strip() for line in lines if line.strip()]
    namespace = {**AUTOGRAD, "pi": np.pi}
    source = "\n".join(f"    {line}" for line in body[:-1])
    code = f"def formula({', '.join(form.variables)}):\n{source}\n    return {body[-1]}\n"
    exec(compile(code, "<formula>", "exec"), namespace)  # the text is generated by tests/strategies.py
    return namespace["formula"]


@st.composite
def array_points(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, Any]:
    """Shape (4,) per input, coordinates of magnitude 0.1 to 3 and either sign (as strategies.points)."""
    coordinate = st.builds(lambda m, s: m * s, st.floats(0.1, 3.0), st.sampled_from([-1.0, 1.0]))
    return {n: np.array(draw(st.lists(coordinate, min_size=4, max_size=4))) for n in names}


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_formulas_at_array_points(data: st.DataObject) -> None:
    """Random formulas over every user op (sum and mean included, which reduce here) at points of shape (4,).
    Tolerance as tests/test_properties.py (rtol 1e-8, atol 1e-10): symgraph simplifies and canonicalises
    (x^2 -> x*x, sorted products) and its derivative formulas differ in form from autograd's, so rounding
    differs and nested formulas amplify it."""
    form = data.draw(formulas(), label="formula")
    inputs = data.draw(array_points(form.variables), label="point")
    fn = _autograd_function(form)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref_value, ref_grads = _autograd_value_and_grads(fn, inputs, form.wrt)
        except (OverflowError, ZeroDivisionError):
            ref_value, ref_grads = np.nan, []
        assume(np.all(np.isfinite(ref_value)) and all(np.all(np.isfinite(g)) for g in ref_grads))
        value, grads = _symgraph_value_and_grads(form.text, inputs, form.wrt)
    _close(value, ref_value, (form, "value"), rtol=1e-8, atol=1e-10)
    for name, got, want in zip(form.wrt, grads, ref_grads, strict=True):
        assert np.shape(got) == (4,), (form, name)
        _close(got, want, (form, "d/d" + name), rtol=1e-8, atol=1e-10)


def test_the_text_evaluator_reads_the_strategy_spelling() -> None:
    """The evaluator of the property test on a hand-written formula of the strategies' spelling."""
    form = Formula("s0 = x ^ 2; max((-s0), y) + heaviside(x, 0.5) * 2 ^ (-1) + sum(y)", None, ("x", "y"), ("x", "y"))
    fn = _autograd_function(form)
    x, y = np.array([1.5, -0.5, 2.0]), np.array([0.3, -3.0, 1.0])
    want = np.maximum(-(x**2), y) + np.heaviside(x, 0.5) * 0.5 + np.sum(y)
    np.testing.assert_array_equal(fn(x, y), want)
