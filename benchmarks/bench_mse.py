"""Gradient of the mean-squared-error cost over 10^7 points: symgraph against NumPy written by hand.

    python benchmarks/bench_mse.py [--points N] [--repeat R]

Times are the best of R runs, taken in turn (symgraph, hand-written, value alone, ...) so that the noise
of a shared machine falls on all of them alike; peak memory is what tracemalloc sees NumPy allocate during
one call, beyond the inputs. Ratios are against the best hand-written NumPy: one temporary array for the
residual, updated in place, and dot products, which need no temporaries at all.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import symgraph

FORMULA = "mean((w*x + b - y)^2)/2"


def by_hand(w: float, x: np.ndarray, b: float, y: np.ndarray) -> tuple[float, tuple[float, float]]:
    """The same value and gradient, written the way a careful NumPy user would."""
    r = w * x
    r += b
    r -= y
    n = r.size
    return r.dot(r) / (2 * n), (r.dot(x) / n, r.sum() / n)


def by_hand_value(w: float, x: np.ndarray, b: float, y: np.ndarray) -> float:
    r = w * x
    r += b
    r -= y
    return r.dot(r) / (2 * r.size)


def peak_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=args.points)
    y = 2.0 * x - 1.0 + rng.normal(0.0, 0.1, size=args.points)
    w, b = 1.5, 0.25
    grad = symgraph.compile(FORMULA, wrt=["w", "b"])
    value_only = symgraph.compile(FORMULA, wrt=[])

    contenders: dict[str, Callable[[], Any]] = {
        "symgraph value+grad": lambda: grad(w, x, b, y),
        "hand NumPy value+grad": lambda: by_hand(w, x, b, y),
        "symgraph value alone": lambda: value_only(w, x, b, y),
        "hand NumPy value alone": lambda: by_hand_value(w, x, b, y),
    }
    got, want = grad(w, x, b, y), by_hand(w, x, b, y)
    np.testing.assert_allclose([got[0], *got[1]], [want[0], *want[1]], rtol=1e-9)

    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(args.repeat):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    peaks = {name: peak_bytes(fn) for name, fn in contenders.items()}

    print(f"{FORMULA} over {args.points:,} points, wrt (w, b); best of {args.repeat}")
    print(f"{'':24s} {'time':>10s} {'peak memory':>12s}")
    for name in contenders:
        print(f"{name:24s} {best[name] * 1e3:8.1f} ms {peaks[name] / 2**20:9.0f} MiB")
    hand, alone = "hand NumPy value+grad", "symgraph value alone"
    ours = "symgraph value+grad"
    print(f"symgraph / hand-written:      time {best[ours] / best[hand]:.2f}x, memory {peaks[ours] / peaks[hand]:.2f}x")
    print(f"value+grad / value alone:     time {best[ours] / best[alone]:.2f}x (symgraph)")
    print(f"input arrays x and y: {(x.nbytes + y.nbytes) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
