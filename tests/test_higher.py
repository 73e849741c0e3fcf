"""Hessians, Hessian-vector products and Jacobians (issue 7), checked against SymPy's hessian and jacobian
on the core test expressions and the Feynman corpus, and against the gradient function by finite differences."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgraph
from symgraph.higher import HessianFunction, HVPFunction
from symgraph.ir import verify
from symgraph.parse import parse
from tests.reference import SYMPY_NAMES, _zero_away_from_kinks
from tests.test_against_sympy import CASES

FEYNMAN = Path(__file__).resolve().parent / "data" / "feynman" / "cases.jsonl"


def _sympy(text: str, names: tuple[str, ...]) -> tuple[list[sp.Symbol], sp.Expr]:
    """SymPy's own reading of a formula (real symbols, `^` as power), and its symbols in `names` order."""
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    expr = sp.sympify(text.replace("^", "**"), locals={**SYMPY_NAMES, **symbols})
    return [symbols[n] for n in names], expr


def sympy_hessian(text: str, names: tuple[str, ...], wrt: tuple[str, ...]):
    """A lambdified function of the inputs returning SymPy's Hessian matrix (with respect to wrt)."""
    args, expr = _sympy(text, names)
    by_name = dict(zip(names, args))
    matrix = sp.hessian(expr, [by_name[w] for w in wrt]).applyfunc(_zero_away_from_kinks)
    return sp.lambdify(args, matrix, "numpy")


def sympy_jacobian(texts: list[str], names: tuple[str, ...]):
    """A lambdified function of the inputs returning SymPy's Jacobian of several formulas."""
    parts = [_sympy(t, names) for t in texts]
    args = parts[0][0]
    matrix = sp.Matrix([e for _, e in parts]).jacobian(args).applyfunc(_zero_away_from_kinks)
    return sp.lambdify(args, matrix, "numpy")


def assert_close(got: np.ndarray, want: np.ndarray, what: object) -> None:
    """Relative 1e-8, with an absolute floor scaled to the largest entry (entries that cancel to ~0)."""
    want = np.asarray(want, dtype=float)
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10 * scale, err_msg=str(what))


# --- Hessians against SymPy ---


@pytest.mark.parametrize("text,bounds", CASES, ids=[c[0] for c in CASES])
def test_hessian_matches_sympy(text: str, bounds: tuple[float, float]) -> None:
    h = symgraph.hessian(text)
    verify(h.program.graph)
    ref = sympy_hessian(text, h.variables, h.wrt)
    grad = symgraph.compile(text)
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    for _ in range(3):
        point = [float(rng.uniform(*bounds)) for _ in h.variables]
        value, g, hess = h(*point)
        want_value, want_grads = grad(*point)
        assert hess.shape == (len(h.wrt), len(h.wrt)) and g.shape == (len(h.wrt),)
        assert value == want_value
        assert_close(g, np.array(want_grads, dtype=float), (text, point))
        assert_close(hess, ref(*point), (text, point))
        np.testing.assert_array_equal(hess, hess.T)


@pytest.mark.parametrize("text,bounds", CASES[::5], ids=[c[0] for c in CASES[::5]])
def test_hessian_for_a_subset_of_inputs(text: str, bounds: tuple[float, float]) -> None:
    full = symgraph.hessian(text)
    wrt = full.variables[::-1][: max(1, len(full.variables) - 1)]  # a subset, in another order
    part = symgraph.hessian(text, wrt=wrt)
    rng = np.random.default_rng(3)
    point = [float(rng.uniform(*bounds)) for _ in full.variables]
    _, _, whole = full(*point)
    _, _, sub = part(*point)
    index = [full.variables.index(w) for w in wrt]
    # the same entries, each maybe differentiated in the other order: equal up to rounding
    np.testing.assert_allclose(sub, whole[np.ix_(index, index)], rtol=1e-12, atol=1e-15)


def _feynman_cases() -> list[dict]:
    return [json.loads(line) for line in FEYNMAN.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", _feynman_cases(), ids=lambda c: c["id"])
def test_hessian_matches_sympy_on_the_feynman_corpus(case: dict) -> None:
    h = symgraph.hessian(case["formula"])
    ref = sympy_hessian(case["formula"], h.variables, h.wrt)
    for p in case["points"]:
        args = [p["inputs"][n] for n in h.variables]
        value, g, hess = h(*args)
        assert_close(value, p["value"], case["id"])
        assert_close(g, [p["gradient"][n] for n in h.wrt], case["id"])
        assert_close(hess, ref(*args), (case["id"], p))
    rng = np.random.default_rng(zlib.crc32(case["id"].encode()))
    args = [float(rng.uniform(*case["ranges"][n])) for n in h.variables]
    assert_close(h(*args)[2], ref(*args), (case["id"], args))


# --- Hessian-vector products ---


@pytest.mark.parametrize("text,bounds", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_hvp_is_the_hessian_times_v(text: str, bounds: tuple[float, float]) -> None:
    h = symgraph.hessian(text)
    hv = symgraph.hvp(text)
    assert hv.variables == h.variables + tuple("v_" + w for w in h.wrt)
    rng = np.random.default_rng(zlib.crc32(text.encode()) + 1)
    point = [float(rng.uniform(*bounds)) for _ in h.variables]
    v = rng.normal(size=len(h.wrt))
    value, g, hess = h(*point)
    value2, g2, product = hv(*point, *v)
    assert value2 == value
    np.testing.assert_allclose(g2, g, rtol=1e-12)
    assert_close(product, hess @ v, text)


def test_hvp_never_forms_the_hessian() -> None:
    """The HVP is one more reverse pass: its graph grows linearly with the inputs, the Hessian's quadratically."""
    sizes = {}
    for n in (30, 60):
        text = "log(1 + (" + " + ".join(f"x{i}*x{i + 1}" for i in range(n)) + ")^2)"
        gradient = len(symgraph.compile(text).program.graph)
        product = symgraph.hvp(text)
        sizes[n] = (len(product.program.graph), len(symgraph.hessian(text).program.graph))
        assert sizes[n][0] < 4 * gradient
        assert "d2_" not in product.source
    assert sizes[60][0] < 2.1 * sizes[30][0]
    assert sizes[60][1] > 3 * sizes[30][1]


def test_hvp_direction_names_do_not_collide_with_inputs() -> None:
    f = symgraph.hvp("x * v_x^2")
    assert f.variables == ("x", "v_x", "v_x_", "v_v_x")
    _, _, product = f(x=2.0, v_x=3.0, v_x_=1.0, v_v_x=0.0)
    # d2/dx2 = 0, d2/dx dv = 2 v: H @ (1, 0) = (0, 6)
    np.testing.assert_allclose(product, [0.0, 6.0])


# --- Jacobians ---

_PAIRS = [(a, b) for (a, ba), (b, bb) in zip(CASES[::2], CASES[1::2]) if ba == bb]


@pytest.mark.parametrize("first,second", _PAIRS, ids=[f"({a}, {b})" for a, b in _PAIRS])
def test_jacobian_matches_sympy(first: str, second: str) -> None:
    text = f"({first}, {second}, x)"
    j = symgraph.jacobian(text)
    verify(j.program.graph)
    bounds = dict(CASES)[first]
    ref = sympy_jacobian([first, second, "x"], j.variables)
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    for _ in range(3):
        point = [float(rng.uniform(*bounds)) for _ in j.variables]
        values, jac = j(*point)
        assert len(values) == 3 and jac.shape == (3, len(j.wrt))
        by_name = dict(zip(j.variables, point))
        alone = symgraph.compile(first)
        assert values[0] == alone(**{n: by_name[n] for n in alone.variables})[0]
        assert_close(jac, ref(*point), (text, point))


def test_jacobian_of_named_outputs_shares_the_forward_pass() -> None:
    j = symgraph.jacobian("s = sin(x*y); r1 = s^2 - y; r2 = s*x; (r1, r2)")
    values, jac = j(0.5, 2.0)
    s = np.sin(1.0)
    assert values == pytest.approx((s**2 - 2.0, s * 0.5))
    c = np.cos(1.0)
    np.testing.assert_allclose(jac, [[2 * s * c * 2.0, 2 * s * c * 0.5 - 1], [c * 2.0 * 0.5 + s, c * 0.25]])
    assert j.source.count("np.sin(") == 1  # one forward pass for both outputs
    assert "dr1_dx" in j.source and "dr2_dy" in j.source


def test_jacobian_of_the_feynman_corpus_taken_two_at_a_time() -> None:
    cases = _feynman_cases()[:40]
    for a, b in zip(cases[::2], cases[1::2]):
        text = f"({a['formula']}, {b['formula']})"
        j = symgraph.jacobian(text)
        ref = sympy_jacobian([a["formula"], b["formula"]], j.variables)
        ranges = {**b["ranges"], **a["ranges"]}
        rng = np.random.default_rng(zlib.crc32(text.encode()))
        point = [float(rng.uniform(*ranges[n])) for n in j.variables]
        assert_close(j(*point)[1], ref(*point), text)


# --- arrays: the convention in the generated module's docstring ---


def test_inputs_of_one_shape_give_a_hessian_per_point() -> None:
    h = symgraph.hessian("sin(x)*y^3 + exp(x*y)")
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (2, 4, 3))
    value, g, hess = h(x, y)
    assert value.shape == (4, 3) and g.shape == (2, 4, 3) and hess.shape == (2, 2, 4, 3)
    for k in np.ndindex(4, 3):
        v1, g1, h1 = h(float(x[k]), float(y[k]))
        assert value[k] == v1
        np.testing.assert_allclose(g[(slice(None), *k)], g1, rtol=1e-14)
        np.testing.assert_allclose(hess[(slice(None), slice(None), *k)], h1, rtol=1e-14)


def test_scalar_parameters_with_data_give_the_hessian_of_the_summed_cost() -> None:
    h = symgraph.hessian("(w*x + b - y)^2/2 + log(1 + w^2*b^2)", wrt=["w", "b"])
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 7))
    value, g, hess = h(0.7, x, -0.3, y)
    assert value.shape == (7,) and g.shape == (2,) and hess.shape == (2, 2)
    per_point = [h(0.7, float(xi), -0.3, float(yi)) for xi, yi in zip(x, y)]
    np.testing.assert_allclose(g, sum(p[1] for p in per_point), rtol=1e-12)
    np.testing.assert_allclose(hess, sum(p[2] for p in per_point), rtol=1e-12)
    # the least-squares part by hand: [[sum x^2, sum x], [sum x, m]]
    alone = symgraph.hessian("(w*x + b - y)^2/2", wrt=["w", "b"])(0.7, x, -0.3, y)[2]
    np.testing.assert_allclose(alone, [[np.sum(x * x), np.sum(x)], [np.sum(x), 7.0]], rtol=1e-12)


def test_hvp_and_jacobian_follow_the_same_convention() -> None:
    text = "x^2*y + sin(x*y)"
    rng = np.random.default_rng(2)
    x, y, vx, vy = rng.normal(size=(4, 5))
    _, _, hess = symgraph.hessian(text)(x, y)
    _, _, product = symgraph.hvp(text)(x, y, vx, vy)
    assert product.shape == (2, 5)
    np.testing.assert_allclose(product, np.einsum("ijk,jk->ik", hess, np.stack([vx, vy])), rtol=1e-12)
    values, jac = symgraph.jacobian(f"({text}, x - y)")(x, y)
    assert jac.shape == (2, 2, 5)
    _, g, _ = symgraph.hessian(text)(x, y)
    np.testing.assert_allclose(jac[0], g, rtol=1e-14)
    np.testing.assert_array_equal(jac[1], np.stack([np.ones(5), -np.ones(5)]))  # constants broadcast per point


def test_a_shared_direction_with_a_broadcast_data_axis() -> None:
    """Parameters of shape (3,), data of shape (4, 1): the data axis is summed, one 2x2 matrix per parameter."""
    h = symgraph.hessian("exp(a*t) * b", wrt=["a", "b"])
    a, b = np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    t = np.linspace(0, 1, 4).reshape(4, 1)
    _, g, hess = h(a, t, b)
    assert g.shape == (2, 3) and hess.shape == (2, 2, 3)
    e = np.exp(a * t)
    np.testing.assert_allclose(hess[0, 0], np.sum(t * t * e * b, axis=0), rtol=1e-12)
    np.testing.assert_allclose(hess[0, 1], np.sum(t * e, axis=0), rtol=1e-12)
    np.testing.assert_array_equal(hess[1, 1], np.zeros(3))


# --- the generated code ---


def test_each_distinct_hessian_entry_is_computed_once() -> None:
    h = symgraph.hessian("exp(x*y*z) + x*y^2*z^3")
    assert h.source.count("d2_") > 0
    assigned = {line.split("=")[0].strip() for line in h.source.splitlines() if line.strip().startswith("d2_")}
    assert sorted(assigned) == ["d2_x_x", "d2_x_y", "d2_x_z", "d2_y_y", "d2_y_z", "d2_z_z"]
    assert "d2_y_x" not in h.source  # the lower triangle reuses the upper names
    assert "[[d2_x_x, d2_x_y, d2_x_z], [d2_x_y, d2_y_y, d2_y_z], [d2_x_z, d2_y_z, d2_z_z]]" in h.source


@pytest.mark.parametrize("make", [symgraph.hessian, symgraph.hvp])
def test_generated_module_is_standalone_and_deterministic(make, tmp_path: Path) -> None:
    text = "h = x + 5; g = h^3 + y; f = g^2"
    f = make(text)
    tree = ast.parse(f.source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported == {"numpy"} and not any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))
    assert "h = x + 5.0" in f.source and "d_g = " in f.source  # the user's names survive
    again = {symgraph.hessian: HessianFunction, symgraph.hvp: HVPFunction}[make](parse(text))
    assert again.source == f.source
    path = f.save(tmp_path / "module.py")
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the module just written
    args = (-3.0, 1.0) if make is symgraph.hessian else (-3.0, 1.0, 0.5, 2.0)
    for got, want in zip(namespace[f.name](*args), f(*args)):
        np.testing.assert_array_equal(got, want)


def test_user_names_that_clash_with_generated_names_are_renamed() -> None:
    h = symgraph.hessian("wrt_shape * full_shape^2 + np")
    assert h.variables == ("wrt_shape", "full_shape", "np")
    _, g, hess = h(wrt_shape=2.0, full_shape=3.0, np=1.0)
    np.testing.assert_allclose(g, [9.0, 12.0, 1.0])
    np.testing.assert_allclose(hess, [[0, 6, 0], [6, 4, 0], [0, 0, 0]])
    values, jac = symgraph.jacobian("(_stack * 2, _is_scalar)")(_stack=1.0, _is_scalar=2.0)
    np.testing.assert_allclose(jac, [[2, 0], [0, 1]])


def test_python_floats_get_numpy_answers_at_domain_edges() -> None:
    h = symgraph.hessian("1/x + log(y)")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, g, hess = h(0.0, 1.0)
    assert np.isinf(value) and np.isinf(g[0]) and np.isinf(hess[0, 0]) and hess[1, 1] == -1.0


def test_values_shows_the_forward_steps_and_first_adjoints() -> None:
    h = symgraph.hessian("h = x + 5; g = h^3 + 1; f = g^2")
    table = h.values(x=-3)
    assert table["f"] == 81.0 and table["d_x"] == 216.0
    assert symgraph.hvp("h = x*y; f = h^2").values(1.0, 2.0, 0.0, 0.0)["d_h"] == 4.0
    assert symgraph.jacobian("a = x*y; (a, a + x)").values(2.0, 3.0)["a"] == 6.0


# --- errors a person can act on ---


def test_hessian_of_several_outputs_points_to_the_jacobian() -> None:
    with pytest.raises(symgraph.ArgumentError, match="jacobian"):
        symgraph.hessian("(x, y)")
    with pytest.raises(symgraph.ArgumentError, match="jacobian"):
        symgraph.hvp("(x, y)")


def test_bad_wrt_and_bad_calls_are_argument_errors() -> None:
    with pytest.raises(symgraph.ArgumentError, match="not an input"):
        symgraph.jacobian("(x*y, x)", wrt=["z"])
    with pytest.raises(symgraph.ArgumentError, match="wrt is empty"):
        symgraph.hessian("x*y", wrt=[])
    with pytest.raises(symgraph.ArgumentError, match="did you mean v_x"):
        symgraph.hvp("x^3")(x=1.0, v_y=1.0)
    with pytest.raises(symgraph.ArgumentError, match="missing"):
        symgraph.hessian("x*y")(1.0)


def test_compiling_again_is_served_from_the_cache() -> None:
    assert symgraph.hessian("x*y^2") is symgraph.hessian("x*y^2")
    assert symgraph.jacobian("(x, y)", wrt="y") is symgraph.jacobian("(x, y)", wrt="y")
    assert symgraph.hvp("x*y", wrt=["x"]) is symgraph.hvp("x*y", wrt=["x"])


# --- the example: Newton on Rosenbrock, checked against SciPy's own Rosenbrock derivatives ---


def test_rosenbrock_hessian_matches_scipy() -> None:
    optimize = pytest.importorskip("scipy.optimize", reason="scipy is in the test extra; needed for rosen_hess")
    h = symgraph.hessian("(1 - x)^2 + 100*(y - x^2)^2")
    hv = symgraph.hvp("(1 - x)^2 + 100*(y - x^2)^2")
    rng = np.random.default_rng(4)
    for p in rng.uniform(-2, 2, (5, 2)):
        value, g, hess = h(*p)
        assert value == pytest.approx(optimize.rosen(p), rel=1e-12)
        np.testing.assert_allclose(g, optimize.rosen_der(p), rtol=1e-12)
        np.testing.assert_allclose(hess, optimize.rosen_hess(p), rtol=1e-12)
        v = rng.normal(size=2)
        np.testing.assert_allclose(hv(*p, *v)[2], optimize.rosen_hess_prod(p, v), rtol=1e-12)


def test_newton_rosenbrock_example_converges_in_few_steps() -> None:
    optimize = pytest.importorskip("scipy.optimize", reason="scipy is in the test extra; the example uses it")
    script = Path(__file__).resolve().parent.parent / "examples" / "newton_rosenbrock.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    steps = int(re.search(r"newton converged in (\d+) steps", out.stdout).group(1))
    assert steps <= 10
    # the first Newton step by hand, with SciPy's Rosenbrock derivatives
    start = np.array([-1.2, 1.0])
    first = start - np.linalg.solve(optimize.rosen_hess(start), optimize.rosen_der(start))
    assert f"step 1: x = {first[0]:.10f}, y = {first[1]:.10f}" in out.stdout
    for method in ("trust-exact", "Newton-CG"):
        x, y = map(float, re.search(method + r": +x = (\S+), y = (\S+),", out.stdout).groups())
        assert abs(x - 1) < 1e-6 and abs(y - 1) < 1e-6, method


def test_a_scalar_and_an_array_in_wrt_give_derivatives_of_the_sum_broadcast_to_w() -> None:
    """W is the broadcast of the wrt inputs. Each entry is the derivative of the sum of the values, as compile's
    gradient is: d/da of sum(a*x^3) is one number (sum(x^3)), shown at every position of W; entries that are
    per point in x (d2/da dx = 3x^2, d2/dx2 = 6ax) are per point."""
    h = symgraph.hessian("a * x^3")
    x = np.array([1.0, 2.0, 3.0])
    _, g, hess = h(2.0, x)
    assert g.shape == (2, 3) and hess.shape == (2, 2, 3)
    _, (da, dx) = symgraph.compile("a * x^3")(2.0, x)
    np.testing.assert_allclose(g, [np.full(3, da), dx])
    np.testing.assert_allclose(hess, [[np.zeros(3), 3 * x**2], [3 * x**2, 12.0 * x]])


def test_deep_chains_match_finite_differences_of_the_gradient() -> None:
    """500 statements deep: the passes are loops, not recursion; central differences of compile's gradient."""
    text = "y0 = x*y\n" + "\n".join(f"y{i} = sin(y{i - 1}) + 0.5*x - 0.1*y" for i in range(1, 500))
    h = symgraph.hessian(text)
    grad = symgraph.compile(text)
    point = np.array([0.7, -0.4])
    _, g, hess = h(*point)
    eps = 1e-6
    for k in range(2):
        step = np.zeros(2)
        step[k] = eps
        up, down = np.array(grad(*(point + step))[1]), np.array(grad(*(point - step))[1])
        np.testing.assert_allclose(hess[:, k], (up - down) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g, grad(*point)[1], rtol=1e-14)


def test_hessian_of_the_mean_cost_is_the_closed_form() -> None:
    """The README's cost: the Hessian in (w, b) is [[mean(x^2), mean(x)], [mean(x), 1]] whatever w, b, y."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=50), rng.normal(size=50)
    H = symgraph.hessian("mean((w*x+b-y)^2)/2", wrt=["w", "b"])
    _, grad, hess = H(0.7, x, -0.2, y)
    want = np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    np.testing.assert_allclose(hess, want, rtol=1e-13)
    _, (dw, db) = symgraph.compile("mean((w*x+b-y)^2)/2", wrt=["w", "b"])(0.7, x, -0.2, y)
    np.testing.assert_allclose(grad, [dw, db], rtol=1e-13)


def test_hvp_of_a_sum_matches_finite_differences_of_the_gradient() -> None:
    """sum(tanh(x)^2) with an array x: hv is the full Hessian of the sum times v."""
    rng = np.random.default_rng(4)
    x, v = rng.normal(size=6), rng.normal(size=6)
    f = symgraph.compile("sum(tanh(x)^2)")
    _, _, hv = symgraph.hvp("sum(tanh(x)^2)")(x, v)
    eps = 1e-6
    fd = (f(x + eps * v)[1][0] - f(x - eps * v)[1][0]) / (2 * eps)
    np.testing.assert_allclose(hv[0], fd, rtol=1e-6, atol=1e-9)


def test_jacobian_of_a_reduction_and_an_elementwise_output() -> None:
    x = np.array([1.0, 2.0, 3.0])
    _, jac = symgraph.jacobian("(mean(w*x), sum(w*w*x))", wrt=["w"])(2.0, x)
    np.testing.assert_allclose(jac[:, 0], [np.mean(x), np.sum(2 * 2.0 * x)])


def test_jacobian_rows_are_reduced_over_their_own_output() -> None:
    """A scalar output beside an array output: each row is d(sum of that output)/d(wrt), not stretched."""
    x = np.ones((4, 3))
    y = np.array([1.0, 2.0, 3.0])
    J = symgraph.jacobian("r1 = w*x + b; r2 = w*b*y; (r1, r2)", wrt=["w", "b"])
    _, jac = J(0.5, x, 2.0, y)
    _, (dw1, db1) = symgraph.compile("w*x + b", wrt=["w", "b"])(0.5, x, 2.0)
    _, (dw2, db2) = symgraph.compile("w*b*y", wrt=["w", "b"])(0.5, 2.0, y)
    np.testing.assert_allclose(jac, [[dw1, db1], [dw2, db2]])
    J2 = symgraph.jacobian("r1 = w*x; r2 = w*b; (r1, r2)", wrt=["w", "b"])
    np.testing.assert_allclose(J2(0.5, x, 2.0)[1], [[12.0, 0.0], [2.0, 0.5]])
