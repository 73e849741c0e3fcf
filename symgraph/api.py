"""The public entry points: compile text to a CompiledFunction, served from a cache for repeated text."""

from __future__ import annotations

import functools
import gc
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from .errors import ArgumentError
from .function import CompiledFunction
from .higher import HessianFunction, HVPFunction, JacobianFunction
from .ir import Program
from .parse import parse as _parse

_F = TypeVar("_F", bound=CompiledFunction)
Shapes = Mapping[str, Sequence[int | str]]
ShapesKey = tuple[tuple[str, tuple[int | str, ...]], ...]


def parse(text: str, *, shapes: Shapes | None = None) -> Program:
    """Parse text into a Program (graph, inputs, output, statement names) without generating code."""
    return _parse(text, dict(_shapes(shapes)))


def compile(  # noqa: A001 - the natural name for what it does
    text: str,
    wrt: Sequence[str] | str | None = None,
    *,
    name: str = "value_and_grad",
    shapes: Shapes | None = None,
    exact: bool = True,
) -> CompiledFunction:
    """Compile a formula to a function returning (value, gradients); wrt defaults to every input.
    `shapes` declares input shapes, {"X": ("n", 64)}, as the text's `X: [n, 64]` does. `exact=False` lets
    whole powers become products and constants combine, which may change the last bit (much faster x^3)."""
    return _build(CompiledFunction, _formula(text), _key(wrt), _name(name), _shapes(shapes), _exact(exact))


def hessian(
    text: str,
    wrt: Sequence[str] | str | None = None,
    *,
    name: str = "value_grad_hessian",
    shapes: Shapes | None = None,
    exact: bool = True,
) -> HessianFunction:
    """Compile a formula to a function returning (value, gradient, Hessian); wrt defaults to every input."""
    return _build(HessianFunction, _formula(text), _key(wrt), _name(name), _shapes(shapes), _exact(exact))


def hvp(
    text: str,
    wrt: Sequence[str] | str | None = None,
    *,
    name: str = "value_grad_hvp",
    shapes: Shapes | None = None,
    exact: bool = True,
) -> HVPFunction:
    """Compile a formula to a function of (inputs, v) returning (value, gradient, Hessian times v)."""
    return _build(HVPFunction, _formula(text), _key(wrt), _name(name), _shapes(shapes), _exact(exact))


def jacobian(
    text: str,
    wrt: Sequence[str] | str | None = None,
    *,
    name: str = "values_and_jacobian",
    shapes: Shapes | None = None,
    exact: bool = True,
) -> JacobianFunction:
    """Compile a formula whose last statement is a tuple of outputs to (values, Jacobian matrix)."""
    return _build(JacobianFunction, _formula(text), _key(wrt), _name(name), _shapes(shapes), _exact(exact))


def _formula(text: str) -> str:
    """The formula, checked to be text before it is used as a cache key."""
    if not isinstance(text, str):
        raise ArgumentError(f"a formula is text (str), not {type(text).__name__}")
    return text


@functools.lru_cache(maxsize=512)
def _build(
    kind: type[_F], text: str, wrt: tuple[str, ...] | str | None, name: str, shapes: ShapesKey = (), exact: bool = True
) -> _F:
    """One compiled function per (kind, text, wrt, name, shapes, exact): the same text again is served from here.

    The cyclic garbage collector is paused meanwhile: the passes make tens of thousands of small objects that
    live until the end, and it would walk them again and again (about 15% of a large compile)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return kind(_parse(text, dict(shapes), exact=exact), wrt, name)
    finally:
        if enabled:
            gc.enable()


_KINDS: dict[str, Any] = {  # name -> kind (Any: mypy takes a class object for unhashable)
    k.__name__: k for k in (CompiledFunction, HessianFunction, HVPFunction, JacobianFunction)
}


def _unpickle(
    kind: str, text: str, wrt: tuple[str, ...], name: str, shapes: ShapesKey = (), exact: bool = True
) -> CompiledFunction:
    """A pickled compiled function, recompiled from its text (through the cache) where it is unpickled."""
    if kind not in _KINDS:
        raise ArgumentError(f"cannot unpickle a {kind!r}: the kinds are {', '.join(_KINDS)}")
    return _build(_KINDS[kind], text, tuple(wrt), name, _shapes(dict(shapes)), _exact(exact))


def _reduce(f: CompiledFunction) -> tuple[object, tuple[str, str, tuple[str, ...], str, ShapesKey, bool]]:
    """Pickle a compiled function as (kind, text, wrt, name, shapes, exact): the code is rebuilt, not shipped."""
    exact = f.program.graph.exact
    return _unpickle, (type(f).__name__, f.program.text, f.wrt, f.name, _shapes(f.program.shapes), exact)


CompiledFunction.__reduce__ = _reduce  # type: ignore[assignment,method-assign]


def _key(wrt: Sequence[str] | str | None) -> tuple[str, ...] | str | None:
    """wrt as a cache key: None, a comma-separated string, or a tuple of names in the order given."""
    if wrt is None or isinstance(wrt, str):
        return wrt
    if isinstance(wrt, (set, frozenset, dict)):
        raise ArgumentError("wrt must be ordered (a list or tuple of input names): it sets the gradients' order")
    try:
        names = tuple(wrt)
    except TypeError:
        raise ArgumentError(f"wrt is a list of input names, not {type(wrt).__name__}") from None
    odd = [w for w in names if not isinstance(w, str)]
    if odd:
        raise ArgumentError(f"wrt holds input names (strings), not {odd[0]!r}")
    return names


def _shapes(shapes: Shapes | None) -> ShapesKey:
    """Declared shapes as a cache key: ((name, dims), ...) sorted by name, each dim an int >= 0 or a name."""
    if shapes is None:
        return ()
    if not isinstance(shapes, Mapping):
        raise ArgumentError(f"shapes maps input names to shapes, as {{'X': ('n', 64)}}, not {type(shapes).__name__}")
    out = []
    for key, dims in shapes.items():
        if not isinstance(key, str) or isinstance(dims, str) or not isinstance(dims, (tuple, list)):
            raise ArgumentError(f"shapes[{key!r}] is a tuple of dimensions such as ('n', 64), not {dims!r}")
        for d in dims:
            ok = (isinstance(d, int) and not isinstance(d, bool) and d >= 0) or (
                isinstance(d, str) and d.isidentifier()
            )
            if not ok:
                raise ArgumentError(f"shapes[{key!r}] has the dimension {d!r}: a dimension is an int >= 0 or a name")
        out.append((key, tuple(dims)))
    return tuple(sorted(out))


def _exact(exact: bool) -> bool:
    if not isinstance(exact, bool):
        raise ArgumentError(f"exact is True (the default: NumPy's bits) or False, not {exact!r}")
    return exact


def _name(name: str) -> str:
    if not isinstance(name, str):
        raise ArgumentError(f"name is the generated function's name (a string), not {name!r}")
    return name
