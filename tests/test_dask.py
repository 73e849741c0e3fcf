"""Chunked dask.array inputs run through the generated code unchanged: value and gradients come back as
lazy Dask objects (nothing is computed until asked) and equal NumPy's results on the same data."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph

da = pytest.importorskip("dask.array", reason="Dask is an optional extra: pip install 'symgraph[dask]'")
dask = pytest.importorskip("dask")


def no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("the generated function computed a Dask graph instead of building it lazily")


def lazy_call(f: symgraph.CompiledFunction, *args: object) -> tuple[object, tuple[object, ...]]:
    """Call f with any computation forbidden: every result must be a Dask collection (or a plain number)."""
    with dask.config.set(scheduler=no_compute):
        value, grads = f(*args)
    for result in (value, *grads):
        assert isinstance(result, (da.Array, float)), type(result)
    return value, grads


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, size=100_000)
    y = 2.0 * x - 1.0 + rng.normal(0, 0.1, size=x.size)
    return x, y


def test_mean_squared_error_is_lazy_and_equals_numpy(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    J = symgraph.compile("mean((w*x + b - y)^2)/2", wrt=["w", "b"])
    value, (dw, db) = lazy_call(J, 1.5, da.from_array(x, chunks=10_000), 0.25, da.from_array(y, chunks=10_000))
    assert isinstance(value, da.Array) and isinstance(dw, da.Array) and isinstance(db, da.Array)
    got = dask.compute(value, dw, db)
    want_value, want_grads = J(1.5, x, 0.25, y)
    np.testing.assert_allclose(got, [want_value, *want_grads], rtol=1e-12)


def test_per_point_and_broadcast_gradients_have_numpy_shapes_and_values() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(400, 1))
    b = rng.normal(size=(1, 300))
    f = symgraph.compile("sin(a*b) + sum(b)*a")
    value, grads = lazy_call(f, da.from_array(a, chunks=(100, 1)), da.from_array(b, chunks=(1, 100)))
    want_value, want_grads = f(a, b)
    assert value.shape == want_value.shape and [g.shape for g in grads] == [g.shape for g in want_grads]
    np.testing.assert_allclose(value.compute(), want_value, rtol=1e-13)
    for got, want in zip(dask.compute(*grads), want_grads):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_an_array_bigger_than_one_chunk_never_needs_to_be_in_memory() -> None:
    """Data made chunk by chunk (here 10^7 points, 80 MB, in chunks of 10^6): the whole chain stays lazy."""
    x = da.random.default_rng(3).uniform(-2, 2, size=10_000_000, chunks=1_000_000)
    y = 2.0 * x - 1.0
    J = symgraph.compile("mean((w*x + b - y)^2)/2", wrt=["w", "b"])
    value, (dw, db) = lazy_call(J, 2.0, x, -1.0, y)  # the exact parameters: cost and gradient 0
    assert dask.compute(value, dw, db) == (0.0, 0.0, 0.0)
