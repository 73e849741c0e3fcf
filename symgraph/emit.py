"""The statements of one generated function: which node gets a line, and how each node is spelt.

A node gets its own line when it is named, when several nodes use it, when inlining it would nest
expressions deeper than MAX_INLINE_DEPTH (CPython refuses deeply nested expressions), or when it reads
MAX_LINE_READS names that may hold arrays (they live until it runs); every other node is inlined into its one
consumer. Dead nodes are never printed. Spelling comes from the op table, parentheses
from its precedence numbers. The lines are then ordered (schedule.py), arithmetic on a dying temporary is done
in its own array (inplace.py), and names are deleted after their last use. codegen.py makes a function of them.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from itertools import compress
from typing import Any

from .inplace import arrange
from .ir import Graph, live_nodes
from .names import Namer
from .ops import ATOM, DOTS, OPS, UNARY, VARIADIC, dot_text, power_by_products, product_factors
from .schedule import with_deletes
from .simplify import python_number

MAX_INLINE_DEPTH = 8
MAX_LINE_READS = 3


def const_text(v: float) -> tuple[str, int]:
    """A constant as Python source and its precedence."""
    if math.isnan(v):
        return "np.nan", ATOM
    if math.isinf(v):
        return ("np.inf", ATOM) if v > 0 else ("-np.inf", UNARY)
    text = repr(float(v))
    return (text, UNARY) if text.startswith("-") else (text, ATOM)


def _pieces(template: str, arity: int) -> tuple[str, ...] | None:
    """The text of `template` around {0}, {1}, ... (in that order, one each, as many as `arity`), when that is all
    it holds: joined with the operands' texts it is template.format(*texts), without parsing it for every node."""
    literals, fields = [], []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        literals.append(literal)
        if field is not None:
            if spec or conversion:
                return None
            fields.append(field)
    if not arity or fields != [str(k) for k in range(arity)]:
        return None
    return (*literals, "") if len(literals) == arity else tuple(literals)


def render_node(graph: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """Node i as an expression, given every live node's text and precedence so far."""
    node = graph.nodes[i]
    spec = OPS[node.op]
    if spec.render is not None:
        return spec.render(graph, i, [texts[a] for a in node.args])
    if spec.arity == VARIADIC:
        return spec.numpy.format(args=", ".join([texts[a][0] for a in node.args])), ATOM
    need = spec.operand_prec
    if not need:
        return spec.numpy.format(*[texts[a][0] for a in node.args]), spec.prec
    parts = []
    for a, n in zip(node.args, need):
        text, prec = texts[a]
        parts.append(text if prec >= n else f"({text})")
    return spec.numpy.format(*parts), spec.prec


def _numpy_constants(g: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """Node i, whose inputs are all constants, printed over NumPy floats.

    Folding leaves such a node only when its value is inf or nan (1/0, 0/0, log(-1)). In Python floats
    `1.0 / 0.0` raises, and retrying with NumPy inputs cannot help, so the constants are np.float64:
    the node then gives NumPy's inf or nan with NumPy's warning, when the function runs.
    """
    saved = {a: texts[a] for a in g.nodes[i].args}
    for a, (text, _prec) in saved.items():
        texts[a] = (f"np.float64({text})", ATOM)
    try:
        return render_node(g, i, texts)
    finally:
        for a, old in saved.items():
            texts[a] = old


def emit_lines(
    g: Graph,
    roots: list[int],
    var_text: dict[int, str],
    named: dict[int, str],
    namer: Namer,
    numbers: bool = False,
    live: list[bool] | None = None,
    free_named: bool = False,
    printer: tuple[Callable[..., tuple[str, int]], ...] = (),
) -> tuple[list[str], list[tuple[str, int]]]:
    """Straight-line statements computing every root, and each live node's (text, precedence).

    `named` holds the nodes that must get a line under a given name (it is extended with temporaries);
    every other node is inlined into its single consumer, up to MAX_INLINE_DEPTH. One sweep in id order.
    With `numbers`, the inputs are known to be numbers, so nothing was broadcast: a sum_to node is its
    adjoint and a size is 1. Each temporary (and with `free_named` every name) that the return does not
    read is deleted after its last use (`del t4`), so an array's memory goes back as soon as it is dead.
    `printer` is another target's (render_node, const_text, _numpy_constants), as xp.PRINTER; () = NumPy's.
    """
    render, constant, all_constants = printer or (render_node, const_text, _numpy_constants)
    nodes = g.nodes
    live = live_nodes(g, roots) if live is None else live
    same = list(range(len(nodes)))  # node -> the node whose text it has (itself, or for numbers its adjoint)
    uses = [0] * len(nodes)
    for r in roots:
        uses[r] += 1
    aliased: list[int] = []
    read = [False] * len(nodes)  # read by an operation (not only by sums that pass it on)
    products = not g.exact  # power_by_products is 0 for every node of an exact graph
    for i in compress(range(len(nodes)), live):
        node = nodes[i]
        if numbers and (node.op == "sum_to" or node.op == "like"):
            same[i] = same[node.args[0]]
            aliased.append(i)
            for a in node.args:
                uses[same[a]] += 1
        else:
            for a in node.args:
                read[a] = True
                uses[same[a]] += 1
            if products and power_by_products(g, i):  # x * x * x reads x thrice: x gets a line of its own
                uses[same[node.args[0]]] += 1
    for r in roots:
        read[r] = True
    for i in reversed(aliased):  # a sum that is its adjoint: the adjoint has the sum's readers, and its name
        uses[same[i]] += uses[i] - 1
    for i in aliased:  # ... unless the adjoint is also a value of its own (the residual of a cost), read as such
        held = same[i]
        if i in named and held not in named and not read[held] and nodes[held].op not in ("var", "const"):
            named[held] = named.pop(i)
    texts: list[tuple[str, int]] = [("", 0)] * len(nodes)
    how: dict[str, tuple[Any, ...]] = {}  # op -> (render, variadic, template, operand precedences, precedence)
    own = render is render_node  # NumPy's printer: render_node's work done here, without a call per node

    def text_of(i: int) -> tuple[str, int]:
        """Node i's text from its operands' texts: the op table's spelling, a sum of a product as a dot product."""
        node = nodes[i]
        args = node.args
        for a in args:
            if nodes[a].op != "const":
                break
        else:
            if args:
                return all_constants(g, i, texts)
        if not own:
            text, prec = render(g, i, texts)
        else:
            spec = how.get(node.op)
            if spec is None:
                o = OPS[node.op]
                simple = o.render is None and o.arity in (1, 2) and len(o.operand_prec) in (0, o.arity)
                pieces = _pieces(o.numpy, o.arity) if simple else None
                spec = how[node.op] = (o.render, o.arity == VARIADIC, o.numpy, o.operand_prec, o.prec, pieces)
            special, variadic, template, need, prec, pieces = spec
            if special is not None:
                text, prec = special(g, i, [texts[a] for a in args])
            elif variadic:
                text, prec = template.format(args=", ".join([texts[a][0] for a in args])), ATOM
            elif pieces is not None and len(args) == 2:  # render_node's text, without parsing the template
                (t0, p0), (t1, p1) = texts[args[0]], texts[args[1]]
                if need:
                    t0, t1 = t0 if p0 >= need[0] else f"({t0})", t1 if p1 >= need[1] else f"({t1})"
                text = f"{pieces[0]}{t0}{pieces[1]}{t1}{pieces[2]}"
            elif pieces is not None and len(args) == 1:
                t0, p0 = texts[args[0]]
                text = f"{pieces[0]}{t0 if not need or p0 >= need[0] else f'({t0})'}{pieces[1]}"
            else:
                text = render_node(g, i, texts)[0]
        if node.op in DOTS and not printer:
            factors = product_factors(g, args[0], uses[args[0]], named)
            if factors and (
                dot := dot_text(g, i, [texts[a] for a in args], (texts[factors[0]][0], texts[factors[1]][0]))
            ):
                dotted.add(args[0])  # the product's text is not printed: its factors are read instead
                return dot
        return text, prec

    dotted: set[int] = set()
    inlined: list[tuple[int, ...]] = [()] * len(nodes)  # an inlined node's own inlined nodes, and itself, in order
    members: list[list[int]] = []  # each line's inlined nodes, and its own, children before parents
    depth = [0] * len(nodes)  # an inlined node's nesting: from 1 (a line, an input or a constant: 0)
    lines: list[str] = []
    reads: list[tuple[int, ...]] = [()] * len(nodes)  # the lines' nodes a node's text reads
    owners: list[int] = []  # each line's node
    line_reads: list[list[int]] = []  # the lines' nodes each line reads
    freed = [False] * len(nodes)  # nodes whose line's name may be deleted after its last use
    numeric: dict[int, bool] = {}  # node -> python_number's answer, for _holds_many
    for i in compress(range(len(nodes)), live):
        node = nodes[i]
        op = node.op
        if op == "var":
            texts[i] = (var_text[i], ATOM)
            continue
        if op == "const" or (numbers and op == "size"):
            texts[i] = constant(1.0 if op == "size" else node.value)  # type: ignore[arg-type]
            continue
        if same[i] != i:  # the consumers of this node read its adjoint instead
            texts[i] = texts[same[i]]
            reads[i] = reads[same[i]]
            continue
        used: list[int] = []
        deepest = 0
        mine: tuple[int, ...] = ()
        for a in node.args:
            used += reads[a]
            if depth[a]:  # inlined
                mine += inlined[a]
                if depth[a] > deepest:
                    deepest = depth[a]
        text, prec = text_of(i)
        name = named.get(i)
        freed[i] = free_named
        if name is None and (
            uses[i] > 1
            or deepest >= MAX_INLINE_DEPTH
            or (len(used) >= MAX_LINE_READS and _holds_many(g, used, numeric))
        ):
            name = named[i] = namer.take(f"t{i}")
            freed[i] = True
        if name is None:
            texts[i], depth[i], reads[i], inlined[i] = (text, prec), deepest + 1, tuple(used), (*mine, i)
        else:
            members.append([*mine, i])
            owners.append(i)
            line_reads.append(used)
            lines.append(f"{name} = {text}")
            texts[i], reads[i] = (name, ATOM), (i,)  # its depth stays 0
    returned = {*roots, *(a for r in roots for a in reads[r])}  # what the return reads, inlined ones' names too
    info = (owners, members, line_reads, dotted)  # line order and, in NumPy's form, steps in place (inplace.py)
    order, last = arrange(g, live, lines, info, freed, returned, *(() if printer else (texts, text_of)))
    ordered = with_deletes([lines[k] for k in order], last, freed, returned, texts)
    return "\n".join(ordered).split("\n") if ordered else [], texts


def _holds_many(g: Graph, used: list[int], numbers: dict[int, bool]) -> bool:
    """An expression reading this many names (numbers aside) gets a line: a long sum of terms made of
    temporaries is added up a few at a time, each term's freed before the next one's are made (schedule.py).
    `numbers` remembers python_number's answers (a name is read by several lines)."""
    if len(used) < MAX_LINE_READS:
        return False
    arrays: set[int] = set()  # the distinct names read that may hold arrays, counted up to MAX_LINE_READS
    for a in used:
        number = numbers.get(a)
        if number is None:  # a Python number is one number whatever the inputs (its Shape)
            number = numbers[a] = g.shapes[a].is_number and python_number(g, a)
        if not number and a not in arrays:
            arrays.add(a)
            if len(arrays) >= MAX_LINE_READS:
                return True
    return False
