"""Declared dimensions: the shape algebra the graph uses once every input of a node has a declared shape.

A shape is a tuple of dimensions, each an int or a symbol (a str such as "n") that stands for one size
throughout the formula. The rules are NumPy's (broadcasting aligns from the right, a 1 stretches, matmul
contracts the last axis of the left operand with the second-to-last of the right), applied to symbols: two
different symbols, or a symbol and an int other than 1, are taken to differ, so a mismatch is found when
the formula is compiled. DimsError carries the message; the parser adds where in the text it happened.
"""

from __future__ import annotations

Dim = int | str
Dims = tuple[Dim, ...]


class DimsError(ValueError):
    """Two declared shapes that cannot combine; the message names the dimensions."""


def show(dims: Dims) -> str:
    """[n, 64], as the text declares it."""
    return "[" + ", ".join(str(d) for d in dims) + "]"


def broadcast(shapes: list[Dims]) -> Dims:
    """NumPy's broadcast of the shapes, or DimsError naming the first pair of dimensions that differ."""
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for k in range(rank, 0, -1):
        size: Dim = 1
        for s in shapes:
            d = s[-k] if k <= len(s) else 1
            if d == 1 or d == size:
                continue
            if size != 1:
                raise DimsError(
                    f"shapes {' and '.join(show(s) for s in shapes)} do not broadcast: dimension {size} meets {d}"
                )
            size = d
        out.append(size)
    return tuple(out)


def within(small: Dims, big: Dims) -> bool:
    """True when `small` broadcasts to exactly `big` (each aligned dimension equal or 1)."""
    if len(small) > len(big):
        return False
    return all(d == 1 or d == big[len(big) - len(small) + k] for k, d in enumerate(small))


def matmul(a: Dims, b: Dims) -> Dims:
    """The shape of a @ b by NumPy's matmul rules (1-D operands promoted, then the added axis removed)."""
    if not a or not b:
        raise DimsError("@ needs arrays of at least one dimension on both sides, not a number")
    left = (1, *a) if len(a) == 1 else a
    right = (*b, 1) if len(b) == 1 else b
    if left[-1] != right[-2]:
        raise DimsError(f"@ contracts {show(a)} with {show(b)}: the inner dimensions {left[-1]} and {right[-2]} differ")
    batch = broadcast([left[:-2], right[:-2]])
    out = (*batch, left[-2], right[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def axis_index(dims: Dims, axis: int, what: str) -> int:
    """`axis` of a shape as a non-negative index; DimsError when the shape has no such axis."""
    if not -len(dims) <= axis < len(dims):
        raise DimsError(f"{what} has no axis {axis}: its shape {show(dims)} has {len(dims)} axes")
    return axis % len(dims)


def reduce(dims: Dims, axis: int | None, keepdims: bool, what: str) -> Dims:
    """The shape after reducing over `axis` (None: every axis)."""
    if axis is None:
        return tuple(1 for _ in dims) if keepdims else ()
    k = axis_index(dims, axis, what)
    return dims[:k] + ((1,) if keepdims else ()) + dims[k + 1 :]


def sum_axes(over: Dims, like: Dims) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Axes of a gradient of shape `over` to sum for shape `like`: the leading axes `like` lacks, and the
    axes where `like` has 1 (summed keeping the axis), both counted in `over`'s axes."""
    lead = len(over) - len(like)
    keep = tuple(lead + k for k, d in enumerate(like) if d == 1 and over[lead + k] != 1)
    return tuple(range(lead)), keep
