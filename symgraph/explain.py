"""The forward and backward pass of a formula, step by step, as the tutorials tabulate them.

`explain(text_or_function, at={...})` walks the graph forward (each step: its name, its definition in terms
of earlier steps, its value) and backward (each step's adjoint dout/dstep and the chain-rule sum of products
that produced it). A step is an input, a named statement, the output, or a node that several steps share;
in a formula without statements every operation is a step, named t1, t2, ... An unnamed operation used once
inside a statement is part of that statement's definition. Local derivatives (dg/dh = 3*h^2) come from the
op table's adjoint rules, run by the adjoint pass over a scratch graph of one step: no second derivative table.
Every pass here is one loop over node ids (no recursion), so a 10,000-node graph explains in linear time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import api
from .adjoint import adjoints
from .dims import Dims
from .errors import LimitError
from .function import CompiledFunction, evaluator
from .ir import Graph, live_nodes
from .notation import (
    BOOKKEEPING,
    MAX_CELL,
    brief,
    const_text,
    graph_text,
    is_array,
    number,
    render_op,
    shape_text,
    table,
)
from .ops import ATOM, OPS

INLINE_CHARS = 60  # a definition longer than this names its parts instead (t1, t2, ...)
OUTPUT_NAMES = ("f", "out", "value")  # the name of an unnamed output: the first one that is free


# --- steps: which nodes are rows, their names and definitions --------------------------------------------


@dataclass
class Steps:
    """The nodes a reader sees as steps, in forward order, with names, definitions and what they read."""

    rows: list[int] = field(default_factory=list)  # node ids, forward (topological) order
    name: dict[int, str] = field(default_factory=dict)  # row -> name
    definition: dict[int, str] = field(default_factory=dict)  # row -> text over earlier rows (not for inputs)
    members: dict[int, list[int]] = field(default_factory=dict)  # row -> the op nodes it covers, itself last
    leaves: dict[int, list[int]] = field(default_factory=dict)  # row -> the rows its definition reads


class _Names:
    """Unique readable names: the user's first, then t<node id>, with "_" added to any taken (as names.Namer)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def take(self, wanted: str) -> str:
        name = wanted
        while name in self.taken:  # as the generated code's namer does (names.Namer)
            name += "_"
        self.taken.add(name)
        return name


def steps(
    f: CompiledFunction, roots: list[int] | None = None, inline: bool | None = None, adjoint_names: bool = False
) -> Steps:
    """Group the graph's nodes into steps, one forward sweep.

    `inline` (default: when the text names statements) folds unnamed single-use operations into their
    consumer's definition, up to INLINE_CHARS. `roots` defaults to the output; with `adjoint_names`,
    adjoint nodes outside the forward graph are called d_<name> after their primal.
    """
    program, graph = f.program, f.program.graph
    adjoint_of = f.adjoint_of  # made on first use: it may add nodes, so before anything counts them
    output = program.output
    roots = [output] if roots is None else roots
    inline = bool(program.names) if inline is None else inline
    live = live_nodes(graph, roots)
    uses = [0] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        if live[i]:
            for a in node.args:
                uses[a] += 1
    names = _Names(set(program.inputs) | set(program.names.values()))
    primal: dict[int, int] = {}
    if adjoint_names:
        for p, a in sorted(adjoint_of.items()):
            primal[graph.held(a)] = p  # the highest primal id wins: d_h rather than d_x when they are one node
    out = Steps()
    texts: dict[int, tuple[str, int]] = {}
    inlined: set[int] = set()
    seen_as: dict[int, int] = {}  # a bookkeeping node -> the node it passes on
    for i, node in enumerate(graph.nodes):
        if not live[i]:
            continue
        if node.op in BOOKKEEPING:  # a sum back to an operand's shape: the reader sees the adjoint it sums
            source = node.args[0]
            texts[i] = texts[source]
            if source in out.name:
                out.name[i] = out.name[source]
            if source in inlined:
                inlined.add(i)
                out.members[i], out.leaves[i] = out.members[source], out.leaves[source]
            else:  # a reader's edge comes from the step whose adjoint this sums
                seen_as[i] = seen_as.get(source, source)
            continue
        if node.op == "const" and i != output:
            texts[i] = const_text(node.value)  # type: ignore[arg-type]
            continue
        members: list[int] = []
        leaves: list[int] = []
        if node.op == "const":
            text = const_text(node.value)  # type: ignore[arg-type]
        elif node.op != "var":
            for a in node.args:
                a = seen_as.get(a, a)
                if a in inlined:
                    members += out.members.pop(a)
                    leaves += [x for x in out.leaves.pop(a) if x not in leaves]
                elif graph.nodes[a].op != "const" and a not in leaves:
                    leaves.append(a)
            members.append(i)
            text = render_op(node.op, [texts[a] for a in node.args], node.params)
        if inline and node.op not in ("var", "const") and i not in program.names and i != output:
            if uses[i] == 1 and len(text[0]) <= INLINE_CHARS:
                inlined.add(i)
                texts[i] = text
                out.members[i], out.leaves[i] = members, leaves
                continue
        if node.op == "var":
            out.name[i] = str(node.value)
        elif i in program.names:
            out.name[i] = program.names[i]
        elif i == output:
            out.name[i] = next((n for n in OUTPUT_NAMES if n not in names.taken), None) or names.take("f")
            names.taken.add(out.name[i])
        elif i in primal and primal[i] in out.name:
            out.name[i] = names.take("d_" + out.name[primal[i]])
        else:
            out.name[i] = names.take(f"t{i}")  # the generated code's name for a temporary: t<node id>
        out.rows.append(i)
        texts[i] = (out.name[i], ATOM)
        if node.op != "var":
            out.definition[i] = text[0]
        out.members[i], out.leaves[i] = members, leaves
    return out


# --- the explanation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardRow:
    """One step forward: `name = definition = value` (definition None for an input)."""

    name: str
    definition: str | None
    value: Any
    dims: Dims | None = None  # the declared dimensions, when the graph knows them


@dataclass(frozen=True)
class Term:
    """One product of the chain rule: dout/dconsumer * dconsumer/dnode; or, for a matrix step (`rule`), the
    contribution itself as the reverse pass computes it from the consumer's adjoint d_<consumer>."""

    consumer: str
    consumer_adjoint: Any  # dout/dconsumer
    local: str  # dconsumer/dnode as a formula over step names, e.g. "3*h^2"; with `rule`: "X.T @ d_t2"
    local_value: Any  # its value; with `rule`, the contribution's value
    rule: bool = False


@dataclass(frozen=True)
class BackwardRow:
    """One step backward: the adjoint dout/dname, the sum of chain-rule products that gave it."""

    name: str
    adjoint: Any
    terms: tuple[Term, ...]  # empty for the output itself (its adjoint is 1)
    dims: Dims | None = None
    value: Any = None  # the node's own value (its shape is the adjoint's)


@dataclass(frozen=True)
class Explanation:
    """The forward table (left to right) and the backward table (right to left) of one formula."""

    output: str
    point: dict[str, Any] | None
    forward: tuple[ForwardRow, ...]
    backward: tuple[BackwardRow, ...]

    @property
    def shaped(self) -> bool:
        """True when some node is not one number (declared or at the point): the tables show shapes."""
        return any(is_array(r.value) or r.dims for r in self.forward)

    def chain(self, row: BackwardRow) -> str:
        """`df/dh = df/dg * dg/dh = 18 * 12 = 216`; a sum of products when several steps read the node. A
        matrix step's part is its rule over d_<step> (`df/dw = X.T @ d_t2 = [...]`), not a product."""
        o = self.output
        lhs = f"d{o}/d{row.name}"
        if not row.terms:
            return f"{lhs} = 1"
        symbolic = [
            t.local if t.consumer == o or t.rule else f"d{o}/d{t.consumer} * d{t.consumer}/d{row.name}"
            for t in row.terms
        ]
        parts = [lhs, " + ".join(symbolic)]
        if self.point is not None:
            numeric: list[str] = []
            for t in row.terms:
                if t.rule:
                    numeric = []  # a matrix rule's numbers are not a product of two: the result alone
                    break
                if t.consumer == o:  # dout/dout = 1: the product is the local derivative alone
                    numeric.append(number(t.local_value) if len(row.terms) == 1 else _factor(t.local_value))
                else:
                    numeric.append(f"{_factor(t.consumer_adjoint)} * {_factor(t.local_value)}")
            parts += [" + ".join(numeric), number(row.adjoint)] if numeric else [number(row.adjoint)]
        shown = [p for k, p in enumerate(parts) if k == 0 or p != parts[k - 1]]
        return " = ".join(shown)

    def locals(self, row: BackwardRow) -> list[str]:
        """The local derivatives the chain rule used: `dg/dh = 3*h^2 = 12`; a matrix step's rule as the
        reverse pass writes it: `d_w = X.T @ d_t2` (`+=` when several steps read the node)."""
        lines = []
        for t in row.terms:
            if t.rule:
                lines.append(f"d_{row.name} {'=' if len(row.terms) == 1 else '+='} {t.local}")
                continue
            parts = [f"d{t.consumer}/d{row.name}", t.local]
            if self.point is not None and number(t.local_value) != t.local:
                parts.append(number(t.local_value))
            lines.append(" = ".join(parts))
        return lines

    def render(self, limit: int | None = 200, width: int | None = MAX_CELL) -> str:
        """Both tables as text; with more than `limit` rows a table shows its ends and says what it left out,
        and a cell longer than `width` characters is cut, ending in "..." (None: no limit). When a node is
        not one number, each table has a shape column: declared dims, then the shape at the point."""
        shaped = self.shaped
        fwd = [
            [r.name, *([shape_text(r.dims, r.value)] if shaped else []),
             "input" if r.definition is None else r.definition, "" if r.value is None else number(r.value)]
            for r in self.forward
        ]  # fmt: skip
        bwd = [
            [r.name, *([shape_text(r.dims, r.value)] if shaped else []),
             "" if self.point is None else number(r.adjoint), self.chain(r), "; ".join(self.locals(r))]
            for r in self.backward
        ]  # fmt: skip
        where = "" if not self.point else " at " + ", ".join(f"{k} = {brief(v)}" for k, v in self.point.items())
        rules = any(t.rule for r in self.backward for t in r.terms)
        shape = ["shape"] if shaped else []
        lines = [f"forward pass (left to right){where}"]
        lines += table(["node", *shape, "definition", "value"], fwd, limit, width)
        note = f"; d_<node> in a matrix rule is d{self.output}/d(node)" if rules else ""
        lines += ["", f"backward pass (right to left): the adjoint of each node is d{self.output}/d(node){note}"]
        lines += table(["node", *shape, "adjoint", "chain rule", "local derivative"], bwd, limit, width)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def _factor(v: Any) -> str:
    text = number(v)
    return f"({text})" if text.startswith("-") else text


# A table or drawing of more nodes than this is refused before it is built (explaining costs about 0.4 ms a
# node: this bounds a call to about ten seconds, and no reader follows a longer table).
MAX_EXPLAIN_NODES = 30_000


def as_function(text_or_function: str | CompiledFunction) -> CompiledFunction:
    """A CompiledFunction as given, or compiled from text (every input differentiated); a LimitError when its
    graph is over MAX_EXPLAIN_NODES."""
    f = text_or_function if isinstance(text_or_function, CompiledFunction) else api.compile(text_or_function)
    if len(f.program.graph) > MAX_EXPLAIN_NODES:
        raise LimitError(
            f"the formula's graph has {len(f.program.graph):,} nodes; explain and drawings take at most "
            f"{MAX_EXPLAIN_NODES:,} (MAX_EXPLAIN_NODES)",
            hint="explain a smaller part of the formula; the compiled function itself has no such limit",
        )
    return f


def point_values(f: CompiledFunction, at: dict[str, Any] | None) -> dict[int, Any] | None:
    """The value at the point of every live forward node and of their adjoints, or None without a point;
    computed by a trace of f's own generated code."""
    if at is None:
        return None
    point = f.bind((), dict(at))
    roots = [f.program.output, *f.adjoint_of.values()]
    live = live_nodes(f.program.graph, roots)
    nodes = [i for i, alive in enumerate(live) if alive and f.program.graph.nodes[i].op != "size"]
    return f.trace(nodes)(*(point[n] for n in f.variables))


def is_matrix_step(f: CompiledFunction, st: Steps, row: int) -> bool:
    """True when the step's definition uses an op on whole arrays (A @ B, an axis, linear algebra)."""
    return any(OPS[f.program.graph.nodes[m].op].matrix for m in st.members[row])


def local_derivatives(
    f: CompiledFunction, st: Steps, row: int, values: dict[int, Any] | None, seed: Any = None
) -> dict[int, tuple[str, Any, bool]]:
    """d(row)/d(leaf) for each step the row's definition reads: (formula over step names, its value, False).

    The row's operations are rebuilt over one variable per leaf in a scratch graph, and the adjoint pass
    (the op table's rules) differentiates that; so the derivative of a step is partial, through it alone.
    A matrix step's derivative is no number to multiply by: for it each leaf gets (the rule that gives its
    adjoint from the step's adjoint d_<row>, the rule's value at `seed`, the row's adjoint there; True), over
    leaves of known shape (declared, or the shape at the point), so the rules read as X.T @ d_t2.
    """
    graph = f.program.graph
    matrix = is_matrix_step(f, st, row)
    declared: dict[str, Dims] = {}
    if matrix:
        for k in [*st.leaves[row], row]:
            dims = graph.dims(k) if values is None else tuple(np.shape(values[k]))
            if dims is not None:
                declared[st.name[k]] = dims
    taken = {st.name[leaf] for leaf in st.leaves[row]}
    seed_name = _Names(taken).take("d_" + st.name[row])
    if st.name[row] in declared:
        declared[seed_name] = declared.pop(st.name[row])
    scratch = Graph(declared)
    ids: dict[int, int] = {leaf: scratch.var(st.name[leaf]) for leaf in st.leaves[row]}
    for m in st.members[row]:
        node = graph.nodes[m]
        args = [ids[a] if a in ids else scratch.const(graph.nodes[a].value) for a in node.args]  # type: ignore[arg-type]
        ids[m] = scratch.apply(node.op, *args, params=node.params)
    leaves = [ids[leaf] for leaf in st.leaves[row]]
    top, inputs = ids.get(row), [(st.name[leaf], ids[leaf]) for leaf in st.leaves[row]]
    if matrix and top is not None and row != f.program.output:  # sum(row * d_row): its adjoints are the rules
        d_row = scratch.var(seed_name)
        inputs.append((seed_name, d_row))
        top = scratch.apply("sum", scratch.mul(top, d_row))
    adj = adjoints(scratch, top, leaves) if st.members[row] and top is not None else {}
    found = None
    if values is not None and adj:
        run = evaluator(scratch, inputs, list(adj.values()))
        given = [values[leaf] for leaf in st.leaves[row]]
        if len(inputs) > len(given):  # the row's adjoint, as an array of the row's shape
            given.append(np.broadcast_to(seed, np.shape(values[row])))
        found = run(*given)
    out: dict[int, tuple[str, Any, bool]] = {}
    for leaf, var in zip(st.leaves[row], leaves):
        d = adj.get(var)
        if d is not None:
            # the step itself (a rule may reuse the output, as exp's does) reads as its name
            out[leaf] = (graph_text(scratch, d, {ids[row]: st.name[row]}), found[d] if found else None, matrix)
    return out


def explain(text_or_function: str | CompiledFunction, at: dict[str, Any] | None = None) -> Explanation:
    """The forward and backward tables of a formula, at the point `at` (name -> value) if given."""
    f = as_function(text_or_function)
    values = point_values(f, at)
    st = steps(f)
    graph, output = f.program.graph, f.program.output
    value = {i: None if values is None else values[i] for i in st.rows}
    forward = tuple(ForwardRow(st.name[i], st.definition.get(i), value[i], graph.dims(i)) for i in st.rows)
    adjoint_value = {p: (None if values is None else values[a]) for p, a in f.adjoint_of.items()}
    terms: dict[int, list[Term]] = {i: [] for i in st.rows}
    for c in st.rows:
        if c not in f.adjoint_of or not st.members[c]:
            continue
        for leaf, (text, local, rule) in local_derivatives(f, st, c, values, adjoint_value[c]).items():
            if leaf in f.adjoint_of:
                terms[leaf].append(Term(st.name[c], adjoint_value[c], text, local, rule))
    backward = tuple(
        BackwardRow(st.name[i], adjoint_value[i], tuple(terms[i]) if i != output else (), graph.dims(i), value[i])
        for i in reversed(st.rows)
        if i in f.adjoint_of
    )
    point = None if at is None else {k: at[k] for k in f.variables if k in at}
    return Explanation(st.name[output], point, forward, backward)
