"""What one playground request computes, run inside a worker process: pure functions of a JSON payload.

`evaluate(payload)` compiles the formula, evaluates it at the page's point and returns everything the page
shows (value, gradients, explain's tables, the graph as SVG, the generated module); `check(payload)` runs
symgraph.check. Input values are parsed with float() and json only, never eval: a number, a list of
numbers for an array (`1, 2, 3` or nested JSON), or `rand(3, 4)` / `randn(3, 4)` for a random array of
that shape, seeded by the input's name so a shared link shows the same numbers. Errors a user can cause
come back as data ({"kind", "message", "line", "column", "offset", "hint", "rendered"}), never a traceback.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
import warnings
import zlib
from typing import Any

import numpy as np

import symgraph

MAX_ELEMENTS = 10_000  # per array input: explain keeps every node's value, so arrays stay small
MAX_TOTAL_ELEMENTS = 50_000  # over all inputs of one request
MAX_DRAWN_STEPS = 300  # larger graphs are not laid out (dot's layout time grows faster than linearly)
CHECK_POINTS = 10
INSTALL_GRAPHVIZ = (
    "The graph drawing needs Graphviz's `dot` program, which is not installed. Install it with "
    "`apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz` (macOS) or from graphviz.org, "
    "then reload; the tables and the code below work without it."
)
_RANDOM = re.compile(r"^(rand|randn)\s*\(\s*(\d+(?:\s*,\s*\d+)*)?\s*,?\s*\)$")


class InputError(ValueError):
    """A value field the page sent is not a number, a list of numbers or rand(shape)."""


def parse_value(name: str, text: str) -> float | np.ndarray:
    """One input's value from its text field: a float, an array from a list, or a seeded random array."""
    s = text.strip()
    if not s:
        return 1.0
    m = _RANDOM.match(s)
    if m:
        shape = tuple(int(d) for d in m.group(2).split(",")) if m.group(2) else ()
        if len(shape) > 4 or math.prod(shape) > MAX_ELEMENTS:
            raise InputError(f"{name}: {s} is too large (at most 4 axes and {MAX_ELEMENTS:,} elements)")
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        return rng.random(shape) if m.group(1) == "rand" else rng.standard_normal(shape)
    if "," in s or s.startswith("["):
        try:
            data = json.loads(s if s.startswith("[") else f"[{s}]")
            array = np.asarray(data, dtype=np.float64)
        except (ValueError, TypeError, RecursionError):
            raise InputError(
                f"{name}: {s[:40]!r} is not a list of numbers (write 1, 2, 3 or [[1, 2], [3, 4]])"
            ) from None
        if array.size > MAX_ELEMENTS or array.ndim > 4:
            raise InputError(f"{name}: at most 4 axes and {MAX_ELEMENTS:,} elements, got shape {array.shape}")
        return array
    try:
        return float(s)
    except ValueError:
        raise InputError(
            f"{name}: {s[:40]!r} is not a number; write a number, a list (1, 2, 3) or rand(3, 4)"
        ) from None


def show(v: Any) -> dict[str, Any]:
    """A number or array as the page shows it: text (5 not 5.0) and shape."""
    shape = list(np.shape(v))
    if shape:
        text = np.array2string(np.asarray(v, dtype=np.float64), precision=6, threshold=24, separator=", ")
    else:
        x = float(v)
        text = str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)
    return {"text": text, "shape": shape}


def error_info(e: BaseException) -> dict[str, Any]:
    """A SymgraphError (or an input error) as data the page can mark in the formula box."""
    if isinstance(e, symgraph.SymgraphError):
        info: dict[str, Any] = {
            "kind": type(e).__name__,
            "message": e.message,
            "line": e.line,
            "column": e.column,
            "hint": e.hint,
            "rendered": e.render(),
        }
        if e.line is not None and e.column is not None and e.text is not None:
            lines = e.text.split("\n")
            info["offset"] = sum(len(t) + 1 for t in lines[: e.line - 1]) + e.column - 1
        return info
    if isinstance(e, InputError):
        return {"kind": "InputError", "message": str(e), "rendered": str(e)}
    if isinstance(e, MemoryError):
        msg = "the formula needs more memory than the playground allows; try a smaller formula or smaller arrays"
        return {"kind": "LimitError", "message": msg, "rendered": msg}
    msg = f"internal error ({type(e).__name__}): {e}"  # a bug in symgraph: say so, without a traceback
    return {"kind": "InternalError", "message": msg, "rendered": msg}


def _wrt(payload: dict[str, Any], variables: tuple[str, ...]) -> list[str] | None:
    """The inputs to differentiate for: those the page ticked that the formula has; all when none remain."""
    wanted = payload.get("wrt")
    if not isinstance(wanted, list):
        return None
    chosen = [w for w in variables if w in wanted]
    return chosen or None


def draw(f: symgraph.CompiledFunction, at: dict[str, Any], steps: int, deadline: float) -> dict[str, Any]:
    """The graph as SVG (Graphviz `dot`, run without a shell), or a message saying why it is not drawn."""
    dot_text = symgraph.to_dot(f, at=at)
    out: dict[str, Any] = {"svg": None, "message": None, "dot": dot_text}
    exe = shutil.which("dot")
    if exe is None:
        out["message"] = INSTALL_GRAPHVIZ
    elif steps > MAX_DRAWN_STEPS:
        out["message"] = (
            f"The graph has {steps} steps; the page draws up to {MAX_DRAWN_STEPS}. The tables show every step."
        )
    else:
        try:
            done = subprocess.run(
                [exe, "-Tsvg"],
                input=dot_text.encode(),
                capture_output=True,
                timeout=max(0.5, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired:
            out["message"] = "Graphviz took too long to lay out this graph; the tables show every step."
        else:
            if done.returncode == 0:
                out["svg"] = done.stdout.decode("utf-8", "replace")
            else:
                out["message"] = "Graphviz failed: " + done.stderr.decode("utf-8", "replace").strip()[:500]
    return out


DEFAULT_SIZE = 3  # a declared dimension's size in an input's default value (X: [n, 2] -> rand(3, 2))


def default_value(f: symgraph.CompiledFunction, name: str) -> str:
    """An empty field's value: 1, or for an input declared an array a random one of that shape (each
    dimension name DEFAULT_SIZE), so a matrix formula runs as typed."""
    dims = f.program.declared.get(name)
    if not dims:
        return "1"
    return "rand(" + ", ".join(str(DEFAULT_SIZE if isinstance(d, str) else d) for d in dims) + ")"


def _called(f: symgraph.CompiledFunction, at: dict[str, Any]) -> Any:
    """f(**at); NumPy's own error for a matrix op given numbers (`1 @ 2`) is said as an input error."""
    try:
        return f(**at)
    except (TypeError, ValueError) as e:
        numbers = [n for n in f.variables if np.ndim(at[n]) == 0]
        if isinstance(e, symgraph.SymgraphError) and not (numbers and "not a number" in e.message):
            raise
        raise InputError(
            f"this formula works on arrays, but {', '.join(numbers) or 'no input'} "
            f"{'is a number' if len(numbers) == 1 else 'are numbers'} "
            f"({e.message if isinstance(e, symgraph.SymgraphError) else e}); give array values such as "
            "rand(3, 4) or [[1, 2], [3, 4]], or declare the shapes in the formula (X: [n, 3])"
        ) from None


def evaluate(payload: dict[str, Any], budget: float = 5.0) -> dict[str, Any]:
    """Everything the page shows for one formula at one point (see the module docstring)."""
    deadline = time.monotonic() + budget
    formula = payload["formula"]
    f = symgraph.compile(formula)
    wrt = _wrt(payload, f.variables)
    if wrt is not None:
        f = symgraph.compile(formula, wrt=wrt)
    texts = payload.get("inputs") or {}
    at: dict[str, Any] = {}
    used: dict[str, str] = {}
    for name in f.variables:
        raw = texts.get(name)
        used[name] = default_value(f, name) if raw is None or not str(raw).strip() else str(raw).strip()
        at[name] = parse_value(name, used[name])
    total = sum(int(np.size(v)) for v in at.values())
    if total > MAX_TOTAL_ELEMENTS:
        raise InputError(f"the inputs hold {total:,} numbers together; the playground allows {MAX_TOTAL_ELEMENTS:,}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, grads = _called(f, at)
        named = f.values(**at)
        explanation = symgraph.explain(f, at=at)
        tables = explanation.render(limit=200)
    notes = sorted({str(w.message) for w in caught})
    graph = draw(f, at, len(explanation.forward), deadline)
    return {
        "formula": formula,
        "variables": list(f.variables),
        "wrt": list(f.wrt),
        "inputs": {n: {"text": used[n], **show(at[n])} for n in f.variables},
        "value": show(value),
        "gradients": [{"name": w, **show(g)} for w, g in zip(f.wrt, grads)],
        "named": [{"name": k, **show(v)} for k, v in named.items()],
        "explain": tables,
        "graph": graph,
        "source": f.source,
        "function": f.name,
        "warnings": notes,
    }


def check(payload: dict[str, Any], budget: float = 10.0) -> dict[str, Any]:
    """symgraph.check of the formula (SymPy's derivative and finite differences) as text and a verdict."""
    f = symgraph.compile(payload["formula"])
    wrt = _wrt(payload, f.variables)
    sympy_timeout = max(0.5, min(3.0, budget / 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = symgraph.check(payload["formula"], wrt=wrt, points=CHECK_POINTS, timeout=sympy_timeout)
    return {"formula": payload["formula"], "passed": bool(report.ok), "text": str(report)}


JOBS = {"evaluate": evaluate, "check": check}


def run(kind: str, payload: dict[str, Any], budget: float) -> tuple[bool, dict[str, Any]]:
    """Run one job: (True, result) or (False, error info); never raises for bad input."""
    try:
        return True, JOBS[kind](payload, budget)
    except Exception as e:  # noqa: BLE001 - every failure becomes a message for the page
        return False, error_info(e)
