"""One training step of the 64-32-10 tanh network (loss and its gradients wrt W1, b1, W2, b2): symgraph's
generated function against the hand-written NumPy backward pass, and PyTorch eager and JAX jit when installed.

    python benchmarks/bench_mlp.py [--quick]

Contenders are called in turn, round after round (interleaved), so the noise of a shared machine falls on all
alike; each sample times enough calls to last about a millisecond and the table gives the per-call min and
median over the rounds. Peak memory is what tracemalloc sees allocated during one call beyond the inputs:
NumPy reports its arrays to tracemalloc, PyTorch and JAX do not (n/a). Ratios are to the hand-written NumPy.
symgraph is timed through f.function, the generated function itself, as a training loop would call it.
The compile time of the formula (text to generated function, the cache bypassed) is measured too.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hand_mlp.py, next to this file

import hand_mlp  # noqa: E402

import symgraph  # noqa: E402

WEIGHTS = list(hand_mlp.WEIGHTS)
Step = Callable[[], Any]


def make_inputs(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A batch of n rows like the digits (pixels in 0..1, one-hot targets) and weights scaled by fan-in."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (n, 64))
    Y = np.eye(10)[rng.integers(0, 10, n)]
    W1, b1 = rng.normal(0, 1 / 8, (64, 32)), rng.normal(0, 0.1, 32)
    W2, b2 = rng.normal(0, 1 / np.sqrt(32), (32, 10)), rng.normal(0, 0.1, 10)
    return X, Y, W1, b1, W2, b2


def torch_step(inputs: tuple[np.ndarray, ...]) -> Step | None:
    """PyTorch eager: leaf tensors sharing the arrays' memory, forward, backward; None when not installed."""
    try:
        import torch
    except ImportError:
        return None
    X, Y, *weights = (torch.from_numpy(a) for a in inputs)

    def step() -> Any:
        W1, b1, W2, b2 = (w.detach().requires_grad_() for w in weights)
        Z = torch.tanh(X @ W1 + b1) @ W2 + b2
        loss = (torch.logsumexp(Z, dim=1) - (Y * Z).sum(dim=1)).mean()
        loss.backward()
        return loss.item(), tuple(w.grad for w in (W1, b1, W2, b2))

    return step


def jax_step(inputs: tuple[np.ndarray, ...]) -> Step | None:
    """JAX: jit of value_and_grad in float64, waited for; None when not installed."""
    try:
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def loss(X: Any, Y: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> Any:
        Z = jnp.tanh(X @ W1 + b1) @ W2 + b2
        return jnp.mean(logsumexp(Z, axis=1) - jnp.sum(Y * Z, axis=1))

    fn = jax.jit(jax.value_and_grad(loss, argnums=(2, 3, 4, 5)))
    args = [jnp.asarray(a) for a in inputs]

    def step() -> Any:
        return jax.block_until_ready(fn(*args))

    step()  # compile outside the timing
    return step


def _symgraph(inputs: tuple[np.ndarray, ...]) -> tuple[Any, tuple[np.ndarray, ...]]:
    """symgraph's generated function for the network, and `inputs` (X, Y, W1, b1, W2, b2) in its order."""
    compiled = symgraph.compile(hand_mlp.FORMULA, wrt=WEIGHTS)
    by_name = dict(zip(("X", "Y", "W1", "b1", "W2", "b2"), inputs))
    return compiled.function, tuple(by_name[name] for name in compiled.variables)


def contenders(inputs: tuple[np.ndarray, ...]) -> dict[str, Step]:
    """name -> a call of one training step on `inputs`; the hand-written NumPy first (the baseline)."""
    f, ordered = _symgraph(inputs)
    steps: dict[str, Step] = {
        "hand-written NumPy": lambda: hand_mlp.loss_and_grads(*inputs),
        "symgraph f.function": lambda: f(*ordered),
    }
    for name, make in (("PyTorch eager", torch_step), ("JAX jit", jax_step)):
        step = make(inputs)
        if step is not None:
            steps[name] = step
    return steps


def check(inputs: tuple[np.ndarray, ...]) -> None:
    """symgraph and the hand-written step agree before either is timed."""
    f, ordered = _symgraph(inputs)
    (loss, grads), (want_loss, want) = f(*ordered), hand_mlp.loss_and_grads(*inputs)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-10)
    for g, w in zip(grads, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12 * np.abs(w).max())


def calls_per_sample(step: Step, target: float = 1e-3) -> int:
    """How many calls take about `target` seconds (at least one)."""
    start = time.perf_counter()
    step()
    return max(1, int(target / max(time.perf_counter() - start, 1e-7)))


def peak_bytes(step: Step) -> int:
    """The peak of tracemalloc's traced memory during one call, beyond what was allocated before it."""
    tracemalloc.start()
    step()  # the first traced call may fill caches; measure the second
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - before


def time_steps(steps: dict[str, Step], rounds: int) -> dict[str, list[float]]:
    """Per-call seconds of each step, one sample per round, the steps taken in turn within a round."""
    number = {name: calls_per_sample(step) for name, step in steps.items()}
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(number[name]):
                step()
            samples[name].append((time.perf_counter() - start) / number[name])
    return samples


def compile_times(repeat: int) -> list[float]:
    """Seconds to compile the formula with every gradient of the weights, each under a new function name so
    that symgraph's cache of compiled text cannot serve it."""
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        symgraph.compile(hand_mlp.FORMULA, wrt=WEIGHTS, name=f"step_{i}_{time.perf_counter_ns()}")
        times.append(time.perf_counter() - start)
    return times


def table(n: int, samples: dict[str, list[float]], peaks: dict[str, int | None]) -> list[str]:
    """Markdown rows for one batch size: time (min, median) and peak memory, and their ratios to by-hand."""
    base = "hand-written NumPy"
    base_min, base_med, base_peak = min(samples[base]), statistics.median(samples[base]), peaks[base]
    rows = []
    for name, s in samples.items():
        lo, med, peak = min(s), statistics.median(s), peaks[name]
        memory = "n/a" if peak is None else f"{peak / 1024:,.0f} KiB"
        memory_ratio = "n/a" if peak is None or not base_peak else f"{peak / base_peak:.2f}x"
        rows.append(
            f"| {n:5d} | {name:20s} | {lo * 1e6:8.1f} | {med * 1e6:11.1f} | {lo / base_min:9.2f}x | "
            f"{med / base_med:12.2f}x | {memory:>9s} | {memory_ratio:>6s} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test, noisier numbers)")
    args = parser.parse_args()
    rounds = 5 if args.quick else 31

    start = time.perf_counter()
    symgraph.compile(hand_mlp.FORMULA, wrt=WEIGHTS, name="first_compile")
    first = time.perf_counter() - start
    compiles = compile_times(5 if args.quick else 30)

    for name, module in (("PyTorch eager", "torch"), ("JAX jit", "jax")):
        if importlib.util.find_spec(module) is None:
            print(f"{name}: {module} is not installed, skipped")
    rows = []
    for n in (256, 4096):
        inputs = make_inputs(n)
        check(inputs)
        steps = contenders(inputs)
        samples = time_steps(steps, rounds)
        numpy_based = ("hand-written NumPy", "symgraph f.function")
        peaks = {name: peak_bytes(step) if name in numpy_based else None for name, step in steps.items()}
        rows += table(n, samples, peaks)

    print(f"\nOne training step (loss + gradients wrt W1, b1, W2, b2), float64; {rounds} interleaved rounds.")
    print(f"NumPy {np.__version__}, symgraph {symgraph.__version__}, Python {sys.version.split()[0]}\n")
    print("| batch | contender            | min (us) | median (us) | min / hand | median / hand | peak mem. | / hand |")
    print("|------:|:---------------------|---------:|------------:|-----------:|--------------:|----------:|-------:|")
    print("\n".join(rows))
    print(
        f"\ncompile time of the formula: first {first * 1e3:.1f} ms; then min {min(compiles) * 1e3:.1f} ms, "
        f"median {statistics.median(compiles) * 1e3:.1f} ms over {len(compiles)} (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
