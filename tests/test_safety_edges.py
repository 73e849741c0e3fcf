"""Issue 12 at the edges: syntax hints for Python habits, the SymPy bridge's number and depth limits, check's
arguments and budget, and the command line. Each input here is the one the issue reproduced."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import symgraph
from symgraph import cli, crosscheck, sympy_bridge
from symgraph.syntax_hints import PYTHON_NAMES, unknown_function

# The checkout under test, first on the path of every subprocess (not some other installed copy).
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def parse_error(text: str) -> symgraph.ParseError:
    with pytest.raises(symgraph.ParseError) as info:
        symgraph.compile(text)
    return info.value


# --- 1. syntax hints -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("0x10*x", "hexadecimal numbers such as '0x10' are not supported", "write it in decimal: 16*x"),
        ("0b101*x", "binary numbers such as '0b101' are not supported", "write it in decimal: 5*x"),
        ("0o17 + x", "octal numbers such as '0o17' are not supported", "write it in decimal: 15 + x"),
        ("1_000*x", "'_' cannot separate the digits of a number ('1_000')", "write the digits together: 1000*x"),
        ("y = 2.5_0e1_0 * x\ny", "('2.5_0e1_0')", "write the digits together: y = 2.50e10 * x"),
        ("1j*x", "'1j' is a complex number; symgraph has no complex numbers", "there is no imaginary unit"),
        ("x + 2.5e3J", "'2.5e3J' is a complex number", "input named J, write x + 2.5e3*J"),
    ],
)
def test_python_number_literals_are_named_not_read_as_products(text: str, message: str, hint: str) -> None:
    e = parse_error(text)
    assert message in e.message and hint in (e.hint or ""), str(e)
    assert "implicit multiplication" not in str(e) and "missing operator" not in str(e)


@pytest.mark.parametrize(("text", "column"), [("0x10*x", 1), ("x + 1_000", 5), ("y^1j", 3)])
def test_the_caret_points_at_the_start_of_the_literal(text: str, column: int) -> None:
    e = parse_error(text)
    assert (e.line, e.column) == (1, column)


@pytest.mark.parametrize(("text", "hint"), [("2_x", "write 2*_x"), ("0x", "write 0*x"), ("0xg1", "write 0*xg1")])
def test_names_after_a_number_are_still_missing_operators(text: str, hint: str) -> None:
    e = parse_error(text)
    assert e.message.startswith("missing operator") and hint in (e.hint or "")


@pytest.mark.parametrize("name", ["eval", "exec", "open", "__import__", "getattr", "print", "os", "lambda"])
def test_a_python_builtin_is_an_unknown_function_never_a_product(name: str) -> None:
    message, hint = unknown_function(name, is_value=False)
    assert message == f"unknown function '{name}'"
    assert f"cannot call '{name}'" in hint and "*(" not in hint and "multipl" not in hint
    assert "did you mean" in hint or "the functions are abs, acos," in hint
    assert unknown_function(name, is_value=True) == (message, hint)  # even when the formula binds the name


def test_other_unknown_functions_keep_their_hints() -> None:
    assert unknown_function("sinn", is_value=False) == ("unknown function 'sinn'", "did you mean sin?")
    _, hint = unknown_function("y", is_value=True)
    assert hint == "there is no implicit multiplication: to multiply, write y*(...)"
    assert "eval" in PYTHON_NAMES and "sin" not in PYTHON_NAMES


def test_eval_of_x_is_an_unknown_function_without_a_multiplication_hint() -> None:
    e = parse_error("eval(x)")
    assert e.message == "unknown function 'eval'" and "*(" not in (e.hint or "")


@pytest.mark.parametrize(("text", "where"), [("x\ry", (1, 2)), ("x+\ry", (1, 3)), ("a = 1\nx # c\ry", (2, 6))])
def test_a_lone_carriage_return_is_an_error_not_a_line_break(text: str, where: tuple[int, int]) -> None:
    e = parse_error(text)
    assert "carriage return (U+000D)" in e.message and (e.line, e.column) == where
    assert "'\\r\\n'" in (e.hint or "")


def test_crlf_line_ends_still_read_as_line_ends() -> None:
    f = symgraph.compile("a = 2*x  # twice\r\nb = (a +\r\n  1)\r\nb\r\n")
    assert f(3.0) == (7.0, (2.0,))


# --- 2. the SymPy bridge ----------------------------------------------------------------------------------


def _walk(expr: sp.Expr) -> tuple[int, set[str]]:
    """Depth of a SymPy expression and the names of its symbols, walked with a stack (SymPy's own walkers
    recurse); a subexpression met again at the same depth or shallower is not walked again."""
    deepest, names, stack, best = 0, set(), [(expr, 1)], {}
    while stack:
        e, d = stack.pop()
        if best.get(id(e), 0) >= d:
            continue
        best[id(e)] = d
        deepest = max(deepest, d)
        if e.is_Symbol:
            names.add(e.name)
        stack.extend((a, d + 1) for a in e.args)
    return deepest, names


def test_from_sympy_of_a_number_beyond_float64_names_it() -> None:
    x = sp.Symbol("x")
    with pytest.raises(symgraph.ArgumentError, match=r"the number 100000000000\.\.\.000000/3 \(about 3\.33E\+399\)"):
        symgraph.from_sympy(sp.Rational(10**400, 3) * x)
    with pytest.raises(symgraph.ArgumentError, match="too large for a float"):
        symgraph.from_sympy(sp.Integer(10**400) + x)
    f = symgraph.from_sympy(sp.Rational(10**400, 3 * 10**399) * x)  # each part overflows, the ratio does not
    assert f(3.0)[0] == pytest.approx(10.0)
    assert symgraph.from_sympy(sp.oo * x)(2.0)[0] == float("inf")  # infinity spelled as such is kept


@pytest.mark.parametrize(
    ("text", "depth"),
    [("x^" * 4000 + "x", 4000), ("sin(" * 1600 + "x" + ")" * 1600, 1600)],
    ids=["power tower 4000", "sin 1600 deep"],
)
def test_to_sympy_of_deep_formulas_does_not_recurse(text: str, depth: int) -> None:
    value, (d_x,) = symgraph.to_sympy(symgraph.compile(text))
    assert _walk(value) == (depth + 1, {"x"})
    assert isinstance(d_x, sp.Expr) and d_x.args  # a DAG with many paths: too slow to walk as a tree


def test_to_sympy_of_a_shallow_formula_is_still_evaluated() -> None:
    value, (d_x,) = symgraph.to_sympy(symgraph.compile("x*x + 2*3"))
    x = sp.Symbol("x", real=True)
    assert value == x**2 + 6 and d_x == 2 * x


def test_to_sympy_of_repeated_cbrt_is_fast() -> None:  # cbrt is sign(u)*Abs(u)**(1/3): u twice per level
    value, _ = symgraph.to_sympy(symgraph.compile("cbrt(" * 30 + "x" + ")" * 30))
    assert _walk(value)[0] > 30


def test_when_sympy_still_recurses_the_error_is_a_limit_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def recursing(*args: object, **kwargs: object) -> None:
        raise RecursionError

    monkeypatch.setattr(sympy_bridge, "_build", recursing)
    with pytest.raises(symgraph.LimitError, match="too deeply nested for SymPy"):
        symgraph.to_sympy(symgraph.compile("sin(x)"))


# --- 3. check's arguments, size limit and time budget -----------------------------------------------------


PRODUCT_1000 = "*".join(f"v{i}" for i in range(1000))


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: symgraph.check(None), "formula must be text"),
        (lambda: symgraph.check(42), "formula must be text"),
        (lambda: symgraph.check("x^2", points="a"), "points must be an integer, not str 'a'"),
        (lambda: symgraph.check("x^2", points=2.5), "points must be an integer"),
        (lambda: symgraph.check("x^2", points=True), "points must be an integer"),
        (lambda: symgraph.check("x^2", points=0), "points must be at least 1"),
        (lambda: symgraph.check("x^2", seed="s"), "seed must be an integer"),
        (lambda: symgraph.check("x^2", seed=-1), "seed must be at least 0"),
        (lambda: symgraph.check("x^2", timeout="5"), "timeout must be a finite number of seconds"),
        (lambda: symgraph.check("x^2", timeout=-1), "timeout must be a finite number of seconds"),
        (lambda: symgraph.check("x^2", budget=0), "budget must be a finite number of seconds > 0"),
        (lambda: symgraph.check("x^2", budget=float("inf")), "budget must be a finite number"),
        (lambda: symgraph.check("x^2", wrt=3), "wrt must be names"),
        (lambda: symgraph.check("x^2", wrt=["x", None]), "wrt must be names"),
        (lambda: symgraph.check("x^2", symbolic="yes"), "symbolic must be True or False"),
    ],
)
def test_every_bad_argument_to_check_is_an_argument_error_naming_it(call: Any, named: str) -> None:
    with pytest.raises(symgraph.ArgumentError, match=re.escape(named)):
        call()


def test_a_product_of_1000_inputs_is_refused_at_once() -> None:
    start = time.monotonic()
    with pytest.raises(symgraph.LimitError, match="MAX_CHECK_WORK") as info:
        symgraph.check(PRODUCT_1000)
    assert time.monotonic() - start < 15  # about 0.5 s; generous for a loaded machine
    assert "wrt=" in (info.value.hint or "")


def test_the_limit_is_graph_nodes_times_gradients(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = len(symgraph.compile("x*y*z").program.graph.nodes)
    monkeypatch.setattr(crosscheck, "MAX_CHECK_WORK", 3 * nodes)
    assert symgraph.check("x*y*z", points=2, symbolic=False).ok
    monkeypatch.setattr(crosscheck, "MAX_CHECK_WORK", 3 * nodes - 1)
    with pytest.raises(symgraph.LimitError):
        symgraph.check("x*y*z", points=2, symbolic=False)


def test_sympy_keeps_to_half_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    real = crosscheck._sympy_derivative

    def slow(*args: Any) -> Any:
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(crosscheck, "_sympy_derivative", slow)
    text = "+".join(f"sin(a{i})" for i in range(12))
    start = time.monotonic()
    report = symgraph.check(text, points=3, budget=2.0)
    assert time.monotonic() - start < 2.0 + 10  # at most one derivative past half the budget, then the numbers
    verdicts = [c.symbolic for c in report.checks]
    assert "no time" in verdicts and verdicts[0] != "no time"
    assert all(c.method == "finite differences" for c in report.checks if c.symbolic == "no time")
    assert report.ok and any("half of the time budget" in n for n in report.notes), str(report)


def test_the_numbers_stop_at_the_budget() -> None:
    report = symgraph.check("sin(x)*y", points=10**9, budget=1.0, symbolic=False)
    assert any(n.startswith("the time budget ran out after") for n in report.notes), str(report)


def test_a_real_product_of_200_inputs_finishes_within_its_budget() -> None:
    text = "*".join(f"w{i}" for i in range(200))  # names of its own: SymPy's cache has not seen it
    start = time.monotonic()
    report = symgraph.check(text, points=3, budget=4.0)
    assert time.monotonic() - start < 4.0 + 20  # SymPy's last derivative and the numbers may run over
    assert report.ok, str(report)


# --- 4. the command line -------------------------------------------------------------------------------------


def test_a_formula_after_double_dash_is_the_formula(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grad", "--", "-x^2", "--at", "x=1"]) == 0
    assert capsys.readouterr().out.splitlines() == ["value = -1.0", "d_x = -2.0"]
    assert cli.main(["grad", "--wrt", "y", "--", "-x*y", "--at", "x=2", "y=3"]) == 0
    assert capsys.readouterr().out.splitlines() == ["value = -6.0", "d_y = -2.0"]
    assert cli.main(["grad", "--", "-x^", "--at", "x=1"]) == 2
    assert "(line 1, column 4)" in capsys.readouterr().err  # the column in the formula as typed


def test_double_dash_from_the_shell() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "symgraph", "grad", "--", "-x^2", "--at", "x=1"], capture_output=True, text=True, env=ENV
    )
    assert (out.returncode, out.stdout.splitlines(), out.stderr) == (0, ["value = -1.0", "d_x = -2.0"], "")


@pytest.mark.parametrize("value", ["1e999", "-1e400", "9" * 400])
def test_at_refuses_a_number_that_overflows(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grad", "x", "--at", f"x={value}"]) == 2
    err = capsys.readouterr().err
    assert "--at x: the number" in err and "too large for a float" in err and "Traceback" not in err


def test_at_takes_inf_and_nan_spelled_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.parse_at(["x=inf,y=-Infinity", "z=nan"]).keys() == {"x", "y", "z"}
    assert cli.parse_at(["x=-inf"])["x"] == float("-inf")
    assert cli.main(["grad", "x+1", "--at", "x=inf"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "value = inf"


def test_compile_to_a_missing_directory_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "dir" / "a.py"
    assert cli.main(["compile", "x^2", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symgraph: error: cannot write {target}: No such file or directory")
    assert not target.exists()


def test_numpy_warnings_are_one_line_naming_the_formula(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grad", "exp(x)*x", "--at", "x=1000"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["value = inf", "d_x = inf"]
    assert captured.err == "symgraph: warning: overflow encountered in exp while evaluating the formula\n"
    assert cli.main(["grad", "x/y + x/y", "--at", "x=0", "y=0"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(set(lines)) and all(line.endswith("while evaluating the formula") for line in lines)
    assert lines and not any("np." in line or "t1 =" in line for line in lines)


def test_no_generated_code_on_stderr_from_the_shell() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "symgraph", "grad", "log(x)", "--at", "x=0"], capture_output=True, text=True, env=ENV
    )
    lines = out.stderr.splitlines()
    assert (
        out.returncode == 0
        and lines[0] == "symgraph: warning: divide by zero encountered in log while evaluating the formula"
    )
    assert all(line.startswith("symgraph: warning: ") and line.endswith(" the formula") for line in lines)


def test_cli_check_has_a_budget_and_refuses_the_1000_input_product(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "sin(x)*y", "--points", "3", "--budget", "30"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("all gradients agree")
    assert cli.main(["check", "x", "--budget", "0"]) == 2
    assert "budget must be a finite number of seconds > 0" in capsys.readouterr().err
    assert cli.main(["check", PRODUCT_1000]) == 2
    assert "MAX_CHECK_WORK" in capsys.readouterr().err
