"""References for the matrix tests: a formula's text read as HIPS autograd code, central finite differences,
and the check every matrix case goes through (undeclared and declared shapes, against both references).

The autograd reading evaluates the formula's own text as Python over autograd.numpy: symgraph's `@`, `.T`,
keyword arguments and precedence are Python's, `^` becomes `**`, and each function name is bound below to
autograd.numpy's function of the documented meaning (README "Vectors and matrices"). Nothing here reads
symgraph's output; autograd differentiates on its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.scipy.special import logsumexp as _anp_logsumexp

import symgraph

Shapes = dict[str, tuple[int, ...]]
RTOL_AUTOGRAD = 1e-10
RTOL_FD = 1e-6


def _reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
    def reduce(x: Any, *rest: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        if rest:  # max(x, y), min(x, y): elementwise
            return (anp.maximum if fn is anp.max else anp.minimum)(x, *rest)
        return fn(x, axis=axis, keepdims=keepdims)

    return reduce


def _logsumexp(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    return _anp_logsumexp(x, axis=axis, keepdims=keepdims)


def _log_softmax(x: Any, axis: int | None = None) -> Any:
    return x - _anp_logsumexp(x, axis=axis, keepdims=True)


AUTOGRAD_NAMES: dict[str, Any] = {
    "sum": _reduce(anp.sum),
    "mean": _reduce(anp.mean),
    "max": _reduce(anp.max),
    "min": _reduce(anp.min),
    "logsumexp": _logsumexp,
    "softmax": lambda x, axis=None: anp.exp(_log_softmax(x, axis)),
    "log_softmax": _log_softmax,
    "log_sigmoid": lambda x: -anp.logaddexp(0.0, -x),
    "transpose": anp.transpose,
    "dot": anp.dot,
    "outer": anp.outer,
    "tr": anp.trace,
    "trace": anp.trace,
    "det": anp.linalg.det,
    "inv": anp.linalg.inv,
    "logdet": lambda x: anp.linalg.slogdet(x)[1],
    "norm": lambda x: anp.sqrt(anp.sum(x * x)),
    "norm1": lambda x: anp.sum(anp.abs(x)),
    "exp": anp.exp,
    "log": anp.log,
    "sin": anp.sin,
    "cos": anp.cos,
    "tanh": anp.tanh,
    "sqrt": anp.sqrt,
    "abs": anp.abs,
    "True": True,
}


def formula_body(text: str) -> str:
    """The formula without its shape declarations (lines `X: [...]`)."""
    return "\n".join(line for line in text.split("\n") if ":" not in line).strip()


def autograd_function(text: str, names: list[str]) -> Callable[..., Any]:
    """The formula as a function of its inputs (in `names` order) over autograd.numpy."""
    code = compile(formula_body(text).replace("^", "**"), "<formula>", "eval")

    def fn(*args: Any) -> Any:
        return eval(code, {"__builtins__": {}, **AUTOGRAD_NAMES}, dict(zip(names, args)))

    return fn


def autograd_value_and_grads(text: str, names: list[str], args: list[np.ndarray]) -> tuple[Any, list[Any]]:
    """autograd's value and gradient of the sum of the formula's values for every input."""
    fn = autograd_function(text, names)

    def total(*a: Any) -> Any:
        return anp.sum(fn(*a))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Output seems independent of input"
        grads = [grad(total, k)(*args) for k in range(len(args))]
    return fn(*args), grads


def finite_differences(f: Callable[..., Any], args: list[np.ndarray], h: float = 1e-6) -> list[np.ndarray]:
    """Central differences of sum(f(*args)) in every element of every argument."""
    out = []
    for k, a in enumerate(args):
        g = np.zeros(np.shape(a))
        for idx in np.ndindex(np.shape(a)):
            up, down = [np.array(x, dtype=float) for x in args], [np.array(x, dtype=float) for x in args]
            up[k][idx] += h
            down[k][idx] -= h
            g[idx] = (np.sum(f(*up)) - np.sum(f(*down))) / (2 * h)
        out.append(g)
    return out


def symbolic(shapes: Shapes) -> dict[str, tuple[int | str, ...]]:
    """Each size above 1 named (3 -> "d3"), so declarations use symbolic dims; 1 stays (it broadcasts)."""
    return {k: tuple(d if d == 1 else f"d{d}" for d in v) for k, v in shapes.items()}


def close(got: Any, want: Any, what: object, rtol: float = RTOL_AUTOGRAD, atol: float = 1e-12) -> None:
    assert np.shape(got) == np.shape(want), (what, np.shape(got), np.shape(want))
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol, atol, err_msg=str(what))


def check(
    text: str, args: dict[str, np.ndarray], *, fd: bool = True, declared: bool = True
) -> symgraph.CompiledFunction:
    """Compile `text` undeclared and (with `declared`) with every input's shape declared in symbolic dims:
    both generated functions agree with each other, with autograd (value and every gradient) and, with
    `fd`, with central finite differences of the value."""
    f = symgraph.compile(text)
    names = list(f.variables)
    point = [np.asarray(args[n], dtype=float) for n in names]
    want_value, want_grads = autograd_value_and_grads(text, names, point)
    value, grads = f(*point)
    close(value, want_value, (text, "value"))
    for n, g, w in zip(names, grads, want_grads):
        close(g, w, (text, "d_" + n))
    if declared:
        g_decl = symgraph.compile(text, shapes=symbolic({n: np.shape(args[n]) for n in names}))
        assert list(g_decl.variables) == names
        value2, grads2 = g_decl(*point)
        close(value2, value, (text, "declared value"), rtol=1e-12)
        for n, a, b in zip(names, grads2, grads):
            close(a, b, (text, "declared d_" + n), rtol=1e-12)
    if fd:
        fd_grads = finite_differences(lambda *a: f.function(*a)[0], point)
        for n, g, w in zip(names, grads, fd_grads):
            close(g, w, (text, "FD d_" + n), rtol=RTOL_FD, atol=1e-7)
    return f
