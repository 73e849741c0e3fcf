"""The parser's fast paths (parse_fast.FastPath: direct and parse) read text exactly as Lark's standard path does.

The fast path splits the text with its own regular expression and drives Lark's LALR parser with unwrapped
callbacks; on anything it cannot read it falls back to the standard path, which reports every error. So:
its tokens are Lark's tokens (types, values and every position), the graph it builds is the standard path's,
and on bad text it either falls back or raises the error the standard path raises. The direct path (plain strings
for tokens) builds the same graph where it reads the text, and gives up on anything else, errors included.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

import symgraph
from symgraph.errors import SymgraphError
from tests.strategies import formulas

P = importlib.import_module("symgraph.parse")  # the module (symgraph.parse is also the function's name)

VALID = [
    "((x+5)^3+1)^2",
    "x**2 ** -y + +z - -w",
    "a = x*y\nb = a/2 # a comment\r\n(a, b, a-b,)",
    "(x +\n  y\n)*2\n\n",
    "  \t x;;y = 2; y*x  ",
    "sum(X, axis=-1, keepdims=True)",
    "X: [n, 3]\nw: [3]\nmean((X @ w - 1)^2)",
    "A: [n, n]\n(A.T @ A).T * 1e-3 + .5 - 3. + 2.5E+2",
    "atan2(y, x) + hypot(x, y) + e + pi",
    "sin(cos(tan(x)))/log(1 + exp(-x))",
    "# only a comment\nx",
    "x\r\n",
    "f = (\n  x\n  + y\n)\nf * f",
]

INVALID = ["(x +\n  y)\n*2", "x y", "2x", "x.5", "1.2.3", "x $ y", "(x", "x)", "x +", "sin + 1", "\rx", "x.t"]
INVALID += ["x = 1\nx = 2\nx", "sum(x, axis=1.5)", "X: [n]\nY: [m]\nX + Y"]


def _attributes(tokens: Any) -> list[tuple[Any, ...]]:
    return [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos) for t in tokens]


def _leaves(text: str, fast: bool) -> Any:
    """The state the fast path (or the standard one: Lark's contextual lexer and tree-builder callbacks) leaves,
    its error, or 'fallback' where the fast path hands the text over."""
    lark, builder, fast_path = P._parser()
    with P._LOCK:
        state = builder.s = P._State(text)
        try:
            fast_path.parse(text) if fast else lark.parse(text)
        except P.Fallback:
            return "fallback"
        except (SymgraphError, UnexpectedInput) as e:
            if fast and not isinstance(e, SymgraphError):
                raise  # the fast path hands Lark's errors over (Fallback), never raises them
            return type(e).__name__ + ": " + str(e)
        finally:
            builder.s = None
    return state


def _standard(text: str) -> Any:
    return _leaves(text, fast=False)


def _fast(text: str) -> Any:
    return _leaves(text, fast=True)


def _direct(text: str) -> Any:
    """The state the direct path leaves, or 'fallback' where it raises (parse.parse reads the text again then)."""
    _lark, builder, fast_path = P._parser()
    with P._LOCK:
        state = builder.s = P._State(text)
        try:
            fast_path.direct(text)
        except Exception:  # noqa: BLE001 - whatever it raises, parse.parse reads the text again
            return "fallback"
        finally:
            builder.s = None
    return state


def _built(state: Any) -> Any:
    """What a parse leaves that the direct path must build alike (its tokens are strings: names only)."""
    if isinstance(state, str):
        return state
    g = state.graph
    statements = [(name, node) for name, node, _t in state.statements]
    return g.nodes, g.shapes, state.inputs, state.names, state.bound, statements, state.referenced, g.declared


def _direct_alike(text: str, must_read: bool = False) -> None:
    """The direct path builds the standard path's graph, or gives up (never where `must_read`)."""
    direct, standard = _direct(text), _standard(text)
    if must_read:
        assert direct != "fallback"
    if direct != "fallback":
        assert not isinstance(standard, str), standard
        assert _built(direct) == _built(standard)


@pytest.mark.parametrize("text", VALID)
def test_direct_path_builds_the_standard_graph(text: str) -> None:
    _direct_alike(text, must_read=not any(c in text for c in "#\r:") and "axis=" not in text)


@pytest.mark.parametrize("text", INVALID)
def test_direct_path_gives_up_on_bad_text(text: str) -> None:
    assert _direct(text) == "fallback"


def _summary(state: Any) -> Any:
    if isinstance(state, str):
        return state
    g = state.graph
    statements = [(name, node, t and (t.type, str(t), t.line, t.column)) for name, node, t in state.statements]
    return g.nodes, g.shapes, state.inputs, state.names, state.bound, statements, state.referenced, g.declared


@pytest.mark.parametrize("text", VALID)
def test_fast_tokens_are_larks_tokens(text: str) -> None:
    lark, _builder, fast = P._parser()
    assert _attributes(fast.tokens(text)) == _attributes(lark.lex(text))


@pytest.mark.parametrize("text", VALID)
def test_fast_path_builds_the_standard_graph(text: str) -> None:
    fast = _fast(text)
    assert fast != "fallback" and not isinstance(fast, str), fast
    assert _summary(fast) == _summary(_standard(text))


@pytest.mark.parametrize("text", INVALID)
def test_bad_text_falls_back_or_fails_alike(text: str) -> None:
    fast = _fast(text)
    standard = _standard(text)
    assert isinstance(standard, str), "the standard path accepts this text"
    assert fast == "fallback" or fast == standard


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xy1.e+-*/^@()[],;:=#\n\r\t aT_", max_size=24))
def test_random_text_tokens_or_fallback(text: str) -> None:
    """On any text the fast tokens are Lark's plain lexer's (with newlines in parentheses dropped), or the
    fast path gives up; and where Lark's standard path reads the text, the fast path builds the same."""
    lark, _builder, fast = P._parser()
    try:
        mine = _attributes(fast.tokens(text))
    except P.Fallback:
        mine = None
    try:
        theirs = _attributes(lark.lex(text))
    except UnexpectedInput:
        theirs = None
    assert mine is None or mine == theirs
    standard, result = _standard(text), _fast(text)
    if not isinstance(standard, str):
        assert _summary(result) == _summary(standard)
    else:
        assert result == "fallback" or result == standard
    _direct_alike(text)


@settings(max_examples=100, deadline=None)
@given(formulas())
def test_generated_formulas_parse_alike(formula: Any) -> None:
    assert _summary(_fast(formula.text)) == _summary(_standard(formula.text))
    _direct_alike(formula.text, must_read="=" not in formula.text)


@pytest.mark.parametrize(
    "text", ["foo(x)", "x + 1e400", "y = x\ny = 2\ny", "y + 1\ny = x", "(x + 1", "x +* 2", "X: [n]; X: [m]\nsum(X)"]
)
def test_errors_are_not_chained_to_the_path_that_gave_up(text: str) -> None:
    """Regression (review): the fast path's fallback ran inside its `except` clause, so every error carried the
    abandoned attempt's exception (printed first, 'During handling of the above exception...') and its frames."""
    with pytest.raises(symgraph.SymgraphError) as info:
        symgraph.compile(text)
    error = info.value
    assert error.__context__ is None or error.__suppress_context__
    assert error.__cause__ is None
