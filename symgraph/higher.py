"""Higher derivatives and several outputs: Hessian, Hessian-vector product and Jacobian functions.

Adjoints are ordinary graph nodes, so each of these is more reverse passes over the same graph
(adjoint.gradient): the Hessian differentiates each gradient entry again (row i only for wrt[i:], the lower
triangle is filled by symmetry when printing), the HVP differentiates the dot product of the gradient with new
inputs v, and the Jacobian runs one reverse pass per output over the shared forward nodes. Statements are
printed by codegen.emit_lines; this module adds the function shapes (matrices out) and their array convention.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._version import __version__
from .adjoint import gradient
from .codegen import _FLOAT_ERRORS, emit_lines
from .errors import ArgumentError
from .function import CompiledFunction, _check_wrt, _load
from .ir import Graph, Program, live_nodes
from .names import ADJOINT_PREFIX, GENERATED, VALUE, Namer, function_name
from .ops import OPS

# What the generated module defines beyond codegen's names; user names equal to these get renamed.
RESERVED = GENERATED | {"_is_scalar", "_stack", "wrt_shape", "full_shape"}

_HELPERS = '''

def _is_scalar(*inputs):
    """True when no input is an array: the derivatives are then plain numbers, stacked as they are."""
    return all(np.ndim(a) == 0 for a in inputs)


def _stack(entries, full_shape, wrt_shape):
    """Entries (a list, or a list of rows) summed to `wrt_shape` and stacked in front of it.

    Each entry is a pointwise derivative that broadcasts to `full_shape`. The axes that only the other
    inputs (data) have are summed away, so the result has shape (len(entries), ...) + wrt_shape.
    """
    if isinstance(entries[0], list):
        return np.stack([_stack(row, full_shape, wrt_shape) for row in entries])
    lead = len(full_shape) - len(wrt_shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(wrt_shape) if n == 1 and full_shape[lead + i] != 1
    )
    return np.stack([np.broadcast_to(e, full_shape).sum(axis=axes).reshape(wrt_shape) for e in entries])
'''

_ARRAYS = """Inputs are floats or NumPy arrays of broadcastable shapes. With array inputs, the inputs in wrt are
broadcast against each other to a shape W, and each derivative is taken at every position of W for the sum
of the values over the remaining (data) axes: matrices have shape (rows, columns) + W. So scalar parameters
with data arrays give one matrix for the summed cost; inputs all of one shape S give a matrix per point."""


def _slots(ids: Sequence[int]) -> str:
    """A list literal of the nodes' texts, as str.format placeholders filled in by _build."""
    return "[" + ", ".join(f"{{n{i}}}" for i in ids) + "]"


def _matrix(rows: Sequence[Sequence[int]]) -> str:
    return "[" + ", ".join(_slots(row) for row in rows) + "]"


def _value_and_two(value: int, first: str, second: str) -> list[str]:
    """The return expressions (scalar inputs, array inputs) for value, a vector and a vector or matrix."""
    return [
        f"{{n{value}}}, np.array({first}), np.array({second})",
        f"{{n{value}}}, _stack({first}, full_shape, wrt_shape), _stack({second}, full_shape, wrt_shape)",
    ]


class _Derivatives(CompiledFunction):
    """Shared by the three kinds: a CompiledFunction's call convention, `source`, `save` and `values`,
    with its own reverse passes and function shape (the base class handles one output's gradient)."""

    kind = ""

    def _setup(self, program: Program, wrt: Sequence[str] | str | None, name: str) -> list[int]:
        """Record the program, inputs and wrt; the wrt node ids."""
        self.program = program
        self.variables: tuple[str, ...] = tuple(program.inputs)
        self.wrt: tuple[str, ...] = _check_wrt(self.variables, wrt)
        if not self.wrt:
            raise ArgumentError(f"{self.kind} needs at least one input to differentiate for (wrt is empty)")
        self.name = function_name(name)
        reductions = sorted({n.op for n in program.graph.nodes if OPS[n.op].reduces})
        if reductions:
            raise ArgumentError(
                f"{self.kind}s of formulas with {' or '.join(r + '()' for r in reductions)} are not supported yet",
                hint="use compile() for the gradient; write the sum out for a small data set",
            )
        self.adjoint_of: dict[int, int] = {}
        self._spaces: dict[int, int] = {}  # no reductions here: every adjoint is spread over the output
        self._forward = len(program.graph)  # ids from here on are derivative nodes
        return [program.inputs[w] for w in self.wrt]

    def _single_output(self, program: Program) -> None:
        if len(program.outputs) > 1:
            raise ArgumentError(
                f"the formula has {len(program.outputs)} outputs; a {self.kind} is taken of one output",
                hint="use symgraph.jacobian for several outputs",
            )

    def _build(self, inputs: list[tuple[str, int]], wanted: list[tuple[int, str]], returns: list[str]) -> None:
        """Print the module and load its function.

        `inputs`: (name, var node) in signature order; `wanted`: root nodes and the names the reader should
        see for them (the first root is the value, the rest are derivatives); `returns`: the scalar and the
        array return expression, in which each {n<node id>} placeholder becomes that node's text.
        """
        g: Graph = self.program.graph
        namer = Namer(RESERVED)
        namer.reserve(self.name)
        params = {n: namer.take(n) for n, _ in inputs}
        var_text = {i: params[n] for n, i in inputs}
        roots = [i for i, _ in wanted]
        live = live_nodes(g, roots)
        named: dict[int, str] = {}
        # As compile names them: the user's statements, the values, adjoints of named steps, then the rest.
        values = set(self._value_nodes())
        first = [(i, w) for i, w in wanted if i in values]
        rest = [(i, w) for i, w in wanted if i not in values]
        for i, want in [*sorted(self.program.names.items()), *first, *self._adjoint_names(), *rest]:
            if live[i] and g.nodes[i].op not in ("var", "const") and i not in named:
                named[i] = namer.take(want)
        lines, texts = emit_lines(g, roots, var_text, named, namer)
        text = {i: texts[i][0] for i in roots}
        signature = ", ".join(params[n] for n, _ in inputs)
        fill = {f"n{i}": t for i, t in text.items()}
        out = [f"def {self.name}({signature}):", f'    """{self._doc(params)}"""']
        if lines:
            out.append("    try:")
            out.extend(f"        {line}" for line in lines)
            out.append(f"    except {_FLOAT_ERRORS}:")
            out.append(
                "        # Python floats raise where NumPy gives inf or nan with a warning: redo in NumPy floats."
            )
            out.append(f"        return {self.name}({', '.join(f'np.float64({params[n]})' for n, _ in inputs)})")
        out.append(f"    if _is_scalar({signature}):")
        out.append("        return " + returns[0].format(**fill))
        shaped = [params[n] for n in (*self.wrt, *self._also_wrt_shaped())]
        value_texts = [text[i] for i in self._value_nodes()]
        out.append(f"    wrt_shape = np.broadcast_shapes({', '.join(f'np.shape({p})' for p in shaped)})")
        shapes = ", ".join(f"np.shape({v})" for v in value_texts)
        out.append(f"    full_shape = np.broadcast_shapes({shapes}, wrt_shape)")
        out.append("    return " + returns[1].format(**fill))
        head = [
            f'"""{self._summary()}; generated by symgraph {__version__}, needs only NumPy.',
            "",
            f"    {self._usage(params, signature)}",
            "",
            _ARRAYS,
            '"""',
            "",
            "import numpy as np",
            "",
            f"FORMULA = {self.program.text!r}",
            "",
            "",
            "",
        ]
        self.source = "\n".join(head) + "\n".join(out) + "\n" + _HELPERS
        self._params = params
        self._renamed = {k: v for k, v in params.items() if k != v}
        self.function = _load(self.source, self.name)

    # --- what each kind fills in ---
    def _adjoint_names(self) -> list[tuple[int, str]]:
        """First-order adjoints of the user's named statements, d_<name>, as compile names them."""
        named = {**{i: n for n, i in self.program.inputs.items()}, **self.program.names}
        return [
            (a, ADJOINT_PREFIX + named[p])
            for p, a in sorted(self.adjoint_of.items(), reverse=True)
            if p in named and a >= self._forward
        ]

    def _also_wrt_shaped(self) -> tuple[str, ...]:
        return ()

    def _value_nodes(self) -> tuple[int, ...]:
        return (self.program.output,)

    def _doc(self, params: dict[str, str]) -> str:
        raise NotImplementedError

    def _summary(self) -> str:
        raise NotImplementedError

    def _usage(self, params: dict[str, str], signature: str) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}({', '.join(self.variables)}) wrt ({', '.join(self.wrt)})>"


class HessianFunction(_Derivatives):
    """`value, gradient, hessian = f(*inputs)`: gradient shape (n,), Hessian (n, n) for n inputs in wrt.

    Row i of the Hessian is the gradient of gradient entry i for wrt[i:] only; the entries below the
    diagonal are the same names, printed by symmetry, so each distinct entry is computed once.
    """

    kind = "Hessian"

    def __init__(
        self, program: Program, wrt: Sequence[str] | str | None = None, name: str = "value_grad_hessian"
    ) -> None:
        self._single_output(program)
        wrt_ids = self._setup(program, wrt, name)
        g = program.graph
        self.adjoint_of, grads = gradient(g, program.output, wrt_ids)
        n = len(wrt_ids)
        upper: list[list[int]] = []
        for i in range(n):
            _, row = gradient(g, grads[i], wrt_ids[i:])
            upper.append(row)
        self.gradients: tuple[int, ...] = tuple(grads)
        self.hessian: tuple[tuple[int, ...], ...] = tuple(
            tuple(upper[min(i, j)][abs(j - i)] for j in range(n)) for i in range(n)
        )
        w = self.wrt
        wanted = [(program.output, VALUE)]
        wanted += [(gi, ADJOINT_PREFIX + w[i]) for i, gi in enumerate(grads)]
        wanted += [(upper[i][k], f"d2_{w[i]}_{w[i + k]}") for i in range(n) for k in range(n - i)]
        returns = _value_and_two(program.output, _slots(grads), _matrix(self.hessian))
        self._build(list(program.inputs.items()), wanted, returns)

    def _doc(self, params: dict[str, str]) -> str:
        return f"Value of FORMULA, its gradient and Hessian with respect to ({', '.join(params[w] for w in self.wrt)})."

    def _summary(self) -> str:
        return "Value, gradient and Hessian of a formula in one call"

    def _usage(self, params: dict[str, str], signature: str) -> str:
        return f"value, gradient, hessian = {self.name}({signature})"


class HVPFunction(_Derivatives):
    """`value, gradient, hv = f(*inputs, *v)`: the Hessian times v without forming the Hessian.

    v is one new input per wrt input, named v_<name> (renamed if the formula already uses that name); hv is
    the gradient of sum_i gradient_i * v_i, one more reverse pass, about the cost of a gradient.
    """

    kind = "Hessian-vector product"

    def __init__(self, program: Program, wrt: Sequence[str] | str | None = None, name: str = "value_grad_hvp") -> None:
        self._single_output(program)
        wrt_ids = self._setup(program, wrt, name)
        g = program.graph
        self.adjoint_of, grads = gradient(g, program.output, wrt_ids)
        namer = Namer(RESERVED | set(program.inputs))
        self.directions: tuple[str, ...] = tuple(namer.take("v_" + w) for w in self.wrt)
        v_ids = [g.var(v) for v in self.directions]
        dot = g.mul(grads[0], v_ids[0])
        for gi, vi in zip(grads[1:], v_ids[1:]):
            dot = g.add(dot, g.mul(gi, vi))
        _, hv = gradient(g, dot, wrt_ids)
        self.variables = (*self.variables, *self.directions)
        self.gradients: tuple[int, ...] = tuple(grads)
        self.products: tuple[int, ...] = tuple(hv)
        wanted = [(program.output, VALUE)]
        wanted += [(gi, ADJOINT_PREFIX + w) for w, gi in zip(self.wrt, grads)]
        wanted += [(h, f"hv_{w}") for w, h in zip(self.wrt, hv)]
        returns = _value_and_two(program.output, _slots(grads), _slots(hv))
        inputs = [*program.inputs.items(), *zip(self.directions, v_ids)]
        self._build(inputs, wanted, returns)

    def _also_wrt_shaped(self) -> tuple[str, ...]:
        return self.directions

    def _doc(self, params: dict[str, str]) -> str:
        wrt = ", ".join(params[w] for w in self.wrt)
        return f"Value of FORMULA, its gradient, and its Hessian with respect to ({wrt}) times v."

    def _summary(self) -> str:
        return "Value, gradient and Hessian-vector product of a formula in one call"

    def _usage(self, params: dict[str, str], signature: str) -> str:
        return f"value, gradient, hessian_times_v = {self.name}({signature})"


class JacobianFunction(_Derivatives):
    """`values, jacobian = f(*inputs)`: the tuple of outputs and the (m, n) matrix d output_k / d wrt_j.

    One reverse pass per output over the shared forward statements (m passes for m outputs).
    """

    kind = "Jacobian"

    def __init__(
        self, program: Program, wrt: Sequence[str] | str | None = None, name: str = "values_and_jacobian"
    ) -> None:
        wrt_ids = self._setup(program, wrt, name)
        g = program.graph
        outs = program.outputs
        labels = {**{i: n for n, i in program.inputs.items()}, **program.names}
        out_names = [labels.get(o, f"{VALUE}{k}" if len(outs) > 1 else VALUE) for k, o in enumerate(outs)]
        rows: list[list[int]] = []
        self._intermediate: list[tuple[int, str]] = []
        for o, oname in zip(outs, out_names):
            adj, row = gradient(g, o, wrt_ids)
            rows.append(row)
            for p, a in sorted(adj.items(), reverse=True):
                if p in program.names and a >= self._forward:
                    self._intermediate.append((a, f"d{oname}_d{program.names[p]}"))
        self.jacobian: tuple[tuple[int, ...], ...] = tuple(tuple(r) for r in rows)
        wanted = [(o, n) for o, n in zip(outs, out_names)]
        wanted += [(j, f"d{oname}_d{w}") for oname, row in zip(out_names, rows) for w, j in zip(self.wrt, row)]
        values = "(" + ", ".join(f"{{n{o}}}" for o in outs) + ("," if len(outs) == 1 else "") + ")"
        jac_text = _matrix(rows)
        # Each row is the derivative of its own output's summed values: reduced over that output's shape.
        per_row = ", ".join(
            f"_stack({_slots(row)}, np.broadcast_shapes(np.shape({{n{o}}}), wrt_shape), wrt_shape)"
            for o, row in zip(outs, rows)
        )
        returns = [f"{values}, np.array({jac_text})", f"{values}, np.stack([{per_row}])"]
        self._build(list(program.inputs.items()), wanted, returns)

    def _adjoint_names(self) -> list[tuple[int, str]]:
        return self._intermediate

    def _value_nodes(self) -> tuple[int, ...]:
        return self.program.outputs

    def _doc(self, params: dict[str, str]) -> str:
        return f"The outputs of FORMULA and their Jacobian with respect to ({', '.join(params[w] for w in self.wrt)})."

    def _summary(self) -> str:
        return "Values of several outputs and their Jacobian in one call"

    def _usage(self, params: dict[str, str], signature: str) -> str:
        return f"values, jacobian = {self.name}({signature})"
