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
from typing import Any

import numpy as np

from .api import compile as compile_text
from .check_report import Report, VariableCheck
from .errors import ArgumentError, LimitError, SymgraphError
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
# What the numbers cost: points x gradients x 8 calls of the compiled function (finite differences), each over
# every graph node (about 75 ns a node). A check with more graph nodes x gradients than MAX_CHECK_WORK is refused
# before anything runs; at the limit the default 20 points take a few seconds. BUDGET is check's default budget
# in seconds for the whole call.
MAX_CHECK_WORK = 250_000
BUDGET = 60.0


def check(
    formula: str | CompiledFunction,
    wrt: Sequence[str] | str | None = None,
    *,
    points: int = 20,
    seed: int = 0,
    timeout: float = 5.0,
    symbolic: bool = True,
    budget: float = BUDGET,
) -> Report:
    """Cross-check every gradient of `formula` (text or a CompiledFunction) against SymPy's diff and central
    finite differences. `timeout` bounds SymPy's simplify in seconds (`symbolic=False` skips it); `budget`
    bounds the whole call: SymPy's part stops at half of it, the numbers at all of it, and what was not done
    in time is noted in the report. A formula over MAX_CHECK_WORK (graph nodes x gradients) is a LimitError."""
    _check_arguments(formula, wrt, points, seed, timeout, symbolic, budget)
    try:
        from . import sympy_bridge as bridge  # SymPy only when a check runs
    except ImportError as e:
        raise SymgraphError(
            f"checking against SymPy needs SymPy, which is not installed ({e})",
            hint='pip install "symgraph[sympy]"',
        ) from None

    start = time.monotonic()
    f = compile_text(formula, wrt) if isinstance(formula, str) else formula
    if not isinstance(formula, str) and wrt is not None and tuple(f.wrt) != tuple(_names(wrt)):
        raise ArgumentError("check: give wrt when compiling the function, not to check()")
    work = len(f.program.graph.nodes) * len(f.wrt)
    if work > MAX_CHECK_WORK:
        raise LimitError(
            f"check: {len(f.program.graph.nodes):,} graph nodes x {len(f.wrt):,} gradients = {work:,}, over the "
            f"limit of {MAX_CHECK_WORK:,} (MAX_CHECK_WORK): finite differences alone would take minutes",
            hint="check a few gradients at a time with wrt=",
        )
    text = formula if isinstance(formula, str) else (f.program.text or repr(f))
    report = Report(text, f.variables, [VariableCheck(w) for w in f.wrt], seed)
    from . import tensor_check  # SymPy through the bridge, imported above

    if tensor_check.is_matrix_formula(f):  # element by element at small sizes
        tensor_check.check_matrix(f, report, np.random.default_rng(seed), points, start + budget)
        return report
    refs: list[Callable[..., Any] | None] = [None] * len(f.wrt)
    sizes = _tree_sizes(f, [f.program.output, *f.gradients])
    if sizes[0] > MAX_VALUE_TREE:
        report.notes.append(
            f"formula too large for SymPy ({sizes[0]} nodes as a tree, limit {MAX_VALUE_TREE}): finite differences only"
        )
        for c in report.checks:
            c.symbolic, c.method = "too large", "finite differences"
    else:
        refs = _with_sympy(bridge, f, report, sizes, symbolic, timeout, start + budget / 2)
    _compare(f, refs, report, np.random.default_rng(seed), points, start + budget)
    return report


def _with_sympy(
    bridge: Any, f: CompiledFunction, report: Report, sizes: list[int], symbolic: bool, timeout: float, until: float
) -> list[Callable[..., Any] | None]:
    """SymPy's derivatives: the symbolic verdicts in `report`, and a NumPy function of each (None where SymPy
    failed, or `until` passed first)."""
    try:
        value, ours = bridge.to_sympy(f)
    except LimitError as e:
        report.notes.append(f"SymPy cannot take this formula ({e.message}): finite differences only")
        for c in report.checks:
            c.symbolic, c.method = "error", "finite differences"
        return [None] * len(f.wrt)
    symbols = bridge.symbols_of(f)
    reference: list[Any] = []
    refs: list[Callable[..., Any] | None] = []
    late: set[int] = set()  # gradients SymPy had no time for
    for k, w in enumerate(f.wrt):  # each derivative and its NumPy function together: all done are usable
        ref = _sympy_derivative(bridge, value, symbols[w], report) if time.monotonic() < until else None
        fn = _numeric(bridge, ref, [symbols[v] for v in f.variables], w, report) if time.monotonic() < until else None
        if ref is None or fn is None:
            report.checks[k].method = "finite differences"
            if time.monotonic() >= until:
                late.add(k)
        reference.append(ref)
        refs.append(fn)
    if symbolic:
        small = [k for k, n in enumerate(sizes[1:]) if n <= MAX_GRAD_TREE and reference[k] is not None]
        verdicts = [
            "too large" if r is not None else "no time" if k in late else "error" for k, r in enumerate(reference)
        ]
        left = max(0.0, min(timeout, until - time.monotonic()))
        decided = _decide_symbolically([reference[k] for k in small], [ours[k] for k in small], left)
        for k, verdict in zip(small, decided):
            verdicts[k] = verdict
        for c, verdict in zip(report.checks, verdicts):
            c.symbolic = verdict
            if c.method != "finite differences":  # SymPy's numbers are there: the symbolic verdict can stand
                c.method = "symbolic" if verdict == "equal" else "numeric"
    if late:
        report.notes.append(
            f"SymPy used up its half of the time budget: {len(late)} of {len(f.wrt)} gradients are checked with "
            "finite differences only"
        )
    return refs


def _numeric(bridge: Any, ref: Any, symbols: list[Any], name: str, report: Report) -> Callable[..., Any] | None:
    """SymPy's derivative as a NumPy function; None and a note when SymPy cannot print it."""
    if ref is None:
        return None
    try:
        fn = bridge.numeric(ref, symbols)
    except RecursionError:
        fn = None
    if fn is None:
        report.notes.append(f"d_{name}: SymPy's derivative cannot be evaluated numerically: {_shown(ref)}")
    return fn


def _shown(expr: Any) -> str:
    """A SymPy expression for a note: short, and never a RecursionError (SymPy's printer recurses)."""
    try:
        text = str(expr)
    except RecursionError:
        return "(too deeply nested to print)"
    return text if len(text) <= 100 else text[:97] + "..."


def _check_arguments(formula: Any, wrt: Any, points: Any, seed: Any, timeout: Any, symbolic: Any, budget: Any) -> None:
    """An ArgumentError naming the first argument of check() that is of the wrong type or out of range."""
    if not isinstance(formula, (str, CompiledFunction)):
        raise ArgumentError(f"check: formula must be text (str) or a CompiledFunction, not {type(formula).__name__}")
    names_ok = isinstance(wrt, Sequence) and all(isinstance(w, str) for w in wrt)
    if wrt is not None and not names_ok:
        raise ArgumentError(f"check: wrt must be names (a str or a list of str), not {_what(wrt)}")
    for name, value, least in (("points", points, 1), ("seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ArgumentError(f"check: {name} must be an integer, not {_what(value)}")
        if value < least:
            raise ArgumentError(f"check: {name} must be at least {least}, got {value}")
    for name, value in (("timeout", timeout), ("budget", budget)):
        real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        low = 0.0 if name == "timeout" else math.ulp(0.0)
        if not real or not math.isfinite(value) or value < low:
            sign = ">= 0" if name == "timeout" else "> 0"
            raise ArgumentError(f"check: {name} must be a finite number of seconds {sign}, not {_what(value)}")
    if not isinstance(symbolic, (bool, np.bool_)):
        raise ArgumentError(f"check: symbolic must be True or False, not {_what(symbolic)}")


def _what(value: Any) -> str:
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 40 else shown[:37] + '...'}"


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
    f: CompiledFunction,
    refs: list[Callable[..., Any] | None],
    report: Report,
    rng: np.random.Generator,
    want: int,
    until: float = math.inf,
) -> None:
    """Fill each VariableCheck with errors against SymPy's numbers and finite differences at `want` points,
    stopping when the clock passes `until`."""
    index = {w: f.variables.index(w) for w in f.wrt}
    live = live_nodes(f.program.graph, [f.program.output])
    used = overflows = 0
    late = False
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(50 * want):
            late = time.monotonic() > until
            if used == want or late:
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
                if time.monotonic() > until:
                    break
                if r is not None:
                    _record(c, point, f.variables, float(g), float(r))
                _finite_difference(f, c, point, index[c.name], float(value), float(g))
    if late:
        report.notes.append(f"the time budget ran out after {used} of {want} points")
    elif used < want:
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
