"""The formula language's own notation for graphs: numbers as a person writes them, operations spelt as the
text spells them (h^3 + 1, sin(x)), and the reverse pass's bookkeeping seen through. Used by explain and draw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dims as D
from .ir import Graph, live_nodes
from .ops import ATOM, MAP, OPS, POWER, PRODUCT, UNARY

MAX_CELL = 200  # characters of one table cell in explain's render(); longer definitions end in "..."
_INFIX = {"+": " + ", "-": " - ", "*": "*", "/": "/", "**": "^"}
# Ops whose text spelling is a call with keyword arguments (`sum(X, axis=1)`): op name -> the name written.
_KEYWORD_CALLS = {"sum_axis": "sum", "mean_axis": "mean", "max_axis": "max", "min_axis": "min",
                  "logsumexp": "logsumexp", "softmax": "softmax", "log_softmax": "log_softmax"}  # fmt: skip


# --- printing in the user's language -------------------------------------------------------------------


def number(v: Any) -> str:
    """A number as a person writes it: 5 not 5.0, shortest round-trip digits otherwise; arrays compactly."""
    if np.ndim(v) != 0:  # one line: a table cell or a drawing's label ([[1, 2], [3, 4]])
        text = np.array2string(np.asarray(v), precision=6, threshold=8, separator=", ")
        return " ".join(line.strip() for line in text.splitlines())
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


def _keywords(params: tuple[Any, ...]) -> str:
    """`, axis=1` (and `, keepdims=True`) as the text writes a reduction's parameters."""
    axis = params[0] if params else None
    keep = len(params) > 1 and bool(params[1])
    return ("" if axis is None else f", axis={axis}") + (", keepdims=True" if keep else "")


def _matrix_text(name: str, args: list[tuple[str, int]], params: tuple[Any, ...]) -> tuple[str, int] | None:
    """The text of a matrix op, or None for an op spelt the ordinary way."""
    if name == "matmul":
        (a, pa), (b, pb) = args
        return f"{_wrap(a, pa, PRODUCT)} @ {_wrap(b, pb, PRODUCT + 1)}", PRODUCT
    if name == "transpose":
        return f"{_wrap(args[0][0], args[0][1], ATOM)}.T", ATOM
    if name in _KEYWORD_CALLS:
        return f"{_KEYWORD_CALLS[name]}({args[0][0]}{_keywords(params)})", ATOM
    # the reverse pass's own matrix bookkeeping, named for what it does
    if name == "expand":
        return f"expand_dims({args[0][0]}, axis={params[0]})", ATOM
    if name == "axis_size":
        return f"shape({args[0][0]})[{params[0]}]", ATOM
    if name == "tie_share":
        return f"tie_share({args[0][0]}, {args[1][0]}{_keywords(params[:1])})", ATOM
    return None


def render_op(name: str, args: list[tuple[str, int]], params: tuple[Any, ...] = ()) -> tuple[str, int]:
    """One operation over its operands' texts, spelt as the formula language spells it: h^3 + 1, sin(x),
    X @ w, A.T, sum(X, axis=1)."""
    spec = OPS[name]
    if name in ("sum_to", "like"):  # the sum back to an operand's shape is bookkeeping: it reads as the adjoint
        return args[0]
    matrix = _matrix_text(name, args, params) if spec.shape != MAP else None
    if matrix is not None:
        return matrix
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
            texts[i] = render_op(node.op, [texts[a] for a in node.args], node.params)
    return texts[root][0]


BOOKKEEPING = ("sum_to", "like")  # ops the reverse pass adds to give an adjoint its node's shape


def brief(v: Any) -> str:
    """A value for a one-line heading: the number or a short array, else the array's shape."""
    if np.ndim(v) == 0 or np.size(v) <= 6:
        return number(v)
    return f"an array of shape {np.shape(v)}"


def is_array(v: Any) -> bool:
    """True for a value that is not one number (explain and drawings then show shapes)."""
    return v is not None and np.ndim(v) != 0


def shape_text(dims: D.Dims | None, value: Any = None) -> str:
    """A node's shape as tables and drawings show it: the declared dims (`[n, 32]`), then the value's actual
    shape at the point (`(256, 32)`); declared dims that are all numbers and agree are shown once."""
    parts = []
    actual = None if value is None else tuple(np.shape(value))
    if dims is not None and not (actual == tuple(dims) and all(isinstance(d, int) for d in dims)):
        parts.append(D.show(dims))
    if actual is not None:
        parts.append(str(actual))
    return " ".join(parts)


def table(header: list[str], rows: list[list[str]], limit: int | None, width: int | None = MAX_CELL) -> list[str]:
    """Left-aligned columns; beyond `limit` rows, the first and last few and a note of how many are hidden;
    cells cut to `width` characters."""
    hidden = 0
    if limit is not None and len(rows) > limit:
        head, tail = limit - limit // 4, limit // 4
        hidden = len(rows) - head - tail
        rows = rows[:head] + [["..."] + [""] * (len(header) - 1)] + rows[len(rows) - tail :]
    if width is not None:
        cut = max(width - 3, 1)
        rows = [[c if len(c) <= width else c[:cut] + "..." for c in r] for r in rows]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    if hidden:
        lines.append(f"  ({hidden} rows not shown; explain(...).render(limit=None) shows all)")
    return lines
