"""Messages for Python habits the language does not share: number literals it has no syntax for, and calls
of Python's builtins.

`0x10`, `1_000` and `1j` are numbers in Python. The lexer reads them as a number followed by a name (`0` and
`x10`), and the generic rule would then suggest an implicit multiplication (`0*x10`), which is never what the
person meant. `python_number` recognises them from the text and says what to write instead. `unknown_function`
is the message for a call of a name that is not a function; `eval(x)` and `open(x)` are Python builtins,
so for them it says so and never suggests multiplying.
"""

from __future__ import annotations

import builtins
import re

from .errors import did_you_mean
from .ops import FUNCTIONS

# The language's NUMBER terminal (grammar/symgraph.lark), to check that a suggested replacement is one.
_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_PREFIXED = re.compile(r"0(?:[xX][0-9a-fA-F_]+|[bB][01_]+|[oO][0-7_]+)")
_SEPARATED = re.compile(r"(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9][0-9_]*)?")
_BASES = {"x": "hexadecimal", "b": "binary", "o": "octal"}

# Names a formula might call hoping to reach Python: builtins, and the usual ways to reach the system.
PYTHON_NAMES = frozenset(n for n in dir(builtins) if not n[:1].isupper()) | {
    "import",
    "lambda",
    "os",
    "sys",
    "system",
    "subprocess",
    "popen",
}


def python_number(text: str, start: int, end: int) -> tuple[str, str] | None:
    """(message, hint) when text[start:end], a number and the name touching it, is a Python number literal
    (hexadecimal, binary or octal, with '_' between digits, or complex); None when it is not one."""
    prefixed = _PREFIXED.match(text, start)
    if prefixed and prefixed.end() == end:
        literal = prefixed.group()
        base = _BASES[literal[1].lower()]
        try:
            value = str(int(literal, 0))
        except ValueError:
            return f"'{literal}' is a {base} number, which the language does not have", "write it in decimal"
        return (
            f"{base} numbers such as '{literal}' are not supported",
            f"write it in decimal: {_rewritten(text, start, end, value)}",
        )
    word = text[start:end]
    if word[-1:] in ("j", "J") and _NUMBER.fullmatch(word[:-1].replace("_", "")):
        return (
            f"'{word}' is a complex number; symgraph has no complex numbers",
            f"formulas are real-valued: there is no imaginary unit. To multiply by an input named {word[-1]}, "
            f"write {_rewritten(text, start, end, word[:-1] + '*' + word[-1])}",
        )
    separated = _SEPARATED.match(text, start)
    if separated and separated.end() >= end and "_" in separated.group():
        literal = separated.group()
        digits = literal.replace("_", "")
        if _NUMBER.fullmatch(digits) and word[word.index("_") + 1 :][:1].isdigit():
            return (
                f"'_' cannot separate the digits of a number ('{literal}')",
                f"write the digits together: {_rewritten(text, start, separated.end(), digits)}",
            )
    return None


def _rewritten(text: str, start: int, end: int, replacement: str, width: int = 60) -> str:
    """The line holding text[start:end] with that span replaced, when the line is short; else the replacement."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    line = text[first : len(text) if last < 0 else last]
    new = (line[: start - first] + replacement + line[end - first :]).strip()
    return new if len(new) <= width else replacement


def unknown_function(name: str, *, is_value: bool) -> tuple[str, str]:
    """(message, hint) for a call `name(...)` of a name that is not a function. `is_value` says that the
    formula binds `name` or uses it as an input, so that `name(...)` may be meant as a product."""
    message = f"unknown function '{name}'"
    guess = did_you_mean(name, sorted(FUNCTIONS))
    if name in PYTHON_NAMES:
        listing = "did you mean " + guess + "?" if guess else "the functions are " + ", ".join(sorted(FUNCTIONS))
        return message, f"a formula is not Python and cannot call '{name}'; {listing}"
    if is_value or guess is None:
        hint = f"there is no implicit multiplication: to multiply, write {name}*(...)"
        return message, hint + (f"; or did you mean {guess}?" if guess else "")
    return message, f"did you mean {guess}?"
