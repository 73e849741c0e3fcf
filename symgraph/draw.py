"""Graphviz drawings of a formula's computational graph, with values and adjoints.

`to_dot(f, at=...)` emits DOT text laid out left to right as the tutorials draw it: inputs on the left, the
output on the right, one node per step of explain's forward table (same names, same definitions), and at a
point each node's value and its adjoint dout/dnode (a matrix one row a line). Once some node is not one
number, each label has a shape line: the declared dims (`[n, 32]`), then the value's shape at the point
(`(256, 32)`). With `adjoints=True` every operation is its own node and the nodes the reverse pass
appended (the gradient graph) are drawn too, in red; each forward node's label names the node that holds
its adjoint. `draw_graph` writes .dot as text and renders .svg, .png or .pdf with the Graphviz `dot`
program (Debian: apt-get install graphviz), run as a subprocess, no shell.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SymgraphError
from .explain import as_function, point_values, steps
from .function import CompiledFunction
from .ir import live_nodes
from .notation import is_array, number, shape_text

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
TEXT_FORMATS = (".dot", ".gv")
REPR_MAX_NODES = 300  # Jupyter draws graphs up to this many nodes; bigger ones show their text repr
DOT_TIMEOUT = 120.0  # seconds

# Colours: inputs blue, operations grey, the output green, gradient nodes red; values blue, adjoints red.
FILL = {"input": "#dbe8f7", "op": "#f4f4f4", "output": "#dcefd9", "gradient": "#fbe3e1"}
VALUE_COLOUR = "#1f4e99"
ADJOINT_COLOUR = "#b3261e"
SHAPE_COLOUR = "#555555"


class GraphvizError(SymgraphError):
    """Rendering needs Graphviz's `dot` program, which is missing or failed."""


def _esc(text: str) -> str:
    """Text safe inside a Graphviz HTML-like label."""
    return html.escape(text, quote=True)


def _lines(v: Any) -> str:
    """A value for a label, escaped: a matrix one row a line, anything else on one line."""
    if np.ndim(v) < 2:
        return _esc(number(v))
    text = np.array2string(np.asarray(v), precision=6, threshold=8, separator=", ")
    return "<br/>".join(_esc(line) for line in text.splitlines())


def to_dot(text_or_function: str | CompiledFunction, at: dict[str, Any] | None = None, adjoints: bool = False) -> str:
    """The computational graph as Graphviz DOT text; with `at`, each node's value and adjoint."""
    f = as_function(text_or_function)
    f.adjoint_of  # noqa: B018 - made on first use, before the graph's nodes are counted below
    graph, output = f.program.graph, f.program.output
    values = point_values(f, at)
    roots = [output, *f.gradients] if adjoints else [output]
    st = steps(f, roots=roots, inline=False if adjoints else None, adjoint_names=adjoints)
    forward = live_nodes(graph, [output])
    out_name = st.name[output]
    title = " ".join(f.program.text.split()) or out_name
    if len(title) > 80:
        title = title[:77] + "..."
    lines = [
        "digraph symgraph {",
        f"  graph [rankdir=LR, nodesep=0.25, ranksep=0.45, labelloc=t, fontname=Helvetica, label=<{_esc(title)}>];",
        '  node [shape=box, style="rounded,filled", color="#666666", fontname=Helvetica, fontsize=12];',
        '  edge [color="#666666", arrowsize=0.7];',
    ]
    # a shape line in every label once some node is not one number (declared dims, or the value's shape)
    shaped = any(graph.dims(i) or (values is not None and is_array(values.get(i))) for i in st.rows)
    for i in st.rows:
        name = st.name[i]
        definition = st.definition.get(i)
        if graph.nodes[i].op == "var":
            kind = "input"
        elif i == output:
            kind = "output"
        elif forward[i]:
            kind = "op"
        else:
            kind = "gradient"
        label = [f"<b>{_esc(name)}</b>" + (f" = {_esc(definition)}" if definition else "")]
        value = None if values is None else values.get(i)  # None: a count the trace leaves out (size)
        shape = shape_text(graph.dims(i), value) if shaped else ""
        if shape:
            label.append(f'<font color="{SHAPE_COLOUR}" point-size="10">{_esc(shape)}</font>')
        if value is not None:
            label.append(f'<font color="{VALUE_COLOUR}">= {_lines(value)}</font>')
        if kind != "gradient" and i in f.adjoint_of and (values is not None or adjoints):
            a = f.adjoint_of[i]
            parts = [_esc(f"d{out_name}/d{name}")]  # escaped here: a matrix value spans lines (<br/>)
            if adjoints:  # which node of the gradient graph holds it (the sums back to a shape are bookkeeping)
                holder, node = graph.held(a), graph.nodes[graph.held(a)]
                # an adjoint f.source never computes (a mean's 1/n scales its sums instead) has no name to show
                shown_name = st.name.get(holder) or (number(node.value) if node.op == "const" else "")
                if shown_name:
                    parts.append(_esc(shown_name))
            if values is not None:
                parts.append(_lines(values[a]))
            shown = [p for k, p in enumerate(parts) if k == 0 or p != parts[k - 1]]
            label.append(f'<font color="{ADJOINT_COLOUR}">{" = ".join(shown)}</font>')
        extra = ", penwidth=2" if kind == "output" else ""
        lines.append(f'  n{i} [label=<{"<br/>".join(label)}>, fillcolor="{FILL[kind]}"{extra}];')
    for i in st.rows:
        for leaf in st.leaves[i]:
            lines.append(f"  n{leaf} -> n{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(dot_text: str, fmt: str) -> bytes:
    """Render DOT text with Graphviz's `dot` program to `fmt` (svg, png, pdf)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizError(
            f"drawing {fmt.upper()} needs the Graphviz `dot` program, which is not installed",
            hint="install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            "or write DOT text instead (a .dot file, or symgraph.to_dot)",
        )
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, check=False, timeout=DOT_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"Graphviz dot took longer than {DOT_TIMEOUT:.0f} s; write .dot text instead") from None
    if done.returncode != 0:
        raise GraphvizError(f"Graphviz dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def draw_graph(
    text_or_function: str | CompiledFunction,
    path: str | Path,
    at: dict[str, Any] | None = None,
    adjoints: bool = False,
) -> Path:
    """Write the graph to `path`: .dot/.gv as DOT text, .svg/.png/.pdf rendered by Graphviz. Returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS and suffix not in TEXT_FORMATS:
        known = ", ".join([*TEXT_FORMATS, *FORMATS])
        raise SymgraphError(f"cannot draw to {path.name!r}: the file name must end in one of {known}")
    dot_text = to_dot(text_or_function, at, adjoints)
    if suffix in TEXT_FORMATS:
        path.write_text(dot_text, encoding="utf-8")
    else:
        path.write_bytes(run_dot(dot_text, FORMATS[suffix]))
    return path


def repr_svg(f: CompiledFunction) -> str | None:
    """Jupyter's picture of a compiled function: its graph as SVG, or None (text repr) without Graphviz."""
    if shutil.which("dot") is None or len(f.program.graph.nodes) > REPR_MAX_NODES:
        return None
    return run_dot(to_dot(f), "svg").decode("utf-8")
