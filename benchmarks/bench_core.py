"""Core speed figures for issue 2, measured side by side in one run (a noisy 2-core machine: compare ratios).

1. Cheap gradient: value + all 100 gradients vs the value alone, for a 100-input formula, on 10^6-point
   arrays and on plain floats.
2. Compile time is linear: a ~10,000-node formula and one twice its size.
3. Per-call cost on plain floats for the tutorial's cost (w*x+b-y)^2/2: symgraph's generated function,
   the same code written by hand, and SymPy's lambdify of diff (when SymPy is installed).
4. Compile time where SymPy's diff swells: nested y = sin(y)*y + x, depth 15 (SymPy timed with --sympy).

    python benchmarks/bench_core.py [--quick] [--sympy]
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import symgraph  # noqa: E402
from symgraph.function import CompiledFunction  # noqa: E402
from symgraph.parse import parse  # noqa: E402


def best(fn, repeat: int = 5, number: int = 1) -> float:
    """Best of `repeat` timings of `number` calls, in seconds per call."""
    return min(timeit.repeat(fn, repeat=repeat, number=number)) / number


def formula_100(n: int = 100) -> str:
    """A formula in n inputs mixing products, powers and functions along a chain."""
    terms = [f"(x{i} - x{i + 1})^2 * exp(-x{i}^2) + sin(x{i} * x{i + 1}) / (1 + x{i}^2)" for i in range(n - 1)]
    return " + ".join(terms)


def cheap_gradient(points: int, repeat: int) -> None:
    text = formula_100()
    full = symgraph.compile(text)
    value_only = symgraph.compile(text, wrt=[])
    rng = np.random.default_rng(0)
    n = len(full.variables)
    print(f"1. cheap gradient: {n} inputs, {len(full.program.graph)} graph nodes")
    arrays = [rng.uniform(-1, 1, points) for _ in range(n)]
    t_val = best(lambda: value_only.function(*arrays), repeat)
    t_all = best(lambda: full.function(*arrays), repeat)
    print(
        f"   {points:.0e}-point arrays: value {t_val * 1e3:8.1f} ms   value+{n} gradients {t_all * 1e3:8.1f} ms"
        f"   ratio {t_all / t_val:.2f} (target <= 3)"
    )
    floats = [float(v) for v in rng.uniform(-1, 1, n)]
    t_val = best(lambda: value_only.function(*floats), repeat, 200)
    t_all = best(lambda: full.function(*floats), repeat, 200)
    print(
        f"   plain floats:      value {t_val * 1e6:8.1f} us   value+{n} gradients {t_all * 1e6:8.1f} us"
        f"   ratio {t_all / t_val:.2f} (target <= 3)"
    )


def compile_linear(base_terms: int) -> None:
    print("2. compile time against size (parse + adjoint + codegen + Python's compile, best of 3):")
    rows = []
    for k in (1, 2, 4):
        terms = base_terms * k
        text = " + ".join(f"sin(x{i % 50} * {i + 1}) * x{(i + 7) % 50}" for i in range(terms))
        dt = best(lambda text=text: CompiledFunction(parse(text)), 3)  # direct: no cache
        f = CompiledFunction(parse(text))
        size = len(f.program.graph)
        rows.append((size, dt))
        print(f"   {size:7d} nodes (with adjoints): {dt * 1e3:8.1f} ms   {dt / size * 1e6:.1f} us/node")
    ratios = [rows[i + 1][1] / rows[i][1] for i in range(len(rows) - 1)]
    print(f"   doubling the size multiplies the time by {', '.join(f'{r:.2f}' for r in ratios)} (linear: about 2)")


def float_call_cost(with_sympy: bool) -> None:
    J = symgraph.compile("(w*x+b-y)^2/2", wrt=["w", "b"])

    def by_hand(w, x, b, y):
        r = w * x + b - y
        value = r * r / 2.0
        return value, (r * x, r)

    args = (3.0, -3.0, 1.0, 5.0)
    assert by_hand(*args) == J.function(*args)
    n = 200_000
    t_gen = best(lambda: J.function(*args), 7, n)
    t_call = best(lambda: J(*args), 7, n)
    t_hand = best(lambda: by_hand(*args), 7, n)
    print("3. one call on plain floats, (w*x+b-y)^2/2 with d/dw, d/db:")
    print(
        f"   generated function {t_gen * 1e9:6.0f} ns   through CompiledFunction {t_call * 1e9:6.0f} ns"
        f"   written by hand {t_hand * 1e9:6.0f} ns   ratio generated/hand {t_gen / t_hand:.2f}"
    )
    if with_sympy:
        import sympy as sp

        w, x, b, y = sp.symbols("w x b y", real=True)
        cost = (w * x + b - y) ** 2 / 2
        lam = sp.lambdify((w, x, b, y), (cost, (sp.diff(cost, w), sp.diff(cost, b))), cse=True)
        t_sym = best(lambda: lam(*args), 7, n)
        print(f"   SymPy lambdify(cse=True) {t_sym * 1e9:6.0f} ns   ratio generated/SymPy {t_gen / t_sym:.2f}")


def nested(depth: int, with_sympy: bool) -> None:
    lines = ["y0 = sin(x)*x + x"] + [f"y{i} = sin(y{i - 1})*y{i - 1} + x" for i in range(1, depth)]
    text = "\n".join(lines)
    t0 = time.perf_counter()
    f = symgraph.compile(text)
    dt = time.perf_counter() - t0
    print(
        f"4. nested y = sin(y)*y + x, depth {depth}: symgraph compiles in {dt * 1e3:.1f} ms"
        f" ({len(f.program.graph)} nodes)"
    )
    if with_sympy:
        import sympy as sp

        x = sp.Symbol("x", real=True)
        y = sp.sin(x) * x + x
        for _ in range(1, depth):
            y = sp.sin(y) * y + x
        t0 = time.perf_counter()
        d = sp.diff(y, x)
        lam = sp.lambdify(x, d)
        ds = time.perf_counter() - t0
        ours = f(0.3)[1][0]
        print(
            f"   SymPy diff + lambdify: {ds:.1f} s   (ratio {ds / dt:.0f}x); gradients agree: "
            f"{np.isclose(ours, lam(0.3), rtol=1e-9)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--sympy", action="store_true", help="also time SymPy (the nested case takes ~20 s)")
    a = ap.parse_args()
    cheap_gradient(10**5 if a.quick else 10**6, 3 if a.quick else 5)
    compile_linear(500 if a.quick else 2500)
    float_call_cost(a.sympy)
    nested(8 if a.quick else 15, a.sympy)


if __name__ == "__main__":
    main()
