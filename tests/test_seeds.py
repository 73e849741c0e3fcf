"""The two tutorials' worked examples, number for number (as in examples/one_parameter.py and three_inputs.py)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph


def test_seed_one_parameter_inline() -> None:
    f = symgraph.compile("((x+5)^3+1)^2")
    assert f.variables == ("x",) and f.wrt == ("x",)
    assert f(-3) == (81.0, (216.0,))
    assert f(x=-3) == (81.0, (216.0,))


def test_seed_one_parameter_statements_show_every_step() -> None:
    f = symgraph.compile("h = x + 5; g = h^3 + 1; f = g^2")
    assert f.variables == ("x",)
    steps = f.values(x=-3)
    # forward, left to right
    assert (steps["h"], steps["g"], steps["f"]) == (2.0, 9.0, 81.0)
    # backward, right to left
    assert (steps["d_g"], steps["d_h"], steps["d_x"]) == (18.0, 216.0, 216.0)
    assert f(-3) == (81.0, (216.0,))
    # the tutorial's names survive into the generated code
    for line in ("h = x + 5.0", "g = np.power(h, 3.0) + 1.0", "f = g * g", "d_g = 2.0 * g"):
        assert line in f.source


def test_seed_newlines_separate_statements() -> None:
    f = symgraph.compile("h = x + 5\ng = h^3 + 1\nf = g^2\n")
    assert f(-3) == (81.0, (216.0,))


def test_seed_two_graph_with_three_inputs() -> None:
    f = symgraph.compile("(x+y)*z")
    value, grads = f(1, 3, -3)
    assert value == -12 and grads == (-3, -3, 4)
    steps = symgraph.compile("p = x + y; g = p*z").values(x=1, y=3, z=-3)
    assert steps["p"] == 4 and steps["g"] == -12
    assert (steps["d_z"], steps["d_p"], steps["d_x"], steps["d_y"]) == (4, -3, -3, -3)


def test_seed_linear_regression_cost() -> None:
    J = symgraph.compile("(w*x+b-y)^2/2", wrt=["w", "b"])
    assert J.wrt == ("w", "b")
    assert J(w=3, x=-3, b=1, y=5) == (84.5, (39.0, -13.0))
    steps = symgraph.compile("c = w*x; f = c + b; d = f - y; J = d^2/2", wrt="w,b").values(w=3, x=-3, b=1, y=5)
    assert (steps["c"], steps["f"], steps["d"], steps["J"]) == (-9, -8, -13, 84.5)
    assert (steps["d_d"], steps["d_f"], steps["d_c"], steps["d_b"], steps["d_w"]) == (-13, -13, -13, -13, 39)


def test_seed_training_by_gradient_descent_on_a_data_set() -> None:
    """The tutorial's steps: forward pass, backward pass, W = W - lr * gradient, repeated until it stops."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=200)
    y = 2.5 * x - 1.0 + rng.normal(0, 0.01, size=x.size)
    J = symgraph.compile("(w*x+b-y)^2/2", wrt=["w", "b"])
    w, b, lr, m = 0.0, 0.0, 0.1, x.size
    for _ in range(500):
        losses, (d_w, d_b) = J(w, x, b, y)  # per-point losses; gradients of their sum
        w, b = w - lr * d_w / m, b - lr * d_b / m  # the mean cost's gradient
    assert w == pytest.approx(2.5, abs=0.01) and b == pytest.approx(-1.0, abs=0.01)
    assert np.mean(losses) < 1e-4


def test_values_never_overwrites_a_users_statement() -> None:
    steps = symgraph.compile("value = x*2; d_x = value + x; d_x*x").values(1.0)
    assert steps["d_x"] == 3.0  # the user's statement, not the adjoint of x (d(3x^2)/dx = 6)
    assert steps["d_value"] == 1.0
