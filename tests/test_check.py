"""symgraph.check and `symgraph check`: they pass right gradients and catch wrong ones.

A wrong gradient is made by swapping one op's adjoint rule for a wrong one (the op table is data, so a test can
do that) and compiling without the cache.
"""

from __future__ import annotations

import dataclasses

import pytest

import symgraph
from symgraph import api, cli
from symgraph import crosscheck as check_module
from symgraph.function import CompiledFunction
from symgraph.ops import OPS
from symgraph.parse import parse


@pytest.fixture
def wrong_sin(monkeypatch: pytest.MonkeyPatch) -> None:
    """d sin(x)/dx = +sin(x) instead of cos(x), for the duration of a test."""
    bad = dataclasses.replace(OPS["sin"], grads=(lambda b, a, out, g: b.mul(g, out),))
    monkeypatch.setitem(OPS, "sin", bad)
    api._build.cache_clear()
    yield
    api._build.cache_clear()


@pytest.mark.parametrize("text", ["((x+5)^3+1)^2", "(w*x+b-y)^2/2", "x^y * sin(x)", "log(x) + sqrt(y)", "abs(x - y)"])
def test_right_gradients_pass_with_a_symbolic_proof(text: str) -> None:
    report = symgraph.check(text, points=10)
    assert report.ok, str(report)
    for c in report.checks:
        assert c.method == "symbolic" and c.symbolic == "equal"
        assert c.points == 10 and c.fd_points > 0 and c.max_rel_error < 1e-12


@pytest.mark.parametrize("text", ["relu(x) * cbrt(y)", "floor(x) * y + sign(y)", "heaviside(x, 0.5) * exp(y)"])
def test_kinks_are_decided_away_from_the_kinks(text: str) -> None:
    assert symgraph.check(text, points=10).ok


def test_points_outside_the_domain_are_skipped() -> None:
    report = symgraph.check("log(x) * acosh(y)", points=10, symbolic=False)
    assert report.ok and all(c.points == 10 for c in report.checks)
    empty = symgraph.check("log(-1 - x^2)", points=3, symbolic=False)
    assert not empty.ok and "found 0 of 3 points" in str(empty) and "NOT CHECKED" in str(empty)
    huge = symgraph.check("exp((1+pi^2)^pi)^x", points=3, symbolic=False)  # exp(1358) overflows at every x
    assert not huge.ok and "beyond float64's range" in str(huge)


def test_a_wrong_gradient_is_caught_by_sympy_and_by_finite_differences(wrong_sin: None) -> None:
    f = CompiledFunction(parse("sin(x) * y"))
    report = symgraph.check(f, points=10)
    d_x, d_y = report.checks
    assert not report.ok and not d_x.ok and d_y.ok
    assert d_x.symbolic == "undecided" and not d_x.numeric_ok and not d_x.fd_ok
    text = str(report)
    assert "FAIL" in text and "MISMATCH" in text and "worst disagreement at x=" in text


def test_finite_differences_alone_catch_a_wrong_gradient(wrong_sin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_module, "MAX_VALUE_TREE", 0)  # as if the formula were too large for SymPy
    report = symgraph.check(CompiledFunction(parse("sin(x) * y")), points=5)
    assert [c.method for c in report.checks] == ["finite differences"] * 2
    assert not report.checks[0].fd_ok and report.checks[1].ok
    assert "too large for SymPy" in str(report)


def test_the_symbolic_part_keeps_its_time_budget() -> None:
    report = symgraph.check("sin(x) * y", timeout=0.0, points=3)
    assert [c.symbolic for c in report.checks] == ["timeout", "timeout"]
    assert [c.method for c in report.checks] == ["numeric", "numeric"] and report.ok


def test_the_report_reads_as_a_table() -> None:
    report = symgraph.check("x*y", wrt="y", points=5, seed=3)
    lines = str(report).splitlines()
    assert lines[0] == "check of x*y  (seed 3)"
    assert lines[1].split()[:3] == ["gradient", "method", "symbolic"]
    assert lines[2].split()[0] == "d_y" and lines[2].split()[-1] == "pass"
    assert lines[-1] == "all gradients agree" and len(lines) == 4


def test_same_seed_same_report() -> None:
    assert str(symgraph.check("sin(x)*exp(y)", seed=5)) == str(symgraph.check("sin(x)*exp(y)", seed=5))


def test_bad_arguments_are_symgraph_errors() -> None:
    with pytest.raises(symgraph.ArgumentError, match="points"):
        symgraph.check("x", points=0)
    with pytest.raises(symgraph.ArgumentError, match="wrt"):
        symgraph.check(symgraph.compile("x*y"), wrt="x")
    with pytest.raises(symgraph.ParseError):
        symgraph.check("(x+")


def test_cli_check_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "sin(x)*y", "--points", "5"]) == 0
    out = capsys.readouterr().out
    assert "d_x" in out and "d_y" in out and out.rstrip().endswith("all gradients agree")
    assert cli.main(["check", "(x+"]) == 2
    assert "line 1, column 4" in capsys.readouterr().err
    assert cli.main(["check", "x*y", "--wrt", "q"]) == 2
    assert cli.main(["check", "x", "--points", "0"]) == 2


def test_cli_check_exits_1_on_a_mismatch(wrong_sin: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "sin(x)*y", "--points", "5"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
