"""Drawings: the DOT text always; rendered pictures (layout left to right, no overlaps) when Graphviz is here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symgraph
from symgraph import draw

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` is not installed (CI installs it)")

TUTORIALS = [
    ("h = x + 5; g = h^3 + 1; f = g^2", {"x": -3}),
    ("((x+5)^3+1)^2", {"x": -3}),
    ("p = x + y; g = p*z", {"x": 1, "y": 3, "z": -3}),
    ("(x+y)*z", {"x": 1, "y": 3, "z": -3}),
    ("c = w*x; f = c + b; d = f - y; J = d^2/2", {"w": 3, "x": -3, "b": 1, "y": 5}),
    ("(w*x+b-y)^2/2", {"w": 3, "x": -3, "b": 1, "y": 5}),
]


def labels(dot: str) -> dict[str, str]:
    """Node id -> its label with the markup removed."""
    found = re.findall(r"^  (n\d+) \[label=<(.*)>, fillcolor", dot, flags=re.M)
    return {n: re.sub(r"<br/>", " | ", re.sub(r"<(?!br/)[^>]*>", "", text)) for n, text in found}


def edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^  (n\d+) -> (n\d+);", dot, flags=re.M)


def test_dot_text_of_the_one_parameter_tutorial() -> None:
    dot = symgraph.to_dot("h = x + 5; g = h^3 + 1; f = g^2", at={"x": -3})
    assert dot.startswith("digraph symgraph {") and "rankdir=LR" in dot
    assert labels(dot) == {
        "n0": "x | = -3 | df/dx = 216",
        "n2": "h = x + 5 | = 2 | df/dh = 216",
        "n6": "g = h^3 + 1 | = 9 | df/dg = 18",
        "n8": "f = g^2 | = 81 | df/df = 1",
    }
    assert edges(dot) == [("n0", "n2"), ("n2", "n6"), ("n6", "n8")]


def test_dot_text_without_a_point_shows_structure_only() -> None:
    dot = symgraph.to_dot("(x+y)*z")
    assert labels(dot) == {"n0": "x", "n1": "y", "n2": "t2 = x + y", "n3": "z", "n4": "f = t2*z"}
    assert sorted(edges(dot)) == [("n0", "n2"), ("n1", "n2"), ("n2", "n4"), ("n3", "n4")]


def test_adjoints_draws_the_gradient_graph() -> None:
    dot = symgraph.to_dot("(w*x+b-y)^2/2", at={"w": 3, "x": -3, "b": 1, "y": 5}, adjoints=True)
    shown = set(labels(dot).values())
    # dJ/dw = (w*x + b - y) * x = 39 and dJ/dx = -39 live in nodes of their own; d's adjoint is d itself
    assert "d_w = x*t6 | = 39" in shown and "d_x = w*t6 | = -39" in shown  # products in canonical order
    assert "w | = 3 | df/dw = d_w = 39" in shown
    assert "t6 = t4 - y | = -13 | df/dt6 = t6 = -13" in shown  # t<node id>, the generated code's names


def test_labels_are_escaped() -> None:
    dot = symgraph.to_dot('x + 1  # a comment with <b> & "quotes"')
    assert "&lt;b&gt; &amp; &quot;quotes&quot;" in dot
    assert "<b> &" not in dot


def test_no_graphviz_dot_text_still_works_and_pictures_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    out = symgraph.draw_graph("(x+y)*z", tmp_path / "g.dot", at={"x": 1, "y": 3, "z": -3})
    assert out.read_text(encoding="utf-8") == symgraph.to_dot("(x+y)*z", at={"x": 1, "y": 3, "z": -3})
    with pytest.raises(symgraph.SymgraphError, match="Graphviz") as info:
        symgraph.draw_graph("(x+y)*z", tmp_path / "g.svg")
    assert "apt-get install graphviz" in str(info.value)
    assert not (tmp_path / "g.svg").exists()
    assert symgraph.compile("(x+y)*z")._repr_svg_() is None


def test_unknown_picture_format_is_a_symgraph_error(tmp_path: Path) -> None:
    with pytest.raises(symgraph.SymgraphError, match=r"\.svg"):
        symgraph.draw_graph("x+1", tmp_path / "g.jpeg")


def test_ten_thousand_nodes_to_dot_without_recursion() -> None:
    f = symgraph.compile("x" + "".join(f" + sin(x*{k})" for k in range(1, 3400)))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)
    try:
        dot = symgraph.to_dot(f, at={"x": 0.5}, adjoints=True)
    finally:
        sys.setrecursionlimit(limit)
    assert len(edges(dot)) > 10_000


# --- rendered with Graphviz ----------------------------------------------------------------------------------


def layout(dot: str) -> tuple[dict[str, tuple[float, float, float, float]], list[tuple[str, str]]]:
    """Node boxes (centre x, centre y, width, height) and edges from Graphviz's own layout (-Tplain)."""
    plain = draw.run_dot(dot, "plain").decode("utf-8")
    boxes = {}
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            boxes[parts[1]] = (float(parts[2]), float(parts[3]), float(parts[4]), float(parts[5]))
    return boxes, edges(dot)


@needs_dot
@pytest.mark.parametrize("text, at", TUTORIALS)
@pytest.mark.parametrize("adjoints", [False, True])
def test_tutorial_graphs_lay_out_left_to_right_without_overlaps(text: str, at: dict, adjoints: bool) -> None:
    dot = symgraph.to_dot(text, at=at, adjoints=adjoints)
    boxes, arrows = layout(dot)
    for tail, head in arrows:
        assert boxes[tail][0] < boxes[head][0], (tail, head)  # every arrow points right
    output = f"n{symgraph.compile(text).program.output}"
    if not adjoints:
        assert boxes[output][0] == max(b[0] for b in boxes.values())  # the output is rightmost
    names = sorted(boxes)
    for k, a in enumerate(names):
        for b in names[k + 1 :]:
            (xa, ya, wa, ha), (xb, yb, wb, hb) = boxes[a], boxes[b]
            apart = abs(xa - xb) >= (wa + wb) / 2 or abs(ya - yb) >= (ha + hb) / 2
            assert apart, f"{a} and {b} overlap"


@needs_dot
def test_tutorial_pictures_render(tmp_path: Path) -> None:
    svg = symgraph.draw_graph("h = x + 5; g = h^3 + 1; f = g^2", tmp_path / "g.svg", at={"x": -3})
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "df/dh = 216" in text
    png = symgraph.draw_graph("(x+y)*z", tmp_path / "g.png", at={"x": 1, "y": 3, "z": -3}, adjoints=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_dot
def test_jupyter_shows_the_graph() -> None:
    svg = symgraph.compile("(x+y)*z")._repr_svg_()
    assert svg is not None and "<svg" in svg and ">t2<" in svg and "= x + y" in svg


# --- the command line ------------------------------------------------------------------------------------------


def run(*args: str, env: dict[str, str] = ENV, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "symgraph", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_cli_graph_prints_or_writes_dot(tmp_path: Path) -> None:
    out = run("graph", "(x+y)*z", "--at", "x=1", "y=3", "z=-3")
    assert out.returncode == 0 and out.stdout == symgraph.to_dot("(x+y)*z", at={"x": 1, "y": 3, "z": -3})
    out = run("graph", "(x+y)*z", "-o", "g.dot", "--adjoints", cwd=tmp_path)
    assert out.returncode == 0 and (tmp_path / "g.dot").read_text() == symgraph.to_dot("(x+y)*z", adjoints=True)


def test_cli_graph_svg_without_graphviz_is_exit_2(tmp_path: Path) -> None:
    env = {**ENV, "PATH": str(tmp_path)}  # an empty directory: no `dot` on the path
    out = run("graph", "(x+y)*z", "-o", "g.svg", env=env, cwd=tmp_path)
    assert out.returncode == 2 and "apt-get install graphviz" in out.stderr and "Traceback" not in out.stderr


@needs_dot
def test_cli_graph_renders_png(tmp_path: Path) -> None:
    out = run("graph", "((x+5)^3+1)^2", "--at", "x=-3", "-o", "g.png", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_matrix_nodes_show_declared_dims_and_shapes() -> None:
    import numpy as np

    at = {"X": np.ones((4, 3)), "w": np.arange(3.0), "y": np.zeros(4)}
    shown = labels(symgraph.to_dot("X: [n, 3]; w: [3]; r = X @ w - y; L = mean(r^2)", at=at))
    assert shown["n0"].startswith("X | [n, 3] (4, 3) | = [[1., 1., 1.], | ")  # a matrix one row a line
    values = sorted(shown.values())
    assert any(v.startswith("r = X @ w - y | (4,) |") for v in values)
    assert any(v.startswith("L = mean(r^2) | () |") for v in values)
    plain = labels(symgraph.to_dot("X: [n, 3]; w: [3]; r = X @ w - y; L = mean(r^2)", adjoints=True))
    assert plain["n0"].startswith("X | [n, 3] |")
    dot = symgraph.to_dot("X: [n, 3]; w: [3]; mean((X @ w - y)^2)", at=at, adjoints=True)
    drawn = set(labels(dot))
    assert all(a in drawn and b in drawn for a, b in edges(dot))  # every edge joins drawn nodes
