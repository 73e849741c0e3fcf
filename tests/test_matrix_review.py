"""Review findings on matrix formulas, each pinned: ranks the rules assume are checked, numbers given to a
matrix op are named, and an axis out of any range is refused when the text is read."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph

M = np.arange(27.0).reshape(3, 3, 3) / 10 + np.eye(3)
A = np.arange(9.0).reshape(3, 3) / 10 + np.eye(3)


@pytest.mark.parametrize(
    ("text", "args", "words"),
    [
        ("sum(dot(A, B))", (A, A), "dot takes two vectors, not [3, 3] and [3, 3]"),
        ("sum(outer(A, B))", (A, A), "outer takes two vectors"),
        ("sum(tr(M))", (M,), "tr takes a matrix, not an array of shape [3, 3, 3]"),
        ("sum(det(M))", (M,), "det takes a square matrix"),
        ("sum(sin(inv(M)))", (M,), "inv takes a square matrix"),
        ("sum(logdet(M))", (M,), "logdet takes a square matrix"),
    ],
)
def test_an_op_on_the_wrong_rank_is_an_error_not_a_wrong_gradient(text: str, args: tuple, words: str) -> None:
    """Undeclared, NumPy would compute another meaning (np.dot of matrices is their product) whose derivative
    is not the op's: each operand is checked at run time and the error points at the op."""
    with pytest.raises(symgraph.ArgumentError) as info:
        symgraph.compile(text)(*args)
    assert words in info.value.message and info.value.column == text.index(words.split()[0]) + 1


def test_declared_operands_are_not_checked_again_at_run_time() -> None:
    f = symgraph.compile("a: [n]; b: [n]\ndot(a, b)")
    body = f.source[: f.source.index("def _sum_to")]
    assert "np.dot(a, b)" in body and "_vector(" not in body
    assert "np.dot(_vector(a), _vector(b))" in symgraph.compile("dot(a, b)").source


@pytest.mark.parametrize("args", [(1.0, 2.0), (1, 2)])
def test_numbers_given_to_a_matrix_op_are_an_argument_error(args: tuple) -> None:
    with pytest.raises(symgraph.ArgumentError, match="@ needs arrays of at least one dimension"):
        symgraph.compile("sum(X @ w)")(*args)


def test_an_axis_beyond_any_array_is_refused_when_read() -> None:
    with pytest.raises(symgraph.ParseError, match="from -64 to 64"):
        symgraph.compile("sum(x, axis=100000000000000000000000)")


def test_a_size_that_contradicts_a_declared_number_names_both() -> None:
    with pytest.raises(symgraph.ArgumentError, match=r"axis 1 is 3, not 4"):
        symgraph.compile("X: [n, 3]\nsum(X)")(np.ones((4, 4)))


def test_the_hint_says_how_declared_dimensions_compare() -> None:
    with pytest.raises(symgraph.ShapeError) as info:
        symgraph.compile("x: [n]; y: [3]\nsum(x*y)")
    assert "taken to differ" in (info.value.hint or "")
