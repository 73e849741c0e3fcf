"""symgraph's Array-API form on a CUDA GPU: correctness and speed, with CuPy and PyTorch CUDA.

    python benchmarks/gpu_check.py [--rounds N]

For each GPU library found (CuPy with a device, PyTorch with torch.cuda.is_available()): every formula of the
op-coverage table (tests/test_against_sympy.py) and every matrix case (tests/test_matrix_ops.py) is run on the
GPU and compared with NumPy's result (1e-12 relative; results must be the library's arrays, on the GPU, of
NumPy's shapes); then Rosenbrock n=100 at 100,000 points and the digits network step (batch 256) are timed on
the GPU against NumPy on the CPU. Without a GPU it says so and exits 0 (nothing to check).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import hand_mlp  # noqa: E402
import hand_written as hw  # noqa: E402

import symgraph  # noqa: E402

REL = 1e-12


def gpu_libraries() -> tuple[dict[str, tuple[Callable[[np.ndarray], Any], Callable[[], None]]], list[str]]:
    """name -> (NumPy array -> GPU array, synchronize), and why each missing library is missing."""
    found: dict[str, tuple[Callable[[np.ndarray], Any], Callable[[], None]]] = {}
    why = []
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            found["CuPy"] = (cupy.asarray, lambda: cupy.cuda.Device().synchronize())
        else:
            why.append("CuPy: no CUDA device")
    except ImportError:
        why.append("CuPy: not installed")
    except Exception as e:  # noqa: BLE001 - CUDA driver errors come in many types
        why.append(f"CuPy: no usable CUDA device ({type(e).__name__}: {e})")
    try:
        import torch

        if torch.cuda.is_available():
            found["PyTorch CUDA"] = (lambda a: torch.as_tensor(a, device="cuda"), torch.cuda.synchronize)
        else:
            why.append("PyTorch: CUDA is not available")
    except ImportError:
        why.append("PyTorch: not installed")
    return found, why


def to_numpy(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        return np.asarray(a.detach().cpu().numpy())
    return np.asarray(a.get() if hasattr(a, "get") else a)


def compare(f: Any, args: list[Any], to_gpu: Callable[[np.ndarray], Any]) -> float:
    """The largest normwise relative error of f on the GPU against f in NumPy; raises on a wrong type or shape."""
    want = [f(*args)[0], *f(*args)[1]]
    gpu_args = [a if isinstance(a, float) else to_gpu(a) for a in args]
    like = next(a for a in gpu_args if not isinstance(a, float))
    value, grads = f(*gpu_args)
    worst = 0.0
    for got, w in zip([value, *grads], want):
        assert type(got) is type(like), f"a {type(got).__name__}, not a {type(like).__name__}"
        assert str(getattr(got, "device", "")) == str(getattr(like, "device", "")), "not on the inputs' device"
        g, w = to_numpy(got), np.asarray(w, dtype=float)
        assert g.shape == w.shape, f"shape {g.shape}, NumPy's {w.shape}"
        finite = np.isfinite(w)
        assert np.array_equal(np.isnan(g), np.isnan(w)), "nan at other places"
        scale = max(float(np.max(np.abs(w[finite]), initial=0.0)), 1e-300)
        worst = max(worst, float(np.max(np.abs(g[finite] - w[finite]), initial=0.0)) / scale)
    return worst


def check(name: str, to_gpu: Callable[[np.ndarray], Any]) -> bool:
    """Every coverage formula and matrix case on the GPU; prints the failures, returns True when all pass."""
    from tests.test_against_sympy import CASES
    from tests.test_matrix_ops import CASES as MATRIX
    from tests.test_matrix_ops import _inputs, _weighted

    failures, count = [], 0
    for text, bounds in CASES:
        f = symgraph.compile(text)
        rng = np.random.default_rng(zlib.crc32(text.encode()))
        shapes = [(3, 1), (4,), (3, 4), ()]
        args = [rng.uniform(*bounds, size=shapes[k % 4]) for k in range(len(f.variables))]
        count += 1
        try:
            if (err := compare(f, [float(a) if a.shape == () else a for a in args], to_gpu)) > REL:
                failures.append(f"{text}: relative error {err:.1e}")
        except Exception as e:  # noqa: BLE001 - report every failure, then the count
            failures.append(f"{text}: {type(e).__name__}: {e}")
    for expr, shapes in MATRIX:
        rng = np.random.default_rng(zlib.crc32(f"{expr}|{shapes}".encode()))
        args = _inputs(shapes, rng)
        f = symgraph.compile(_weighted(expr, args, "whole", rng))
        count += 1
        try:
            if (err := compare(f, [args[n] for n in f.variables], to_gpu)) > REL:
                failures.append(f"{expr} {shapes}: relative error {err:.1e}")
        except Exception as e:  # noqa: BLE001
            failures.append(f"{expr} {shapes}: {type(e).__name__}: {e}")
    print(f"{name}: {count - len(failures)} of {count} formulas equal NumPy's results (1e-12 relative)")
    for line in failures:
        print(f"  FAILED {line}")
    return not failures


def timed(call: Callable[[], Any], sync: Callable[[], None], rounds: int) -> list[float]:
    call()
    sync()
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        sync()
        out.append(time.perf_counter() - start)
    return out


def speed(name: str, to_gpu: Callable[[np.ndarray], Any], sync: Callable[[], None], rounds: int) -> None:
    """Rosenbrock n=100 at 1e5 points and the digits step: GPU against NumPy on the CPU."""
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1.5, 1.5, 100_000) for _ in range(100)]
    net = [rng.uniform(0, 1, (256, 64)), rng.normal(0, 1 / 8, (64, 32)), rng.normal(0, 0.1, 32)]
    net += [rng.normal(0, 1 / np.sqrt(32), (32, 10)), rng.normal(0, 0.1, 10), np.eye(10)[rng.integers(0, 10, 256)]]
    print(f"\n| {name} | CPU NumPy min (ms) | GPU min (ms) | GPU median (ms) | CPU / GPU |\n|:--|--:|--:|--:|--:|")
    for label, text, wrt, args in [
        ("Rosenbrock n=100, 100,000 points", hw.rosenbrock_text(100), None, xs),
        ("digits network step, batch 256", hand_mlp.FORMULA, list(hand_mlp.WEIGHTS), net),
    ]:
        f = symgraph.compile(text, wrt=wrt)
        gpu = [to_gpu(a) for a in args]
        cpu_t = timed(lambda f=f, a=args: f(*a), lambda: None, rounds)
        gpu_t = timed(lambda f=f, a=gpu: f(*a), sync, rounds)
        print(f"| {label} | {min(cpu_t) * 1e3:.2f} | {min(gpu_t) * 1e3:.2f} | "
              f"{statistics.median(gpu_t) * 1e3:.2f} | {min(cpu_t) / min(gpu_t):.1f}x |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    found, why = gpu_libraries()
    if not found:
        print(f"skipped: no CUDA GPU found ({'; '.join(why)}). Nothing was checked or timed.")
        return 0
    ok = True
    for name, (to_gpu, sync) in found.items():
        ok = check(name, to_gpu) and ok
        speed(name, to_gpu, sync, args.rounds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
