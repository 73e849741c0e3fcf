"""Every matrix op's value and gradients against HIPS autograd and central finite differences, undeclared and
with every input's shape declared (symbolic dims): the two generated functions must agree.

Each case is an expression over random inputs, composed with elementwise ops and weighted by a random array
W before the final sum, so a non-trivial adjoint reaches the op: `sum((expr) * W)`, W of the expression's
whole shape, of its last axis only (a weight that broadcasts: with declared dims the reverse pass hands the
op an adjoint smaller than its output) or no W (the adjoint is one number for every point). Inputs named S*
are well-conditioned square matrices (det, inv, logdet). The table also proves coverage: every op of the
table with spec.matrix must be reached by a case (in the graph of a compiled case, adjoints included), so a
new matrix op cannot land without a check here.
"""

from __future__ import annotations

import dataclasses
import itertools
import zlib

import numpy as np
import pytest

import symgraph
from symgraph import runtime
from symgraph.ops import OPS
from tests.matrix_reference import autograd_function, autograd_value_and_grads, check, close, symbolic

MATMUL_SHAPES = [  # every rank combination of 1-D, 2-D and stacks, with batch dims that broadcast
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (1, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)),
]  # fmt: skip
AXES = [None, 0, 1, 2, -1, -2, -3]


def _kw(axis: int | None, keep: bool) -> str:
    return ("" if axis is None else f", axis={axis}") + (", keepdims=True" if keep else "")


def _reduction_cases() -> list[tuple[str, dict[str, tuple[int, ...]]]]:
    cases = []
    for op, axis, keep in itertools.product(["sum", "mean", "max", "min", "logsumexp"], AXES, [False, True]):
        cases.append((f"{op}(tanh(X){_kw(axis, keep)})", {"X": (2, 3, 4)}))
    for op, axis in itertools.product(["softmax", "log_softmax"], AXES):
        cases.append((f"{op}(2*tanh(X){_kw(axis, False)})", {"X": (2, 3, 4)}))
    for op in ["sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax"]:
        cases += [(f"{op}(exp(x), axis=0)", {"x": (4,)}), (f"{op}(sin(X), axis=-1)", {"X": (3, 2)})]
        cases.append((f"{op}(sin(X))", {"X": (3, 2)}))
    return cases


CASES: list[tuple[str, dict[str, tuple[int, ...]]]] = [
    *[("sin(A) @ exp(B / 2)", {"A": a, "B": b}) for a, b in MATMUL_SHAPES],
    ("x.T @ A @ x", {"x": (3,), "A": (3, 3)}),
    ("tanh(A) @ B @ C", {"A": (2, 3), "B": (3, 4), "C": (4,)}),
    ("A @ B + c", {"A": (2, 3), "B": (3, 4), "c": (4,)}),
    ("sin(A).T", {"A": (2, 3)}),
    ("sin(A).T", {"A": (2, 3, 4)}),
    ("transpose(sin(a))", {"a": (4,)}),
    ("transpose(A) @ B", {"A": (3, 2), "B": (3, 4)}),
    *_reduction_cases(),
    ("softmax(A @ B, axis=-1)", {"A": (2, 3), "B": (3, 4)}),
    ("max(A @ B, axis=0)", {"A": (2, 3), "B": (3, 4)}),
    ("mean(A, axis=1) @ B", {"A": (2, 3, 4), "B": (4, 2)}),
    ("sum(A, axis=0) * x + A", {"A": (3, 4), "x": (4,)}),
    ("log_sigmoid(3 * A)", {"A": (2, 3)}),
    ("log_sigmoid(a * b)", {"a": (4,), "b": ()}),
    ("dot(sin(a), b)", {"a": (4,), "b": (4,)}),
    ("outer(sin(a), b)", {"a": (4,), "b": (3,)}),
    ("outer(a, b) @ c", {"a": (2,), "b": (3,), "c": (3,)}),
    ("tr(sin(A))", {"A": (3, 3)}),
    ("tr(sin(A))", {"A": (2, 4)}),
    ("trace(A @ B)", {"A": (4, 2), "B": (2, 4)}),
    ("det(2 * S)", {"S": (3, 3)}),
    ("det(S) * det(S)", {"S": (2, 2)}),
    ("inv(S)", {"S": (3, 3)}),
    ("inv(S) @ x", {"S": (3, 3), "x": (3,)}),
    ("logdet(S)", {"S": (3, 3)}),
    ("logdet(-S)", {"S": (3, 3)}),  # det < 0 for odd size: log|det|
    ("norm(sin(a))", {"a": (4,)}),
    ("norm(sin(A))", {"A": (2, 3)}),
    ("norm1(sin(A))", {"A": (2, 3)}),
    ("norm1(a - 1)", {"a": (4,)}),
]


def _inputs(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for name, shape in shapes.items():
        a = rng.normal(size=shape)
        if name.startswith("S"):
            a = a + shape[-1] * np.eye(shape[-1])
        out[name] = a
    return out


def _weighted(expr: str, args: dict[str, np.ndarray], weight: str, rng: np.random.Generator) -> str:
    """`sum((expr) * W)` with W added to `args` (its shape by `weight`), or `sum(expr)` for "none"."""
    out = np.shape(autograd_function(expr, list(args))(*args.values()))
    if weight == "none":
        return f"sum({expr})"
    args["W"] = rng.normal(size=out if weight == "whole" else out[-1:])
    return f"sum(({expr}) * W)"


def _rank(expr: str, shapes: dict[str, tuple[int, ...]]) -> int:
    return np.ndim(autograd_function(expr, list(shapes))(*_inputs(shapes, np.random.default_rng(0)).values()))


WEIGHTED = [
    pytest.param(expr, shapes, weight, id=f"{expr}|{shapes}|{weight}")
    for expr, shapes in CASES
    for weight in ("whole", "row", "none")
    if weight != "row" or _rank(expr, shapes) >= 2  # a row weight is the whole weight below 2 axes
]


@pytest.mark.parametrize(("expr", "shapes", "weight"), WEIGHTED)
def test_value_and_gradients_against_autograd_and_differences(
    expr: str, shapes: dict[str, tuple[int, ...]], weight: str
) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{expr}|{shapes}|{weight}".encode()))
    args = _inputs(shapes, rng)
    text = _weighted(expr, args, weight, rng)
    check(text, args, fd=weight != "row")  # FD once per case and weight shape, not twice


def test_an_unweighted_array_formula_is_the_gradient_of_its_sum() -> None:
    rng = np.random.default_rng(0)
    check("A @ B", {"A": rng.normal(size=(2, 3)), "B": rng.normal(size=(3, 4))})
    check("softmax(X, axis=0)", {"X": rng.normal(size=(3, 2))})


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_ties_share_the_adjoint_equally(op: str, axis: int | None) -> None:
    """At a tie the adjoint is split equally among the tied elements (README); autograd does the same."""
    X = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 3.0, -1.0]])
    X = X if op == "max" else -X
    text = f"sum({op}(X{_kw(axis, False)}) * W)"
    W = np.arange(1.0, 4.0) if axis is not None else np.array(2.0)
    args = {"X": X, "W": W}
    f = check(text, args, fd=False)
    hit = X == getattr(np, op)(X, axis=axis, keepdims=True)
    share = hit / hit.sum(axis=axis, keepdims=True)
    want = share * (W if axis is None else np.expand_dims(W, axis))
    close(f(X, W)[1][0], want, "the documented convention")


def test_text_declarations_and_shapes_option_agree() -> None:
    rng = np.random.default_rng(3)
    A, B, c, W = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 4))
    body = "sum(softmax(A @ B + c, axis=1) * W)"
    in_text = symgraph.compile(f"A: [n, 3]\nB: [3, m]\nc: [m]\nW: [n, m]\n{body}")
    as_option = symgraph.compile(body, shapes={"A": ("n", 3), "B": (3, "m"), "c": ("m",), "W": ("n", "m")})
    assert in_text.variables == as_option.variables == ("A", "B", "c", "W")
    want_value, want_grads = autograd_value_and_grads(body, ["A", "B", "c", "W"], [A, B, c, W])
    for f in (in_text, as_option):
        value, grads = f(A, B, c, W)
        close(value, want_value, "value")
        for got, want in zip(grads, want_grads):
            close(got, want, "gradient")


def test_declarations_do_not_change_the_input_order() -> None:
    """Inputs come in order of first use in a formula, so declaring shapes never reorders a call."""
    f = symgraph.compile("B: [k]\nA: [n, k]\nsum(A @ B)")
    assert f.variables == ("A", "B") == symgraph.compile("sum(A @ B)").variables


def test_declared_dims_sum_a_broadcast_gradient_along_known_axes() -> None:
    """README: with every input declared the generated code sums along the known axis, no runtime helper."""
    f = symgraph.compile("sum((A @ B + c) * W)", shapes={"A": ("n", 3), "B": (3, 4), "c": (4,), "W": ("n", 4)})
    body = f.source[: f.source.index("def _sum_to")]
    assert "axis=0" in body and "_sum_to(" not in body and "_matmul_d" not in body


# --- coverage: every matrix op of the table is reached by a case -----------------------------------------

# Ops no formula reaches, with the reason (each must still be a matrix op of the table).
UNREACHABLE: dict[str, str] = {}


def ops_reached(cases: list[tuple[str, dict[str, tuple[int, ...]]]]) -> set[str]:
    """Ops in the compiled graphs (forward and reverse pass) of the cases, undeclared and declared."""
    found: set[str] = set()
    for expr, shapes in cases:
        text = f"sum(({expr}) * W)"
        for declared in (None, symbolic(shapes)):
            f = symgraph.compile(text, shapes=None if declared is None else {**declared, "W": ()})
            found |= {node.op for node in f.program.graph.nodes}
    return found


def uncovered(cases: list[tuple[str, dict[str, tuple[int, ...]]]]) -> set[str]:
    matrix = {name for name, spec in OPS.items() if spec.matrix}
    return matrix - ops_reached(cases) - set(UNREACHABLE)


def test_every_matrix_op_is_reached_by_a_case() -> None:
    assert uncovered(CASES) == set()
    assert set(UNREACHABLE) <= {name for name, spec in OPS.items() if spec.matrix}


def test_a_new_matrix_op_without_a_case_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPS, "cholesky", dataclasses.replace(OPS["inv"], name="cholesky"))
    assert uncovered(CASES[:3]) >= {"cholesky", "det", "softmax"}
    assert "cholesky" in uncovered(CASES)


def test_the_generated_modules_helpers_keep_their_defaults() -> None:
    """Each module's copies of the runtime helpers keep their default arguments (they once lost them)."""
    helper = symgraph.compile("sum(logsumexp(X))").function.__globals__["_logsumexp"]
    assert helper.__defaults__ == runtime._logsumexp.__defaults__
    assert np.isclose(helper(np.zeros(2)), np.log(2.0))
