"""Text -> Program: the grammar file, Lark's LALR parser, and a tree-less transformer that builds the graph.

The transformer's callbacks run as the parser reduces, so no parse tree is built and nothing recurses over
the input's nesting. Names are resolved as they appear: a name bound by an earlier statement is that node, a
constant name is the constant, anything else is an input (in order of first appearance). Every failure,
Lark's included, leaves this module as a SymgraphError that points at the line and column.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from . import dims as D
from .arguments import AXIS_FORMS, Keyword, at, declared_dims, keyword_params
from .errors import ArgumentError, BindingError, LimitError, ParseError, ShapeError, SymgraphError
from .ir import Graph, Program
from .ops import CONSTANTS, FUNCTIONS, OPS
from .parse_fast import Fallback, FastPath
from .syntax_errors import syntax_error, unknown_function

# The documented limits. Every pass is linear, but what a character costs depends on the formula's shape:
# a comment costs nothing, a power with a variable exponent adds about eight nodes in the reverse pass and
# as many lines for CPython to compile. So the text is limited (1 MiB: any 1 MB formula is read) and so is
# the graph the text builds (200,000 nodes: a 100,000-term sum of distinct inputs fits). The worst shape
# at the limits compiles in about a minute (benchmarks/bench_pathological.py --at-limits).
MAX_INPUT_CHARS = 1 << 20
MAX_NODES = 200_000
_LOCK = threading.Lock()  # one parse at a time: the parser and its builder are shared


@functools.cache
def grammar_text() -> str:
    """The grammar: packaged copy inside the wheel first, the source tree's grammar/ second."""
    try:
        return resources.files("symgraph").joinpath("grammar/symgraph.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        return (Path(__file__).resolve().parent.parent / "grammar" / "symgraph.lark").read_text(encoding="utf-8")


class _State:
    """What one parse has seen so far."""

    def __init__(
        self, text: str, shapes: dict[str, D.Dims] | None = None, override: bool = False, exact: bool = True
    ) -> None:
        self.text = text
        self.graph = Graph(shapes, exact)
        self.given = dict(shapes or {})
        self.override = override  # `shapes` replace the text's declarations (the shapes of a failed call)
        self.declared: dict[str, Token | None] = dict.fromkeys(shapes or {})  # name -> its declaration
        self.last: Token | None = None  # the last name, number or call read: where a shape error points
        self.referenced: set[str] = set()  # input names the formula reads
        self.inputs: dict[str, int] = {}
        self.bound: dict[str, int] = {}  # statement name -> node
        self.names: dict[int, str] = {}  # node -> first statement name that bound it
        self.used: dict[str, Token] = {}  # input names as first used, for "bound after use"
        self.binders: dict[str, Token] = {}  # statement name -> the token that bound it
        self.statements: list[tuple[str | None, Any, Token | None]] = []


def _grown(node: int) -> int:
    """The id of a node just made or found; a LimitError once the graph passes MAX_NODES (ids count nodes)."""
    if node >= MAX_NODES:
        raise LimitError(
            f"the formula builds more than {MAX_NODES:,} graph nodes (MAX_NODES), the documented limit",
            hint="split the formula into smaller ones",
        )
    return node


class _Builder(Transformer):
    """Callbacks for the LALR parser: each rule's children -> a graph node id."""

    def __init__(self) -> None:
        super().__init__()
        self.s: _State = None  # type: ignore[assignment]  # set by parse() for each text, under its lock

    def number(self, c: list[Token]) -> int:
        self.s.last = c[0]
        value = float(c[0])
        if math.isinf(value):
            shown = c[0] if len(c[0]) <= 24 else c[0][:20] + "..."
            hint = "rescale the formula, or write inf as 1/0 if you mean it"
            message = f"the number {shown} is too large for a float (the largest is about 1.8e308)"
            raise ParseError(message, text=self.s.text, hint=hint, **at(c[0]))
        return _grown(self.s.graph.const(value))

    def name(self, c: list[Token]) -> int:
        tok = c[0]
        s = self.s
        s.last = tok
        text = str(tok)
        s.referenced.add(text)
        if text in s.bound:
            return s.bound[text]
        if text in CONSTANTS:
            return s.graph.const(CONSTANTS[text])
        if text in FUNCTIONS:
            raise ParseError(f"'{text}' is a function: call it as {text}(...)", text=s.text, **at(tok))
        if text not in s.inputs:
            s.inputs[text] = _grown(s.graph.var(text))
            s.used[text] = tok
        return s.inputs[text]

    def call(self, c: list[Any]) -> int:
        tok = c[0]
        args = [a for a in c[1:] if type(a) is int]
        keywords = [a for a in c[1:] if type(a) is Keyword]
        s = self.s
        s.last = tok
        fname = FUNCTIONS.get(str(tok))
        if fname is None:
            message, hint = unknown_function(str(tok), is_value=str(tok) in s.bound or str(tok) in s.inputs)
            raise ParseError(message, text=s.text, hint=hint, **at(tok))
        if fname in AXIS_FORMS and (keywords or (fname in ("max", "min") and len(args) == 1)):
            fname = AXIS_FORMS[fname]
        spec = OPS[fname]
        if len(args) != spec.arity:
            plural = "argument" if spec.arity == 1 else "arguments"
            raise ParseError(f"{tok}() takes {spec.arity} {plural}, got {len(args)}", text=s.text, **at(tok))
        params = keyword_params(s.text, tok, spec.keywords, keywords) if spec.keywords or keywords else ()
        try:
            return _grown(s.graph.apply(fname, *args, params=params))
        except D.DimsError as e:
            raise _shape_error(s, e, tok) from None

    def keyword(self, c: list[Token]) -> Keyword:
        if len(c) == 3:  # axis=-1: the sign and the number as one token
            return Keyword(c[0], Token("NUMBER", "-" + c[2], c[1].start_pos, c[1].line, c[1].column))
        return Keyword(c[0], c[1])

    def _infix(name: str) -> Callable[[_Builder, list[Any]], int]:  # type: ignore[misc]  # noqa: N805
        """An operator rule's callback: name(left, right), a shape error pointing at the operator."""
        return lambda self, c: self._binary(name, c[0], c[2], c[1])

    add, sub, mul, div, matmul = _infix("add"), _infix("sub"), _infix("mul"), _infix("div"), _infix("matmul")

    def attribute(self, c: list[Any]) -> int:
        node, tok = c
        s = self.s
        if str(tok) != "T":
            hint = f"write {'A' if str(tok) == 't' else 'x'}.T for the transpose; in a name use '_', as in x_{tok}"
            message = f"'.{tok}' is not part of the language; the one attribute is .T (the transpose)"
            raise ParseError(message, text=s.text, hint=hint, **at(tok))
        return _grown(s.graph.apply("transpose", node))

    def declare(self, c: list[Token]) -> None:
        tok, dims = c[0], c[1:]
        s = self.s
        text = str(tok)
        problem = None
        if text in s.declared and not s.override:
            twice = "twice" if s.declared[text] is not None else "in the text and in shapes="
            problem = f"'{text}' is declared {twice}"
        elif text in s.bound:
            problem = f"'{text}' is the name of a statement; a shape is declared for an input"
        elif text in s.inputs:
            problem = f"'{text}' is declared after its first use; declare a shape before the formula uses it"
        elif text in CONSTANTS or text in FUNCTIONS:
            problem = f"'{text}' is a {'constant' if text in CONSTANTS else 'function'} and has no shape to declare"
        if problem:
            raise ShapeError(problem, text=s.text, **at(tok))
        parsed = declared_dims(s.text, dims)
        if not s.override or text not in s.graph.declared:
            s.graph.declared[text] = tuple(parsed)
        s.declared[text] = tok  # the input is made at its first use: declaring never changes the input order
        s.statements.append((text, None, tok))

    def pow(self, c: list[int]) -> int:
        return self._binary("pow", c[0], c[1], self.s.last)

    def _binary(self, name: str, a: int, b: int, where: Token | None) -> int:
        """name(a, b) (checked by _grown); where the declared shapes do not combine, a ShapeError at the operator."""
        try:
            node = self.s.graph.apply(name, a, b)
        except D.DimsError as e:
            raise _shape_error(self.s, e, where) from None
        return node if node < MAX_NODES else _grown(node)

    def neg(self, c: list[int]) -> int:
        return _grown(self.s.graph.neg(c[0]))

    def pos(self, c: list[int]) -> int:
        return c[0]

    def assign(self, c: list[Any]) -> None:
        tok, node = c
        s = self.s
        text = str(tok)
        problem = hint = None
        if text in s.bound:
            first = s.binders[text]
            problem = f"'{text}' is bound twice; it was first bound at line {first.line}, column {first.column}"
            hint = "a name is bound once: give the second one another name"
        elif text in s.inputs:
            first = s.used[text]
            problem = f"'{text}' is used (line {first.line}, column {first.column}) before this statement binds it"
            hint = f"bind '{text}' before its first use, or give the statement another name"
        elif text in CONSTANTS or text in FUNCTIONS:
            problem = f"'{text}' is a {'constant' if text in CONSTANTS else 'function name'} and cannot be bound"
            hint = f"choose another name, such as {text}_"
        if problem:
            raise BindingError(problem, text=s.text, hint=hint, **at(tok))
        s.bound[text] = node
        s.binders[text] = tok
        if s.graph.nodes[node].op not in ("var", "const") and node not in s.names:
            s.names[node] = text
        s.statements.append((text, node, tok))

    def output(self, c: list[int]) -> None:
        self.s.statements.append((None, c[0], None))

    def outputs(self, c: list[int]) -> None:
        self.s.statements.append((None, tuple(c), None))


def _shape_error(s: _State, e: D.DimsError, tok: Token | None) -> ShapeError:
    declared = ", ".join(f"{n}: {D.show(d)}" for n, d in s.graph.declared.items())
    hint = f"the declared shapes are {declared}; dimensions of different names (or a name and a number other than 1)"
    hint += " are taken to differ: give sizes that are equal one name"
    return ShapeError(str(e), text=s.text, hint=hint, **at(tok))


class _JoinLines:
    """Postlexer: a newline inside parentheses continues the statement instead of ending it (as in Python)."""

    always_accept = ("_SEP",)  # the contextual lexer must hand every newline to process()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        for tok in stream:
            if tok.type == "LPAR":
                depth += 1
            elif tok.type == "RPAR" and depth:
                depth -= 1
            elif depth and tok.type == "_SEP" and tok == "\n":
                continue
            yield tok


@functools.cache
def _parser() -> tuple[Lark, _Builder, FastPath]:
    builder = _Builder()
    lark = Lark(grammar_text(), parser="lalr", transformer=builder, postlex=_JoinLines(), propagate_positions=False)
    return lark, builder, FastPath(lark, builder)


def parse(text: str, shapes: dict[str, D.Dims] | None = None, override: bool = False, exact: bool = True) -> Program:
    """Parse `text` into a Program; raise a SymgraphError that points into the text on bad input.
    `shapes` declares input shapes as the text's `X: [n, 64]` statements do (`override`: in their place);
    `exact=False` allows the rewrites that may change the last bit (simplify.py)."""
    if not isinstance(text, str):
        raise SymgraphError(f"a formula is text (str), not {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise LimitError(
            f"the input has {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,} (MAX_INPUT_CHARS)",
            hint="split the formula into smaller ones",
        )
    if not text.strip():
        what = "empty" if not text else "only whitespace"
        raise ParseError(f"the input is {what}: write a formula such as (x+y)*z")
    lark, builder, scanner = _parser()
    with _LOCK:
        state = builder.s = _State(text, shapes, override, exact)
        try:
            # Each path that gives up leaves nothing behind: a fresh state, and the next path runs outside the
            # `except` clause, so the error it may raise is not chained to the one given up on.
            if not _read(scanner.direct, text):  # what it cannot read, errors included: read again, with positions
                state = builder.s = _State(text, shapes, override, exact)
                if not _read(scanner.parse, text, Fallback):  # Lark's own lexer and callbacks: every syntax error
                    state = builder.s = _State(text, shapes, override, exact)
                    syntax = None
                    try:
                        lark.parse(text)
                    except UnexpectedInput as e:
                        syntax = e
                    if syntax is not None:
                        raise syntax_error(lark.lex(text), text, syntax)
        except RecursionError:  # not expected (nothing here recurses), but never let one escape
            raise LimitError("the formula is nested too deeply to parse") from None
        finally:
            builder.s = None  # type: ignore[assignment]
    return _finish(lark, state)


def _read(path: Callable[[str], Any], text: str, gives_up: type[Exception] = Exception) -> bool:
    """True when `path` read the text; False when it gave up (raised `gives_up`; a LimitError, which has no
    position to add, goes on as the other paths would raise it)."""
    try:
        path(text)
    except LimitError:
        raise
    except gives_up:  # noqa: BLE001 - the direct path gives up on anything, errors included
        return False
    return True


def _finish(lark: Lark, s: _State) -> Program:
    """Check the statements as a whole and pick the output."""
    *body, last = s.statements
    for index, (name, _node, _tok) in enumerate(body):
        if name is None:
            tokens = list(lark.lex(s.text))  # the statement's first token: the index-th after a separator
            starts = [t for k, t in enumerate(tokens) if t.type != "_SEP" and (k == 0 or tokens[k - 1].type == "_SEP")]
            line, column = (starts[index].line or 1, starts[index].column or 1) if index < len(starts) else (1, 1)
            raise BindingError(
                "only the last statement may be a bare expression; the others must bind a name",
                text=s.text,
                line=line,
                column=column,
                hint="write name = expression, or delete the statement",
            )
    if last[1] is None:
        raise BindingError("the last statement declares a shape; a formula ends with an expression", text=s.text)
    for name, tok in s.declared.items():
        if name in s.referenced or s.override:
            continue
        if tok is None:
            known = ", ".join(s.inputs) or "none"
            raise ArgumentError(f"shapes= names {name!r}, which is not an input of the formula (its inputs: {known})")
        raise BindingError(f"'{name}' has a declared shape but the formula never uses it", text=s.text, **at(tok))
    outputs = last[1] if isinstance(last[1], tuple) else (last[1],)
    s.graph.named = dict(s.names)
    return Program(s.graph, outputs, dict(s.inputs), dict(s.names), s.text, {} if s.override else dict(s.given))
