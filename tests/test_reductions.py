"""sum() and mean(): values and gradients against SymPy on small data, where every point is a symbol.

The reference expands each reduction over explicit symbols (NumPy object arrays of SymPy symbols, so
broadcasting is NumPy's own), differentiates with sympy.diff with respect to every symbol, and compares
with the generated function at random numbers; each gradient must also have exactly its input's shape.
For an array output the reference differentiates the sum of its values, as symgraph documents.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import sympy as sp

import symgraph

Shapes = dict[str, tuple[int, ...]]

logs = np.vectorize(sp.log, otypes=[object])
exps = np.vectorize(sp.exp, otypes=[object])

# (formula, input shapes, the same formula over object arrays: NumPy broadcasting, SymPy arithmetic)
CASES: list[tuple[str, Shapes, Callable[..., object]]] = [
    (
        "mean((w*x + b - y)^2)/2",
        {"w": (), "x": (5,), "b": (), "y": (5,)},
        lambda w, x, b, y: np.sum((w * x + b - y) ** 2) / 5 / 2,
    ),
    ("sum(x)", {"x": (4,)}, lambda x: np.sum(x)),
    ("x * sum(y)", {"x": (3,), "y": (4,)}, lambda x, y: x * np.sum(y)),
    ("sum(y) + x", {"y": (4,), "x": (3,)}, lambda y, x: np.sum(y) + x),
    ("x - mean(x)", {"x": (4,)}, lambda x: x - np.sum(x) / 4),
    ("mean((x - mean(x))^2)", {"x": (5,)}, lambda x: np.sum((x - np.sum(x) / 5) ** 2) / 5),
    ("sum(a*b)", {"a": (3, 1), "b": (1, 4)}, lambda a, b: np.sum(a * b)),
    ("sum(a*b) * c", {"a": (2, 1), "b": (3,), "c": (2, 1)}, lambda a, b, c: np.sum(a * b) * c),
    ("sum(x * sum(y))", {"x": (3,), "y": (4,)}, lambda x, y: np.sum(x * np.sum(y))),
    ("sum(x) * y + sum(x * z)", {"x": (3,), "y": (4,), "z": (3,)}, lambda x, y, z: np.sum(x) * y + np.sum(x * z)),
    (
        "s = sum(x); s*y + sum(s*z)",
        {"x": (3,), "y": (4,), "z": (5,)},
        lambda x, y, z: np.sum(x) * y + np.sum(np.sum(x) * z),
    ),
    (
        "mean(log(1 + exp(-y*(w*x + b)))) + lam*w^2",
        {"y": (6,), "w": (), "x": (6,), "b": (), "lam": ()},
        lambda y, w, x, b, lam: np.sum(logs(1 + exps(-y * (w * x + b)))) / 6 + lam * w**2,
    ),
    ("mean(p) * sum(q^2)", {"p": (2, 3), "q": (3,)}, lambda p, q: np.sum(p) / 6 * np.sum(q**2)),
    ("sum(w*x)", {"w": (), "x": ()}, lambda w, x: w * x),  # a scalar is its own sum
]


def symbols_for(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An object array of real SymPy symbols named name_0, name_1, ... (a 0-d array for a scalar)."""
    count = int(np.prod(shape))
    flat = [sp.Symbol(f"{name}_{k}", real=True) for k in range(count)]
    return np.array(flat, dtype=object).reshape(shape)


@pytest.mark.parametrize("text,shapes,reference", CASES, ids=[c[0] for c in CASES])
def test_value_and_gradients_match_sympy(text: str, shapes: Shapes, reference: Callable[..., object]) -> None:
    f = symgraph.compile(text)
    assert f.variables == tuple(shapes)
    syms = {n: symbols_for(n, s) for n, s in shapes.items()}
    args = [syms[n] if shapes[n] else syms[n][()] for n in shapes]
    expr = sp.sympify(np.sum(reference(*args)))  # gradient of the sum of an array output
    rng = np.random.default_rng(len(text))
    data = {n: rng.uniform(0.5, 1.5, size=s) if s else float(rng.uniform(0.5, 1.5)) for n, s in shapes.items()}
    point = {sym: float(np.asarray(data[n])[idx]) for n in shapes for idx, sym in np.ndenumerate(syms[n])}

    value, grads = f(*data.values())
    want_value = float(np.sum(reference(*data.values())))
    np.testing.assert_allclose(np.sum(value), want_value, rtol=1e-12)
    for (name, shape), grad in zip(shapes.items(), grads):
        assert np.shape(grad) == shape, f"d_{name} has shape {np.shape(grad)}, input {shape}"
        want = np.array([float(sp.diff(expr, sym).subs(point)) for sym in syms[name].flat]).reshape(shape)
        np.testing.assert_allclose(grad, want, rtol=1e-11, atol=1e-13, err_msg=f"d_{name} of {text}")


def test_scalar_inputs_take_the_scalar_path_and_agree_with_arrays() -> None:
    """Floats in: a float gradient; the same numbers as 0-d arrays take the reducing path."""
    J = symgraph.compile("mean((w*x + b - y)^2)/2")
    floats = J(3.0, -3.0, 1.0, 5.0)
    arrays = J(*(np.array(v) for v in (3.0, -3.0, 1.0, 5.0)))
    assert floats == (84.5, (39.0, -39.0, -13.0, 13.0))  # the tutorial's numbers, one sample
    np.testing.assert_allclose(arrays[1], floats[1])
    assert all(np.shape(g) == () for g in arrays[1])


def test_scalar_value_from_arrays_does_not_skip_the_reduction() -> None:
    """The value is one number, but the parameters' gradients are sums over the data."""
    J = symgraph.compile("mean((w*x + b - y)^2)/2", wrt=["w", "b"])
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([2.0, 4.0, 7.0])
    value, (dw, db) = J(1.5, x, 0.5, y)
    r = 1.5 * x + 0.5 - y
    assert np.shape(value) == () and np.shape(dw) == () and np.shape(db) == ()
    np.testing.assert_allclose([value, dw, db], [np.mean(r * r) / 2, np.mean(r * x), np.mean(r)], rtol=1e-14)


def test_gradients_are_fresh_arrays() -> None:
    f = symgraph.compile("sum(x) + sum(y*x)")
    x, y = np.ones(3), np.full(3, 2.0)
    _, (dx, dy) = f(x, y)
    np.testing.assert_array_equal(dy, x)
    assert dy is not x and not np.shares_memory(dy, x)
    dx[:] = 0.0
    np.testing.assert_array_equal(f(x, y)[1][0], np.full(3, 3.0))


def test_values_view_follows_the_same_rules() -> None:
    """values() interprets the graph (reductions' helpers included) and agrees with the compiled code."""
    f = symgraph.compile("r = w*x + b - y; J = mean(r^2)/2", wrt=["w", "b"])
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([2.0, 4.0, 7.0])
    steps = f.values(w=1.5, x=x, b=0.5, y=y)
    np.testing.assert_allclose(steps["r"], 1.5 * x + 0.5 - y)
    np.testing.assert_allclose(steps["d_r"], steps["r"] / 3)
    assert steps["J"] == f(1.5, x, 0.5, y)[0]


def test_mean_of_a_constant_folds_and_size_is_not_a_user_function() -> None:
    assert symgraph.compile("mean(3) + sum(2)*x")(1.0) == (5.0, (2.0,))
    with pytest.raises(symgraph.ParseError, match="unknown function 'size'"):
        symgraph.compile("size(x)")


def test_generated_code_is_standalone(tmp_path) -> None:
    """The reductions' helpers travel in the saved module, which needs only NumPy."""
    import importlib.util

    path = symgraph.compile("x * sum(y)").save(tmp_path / "red.py")
    spec = importlib.util.spec_from_file_location("red", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    value, (dx, dy) = module.value_and_grad(np.arange(3.0), np.ones(4))
    np.testing.assert_array_equal(dy, np.full(4, 3.0))  # d/dy_j of sum_i x_i * sum(y) = sum(x)


def test_second_derivatives_through_a_reduction() -> None:
    """Every adjoint has its node's shape, so a gradient through sum() differentiates again:
    d/dx of sum(d/dy (x * sum(y))) = d/dx sum(x * ones(len(y))) = len(y) per element of x."""
    from symgraph.adjoint import gradient

    f = symgraph.compile("x * sum(y)")
    program = f.program
    graph = program.graph
    _, (dx, dy) = gradient(graph, program.output, list(program.inputs.values()))
    _, (ddx,) = gradient(graph, dy, [program.inputs["x"]])
    x, y = np.arange(3.0), np.arange(5.0)
    got = f.trace([ddx])(x, y)[ddx]
    np.testing.assert_array_equal(np.broadcast_to(got, x.shape), np.full(3, 5.0))
