"""CompiledFunction: a Program's generated module, compiled from exactly the source the user can print.

The source is compiled under a unique filename registered in linecache, so tracebacks show the generated
lines, into a namespace that holds only NumPy. The callable is that code; there is no second path.
"""

from __future__ import annotations

import itertools
import linecache
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import runtime
from .adjoint import gradient
from .codegen import Plan, generate_module
from .errors import ArgumentError, did_you_mean
from .ir import Program, evaluate
from .names import function_name

_counter = itertools.count(1)


class CompiledFunction:
    """A formula compiled to one NumPy function: `value, grads = f(*inputs)`.

    Attributes: `variables` (inputs, in order of first appearance), `wrt` (inputs the gradients are taken
    for), `source` (the standalone module), `name` (the function's name in it), `program` (the graph).
    """

    def __init__(self, program: Program, wrt: Sequence[str] | None = None, name: str = "value_and_grad") -> None:
        if len(program.outputs) > 1:
            raise ArgumentError(
                f"the formula has {len(program.outputs)} outputs; compile gives the gradient of one output",
                hint="compile each output on its own, or ask for the Jacobian of all of them",
            )
        self.program = program
        self.variables: tuple[str, ...] = tuple(program.inputs)
        self.wrt: tuple[str, ...] = _check_wrt(self.variables, wrt)
        self.name = function_name(name)
        graph = program.graph
        wrt_ids = [program.inputs[w] for w in self.wrt]
        spaces: dict[int, int] = {}
        self.adjoint_of, grad_ids = gradient(graph, program.output, wrt_ids, spaces)
        self._spaces = spaces
        self.gradients: tuple[int, ...] = tuple(grad_ids)
        plan = Plan(
            graph=graph,
            params=tuple(program.inputs.items()),
            value=program.output,
            grads=tuple(zip(self.wrt, grad_ids)),
            names=program.names,
            adjoint_of=self.adjoint_of,
            spaces=tuple(spaces.get(w, program.output) for w in wrt_ids),
        )
        self.source, self._params = generate_module(plan, self.name, program.text)
        self.function: Callable[..., Any] = _load(self.source, self.name)
        self._renamed = {k: v for k, v in self._params.items() if k != v}

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, tuple[Any, ...]]:
        """(value, (d_w1, d_w2, ...)) for the inputs given by position (in `variables` order) or by name."""
        try:
            if self._renamed and kwargs:
                return self.function(*args, **{self._renamed.get(k, k): v for k, v in kwargs.items()})
            return self.function(*args, **kwargs)
        except (TypeError, OverflowError):
            try:
                point = self.bind(args, kwargs)  # a precise ArgumentError if the call itself was wrong
                _check_inputs(point)
            except ArgumentError as e:
                raise e from None  # the generated function's error is noise next to it
            raise

    def bind(self, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The inputs by name from a call's arguments; ArgumentError for missing, extra or unknown ones."""
        names = self.variables
        signature = f"{self.name}({', '.join(names)})"
        if len(args) > len(names):
            raise ArgumentError(
                f"{signature} takes {_count(len(names), 'input')}, got {len(args)} by position",
                hint="pass each input once, in this order, or by name",
            )
        point = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names:
                guess = did_you_mean(k, names)
                raise ArgumentError(
                    f"{signature} has no input {k!r}; its inputs are {', '.join(names) or 'none'}",
                    hint=f"did you mean {guess}?" if guess else None,
                )
            if k in point:
                raise ArgumentError(f"{signature} got input {k!r} twice, by position and by name")
            point[k] = v
        missing = [n for n in names if n not in point]
        if missing:
            raise ArgumentError(
                f"{signature} is missing input(s): {', '.join(missing)}",
                hint=f"pass every input, by position in the order ({', '.join(names)}) or by name",
            )
        return point

    def values(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Every named quantity at a point, as the tutorials tabulate them: the inputs, each statement's
        value, and the adjoint d_<name> of each (the derivative of the output with respect to it). A statement
        the user named like an adjoint (d_x) keeps its own value under that key.

        Computed by interpreting the graph (ir.evaluate), a view for learning and checking; the numbers
        agree with what the compiled function returns.
        """
        point = self.bind(args, kwargs)
        evaluated = evaluate(self.program.graph, point)
        named = [*self.program.inputs.items(), *((n, i) for i, n in self.program.names.items())]
        out: dict[str, Any] = {name: evaluated[node] for name, node in named}
        for name, node in named:
            a = self.adjoint_of.get(node)
            if a is not None and "d_" + name not in out:  # a statement the user named d_x keeps its value
                # summed over the points it is spread over, as the compiled function does
                space = evaluated[self._spaces.get(node, self.program.output)]
                out["d_" + name] = runtime._sum_to(evaluated[a], evaluated[node], space)
        return out

    def save(self, path: str | Path) -> Path:
        """Write the standalone module (needs only NumPy) to `path` and return the path."""
        path = Path(path)
        path.write_text(self.source, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"<CompiledFunction {self.name}({', '.join(self.variables)}) wrt ({', '.join(self.wrt)})>"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _check_wrt(variables: tuple[str, ...], wrt: Sequence[str] | str | None) -> tuple[str, ...]:
    """The inputs to differentiate for: all by default, else the named ones, checked, in the order given."""
    if wrt is None:
        return variables
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    chosen = tuple(wrt)
    for w in chosen:
        if w not in variables:
            known = ", ".join(variables) or "none"
            raise ArgumentError(f"wrt names {w!r}, which is not an input of the formula (its inputs: {known})")
    if len(set(chosen)) != len(chosen):
        raise ArgumentError(f"wrt names an input twice: {', '.join(chosen)}")
    return chosen


def _check_inputs(point: dict[str, Any]) -> None:
    """ArgumentError for an input that is not a number or an array, or an integer too large for a float."""
    for name, v in point.items():
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**1023:
            raise ArgumentError(f"input {name} is an integer of {len(str(abs(v)))} digits, too large for a float64")
        if not (isinstance(v, (int, float, np.number, np.ndarray)) or hasattr(v, "__array_ufunc__")):
            raise ArgumentError(
                f"input {name} is a {type(v).__name__}; pass a number or an array (np.asarray turns a list into one)"
            )


def _load(source: str, name: str) -> Callable[..., Any]:
    """Compile `source` as a module under a linecache-registered filename and return its function."""
    filename = f"<symgraph-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"np": np, "__name__": "symgraph_generated"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated source
    function = namespace[name]
    weakref.finalize(function, linecache.cache.pop, filename, None)  # the lines live as long as the code
    return function
