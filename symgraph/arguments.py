"""What a formula's text says beside expressions: keyword arguments of calls (`axis=1`) and the dimensions of
a shape declaration (`X: [n, 64]`), read into the values the graph keeps, with errors that point at the text.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lark import Token

from .errors import ParseError, ShapeError


def at(tok: Token | None) -> dict[str, Any]:
    """A token's line and column as keyword arguments of an error."""
    if tok is None or tok.line is None:
        return {}
    return {"line": tok.line, "column": tok.column}


class Keyword(NamedTuple):
    """A keyword argument of a call: `axis=1`."""

    name: Token
    value: Token


# Reductions that take an axis: sum(X, axis=1) is the op sum_axis; max(X) (one argument) is max_axis.
AXIS_FORMS = {"sum": "sum_axis", "mean": "mean_axis", "max": "max_axis", "min": "min_axis"}


def keyword_params(text: str, tok: Token, allowed: tuple[str, ...], keywords: list[Keyword]) -> tuple[Any, ...]:
    """The call's keyword arguments as the op's params, in the op's order (axis None, keepdims False if absent)."""
    if not allowed:
        if keywords:
            raise ParseError(f"{tok}() takes no keyword arguments", text=text, **at(keywords[0].name))
        return ()
    given: dict[str, int | bool] = {}
    for kw in keywords:
        name, value = str(kw.name), str(kw.value)
        if name not in allowed:
            raise ParseError(
                f"{tok}() has no keyword {name!r}; it takes {' and '.join(allowed)}", text=text, **at(kw.name)
            )
        if name in given:
            raise ParseError(f"{tok}() got {name} twice", text=text, **at(kw.name))
        if name == "axis" and kw.value.type == "NUMBER" and value.lstrip("-").isdigit() and abs(int(value)) <= 64:
            given[name] = int(value)
        elif name == "keepdims" and value in ("True", "False", "1", "0"):
            given[name] = value in ("True", "1")
        else:
            want = "a whole number from -64 to 64, such as 1 or -1" if name == "axis" else "True or False"
            raise ParseError(f"{name} takes {want}, not {value}", text=text, **at(kw.value))
    return (given.get("axis"), given.get("keepdims", False))


def declared_dims(text: str, dims: list[Token]) -> tuple[int | str, ...]:
    """The dimensions of `X: [n, 64]`: names as str, whole numbers as int."""
    parsed: list[int | str] = []
    for d in dims:
        if d.type == "NAME":
            parsed.append(str(d))
            continue
        if not d.isdigit():
            raise ShapeError(
                f"a dimension is a whole number or a name, not {d}", text=text, hint="write X: [n, 64]", **at(d)
            )
        parsed.append(int(d))
    return tuple(parsed)
