"""Every error a user can cause: its class, its words, its position and its hint.

Each row is the behaviour the issue asks for, written down as the message a person should read. The caret line
is checked against the position, so a message that points at the wrong character fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import symgraph
from symgraph import ArgumentError, BindingError, LimitError, ParseError, SymgraphError

# text, error class, words in the message, (line, column) or None, words in the hint or None
CASES = [
    # syntax: what was expected, after what
    ("x + * y", ParseError, "expected an operand after '+', found '*'", (1, 5), None),
    ("x +", ParseError, "expected an operand after '+', found the end of the input", (1, 4), None),
    ("x ** * 2", ParseError, "expected an operand after '**', found '*'", (1, 6), None),
    ("x = ", ParseError, "expected an operand after '=', found the end of the input", (1, 4), None),
    ("sin(x,)", ParseError, "expected an operand after ',', found ')'", (1, 7), None),
    ("* x", ParseError, "expected an expression, found '*'", (1, 1), None),
    ("# only a comment", ParseError, "expected an expression, found the end of the input", (1, 1), None),
    (";", ParseError, "expected an expression, found the end of the input", (1, 2), None),
    ("(x+1", ParseError, "the '(' at line 1, column 1 is not closed: expected ')' before the end", (1, 5), "')'"),
    ("(x + 1; y = 2", ParseError, "the '(' at line 1, column 1 is not closed: expected ')' before ';'", (1, 7), None),
    ("ln(", ParseError, "the '(' at line 1, column 3 is not closed", (1, 4), None),
    ("x+1)", ParseError, "')' has no matching '('", (1, 4), "remove it"),
    ("(((x)))))", ParseError, "')' has no matching '('", (1, 8), None),
    ("x == y", ParseError, "'==' is not an operator: there are no comparisons", (1, 4), "'=' binds a name"),
    ("1 = x", ParseError, "'=' can only follow the name at the start of a statement", (1, 3), "name = expression"),
    ("x,y", ParseError, "',' can only separate a function's arguments", (1, 2), None),
    ("2,5*x", ParseError, "',' can only separate", (1, 2), "decimals are written with '.'"),
    ("x = 1 y = 2", ParseError, "a new statement 'y = ...' must start on a new line or after ';'", (1, 7), None),
    ("sin x", ParseError, "the function 'sin' needs parentheses around its argument", (1, 5), "write sin(x)"),
    ("1e", ParseError, "the number '1e' has an exponent without digits", (1, 2), "1*e"),
    ("1.2.3", ParseError, "'1.2.3' is not a number", (1, 4), None),
    ("1e999*x", ParseError, "the number 1e999 is too large for a float", (1, 1), None),
    ("sin", ParseError, "'sin' is a function: call it as sin(...)", (1, 1), None),
    # implicit multiplication: an error with a hint that spells the product
    ("2x", ParseError, "missing operator between '2' and 'x'", (1, 2), "no implicit multiplication: write 2*x"),
    ("x y", ParseError, "missing operator between 'x' and 'y'", (1, 3), "write x*y"),
    ("2(x+1)", ParseError, "missing operator between '2' and '(x+1)'", (1, 2), "write 2*(x+1)"),
    ("(a)(b)", ParseError, "missing operator between '(a)' and '(b)'", (1, 4), "write (a)*(b)"),
    ("sin(x)cos(x)", ParseError, "between 'sin(x)' and 'cos(x)'", (1, 7), "write sin(x)*cos(x)"),
    ("2 sin(x)", ParseError, "between '2' and 'sin(x)'", (1, 3), "write 2*sin(x)"),
    ("x(1)", ParseError, "unknown function 'x'", (1, 1), "to multiply, write x*(...)"),
    # functions
    ("sinn(x)", ParseError, "unknown function 'sinn'", (1, 1), "did you mean sin?"),
    ("arcsinn(x)", ParseError, "unknown function 'arcsinn'", (1, 1), "did you mean arcsin"),
    ("sin(x, y)", ParseError, "sin() takes 1 argument, got 2", (1, 1), None),
    ("sin()", ParseError, "sin() takes 1 argument, got 0", (1, 1), None),
    ("atan2(y)", ParseError, "atan2() takes 2 arguments, got 1", (1, 1), None),
    ("y + max(1, 2, y)", ParseError, "max() takes 2 arguments, got 3", (1, 5), None),
    # statements and names
    ("x = 1; x = 2", BindingError, "'x' is bound twice; it was first bound at line 1, column 1", (1, 8), None),
    ("y = x + 1; x = 2", BindingError, "'x' is used (line 1, column 5) before this statement binds it", (1, 12), None),
    ("x = x + 1", BindingError, "'x' is used (line 1, column 5) before this statement binds it", (1, 1), None),
    ("pi = 3", BindingError, "'pi' is a constant and cannot be bound", (1, 1), "pi_"),
    ("e = 2*x", BindingError, "'e' is a constant and cannot be bound", (1, 1), None),
    ("sin = 2", BindingError, "'sin' is a function name and cannot be bound", (1, 1), None),
    ("ln = x", BindingError, "'ln' is a function name", (1, 1), None),
    ("x + 1; y", BindingError, "only the last statement may be a bare expression", (1, 1), "name = expression"),
    ("a = 1\n  b + 2\nc = 3", BindingError, "only the last statement may be a bare expression", (2, 3), None),
    # empty and invisible input
    ("", ParseError, "the input is empty", None, None),
    ("   \n\t ", ParseError, "the input is only whitespace", None, None),
    ("x\x00y", ParseError, "a NUL byte (U+0000) cannot appear in a formula", (1, 2), "plain text"),
    ("x + \x07", ParseError, "the control character U+0007 cannot appear", (1, 5), None),
    ("x\x1b[31m", ParseError, "the control character U+001B", (1, 2), None),
    ("\ufeffx + 1", ParseError, "ZERO WIDTH NO-BREAK SPACE", (1, 1), "invisible"),
    # unicode look-alikes from papers
    ("x\u00d7y", ParseError, "unexpected character '\u00d7' (MULTIPLICATION SIGN)", (1, 2), "type '*' instead"),
    ("x\u2212y", ParseError, "unexpected character '\u2212' (MINUS SIGN)", (1, 2), "type '-' instead"),
    ("x\u00b7y", ParseError, "MIDDLE DOT", (1, 2), "'*'"),
    ("x\u00b2", ParseError, "SUPERSCRIPT TWO", (1, 2), "'^2'"),
    ("2\u03c0", ParseError, "GREEK SMALL LETTER PI", (1, 2), "'pi'"),
    ("\u03b8 + 1", ParseError, "GREEK SMALL LETTER THETA", (1, 1), "spell it theta"),
    ("x\u00a0+ 1", ParseError, "NO-BREAK SPACE", (1, 2), "' '"),
    ("x.y", ParseError, "'.y' is not part of the language", (1, 3), "use '_'"),
    ("f'{x}'", ParseError, 'unexpected character "\'"', (1, 2), "no strings"),
]


@pytest.mark.parametrize("text,cls,words,where,hint", CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_message(text: str, cls: type, words: str, where: tuple[int, int] | None, hint: str | None) -> None:
    with pytest.raises(cls) as info:
        symgraph.compile(text)
    e = info.value
    assert words in e.message, e.message
    assert isinstance(e, SymgraphError) and isinstance(e, ValueError)
    if where is None:
        assert e.line is None
    else:
        assert (e.line, e.column) == where, str(e)
        assert_caret_points_at(text, e)
    if hint is not None:
        assert e.hint is not None and hint in e.hint, e.hint


def assert_caret_points_at(text: str, e: SymgraphError) -> None:
    """The rendered message shows the offending line and a caret under the reported column."""
    rendered = str(e).splitlines()
    caret_row = next(i for i, row in enumerate(rendered) if row.strip() == "^")
    line = text.split("\n")[e.line - 1]  # type: ignore[operator]
    shown = rendered[caret_row - 1]
    assert shown.startswith("    ")
    printable = "".join(ch if ch.isprintable() else "?" for ch in line.replace("\t", " ")).rstrip("\r")
    assert shown[4:] == printable
    assert rendered[caret_row].index("^") - 4 == e.column - 1  # type: ignore[operator]


def test_multi_line_input_reports_the_line_of_the_error() -> None:
    text = "h = x + 5   # first step\n\ng = h^3 + 1\nf = g^2 +\n"
    with pytest.raises(ParseError) as info:
        symgraph.compile(text)
    assert (info.value.line, info.value.column) == (4, 10)
    assert "f = g^2 +" in str(info.value)
    assert "line break ends the statement" in (info.value.hint or "")
    text = "a = 1\nb = (a +\n   (x\ny = 2"  # newlines inside parentheses continue, so y is where it breaks
    with pytest.raises(ParseError) as info:
        symgraph.compile(text)
    assert info.value.message.startswith("the '(' at line 3, column 4 is not closed")
    assert (info.value.line, info.value.column) == (4, 1)


def test_crlf_input_reports_lines_and_columns_without_the_carriage_return() -> None:
    with pytest.raises(ParseError) as info:
        symgraph.compile("x = 1\r\ny = x +\r\n")
    assert (info.value.line, info.value.column) == (2, 8)
    assert "\r" not in str(info.value)


def test_caret_on_a_very_long_line_is_clipped_around_the_position() -> None:
    text = "x + " * 2500 + "* y" + " + x" * 2500
    with pytest.raises(ParseError) as info:
        symgraph.compile(text)
    rendered = str(info.value).splitlines()
    assert all(len(row) < 100 for row in rendered)
    assert rendered[1].startswith("    ...") and rendered[1].endswith("...")
    assert rendered[1][rendered[2].index("^")] == "*"


def test_not_text_is_refused() -> None:
    with pytest.raises(SymgraphError, match="a formula is text"):
        symgraph.compile(b"x + 1")  # type: ignore[arg-type]


def test_input_over_the_documented_limit_is_refused_before_parsing() -> None:
    from symgraph.parse import MAX_INPUT_CHARS

    with pytest.raises(LimitError, match=f"the limit is {MAX_INPUT_CHARS:,}"):
        symgraph.compile("x" + " " * MAX_INPUT_CHARS)


# --- options and calls ---------------------------------------------------------------------------------


def test_wrt_naming_something_that_is_not_an_input() -> None:
    with pytest.raises(
        ArgumentError,
        match=r"wrt names 'q', which is not an input of the formula \(its inputs: x, y\)",
    ):
        symgraph.compile("x*y", wrt=["q"])
    with pytest.raises(ArgumentError, match="wrt names 'h'"):
        symgraph.compile("h = x + 1; h^2", wrt="h")  # a statement is not an input
    with pytest.raises(ArgumentError, match="wrt names 'pi'"):
        symgraph.compile("pi*x", wrt=["pi"])
    with pytest.raises(ArgumentError, match="wrt names an input twice"):
        symgraph.compile("x*y", wrt="x, x")


F = "x*y + z"


@pytest.mark.parametrize(
    "args,kwargs,words,hint",
    [
        ((1.0, 2.0), {}, "value_and_grad(x, y, z) is missing input(s): z", "in the order (x, y, z)"),
        ((), {"x": 1.0}, "is missing input(s): y, z", None),
        ((1.0, 2.0, 3.0, 4.0), {}, "value_and_grad(x, y, z) takes 3 inputs, got 4 by position", None),
        ((1.0, 2.0), {"zz": 3.0}, "(x, y, z) has no input 'zz'; its inputs are x, y, z", "did you mean z?"),
        ((1.0, 2.0, 3.0), {"w": 1.0}, "has no input 'w'", None),
        ((1.0,), {"x": 1.0, "y": 2.0, "z": 3.0}, "got input 'x' twice, by position and by name", None),
    ],
)
def test_calling_with_missing_extra_or_misnamed_inputs(
    args: tuple[float, ...], kwargs: dict[str, float], words: str, hint: str | None
) -> None:
    f = symgraph.compile(F)
    with pytest.raises(ArgumentError) as info:
        f(*args, **kwargs)
    assert words in info.value.message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no generated TypeError chained
    if hint:
        assert hint in (info.value.hint or "")
    with pytest.raises(ArgumentError):  # values() binds the same way
        f.values(*args, **kwargs)


def test_function_name_must_be_a_plain_identifier() -> None:
    for bad in ["class", "np", "_private", "a b", "f'; import os; '", "x\ny", "FORMULA", ""]:
        with pytest.raises(SymgraphError, match="cannot name the generated function"):
            symgraph.compile("x", name=bad)


# --- the command line ----------------------------------------------------------------------------------

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "symgraph", *args], capture_output=True, text=True, env=ENV)


@pytest.mark.parametrize(
    "args,words",
    [
        (("grad", "2x", "--at", "x=1"), "missing operator between '2' and 'x'"),
        (("grad", "sinn(x)", "--at", "x=1"), "did you mean sin?"),
        (("grad", "x = 1; x = 2"), "'x' is bound twice"),
        (("grad", "x*y", "--at", "x=1"), "is missing input(s): y"),
        (("grad", "x*y", "--at", "x=1", "y=2", "q=3"), "has no input 'q'"),
        (("grad", "x*y", "--wrt", "q"), "wrt names 'q'"),
        (("grad", "x", "--at", "x=abc"), "'abc' is not a number"),
        (("grad", "x\u2212y"), "MINUS SIGN"),
        (("compile", "x", "--name", "class"), "cannot name the generated function"),
    ],
)
def test_cli_prints_the_message_without_traceback_and_exits_2(args: tuple[str, ...], words: str) -> None:
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("symgraph: error: ")
    assert words in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


def test_cli_multi_line_error_shows_the_line_and_caret() -> None:
    out = run("grad", "h = x + 5\ng = h^3 +\nf = g^2", "--at", "x=1")
    assert out.returncode == 2
    assert "(line 2, column 10)" in out.stderr
    assert "    g = h^3 +\n             ^" in out.stderr


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: symgraph.compile("x+1", wrt=5), "wrt is a list of input names, not int"),
        (lambda: symgraph.compile("x+1", wrt=[["x"]]), "wrt holds input names"),
        (lambda: symgraph.compile("x*y", wrt={"x", "y"}), "wrt must be ordered"),
        (lambda: symgraph.hessian("x*y", wrt={"x", "y"}), "wrt must be ordered"),
        (lambda: symgraph.compile("x+1", name=3), "name is the generated function's name"),
        (lambda: symgraph.compile("x+1")(10**400), "too large for a float64"),
        (lambda: symgraph.compile("x+1")([1, 2]), "input x is a list"),
        (lambda: symgraph.compile("x+1/x")(None), "input x is None"),
    ],
)
def test_bad_api_arguments_are_argument_errors(call, message: str) -> None:
    with pytest.raises(symgraph.ArgumentError, match=message):
        call()
