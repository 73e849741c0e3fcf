"""explain: the tutorials' forward and backward tables, row by row, and their consistency on real formulas."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symgraph
from symgraph.explain import Explanation, number

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "feynman" / "cases.jsonl"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def forward_rows(e: Explanation) -> list[tuple[str, str | None, str]]:
    return [(r.name, r.definition, number(r.value)) for r in e.forward]


def backward_rows(e: Explanation) -> list[tuple[str, str, str]]:
    return [(r.name, number(r.adjoint), e.chain(r)) for r in e.backward]


# --- the tutorials, line by line (numbers as in examples/one_parameter.py and three_inputs.py) ------------


def test_one_parameter_in_the_tutorials_names() -> None:
    e = symgraph.explain("h = x + 5; g = h^3 + 1; f = g^2", at={"x": -3})
    # h = x + 5 = 2, g = h^3 + 1 = 9, f = g^2 = 81
    assert forward_rows(e) == [("x", None, "-3"), ("h", "x + 5", "2"), ("g", "h^3 + 1", "9"), ("f", "g^2", "81")]
    # df/dg = 2g = 18; df/dh = df/dg * dg/dh = 18 * 3h^2 = 216; df/dx = df/dh * dh/dx = 216 * 1 = 216
    assert backward_rows(e) == [
        ("f", "1", "df/df = 1"),
        ("g", "18", "df/dg = 2*g = 18"),
        ("h", "216", "df/dh = df/dg * dg/dh = 18 * 12 = 216"),
        ("x", "216", "df/dx = df/dh * dh/dx = 216 * 1 = 216"),
    ]
    h = e.backward[2]
    assert e.locals(h) == ["dg/dh = 3*h^2 = 12"]


def test_one_parameter_as_one_formula_names_every_operation() -> None:
    """Temporaries are named t<node id>, as in the generated code (f.source has the same t2 and t6)."""
    e = symgraph.explain("((x+5)^3+1)^2", at={"x": -3})
    assert forward_rows(e) == [
        ("x", None, "-3"),
        ("t2", "x + 5", "2"),  # the tutorial's h
        ("t4", "t2^3", "8"),
        ("t6", "t4 + 1", "9"),  # the tutorial's g
        ("f", "t6^2", "81"),
    ]
    adjoint = {r.name: number(r.adjoint) for r in e.backward}
    assert (adjoint["t6"], adjoint["t2"], adjoint["x"]) == ("18", "216", "216")
    assert e.chain(e.backward[3]) == "df/dt2 = df/dt4 * dt4/dt2 = 18 * 12 = 216"


@pytest.mark.parametrize("text, names", [("p = x + y; g = p*z", ("p", "g")), ("(x+y)*z", ("t2", "f"))])
def test_three_inputs(text: str, names: tuple[str, str]) -> None:
    p, g = names
    e = symgraph.explain(text, at={"x": 1, "y": 3, "z": -3})
    # p = 4, then g = -12
    assert forward_rows(e) == [
        ("x", None, "1"),
        ("y", None, "3"),
        (p, "x + y", "4"),
        ("z", None, "-3"),
        (g, f"{p}*z", "-12"),
    ]
    # dg/dg = 1; dg/dz = p = 4; dg/dp = z = -3; dg/dx = dg/dp * dp/dx = (-3).1 = -3, the same for y
    assert backward_rows(e) == [
        (g, "1", f"d{g}/d{g} = 1"),
        ("z", "4", f"d{g}/dz = {p} = 4"),
        (p, "-3", f"d{g}/d{p} = z = -3"),
        ("y", "-3", f"d{g}/dy = d{g}/d{p} * d{p}/dy = (-3) * 1 = -3"),
        ("x", "-3", f"d{g}/dx = d{g}/d{p} * d{p}/dx = (-3) * 1 = -3"),
    ]


def test_linear_regression_in_the_tutorials_names() -> None:
    e = symgraph.explain("c = w*x; f = c + b; d = f - y; J = d^2/2", at={"w": 3, "x": -3, "b": 1, "y": 5})
    steps = [r for r in forward_rows(e) if r[1] is not None]
    # c = wx = -9, f = c + b = -8, d = f - y = -13, J = d^2/2 = 84.5
    assert steps == [("c", "w*x", "-9"), ("f", "c + b", "-8"), ("d", "f - y", "-13"), ("J", "d^2/2", "84.5")]
    rows = {name: chain for name, _, chain in backward_rows(e)}
    # dJ/dd = d = -13; dJ/df = dJ/dd * dd/df = -13; dJ/dc = -13; dJ/db = dJ/df * df/db = -13; dJ/dw = -13 * -3 = 39
    assert rows["d"] == "dJ/dd = d = -13"
    assert rows["f"] == "dJ/df = dJ/dd * dd/df = (-13) * 1 = -13"
    assert rows["c"] == "dJ/dc = dJ/df * df/dc = (-13) * 1 = -13"
    assert rows["b"] == "dJ/db = dJ/df * df/db = (-13) * 1 = -13"
    assert rows["w"] == "dJ/dw = dJ/dc * dc/dw = (-13) * (-3) = 39"


def test_linear_regression_as_one_formula() -> None:
    e = symgraph.explain("(w*x+b-y)^2/2", at={"w": 3, "x": -3, "b": 1, "y": 5})
    values = [number(r.value) for r in e.forward if r.definition is not None]
    assert values == ["-9", "-8", "-13", "169", "84.5"]
    adjoint = {r.name: number(r.adjoint) for r in e.backward}
    assert (adjoint["w"], adjoint["b"]) == ("39", "-13")


def test_rendered_tables_carry_the_rows() -> None:
    text = str(symgraph.explain("h = x + 5; g = h^3 + 1; f = g^2", at={"x": -3}))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "forward pass (left to right) at x = -3" in lines
    assert "g h^3 + 1 9" in lines
    assert "h 216 df/dh = df/dg * dg/dh = 18 * 12 = 216 dg/dh = 3*h^2 = 12" in lines


# --- shapes the tutorials do not show ------------------------------------------------------------------------


def test_a_node_read_by_two_steps_sums_two_products() -> None:
    e = symgraph.explain("a = x*y + 1; b = a*(x*y)", at={"x": 2, "y": 3})
    assert [r.name for r in e.forward] == ["x", "y", "t2", "a", "b"]  # x*y is shared, so it is a step
    t2 = next(r for r in e.backward if r.name == "t2")
    # b = (t2 + 1) * t2: db/dt2 = 2*t2 + 1 = 13 at t2 = 6
    assert e.chain(t2) == "db/dt2 = db/da * da/dt2 + a = 6 * 1 + 7 = 13"


def test_without_a_point_the_tables_show_formulas() -> None:
    e = symgraph.explain("h = x + 5; g = h^3 + 1; f = g^2")
    assert [r.value for r in e.forward] == [None] * 4
    assert e.chain(e.backward[2]) == "df/dh = df/dg * dg/dh"
    assert e.locals(e.backward[2]) == ["dg/dh = 3*h^2"]
    assert "at " not in str(e).splitlines()[0]


def test_explain_takes_a_compiled_function_and_its_wrt() -> None:
    f = symgraph.compile("(x+y)*z", wrt=["z"])
    e = symgraph.explain(f, at={"x": 1, "y": 3, "z": -3})
    assert [r.name for r in e.backward] == ["f", "z"]


def test_missing_input_is_a_symgraph_error() -> None:
    with pytest.raises(symgraph.ArgumentError, match="missing input"):
        symgraph.explain("x*y", at={"x": 1})


# --- consistency on real formulas (AI Feynman corpus, gradients computed by its builder, not by us) ---------


def corpus_cases() -> list[dict]:
    cases = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [c for c in cases if not c["beyond_core"]]


def test_tables_agree_with_the_corpus_and_with_themselves() -> None:
    checked = 0
    for case in corpus_cases():
        point = case["points"][0]["inputs"]
        e = symgraph.explain(case["formula"], at=point)
        value = {r.name: r.value for r in e.forward}
        adjoint = {r.name: r.adjoint for r in e.backward}
        assert math.isclose(value[e.output], case["points"][0]["value"], rel_tol=1e-9, abs_tol=1e-300), case["id"]
        for name, g in case["points"][0]["gradient"].items():
            assert math.isclose(adjoint[name], g, rel_tol=1e-7, abs_tol=1e-12), (case["id"], name)
        seen: set[str] = set()
        for r in e.backward:
            # every step reading this node was finished earlier (right to left), and its products add up
            assert all(t.consumer in seen for t in r.terms), (case["id"], r.name)
            seen.add(r.name)
            if r.terms:
                total = math.fsum(t.consumer_adjoint * t.local_value for t in r.terms)
                assert math.isclose(total, r.adjoint, rel_tol=1e-9, abs_tol=1e-12), (case["id"], r.name)
            for t in r.terms:  # the printed local derivative, parsed back, gives the number shown
                check_text(t.local, value, t.local_value)
        for r in e.forward:  # the printed definition, parsed back, gives the value shown
            if r.definition is not None:
                check_text(r.definition, value, r.value)
        checked += 1
    assert checked >= 100


def check_text(text: str, value: dict, expected: float) -> None:
    g = symgraph.compile(text)
    got, _ = g(**{n: value[n] for n in g.variables})
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12), (text, got, expected)


# --- size ----------------------------------------------------------------------------------------------------


def test_ten_thousand_nodes_explain_without_recursion() -> None:
    text = "x" + "".join(f" + sin(x*{k})" for k in range(1, 3400))
    f = symgraph.compile(text)
    assert len(f.program.graph.nodes) > 10_000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # far below the graph's depth: any recursion over it would fail
    try:
        e = symgraph.explain(f, at={"x": 0.5})
        shown = e.render(limit=40)
    finally:
        sys.setrecursionlimit(limit)
    assert len(e.forward) > 10_000
    assert "rows not shown" in shown and len(shown.splitlines()) < 100
    assert math.isclose(e.backward[-1].adjoint, f(0.5)[1][0], rel_tol=1e-9)


# --- the command line ------------------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "symgraph", *args], capture_output=True, text=True, env=ENV)


def test_cli_explain_prints_both_tables() -> None:
    out = run("explain", "c = w*x; f = c + b; d = f - y; J = d^2/2", "--at", "w=3", "x=-3", "b=1", "y=5")
    assert out.returncode == 0, out.stderr
    lines = [" ".join(line.split()) for line in out.stdout.splitlines()]
    assert "J d^2/2 84.5" in lines
    assert "w 39 dJ/dw = dJ/dc * dc/dw = (-13) * (-3) = 39 dc/dw = x = -3" in lines


def test_cli_explain_bad_point_is_exit_2() -> None:
    out = run("explain", "x*y", "--at", "x=1")
    assert out.returncode == 2 and "missing input(s): y" in out.stderr and "Traceback" not in out.stderr


def test_the_example_prints_the_tutorials_tables(tmp_path: Path) -> None:
    script = ROOT / "examples" / "seeing_the_graph.py"
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr
    lines = [" ".join(line.split()) for line in out.stdout.splitlines()]
    assert "h 216 df/dh = df/dg * dg/dh = 18 * 12 = 216 dg/dh = 3*h^2 = 12" in lines
    assert "p -3 dg/dp = z = -3 dg/dp = z = -3" in lines
    assert "J d^2/2 84.5" in lines
    assert sorted(p.name for p in tmp_path.glob("*.dot")) == [
        "linear_regression.dot",
        "one_parameter.dot",
        "three_inputs.dot",
    ]


# --- matrices ------------------------------------------------------------------------------------------------


def test_a_matrix_formula_shows_shapes_and_rules() -> None:
    import numpy as np

    at = {"X": np.array([[1.0, 2, 3], [4, 5, 6]]), "w": np.array([1.0, 0, -1]), "y": np.array([0.0, 1])}
    e = symgraph.explain("X: [n, 3]; w: [3]; mean((X @ w - y)^2)", at=at)
    assert e.shaped and [r.definition for r in e.forward][2] == "X @ w"
    text = str(e)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "node shape definition value" in lines
    assert "X [n, 3] (2, 3) input [[1., 2., 3.], [4., 5., 6.]]" in lines
    assert "w (3,) [-14., -19., -24.] df/dw = X.T @ d_t2 = [-14., -19., -24.] d_w = X.T @ d_t2" in lines
    w = next(r for r in e.backward if r.name == "w")
    assert np.allclose(w.terms[0].local_value, w.adjoint) and w.terms[0].rule
    plain = symgraph.explain("X: [n, 3]; w: [3]; mean((X @ w - y)^2)")  # no point: declared dims only
    assert "X [n, 3] input" in [" ".join(line.split()) for line in str(plain).splitlines()]


def test_scalar_tables_have_no_shape_column() -> None:
    text = str(symgraph.explain("h = x + 5; g = h^3 + 1; f = g^2", at={"x": -3}))
    assert "shape" not in text


@pytest.mark.parametrize(
    "text, shown",
    [
        ("sum(X.T @ X, axis=1, keepdims=True)", "sum(X.T @ X, axis=1, keepdims=True)"),
        ("log_softmax(Z, axis=-1)", "log_softmax(Z, axis=-1)"),
        ("max(X) - min(X, axis=0)", "max(X) - min(X, axis=0)"),
        ("(A + B) @ C", "(A + B) @ C"),
    ],
)
def test_matrix_ops_read_as_the_text_writes_them(text: str, shown: str) -> None:
    assert symgraph.explain(f"y = {text}").forward[-1].definition == shown
