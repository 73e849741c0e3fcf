"""Generated source -> a callable: the one place symgraph runs code (its own generated modules).

The source is compiled under a unique filename registered in linecache, so tracebacks show the generated
lines. The runtime helpers every module ends with (codegen.HELPERS) are compiled once: each module gets the
ones its code can call (and the ones those call) as functions of its own namespace, with its filename and line
numbers, as if compiled with the rest. (Moving every helper into every module was a good part of a small
formula's compile time.)
"""

from __future__ import annotations

import functools
import itertools
import linecache
import weakref
from collections.abc import Callable
from types import CodeType, FunctionType
from typing import Any

import numpy as np

from .codegen import HELPERS
from .ops import RUNTIME_HELPERS

_counter = itertools.count(1)


def load(source: str, name: str) -> Callable[..., Any]:
    """Compile `source` as a module under a linecache-registered filename and return its function `name`."""
    filename = f"<symgraph-{next(_counter)}>"
    own = source[: -len(HELPERS)] if source.endswith(HELPERS) else source
    code = _code(source, filename, len(own))
    function = _run(code, name, {})
    if own is not source:
        namespace, shift, helpers = function.__globals__, own.count("\n"), _helper_codes()
        wanted, done = [n for n in _names_in(code) if n in helpers], set()
        while wanted:  # the helpers the module calls, and those they call
            helper = wanted.pop()
            if helper not in done:
                done.add(helper)
                helper_code, defaults, calls = helpers[helper]
                namespace[helper] = FunctionType(_moved(helper_code, filename, shift), namespace, helper, defaults)
                wanted += calls
    weakref.finalize(function, linecache.cache.pop, filename, None)  # the lines live as long as the code
    return function


@functools.cache
def _helper_codes() -> dict[str, tuple[CodeType, tuple[Any, ...] | None, tuple[str, ...]]]:
    """Each function of codegen.HELPERS: its code, compiled once (after the import every module has: it decides
    how `np.f(...)` compiles; HELPERS starts with blank lines, so the line numbers do not move), its defaults,
    and the helpers it calls."""
    module = _code("import numpy as np" + HELPERS, "<symgraph helpers>")
    defaults = {f.__name__: f.__defaults__ for f in RUNTIME_HELPERS}  # a code object does not hold them
    codes = {c.co_name: c for c in module.co_consts if isinstance(c, CodeType)}
    return {n: (c, defaults[n], tuple(sorted(_names_in(c) & codes.keys() - {n}))) for n, c in codes.items()}


def _names_in(code: CodeType) -> set[str]:
    """The global (and attribute) names `code` and the code nested in it read: every global it can call."""
    names: set[str] = set()
    todo = [code]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo += [k for k in c.co_consts if isinstance(k, CodeType)]
    return names


def _moved(code: CodeType, filename: str, shift: int) -> CodeType:
    """`code` (and the comprehensions in it) as if it stood `shift` lines lower in `filename`."""
    consts = tuple(_moved(c, filename, shift) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_firstlineno=code.co_firstlineno + shift, co_consts=consts)


def _code(source: str, filename: str, end: int | None = None) -> CodeType:
    """`source` (up to `end`) compiled under `filename`, registered in linecache so tracebacks show its lines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source[:end], filename, "exec")


def _run(code: CodeType, name: str, names: dict[str, Any]) -> Callable[..., Any]:
    """Run a module's code in a namespace of NumPy and `names`, and return its function `name`."""
    namespace: dict[str, Any] = {"np": np, "__name__": "symgraph_generated", **names}
    exec(code, namespace)  # noqa: S102 - our own generated source
    return namespace[name]  # type: ignore[no-any-return]
