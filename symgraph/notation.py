"""The formula language's own notation for graphs: numbers as a person writes them, operations spelt as the
text spells them (h^3 + 1, sin(x)), and the reverse pass's bookkeeping seen through. Used by explain and draw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ir import Graph, live_nodes
from .ops import ATOM, OPS, POWER, UNARY

_INFIX = {"+": " + ", "-": " - ", "*": "*", "/": "/", "**": "^"}


# --- printing in the user's language -------------------------------------------------------------------


def number(v: Any) -> str:
    """A number as a person writes it: 5 not 5.0, shortest round-trip digits otherwise; arrays compactly."""
    if np.ndim(v) != 0:
        return np.array2string(np.asarray(v), precision=6, threshold=8, separator=", ")
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def const_text(v: float) -> tuple[str, int]:
    """A constant as text in the formula language, with its precedence."""
    text = number(v)
    return (text, UNARY) if text.startswith("-") else (text, ATOM)


def _wrap(text: str, prec: int, need: int) -> str:
    return text if prec >= need else f"({text})"


def render_op(name: str, args: list[tuple[str, int]]) -> tuple[str, int]:
    """One operation over its operands' texts, spelt as the formula language spells it: h^3 + 1, sin(x)."""
    spec = OPS[name]
    if name in ("sum_to", "like"):  # the sum back to an operand's shape is bookkeeping: it reads as the adjoint
        return args[0]
    if name == "mul" and args[0] == args[1]:  # x^2 is built as x*x; it reads as written
        return render_op("pow", [args[0], ("2", ATOM)])
    prec, need = (POWER, (POWER + 1, UNARY)) if name == "pow" else (spec.prec, spec.operand_prec)
    if spec.arity == 2 and spec.sympy in _INFIX:
        (a, pa), (b, pb) = args
        return f"{_wrap(a, pa, need[0])}{_INFIX[spec.sympy]}{_wrap(b, pb, need[1])}", prec
    if spec.arity == 1 and spec.sympy == "-":
        return "-" + _wrap(args[0][0], args[0][1], need[0]), spec.prec
    if spec.arity == 1 and spec.sympy == "+":
        return args[0]
    return f"{spec.name}({', '.join(t for t, _ in args)})", ATOM


def graph_text(graph: Graph, root: int, named: dict[int, str] | None = None) -> str:
    """Node `root` of a (small) graph as one expression; variables and `named` nodes print as their names."""
    named = named or {}
    live = live_nodes(graph, [root])
    texts: list[tuple[str, int]] = [("", ATOM)] * (root + 1)
    for i in range(root + 1):
        if not live[i]:
            continue
        node = graph.nodes[i]
        if i in named:
            texts[i] = (named[i], ATOM)
        elif node.op == "var":
            texts[i] = (str(node.value), ATOM)
        elif node.op == "const":
            texts[i] = const_text(node.value)  # type: ignore[arg-type]
        else:
            texts[i] = render_op(node.op, [texts[a] for a in node.args])
    return texts[root][0]


BOOKKEEPING = ("sum_to", "like")  # ops the reverse pass adds to give an adjoint its node's shape
