"""Every call safe (issue 12, item 6): whatever the arguments, a call returns floats of the documented dtype and
shapes, or raises a SymgraphError; never another exception."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph

FORMULAS = ["x*y", "sum(x*y)", "mean((w*x+b-y)^2)/2"]
DTYPES = [np.float64, np.float32, np.int64, np.int8, np.uint8, np.bool_, np.complex128, object]
SHAPES = [(), (0,), (3,), (1, 3), (2, 3)]


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from(SHAPES))
    size = int(np.prod(shape))
    values = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=size, max_size=size))
    a = np.array(values, dtype=np.float64).reshape(shape)
    with np.errstate(all="ignore"):
        if dtype is object:
            return a.astype(object)
        if np.dtype(dtype).kind in "iub":
            a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=-1.0) % 100
        return a.astype(dtype)


ARGUMENTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(min_value=2**60, max_value=2**1100),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.floats(), max_size=3),
    arrays(),
)


def _is_float32_array(a: object) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == np.float32


@settings(max_examples=100, deadline=None)
@given(text=st.sampled_from(FORMULAS), data=st.data())
def test_a_call_returns_floats_or_raises_a_symgraph_error(text: str, data: st.DataObject) -> None:
    f = symgraph.compile(text)
    args = [data.draw(ARGUMENTS, label=name) for name in f.variables]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value, grads = f(*args)
        except symgraph.SymgraphError:
            return
    arrays_in = [a for a in args if isinstance(a, np.ndarray)]
    results = [value, *grads]
    if arrays_in and any(_is_float32_array(a) for a in arrays_in):
        # NumPy's promotion over what each result reads decides: with Python numbers, or with float64 arrays
        # a result does not read (d/dx of x*y is y, float32 when y is, whatever x is)
        allowed = {np.dtype(np.float32), np.dtype(np.float64)}
    else:  # every other array that is not refused is float64 (integer and bool arrays are converted)
        allowed = {np.dtype(np.float64)}
    for r in results:
        assert np.asarray(r).dtype in allowed, (text, args, results)
    for name, a, g in zip(f.wrt, args, grads):
        assert np.shape(g) == np.shape(a), (name, args, grads)
    if text != "x*y":
        assert np.shape(value) == ()
    else:
        assert np.shape(value) == np.broadcast_shapes(*(np.shape(a) for a in args))


DIMS = st.lists(st.one_of(st.sampled_from(["n", "m", "k_"]), st.integers(0, 3)), max_size=3).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.lists(DIMS, min_size=1, max_size=4), st.data())
def test_the_entrys_shape_test_agrees_with_check_declared(declared_dims: list[tuple], data: st.DataObject) -> None:
    """calls.fits_source's straight-line test (the fast path of a declared formula) is True exactly when
    calls.check_declared accepts the inputs, for float arrays and Python floats of every shape."""
    from symgraph import calls

    names = [f"v{k}" for k in range(len(declared_dims) + 1)]  # the last input is not declared
    declared = {names[k]: dims for k, dims in enumerate(declared_dims)}
    where = tuple((k, dims) for k, dims in enumerate(declared_dims))
    namespace = {"_ndarray": np.ndarray}
    exec(calls.fits_source(len(names), where), namespace)  # noqa: S102 - the source under test
    shapes = st.one_of(st.just(None), st.lists(st.integers(0, 3), max_size=3).map(tuple))  # None: a Python float
    args = []
    for _ in names:
        shape = data.draw(shapes)
        args.append(0.5 if shape is None else np.zeros(shape))
    try:
        calls.check_declared(declared, dict(zip(names, args)))
        accepted = True
    except symgraph.ArgumentError:
        accepted = False
    assert namespace["fits"](*args) is accepted
