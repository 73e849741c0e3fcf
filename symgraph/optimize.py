"""Named parameters <-> the one flat vector that scipy.optimize works on (an edge module: the core never
imports it, and SciPy is imported only inside `minimize`).

    from symgraph.optimize import objective
    cost = objective("mean((a*exp(-k*t) - y)^2)", start={"a": 1.0, "k": 0.1}, data={"t": t, "y": y})
    result = scipy.optimize.minimize(cost, cost.x0, jac=True)   # cost(vec) -> (value, gradient vector)
    cost.unpack(result.x)                                       # {"a": ..., "k": ...}

The parameters are the keys of `start`, in that order; each may be a number or an array (its starting
value fixes its shape). Everything else the formula reads comes from `data` and is held fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .api import compile as compile_text
from .errors import ArgumentError, SymgraphError, did_you_mean
from .function import CompiledFunction


class Objective:
    """A formula as SciPy wants it: `cost(vec) -> (value, grad_vec)` over the packed parameters.

    Attributes: `params` (names, in vector order), `shapes` (each parameter's shape), `x0` (the packed
    starting point), `function` (the CompiledFunction), `calls` (how many times it was evaluated).
    An array-valued formula is summed, as its gradient already is (symgraph's convention).
    """

    def __init__(self, f: CompiledFunction, start: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        self.params: tuple[str, ...] = tuple(start)
        missing = [p for p in self.params if p not in f.wrt]
        if missing:
            raise ArgumentError(
                f"parameter(s) {', '.join(missing)} are not among the inputs differentiated for "
                f"({', '.join(f.wrt) or 'none'})",
                hint=_guess(missing[0], f.variables),
            )
        for name in data:
            if name in start:
                raise ArgumentError(f"{name!r} is given both as a parameter (start) and as data")
            if name not in f.variables:
                raise ArgumentError(
                    f"data names {name!r}, which is not an input of the formula (its inputs: {', '.join(f.variables)})",
                    hint=_guess(name, f.variables),
                )
        absent = [v for v in f.variables if v not in start and v not in data]
        if absent:
            raise ArgumentError(f"no value for input(s) {', '.join(absent)}: put each in start or in data")
        self.function = f
        self.data = dict(data)
        self.shapes: dict[str, tuple[int, ...]] = {p: np.shape(start[p]) for p in self.params}
        self._grad_index = [f.wrt.index(p) for p in self.params]
        self.x0: np.ndarray = self.pack(start)
        self.calls = 0

    def pack(self, values: Mapping[str, Any]) -> np.ndarray:
        """One float vector from a value for every parameter, in `params` order."""
        parts = []
        for p in self.params:
            if np.shape(values[p]) != self.shapes[p]:
                raise ArgumentError(f"parameter {p!r} has shape {np.shape(values[p])}, expected {self.shapes[p]}")
            parts.append(np.ravel(np.asarray(values[p], dtype=float)))
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, vec: Any) -> dict[str, Any]:
        """The named parameters from a vector: floats for scalars, arrays shaped as at the start."""
        vec = np.asarray(vec, dtype=float)
        out: dict[str, Any] = {}
        at = 0
        for p in self.params:
            shape = self.shapes[p]
            n = int(np.prod(shape))
            piece = vec[at : at + n]
            out[p] = float(piece[0]) if shape == () else piece.reshape(shape).copy()
            at += n
        if at != vec.size:
            raise ArgumentError(f"a vector of {vec.size} numbers does not hold the {at} parameter values")
        return out

    def __call__(self, vec: Any) -> tuple[float, np.ndarray]:
        """(value, gradient vector) at the packed parameters `vec`: what minimize(..., jac=True) calls."""
        self.calls += 1
        value, grads = self.function(**self.unpack(vec), **self.data)
        grad_vec = self.pack({p: grads[i] for p, i in zip(self.params, self._grad_index)})
        return float(np.sum(value)), grad_vec


def objective(
    formula: str | CompiledFunction, start: Mapping[str, Any], data: Mapping[str, Any] | None = None
) -> Objective:
    """An Objective for `formula` over the parameters named in `start`; `data` holds the other inputs."""
    f = compile_text(formula, wrt=list(start)) if isinstance(formula, str) else formula
    return Objective(f, start, data or {})


def minimize(
    formula: str | CompiledFunction,
    start: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[dict[str, Any], Any]:
    """Minimise with scipy.optimize.minimize (jac=True): (best parameters by name, SciPy's result).

    `options` go to SciPy as they are (method=..., tol=..., bounds=..., options={...}).
    """
    try:
        from scipy.optimize import minimize as scipy_minimize  # SciPy is needed only here
    except ImportError as e:
        raise SymgraphError(f"minimize needs SciPy, which is not installed ({e})", hint="pip install scipy") from None

    cost = objective(formula, start, data)
    result = scipy_minimize(cost, cost.x0, jac=True, **options)
    return cost.unpack(result.x), result


def _guess(name: str, names: tuple[str, ...]) -> str | None:
    guess = did_you_mean(name, names)
    return f"did you mean {guess}?" if guess else None
