"""Compile time on pathological inputs grows linearly: a doubling table, and each shape at the size limits.

    python benchmarks/bench_pathological.py              # doubling table, about a minute
    python benchmarks/bench_pathological.py --at-limits  # each shape as large as the limits allow, a few minutes
    python benchmarks/bench_pathological.py --check      # symgraph.check just under and at MAX_CHECK_WORK
    python benchmarks/bench_pathological.py --derivatives  # hessian, hvp, jacobian and explain at their limits

For each shape of input the table compiles sizes n, 2n, 4n, 8n (parse + adjoint + codegen + CPython's
compile, the cache bypassed) and prints the time, the time per character and the ratio to the previous size:
about 2.0 is linear, about 4.0 would be quadratic. Times are the best of three (one at the largest size). The
machine is shared and noisy; the ratios, taken side by side in one run, are what to read. --at-limits compiles
each shape, in a process of its own, at the largest size inside MAX_INPUT_CHARS (1 MiB of text) and MAX_NODES
(200,000 nodes of the forward graph), and reports time, peak memory, graph size after the reverse pass and
lines of generated code: the worst case a caller can be handed. --check runs symgraph.check, in a process of its
own per row, on shapes sized just under MAX_CHECK_WORK (graph nodes x gradients) and just over it, and reports
time and peak memory, once plain (peak resident size) and once under tracemalloc (peak of Python's allocations;
tracemalloc looks up a line number per allocation, which is slow inside a generated function of many thousand
lines, so traced times are not check's times). Under the limit the plain check must finish within its budget
(BUDGET seconds), over it the LimitError must come at once. --derivatives does the same for symgraph.hessian and
jacobian (MAX_DERIVATIVE_WORK: graph nodes x reverse passes), hvp (MAX_HVP_NODES: nodes of the gradient's graph)
and explain (MAX_CELL: characters per table cell; the row is a tower of 8 KB and one of 1 MB of text).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, not an installed copy

import symgraph  # noqa: E402
from symgraph.adjoint import gradient  # noqa: E402
from symgraph.crosscheck import BUDGET, MAX_CHECK_WORK  # noqa: E402
from symgraph.explain import MAX_CELL  # noqa: E402
from symgraph.higher import MAX_DERIVATIVE_WORK, MAX_HVP_NODES  # noqa: E402
from symgraph.parse import MAX_INPUT_CHARS, MAX_NODES  # noqa: E402


def nested_parens(n: int) -> str:
    return "(" * n + "x + 1" + ")" * n


def nested_calls(n: int) -> str:
    return "sin(" * n + "x" + ")" * n


def unary_minus(n: int) -> str:
    return "-" * n + "x"


def long_sum(n: int) -> str:
    return "+".join(f"x{i % 7}" for i in range(n))


def many_inputs(n: int) -> str:
    return "+".join(f"a{i}*x" for i in range(n))


def long_product(n: int) -> str:
    return "*".join(["x"] * n)


def power_tower(n: int) -> str:
    return "^".join(["x"] * n)


def statements(n: int) -> str:
    return "s0 = x\n" + "\n".join(f"s{i} = s{i - 1} * 0.5 + x" for i in range(1, n))


# shape -> (text builder, n for about 25,000 characters)
SHAPES: dict[str, tuple[Callable[[int], str], int]] = {
    "nested parentheses": (nested_parens, 12_500),
    "nested sin(...)": (nested_calls, 5_000),
    "unary minus chain": (unary_minus, 25_000),
    "sum, 7 inputs": (long_sum, 6_000),
    "sum, an input per term": (many_inputs, 3_000),
    "product chain": (long_product, 12_500),
    "power tower": (power_tower, 12_500),
    "statement chain": (statements, 1_000),
}


def compile_seconds(text: str) -> float:
    """One full compile, bypassing compile()'s cache."""
    gc.collect()
    start = time.perf_counter()
    symgraph.CompiledFunction(symgraph.parse(text))
    return time.perf_counter() - start


def doubling_table() -> None:
    print(f"{'shape':<24} {'chars':>9} {'seconds':>8} {'us/char':>8} {'ratio':>6}")
    for shape, (build, n0) in SHAPES.items():
        previous = None
        for k, factor in enumerate((1, 2, 4, 8)):
            text = build(n0 * factor)
            repeats = 1 if k == 3 else 3
            best = min(compile_seconds(text) for _ in range(repeats))
            ratio = f"{best / previous:6.2f}" if previous else "      "
            print(f"{shape:<24} {len(text):>9,} {best:>8.3f} {best / len(text) * 1e6:>8.2f} {ratio}", flush=True)
            previous = best
        print()


def largest_within_limits(shape: str) -> str:
    """The shape at the largest size inside both MAX_INPUT_CHARS and MAX_NODES."""
    build, n0 = SHAPES[shape]
    per_char = len(build(n0)) / n0
    per_node = len(symgraph.parse(build(n0)).graph.nodes) / n0
    n = int(min(MAX_INPUT_CHARS / per_char, MAX_NODES / per_node))
    while True:
        text = build(n)
        if len(text) <= MAX_INPUT_CHARS:
            try:
                symgraph.parse(text)
                return text
            except symgraph.LimitError:
                pass
        n = n * 995 // 1000


def at_limit(shape: str) -> dict[str, float]:
    """Compile `shape` at the largest size the limits allow: time, peak memory, and a call."""
    text = largest_within_limits(shape)
    start = time.perf_counter()
    f = symgraph.compile(text)
    seconds = time.perf_counter() - start
    f(*[0.5] * len(f.variables))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    nodes = len(f.program.graph.nodes)
    return {"chars": len(text), "seconds": seconds, "peak_mb": peak_mb, "nodes": nodes, "lines": f.source.count("\n")}


def limits_table() -> None:
    print(f"limits: MAX_INPUT_CHARS = {MAX_INPUT_CHARS:,} characters, MAX_NODES = {MAX_NODES:,} forward graph nodes")
    print(f"{'shape':<24} {'chars':>10} {'seconds':>8} {'peak MB':>8} {'all nodes':>10} {'lines out':>10}")
    for shape in SHAPES:
        out = subprocess.run(
            [sys.executable, __file__, "--one", shape], capture_output=True, text=True, timeout=1800, check=False
        )
        if out.returncode != 0:
            print(f"{shape:<24} FAILED: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout)
        row = f"{r['chars']:>10,} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {r['nodes']:>10,} {r['lines']:>10,}"
        print(f"{shape:<24} {row}", flush=True)


# check's shapes: text builder for size n. Work (graph nodes x gradients) grows as n^2 for the first two.
CHECK_SHAPES: dict[str, Callable[[int], str]] = {
    "product of n inputs": lambda n: "*".join(f"v{i}" for i in range(n)),
    "sum of n squares": lambda n: "+".join(f"v{i}^2" for i in range(n)),
    "nested sin, one input": nested_calls,
}


def check_work(text: str) -> int:
    f = symgraph.compile(text)
    return len(f.program.graph.nodes) * len(f.wrt)


def largest_checkable(shape: str) -> int:
    """The largest n whose check is inside MAX_CHECK_WORK (bisection: work grows with n)."""
    build = CHECK_SHAPES[shape]
    low, high = 1, 2
    while check_work(build(high)) <= MAX_CHECK_WORK:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if check_work(build(mid)) <= MAX_CHECK_WORK else (low, mid)
    return low


def measured(run: Callable[[], str], traced: bool) -> dict[str, object]:
    """Run `run` (which returns its outcome; a LimitError is one too): seconds, the outcome, and peak memory:
    Python's allocations under tracemalloc when `traced`, else the process's peak resident size."""
    import tracemalloc

    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome = run()
    except symgraph.LimitError:
        outcome = "LimitError"
    seconds = time.perf_counter() - start
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "outcome": outcome}


def one_check(shape: str, n: int, traced: bool) -> dict[str, object]:
    """symgraph.check of `shape` at size n: seconds, the outcome and peak memory (see `measured`)."""
    text = CHECK_SHAPES[shape](n)

    def run() -> str:
        report = symgraph.check(text)
        return ("ok" if report.ok else "not ok") + "".join(f"; {note}" for note in report.notes if "budget" in note)

    return {"n": n, "work": check_work(text), **measured(run, traced)}


def _one_check_row(shape: str, size: int, traced: bool) -> str:
    args = [sys.executable, __file__, "--one-check", shape, str(size)] + (["--traced"] if traced else [])
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:  # tracemalloc looks up a line number per allocation: slow in huge functions
        return "over 600 s"
    if out.returncode != 0:
        return f"FAILED: {out.stderr.strip().splitlines()[-1:]}"
    r = json.loads(out.stdout)
    return f"{r['seconds']:>8.2f} {r['peak_mb']:>8.1f}  {r['outcome']}"


def check_table() -> None:
    print(f"MAX_CHECK_WORK = {MAX_CHECK_WORK:,} graph nodes x gradients; default budget {BUDGET:g} s")
    print("each row twice: plain (peak = resident size), then under tracemalloc (peak = Python's allocations)")
    print(f"{'shape':<24} {'n':>6} {'work':>10} {'run':<7} {'seconds':>8} {'peak MB':>8}  outcome")
    for shape in CHECK_SHAPES:
        n = largest_checkable(shape)
        for size in (n, n + 1):  # just under the limit, then just over it
            work = check_work(CHECK_SHAPES[shape](size))
            for traced in (False, True):
                row = _one_check_row(shape, size, traced)
                print(f"{shape:<24} {size:>6} {work:>10,} {'traced' if traced else 'plain':<7} {row}", flush=True)


def _product(n: int) -> str:
    return "*".join(f"v{i}" for i in range(n))


def _pair_products(n: int) -> str:
    return "(" + ", ".join(f"v{i}*v{(i + 1) % n}" for i in range(n)) + ")"


def _derivative_work(kind: str, n: int) -> int:
    """What the limit of `kind` counts for its shape at size n."""
    p = symgraph.parse(DERIVATIVE_SHAPES[kind][0](n))
    if kind == "jacobian":
        return len(p.graph) * len(p.outputs)
    gradient(p.graph, p.output, list(p.inputs.values()))
    return len(p.graph) * (len(p.inputs) if kind == "hessian" else 1)


# kind -> (text builder, the compiler, the limit)
DERIVATIVE_SHAPES: dict[str, tuple[Callable[[int], str], Callable[[str], object], int]] = {
    "hessian": (_product, symgraph.hessian, MAX_DERIVATIVE_WORK),
    "hvp": (_product, symgraph.hvp, MAX_HVP_NODES),
    "jacobian": (_pair_products, symgraph.jacobian, MAX_DERIVATIVE_WORK),
}


def largest_derivative(kind: str) -> int:
    limit = DERIVATIVE_SHAPES[kind][2]
    low, high = 1, 2
    while _derivative_work(kind, high) <= limit:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if _derivative_work(kind, mid) <= limit else (low, mid)
    return low


def one_derivative(kind: str, n: int, traced: bool) -> dict[str, object]:
    """Compile `kind` at size n (explain: render a power tower of n characters): seconds, outcome, peak."""

    def run() -> str:
        if kind == "explain":
            return f"{len(str(symgraph.explain(power_tower(n // 2 + 1)))):,} characters rendered"
        DERIVATIVE_SHAPES[kind][1](DERIVATIVE_SHAPES[kind][0](n))
        return "ok"

    return measured(run, traced)


def derivatives_table() -> None:
    print(f"MAX_DERIVATIVE_WORK = {MAX_DERIVATIVE_WORK:,} (nodes x passes), ", end="")
    print(f"MAX_HVP_NODES = {MAX_HVP_NODES:,}, ", end="")
    print(f"MAX_CELL = {MAX_CELL}; each row plain (peak = resident size), then under tracemalloc")
    print(f"{'kind':<9} {'n':>6} {'work':>10} {'run':<7} {'seconds':>8} {'peak MB':>8}  outcome")
    rows = [(k, size) for k in DERIVATIVE_SHAPES for n in [largest_derivative(k)] for size in (n, n + 1)]
    rows += [("explain", 8_000), ("explain", 40_000)]
    for kind, size in rows:
        work = "" if kind == "explain" else f"{_derivative_work(kind, size):,}"
        for traced in (False, True):
            args = [sys.executable, __file__, "--one-derivative", kind, str(size)] + (["--traced"] if traced else [])
            out = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
            if out.returncode != 0:
                row = f"FAILED: {out.stderr.strip().splitlines()[-1:]}"
            else:
                r = json.loads(out.stdout)
                row = f"{r['seconds']:>8.2f} {r['peak_mb']:>8.1f}  {r['outcome']}"
            print(f"{kind:<9} {size:>6} {work:>10} {'traced' if traced else 'plain':<7} {row}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--at-limits", action="store_true", help="each shape at the limits, in its own process")
    ap.add_argument("--check", action="store_true", help="symgraph.check just under and just over its limit")
    ap.add_argument("--derivatives", action="store_true", help="hessian, hvp, jacobian, explain at their limits")
    ap.add_argument("--one", metavar="SHAPE", help=argparse.SUPPRESS)
    ap.add_argument("--one-derivative", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--one-check", nargs=2, metavar=("SHAPE", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(at_limit(a.one)))
    elif a.one_check:
        print(json.dumps(one_check(a.one_check[0], int(a.one_check[1]), a.traced)))
    elif a.one_derivative:
        print(json.dumps(one_derivative(a.one_derivative[0], int(a.one_derivative[1]), a.traced)))
    elif a.derivatives:
        derivatives_table()
    elif a.check:
        check_table()
    elif a.at_limits:
        limits_table()
    else:
        doubling_table()


if __name__ == "__main__":
    main()
