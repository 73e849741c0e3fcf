"""Graph + outputs -> the source of a standalone Python module: one flat value-and-gradient function.

A node gets its own line when it has a user's name, when several nodes use it, when it is an output, or when
inlining it would nest expressions deeper than MAX_INLINE_DEPTH (CPython refuses deeply nested
expressions). Every other node is inlined into its one consumer. Dead nodes are never printed. Spelling
comes from the op table; parentheses from its precedence numbers; names from names.Namer.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

from ._version import __version__
from .ir import Graph, live_nodes
from .names import ADJOINT_PREFIX, VALUE, Namer
from .ops import ATOM, OPS, RUNTIME_HELPERS, UNARY

MAX_INLINE_DEPTH = 8

# Python floats raise where NumPy returns inf or nan with a warning; these are retried in np.float64.
_FLOAT_ERRORS = "(ZeroDivisionError, OverflowError)"

_HELPERS = "".join("\n\n" + inspect.getsource(f) for f in RUNTIME_HELPERS)  # the only helpers generated code calls


@dataclass(frozen=True)
class Plan:
    """What to print: the graph, its outputs, and the names of the nodes the reader should see."""

    graph: Graph
    params: tuple[tuple[str, int], ...]  # (input name, node id) in signature order
    value: int
    grads: tuple[tuple[str, int], ...]  # (input name, gradient node id) in wrt order
    names: dict[int, str]  # node id -> the user's statement name
    adjoint_of: dict[int, int]  # primal node id -> its adjoint node id
    spaces: tuple[int, ...] = ()  # per gradient: the node its adjoint is spread over (adjoint.py); () = value


def const_text(v: float) -> tuple[str, int]:
    """A constant as Python source and its precedence."""
    if math.isnan(v):
        return "np.nan", ATOM
    if math.isinf(v):
        return ("np.inf", ATOM) if v > 0 else ("-np.inf", UNARY)
    text = repr(float(v))
    return (text, UNARY) if text.startswith("-") else (text, ATOM)


def _wrap(text: str, prec: int, need: int) -> str:
    return text if prec >= need else f"({text})"


def render_node(graph: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """Node i as an expression, given its inputs' texts and precedences."""
    node = graph.nodes[i]
    spec = OPS[node.op]
    args = [texts[a] for a in node.args]
    if spec.render is not None:
        special = spec.render(graph, node.args, args)
        if special is not None:
            return special
    need = spec.operand_prec or (0,) * spec.arity
    parts = [_wrap(t, p, n) for (t, p), n in zip(args, need)]
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


def _line_names(plan: Plan, live: list[bool], namer: Namer) -> dict[int, str]:
    """Names for the nodes that get a line of their own because the reader should see them."""
    g = plan.graph
    leaf = [n.op in ("var", "const") for n in g.nodes]
    named: dict[int, str] = {}

    def give(i: int, wanted: str) -> None:
        if live[i] and not leaf[i] and i not in named:
            named[i] = namer.take(wanted)

    for i in sorted(plan.names):
        give(i, plan.names[i])
    give(plan.value, VALUE)
    # Adjoint names go to nodes the reverse pass made; a forward node that happens to be an adjoint
    # (the d/dz of (x+y)*z is x+y) keeps its forward name.
    primal_names = {**{i: n for n, i in plan.params}, **plan.names}
    for p in sorted(plan.adjoint_of, reverse=True):
        a = plan.adjoint_of[p]
        if p in primal_names and a > plan.value:
            give(a, ADJOINT_PREFIX + primal_names[p])
    for wname, gi in plan.grads:
        if gi > plan.value:
            give(gi, ADJOINT_PREFIX + wname)
    return named


def emit_lines(
    g: Graph, roots: list[int], var_text: dict[int, str], named: dict[int, str], namer: Namer
) -> tuple[list[str], list[tuple[str, int]]]:
    """Straight-line statements computing every root, and each live node's (text, precedence).

    `named` holds the nodes that must get a line under a given name (it is extended with temporaries);
    every other node is inlined into its single consumer, up to MAX_INLINE_DEPTH. One sweep in id order.
    """
    live = live_nodes(g, roots)
    uses = [0] * len(g.nodes)
    for r in roots:
        uses[r] += 1
    for i, node in enumerate(g.nodes):
        if live[i]:
            for a in node.args:
                uses[a] += 1
            if OPS[node.op].named_args is not None:
                for a in OPS[node.op].named_args(g, node.args):  # type: ignore[misc]
                    uses[a] += 2  # printing repeats this input: compute it once
    texts: list[tuple[str, int]] = [("", 0)] * len(g.nodes)
    depth = [0] * len(g.nodes)
    lines: list[str] = []
    for i, node in enumerate(g.nodes):
        if not live[i]:
            continue
        if node.op == "var":
            texts[i] = (var_text[i], ATOM)
            continue
        if node.op == "const":
            texts[i] = const_text(node.value)  # type: ignore[arg-type]
            continue
        if all(g.nodes[a].op == "const" for a in node.args):
            text, prec = _numpy_constants(g, i, texts)
        else:
            text, prec = render_node(g, i, texts)
        depth[i] = 1 + max((depth[a] for a in node.args), default=0)
        if i not in named and (uses[i] > 1 or depth[i] > MAX_INLINE_DEPTH):
            named[i] = namer.take(f"t{i}")
        if i in named:
            lines.append(f"{named[i]} = {text}")
            texts[i], depth[i] = (named[i], ATOM), 0
        else:
            texts[i] = (text, prec)
    return lines, texts


def generate_function(plan: Plan, fname: str) -> tuple[str, dict[str, str]]:
    """The source of one function `fname` and the map from input name to its parameter name."""
    g = plan.graph
    spaces = plan.spaces or tuple(plan.value for _ in plan.grads)
    roots = [plan.value] + [gi for _, gi in plan.grads] + list(spaces)
    namer = Namer()
    namer.reserve(fname)
    params = {name: namer.take(name) for name, _ in plan.params}
    var_text = {i: params[name] for name, i in plan.params}
    named = _line_names(plan, live_nodes(g, roots), namer)
    lines, texts = emit_lines(g, roots, var_text, named, namer)

    signature = ", ".join(params[name] for name, _ in plan.params)
    value = texts[plan.value][0]
    grads = [texts[gi][0] for _, gi in plan.grads]
    wrt = ", ".join(params[name] for name, _ in plan.grads)
    out: list[str] = [f"def {fname}({signature}):"]
    out.append(f'    """Value of FORMULA and its gradient with respect to ({wrt})."""')
    if lines:
        out.append("    try:")
        out.extend(f"        {line}" for line in lines)
        out.append(f"    except {_FLOAT_ERRORS}:")
        out.append("        # Python floats raise where NumPy gives inf or nan with a warning: redo in NumPy floats.")
        retry = ", ".join(f"np.float64({params[name]})" for name, _ in plan.params)
        out.append(f"        return {fname}({retry})")
    tuple_text = _tuple(grads)
    if not plan.grads:
        out.append(f"    return {value}, ()")
        return "\n".join(out) + "\n", params
    # A number out means numbers in when the output is elementwise in every input; otherwise (an input the
    # formula simplified away, or sum()/mean() making a number of arrays) every input is asked.
    depends = live_nodes(g, [plan.value])
    if all(s == plan.value for s in spaces) and all(depends[i] for _, i in plan.params):
        scalar_call = f"isinstance({value}, _SCALARS)"
    else:
        scalar_call = " and ".join(f"isinstance({p}, _SCALARS)" for p in params.values())
    out.append(f"    if {scalar_call}:")
    out.append(f"        return {value}, {tuple_text}")
    summed = []
    returned = {plan.value}
    for t, (name, gi), s in zip(grads, plan.grads, spaces):
        text = f"_sum_to({t}, {params[name]}, {texts[s][0]})"
        # An input, the value or an earlier gradient would come back as the very same array: copy it.
        aliased = g.nodes[gi].op == "var" or gi in returned
        summed.append(f"np.copy({text})" if aliased else text)
        returned.add(gi)
    out.append(f"    return {value}, {_tuple(summed)}")
    return "\n".join(out) + "\n", params


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def generate_module(plan: Plan, fname: str, formula: str) -> tuple[str, dict[str, str]]:
    """A complete module: docstring, numpy import, the formula as a string constant, the function."""
    body, params = generate_function(plan, fname)
    call = ", ".join(params[name] for name, _ in plan.params)
    grads = ", ".join(ADJOINT_PREFIX + name for name, _ in plan.grads)
    head = [
        f'"""Value and gradient of a formula in one call; generated by symgraph {__version__}, needs only NumPy.',
        "",
        f"    value, ({grads}{',' if len(plan.grads) == 1 else ''}) = {fname}({call})",
        "",
        "Inputs are floats or NumPy arrays of broadcastable shapes. For array inputs the gradient is that of",
        "the sum of the values, and each gradient has its input's shape.",
        '"""',
        "",
        "import numpy as np",
        "",
        f"FORMULA = {formula!r}",
        "_SCALARS = (float, int)",
        "",
        "",
        "",
    ]
    return "\n".join(head) + body + _HELPERS, params
