"""Cross-checking a compiled formula's gradients against references symgraph did not compute itself.

For each gradient: SymPy's `diff` of the formula, compared symbolically (`simplify(reference - ours) == 0`) in
a forked child process that is killed after a time budget (SymPy cannot be interrupted in a thread), and
numerically at random points inside the domain (points where the value or the reference is not finite are
skipped); plus central finite differences of the compiled value in float64. SymPy is reached only through
sympy_bridge, imported when a check runs, so `import symgraph` does not need SymPy.
"""

from __future__ import annotations

import math
import multiprocessing
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .api import compile as compile_text
from .errors import ArgumentError, SymgraphError
from .function import CompiledFunction
from .ir import live_nodes

RTOL = 1e-8  # generated code vs SymPy's formula, both in float64: different roundings of one function
ATOL = 1e-10
# SymPy walks shared subexpressions anew, so its cost grows with the size of the formula as a tree (shared nodes
# counted at every use). A value tree over MAX_VALUE_TREE is not given to sympy.diff (about 0.3 s at the limit,
# 7 s at 20k, measured); gradient trees over MAX_GRAD_TREE are not given to simplify.
MAX_VALUE_TREE = 2_000
MAX_GRAD_TREE = 20_000
EPS = float(np.finfo(np.float64).eps)


@dataclass
class VariableCheck:
    """The verdict for one gradient d_<name>."""

    name: str
    method: str = "numeric"  # "symbolic" when SymPy proved equality, else "numeric" (or "finite differences")
    symbolic: str = "off"  # the symbolic verdict: equal, undecided, timeout, error, off, too large, no fork
    points: int = 0  # random points the numeric comparison used
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    numeric_ok: bool = True
    fd_points: int = 0
    fd_max_abs_error: float = 0.0
    fd_max_rel_error: float = 0.0
    fd_ok: bool = True
    worst_point: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Pass when the numeric comparison and the finite differences both agree."""
        return self.numeric_ok and self.fd_ok and (self.points > 0 or self.fd_points > 0)


@dataclass
class Report:
    """What `check` found, per gradient; `ok` is True when every gradient passed."""

    formula: str
    variables: tuple[str, ...]
    checks: list[VariableCheck]
    seed: int
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        shown = self.formula.strip().replace("\n", "; ")
        shown = shown if len(shown) <= 100 else shown[:97] + "..."
        lines = [f"check of {shown}  (seed {self.seed})"]
        head = ["gradient", "method", "symbolic", "points", "max abs err", "max rel err", "fd points", "fd max rel err"]
        rows: list[tuple[str, ...]] = [(*head, "result")]
        for c in self.checks:
            rows.append(
                (
                    "d_" + c.name,
                    c.method,
                    c.symbolic,
                    str(c.points),
                    f"{c.max_abs_error:.2g}",
                    f"{c.max_rel_error:.2g}",
                    str(c.fd_points),
                    f"{c.fd_max_rel_error:.2g}",
                    "pass" if c.ok else "FAIL",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        for c in self.checks:
            if not c.ok and c.worst_point:
                at = ", ".join(f"{k}={v!r}" for k, v in c.worst_point.items())
                lines.append(f"  d_{c.name}: worst disagreement at {at}")
        lines += ["  note: " + n for n in self.notes]
        if self.ok:
            lines.append("all gradients agree")
        elif any(c.numeric_ok and c.fd_ok for c in self.checks if not c.ok):
            lines.append("NOT CHECKED: no point inside the domain for some gradient")
        else:
            lines.append("MISMATCH: some gradient disagrees")
        return "\n".join(lines)


def check(
    formula: str | CompiledFunction,
    wrt: Sequence[str] | str | None = None,
    *,
    points: int = 20,
    seed: int = 0,
    timeout: float = 5.0,
    symbolic: bool = True,
) -> Report:
    """Cross-check every gradient of `formula` (text or a CompiledFunction) against SymPy's diff and central
    finite differences. `timeout` bounds the symbolic part in seconds; `symbolic=False` skips it."""
    try:
        from . import sympy_bridge as bridge  # SymPy only when a check runs
    except ImportError as e:
        raise SymgraphError(
            f"checking against SymPy needs SymPy, which is not installed ({e})",
            hint='pip install "symgraph[sympy]"',
        ) from None

    f = compile_text(formula, wrt) if isinstance(formula, str) else formula
    if not isinstance(formula, str) and wrt is not None and tuple(f.wrt) != tuple(_names(wrt)):
        raise ArgumentError("check: give wrt when compiling the function, not to check()")
    if points < 1:
        raise ArgumentError(f"check: points must be at least 1, got {points}")
    text = formula if isinstance(formula, str) else (f.program.text or repr(f))
    report = Report(text, f.variables, [VariableCheck(w) for w in f.wrt], seed)
    rng = np.random.default_rng(seed)
    refs: list[Callable[..., Any] | None] = [None] * len(f.wrt)
    sizes = _tree_sizes(f, [f.program.output, *f.gradients])
    if sizes[0] > MAX_VALUE_TREE:
        report.notes.append(
            f"formula too large for SymPy ({sizes[0]} nodes as a tree, limit {MAX_VALUE_TREE}): finite differences only"
        )
        for c in report.checks:
            c.symbolic, c.method = "too large", "finite differences"
    else:
        value, ours = bridge.to_sympy(f)
        symbols = bridge.symbols_of(f)
        reference = [_sympy_derivative(bridge, value, symbols[w], report) for w in f.wrt]
        if symbolic:
            small = [k for k, n in enumerate(sizes[1:]) if n <= MAX_GRAD_TREE and reference[k] is not None]
            verdicts = ["too large" if ref is not None else "error" for ref in reference]
            decided = _decide_symbolically([reference[k] for k in small], [ours[k] for k in small], timeout)
            for k, verdict in zip(small, decided):
                verdicts[k] = verdict
            for c, verdict in zip(report.checks, verdicts):
                c.symbolic = verdict
                c.method = "symbolic" if verdict == "equal" else "numeric"
        for k, ref in enumerate(reference):
            refs[k] = None if ref is None else bridge.numeric(ref, [symbols[v] for v in f.variables])
            if refs[k] is None:
                report.checks[k].method = "finite differences"
                if ref is not None:
                    report.notes.append(f"d_{f.wrt[k]}: SymPy's derivative cannot be evaluated numerically: {ref}")
    _compare(f, refs, report, rng, points)
    return report


def _sympy_derivative(bridge: Any, value: Any, symbol: Any, report: Report) -> Any:
    """sympy.diff of the value, kinks zeroed; None (and a note) when SymPy itself fails on it."""
    try:
        return bridge.away_from_kinks(bridge.sp.diff(value, symbol))
    except Exception as e:  # noqa: BLE001 - a failure inside SymPy leaves finite differences to decide
        report.notes.append(f"d_{symbol}: SymPy failed to differentiate ({type(e).__name__}: {e})")
        return None


def _names(wrt: Sequence[str] | str) -> list[str]:
    return [w.strip() for w in wrt.split(",") if w.strip()] if isinstance(wrt, str) else list(wrt)


def _tree_sizes(f: CompiledFunction, roots: list[int]) -> list[int]:
    """Size of each root as a tree (shared nodes counted at every use), capped: what SymPy would walk."""
    nodes = f.program.graph.nodes
    size = [0] * (max(roots) + 1)
    for i in range(len(size)):
        size[i] = min(1 + sum(size[a] for a in nodes[i].args), 10 * MAX_GRAD_TREE)
    return [size[r] for r in roots]


# --- symbolic ------------------------------------------------------------------------------------------


def _decide_symbolically(reference: list[Any], ours: list[Any], timeout: float) -> list[str]:
    """Per gradient "equal", "undecided", or why it was not decided ("timeout", ...), within `timeout` seconds."""
    if not ours:
        return []
    if "fork" not in multiprocessing.get_all_start_methods():
        return ["no fork"] * len(ours)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_simplify_each, args=(reference, ours, send), daemon=True)
    child.start()
    send.close()
    verdicts: list[str] = []
    start = time.monotonic()
    while len(verdicts) < len(ours):
        left = timeout - (time.monotonic() - start)
        if left <= 0 or not receive.poll(left):
            break
        try:
            verdicts.append(receive.recv())
        except EOFError:
            break
    if child.is_alive():
        child.kill()
    child.join()
    receive.close()
    return verdicts + ["timeout"] * (len(ours) - len(verdicts))


def _simplify_each(reference: list[Any], ours: list[Any], send: Any) -> None:
    """In the child: simplify(reference - ours) for each gradient, sending each verdict as it is reached."""
    from .sympy_bridge import sp

    for ref, mine in zip(reference, ours):
        try:
            diff = sp.simplify(ref - mine)
            send.send("equal" if diff == 0 else "undecided")
        except Exception:  # noqa: BLE001 - SymPy's own failure is a verdict, not our crash
            send.send("error")
    send.close()


# --- numeric and finite differences ------------------------------------------------------------------------


def _draw(rng: np.random.Generator, n: int) -> list[float]:
    """A point with coordinates of random sign and magnitude between 0.1 and 3."""
    return [float(rng.choice((-1.0, 1.0)) * 10 ** rng.uniform(-1.0, 0.5)) for _ in range(n)]


def _finite(*xs: Any) -> bool:
    return all(np.all(np.isfinite(x)) for x in xs)


def _compare(
    f: CompiledFunction, refs: list[Callable[..., Any] | None], report: Report, rng: np.random.Generator, want: int
) -> None:
    """Fill each VariableCheck with errors against SymPy's numbers and finite differences at `want` points."""
    index = {w: f.variables.index(w) for w in f.wrt}
    live = live_nodes(f.program.graph, [f.program.output])
    used = overflows = 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(50 * want):
            if used == want:
                break
            point = [np.float64(v) for v in _draw(rng, len(f.variables))]
            value, grads = f(*point)
            ref_grads = [None if r is None else _call(r, point) for r in refs]
            if not _finite(value) or not all(r is None or _finite(r) for r in ref_grads):
                continue  # outside the domain (of the formula or of SymPy's derivative)
            if not _intermediates_finite(f, point, live):
                overflows += 1
                continue  # exp(1358) ^ x is 0 at x = -1 but its derivative is 0 * log(inf): beyond float64
            used += 1
            for c, g, r in zip(report.checks, grads, ref_grads):
                if r is not None:
                    _record(c, point, f.variables, float(g), float(r))
                _finite_difference(f, c, point, index[c.name], float(value), float(g))
    if used < want:
        report.notes.append(f"found {used} of {want} points inside the domain")
    if overflows:
        report.notes.append(f"skipped {overflows} points where an intermediate value is beyond float64's range")


def _intermediates_finite(f: CompiledFunction, point: list[Any], live: list[bool]) -> bool:
    """True when every value the formula computes on the way to its output is finite at `point`."""
    needed = [i for i, alive in enumerate(live) if alive]
    values = f.trace(needed)(*point)  # the generated code's own numbers
    return all(np.all(np.isfinite(values[i])) for i in needed)


def _call(ref: Callable[..., Any], point: list[Any]) -> Any:
    try:
        return ref(*point)
    except (ArithmeticError, ValueError, TypeError):
        return math.nan


def _record(c: VariableCheck, point: list[Any], names: tuple[str, ...], ours: float, ref: float) -> None:
    c.points += 1
    err = abs(ours - ref) if math.isfinite(ours) else math.inf
    rel = err / abs(ref) if ref else err
    if err > ATOL + RTOL * abs(ref):
        c.numeric_ok = False
    if err >= c.max_abs_error:
        c.worst_point = {n: float(v) for n, v in zip(names, point)}
    c.max_abs_error = max(c.max_abs_error, err)
    c.max_rel_error = max(c.max_rel_error, rel)


def _finite_difference(f: CompiledFunction, c: VariableCheck, point: list[Any], k: int, value: float, g: float) -> None:
    """Central differences with steps h, h/10, h/100, h/1000 from h = cbrt(eps) * max(1, |x|). Two successive
    steps' disagreement estimates the truncation error, 10 eps max(1, |f|) / h the rounding error; the step with the
    smallest estimate is used, and the tolerance is a small multiple of that estimate. A point where no step
    settles (the function varies faster than the steps resolve) is not counted."""
    x = float(point[k])
    base = EPS ** (1 / 3) * max(1.0, abs(x))
    estimates: list[tuple[float, float]] = []  # (difference quotient, rounding bound) per step
    for j in range(4):
        h = (x + base / 10**j) - x  # a step that is exactly representable
        moved = list(point)
        moved[k] = np.float64(x + h)
        up = float(f(*moved)[0])
        moved[k] = np.float64(x - h)
        down = float(f(*moved)[0])
        if not _finite(up, down):
            return  # the domain ends within the step: no finite difference here
        # Rounding: a few ulps of the values' scale, at least 1 (log(1 + u) is accurate to eps, not eps * |u|).
        estimates.append(((up - down) / (2 * h), 10 * EPS * max(1.0, abs(value), abs(up), abs(down)) / h))
    best, truncation, rounding = min(
        ((d, abs(d - estimates[j + 1][0]), r) for j, (d, r) in enumerate(estimates[:-1])), key=lambda t: t[1] + t[2]
    )
    if truncation > 1e-3 * abs(best) + 10 * rounding:
        return  # no step size settles: finite differences cannot judge this point
    error = truncation + rounding
    c.fd_points += 1
    err = abs(g - best) if math.isfinite(g) else math.inf
    if err > 4 * error + 1e-12 * abs(best):
        c.fd_ok = False
    c.fd_max_abs_error = max(c.fd_max_abs_error, err)
    c.fd_max_rel_error = max(c.fd_max_rel_error, err / abs(best) if best else err)
