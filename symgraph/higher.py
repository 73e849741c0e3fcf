"""Higher derivatives and several outputs: Hessian, Hessian-vector product and Jacobian functions.

Adjoints are ordinary graph nodes, so each of these is more reverse passes over the same graph
(adjoint.gradient): the Hessian differentiates each gradient entry again (row i only for wrt[i:], the lower
triangle is filled by symmetry when printing), the HVP differentiates the dot product of the gradient with new
inputs v, and the Jacobian runs one reverse pass per output over the shared forward nodes. Statements are
printed by codegen.emit_lines; this module adds the function shapes (matrices out) and their array convention.
"""

from __future__ import annotations

from collections.abc import Sequence

from .adjoint import gradient
from .codegen import HELPERS, Spec, generate_module, slot
from .errors import ArgumentError, LimitError
from .function import CompiledFunction, returned_text
from .ir import Graph, Program, live_nodes
from .load import load
from .names import ADJOINT_PREFIX, GENERATED, VALUE, Namer
from .ops import OPS, REDUCE

# The reverse passes after the first are checked against these before they run: each pass costs about the
# graph's size, and the generated code grows with the product (a Hessian of n inputs has n*n entries).
MAX_DERIVATIVE_WORK = 200_000  # graph nodes x passes: Hessian (nodes after the gradient x wrt), Jacobian (x outputs)
MAX_HVP_NODES = 50_000  # graph nodes after the gradient, which the HVP's pass differentiates again
# A Hessian's generated code has a line per distinct entry (n(n+1)/2 for n inputs, n*n where points couple), each
# about 0.15 ms to build, print and compile (benchmarks/bench_hessian.py --products): past this many (a product
# of 100 inputs) it would take a second or more, so it is refused before any pass. A matrix formula's Hessian is
# computed by columns at run time, not entry by entry, and is not limited here.
MAX_HESSIAN_ENTRIES = 5_000


def _check_work(kind: str, nodes: int, passes: int, what: str, limit: int, name: str) -> None:
    if nodes * passes > limit:
        raise LimitError(
            f"the {kind} needs {passes:,} reverse pass(es) over a graph of {nodes:,} nodes ({what}), "
            f"{nodes * passes:,} in all; the limit is {limit:,} ({name})",
            hint="differentiate for fewer inputs (wrt=...), or use hvp for the Hessian's effect on a direction;"
            f" to compile it anyway, raise symgraph.higher.{name}",
        )


def _check_entries(n: int, coupled: bool) -> None:
    """LimitError when a Hessian of n inputs has more distinct entries than MAX_HESSIAN_ENTRIES."""
    entries = n * n if coupled else n * (n + 1) // 2
    if entries > MAX_HESSIAN_ENTRIES:
        count = f"{n:,} x {n:,}" if coupled else f"{n:,} x {n + 1:,} / 2"
        raise LimitError(
            f"the Hessian of {n:,} inputs has {count} = {entries:,} distinct entries, a line of generated code"
            f" each; the limit is {MAX_HESSIAN_ENTRIES:,} (MAX_HESSIAN_ENTRIES)",
            hint="differentiate for fewer inputs (wrt=...), or use symgraph.hvp for the Hessian times a direction"
            " (code the size of a gradient's); to compile it anyway (about 0.15 ms an entry), raise"
            " symgraph.higher.MAX_HESSIAN_ENTRIES",
        )


_ARRAYS = """Inputs are numbers or NumPy arrays of broadcastable shapes. Each derivative is that of the sum of the
values, taken at every position of the shape W the inputs in wrt broadcast to: vectors have shape
(n,) + W and matrices (rows, columns) + W. So scalar parameters with data arrays give one matrix for the
summed cost; inputs all of one shape S give a matrix per point."""


_ELEMENTS = """Inputs are arrays of any shapes (a matrix formula). The derivatives are over every element of the inputs
in wrt, raveled in turn into one vector of N elements: a gradient has shape (N,), a Hessian (N, N), and a
Jacobian (M, N) for outputs of M elements in all (raveled in turn too)."""


def _slots(ids: Sequence[int]) -> str:
    """A list literal of the nodes' placeholders."""
    return "[" + ", ".join(slot(i) for i in ids) + "]"


def _matrix(rows: Sequence[Sequence[int]]) -> str:
    return "[" + ", ".join(_slots(row) for row in rows) + "]"


class _Derivatives(CompiledFunction):
    """Shared by the three kinds: a CompiledFunction's call convention, `source`, `save`, `values` and
    `trace`, with their own reverse passes and return values, written by the same emitter."""

    kind = ""
    summary = ""
    returns = ""
    inner = ""  # by columns: the name of the function the emitter writes, which the entry point calls

    def _start(self, program: Program, wrt: Sequence[str] | str | None, name: str) -> list[int]:
        """Record the program, inputs and wrt; the wrt node ids."""
        self._setup(program, wrt, name)
        if not self.wrt:
            raise ArgumentError(f"{self.kind} needs at least one input to differentiate for (wrt is empty)")
        return [program.inputs[w] for w in self.wrt]

    def _single_output(self, program: Program) -> None:
        if len(program.outputs) > 1:
            raise ArgumentError(
                f"the formula has {len(program.outputs)} outputs; a {self.kind} is taken of one output",
                hint="use symgraph.jacobian for several outputs",
            )

    def _finish(
        self, inputs: list[tuple[str, int]], values: str, wanted: list[tuple[int, str]], doc: str, columns: bool = False
    ) -> None:
        """Emit the module: `values` is the return expression over node placeholders. `columns`: the function
        written is _hvp, and the module's entry point (HessianFunction._wrapper) calls it per column."""
        wanted = [*self._statement_names(), *wanted[:1], *self._adjoint_names(self.program.output), *wanted[1:]]
        reserved = GENERATED
        self._build(
            Spec(
                self.program.graph,
                tuple(inputs),
                values,
                tuple(wanted),
                doc=doc,
                summary=self.summary,
                usage=f"{self.returns} = {self.name}({', '.join(self.variables)})",
                arrays=_ELEMENTS if self.program.matrix else _ARRAYS,
                reserved=reserved,
            ),
            columns,
        )

    def _build(self, spec: Spec, columns: bool = False) -> None:  # type: ignore[override]
        """As CompiledFunction's; with `columns`, the emitted function is _hvp and the entry point wraps it."""
        if not columns:
            super()._build(spec)
            return
        self.spec = spec
        source, self._params, self._named = generate_module(spec, self.inner, self.program.text)
        own = source[: -len(HELPERS)]
        self.source = own + self._wrapper(self._params) + HELPERS  # type: ignore[attr-defined]
        self.function = load(self.source, self.name)
        self._renamed = {k: v for k, v in self._params.items() if k != v}

    def _wrapper(self, params: dict[str, str]) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}({', '.join(self.variables)}) wrt ({', '.join(self.wrt)})>"

    def _wrt_text(self) -> str:
        return ", ".join(slot(self.program.inputs[w]) for w in self.wrt)


class HessianFunction(_Derivatives):
    """`value, gradient, hessian = f(*inputs)`: gradient shape (n,), Hessian (n, n) for n inputs in wrt.

    Without sum() or mean(), row i of the Hessian is the gradient of gradient entry i for wrt[i:] only and the
    entries below the diagonal are the same nodes, by symmetry, so each distinct entry is computed once.
    With array inputs entry (i, j) is d/dw_j of the sum of gradient i: the per-point Hessian when points do
    not interact. A formula with sum() or mean() can couple points, and then each entry is computed on its own
    (not by symmetry); for the exact effect of the full Hessian on a direction, use hvp.
    """

    kind = "Hessian"
    inner = "_hvp"
    summary = "Value, gradient and Hessian of a formula in one call"
    returns = "value, gradient, hessian"

    def __init__(
        self, program: Program, wrt: Sequence[str] | str | None = None, name: str = "value_grad_hessian"
    ) -> None:
        self._single_output(program)
        wrt_ids = self._start(program, wrt, name)
        g = program.graph
        self._spread, grads = gradient(g, program.output, wrt_ids, self._spaces)
        n = len(wrt_ids)
        _check_work(self.kind, len(g), n, "one per input in wrt", MAX_DERIVATIVE_WORK, "MAX_DERIVATIVE_WORK")
        self.gradients: tuple[int, ...] = tuple(grads)
        if program.matrix:
            self._by_columns(program, grads, wrt_ids)
            return
        coupled = _couples_points(g, program.output)
        _check_entries(n, coupled)
        if coupled:
            # A reduction can couple the points of arrays: d/dw_j of the sum of gradient i is then not d/dw_i of
            # the sum of gradient j, so every entry is its own reverse pass.
            rows = [gradient(g, grads[i], wrt_ids)[1] for i in range(n)]
            self.hessian: tuple[tuple[int, ...], ...] = tuple(tuple(row) for row in rows)
        else:
            upper = [gradient(g, grads[i], wrt_ids[i:])[1] for i in range(n)]
            self.hessian = tuple(tuple(upper[min(i, j)][abs(j - i)] for j in range(n)) for i in range(n))
        w = self.wrt
        wanted = [(program.output, VALUE)]
        wanted += [(gi, ADJOINT_PREFIX + w[i]) for i, gi in enumerate(grads)]
        wanted += [(self.hessian[i][j], f"d2_{w[i]}_{w[j]}") for i in range(n) for j in range(i, n)]
        wanted += [(self.hessian[i][j], f"d2_{w[i]}_{w[j]}") for i in range(n) for j in range(i)]
        wrt_text = self._wrt_text()
        values = (
            f"{returned_text(g, program.output)}, _stack({_slots(grads)}, {wrt_text}), "
            f"_stack({_matrix(self.hessian)}, {wrt_text})"
        )
        doc = f"Value of FORMULA, its gradient and Hessian with respect to ({', '.join(w)})."
        self._finish(list(program.inputs.items()), values, wanted, doc)

    def _by_columns(self, program: Program, grads: list[int], wrt_ids: list[int]) -> None:
        """The Hessian over every element of the wrt inputs, one Hessian-vector product per column: a module
        whose function _hvp is written by the emitter, and whose entry point calls it once per element."""
        directions, v_ids, hv = _hvp_nodes(self, grads, wrt_ids)
        self.hessian = ()
        wanted = [(program.output, VALUE), *((gi, ADJOINT_PREFIX + w) for w, gi in zip(self.wrt, grads))]
        wanted += [(h, f"hv_{w}") for w, h in zip(self.wrt, hv)]
        values = f"{returned_text(program.graph, program.output)}, _flat(*{_slots(grads)}), _flat(*{_slots(hv)})"
        doc = "Value of FORMULA, its gradient, and its Hessian times the direction v (one column of the Hessian)."
        self._finish([*program.inputs.items(), *zip(directions, v_ids)], values, wanted, doc, columns=True)

    def _wrapper(self, params: dict[str, str]) -> str:
        """The entry point of a Hessian by columns: _hvp once per element of the wrt inputs."""
        args = ", ".join(params[n] for n in self.variables)
        wrt = ", ".join(params[w] for w in self.wrt)
        return (
            f"\n\n\ndef {self.name}({args}):\n"
            f'    """Value of FORMULA, its gradient and Hessian with respect to ({", ".join(self.wrt)}), over every\n'
            '    element: one Hessian-vector product per element (column)."""\n'
            "    columns = []\n"
            f"    for direction in _directions({wrt}):\n"
            f"        value, gradient, column = _hvp({args}, *direction)\n"
            "        columns.append(column)\n"
            "    return value, gradient, np.stack(columns, axis=1)\n"
        )


def _couples_points(graph: Graph, output: int) -> bool:
    """True when the formula reduces an array (sum, mean) on the way to its output."""
    live = live_nodes(graph, [output])
    return any(live[i] and OPS[n.op].shape == REDUCE for i, n in enumerate(graph.nodes))


class HVPFunction(_Derivatives):
    """`value, gradient, hv = f(*inputs, *v)`: the Hessian times v without forming the Hessian.

    v is one new input per wrt input, named v_<name> (renamed if the formula already uses that name); hv is
    the gradient of sum_i gradient_i * v_i, one more reverse pass, about the cost of a gradient.
    """

    kind = "Hessian-vector product"
    summary = "Value, gradient and Hessian-vector product of a formula in one call"
    returns = "value, gradient, hessian_times_v"

    def __init__(self, program: Program, wrt: Sequence[str] | str | None = None, name: str = "value_grad_hvp") -> None:
        self._single_output(program)
        wrt_ids = self._start(program, wrt, name)
        g = program.graph
        self._spread, grads = gradient(g, program.output, wrt_ids, self._spaces)
        _check_work(self.kind, len(g), 1, "the gradient's graph", MAX_HVP_NODES, "MAX_HVP_NODES")
        self.directions, v_ids, hv = _hvp_nodes(self, grads, wrt_ids)
        self.variables = (*self.variables, *self.directions)
        self.gradients: tuple[int, ...] = tuple(grads)
        self.products: tuple[int, ...] = tuple(hv)
        wanted = [(program.output, VALUE)]
        wanted += [(gi, ADJOINT_PREFIX + w) for w, gi in zip(self.wrt, grads)]
        wanted += [(h, f"hv_{w}") for w, h in zip(self.wrt, hv)]
        shape_of = ", ".join([self._wrt_text(), *(slot(v) for v in v_ids)])
        value = returned_text(g, program.output)
        values = f"{value}, _stack({_slots(grads)}, {shape_of}), _stack({_slots(hv)}, {shape_of})"
        if program.matrix:
            values = f"{value}, _flat(*{_slots(grads)}), _flat(*{_slots(hv)})"
        doc = f"Value of FORMULA, its gradient, and its Hessian with respect to ({', '.join(self.wrt)}) times v."
        self._finish([*program.inputs.items(), *zip(self.directions, v_ids)], values, wanted, doc)


def _hvp_nodes(f: _Derivatives, grads: list[int], wrt_ids: list[int]) -> tuple[tuple[str, ...], list[int], list[int]]:
    """New inputs v_<w> (one per wrt input) and the nodes of the Hessian times v: the gradient of
    sum_i sum(gradient_i * v_i), one more reverse pass."""
    g = f.program.graph
    namer = Namer(GENERATED | set(f.program.inputs) | set(f.program.names.values()))
    directions = tuple(namer.take("v_" + w) for w in f.wrt)
    v_ids = [g.var(v) for v in directions]
    dot = g.apply("sum", g.mul(grads[0], v_ids[0]))
    for gi, vi in zip(grads[1:], v_ids[1:]):
        dot = g.add(dot, g.apply("sum", g.mul(gi, vi)))
    return directions, v_ids, gradient(g, dot, wrt_ids)[1]


class JacobianFunction(_Derivatives):
    """`values, jacobian = f(*inputs)`: the tuple of outputs and the (m, n) matrix d output_k / d wrt_j.

    One reverse pass per output over the shared forward statements (m passes for m outputs); row k is the
    derivative of the sum of output k's values.
    """

    kind = "Jacobian"
    inner = "_vjp"
    summary = "Values of several outputs and their Jacobian in one call"
    returns = "values, jacobian"

    def __init__(
        self, program: Program, wrt: Sequence[str] | str | None = None, name: str = "values_and_jacobian"
    ) -> None:
        wrt_ids = self._start(program, wrt, name)
        g = program.graph
        outs = program.outputs
        _check_work(self.kind, len(g), len(outs), "one per output", MAX_DERIVATIVE_WORK, "MAX_DERIVATIVE_WORK")
        labels = {**{i: n for n, i in program.inputs.items()}, **program.names}
        out_names = [labels.get(o, f"{VALUE}{k}" if len(outs) > 1 else VALUE) for k, o in enumerate(outs)]
        if program.matrix:
            self._by_rows(program, wrt_ids, out_names)
            return
        rows: list[list[int]] = []
        intermediate: list[tuple[int, str]] = []
        for o, oname in zip(outs, out_names):
            adj, row = gradient(g, o, wrt_ids)
            rows.append(row)
            for p, a in sorted(adj.items(), reverse=True):
                if p in program.names and a >= self._forward:
                    intermediate.append((a, f"d{oname}_d{program.names[p]}"))
        self.jacobian: tuple[tuple[int, ...], ...] = tuple(tuple(r) for r in rows)
        wanted = [(o, n) for o, n in zip(outs, out_names)]
        wanted += [(j, f"d{oname}_d{w}") for oname, row in zip(out_names, rows) for w, j in zip(self.wrt, row)]
        wanted += intermediate
        values = _outputs(g, outs) + f", _stack({_matrix(rows)}, {self._wrt_text()})"
        doc = f"The outputs of FORMULA and their Jacobian with respect to ({', '.join(self.wrt)})."
        self._finish(list(program.inputs.items()), values, wanted, doc)

    def _adjoint_names(self, value: int) -> list[tuple[int, str]]:
        return []

    def _by_rows(self, program: Program, wrt_ids: list[int], out_names: list[str]) -> None:
        """The Jacobian over every element of the outputs and of the wrt inputs, one vector-Jacobian product
        per row: a function _vjp of the inputs and one weight u per output (the gradient of the sum of each
        output times its weight), and an entry point that calls it once per output element."""
        g = program.graph
        namer = Namer(GENERATED | set(program.inputs) | set(program.names.values()) | set(out_names))
        weights = [namer.take("u_" + n) for n in out_names]
        u_ids = [g.var(u) for u in weights]
        dot = g.apply("sum", g.mul(program.outputs[0], u_ids[0]))
        for o, u in zip(program.outputs[1:], u_ids[1:]):
            dot = g.add(dot, g.apply("sum", g.mul(o, u)))
        _, row = gradient(g, dot, wrt_ids)
        self.jacobian = ()
        self._weights = len(weights)
        outs = program.outputs
        wanted = [(o, n) for o, n in zip(outs, out_names)]
        wanted += [(r, f"u_d{w}") for w, r in zip(self.wrt, row)]
        values = _outputs(g, outs) + f", _flat(*{_slots(row)})"
        doc = "The outputs of FORMULA and the gradient of the sum of each output times its weight u (a row)."
        self._finish([*program.inputs.items(), *zip(weights, u_ids)], values, wanted, doc, columns=True)

    def _wrapper(self, params: dict[str, str]) -> str:
        """The entry point of a Jacobian by rows: _vjp once per element of the outputs."""
        args = ", ".join(params[n] for n in self.variables)
        zeros = ", ".join(["0.0"] * self._weights)
        return (
            f"\n\n\ndef {self.name}({args}):\n"
            f'    """The outputs of FORMULA and their Jacobian with respect to ({", ".join(self.wrt)}), over every\n'
            '    element of the outputs (rows) and of the inputs (columns): one vector-Jacobian product per row."""\n'
            f"    values, _ = _vjp({args}, {zeros})\n"
            f"    rows = [_vjp({args}, *weights)[1] for weights in _directions(*values)]\n"
            "    return values, np.stack(rows)\n"
        )


def _outputs(g: Graph, outs: Sequence[int]) -> str:
    """The outputs as a tuple, none of them an input's array or another output's (x*y returned twice)."""
    before: set[int] = set()
    return "(" + ", ".join(returned_text(g, o, before) for o in outs) + ("," if len(outs) == 1 else "") + ")"
