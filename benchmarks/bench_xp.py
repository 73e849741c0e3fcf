"""symgraph's one generated function on other array libraries, in one run: plain NumPy, the Array-API form under
jax.jit (f.jit()), JAX's own jit(value_and_grad), PyTorch eager (its autograd) and the Array-API form on
PyTorch tensors, on Rosenbrock n=100 at 100,000 points and the digits network step (batch 256).

    python benchmarks/bench_xp.py [--quick] [--rounds N] [--out FILE]

The workloads, JAX's and PyTorch's own code are bench_peers.py's; everything runs on one CPU thread. Contenders
are timed in turn, round after round (interleaved): min and median over the rounds. The target: the jit-ed
symgraph code within 1.1x of JAX's own value_and_grad (min over the rounds).
"""

from __future__ import annotations

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JAX_PLATFORMS="cpu")
os.environ.update(XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse
import importlib.util
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_peers as bp
import hand_written as hw

import symgraph

TARGET = 1.1  # jit-ed symgraph / JAX's own value_and_grad


def contenders(w: bp.Workload) -> dict[str, Callable[[], Any]]:
    """Each contender's value-and-gradients call on the workload's inputs (results waited for)."""
    f = symgraph.compile(w.text, wrt=w.wrt)
    calls: dict[str, Callable[[], Any]] = {"symgraph, NumPy": lambda: f(*w.inputs)}
    if importlib.util.find_spec("jax") is not None:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        step, args = f.jit(), [jnp.asarray(a) for a in w.inputs]
        calls["symgraph, jax.jit"] = lambda: jax.block_until_ready(step(*args))
        calls["JAX jit(value_and_grad)"] = bp.peer_jax(w)[0]
    else:
        print("note: JAX is not installed: its rows are skipped")
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)
        tensors = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in w.inputs]
        calls["symgraph, PyTorch eager"] = lambda: f(*tensors)
        calls["PyTorch eager (autograd)"] = bp.peer_torch(w)[0]
    else:
        print("note: PyTorch is not installed: its rows are skipped")
    return calls


def run(quick: bool, rounds: int) -> list[str]:
    """The markdown report: one table per workload, and whether the target holds."""
    out = [f"# symgraph on array libraries ({platform.python_implementation()} {platform.python_version()}, "
           f"{platform.machine()}, one thread)"]  # fmt: skip
    for name in ("numpy", "jax", "torch"):
        if importlib.util.find_spec(name) is not None:
            out.append(f"- {name} {__import__(name).__version__}")
    verdicts = []
    for w in bp.workloads(quick):
        if not (w.name.startswith("Rosenbrock") or w.name.startswith("digits")):
            continue
        calls = contenders(w)
        want = bp.as_numbers(*calls["symgraph, NumPy"]())
        errors = {k: hw.max_relative_error(bp.as_numbers(*_pair(c())), want) for k, c in calls.items()}
        t = bp.interleaved(calls, rounds, 0.05)
        base = t.get("JAX jit(value_and_grad)", t["symgraph, NumPy"])
        title = f"{w.name} wrt {', '.join(w.wrt[:4])}{', ...' if len(w.wrt) > 4 else ''}"
        out += bp.table(title, ["contender", "min (ms)", "median (ms)", "/ JAX's own (min, median)", "max rel. err"])
        for k, s in t.items():
            out.append(f"| {k} | {min(s) * 1e3:.2f} | {statistics.median(s) * 1e3:.2f} | {bp.ratios(s, base)} | "
                       f"{errors[k]:.0e} |")  # fmt: skip
        if "symgraph, jax.jit" in t:
            ratio = min(t["symgraph, jax.jit"]) / min(base)
            verdicts.append(f"- {w.name}: symgraph under jax.jit is {ratio:.2f}x JAX's own "
                            f"({'within' if ratio <= TARGET else 'NOT within'} the {TARGET}x target)")  # fmt: skip
    return [*out, "\n### Target\n", *verdicts]


def _pair(result: Any) -> tuple[Any, Any]:
    """(value, gradients) of any contender's result."""
    value, grads = result
    return value, list(grads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller Rosenbrock (n=20, 10,000 points)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()
    text = "\n".join(run(args.quick, args.rounds if not args.quick else min(args.rounds, 3)))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
