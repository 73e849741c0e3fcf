"""Graph + a description of what to return -> the source of a standalone Python module. The one emitter.

Gradient, Hessian, HVP, Jacobian and trace functions differ only in their Spec: the inputs, the nodes the
reader should see by name, and a return expression over node placeholders. The statements themselves come
from emit.emit_lines (which node gets a line, how each is spelt); this module wraps them in a function, with
the numbers path, the retry in NumPy floats and the return. Names come from names.Namer: `node_names` gives
every node the name it has in f.source, explain and drawings alike.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress

from ._version import __version__
from .emit import MAX_INLINE_DEPTH as MAX_INLINE_DEPTH  # the emitter's names, as they were when it lived here
from .emit import const_text as const_text
from .emit import emit_lines, render_node
from .ir import Graph, live_nodes
from .names import GENERATED, Namer
from .ops import OPS, RUNTIME_HELPERS, TENSOR

# Python floats raise where NumPy returns inf or nan with a warning; these are retried in np.float64.
_FLOAT_ERRORS = "(ZeroDivisionError, OverflowError)"

HELPERS = "".join("\n\n" + inspect.getsource(f) for f in RUNTIME_HELPERS)  # the only helpers generated code calls

ARRAYS = """Inputs are numbers or NumPy arrays of broadcastable shapes. For array inputs a derivative is that of
the sum of the values, and each gradient has its input's shape."""

_PLACEHOLDER = re.compile(r"\{n(\d+)\}")


@dataclass(frozen=True)
class Spec:
    """What one generated function takes and returns.

    `returns` is the return expression, in which `{n<id>}` stands for node id's text; `wanted` lists the
    nodes the reader should see by name, in order of priority (statements first); `doc` is the function's
    docstring and `usage` the module docstring's example line.
    """

    graph: Graph
    params: tuple[tuple[str, int], ...]  # (input name, var node) in signature order
    returns: str
    wanted: tuple[tuple[int, str], ...] = ()
    doc: str = ""
    summary: str = "Value and gradient of a formula in one call"
    usage: str = ""
    arrays: str = ARRAYS
    reserved: frozenset[str] = field(default=GENERATED)
    numbers_returns: str = ""  # the return expression when every input is a number ("" = `returns`)
    number_check: str = ""  # an expression true exactly when every input is a number ("" = ask each input)

    @property
    def number_returns(self) -> str:
        return self.numbers_returns or self.returns

    def roots(self) -> list[int]:
        """The nodes the return expression reads."""
        return [int(m) for m in _PLACEHOLDER.findall(self.returns)]


def node_names(
    spec: Spec, fname: str = "", live: list[bool] | None = None
) -> tuple[dict[str, str], dict[int, str], Namer]:
    """The parameter names, the names of the nodes that get a line because the reader should see them, and
    the namer (for temporaries, t<node id>). One function, so every view names a node alike."""
    g = spec.graph
    namer = Namer(spec.reserved)
    if fname:
        namer.reserve(fname)
    params = {name: namer.take(name) for name, _ in spec.params}
    live = live_nodes(g, spec.roots()) if live is None else live
    named: dict[int, str] = {}
    for i, wanted in spec.wanted:
        if live[i] and g.nodes[i].op not in ("var", "const") and i not in named:
            named[i] = namer.take(wanted)
    return params, named, namer


def _retry(fname: str, signature: str, params: list[str], indent: str) -> list[str]:
    """The except clause: Python numbers raise where NumPy gives inf or nan with a warning."""
    return [
        f"{indent}except {_FLOAT_ERRORS}:",
        f"{indent}    if not _python_numbers({signature}):",
        f"{indent}        raise",
        f"{indent}    # Python floats raise where NumPy gives inf or nan with a warning: redo in NumPy floats.",
        f"{indent}    return {fname}(*_numpy_floats({signature}))",
    ]


BOOKKEEPING = ("sum_to", "like", "size")  # the reverse pass's ops that only matter when inputs are arrays


def _bookkeeping(g: Graph, live: list[bool]) -> tuple[list[int], bool]:
    """The live bookkeeping nodes, and whether they are read by the return expression alone (not by another
    node) with no size needed: then one body serves numbers and arrays, and only the return differs."""
    found: list[int] = []
    marked = [False] * len(g.nodes)
    final = True
    nodes = g.nodes
    for i in compress(range(len(nodes)), live):  # in id order: a node's operands come before it
        node = nodes[i]
        if node.op in BOOKKEEPING:
            found.append(i)
            marked[i] = True
            final = final and node.op != "size"
        elif final and found:  # no operand can be a bookkeeping node before the first one
            for a in node.args:
                if marked[a]:
                    final = False
                    break
    return found, final


def generate_function(spec: Spec, fname: str) -> tuple[str, dict[str, str], dict[int, str]]:
    """The source of one function `fname`, the map from input name to parameter name, and the line names.

    Where the inputs' shapes matter (sums back to an input's shape, sizes), numbers take a path without
    them: the code a person would write for numbers. When those sums are needed only for the values
    returned, that path is just the last line; otherwise a first branch serves calls with numbers only.
    """
    g, roots = spec.graph, spec.roots()
    live = live_nodes(g, roots)
    params, named, namer = node_names(spec, fname, live)
    var_text = {i: params[name] for name, i in spec.params}
    signature = ", ".join(params[name] for name, _ in spec.params)
    names = [params[name] for name, _ in spec.params]
    out = [f"def {fname}({signature}):", f'    """{spec.doc}"""']
    bookkeeping, final_only = _bookkeeping(g, live)
    numbers = spec.number_check or " and ".join(f"isinstance({p}, _NUMBERS)" for p in names) or "True"
    matrix = _has_matrix_ops(g, live)  # arrays for sure: named arrays are freed at their last use too
    if (not bookkeeping and spec.number_returns == spec.returns) or matrix:
        lines, texts = emit_lines(g, roots, var_text, named, namer, live=live, free_named=matrix)
        if matrix and all(g.rank(i) for _, i in spec.params):  # every input a declared array: no Python numbers
            out.extend(f"    {line}" for line in lines)
        else:
            _body(out, lines, fname, signature, names, "    ")
    elif final_only:
        lines, texts = emit_lines(g, roots, var_text, named, namer, numbers=True, live=live)
        _body(out, lines, fname, signature, names, "    ")
        check = _PLACEHOLDER.sub(lambda m: texts[int(m.group(1))][0], numbers)
        number_returns = _PLACEHOLDER.sub(lambda m: texts[int(m.group(1))][0], spec.number_returns)
        out.append(f"    if {check}:  # numbers: nothing was broadcast, so nothing is summed back")
        out.append(f"        return {number_returns}")
        texts = _with_bookkeeping(g, bookkeeping, texts)
    else:
        lines, texts = emit_lines(g, roots, var_text, dict(named), namer.copy(), numbers=True, live=live)
        check = " and ".join(f"isinstance({p}, _NUMBERS)" for p in names) or "True"
        out.append(f"    if {check}:  # numbers: nothing was broadcast, so nothing is summed back")
        _body(out, lines, fname, signature, names, "        ")
        returned = _PLACEHOLDER.sub(lambda m: texts[int(m.group(1))][0], spec.number_returns)
        out.append(f"        return {returned}")
        lines, texts = emit_lines(g, roots, var_text, named, namer, live=live)
        _body(out, lines, fname, signature, names, "    ")  # arrays beside Python numbers can raise too
    returned = _PLACEHOLDER.sub(lambda m: texts[int(m.group(1))][0], spec.returns)
    out.append(f"    return {returned}")
    return "\n".join(out) + "\n", params, named


def _has_matrix_ops(g: Graph, live: list[bool]) -> bool:
    """True when the function uses a matrix or axis op: its inputs are arrays, so it has no numbers path."""
    return any(OPS[op].shape == TENSOR for op in {node.op for node in compress(g.nodes, live)})


def _body(out: list[str], lines: list[str], fname: str, signature: str, names: list[str], indent: str) -> None:
    """The statements, inside the try whose except clause retries Python numbers as NumPy floats."""
    if lines:
        out.append(f"{indent}try:")
        out.extend(f"{indent}    {line}" for line in lines)
        out.extend(_retry(fname, signature, names, indent))


def _with_bookkeeping(g: Graph, bookkeeping: list[int], texts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The texts of a numbers emission with the bookkeeping nodes spelt out again, for the arrays' return."""
    out = list(texts)
    for i in bookkeeping:  # in id order: a sum reads the sums below it as already spelt out
        held = g.nodes[i].args[0]
        if texts[i] == texts[held]:
            out[i] = render_node(g, i, out)
        else:  # the body gave this node's adjoint a line of its own: the sum reads that name
            saved, out[held] = out[held], texts[i]
            out[i] = render_node(g, i, out)
            out[held] = saved
    return out


def generate_module(spec: Spec, fname: str, formula: str) -> tuple[str, dict[str, str], dict[int, str]]:
    """A complete module: docstring, numpy import, the formula as a string constant, the function, helpers."""
    body, params, named = generate_function(spec, fname)
    head = [
        f'"""{spec.summary}; generated by symgraph {__version__}, needs only NumPy.',
        "",
        f"    {spec.usage}",
        "",
        spec.arrays,
        '"""',
        "",
        "import numpy as np",
        "",
        f"FORMULA = {formula!r}",
        "_NUMBERS = (float, int)",
        "",
        "",
        "",
    ]
    return "\n".join(head) + body + HELPERS, params, named


def tuple_text(items: Sequence[str]) -> str:
    """A Python tuple literal of the items."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def slot(i: int) -> str:
    """The placeholder for node i in a Spec's return expression."""
    return f"{{n{i}}}"
