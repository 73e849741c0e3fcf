"""Random shaped formulas against autograd (Hypothesis), and matrix formulas over chunked Dask arrays.

The strategy grows an expression top-down from the shape it must have: a declared input of that shape, an
elementwise op of an expression of that shape, a sum/difference/product with one of that shape or of its
trailing axes (broadcast), a transpose of the reversed shape, a matrix product whose inner dimension is drawn,
an axis reduction of a shape with one more axis (any axis, negative too), a whole-array reduction (norm and
norm1 too), dot and outer of vectors, a centring with keepdims, softmax or log_softmax along an axis.
Dimensions are the symbols n, k, m (sizes 2, 3, 4), so every input can be declared; the formula is compiled
undeclared and declared and both are compared with autograd.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph
from tests.matrix_reference import autograd_value_and_grads, close

SIZES = {"n": 2, "k": 3, "m": 4}
Dims = tuple[str, ...]
UNARY = ["sin({})", "tanh({})", "cos({})", "(0.5 * {})", "(({}) * ({}))", "log_sigmoid({})", "exp(-({})^2)"]
REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp"]


@st.composite
def shaped(draw: st.DrawFn, dims: Dims, depth: int, inputs: dict[str, Dims]) -> str:
    """Text of an expression of shape `dims`; the inputs it uses are added to `inputs`."""
    kinds = ["input"] if depth == 0 else ["input", "unary", "binary", "transpose", "matmul", "reduce", "centre"]
    if dims and depth:
        kinds.append("softmax")
    kind = draw(st.sampled_from(kinds))
    sub = depth - 1
    axis_of = st.integers(0, max(len(dims) - 1, 0))
    if kind == "input":
        name = f"P{len(inputs)}"
        inputs[name] = dims
        return name
    if kind == "unary":
        e = draw(shaped(dims, sub, inputs))
        return draw(st.sampled_from(UNARY)).format(e, e)
    if kind == "binary":
        right = dims[draw(st.integers(0, len(dims))) :]  # the whole shape or trailing axes: broadcasts
        op = draw(st.sampled_from(["+", "-", "*"]))
        return f"({draw(shaped(dims, sub, inputs))} {op} {draw(shaped(right, sub, inputs))})"
    if kind == "transpose":
        return f"({draw(shaped(dims[::-1], sub, inputs))}).T"
    if kind == "matmul":
        inner = draw(st.sampled_from(list(SIZES)))
        if not dims:
            left, right = (inner,), (inner,)
        elif len(dims) == 1:
            left, right = draw(st.sampled_from([((inner,), (inner, dims[0])), ((dims[0], inner), (inner,))]))
        else:  # a stack on the left, or both, or a matrix on the left of a stack
            lead = dims[:-2]
            left_lead = draw(st.sampled_from([lead, ()])) if lead else ()
            right_lead = lead if left_lead == () else draw(st.sampled_from([lead, ()]))
            left, right = (*left_lead, dims[-2], inner), (*right_lead, inner, dims[-1])
        return f"({draw(shaped(left, sub, inputs))} @ {draw(shaped(right, sub, inputs))})"
    if kind == "reduce" and not dims and draw(st.booleans()):  # the whole array, or dot of two vectors
        whole = draw(st.lists(st.sampled_from(list(SIZES)), min_size=1, max_size=3).map(tuple))
        e = draw(shaped(whole, sub, inputs))
        if len(whole) == 1 and draw(st.booleans()):
            return f"dot({e}, {draw(shaped(whole, sub, inputs))})"
        return f"{draw(st.sampled_from([*REDUCTIONS, 'norm', 'norm1']))}({e})"
    if kind == "reduce" and len(dims) == 2 and draw(st.booleans()):
        return f"outer({draw(shaped(dims[:1], sub, inputs))}, {draw(shaped(dims[1:], sub, inputs))})"
    if kind == "reduce" and len(dims) < 3:
        k = draw(st.integers(0, len(dims)))
        bigger = (*dims[:k], draw(st.sampled_from(list(SIZES))), *dims[k:])
        axis = draw(st.sampled_from([k, k - len(bigger)]))
        return f"{draw(st.sampled_from(REDUCTIONS))}({draw(shaped(bigger, sub, inputs))}, axis={axis})"
    if kind in ("centre", "softmax") and dims:
        k = draw(axis_of)
        axis = draw(st.sampled_from([k, k - len(dims)]))
        e = draw(shaped(dims, sub, inputs))
        if kind == "softmax":
            return f"{draw(st.sampled_from(['softmax', 'log_softmax']))}({e}, axis={axis})"
        return f"({e} - {draw(st.sampled_from(REDUCTIONS))}({e}, axis={axis}, keepdims=True))"
    return draw(shaped(dims, sub, inputs))


@st.composite
def shaped_formulas(draw: st.DrawFn) -> tuple[str, dict[str, Dims]]:
    dims = draw(st.lists(st.sampled_from(list(SIZES)), max_size=3).map(tuple))
    inputs: dict[str, Dims] = {}
    body = draw(shaped(dims, draw(st.integers(1, 4)), inputs))
    inputs["W"] = dims
    return f"sum(({body}) * W)", inputs


@settings(max_examples=max(50, settings().max_examples))
@given(shaped_formulas(), st.integers(0, 2**32 - 1))
def test_random_shaped_formulas_agree_with_autograd(formula: tuple[str, dict[str, Dims]], seed: int) -> None:
    text, dims = formula
    rng = np.random.default_rng(seed)
    undeclared = symgraph.compile(text)
    declared = symgraph.compile(text, shapes=dims)
    names = list(undeclared.variables)
    assert list(declared.variables) == names
    args = [rng.normal(size=tuple(SIZES[d] for d in dims[n])) for n in names]
    want_value, want_grads = autograd_value_and_grads(text, names, args)
    for f in (undeclared, declared):
        value, grads = f(*args)
        close(value, want_value, (text, "value"), rtol=1e-9, atol=1e-10)
        for n, got, want in zip(names, grads, want_grads):
            close(got, want, (text, "d_" + n), rtol=1e-9, atol=1e-10)


# --- Dask ------------------------------------------------------------------------------------------------


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("the generated function computed a Dask graph instead of building it lazily")


DASK_FORMULAS = [
    "sum(log_softmax(X @ W + b, axis=1) * Y)",
    "mean(logsumexp(X @ W, axis=-1)) + sum(max(X, axis=0) * b0)",
    "sum((X - mean(X, axis=0, keepdims=True)).T @ X * C)",
    "sum(softmax(X @ W, axis=1) * Y) + sum(min(X @ W, axis=1))",
]
DASK_SHAPES = {"X": ("rows", 3), "W": (3, 4), "b": (4,), "Y": ("rows", 4), "b0": (3,), "C": (3, 3)}


@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize("text", DASK_FORMULAS)
def test_a_chunked_matrix_formula_stays_lazy_and_equals_numpy(text: str, declared: bool) -> None:
    da = pytest.importorskip("dask.array", reason="Dask is an optional extra")
    dask = pytest.importorskip("dask")
    rng = np.random.default_rng(4)
    shapes = {k: v for k, v in DASK_SHAPES.items() if re.search(rf"\b{k}\b", text)}
    f = symgraph.compile(text, shapes=shapes if declared else None)
    values = {
        "X": rng.normal(size=(1000, 3)), "W": rng.normal(size=(3, 4)), "b": rng.normal(size=4),
        "Y": rng.normal(size=(1000, 4)), "b0": rng.normal(size=3), "C": rng.normal(size=(3, 3)),
    }  # fmt: skip
    args = [values[n] for n in f.variables]
    lazy = [da.from_array(a, chunks=(250, a.shape[1])) if n in ("X", "Y") else a for n, a in zip(f.variables, args)]
    with dask.config.set(scheduler=_no_compute):
        value, grads = f(*lazy)
    assert isinstance(value, da.Array)
    assert isinstance(grads[f.variables.index("X")], da.Array)
    got_value, *got_grads = dask.compute(value, *grads)
    want_value, want_grads = f(*args)
    close(got_value, want_value, (text, "value"), rtol=1e-12)
    for n, got, want in zip(f.variables, got_grads, want_grads):
        close(got, want, (text, "d_" + n), rtol=1e-12)
