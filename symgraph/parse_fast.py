"""The parser's fast paths: the text split by one regular expression into the tokens Lark's lexer gives, fed to
Lark's own LALR parse table with the hot rules' callbacks unwrapped.

parse.py runs the direct path first (FastPath.direct: the tokens as plain strings, fed to a driver of its own),
then, where that gives up, FastPath.parse (Lark's Tokens, with every position, and Lark's driver); where that
gives up too (Fallback), it reads the text the standard way (Lark's lexer and callbacks), the path every syntax
error is reported from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState


class Fallback(Exception):
    """The fast path cannot read this text: parse() reads it again the standard way, which reports the error."""


# The fast path's tokens: the grammar's terminals, blanks absorbed in front; alternatives that can start alike
# in the order Lark's lexer tries them (NUMBER before '.', '**' before '*'); C and R are ignored ('#...', '\r\n').
_TOKENS = re.compile(
    r"[ \t\f]*(?:(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)|(?P<NUMBER>([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)"
    r"|(?P<_STARSTAR>\*\*)|(?P<ONE>[-+*/@;\n,=:\[\]()^.])|(?P<C>#[^\r\n]*)|(?P<R>\r(?=\n)))"
)
_ONE = dict(zip("-+*/@;\n,=:[]", "MINUS PLUS STAR SLASH AT _SEP _SEP COMMA EQUAL COLON LSQB RSQB".split()))
_ONE.update({"(": "LPAR", ")": "RPAR", "^": "CIRCUMFLEX", ".": "DOT"})
# The direct path's words: _TOKENS' alternatives in its order, without blanks (counted apart), comments, '\r', and
# the declarations' ':' '[' ']' (what the direct path leaves to the others).
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|\*\*|[-+*/@;\n,=()^.]")
_KINDS = {word: kind for word, kind in _ONE.items() if word not in ":[]"} | {"**": "_STARSTAR", "": "$END"}
_new_token = getattr(Token, "_future_new", Token)  # Token(...) without its keyword-argument shim: half the cost


class _Rule:
    """A grammar rule as Lark's LALR driver reads it in a reduce action (its origin and its length), compared
    and hashed by identity: Lark's Rule does both in Python, and the driver does both for every reduction."""

    __slots__ = ("origin", "expansion")

    def __init__(self, origin: Any, expansion: tuple[Any, ...]) -> None:
        self.origin, self.expansion = origin, expansion


class FastPath:
    """The fast path: the text split by _TOKENS into the tokens Lark's lexer gives (types, values, positions),
    fed to Lark's LALR parser with the hot rules' callbacks unwrapped: the same builder methods (parse._Builder)
    run in the same order. Lark's contextual lexer tries, in each state, the terminals that state accepts in
    _TOKENS' order: where the token found here is accepted it finds the same one, and where not the parser stops
    at once (Fallback). The parse table is Lark's, with each reduce action's rule in a lighter record (_Rule)."""

    def __init__(self, lark: Lark, builder: Any) -> None:
        parser = lark.parser.parser.parser  # type: ignore[attr-defined]
        table = parser.parse_table
        reduce = {}  # Lark's rule -> the same rule without Python-level __eq__ and __hash__ (one per reduction)
        self.callbacks = {}
        chains = set()
        for rule, callback in parser.callbacks.items():
            rule.origin.name = name = str(rule.origin.name)
            fast = _FAST.get((name, tuple(s.name for s in rule.expansion)))
            reduce[rule] = _Rule(rule.origin, tuple(rule.expansion))
            if fast is not None:
                callback = fast(builder)
            elif rule.options.expand1 and rule.alias is None and len(rule.expansion) == 1:
                callback = itemgetter(0)  # a chain rule (sum: product): its one child
                chains.add(reduce[rule])
            self.callbacks[reduce[rule]] = callback
        states = {  # str keys: no Token.__eq__ per lookup
            state: {str(key): (action, reduce.get(arg, arg)) for key, (action, arg) in row.items()}  # type: ignore[call-overload]
            for state, row in table.states.items()
        }
        self.table = type(table)(states, table.start_states, table.end_states)
        # The direct path's table: state -> {token or rule name: the state shifted to, or the rule reduced as
        # (length, callback, rule name), with callback None for a chain rule, whose value is its child's}.
        reduced = {
            rule: (len(rule.expansion), None if rule in chains else f, rule.origin.name)
            for rule, f in self.callbacks.items()
        }
        self.rows = {
            state: {key: arg if action is Shift else reduced[arg] for key, (action, arg) in row.items()}
            for state, row in states.items()
        }
        self.start, self.end = table.start_states["start"], table.end_states["start"]

    def tokens(self, text: str) -> list[Token]:
        """The tokens the parser sees (a newline inside parentheses dropped, as _JoinLines drops it)."""
        out: list[Token] = []
        pos, line, line_start, depth = 0, 1, 0, 0
        for m in _TOKENS.finditer(text):
            if m.start() != pos:  # a character that starts no token
                raise Fallback
            kind, pos = m.lastgroup or "", m.end()
            if kind == "C" or kind == "R":
                continue
            value = m.group(kind)
            start = pos - len(value)
            if kind == "ONE":
                kind = _ONE[value]
                if value == "\n":
                    if not depth:
                        out.append(_new_token(kind, value, start, line, start - line_start + 1, line + 1, 1, pos))
                    line, line_start = line + 1, pos
                    continue
                if kind == "LPAR" or (kind == "RPAR" and depth):
                    depth += 1 if kind == "LPAR" else -1
            column = start - line_start + 1
            out.append(_new_token(kind, value, start, line, column, line, column + len(value), pos))
        if text[pos:].strip(" \t\f"):
            raise Fallback
        return out

    def direct(self, text: str) -> None:
        """Parse `text` as FastPath.parse does, faster: the tokens are plain strings (no positions: an error, a
        declaration or a keyword argument is Fallback, and the other paths read the text again) and the driver is
        Lark's, inlined, a chain rule's reduction (sum: product) one step. The callbacks see the same values, but
        strings where they would see Lark's Tokens, and are called in the same order."""
        words = _WORDS.findall(text)
        if sum(map(len, words)) != len(text) - text.count(" ") - text.count("\t") - text.count("\f"):
            raise Fallback  # a character no word holds: a comment, '\r', a declaration's, or one of no token
        rows, kinds, end = self.rows, _KINDS, self.end
        stack, values, depth = [self.start], [], 0
        words.append("")  # the end of the text
        for word in words:
            kind = kinds.get(word) or ("NAME" if word[0].isalpha() or word[0] == "_" else "NUMBER")
            if kind == "LPAR":
                depth += 1
            elif kind == "RPAR" and depth:
                depth -= 1
            elif depth and (kind == "EQUAL" or word == "\n"):
                if kind == "EQUAL":
                    raise Fallback  # a keyword argument
                continue  # a newline inside parentheses does not end the statement
            while True:
                action = rows[stack[-1]].get(kind)
                if action is None:
                    raise Fallback
                if type(action) is int:
                    stack.append(action)
                    values.append(word)
                    break
                size, callback, name = action
                if callback is None:  # a chain rule: its child is its value
                    stack[-1] = rows[stack[-2]][name]
                else:
                    children = values[-size:] if size else []
                    if size:
                        del stack[-size:], values[-size:]
                    values.append(callback(children))
                    stack.append(rows[stack[-1]][name])
                if stack[-1] == end and not word:
                    return
        raise Fallback

    def parse(self, text: str) -> None:
        """Lark's LALR parser over the tokens with the fast callbacks; Fallback on any parse failure."""
        tokens = self.tokens(text)
        feed = ParserState(ParseConf(self.table, self.callbacks, "start"), None).feed_token  # type: ignore[arg-type]
        try:
            for tok in tokens:
                feed(tok)
            feed(Token.new_borrow_pos("$END", "", tokens[-1]) if tokens else Token("$END", "", 0, 1, 1), True)
        except UnexpectedInput:
            raise Fallback from None


# The hot rules' wrappers, as what they amount to: `( expr )` hands on its middle child, and the operator rules
# call the builder without the operator token (Lark's filter drops it).
_FAST: dict[tuple[str, tuple[str, ...]], Callable[[Any], Callable[[list[Any]], Any]]] = {
    ("atom", ("LPAR", "expr", "RPAR")): lambda _: itemgetter(1),
    ("factor", ("PLUS", "factor")): lambda _: itemgetter(1),
    ("factor", ("MINUS", "factor")): lambda b: lambda c: b.neg(c[1:]),
    ("power", ("atom", "CIRCUMFLEX", "factor")): lambda b: lambda c: b.pow(c[::2]),
    ("power", ("atom", "_STARSTAR", "factor")): lambda b: lambda c: b.pow(c[::2]),
}
