"""Hessians and Hessian-vector products of matrix formulas: over every element of each input (a vector w of d
elements has a d x d Hessian), checked against HIPS autograd and closed forms."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import symgraph

RNG = np.random.default_rng(7)
X = RNG.normal(size=(30, 4))
Y = np.sign(RNG.normal(size=30))
W = RNG.normal(size=4)


def logistic(w: np.ndarray) -> np.ndarray:
    return anp.mean(anp.logaddexp(0.0, -Y * (X @ w)))


@pytest.mark.parametrize("declared", ["", "X: [n, d]; y: [n]; w: [d]\n"])
def test_the_hessian_of_a_vector_input_is_a_d_by_d_matrix(declared: str) -> None:
    f = symgraph.hessian(declared + "mean(softplus(-y*(X@w)))", wrt=["w"])
    point = {"X": X, "y": Y, "w": W}
    value, gradient, hessian = f(*(point[n] for n in f.variables))
    assert hessian.shape == (4, 4) and gradient.shape == (4,)
    np.testing.assert_allclose(value, logistic(W), rtol=1e-12)
    np.testing.assert_allclose(gradient, autograd.grad(logistic)(W), rtol=1e-10)
    np.testing.assert_allclose(hessian, autograd.hessian(logistic)(W), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-12)


def test_a_quadratic_form_has_the_symmetric_part_as_its_hessian() -> None:
    a = RNG.normal(size=(3, 3))
    f = symgraph.hessian("0.5*x.T@A@x", wrt=["x"])
    x = RNG.normal(size=3)
    _, gradient, hessian = f(x, a)
    np.testing.assert_allclose(gradient, 0.5 * (a + a.T) @ x, rtol=1e-12)
    np.testing.assert_allclose(hessian, 0.5 * (a + a.T), rtol=1e-12)


def test_several_inputs_are_one_vector_in_wrt_order() -> None:
    f = symgraph.hessian("mean(softplus(-y*(X@w + b)))", wrt=["w", "b"])

    def joint(p: np.ndarray) -> np.ndarray:
        return anp.mean(anp.logaddexp(0.0, -Y * (X @ p[:4] + p[4])))

    p = np.append(W, 0.3)
    point = {"X": X, "y": Y, "w": W, "b": 0.3}
    _, gradient, hessian = f(*(point[n] for n in f.variables))
    assert hessian.shape == (5, 5)
    np.testing.assert_allclose(gradient, autograd.grad(joint)(p), rtol=1e-10)
    np.testing.assert_allclose(hessian, autograd.hessian(joint)(p), rtol=1e-10, atol=1e-14)


def test_a_matrix_input_is_raveled() -> None:
    f = symgraph.hessian("sum(tanh(A @ x)^2)", wrt=["A"])
    a, x = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    _, gradient, hessian = f(a, x)

    def g(flat: np.ndarray) -> np.ndarray:
        return anp.sum(anp.tanh(anp.reshape(flat, (2, 3)) @ x) ** 2)

    assert gradient.shape == (6,) and hessian.shape == (6, 6)
    np.testing.assert_allclose(hessian, autograd.hessian(g)(a.ravel()), rtol=1e-10, atol=1e-14)


def test_hvp_of_a_matrix_formula_is_flat_and_exact() -> None:
    f = symgraph.hvp("mean(softplus(-y*(X@w)))", wrt=["w"])
    v = RNG.normal(size=4)
    point = {"X": X, "y": Y, "w": W, "v_w": v}
    _, gradient, hv = f(*(point[n] for n in f.variables))
    assert hv.shape == (4,)
    np.testing.assert_allclose(hv, autograd.hessian(logistic)(W) @ v, rtol=1e-10)


def test_the_module_is_standalone_and_names_its_steps() -> None:
    f = symgraph.hessian("X: [n, d]; y: [n]; w: [d]\nmean(softplus(-y*(X@w)))", wrt=["w"])
    namespace: dict[str, object] = {}
    exec(compile(f.source, "<saved>", "exec"), namespace)  # noqa: S102 - the generated module, as a user runs it
    _, _, hessian = namespace["value_grad_hessian"](Y, X, W)  # type: ignore[operator]
    np.testing.assert_allclose(hessian, autograd.hessian(logistic)(W), rtol=1e-10, atol=1e-14)
    assert "for direction in _directions(w):" in f.source and "def _hvp(y, X, w, v_w):" in f.source


def test_elementwise_formulas_keep_the_per_point_convention() -> None:
    f = symgraph.hessian("mean((w*x+b-y)^2)/2", wrt=["w", "b"])
    x, y = RNG.normal(size=50), RNG.normal(size=50)
    _, _, hessian = f(1.0, x, 0.5, y)
    np.testing.assert_allclose(hessian, [[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]], rtol=1e-12)


def test_the_jacobian_of_vector_outputs_has_a_row_per_output_element() -> None:
    f = symgraph.jacobian("(X@w, sum(w*w), outer(w, w))", wrt=["w"])
    x, w = RNG.normal(size=(3, 2)), RNG.normal(size=2)
    (first, second, third), jacobian = f(x, w)

    def flat(v: np.ndarray) -> np.ndarray:
        return anp.concatenate([x @ v, anp.reshape(anp.sum(v * v), (1,)), anp.ravel(anp.outer(v, v))])

    assert jacobian.shape == (3 + 1 + 4, 2)
    np.testing.assert_allclose(np.concatenate([first, [second], third.ravel()]), flat(w), rtol=1e-12)
    np.testing.assert_allclose(jacobian, autograd.jacobian(flat)(w), rtol=1e-12)
