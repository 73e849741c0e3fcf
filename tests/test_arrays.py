"""Arrays: elementwise, broadcasting, and each gradient shaped like its input (gradient of the sum)."""

from __future__ import annotations

import numpy as np

import symgraph


def test_per_point_derivative_for_inputs_of_the_output_shape() -> None:
    f = symgraph.compile("sin(x)*y")
    x = np.linspace(0, 1, 5)
    y = np.linspace(1, 2, 5)
    value, (dx, dy) = f(x, y)
    np.testing.assert_allclose(value, np.sin(x) * y)
    np.testing.assert_allclose(dx, np.cos(x) * y)
    np.testing.assert_allclose(dy, np.sin(x))


def test_scalar_parameters_get_the_gradient_of_the_sum() -> None:
    J = symgraph.compile("(w*x+b-y)^2/2", wrt=["w", "b"])
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([2.0, 4.0, 7.0])
    value, (dw, db) = J(1.5, x, 0.5, y)
    r = 1.5 * x + 0.5 - y
    assert np.shape(dw) == () and np.shape(db) == ()
    np.testing.assert_allclose([dw, db], [np.sum(r * x), np.sum(r)])


def test_broadcast_shapes_reduce_to_each_input() -> None:
    f = symgraph.compile("a*b + c")
    a = np.arange(3.0).reshape(3, 1)
    b = np.arange(4.0).reshape(1, 4)
    c = 2.0
    value, (da, db, dc) = f(a, b, c)
    assert value.shape == (3, 4)
    assert da.shape == (3, 1) and db.shape == (1, 4) and np.shape(dc) == ()
    np.testing.assert_allclose(da[:, 0], np.full(3, b.sum()))
    np.testing.assert_allclose(db[0], np.full(4, a.sum()))
    assert dc == 12.0  # d/dc of the sum of 12 values each containing c once


def test_constant_gradient_is_counted_at_every_point() -> None:
    f = symgraph.compile("x + y")
    value, (dx, dy) = f(np.ones(4), 3.0)
    np.testing.assert_array_equal(dx, np.ones(4))
    assert dy == 4.0
    dx[0] = 9.0  # gradients are fresh arrays, not views of the inputs or of each other
    assert f(np.ones(4), 3.0)[1][0][0] == 1.0


def test_python_float_domain_errors_follow_numpy() -> None:
    f = symgraph.compile("1/x + log(x)")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, (d,) = f(0.0)
    assert np.isinf(value) or np.isnan(value)
    assert caught and all(issubclass(w.category, RuntimeWarning) for w in caught)


def test_generated_function_is_pure() -> None:
    f = symgraph.compile("((x+5)^3+1)^2")
    assert f(-3) == f(-3) == (81.0, (216.0,))  # no state between calls (micrograd's trap)


def test_an_input_simplified_away_still_gets_a_gradient_of_its_shape() -> None:
    value, (dx, dy) = symgraph.compile("x*0 + y")(np.arange(3.0), 2.0)
    np.testing.assert_array_equal(value, np.arange(3.0) * 0 + 2.0)  # NumPy's answer: x*0 keeps x's shape
    assert dy == 3.0  # the gradient of the sum over the three points
    np.testing.assert_array_equal(dx, np.zeros(3))


def test_returned_gradients_never_alias_inputs_or_each_other() -> None:
    x, y = np.ones(3), np.full(3, 2.0)
    _, (dx, dy) = symgraph.compile("x*y")(x, y)
    assert dx is not y and dy is not x and not np.shares_memory(dx, y)
    _, (dx, dy) = symgraph.compile("sin(x+y)")(x, y)
    assert dx is not dy and not np.shares_memory(dx, dy)


def test_values_view_agrees_with_the_compiled_gradients_under_broadcasting() -> None:
    f = symgraph.compile("h = x*w; h + w")
    x = np.array([1.0, 2.0])
    _, (dx, dw) = f(x, 3.0)
    steps = f.values(x, 3.0)
    np.testing.assert_array_equal(steps["d_x"], dx)
    assert steps["d_w"] == dw == 1.0 + 2.0 + 2 * 1.0  # x summed, plus w's own term at each of 2 points
    np.testing.assert_array_equal(steps["d_h"], [1.0, 1.0])


def test_integer_arrays_are_raised_to_powers_in_floats() -> None:
    value, (d,) = symgraph.compile("x^5")(np.array([10000, 3]))
    np.testing.assert_allclose(value, [1e20, 243.0])
    np.testing.assert_allclose(d, [5e16, 405.0])
