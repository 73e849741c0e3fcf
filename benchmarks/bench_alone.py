"""Rosenbrock n=100 (value + gradients, and the value alone) and the seed cube with exact=False against the
hand-written NumPy, each pair alone in a fresh process: interleaved rounds, and the page faults per call; and
logsumexp's row maximum (runtime._shift_max) against np.max.

bench_peers.py runs these after other workloads, whose large arrays leave glibc's malloc keeping freed memory;
here nothing has, and glibc gives each freed 800 KB temporary back to the system (it trims the heap's top past
128 KB, or unmaps a chunk it mapped), so the next one faults its pages in again (~2 us a page on the
development machine). The generated code makes a few temporaries per term; the hand-written value loop
makes none. Compare with glibc told to keep its memory:

    python benchmarks/bench_alone.py [--rounds 7]
    MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=16777216 python benchmarks/bench_alone.py
    python benchmarks/bench_alone.py --keep-memory  # the same settings, made by symgraph.keep_memory()
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hand_written as hw  # noqa: E402

import symgraph  # noqa: E402
from symgraph.runtime import _shift_max  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--keep-memory", action="store_true", help="call symgraph.keep_memory() first")
    args = parser.parse_args()
    if args.keep_memory:
        print(f"symgraph.keep_memory(): {symgraph.keep_memory()}")
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-2.0, 2.0, args.points) for _ in range(100)]
    cube = rng.uniform(-8.0, 2.0, 10 * args.points)
    f = symgraph.compile(hw.rosenbrock_text(100))
    v = symgraph.compile(hw.rosenbrock_text(100), wrt=[])
    s = symgraph.compile("((x+5)^3+1)^2", exact=False)
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "Rosenbrock n=100, value + gradients": (lambda: hw.rosenbrock(*xs), lambda: f(*xs)),
        "Rosenbrock n=100, value alone": (lambda: hw.rosenbrock_value(*xs), lambda: v(*xs)),
        "seed cube, exact=False, value + gradient": (lambda: hw.seed(cube), lambda: s(cube)),
    }
    for rows in (256, 4096):  # logsumexp's shift: np.max along short rows against runtime._shift_max
        z = rng.normal(0.0, 3.0, (rows, 10))
        pairs[f"row maximum of {rows} x 10 logits (hand: np.max)"] = (
            lambda z=z: np.max(z, axis=1, keepdims=True),
            lambda z=z: _shift_max(z, 1),
        )
    times: dict[tuple[str, int], list[float]] = {(name, k): [] for name in pairs for k in (0, 1)}
    faults: dict[tuple[str, int], int] = {}
    for name, pair in pairs.items():
        for _ in range(args.rounds):  # the two in turn, round by round
            for k in (0, 1):
                before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                times[(name, k)].append(min(timeit.repeat(pair[k], number=3, repeat=3)) / 3)
                faults[(name, k)] = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 9
    head = f"| workload, {args.points:,} points (cube: 10x) | hand (ms) | symgraph (ms) | ratio (min) |"
    print(head + " page faults per call (hand / symgraph) |")
    print("|---|---|---|---|---|")
    for name in pairs:
        hand, ours = min(times[(name, 0)]), min(times[(name, 1)])
        pages = f"{faults[(name, 0)]:,} / {faults[(name, 1)]:,}"
        print(f"| {name} | {hand * 1e3:.3f} | {ours * 1e3:.3f} | {ours / hand:.2f}x | {pages} |")


if __name__ == "__main__":
    main()
