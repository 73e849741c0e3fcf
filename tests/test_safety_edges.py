"""Issue 12 at the edges: syntax hints for Python habits, the SymPy bridge's number and depth limits, check's
arguments and budget, and the command line. Each input here is the one the issue reproduced."""

from __future__ import annotations

import pytest

import symgraph
from symgraph.syntax_hints import PYTHON_NAMES, unknown_function


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


@pytest.mark.xfail(
    strict=True,
    reason="parse.py's _Builder.call builds its own hint; it should call syntax_hints.unknown_function (core file)",
)
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
