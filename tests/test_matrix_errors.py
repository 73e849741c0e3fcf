"""Shape errors of matrix formulas: declared shapes that cannot combine are a ShapeError when the formula is
compiled, pointing at the op (line, column, caret) and naming the dimensions; a call whose arrays contradict
the declarations is an ArgumentError naming the input and the dimension.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph

# text, shapes=, the words of the error, the line, the op's expression there (the caret must fall inside it)
COMPILE_ERRORS: list[tuple[str, dict[str, tuple[int | str, ...]] | None, list[str], int, str]] = [
    ("A: [n, k]\nB: [m, k]\nsum(A @ B)", None,
     ["@ contracts [n, k] with [m, k]", "inner dimensions k and m differ", "A: [n, k], B: [m, k]"], 3, "A @ B"),
    ("sum(A @ B)", {"A": ("n", "k"), "B": ("m", "k")}, ["@ contracts [n, k] with [m, k]"], 1, "A @ B"),
    ("A: [n, 3]\nx: [4]\ny = A @ x\nsum(y)", None, ["@ contracts [n, 3] with [4]", "3 and 4 differ"], 3, "A @ x"),
    ("sum(A @ B)", {"A": (5, 2, 3), "B": (4, 3, 2)}, ["dimension 5 meets 4"], 1, "A @ B"),
    ("sum(x @ y)", {"x": (), "y": (3,)}, ["@ needs arrays of at least one dimension"], 1, "x @ y"),
    ("sum(X, axis=2)", {"X": ("n", "k")}, ["sum(...) has no axis 2", "[n, k] has 2 axes"], 1, "sum(X, axis=2)"),
    ("sum(max(X, axis=-3))", {"X": ("n", "k")}, ["max(...) has no axis -3"], 1, "max(X, axis=-3)"),
    ("sum(softmax(X, axis=1))", {"X": ("n",)}, ["softmax(...) has no axis 1"], 1, "softmax(X, axis=1)"),
    ("sum(log_softmax(X, axis=-2))", {"X": ("n",)}, ["has no axis -2"], 1, "log_softmax(X, axis=-2)"),
    ("det(X)", {"X": ("n", "k")}, ["det takes a square matrix", "[n, k]"], 1, "det(X)"),
    ("logdet(X)", {"X": ("n",)}, ["logdet takes a square matrix", "[n]"], 1, "logdet(X)"),
    ("sum(inv(X))", {"X": (2, 3)}, ["inv takes a square matrix", "[2, 3]"], 1, "inv(X)"),
    ("tr(x)", {"x": ("n",)}, ["tr takes a matrix", "[n]"], 1, "tr(x)"),
    ("dot(a, b)", {"a": ("n",), "b": ("m",)}, ["dot takes vectors of one length", "[n] and [m]"], 1, "dot(a, b)"),
    ("dot(A, b)", {"A": ("n", "n"), "b": ("n",)}, ["dot takes two vectors", "[n, n] and [n]"], 1, "dot(A, b)"),
    ("sum(outer(A, b))", {"A": ("n", "n"), "b": ("n",)}, ["outer takes two vectors"], 1, "outer(A, b)"),
    ("sum(A.T + A)", {"A": ("n", "k")}, ["[n, k] and [k, n] do not broadcast"], 1, "A.T + A"),
    ("X: [n, k]\nz = 1\nq = sum(X @ X)\nq + z", None, ["@ contracts [n, k] with [n, k]"], 3, "X @ X"),
]  # fmt: skip


def _caret_column(e: symgraph.ShapeError) -> int:
    """The 1-based column of the text the rendered caret stands under (the shown line is indented by 4)."""
    shown = str(e).split("\n")
    k = next(k for k, s in enumerate(shown) if s.strip() == "^")
    return shown[k].index("^") - 4 + 1


@pytest.mark.parametrize(
    ("text", "shapes", "words", "line", "span"), COMPILE_ERRORS, ids=[e[0] for e in COMPILE_ERRORS]
)
def test_declared_shapes_that_cannot_combine_point_at_the_op(
    text: str, shapes: dict[str, tuple[int | str, ...]] | None, words: list[str], line: int, span: str
) -> None:
    with pytest.raises(symgraph.ShapeError) as info:
        symgraph.compile(text, shapes=shapes)
    e = info.value
    for word in words:
        assert word in str(e), (word, str(e))
    assert e.line == line and f"line {line}, column {e.column}" in str(e)
    source = text.split("\n")[line - 1]
    assert f"\n    {source}\n" in str(e)  # the offending line, shown
    start = source.index(span) + 1
    assert start <= e.column == _caret_column(e) < start + len(span), (e.column, span)


@pytest.mark.parametrize(("text", "op"), [("sum(A @ B)", "@"), ("sum(A.T + A)", "+")])
def test_the_caret_of_a_binary_op_is_under_the_operator(text: str, op: str) -> None:
    with pytest.raises(symgraph.ShapeError) as info:
        symgraph.compile(text, shapes={"A": ("n", "k"), "B": ("m", "k")} if "B" in text else {"A": ("n", "k")})
    assert info.value.column == text.index(op) + 1


def test_a_shape_error_is_a_value_error_and_a_symgraph_error() -> None:
    with pytest.raises(ValueError, match="inner dimensions"):
        symgraph.compile("sum(A @ B)", shapes={"A": (2, 3), "B": (2, 3)})
    assert issubclass(symgraph.ShapeError, symgraph.SymgraphError)


# declarations, arguments, the words of the ArgumentError
CALL_ERRORS: list[tuple[str, tuple[tuple[int, ...], ...], list[str]]] = [
    ("A: [n, 3]\nx: [3]\nsum(A @ x)", ((2, 4), (3,)), ["input A has shape (2, 4)", "[n, 3]", "axis 1 is 3"]),
    ("A: [n, 3]\nx: [3]\nsum(A @ x)", ((2, 3), (4,)), ["input x has shape (4,)", "axis 0 is 3"]),
    ("A: [n, 3]\nx: [3]\nsum(A @ x)", ((3,), (3,)), ["input A has shape (3,), with 1 axis", "[n, 3] has 2"]),
    ("A: [n, 3]\nx: [3]\nsum(A @ x)", ((2, 3), ()), ["input x has shape ()", "[3] is a vector"]),
    ("A: [n, 3]\nx: [3]\nsum(A @ x)", ((2, 2, 3), (3,)), ["input A has shape (2, 2, 3), with 3 axes"]),
    ("A: [n, k]\nB: [k, n]\nsum(A @ B)", ((2, 3), (3, 4)), ["input B", "so n is 4", "but A gives n = 2"]),
    ("A: [n, k]\nB: [k, n]\nsum(A @ B)", ((2, 3), (4, 2)), ["input B", "so k is 4", "but A gives k = 3"]),
]


@pytest.mark.parametrize(("text", "shapes", "words"), CALL_ERRORS)
def test_a_call_contradicting_the_declarations_names_the_input(
    text: str, shapes: tuple[tuple[int, ...], ...], words: list[str]
) -> None:
    f = symgraph.compile(text)
    with pytest.raises(symgraph.ArgumentError) as info:
        f(*[np.ones(s) for s in shapes])
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_a_call_contradicting_the_shapes_option_names_the_input() -> None:
    f = symgraph.compile("sum(softmax(X @ W, axis=1))", shapes={"X": ("n", 3), "W": (3, "c")})
    with pytest.raises(symgraph.ArgumentError, match=r"input W has shape \(4, 2\).*axis 0 is 3"):
        f(np.ones((5, 3)), np.ones((4, 2)))
    f(np.ones((5, 3)), np.ones((3, 2)))  # n and c take any size


def test_an_undeclared_call_that_cannot_multiply_points_at_the_op() -> None:
    f = symgraph.compile("y = sin(A)\nsum(y @ B)")
    with pytest.raises(symgraph.ArgumentError) as info:
        f(np.ones((2, 3)), np.ones((4, 2)))
    text = str(info.value)
    assert "A (2, 3), B (4, 2)" in text and "inner dimensions 3 and 4 differ" in text
    assert "line 2" in text and "sum(y @ B)" in text


def test_a_declaration_after_use_is_refused() -> None:
    with pytest.raises(symgraph.ShapeError, match="'X' is declared after its first use"):
        symgraph.compile("sum(X)\nX: [n]")


def test_a_second_declaration_says_declared_twice() -> None:
    with pytest.raises(symgraph.ShapeError, match="twice"):
        symgraph.compile("X: [n, k]\nX: [n, k]\nsum(X)")
