"""CompiledFunction: a Program's generated module, compiled from exactly the source the user can print.

The source is compiled under a unique filename registered in linecache, so tracebacks show the generated
lines, into a namespace that holds only NumPy. The callable is that code; there is no second path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from operator import attrgetter
from pathlib import Path
from types import CodeType
from typing import Any

import numpy as np

from . import calls, runtime, xp
from .adjoint import gradient
from .codegen import ARRAYS, Spec, generate_module, node_names, slot, tuple_text
from .errors import ArgumentError, ShapeError, did_you_mean
from .ir import Graph, Program
from .load import _code, _run, load
from .names import ADJOINT_PREFIX, VALUE, function_name
from .ops import OPS
from .parse import parse


class CompiledFunction:
    """A formula compiled to one NumPy function: `value, grads = f(*inputs)`.

    Attributes: `variables` (inputs, in order of first appearance), `wrt` (inputs the gradients are taken
    for), `source` (the standalone module), `name` (the function's name in it), `program` (the graph),
    `spec` (what codegen was asked to write). values(), explain, drawings and checks run a variant of the
    same generated code (`trace`), so their numbers are f's numbers.
    """

    def __init__(self, program: Program, wrt: Sequence[str] | None = None, name: str = "value_and_grad") -> None:
        if len(program.outputs) > 1:
            raise ArgumentError(
                f"the formula has {len(program.outputs)} outputs; compile gives the gradient of one output",
                hint="compile each output on its own, or ask for the Jacobian of all of them",
            )
        self._setup(program, wrt, name)
        graph = program.graph
        wrt_ids = [program.inputs[w] for w in self.wrt]
        spread, grad_ids = gradient(graph, program.output, wrt_ids, self._spaces)
        self._spread = spread
        self.gradients: tuple[int, ...] = tuple(grad_ids)
        self._returned_before = {program.output}
        grads = [self._shaped(gi) for gi in grad_ids]
        # numbers path: a gradient that is an input is returned through _fresh too (a 0-d array is a number)
        plain = tuple_text([returned_text(graph, gi) for gi in grad_ids]) if grad_ids else "()"
        value = returned_text(graph, program.output)  # never the caller's own array (`x`, `X.T`)
        # d_w names what is returned for w (its spread adjoint, when it is another node, is a temporary).
        inputs_adjoints = {ADJOINT_PREFIX + n for n in program.inputs}
        adjoint_names = self._adjoint_names(program.output)
        wanted = [*self._statement_names(), (program.output, VALUE)]
        wanted += [(a, n) for a, n in adjoint_names if n not in inputs_adjoints]  # d_h, as the tutorials say
        wanted += [(gi, ADJOINT_PREFIX + w) for w, gi in zip(self.wrt, grad_ids)]
        taken = set(self.wrt)
        wanted += [(a, n) for a, n in adjoint_names if n in inputs_adjoints and n[2:] not in taken]
        call = ", ".join(program.inputs)
        self._build(
            Spec(
                graph,
                tuple(program.inputs.items()),
                f"{value}, {tuple_text(grads) if grads else '()'}",
                tuple(wanted),
                doc=f"Value of FORMULA and its gradient with respect to ({', '.join(self.wrt)}).",
                usage=f"value, ({', '.join(ADJOINT_PREFIX + w for w in self.wrt)}{',' if len(self.wrt) == 1 else ''})"
                f" = {self.name}({call})",
                numbers_returns=f"{value}, {plain}",
                number_check=self._number_check(),
                arrays=_arrays_text(program),
            )
        )

    # --- shared by every kind of compiled function ---
    def _setup(self, program: Program, wrt: Sequence[str] | str | None, name: str) -> None:
        """Record the program, its inputs, the inputs to differentiate for, and the function's name."""
        self.program = program
        self.variables: tuple[str, ...] = tuple(program.inputs)
        self.wrt: tuple[str, ...] = _check_wrt(self.variables, wrt)
        self.name = function_name(name)
        self._forward = len(program.graph)  # ids from here on are derivative nodes
        self._traces: dict[tuple[int, ...], Callable[..., Any]] = {}
        self._spread = {}  # node -> its adjoint as the generated code computes it (spread)
        self._spaces: dict[int, int] = {}  # node -> the node its spread adjoint stands for points of
        self._adjoint_of: dict[int, int] | None = None

    @property
    def adjoint_of(self) -> dict[int, int]:
        """Node -> the node holding d(sum of the output)/d(node), of (or broadcasting to) the node's shape.
        Made on first use (views such as values() and explain): the sums it adds are not in f's code."""
        if self._adjoint_of is None:
            g = self.program.graph
            self._adjoint_of = {n: g.sum_to(a, n, self._spaces[n]) for n, a in self._spread.items()}
        return self._adjoint_of

    def _shaped(self, node: int) -> str:
        """A derivative's return text: copied where it would otherwise be the very array of an input (or a view
        of one) or of an earlier return value."""
        if self.program.graph.nodes[node].op == "like":  # a fresh array, unless returned already (two zeros)
            fresh = node in self._returned_before
            self._returned_before.add(node)
            return f"_fresh({slot(node)})" if fresh else slot(node)
        return returned_text(self.program.graph, node, self._returned_before)

    def _number_check(self) -> str:
        """`isinstance(value, _NUMBERS)` when the value broadcasts from every input (so it is a number exactly
        when they all are): one test instead of one per input."""
        p = self.program
        if p.graph.shapes[p.output].inputs == frozenset(p.inputs.values()):
            return f"isinstance({slot(p.output)}, _NUMBERS)"
        return ""

    def _statement_names(self) -> list[tuple[int, str]]:
        return sorted(self.program.names.items())

    def _adjoint_names(self, value: int) -> list[tuple[int, str]]:
        """d_<name> for the adjoints of inputs and named statements that the reverse pass made (a forward
        node that happens to be an adjoint keeps its forward name)."""
        named = {**{i: n for n, i in self.program.inputs.items()}, **self.program.names}
        return [
            (a, ADJOINT_PREFIX + named[p])
            for p, a in sorted(self._spread.items(), reverse=True)
            if p in named and a > value
        ]

    def _build(self, spec: Spec) -> None:
        """Write the module for `spec` and load its function."""
        self.spec = spec
        self.source, self._params, self._named = generate_module(spec, self.name, self.program.text)
        self.function: Callable[..., Any] = load(self.source, self.name)
        self._renamed = {k: v for k, v in self._params.items() if k != v}

    def node_names(self, extra: Sequence[int] = ()) -> dict[int, str]:
        """The name of each node as the generated code calls it: inputs, statements, adjoints and the
        temporaries t<id> (nodes f.source inlines are named as the trace of `extra` names them)."""
        _params, named, _namer = node_names(self._trace_spec(tuple(extra)), self.name)
        return {**{i: self._params[n] for n, i in self.spec.params}, **named}

    def _trace_spec(self, nodes: tuple[int, ...]) -> Spec:
        s = self.spec
        keep = [i for i in nodes if self.program.graph.nodes[i].op not in ("var", "const")]
        wanted = (*s.wanted, *((i, f"t{i}") for i in keep))
        every = sorted({*s.roots(), *nodes})
        returns = "{" + ", ".join(f"{i}: {slot(i)}" for i in every) + "}"
        return Spec(s.graph, s.params, returns, wanted, doc="Every requested node's value, by node id.")  # noqa

    def trace(self, nodes: Sequence[int]) -> Callable[..., dict[int, Any]]:
        """A function of the inputs returning {node id: value} for `nodes` (and everything f returns),
        generated by the same emitter with the same names as f.source: the one path from graph to numbers."""
        key = tuple(sorted(set(nodes)))
        found = self._traces.get(key)
        if found is None:
            source, _params, _named = generate_module(self._trace_spec(key), self.name, self.program.text)
            found = self._traces[key] = self._checked(load(source, self.name))
        return found

    def _checked(self, run: Callable[..., Any]) -> Callable[..., Any]:
        """`run` (a function of the inputs by position) behind the checks of a call of f."""

        def checked(*args: Any) -> Any:
            args = calls.floats(self.variables, args)
            if self.program.declared:  # as f(...) does: the generated code writes into arrays of these shapes
                calls.check_declared(self.program.declared, dict(zip(self.variables, args)))
            try:
                return run(*args)
            except ValueError:
                self._explain(args, {})
                raise

        return checked

    # f(...) runs the entry calls.entry wrote for this function. A property hands it over from C: a Python
    # __call__ passing the arguments on would cost more than the checks it saves.
    __call__ = property(
        attrgetter("_entry"),
        doc="""(value, (d_w1, d_w2, ...)) for the inputs given by position (in `variables` order) or by name.
        Inputs are made floats first (calls.floats: integers and bools in float64, anything else but floats
        and float arrays refused); `f.function` is the same code without these checks.""",
    )

    def __setattr__(self, name: str, value: Any) -> None:
        """As usual; setting `function` (a test's stand-in, say) also makes it what f(...) runs."""
        object.__setattr__(self, name, value)
        if name == "function":
            object.__setattr__(self, "_entry", _entry(value, len(self.spec.params), self))

    def _call_checked(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        """A call of f other than floats and float arrays by position: inputs converted, errors explained."""
        args = calls.floats(self.variables, args)
        if self.program.declared:
            calls.check_declared(self.program.declared, self.bind(args, kwargs))
        try:
            if kwargs:
                kwargs = calls.floats_by_name(self.variables, kwargs)
                if self._renamed:
                    return self.function(*args, **{self._renamed.get(k, k): v for k, v in kwargs.items()})
            return self.function(*args, **kwargs)
        except (TypeError, OverflowError):
            try:
                self.bind(args, kwargs)  # a precise ArgumentError if the call itself was wrong
            except ArgumentError as e:
                raise e from None  # the generated function's error is noise next to it
            self._explain(args, kwargs)  # a matrix op given numbers (1.0 @ 2.0): the op and the shapes named
            raise
        except ValueError:
            self._explain(args, kwargs)
            raise

    def _explain(self, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        """Raise an ArgumentError in place of the generated code's ValueError when the inputs' shapes clash."""
        try:
            point = self.bind(args, kwargs)
        except ArgumentError:
            return
        if self.program.declared:
            calls.check_declared(self.program.declared, point)
        if self.program.text and any(OPS[n.op].matrix for n in self.program.graph.nodes):
            try:  # the formula read again at these shapes: the op whose operands do not fit, in the text
                at = {n: np.shape(v) for n, v in point.items()}
                parse(self.program.text, at, override=True, exact=self.program.graph.exact)
            except ShapeError as e:
                shapes = ", ".join(f"{n} {np.shape(v)}" for n, v in point.items())
                raise ArgumentError(
                    f"at the inputs' shapes ({shapes}): {e.message}", text=e.text, line=e.line, column=e.column
                ) from None
        error = calls.clash(point)
        if error is not None:
            raise error from None

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
        value, and the adjoint d_<name> of each (the derivative of the output with respect to it), each of
        its own shape. A statement the user named like an adjoint (d_x) keeps its own value under that key.

        Computed by a trace of the generated code, so the numbers are exactly f's.
        """
        point = self.bind(args, kwargs)
        named = [*self.program.inputs.items(), *((n, i) for i, n in self.program.names.items())]
        adjoint = {name: self.adjoint_of[node] for name, node in named if node in self.adjoint_of}
        run = self.trace([node for _, node in named] + list(adjoint.values()))
        found = run(*(point[n] for n in self.variables))
        out: dict[str, Any] = {name: found[node] for name, node in named}
        for name, node in named:
            if name in adjoint and "d_" + name not in out:  # a statement the user named d_x keeps its value
                out["d_" + name] = runtime._like(found[adjoint[name]], found[node])
        return out

    def save(self, path: str | Path, array_api: bool = False) -> Path:
        """Write the standalone module (NumPy only; with array_api, the Array-API form of xp.py) to `path`."""
        path = Path(path)
        path.write_text(xp.module_source(self) if array_api else self.source, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"<CompiledFunction {self.name}({', '.join(self.variables)}) wrt ({', '.join(self.wrt)})>"


def evaluator(graph: Graph, params: Sequence[tuple[str, int]], nodes: Sequence[int]) -> Callable[..., dict[int, Any]]:
    """A function of the inputs (in `params` order) returning {node id: value} for `nodes` of any graph, written
    by the one emitter: for views such as explain's local derivatives, which work on graphs of their own."""
    keep = sorted(set(nodes))
    returns = "{" + ", ".join(f"{i}: {slot(i)}" for i in keep) + "}"
    wanted = tuple((i, f"t{i}") for i in keep)
    source, _params, _named = generate_module(Spec(graph, tuple(params), returns, wanted), "trace", "")
    return load(source, "trace")


def _arrays_text(program: Program) -> str:
    """The module docstring's paragraph on inputs; for a matrix formula: arrays, and the declared shapes."""
    if not program.matrix:
        return ARRAYS
    declared = ", ".join(f"{n}: [{', '.join(map(str, d))}]" for n, d in program.declared.items())
    text = "Inputs are NumPy arrays (a matrix formula); each gradient has its input's shape."
    return text + (f"\nDeclared shapes (checked by f(...), not by this module): {declared}." if declared else "")


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


def _entry(function: Callable[..., Any], n: int, owner: CompiledFunction) -> Callable[..., Any]:
    """What f(...) runs for `function` of n inputs: calls.entry_source's code, compiled once per n (and, with
    declared shapes, once per declaration for the shape test calls.fits_source writes)."""
    names: dict[str, Any] = {"_function": function, "_explain": owner._explain, "_checked": xp.checked(owner)}
    names |= {"_MISSING": calls.MISSING, "_ndarray": np.ndarray}  # _checked: xp.py sends other libraries on
    declared = owner.program.declared
    if declared:  # every call's arrays are checked against the declared shapes first
        where = tuple((k, tuple(declared[v])) for k, v in enumerate(owner.variables) if v in declared)
        names["_fits"] = _run(_fits_code(n, where), "fits", {"_ndarray": np.ndarray})
    return _run(_entry_code(n, bool(declared)), "entry", names)


@functools.lru_cache(maxsize=64)
def _entry_code(n: int, fits: bool) -> CodeType:
    return _code(calls.entry_source(n, fits), f"<symgraph entry of {n} inputs>")  # its lines stay in linecache


@functools.lru_cache(maxsize=64)
def _fits_code(n: int, declared: tuple[tuple[int, tuple[int | str, ...]], ...]) -> CodeType:
    return _code(calls.fits_source(n, declared), f"<symgraph shape test {declared}>")  # one per declaration


def returned_text(graph: Graph, i: int, before: set[int] | None = None) -> str:
    """The return text of node i: through _fresh where its array may be an input's (or a view of one), or that
    of a node returned before it (added to `before`), so no result is the caller's array or another result."""
    under = i
    while OPS[graph.nodes[under].op].shares:
        under = graph.nodes[under].args[0]
    fresh = graph.nodes[under].op == "var" or (before is not None and under in before)
    if before is not None:
        before.add(under)
    return f"_fresh({slot(i)})" if fresh else slot(i)
