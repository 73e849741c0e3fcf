"""The language the issue asks for: every function and alias, the conventions at kinks, the stable machine-learning
functions, constants, comments, line breaks, and the notation the Feynman corpus uses.

Values are checked against NumPy called by hand here (not through the op table), derivatives against central
finite differences, and the documentation against the op table.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import symgraph
from symgraph.ops import CONSTANTS, FUNCTIONS, OPS

README = Path(__file__).resolve().parent.parent / "README.md"

# The issue's list, with a NumPy reference written independently of the op table and a point inside the domain.
ONE_ARG: dict[str, tuple[Callable[[float], float], float]] = {
    "sin": (np.sin, 0.7),
    "cos": (np.cos, 0.7),
    "tan": (np.tan, 0.7),
    "asin": (np.arcsin, 0.3),
    "acos": (np.arccos, 0.3),
    "atan": (np.arctan, 0.7),
    "sinh": (np.sinh, 0.7),
    "cosh": (np.cosh, 0.7),
    "tanh": (np.tanh, 0.7),
    "asinh": (np.arcsinh, 0.7),
    "acosh": (np.arccosh, 1.7),
    "atanh": (np.arctanh, 0.3),
    "exp": (np.exp, 0.7),
    "expm1": (np.expm1, 0.7),
    "log": (np.log, 0.7),
    "log1p": (np.log1p, 0.7),
    "log2": (np.log2, 0.7),
    "log10": (np.log10, 0.7),
    "sqrt": (np.sqrt, 0.7),
    "cbrt": (np.cbrt, -0.7),
    "abs": (np.abs, -0.7),
    "sign": (np.sign, -0.7),
    "floor": (np.floor, 1.7),
    "ceil": (np.ceil, 1.7),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), 0.7),
    "softplus": (lambda x: np.log(1.0 + np.exp(x)), 0.7),
    "relu": (lambda x: np.maximum(x, 0.0), 0.7),
}
TWO_ARG: dict[str, tuple[Callable[[float, float], float], tuple[float, float]]] = {
    "atan2": (np.arctan2, (0.7, -0.4)),
    "hypot": (lambda x, y: np.sqrt(x * x + y * y), (0.7, -0.4)),
    "pow": (np.power, (1.7, 0.4)),
    "min": (np.minimum, (0.7, -0.4)),
    "max": (np.maximum, (0.7, -0.4)),
}
ALIASES = {
    "ln": "log",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arsinh": "asinh",
    "arcosh": "acosh",
    "artanh": "atanh",
    "arctan2": "atan2",
    "power": "pow",
    "expit": "sigmoid",
    "logistic": "sigmoid",
    "sgn": "sign",
    "ceiling": "ceil",
}


def fd(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def test_every_function_of_the_issue_is_callable() -> None:
    for name in [*ONE_ARG, *TWO_ARG]:
        assert FUNCTIONS[name] == name
        assert OPS[name].arity == (1 if name in ONE_ARG else 2)


@pytest.mark.parametrize("alias,name", ALIASES.items())
def test_aliases_are_the_same_op(alias: str, name: str) -> None:
    assert FUNCTIONS[alias] == name
    args = "x" if OPS[name].arity == 1 else "x, y"
    assert symgraph.parse(f"{alias}({args})").graph.nodes == symgraph.parse(f"{name}({args})").graph.nodes


@pytest.mark.parametrize("name", ONE_ARG)
def test_one_argument_functions_value_and_derivative(name: str) -> None:
    ref, x = ONE_ARG[name]
    f = symgraph.compile(f"{name}(x)")
    value, (d_x,) = f(x)
    assert value == pytest.approx(ref(x), rel=1e-14)
    assert d_x == pytest.approx(fd(ref, x), rel=1e-7, abs=1e-9)
    xs = np.array([x, 1.1 * x + 0.1])
    values, (d_xs,) = f(xs)
    np.testing.assert_allclose(values, ref(xs), rtol=1e-14)
    np.testing.assert_allclose(d_xs, [fd(ref, v) for v in xs], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", TWO_ARG)
def test_two_argument_functions_value_and_gradient(name: str) -> None:
    ref, (x, y) = TWO_ARG[name]
    f = symgraph.compile(f"{name}(x, y)")
    value, (d_x, d_y) = f(x, y)
    assert value == pytest.approx(ref(x, y), rel=1e-14)
    assert d_x == pytest.approx(fd(lambda t: ref(t, y), x), rel=1e-7, abs=1e-9)
    assert d_y == pytest.approx(fd(lambda t: ref(x, t), y), rel=1e-7, abs=1e-9)


def test_pow_is_the_power_operator() -> None:
    assert symgraph.parse("pow(x, y)").graph.nodes == symgraph.parse("x^y").graph.nodes
    assert symgraph.parse("x**y").graph.nodes == symgraph.parse("x^y").graph.nodes


# --- conventions where the derivative is not defined ---------------------------------------------------


@pytest.mark.parametrize(
    "text,point,want",
    [
        ("abs(x)", (0.0,), (0.0,)),
        ("relu(x)", (0.0,), (0.0,)),
        ("max(x, y)", (1.5, 1.5), (0.5, 0.5)),
        ("min(x, y)", (1.5, 1.5), (0.5, 0.5)),
        ("max(x, y)", (2.0, 1.0), (1.0, 0.0)),
        ("min(x, y)", (2.0, 1.0), (0.0, 1.0)),
        ("sign(x)", (0.0,), (0.0,)),
        ("sign(x)", (-3.0,), (0.0,)),
        ("floor(x)", (2.0,), (0.0,)),
        ("floor(x)", (2.5,), (0.0,)),
        ("ceil(x)", (2.0,), (0.0,)),
        ("heaviside(x, y)", (0.0, 0.5), (0.0, 0.0)),
    ],
)
def test_derivative_conventions_at_kinks(text: str, point: tuple[float, ...], want: tuple[float, ...]) -> None:
    assert symgraph.compile(text)(*point)[1] == want


def test_every_kinked_function_documents_its_convention() -> None:
    for name in ["abs", "relu", "min", "max", "sign", "floor", "ceil", "heaviside", "sqrt", "hypot"]:
        assert OPS[name].note, name


# --- stable machine-learning building blocks -----------------------------------------------------------


@pytest.mark.parametrize(
    "text,x,value,slope",
    [
        ("softplus(x)", 1000.0, 1000.0, 1.0),
        ("softplus(x)", -1000.0, 0.0, 0.0),
        ("softplus(x)", 0.0, math.log(2.0), 0.5),
        ("sigmoid(x)", -1000.0, 0.0, 0.0),
        ("sigmoid(x)", 1000.0, 1.0, 0.0),
        ("sigmoid(x)", 0.0, 0.5, 0.25),
        ("relu(x)", -1000.0, 0.0, 0.0),
        ("relu(x)", 1000.0, 1000.0, 1.0),
    ],
)
def test_stable_in_value_and_derivative_without_warnings(text: str, x: float, value: float, slope: float) -> None:
    f = symgraph.compile(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail here
        got, (d_x,) = f(x)
        arr, (d_arr,) = f(np.array([x, -x]))
    assert got == pytest.approx(value, abs=1e-300) and d_x == pytest.approx(slope, abs=1e-300)
    assert arr[0] == got and d_arr[0] == d_x


def test_softplus_and_sigmoid_are_accurate_in_the_tails() -> None:
    f = symgraph.compile("softplus(x)")
    assert f(-50.0)[0] == pytest.approx(math.exp(-50.0), rel=1e-14)  # log(1+exp(-50)) = exp(-50) - ...
    g = symgraph.compile("sigmoid(x)")
    assert g(-50.0)[1][0] == pytest.approx(math.exp(-50.0), rel=1e-12)  # s(x)s(-x), not s(1-s) = 0


# --- constants, numbers, names -------------------------------------------------------------------------


def test_constants() -> None:
    assert set(CONSTANTS) == {"pi", "e"}
    f = symgraph.compile("pi*x + e^x")
    assert f.variables == ("x",)
    value, (d_x,) = f(1.0)
    assert value == pytest.approx(math.pi + math.e) and d_x == pytest.approx(math.pi + math.e)


@pytest.mark.parametrize(
    "text,x,want",
    [
        ("2*e", 0.0, 2 * math.e),
        ("1e-3 + 0*x", 0.0, 1e-3),
        ("2E3 + 0*x", 0.0, 2000.0),
        ("x*e*2", 1.0, 2 * math.e),
        ("E*x", 3.0, None),  # E is an input, not the constant
    ],
)
def test_e_is_the_constant_only_as_a_name(text: str, x: float, want: float | None) -> None:
    f = symgraph.compile(text)
    if want is None:
        assert f.variables == ("E", "x")
    else:
        assert f(*([x] * len(f.variables)))[0] == pytest.approx(want)


def test_corpus_traps() -> None:
    f = symgraph.compile("exp(-theta**2/2)/sqrt(2*pi)")
    theta = 0.8
    assert f(theta)[0] == pytest.approx(math.exp(-(theta**2) / 2) / math.sqrt(2 * math.pi), rel=1e-15)
    assert symgraph.compile("1/2*m*v**2")(3.0, 2.0)[0] == 6.0  # 1/2 is 0.5, not 0
    assert symgraph.compile("d**(3/2)")(4.0)[0] == pytest.approx(8.0)
    g = symgraph.compile("I*gamma + beta*lambd - E_n + lambda_ + m_0*theta1 + g_")
    assert g.variables == ("I", "gamma", "beta", "lambd", "E_n", "lambda_", "m_0", "theta1", "g_")
    assert g(*[1.0] * 9)[0] == 4.0


def test_keywords_are_usable_names() -> None:
    f = symgraph.compile("lambda*x + yield")
    assert f.variables == ("lambda", "x", "yield")
    assert f(2.0, 3.0, 1.0) == (7.0, (3.0, 2.0, 1.0))
    assert f(**{"lambda": 2.0, "x": 3.0, "yield": 1.0})[0] == 7.0


# --- layout of the text: statements, comments, line breaks ---------------------------------------------


def test_comments_anywhere() -> None:
    text = "# the tutorial's example\nh = x + 5   # inner\n\n# cube it\ng = h^3 + 1;  f = g^2 # square\n# end"
    f = symgraph.compile(text)
    assert f(-3.0) == (81.0, (216.0,))
    assert symgraph.compile("2#c\n")(*[])[0] == 2.0
    assert symgraph.compile("x # a comment with ( ) + * ^ = , ; 2x and sin")(1.0)[0] == 1.0


def test_line_breaks_inside_parentheses_continue_the_statement() -> None:
    text = "loss = (w*x + b\n        - y)^2\n\ngrad_free = sqrt(loss\n  + 1)"
    f = symgraph.compile(text)
    assert f.variables == ("w", "x", "b", "y")
    w, x, b, y = 2.0, 3.0, 1.0, 4.0
    assert f(w, x, b, y)[0] == pytest.approx(math.sqrt((w * x + b - y) ** 2 + 1))
    assert symgraph.compile("atan2(\n y,\n x\n)")(1.0, 1.0)[0] == pytest.approx(math.pi / 4)


def test_windows_line_ends_tabs_and_form_feeds() -> None:
    f = symgraph.compile("h = x + 5\r\n\tg = h^3 + 1\r\n\x0cg^2\r\n")
    assert f(-3.0) == (81.0, (216.0,))


def test_statement_separators() -> None:
    assert symgraph.compile(";;a = x;; b = a*2;\n;\nb;")(1.0)[0] == 2.0


def test_a_tuple_of_outputs_parses_as_the_last_statement() -> None:
    p = symgraph.parse("a = x + 1; (a, a*y,)")
    assert len(p.outputs) == 2 and list(p.inputs) == ["x", "y"]


# --- the documentation follows the op table ------------------------------------------------------------


def test_readme_language_section_lists_every_function_and_alias() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The language") :]
    section = section[: section.index("\n## ", 3)]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", section))
    missing = sorted(set(FUNCTIONS) - words)
    assert not missing, f"README's language section does not mention {missing}"
