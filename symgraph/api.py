"""The public entry points: compile text to a CompiledFunction, served from a cache for repeated text."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from .function import CompiledFunction
from .ir import Program
from .parse import parse as _parse


def parse(text: str) -> Program:
    """Parse text into a Program (graph, inputs, output, statement names) without generating code."""
    return _parse(text)


def compile(  # noqa: A001 - the natural name for what it does
    text: str, wrt: Sequence[str] | str | None = None, *, name: str = "value_and_grad"
) -> CompiledFunction:
    """Compile a formula to a function returning (value, gradients); wrt defaults to every input."""
    key_wrt = None if wrt is None else (wrt if isinstance(wrt, str) else tuple(wrt))
    return _compile_cached(text, key_wrt, name)


@functools.lru_cache(maxsize=256)
def _compile_cached(text: str, wrt: tuple[str, ...] | str | None, name: str) -> CompiledFunction:
    return CompiledFunction(_parse(text), wrt, name)
