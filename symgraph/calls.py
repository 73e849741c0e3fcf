"""The call boundary of a compiled function: what its inputs may be, and errors that name them.

Inputs are floats: Python floats, NumPy floating scalars and arrays of a floating dtype go through unchanged
(float32 stays float32). Python ints and bools, NumPy integer and bool scalars and arrays are computed in
float64: converted here, before the generated code runs, so integers never wrap or truncate (`x*x` at
np.array([2**40]) is 1.2089258196146292e+24, `x^y` at (2, -1) is 0.5). Everything else is an ArgumentError
naming the input: complex numbers (symgraph's derivatives are real), object arrays, lists and tuples,
None, strings, and integers too large for a float64. Objects that follow NumPy's protocols (Dask arrays) go
through as they are, converted with astype when their dtype is an integer one.

The fast path, every input a Python float or a float ndarray given by position, is `entry`: a function
written for the number of inputs, with one type test per input and no loop. A ValueError from the generated
code is explained only after it is raised: when the inputs' shapes do not broadcast together, `clash` names
the two inputs that disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ArgumentError

_ASARRAY = "np.asarray turns a list into one"
_TO_FLOAT = "iub"  # integer, unsigned and bool dtypes: computed in float64


class _Missing:
    """The default of an input the caller did not pass to an entry (never a value a caller has)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def entry_source(n: int, fits: bool = False) -> str:
    """The source of `entry`, f(...) for a function of n inputs: floats and float arrays given by position go
    straight to the generated function (a ValueError going through `_explain` first); any other call goes to
    `_checked(args, kwargs)`, with the inputs not passed left out of args. For two inputs:

        def entry(a0=_MISSING, a1=_MISSING, /, *more, **named):
            if (type(a0) is float or type(a0) is _ndarray and a0.dtype.kind == "f") and (...a1...) \\
                    and not more and not named:
                try:
                    return _function(a0, a1)
                except (ValueError, TypeError):
                    _explain((a0, a1), {})
                    raise
            return _checked(tuple([a for a in (a0, a1, *more) if a is not _MISSING]), named)

    With `fits` (a formula with declared shapes) the test also asks `_fits(a0, a1)` (fits_source): inputs of
    other shapes take the slow path, which names the input and the dimension.
    Its names beside the parameters: _function, _explain, _checked, _MISSING, _ndarray (and _fits).
    """
    params = [f"a{i}" for i in range(n)]
    own = ", ".join(params)
    floats = [f'(type({p}) is float or type({p}) is _ndarray and {p}.dtype.kind == "f")' for p in params]
    tests = [*floats, "not more and not named", *([f"_fits({own})"] if fits else [])]
    lines = [
        f"def entry({''.join(p + '=_MISSING, ' for p in params)}{'/, ' if params else ''}*more, **named):",
        f"    if {' and '.join(tests)}:",
        "        try:",
        f"            return _function({own})",
        "        except (ValueError, TypeError):",
        f"            _explain(({own}{',' if n == 1 else ''}), {{}})",
        "            raise",
        f"    return _checked(tuple([a for a in ({own}{', ' if params else ''}*more,) if a is not _MISSING]), named)",
    ]
    return "\n".join(lines) + "\n"


def fits_source(n: int, declared: tuple[tuple[int, tuple[int | str, ...]], ...]) -> str:
    """The source of `fits(a0, ..., a{n-1})`: True when the inputs at the declared positions (k, dims) have
    exactly the declared shapes, each named dimension one size throughout. Straight-line code, one tuple
    comparison: the entry's shape test costs a fraction of a microsecond. For X: [n, 64] and b: [64] first:

        def fits(a0, a1):
            s0 = a0.shape if type(a0) is _ndarray else ()
            s1 = a1.shape if type(a1) is _ndarray else ()
            try:
                d0 = s0[0]
            except IndexError:
                return False
            return (s0, s1) == ((d0, 64), (64,))
    """
    lines = [f"def fits({', '.join(f'a{i}' for i in range(n))}):"]
    local: dict[int | str, str] = {}  # a named dimension -> the local holding its size (user names stay out)
    firsts, got, want = [], [], []
    for k, dims in declared:
        lines.append(f"    s{k} = a{k}.shape if type(a{k}) is _ndarray else ()")
        sizes = []
        for axis, d in enumerate(dims):
            if isinstance(d, str) and d not in local:
                local[d] = f"d{len(local)}"
                firsts.append(f"        {local[d]} = s{k}[{axis}]")
            sizes.append(local[d] if isinstance(d, str) else str(int(d)))
        got.append(f"s{k}")
        want.append(f"({', '.join(sizes)}{',' if len(sizes) == 1 else ''})")
    if firsts:
        lines += ["    try:", *firsts, "    except IndexError:", "        return False"]
    comma = "," if len(got) == 1 else ""
    lines.append(f"    return ({', '.join(got)}{comma}) == ({', '.join(want)}{comma})")
    return "\n".join(lines) + "\n"


def check_declared(declared: dict[str, Any], point: dict[str, Any]) -> None:
    """ArgumentError naming the first input whose shape contradicts its declaration, or a named dimension
    that two inputs give different sizes."""
    sizes: dict[str, tuple[int, str]] = {}
    for name, dims in declared.items():
        if name not in point:
            continue
        shape = np.shape(point[name])
        said = "[" + ", ".join(str(d) for d in dims) + "]"
        if len(shape) != len(dims):
            raise ArgumentError(
                f"input {name} has shape {shape}, with {len(shape)} ax{'i' if len(shape) == 1 else 'e'}s; "
                f"its declared shape {said} has {len(dims)}"
                if len(dims) != 1
                else f"input {name} has shape {shape}; its declared shape {said} is a vector"
            )
        for axis, (d, k) in enumerate(zip(dims, shape)):
            if isinstance(d, int):
                if d != k:
                    raise ArgumentError(
                        f"input {name} has shape {shape}; its declared shape is {said}: axis {axis} is {d}, not {k}"
                    )
                continue
            seen = sizes.setdefault(d, (k, name))
            if seen[0] != k:
                raise ArgumentError(
                    f"input {name} has shape {shape}, so {d} is {k} (declared {said}), "
                    f"but {seen[1]} gives {d} = {seen[0]}",
                    hint=f"every input declared with {d} must have the same size there",
                )


def floats(names: Sequence[str], args: tuple[Any, ...]) -> tuple[Any, ...]:
    """`args` (positional inputs, in `names` order) with every input made a float: `args` itself when all
    already are. Arguments beyond `names` are left for the call to refuse."""
    for a in args:
        if type(a) is not float and not (type(a) is np.ndarray and a.dtype.kind == "f"):
            break
    else:
        return args
    out = list(args)
    for i, (name, a) in enumerate(zip(names, args)):
        out[i] = as_float(name, a)
    return tuple(out)


def floats_by_name(names: Sequence[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Inputs given by name, each made a float; names that are not inputs are left for the call to refuse."""
    return {k: as_float(k, v) if k in names else v for k, v in kwargs.items()}


def as_float(name: str, a: Any) -> Any:
    """Input `name`'s value as symgraph computes with it, or an ArgumentError saying what to pass instead."""
    if isinstance(a, (float, np.floating)):
        return a
    if isinstance(a, (bool, np.bool_, np.integer)):
        return np.float64(a) if isinstance(a, np.generic) else float(a)
    if isinstance(a, int):
        try:
            return float(a)
        except OverflowError:
            raise ArgumentError(
                f"input {name} is an integer of {len(str(abs(a)))} digits, too large for a float64",
                hint="symgraph computes in float64, whose largest finite number is about 1.8e308",
            ) from None
    if isinstance(a, (complex, np.complexfloating)):
        raise _complex(name)
    if isinstance(a, np.ndarray):
        return _array(name, a, a.dtype)
    if a is None or isinstance(a, (str, bytes, list, tuple, dict, set)):
        what = "None" if a is None else f"a {type(a).__name__}"
        raise ArgumentError(f"input {name} is {what}; pass a number or an array ({_ASARRAY})")
    dtype = getattr(a, "dtype", None)
    if isinstance(dtype, np.dtype) and hasattr(a, "__array_ufunc__"):  # a duck array, Dask's for one
        return _array(name, a, dtype)
    if hasattr(a, "__array_ufunc__") or hasattr(a, "__array_function__"):
        return a
    raise ArgumentError(f"input {name} is a {type(a).__name__}; pass a number or an array ({_ASARRAY})")


def _array(name: str, a: Any, dtype: np.dtype) -> Any:
    kind = dtype.kind
    if kind == "f":
        return a
    if kind in _TO_FLOAT:
        return np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) else a.astype(np.float64)
    if kind == "c":
        raise _complex(name)
    if kind == "O":
        raise ArgumentError(
            f"input {name} is an array of Python objects (dtype object)",
            hint=f"pass a float array: np.asarray({name}, dtype=float)",
        )
    raise ArgumentError(f"input {name} is an array of dtype {dtype}; pass numbers or an array of floats")


def _complex(name: str) -> ArgumentError:
    return ArgumentError(
        f"input {name} is complex; symgraph's derivatives are real",
        hint="pass the real and imaginary parts as separate real inputs",
    )


def clash(point: dict[str, Any]) -> ArgumentError | None:
    """An ArgumentError naming two inputs whose shapes do not broadcast together, or None when they all do
    (so the error the generated code raised has another cause)."""
    shapes = {name: np.shape(v) for name, v in point.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        pass
    else:
        return None
    seen: list[tuple[str, tuple[int, ...]]] = []
    for name, shape in shapes.items():
        for other, before in seen:
            try:
                np.broadcast_shapes(before, shape)
            except ValueError:
                return ArgumentError(
                    f"inputs {other} (shape {before}) and {name} (shape {shape}) do not broadcast together",
                    hint="NumPy broadcasting: trailing dimensions must be equal or 1",
                )
        seen.append((name, shape))
    return None  # broadcasting fails only between two inputs; kept for the type checker
