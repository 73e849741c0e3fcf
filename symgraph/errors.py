"""The one exception tree symgraph raises for bad input, and how it shows where the input went wrong.

Every error a user can cause is a SymgraphError (a ValueError). Errors that point into the input text carry
its line and column and render the offending line with a caret under the position.
"""

from __future__ import annotations

import difflib


class SymgraphError(ValueError):
    """Base of every error symgraph raises for bad input; the message says what to do."""

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """The message, the position as `line L, column C`, the offending line with a caret, and the hint."""
        parts = [self.message]
        if self.line is not None and self.column is not None:
            parts[0] += f" (line {self.line}, column {self.column})"
            if self.text is not None:
                parts.append(caret(self.text, self.line, self.column))
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class ParseError(SymgraphError):
    """The text is not a well-formed formula (syntax, unknown function, wrong argument count)."""


class BindingError(SymgraphError):
    """A statement binds a name wrongly: twice, after use, or a name that is a constant or function."""


class ArgumentError(SymgraphError):
    """A compile option or a call of a compiled function names inputs that do not exist or are missing."""


class ShapeError(SymgraphError):
    """Declared shapes that cannot combine (found at compile time), or a declaration that is malformed."""


class LimitError(SymgraphError):
    """The input is larger than the documented size limit."""


def caret(text: str, line: int, column: int, width: int = 80) -> str:
    """The 1-based `line` of `text` with a caret under `column`, clipped to about `width` characters."""
    lines = text.split("\n")
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    src = src.replace("\t", " ").rstrip("\r")
    col = max(column - 1, 0)
    start = max(0, col - width // 2) if len(src) > width else 0
    shown = src[start : start + width]
    prefix = "..." if start else ""
    suffix = "..." if start + width < len(src) else ""
    shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
    return f"    {prefix}{shown}{suffix}\n    {' ' * (len(prefix) + col - start)}^"


def did_you_mean(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate to a misspelt name, or None when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None
