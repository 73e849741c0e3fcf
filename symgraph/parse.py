"""Text -> Program: the grammar file, Lark's LALR parser, and a tree-less transformer that builds the graph.

The transformer's callbacks run as the parser reduces, so no parse tree is built and nothing recurses over
the input's nesting. Names are resolved as they appear: a name bound by an earlier statement is that node, a
constant name is the constant, anything else is an input (in order of first appearance). Every failure,
Lark's included, leaves this module as a SymgraphError that points at the line and column.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from .errors import BindingError, LimitError, ParseError, SymgraphError, did_you_mean
from .ir import Graph, Program
from .ops import CONSTANTS, FUNCTIONS, OPS

MAX_INPUT_CHARS = 10_000_000  # documented limit; a 1 MB formula compiles in seconds

# Characters people paste from papers, with what to type instead.
LOOKALIKES = {
    "\u00d7": "*",
    "\u22c5": "*",
    "\u00b7": "*",
    "\u2217": "*",
    "\u00f7": "/",
    "\u2215": "/",
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u03c0": "pi",
}

# What the parser expected, in words.
_TERMINAL_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "LPAR": "'('",
    "RPAR": "')'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "CIRCUMFLEX": "'^'",
    "COMMA": "','",
    "EQUAL": "'='",
    "_SEP": "';' or a newline",
    "$END": "the end of the input",
}
_OPERAND_START = {"NUMBER", "NAME", "LPAR", "MINUS", "PLUS"}


@functools.cache
def grammar_text() -> str:
    """The grammar: packaged copy inside the wheel first, the source tree's grammar/ second."""
    try:
        return resources.files("symgraph").joinpath("grammar/symgraph.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        return (Path(__file__).resolve().parent.parent / "grammar" / "symgraph.lark").read_text(encoding="utf-8")


class _State:
    """What one parse has seen so far."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.graph = Graph()
        self.inputs: dict[str, int] = {}
        self.bound: dict[str, int] = {}  # statement name -> node
        self.names: dict[int, str] = {}  # node -> first statement name that bound it
        self.used: dict[str, Token] = {}  # input names as first used, for "bound after use"
        self.statements: list[tuple[str | None, Any, Token | None]] = []


def _at(tok: Token | None) -> dict[str, Any]:
    if tok is None or tok.line is None:
        return {}
    return {"line": tok.line, "column": tok.column}


class _Builder(Transformer):
    """Callbacks for the LALR parser: each rule's children -> a graph node id."""

    def __init__(self) -> None:
        super().__init__()
        self.state: _State | None = None

    @property
    def s(self) -> _State:
        assert self.state is not None
        return self.state

    def number(self, c: list[Token]) -> int:
        return self.s.graph.const(float(c[0]))

    def name(self, c: list[Token]) -> int:
        tok = c[0]
        s = self.s
        text = str(tok)
        if text in s.bound:
            return s.bound[text]
        if text in CONSTANTS:
            return s.graph.const(CONSTANTS[text])
        if text in FUNCTIONS:
            raise ParseError(f"'{text}' is a function: call it as {text}(...)", text=s.text, **_at(tok))
        if text not in s.inputs:
            s.inputs[text] = s.graph.var(text)
            s.used[text] = tok
        return s.inputs[text]

    def call(self, c: list[Any]) -> int:
        tok, args = c[0], c[1:]
        s = self.s
        fname = FUNCTIONS.get(str(tok))
        if fname is None:
            guess = did_you_mean(str(tok), sorted(FUNCTIONS))
            hint = f"did you mean {guess}?" if guess else "see the list of functions in the README"
            raise ParseError(f"unknown function '{tok}'", text=s.text, hint=hint, **_at(tok))
        arity = OPS[fname].arity
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise ParseError(f"{tok}() takes {arity} {plural}, got {len(args)}", text=s.text, **_at(tok))
        return s.graph.apply(fname, *args)

    def add(self, c: list[int]) -> int:
        return self.s.graph.add(c[0], c[1])

    def sub(self, c: list[int]) -> int:
        return self.s.graph.sub(c[0], c[1])

    def mul(self, c: list[int]) -> int:
        return self.s.graph.mul(c[0], c[1])

    def div(self, c: list[int]) -> int:
        return self.s.graph.div(c[0], c[1])

    def pow(self, c: list[int]) -> int:
        return self.s.graph.pow(c[0], c[1])

    def neg(self, c: list[int]) -> int:
        return self.s.graph.neg(c[0])

    def pos(self, c: list[int]) -> int:
        return c[0]

    def assign(self, c: list[Any]) -> None:
        tok, node = c
        s = self.s
        text = str(tok)
        problem = None
        if text in s.bound:
            problem = f"'{text}' is bound twice"
        elif text in s.inputs:
            first = s.used[text]
            problem = f"'{text}' is used (line {first.line}, column {first.column}) before this statement binds it"
        elif text in CONSTANTS:
            problem = f"'{text}' is a constant and cannot be bound"
        elif text in FUNCTIONS:
            problem = f"'{text}' is a function name and cannot be bound"
        if problem:
            raise BindingError(problem, text=s.text, hint="choose another name", **_at(tok))
        s.bound[text] = node
        if s.graph.nodes[node].op not in ("var", "const") and node not in s.names:
            s.names[node] = text
        s.statements.append((text, node, tok))

    def output(self, c: list[int]) -> None:
        self.s.statements.append((None, c[0], None))

    def outputs(self, c: list[int]) -> None:
        self.s.statements.append((None, tuple(c), None))

    def start(self, c: list[Any]) -> None:
        return None


_LOCK = threading.Lock()


@functools.cache
def _parser() -> tuple[Lark, _Builder]:
    builder = _Builder()
    return Lark(grammar_text(), parser="lalr", transformer=builder, propagate_positions=False), builder


def parse(text: str) -> Program:
    """Parse `text` into a Program; raise a SymgraphError that points into the text on bad input."""
    if not isinstance(text, str):
        raise SymgraphError(f"a formula is text (str), not {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise LimitError(f"the input has {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,}")
    if not text.strip():
        raise ParseError("the input is empty: write a formula such as (x+y)*z")
    lark, builder = _parser()
    with _LOCK:
        state = builder.state = _State(text)
        try:
            lark.parse(text)
        except UnexpectedInput as e:
            raise _syntax_error(text, e) from None
        except RecursionError:
            raise LimitError("the formula is nested too deeply to parse") from None
        finally:
            builder.state = None
    return _finish(state)


def _finish(s: _State) -> Program:
    """Check the statements as a whole and pick the output."""
    *body, last = s.statements
    for name, _node, _tok in body:
        if name is None:
            raise BindingError(
                "only the last statement may be a bare expression or a tuple; the others must bind a name",
                hint="write name = expression",
            )
    outputs = last[1] if isinstance(last[1], tuple) else (last[1],)
    return Program(s.graph, outputs, dict(s.inputs), dict(s.names), s.text)


def _syntax_error(text: str, e: UnexpectedInput) -> ParseError:
    """A friendly ParseError for a Lark failure: what was found, what was expected, where."""
    line, column = e.line, e.column
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if e.pos_in_stream is not None else "?"
        hint = None
        if ch in LOOKALIKES:
            hint = f"type {LOOKALIKES[ch]!r} instead"
        name = unicodedata.name(ch, f"U+{ord(ch):04X}")
        shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
        return ParseError(f"unexpected character {shown} ({name})", text=text, line=line, column=column, hint=hint)
    expected = set(getattr(e, "expected", None) or getattr(e, "accepts", None) or ())
    if isinstance(e, UnexpectedEOF):
        token_text, line, column = "the end of the input", *_end_position(text)
    else:
        tok = e.token  # type: ignore[attr-defined]
        token_text = "the end of the input" if tok.type == "$END" else f"'{tok}'"
        if tok.type == "$END":
            line, column = _end_position(text)
    hint = None
    if expected & _OPERAND_START and not expected & {"RPAR", "$END", "_SEP"}:
        message = f"expected an operand, found {token_text}"
        prev = _previous_token(text, line, column)
        if prev:
            message = f"expected an operand after '{prev}', found {token_text}"
    else:
        words = sorted({_terminal_words().get(t, t.lower()) for t in expected})
        message = f"unexpected {token_text}; expected {', '.join(words)}" if words else f"unexpected {token_text}"
        if token_text != "the end of the input" and token_text[1:2].isalnum() and not {"STAR"} - expected:
            hint = "there is no implicit multiplication: write 2*x, not 2x or 2 x"
    return ParseError(message, text=text, line=line, column=column, hint=hint)


@functools.cache
def _terminal_words() -> dict[str, str]:
    """Terminal name -> words for messages; punctuation spelled as written in the grammar."""
    words = {t.name: f"'{t.pattern.value}'" for t in _parser()[0].terminals if t.pattern.type == "str"}
    return {**words, **_TERMINAL_WORDS}


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def _previous_token(text: str, line: int, column: int) -> str | None:
    """The operator just before (line, column), for 'expected an operand after ...'."""
    row = text.split("\n")[line - 1][: column - 1].rstrip()
    if row.endswith("**"):
        return "**"
    return row[-1] if row and row[-1] in "+-*/^(,=" else None
