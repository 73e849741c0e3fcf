"""Gradients of classic matrix-calculus formulas (the examples of matrixcalculus.org) equal their closed forms,
written here by hand; the stable classifier blocks stay finite at +-1000 without an overflow warning; and
Hessian-vector products of formulas over one vector input equal H @ v from the closed-form Hessian.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest

import symgraph
from tests.matrix_reference import autograd_function, close, symbolic


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-t))


def _point(rng: np.random.Generator) -> dict[str, np.ndarray]:
    X = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    assert np.linalg.det(X) > 0  # log(det(inv(X))) needs a positive determinant
    return {
        "x": rng.normal(size=3), "v": rng.normal(size=3), "w": rng.normal(size=4), "y": rng.normal(size=4),
        "A": rng.normal(size=(4, 3)), "Q": rng.normal(size=(3, 3)), "Xsq": X,
        "Xd": rng.normal(size=(5, 3)), "labels": rng.choice([-1.0, 1.0], size=5), "wd": rng.normal(size=3),
        "At": rng.normal(size=(2, 3)), "B": rng.normal(size=(4, 4)), "Xt": rng.normal(size=(4, 3)),
        "C": rng.normal(size=(3, 2)),
    }  # fmt: skip


# Each example: formula, inputs (formula name -> point name), closed-form gradients (formula name -> fn of p).
Closed = dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]]
EXAMPLES: list[tuple[str, dict[str, str], Closed]] = [
    ("0.5 * x.T @ A @ x", {"x": "x", "A": "Q"}, {
        "x": lambda p: 0.5 * (p["Q"] + p["Q"].T) @ p["x"],
        "A": lambda p: 0.5 * np.outer(p["x"], p["x"]),
    }),
    ("sum(w * (A @ exp(x)))", {"w": "w", "A": "A", "x": "x"}, {
        "w": lambda p: p["A"] @ np.exp(p["x"]),
        "A": lambda p: np.outer(p["w"], np.exp(p["x"])),
        "x": lambda p: np.exp(p["x"]) * (p["A"].T @ p["w"]),
    }),
    ("(y * v).T @ x", {"y": "x", "v": "v", "x": "wd"}, {
        "y": lambda p: p["v"] * p["wd"], "v": lambda p: p["x"] * p["wd"], "x": lambda p: p["x"] * p["v"],
    }),
    ("norm(A @ x - y)^2", {"A": "A", "x": "x", "y": "y"}, {
        "A": lambda p: 2 * np.outer(p["A"] @ p["x"] - p["y"], p["x"]),
        "x": lambda p: 2 * p["A"].T @ (p["A"] @ p["x"] - p["y"]),
        "y": lambda p: -2 * (p["A"] @ p["x"] - p["y"]),
    }),
    ("sum(log(exp(-y * (X @ w)) + 1))", {"y": "labels", "X": "Xd", "w": "wd"}, {
        "y": lambda p: -(p["Xd"] @ p["wd"]) * _sigmoid(-p["labels"] * (p["Xd"] @ p["wd"])),
        "X": lambda p: -np.outer(p["labels"] * _sigmoid(-p["labels"] * (p["Xd"] @ p["wd"])), p["wd"]),
        "w": lambda p: -p["Xd"].T @ (p["labels"] * _sigmoid(-p["labels"] * (p["Xd"] @ p["wd"]))),
    }),
    ("tr(A @ X.T @ B @ X @ C)", {"A": "At", "X": "Xt", "B": "B", "C": "C"}, {
        "A": lambda p: p["C"].T @ p["Xt"].T @ p["B"].T @ p["Xt"],
        "X": lambda p: p["B"].T @ p["Xt"] @ p["At"].T @ p["C"].T + p["B"] @ p["Xt"] @ p["C"] @ p["At"],
        "B": lambda p: p["Xt"] @ p["At"].T @ p["C"].T @ p["Xt"].T,
        "C": lambda p: p["Xt"].T @ p["B"].T @ p["Xt"] @ p["At"].T,
    }),
    ("log(det(inv(X)))", {"X": "Xsq"}, {"X": lambda p: -np.linalg.inv(p["Xsq"]).T}),
    ("logdet(X)", {"X": "Xsq"}, {"X": lambda p: np.linalg.inv(p["Xsq"]).T}),
    ("det(X)", {"X": "Xsq"}, {"X": lambda p: np.linalg.det(p["Xsq"]) * np.linalg.inv(p["Xsq"]).T}),
    ("sum(inv(X) * A)", {"X": "Xsq", "A": "Q"}, {
        "X": lambda p: -np.linalg.inv(p["Xsq"]).T @ p["Q"] @ np.linalg.inv(p["Xsq"]).T,
        "A": lambda p: np.linalg.inv(p["Xsq"]),
    }),
    ("logsumexp(A @ x)", {"A": "A", "x": "x"}, {
        "x": lambda p: p["A"].T @ _softmax(p["A"] @ p["x"]),
        "A": lambda p: np.outer(_softmax(p["A"] @ p["x"]), p["x"]),
    }),
]  # fmt: skip


def _softmax(t: np.ndarray) -> np.ndarray:
    e = np.exp(t - t.max())
    return e / e.sum()


@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize(("text", "names", "closed"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_gradient_equals_the_closed_form(text: str, names: dict[str, str], closed: Closed, declared: bool) -> None:
    p = _point(np.random.default_rng(7))
    shapes = symbolic({n: p[q].shape for n, q in names.items()}) if declared else None
    f = symgraph.compile(text, wrt=list(closed), shapes=shapes)
    _, grads = f(**{n: p[q] for n, q in names.items()})
    for name, got in zip(closed, grads):
        close(got, closed[name](p), (text, name))


# --- stability ---------------------------------------------------------------------------------------------


@contextmanager
def _no_overflow() -> Iterator[None]:
    """Any warning is an error, and so is overflow, division by zero or an invalid operation in NumPy.
    Underflow to 0 is allowed: it is what softmax of -2000 is."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


BIG = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, -1000.0, 0.0]])
LOG2 = np.log(2.0)
SOFTMAX_BIG = np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])  # along axis 1
STABLE: list[tuple[str, np.ndarray, Any, Any]] = [  # formula of X, X, value, gradient of sum(formula)
    ("log_sigmoid(X)", np.array([-1000.0, 1000.0, 0.0]), [-1000.0, 0.0, -LOG2], [1.0, 0.0, 0.5]),
    ("logsumexp(X, axis=1)", BIG, [1000 + LOG2, -1000 + np.log(3.0), 1000.0], SOFTMAX_BIG),
    ("logsumexp(X)", BIG, 1000 + np.log(3.0), [[1 / 3, 1 / 3, 0], [0, 0, 0], [1 / 3, 0, 0]]),
    ("softmax(X, axis=1)", BIG, SOFTMAX_BIG, np.zeros((3, 3))),  # each row sums to 1 whatever X is
    ("log_softmax(X, axis=-1)", BIG, [[-LOG2, -LOG2, -2000 - LOG2], [-np.log(3.0)] * 3, [0.0, -2000.0, -1000.0]],
     1 - 3 * SOFTMAX_BIG),
]  # fmt: skip


@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize(("text", "X", "value", "gradient"), STABLE, ids=[s[0] for s in STABLE])
def test_finite_at_plus_minus_1000_without_overflow(
    text: str, X: np.ndarray, value: Any, gradient: Any, declared: bool
) -> None:
    f = symgraph.compile(text, shapes={"X": symbolic({"X": X.shape})["X"]} if declared else None)
    with _no_overflow():
        got_value, (got_gradient,) = f(X)
    close(got_value, np.asarray(value), (text, "value"), rtol=1e-15, atol=2e-13)  # an ulp of 1000: 1.1e-13
    # logsumexp's gradient is exp(x - value): the value's ulp of 1000 becomes a relative 1e-13
    close(got_gradient, np.asarray(gradient), (text, "gradient"), rtol=1e-12, atol=1e-15)


def test_weighted_blocks_are_finite_with_large_weighted_adjoints() -> None:
    W = np.arange(9.0).reshape(3, 3)
    for op in ("softmax", "log_softmax", "logsumexp"):
        f = symgraph.compile(f"sum({op}(X, axis=0) * W)" if op != "logsumexp" else "sum(logsumexp(X, axis=0) * w)")
        with _no_overflow():
            _, grads = f(BIG, W if op != "logsumexp" else W[0])
        assert all(np.all(np.isfinite(g)) for g in grads), op


# --- Hessian-vector products ---------------------------------------------------------------------------

# formula, the one wrt input, closed-form H @ v from the point p and direction v
HVPS: list[tuple[str, str, dict[str, str], Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray]]] = [
    ("0.5 * x.T @ A @ x", "x", {"x": "x", "A": "Q"}, lambda p, v: 0.5 * (p["Q"] + p["Q"].T) @ v),
    ("norm(A @ x - y)^2", "x", {"A": "A", "x": "x", "y": "y"}, lambda p, v: 2 * p["A"].T @ p["A"] @ v),
    ("sum(log(exp(-y * (X @ w)) + 1))", "w", {"y": "labels", "X": "Xd", "w": "wd"},
     lambda p, v: p["Xd"].T @ (_s1s(p) * (p["Xd"] @ v))),
    ("logsumexp(A @ x)", "x", {"A": "A", "x": "x"},
     lambda p, v: p["A"].T @ (_softmax(p["A"] @ p["x"]) * (p["A"] @ v)
                              - _softmax(p["A"] @ p["x"]) * (_softmax(p["A"] @ p["x"]) @ (p["A"] @ v)))),
    ("sum(w * (A @ exp(x)))", "x", {"w": "w", "A": "A", "x": "x"},
     lambda p, v: np.exp(p["x"]) * (p["A"].T @ p["w"]) * v),
]  # fmt: skip


def _s1s(p: dict[str, np.ndarray]) -> np.ndarray:
    s = _sigmoid(p["labels"] * (p["Xd"] @ p["wd"]))
    return s * (1 - s)


@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize(("text", "wrt", "names", "hv"), HVPS, ids=[h[0] for h in HVPS])
def test_hessian_vector_product_of_one_vector_input(
    text: str, wrt: str, names: dict[str, str], hv: Callable[..., np.ndarray], declared: bool
) -> None:
    p = _point(np.random.default_rng(5))
    shapes = symbolic({n: p[q].shape for n, q in names.items()}) if declared else None
    h = symgraph.hvp(text, wrt=[wrt], shapes=shapes)
    v = np.random.default_rng(6).normal(size=p[names[wrt]].shape)
    _, gradient, product = h(**{n: p[q] for n, q in names.items()}, **{f"v_{wrt}": v})
    f = symgraph.compile(text, wrt=[wrt], shapes=shapes)
    close(gradient, f(**{n: p[q] for n, q in names.items()})[1][0], "gradient")  # flat: over every element
    close(product, hv(p, v), "H @ v")


def _autograd_hvp(text: str, names: list[str], args: list[np.ndarray], vs: list[np.ndarray]) -> list[Any]:
    """autograd's H @ v per input: the gradient of sum_i <gradient_i, v_i>."""
    from autograd import grad

    fn = autograd_function(text, names)

    def directional(*a: Any) -> Any:
        return sum(anp.sum(grad(lambda *b: anp.sum(fn(*b)), k)(*a) * v) for k, v in enumerate(vs))

    return [grad(directional, k)(*args) for k in range(len(args))]


@pytest.mark.parametrize(
    ("text", "shapes"),
    [("sum(sin(outer(x, y)))", {"x": (4,), "y": (3,)}), ("sum(sin(A @ x))", {"A": (2, 3), "x": (3,)})],
)
def test_hessian_vector_product_of_inputs_of_different_shapes(text: str, shapes: dict[str, tuple[int, ...]]) -> None:
    """Over several inputs the gradient and H @ v are flat: every element of each input in turn."""
    rng = np.random.default_rng(1)
    names = list(shapes)
    args, vs = [rng.normal(size=s) for s in shapes.values()], [rng.normal(size=s) for s in shapes.values()]
    for declared in (None, symbolic(shapes)):
        _, _, product = symgraph.hvp(text, wrt=names, shapes=declared)(*args, *vs)
        want = np.concatenate([np.ravel(h) for h in _autograd_hvp(text, names, args, vs)])
        close(product, want, ("H @ v", text))
