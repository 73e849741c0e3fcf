"""Issue 12 at the edges: syntax hints for Python habits, the SymPy bridge's number and depth limits, check's
arguments and budget, and the command line. Each input here is the one the issue reproduced."""

from __future__ import annotations

import pytest
import sympy as sp

import symgraph
from symgraph import sympy_bridge
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
