"""Hessian of an n-variable formula: symgraph.hessian against sympy.hessian + lambdify(cse=True).

Both sides produce a function returning value, gradient and Hessian at a point. Measured side by side in one
run: compile time (text or expression -> callable) and the time of one call at a scalar point; the ratios
are SymPy's time over symgraph's. The formula is a chained Rosenbrock valley plus a term that couples every
pair of inputs, so the Hessian is dense:

    s = sin(x1)*x2 + sin(x2)*x3 + ... + sin(xn)*x1
    f = sum_i 100*(x(i+1) - xi^2)^2 + (1 - xi)^2 + log(1 + s^2)

Usage: python benchmarks/bench_hessian.py [n ...]      (default: 10 50)
       python benchmarks/bench_hessian.py --products    (compile time per Hessian entry, and the size limits)
"""

from __future__ import annotations

import sys
import time
import timeit

import numpy as np
import sympy as sp

from symgraph.higher import HessianFunction
from symgraph.parse import parse


def formula_text(n: int) -> str:
    """The formula in symgraph's language, with a named statement for the coupling sum."""
    coupling = " + ".join(f"sin(x{i})*x{i % n + 1}" for i in range(1, n + 1))
    valley = " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))
    return f"s = {coupling}\nf = {valley} + log(1 + s^2)"


def formula_sympy(n: int) -> tuple[list[sp.Symbol], sp.Expr]:
    """The same formula built directly as a SymPy expression."""
    xs = list(sp.symbols(f"x1:{n + 1}", real=True))
    s = sum(sp.sin(xs[i]) * xs[(i + 1) % n] for i in range(n))
    valley = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    return xs, valley + sp.log(1 + s**2)


def compile_symgraph(n: int) -> HessianFunction:
    return HessianFunction(parse(formula_text(n)))


def compile_sympy(n: int):
    xs, expr = formula_sympy(n)
    gradient = [sp.diff(expr, x) for x in xs]
    hessian = sp.hessian(expr, xs)
    return sp.lambdify(xs, [expr, gradient, hessian], modules="numpy", cse=True)


def best_of(repeat: int, fn, *args):
    """The fastest of `repeat` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def per_call(fn, args: list[float]) -> float:
    """Seconds per call, best of 5 timeit batches."""
    timer = timeit.Timer(lambda: fn(*args))
    number, _ = timer.autorange()
    return min(timer.repeat(5, number)) / number


def run(n: int) -> None:
    repeat = 3 if n <= 20 else 1
    t_ours, ours = best_of(repeat, compile_symgraph, n)
    t_sympy, theirs = best_of(repeat, compile_sympy, n)
    point = list(np.random.default_rng(n).uniform(-1.0, 1.0, n))
    value, gradient, hessian = ours(*point)
    ref_value, ref_gradient, ref_hessian = theirs(*point)
    assert np.isclose(value, ref_value, rtol=1e-10)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(hessian, np.asarray(ref_hessian, dtype=float), rtol=1e-9, atol=1e-9)
    e_ours = per_call(ours, point)
    e_sympy = per_call(theirs, point)
    lines = len(ours.source.splitlines())
    print(f"n = {n}: {n * (n + 1) // 2} distinct Hessian entries, generated module {lines} lines")
    print(f"  compile  symgraph {t_ours * 1e3:9.1f} ms   sympy {t_sympy * 1e3:9.1f} ms  ratio {t_sympy / t_ours:6.1f}x")
    print(f"  one call symgraph {e_ours * 1e6:9.1f} us   sympy {e_sympy * 1e6:9.1f} us  ratio {e_sympy / e_ours:6.1f}x")


def products() -> None:
    """Hessians of x0*x1*...*x(n-1): compile time against the entries the function outputs (linear: the time per
    entry stays flat), then the time to the LimitError of the sizes the limits refuse."""
    import symgraph
    from symgraph import higher

    print(f"Hessian of a product of n inputs (MAX_HESSIAN_ENTRIES = {higher.MAX_HESSIAN_ENTRIES:,}), best of 3:")
    for n in (10, 25, 50, 70, 99):
        text = "*".join(f"x{i}" for i in range(n))
        entries = n * (n + 1) // 2
        t, f = best_of(3, lambda text=text: HessianFunction(parse(text)))
        lines = len(f.source.splitlines())
        per = t / entries * 1e6
        print(f"  n = {n:3d}: {entries:5,} entries, {lines:6,} lines  {t * 1e3:8.1f} ms  {per:6.1f} us/entry")
    for n in (100, 141, 400):
        text = "*".join(f"x{i}" for i in range(n))
        start = time.perf_counter()
        try:
            HessianFunction(parse(text))
            outcome = "compiled"
        except symgraph.LimitError as e:
            outcome = "LimitError: " + e.message.split(";")[-1].strip()
        print(f"  n = {n:3d}: {(time.perf_counter() - start) * 1e3:6.1f} ms to {outcome}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--products"]:
        products()
        sys.exit()
    sizes = [int(a) for a in sys.argv[1:]] or [10, 50]
    print("ratio = SymPy's time / symgraph's time (above 1: symgraph is faster)")
    for n in sizes:
        run(n)
