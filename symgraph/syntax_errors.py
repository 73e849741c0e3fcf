"""Lark's parse failures -> ParseError messages a person can act on.

Lark reports the token it could not use and the terminals it would have accepted. That is rarely what the
person needs to hear, so the failure is classified by a short list of rules (a missing operator, a call
without parentheses, an unclosed or unmatched parenthesis, a missing operand, a stray '=' or ','), each with
its own message and hint. The rules need the token before the failure and the open parentheses there: the
text is lexed again up to the failure, which happens only on this error path and is linear.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from .errors import ParseError
from .ops import FUNCTIONS
from .syntax_hints import python_number
from .syntax_hints import unknown_function as unknown_function  # for parse.py's calls of unknown functions

# Characters people paste from papers and word processors, with what to type instead.
LOOKALIKES = {
    "\u00d7": "*",  # MULTIPLICATION SIGN
    "\u22c5": "*",  # DOT OPERATOR
    "\u00b7": "*",  # MIDDLE DOT
    "\u2217": "*",  # ASTERISK OPERATOR
    "\u00f7": "/",  # DIVISION SIGN
    "\u2215": "/",  # DIVISION SLASH
    "\u2212": "-",  # MINUS SIGN
    "\u2013": "-",  # EN DASH
    "\u2014": "-",  # EM DASH
    "\u00b2": "^2",  # SUPERSCRIPT TWO
    "\u00b3": "^3",  # SUPERSCRIPT THREE
    "\u03c0": "pi",  # GREEK SMALL LETTER PI
    "\u00a0": " ",  # NO-BREAK SPACE
    "\u2009": " ",  # THIN SPACE
    "\u200b": "",  # ZERO WIDTH SPACE
    "\ufeff": "",  # BYTE ORDER MARK (read files with encoding="utf-8-sig")
    "\uff08": "(",  # FULLWIDTH LEFT PARENTHESIS
    "\uff09": ")",  # FULLWIDTH RIGHT PARENTHESIS
}

_OPERAND = {"NAME", "NUMBER", "LPAR"}  # terminals that can start an operand (besides unary + and -)
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "CIRCUMFLEX", "_STARSTAR", "AT"}
_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "RSQB": "']'",
    "COLON": "':'",
    "EQUAL": "'='",
    "_SEP": "';' or a new line",
    "$END": "the end of the input",
}
_NO_IMPLICIT = "there is no implicit multiplication"


@dataclass
class _Failure:
    """Where parsing stopped: the token found (None at the end), the one before, the open parentheses."""

    text: str
    found: Token | None
    prev: Token | None
    opens: list[Token]
    closed_from: int  # where the operand that the last ')' before the failure closes starts
    expected: set[str]
    line: int
    column: int

    def error(self, message: str, hint: str | None = None) -> ParseError:
        return ParseError(message, text=self.text, line=self.line, column=self.column, hint=hint)

    @property
    def found_words(self) -> str:
        return describe(self.found)

    @property
    def found_type(self) -> str:
        return "$END" if self.found is None else self.found.type


def _start(tok: Token) -> int:
    """Lark types token positions as optional; the lexer always sets them."""
    return tok.start_pos or 0


def _end(tok: Token) -> int:
    return tok.end_pos or 0


def describe(tok: Token | None) -> str:
    """A token in words: 'x', ';', the end of the line, the end of the input."""
    if tok is None or tok.type == "$END":
        return "the end of the input"
    if tok.type == "_SEP" and tok != ";":
        return "the end of the line"
    return f"'{tok}'"


def syntax_error(tokens: Iterable[Token], text: str, e: UnexpectedInput) -> ParseError:
    """The ParseError for Lark's failure `e` on `text`; `tokens` lexes `text` as the parser saw it."""
    if isinstance(e, UnexpectedCharacters):
        return _bad_character(text, e)
    found = None if isinstance(e, UnexpectedEOF) or e.token.type == "$END" else e.token  # type: ignore[attr-defined]
    tokens = _lexed(tokens)
    if found is not None:  # the parser's lexer split a token the plain lexer reads whole ('1.2' '.' '3' of 1.2.3)
        found = next((t for t in tokens if _start(t) < _start(found) < _end(t)), found)
    stop = len(text) if found is None else _start(found)
    prev, opens, closed_from = _before(tokens, stop)
    at_line_end = found is None or (found.type == "_SEP" and found == "\n")
    if prev is not None and at_line_end:  # just after the last token, not after the spaces or a '\r'
        line, column = prev.end_line or 1, prev.end_column or 1
    elif found is not None:
        line, column = found.line or 1, found.column or 1
    else:
        line, column = 1, 1
    expected = set(getattr(e, "expected", None) or ())
    f = _Failure(text, found, prev, opens, closed_from, expected, line, column)
    rules = (_python_number, _call_without_parentheses, _unclosed, _missing_operator, _unmatched, _stray)
    for rule in (*rules, _missing_operand):
        err = rule(f)
        if err is not None:
            return err
    found = f.found_words.replace("the end", "end", 1) if f.found_words.startswith("the end") else f.found_words
    return f.error(f"unexpected {found}; expected {_expected_words(expected)}")


def _lexed(tokens: Iterable[Token]) -> list[Token]:
    """The tokens the plain lexer reads, up to a character it cannot read."""
    out: list[Token] = []
    try:
        for tok in tokens:
            out.append(tok)
    except UnexpectedInput:
        pass
    return out


def _before(tokens: Iterable[Token], stop: int) -> tuple[Token | None, list[Token], int]:
    """The last token before `stop`, the '(' tokens still open there, and where the operand that the last
    ')' closed starts (at the function's name for a call)."""
    prev: Token | None = None
    opens: list[Token] = []
    starts: list[int] = []
    closed_from = 0
    for tok in tokens:
        if _start(tok) >= stop:
            break
        if tok.type == "LPAR":
            opens.append(tok)
            starts.append(_start(prev) if prev is not None and prev.type == "NAME" else _start(tok))
        elif tok.type == "RPAR" and opens:
            opens.pop()
            closed_from = starts.pop()
        prev = tok
    return prev, opens, closed_from


def _bad_character(text: str, e: UnexpectedCharacters) -> ParseError:
    """A character outside the language: name it, and say what to type when we can guess."""
    ch = text[e.pos_in_stream or 0]
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    hint = None
    if ch in LOOKALIKES:
        replacement = LOOKALIKES[ch]
        hint = f"type {replacement!r} instead" if replacement else "delete it (it is invisible)"
    elif name.startswith("GREEK SMALL LETTER ") or name.startswith("GREEK CAPITAL LETTER "):
        word = name.rsplit(" ", 1)[1].lower()
        hint = f"names are ASCII: spell it {word if 'SMALL' in name else word.capitalize()}"
    elif ch in "'\"":
        hint = "there are no strings in a formula"
    elif ch == ".":
        hint = "names cannot contain '.': use '_', as in m_0"
    if ch == "\r":  # the grammar ignores a '\r' only before a '\n'
        return ParseError(
            "a carriage return (U+000D) that is not followed by a line feed cannot appear in a formula",
            text=text,
            line=e.line,
            column=e.column,
            hint="a lone '\\r' is not a line break here: end lines with '\\n' or '\\r\\n'",
        )
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in LOOKALIKES:
        what = "a NUL byte (U+0000)" if ch == "\0" else f"the control character {code}"
        return ParseError(
            f"{what} cannot appear in a formula",
            text=text,
            line=e.line,
            column=e.column,
            hint="a formula is plain text: remove it",
        )
    shown = f"{ch!r} ({name or code})"
    return ParseError(f"unexpected character {shown}", text=text, line=e.line, column=e.column, hint=hint)


def _operand_text(f: _Failure) -> str:
    """The operand the found token starts, as written when short: x, 2, sin(x), (x+1); else sin(...)."""
    assert f.found is not None
    if f.found.type == "LPAR":
        return _short(f.text, _start(f.found), _closing(f.text, _start(f.found)), "(...)")
    if f.found.type == "NAME" and str(f.found) in FUNCTIONS:
        paren = f.text.find("(", _end(f.found), _end(f.found) + 8)
        end = _closing(f.text, paren) if paren >= 0 else None
        return _short(f.text, _start(f.found), end, f"{f.found}(...)")
    return str(f.found)


def _left_text(f: _Failure) -> str:
    """The operand that ends with the token before the failure, as written when short."""
    assert f.prev is not None
    if f.prev.type != "RPAR":
        return str(f.prev)
    return _short(f.text, f.closed_from, _end(f.prev), "(...)")


def _closing(text: str, pos: int, limit: int = 40) -> int | None:
    """The end of the parenthesised group opening at `pos`, if it closes within `limit` characters."""
    depth = 0
    for i in range(pos, min(len(text), pos + limit)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    return None


def _short(text: str, start: int, end: int | None, fallback: str) -> str:
    """text[start:end] if it is short and on one line, else the fallback."""
    if end is None or end - start > 40 or "\n" in text[start:end]:
        return fallback
    return text[start:end]


def _python_number(f: _Failure) -> ParseError | None:
    """`0x10`, `1_000`, `1j`: a Python number literal, which the lexer splits into a number and a name."""
    if f.prev is None or f.prev.type != "NUMBER" or f.found is None or f.found_type != "NAME":
        return None
    if _end(f.prev) != _start(f.found):
        return None
    found = python_number(f.text, _start(f.prev), _end(f.found))
    if found is None:
        return None
    message, hint = found
    return ParseError(message, text=f.text, line=f.prev.line, column=f.prev.column, hint=hint)


def _call_without_parentheses(f: _Failure) -> ParseError | None:
    """`sin x`: a function name followed by an operand."""
    if f.prev is None or f.prev.type != "NAME" or str(f.prev) not in FUNCTIONS or f.found_type not in _OPERAND:
        return None
    if f.found_type == "LPAR":
        return None
    return f.error(
        f"the function '{f.prev}' needs parentheses around its argument",
        hint=f"write {f.prev}({_operand_text(f)})",
    )


def _missing_operator(f: _Failure) -> ParseError | None:
    """Two operands side by side (`2x`, `x y`, `2(x+1)`, `(a)(b)`): implicit multiplication, or a typo."""
    if f.found is None or f.found_type not in _OPERAND or f.found_type in f.expected:
        return None
    if f.prev is None or f.prev.type not in ("NAME", "NUMBER", "RPAR"):
        return None
    left = _left_text(f)
    right = _operand_text(f)
    touching = _end(f.prev) == _start(f.found)
    if f.prev.type == "NUMBER" and touching and f.found_type == "NAME" and f.found[0] in "eE":
        return f.error(
            f"the number '{f.prev}{f.found}' has an exponent without digits",
            hint=f"write the exponent's digits, as in 1e3; to multiply by the constant e, write {f.prev}*e",
        )
    if f.prev.type == "NUMBER" and touching and f.found_type == "NUMBER" and f.found.startswith("."):
        return f.error(f"'{f.prev}{f.found}' is not a number: a number has at most one '.'")
    if f.found_type == "NAME" and _assignment_follows(f.text, _end(f.found)):
        return f.error(
            f"a new statement '{f.found} = ...' must start on a new line or after ';'",
            hint=f"write ...; {f.found} = ...",
        )
    return f.error(
        f"missing operator between '{left}' and '{right}'",
        hint=f"{_NO_IMPLICIT}: write {left}*{right}",
    )


def _assignment_follows(text: str, pos: int) -> bool:
    """True when the next non-blank characters after `pos` are '=' but not '=='."""
    rest = text[pos : pos + 64].lstrip(" \t")
    return rest.startswith("=") and not rest.startswith("==")


def _unclosed(f: _Failure) -> ParseError | None:
    """The text or the statement ends while a '(' is open; or, since a newline inside parentheses does not
    end the statement, the next line starts a new one while a '(' that never closes is open."""
    if not f.opens:
        return None
    at_end = f.found_type in ("$END", "_SEP") and "RPAR" in f.expected
    next_line = (
        f.found is not None
        and f.prev is not None
        and "\n" in f.text[_end(f.prev) : _start(f.found)]
        and _closing(f.text, _start(f.opens[-1]), len(f.text)) is None
    )
    if not (at_end or next_line):
        return None
    o = f.opens[-1]
    expected = f": expected ')' before {f.found_words}" if at_end else ""
    return f.error(f"the '(' at line {o.line}, column {o.column} is not closed{expected}", hint="add the missing ')'")


def _unmatched(f: _Failure) -> ParseError | None:
    """A ')' with no '(' to close."""
    if f.found_type != "RPAR" or f.opens:
        return None
    return f.error("')' has no matching '('", hint="remove it, or add the '(' it closes")


def _stray(f: _Failure) -> ParseError | None:
    """'=' or ',' where they cannot stand."""
    if f.found_type == "EQUAL" and "EQUAL" not in f.expected:
        if f.prev is not None and f.prev.type == "EQUAL":
            return f.error("'==' is not an operator: there are no comparisons", hint="'=' binds a name: y = x + 1")
        return f.error(
            "'=' can only follow the name at the start of a statement",
            hint="write name = expression; there are no comparisons",
        )
    if f.found_type == "COMMA" and "COMMA" not in f.expected:
        after = f.text[_end(f.found) : _end(f.found) + 1] if f.found is not None else ""
        decimal = f.prev is not None and f.prev.type == "NUMBER" and after.isdigit()
        return f.error(
            "',' can only separate a function's arguments, or outputs in parentheses: (a, b)",
            hint="decimals are written with '.', as in 2.5" if decimal else None,
        )
    return None


def _missing_operand(f: _Failure) -> ParseError | None:
    """An operator, '(' , ',' or '=' followed by something that cannot start an operand."""
    if not f.expected & _OPERAND:
        return None
    hint = None
    if f.found_type == "_SEP" and f.found != ";":
        hint = "a line break ends the statement; inside parentheses a formula may continue on the next line"
    at_start = f.prev is None or f.prev.type == "_SEP"
    if at_start:
        return f.error(f"expected an expression, found {f.found_words}", hint=hint)
    return f.error(f"expected an operand after '{f.prev}', found {f.found_words}", hint=hint)


def _expected_words(expected: set[str]) -> str:
    """Lark's terminal names in words, operators collapsed into 'an operator', joined with 'or'."""
    words = []
    if expected & _OPERATORS:
        words.append("an operator")
    words += [_WORDS[t] for t in _WORDS if t in expected]
    if not words:
        return "nothing more"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
