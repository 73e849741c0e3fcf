"""symgraph against its peers and hand-written NumPy, in one run: arrays, Python floats and compile time.

    python benchmarks/bench_peers.py [--quick] [--out FILE]

Peers: SymPy (diff + lambdify, cse=True), HIPS autograd, and when installed JAX (jit), PyTorch (eager) and
CasADi (SX); a missing peer is skipped with a note. Everything runs on one thread (set before NumPy is
imported). Contenders are timed in turn, round after round (interleaved), so the noise of a shared machine
falls on all alike: min and median over the rounds. Peak memory: tracemalloc, NumPy-based contenders only.
"""

from __future__ import annotations

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JAX_PLATFORMS="cpu")
os.environ.update(XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse
import datetime
import importlib.metadata
import importlib.util
import platform
import statistics
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hand_written.py and hand_mlp.py, next to this file

import hand_mlp
import hand_written as hw
from bench_mlp import peak_bytes

import symgraph

Call = Callable[[], Any]
Pair = tuple[Call, Call]  # (value and gradients, value alone)
PEERS = {"JAX": "jax", "PyTorch": "torch", "CasADi": "casadi"}
ARRAY_COLUMNS = ["contender", "v+g min (ms)", "v+g median (ms)", "/ hand (min, median)", "value min (ms)"]
ARRAY_COLUMNS += ["value median (ms)", "/ hand (min, median)", "cheap gradient (v+g / value)", "peak mem. (MiB)"]
ARRAY_COLUMNS += ["/ hand", "value peak / hand", "max rel. err"]
# tracemalloc sees these contenders' memory
NUMPY_BASED = ("hand-written", "symgraph", "symgraph exact=False", "SymPy lambdify", "autograd")
PER_POINT = ("SymPy lambdify", "CasADi")  # built from scalar symbols: not run on the matrix formula


@dataclass
class Workload:
    """A formula, its inputs in symgraph's order, the hand-written (value+gradients, value) and `model(m, *inputs)`:
    the formula in a NumPy-like namespace m, per point where m.mean is the identity (SymPy, CasADi)."""

    name: str
    text: str
    wrt: list[str]
    inputs: tuple[Any, ...]
    hand: tuple[Callable[..., Any], Callable[..., Any]]
    model: Callable[..., Any]
    reduce: bool = False  # the value is one number (a mean), not one per point

    def __post_init__(self) -> None:
        self.names = symgraph.compile(self.text, wrt=[]).variables
        self.argnum = tuple(self.names.index(v) for v in self.wrt)


def rosen_model(m: Any, *v: Any) -> Any:
    return sum(100 * (v[i + 1] - v[i] ** 2) ** 2 + (1 - v[i]) ** 2 for i in range(len(v) - 1))


def mlp_model(m: Any, X: Any, W1: Any, b1: Any, W2: Any, b2: Any, Y: Any) -> Any:
    Z = m.tanh(X @ W1 + b1) @ W2 + b2
    return m.mean(m.lse(Z) - (Y * Z).sum(1))


def workloads(quick: bool) -> list[Workload]:
    """The four array workloads; --quick shrinks the sizes (not the network's batch)."""
    rng = np.random.default_rng(0)
    n, p = (20, 10_000) if quick else (100, 100_000)
    xs = tuple(rng.uniform(-1.5, 1.5, p) for _ in range(n))
    q = 1_000_000 if quick else 10_000_000
    x = rng.uniform(-2.0, 2.0, q)
    y = 2.0 * x - 1.0 + rng.normal(0.0, 0.1, q)
    s = rng.uniform(-8.0, 2.0, 100_000 if quick else 1_000_000)
    X, Y = rng.uniform(0, 1, (256, 64)), np.eye(10)[rng.integers(0, 10, 256)]
    net = (X, rng.normal(0, 1 / 8, (64, 32)), rng.normal(0, 0.1, 32), rng.normal(0, 1 / np.sqrt(32), (32, 10)))
    net += (rng.normal(0, 0.1, 10), Y)  # symgraph's order: first use in the text (X, W1, b1, W2, b2, Y)
    ros, mse, cube = (hw.rosenbrock, hw.rosenbrock_value), (hw.mse, hw.mse_value), (hw.seed, hw.seed_value)
    mlp = (lambda *a: hand_mlp.loss_and_grads(a[0], a[5], *a[1:5]), lambda *a: hw.mlp_loss(a[0], a[5], *a[1:5]))
    xn, cube_model = [f"x{i}" for i in range(n)], lambda m, x: ((x + 5) ** 3 + 1) ** 2
    mse_model = lambda m, w, x, b, y: m.mean((w * x + b - y) ** 2 / 2)  # noqa: E731
    return [
        Workload(f"Rosenbrock n={n}, {p:,} points", hw.rosenbrock_text(n), xn, xs, ros, rosen_model),
        Workload(f"MSE, {q:,} points", "mean((w*x+b-y)^2)/2", ["w", "b"], (1.5, x, 0.25, y), mse, mse_model, True),
        Workload(f"seed cube, {s.size:,} points", "((x+5)^3+1)^2", ["x"], (s,), cube, cube_model),
        Workload("digits network, batch 256", hand_mlp.FORMULA, list(hand_mlp.WEIGHTS), net, mlp, mlp_model, True),
    ]


def peer_symgraph(w: Workload, exact: bool = True) -> Pair:
    """The compiled function (with its argument checks) for value+gradients, and compiled with wrt=[]."""
    f, v = symgraph.compile(w.text, wrt=w.wrt, exact=exact), symgraph.compile(w.text, wrt=[], exact=exact)
    return (lambda: f(*w.inputs)), (lambda: v(*w.inputs)[0])


def reduced(w: Workload, args: Any, f: Callable[..., Any], v: Callable[..., Any], mean: Callable[..., Any]) -> Pair:
    """Calls of per-point functions f -> [value, *gradients] and v -> value on `args`, each output then reduced
    by `mean` when the workload's value is a mean over the data."""
    if not w.reduce:
        mean = lambda a: a  # noqa: E731

    def step() -> Any:
        out = f(*args)
        return mean(out[0]), [mean(g) for g in out[1:]]

    return step, (lambda: mean(v(*args)))


def peer_sympy(w: Workload) -> Pair:
    """diff + lambdify(cse=True) of the per-point expression; np.mean of each output for a mean."""
    import sympy as sp

    syms = sp.symbols(w.names)
    expr = w.model(SimpleNamespace(mean=lambda e: e), *syms)
    grad = [sp.diff(expr, syms[i]) for i in w.argnum]
    return reduced(w, w.inputs, sp.lambdify(syms, [expr, *grad], cse=True), sp.lambdify(syms, expr, cse=True), np.mean)


def peer_casadi(w: Workload) -> Pair:
    """An SX Function of the per-point expression and its gradient, mapped (serial) over the points; for a mean
    the map sums its outputs (reduce_out), then divides. Data are passed as 1 x N rows (reshaped once)."""
    import casadi as ca

    syms = [ca.SX.sym(n) for n in w.names]
    expr = w.model(SimpleNamespace(mean=lambda e: e), *syms)
    grad = ca.gradient(expr, ca.vertcat(*(syms[i] for i in w.argnum)))
    n, shared = max(np.size(a) for a in w.inputs), [not isinstance(a, np.ndarray) for a in w.inputs]
    f = ca.Function("f", syms, [expr] + [grad[k] for k in range(len(w.argnum))])
    fm = f.map(n, shared, [w.reduce] * (1 + len(w.argnum)), {})
    vm = ca.Function("v", syms, [expr]).map(n, shared, [w.reduce], {})
    args = [a if s else a.reshape(1, -1) for a, s in zip(w.inputs, shared)]
    return reduced(w, args, fm, vm, lambda a: float(a) / n)


def peer_autograd(w: Workload) -> Pair:
    """make_vjp pulled back from ones: value_and_grad for a mean (it is make_vjp and 1.0), each point's own
    gradient for per-point values."""
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    m = SimpleNamespace(mean=anp.mean, tanh=anp.tanh, lse=lambda z: logsumexp(z, axis=1))
    fn = lambda *a: w.model(m, *a)  # noqa: E731
    vjp = autograd.make_vjp(fn, w.argnum)

    def step() -> Any:
        back, value = vjp(*w.inputs)
        return value, back(np.ones_like(value))

    return step, (lambda: fn(*w.inputs))


def peer_jax(w: Workload) -> Pair:
    """jit of value_and_grad (a mean) or of a vjp with ones (per-point values), waited for."""
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    jax.config.update("jax_enable_x64", True)
    m = SimpleNamespace(mean=jnp.mean, tanh=jnp.tanh, lse=lambda z: logsumexp(z, axis=1))
    fn = lambda *a: w.model(m, *a)  # noqa: E731

    def vjp(*a: Any) -> Any:
        value, back = jax.vjp(fn, *a)  # every input is in wrt in the per-point workloads
        grads = back(jnp.ones_like(value))
        return value, [grads[i] for i in w.argnum]

    f, v = jax.jit(jax.value_and_grad(fn, w.argnum) if w.reduce else vjp), jax.jit(fn)
    args = [jnp.asarray(a) for a in w.inputs]
    return (lambda: jax.block_until_ready(f(*args))), (lambda: jax.block_until_ready(v(*args)))


def peer_torch(w: Workload) -> Pair:
    """Eager forward and backward on tensors sharing the arrays' memory; the value alone under no_grad."""
    import torch

    torch.set_num_threads(1)
    m = SimpleNamespace(mean=torch.mean, tanh=torch.tanh, lse=lambda z: torch.logsumexp(z, 1))
    args = [
        torch.from_numpy(a) if isinstance(a, np.ndarray) else torch.tensor(a, dtype=torch.float64) for a in w.inputs
    ]

    def step() -> Any:
        a = [x.detach().requires_grad_() if i in w.argnum else x for i, x in enumerate(args)]
        value = w.model(m, *a)
        value.backward(None if w.reduce else torch.ones_like(value))
        return value.detach(), [a[i].grad for i in w.argnum]

    return step, torch.no_grad()(lambda: w.model(m, *args))


def available_peers() -> dict[str, Callable[[Workload], Pair]]:
    """The contenders' builders, hand-written first (the baseline); missing peers skipped with a note."""
    peers: dict[str, Callable[[Workload], Pair]] = {
        "hand-written": lambda w: ((lambda: w.hand[0](*w.inputs)), (lambda: w.hand[1](*w.inputs))),
        "symgraph": peer_symgraph,
        "symgraph exact=False": lambda w: peer_symgraph(w, exact=False),
        "SymPy lambdify": peer_sympy,
        "autograd": peer_autograd,
    }
    for name, module in PEERS.items():
        if importlib.util.find_spec(module) is None:
            print(f"note: {name} ({module}) is not installed: skipped")
        else:
            peers[name] = {"JAX": peer_jax, "PyTorch": peer_torch, "CasADi": peer_casadi}[name]
    return peers


def as_numbers(value: Any, grads: Any = ()) -> list[Any]:
    """A contender's value and gradients (tensors, DMs, JAX arrays, numbers) as one list of NumPy arrays."""
    to_np = lambda a: a.detach().numpy() if hasattr(a, "detach") else a.full() if hasattr(a, "full") else a  # noqa: E731
    return [np.asarray(to_np(a)) for a in (value, *grads)]


def interleaved(calls: dict[Any, Call], rounds: int, target: float) -> dict[Any, list[float]]:
    """Seconds per call of each contender (timeit), a sample of ~`target` s per round, the contenders in turn."""
    timers = {k: timeit.Timer(fn) for k, fn in calls.items()}
    number = {k: max(1, int(target / max(t.timeit(1), 1e-9))) for k, t in timers.items()}
    samples: dict[Any, list[float]] = {k: [] for k in calls}
    for _ in range(rounds):
        for k, t in timers.items():
            samples[k].append(t.timeit(number[k]) / number[k])
    return samples


def table(title: str, columns: list[str], left: int = 1) -> list[str]:
    """A markdown section title and a table head: the first `left` columns left-aligned, the others right."""
    return [f"\n### {title}\n", "| " + " | ".join(columns) + " |", "|" + ":--|" * left + "--:|" * (len(columns) - left)]


def ratios(s: list[float], base: list[float]) -> str:
    return f"{min(s) / min(base):.2f}x, {statistics.median(s) / statistics.median(base):.2f}x"


def array_tables(quick: bool, rounds: int, out: list[str], notes: list[str]) -> None:
    """Value + gradients and the value alone of each workload, all contenders interleaved."""
    peers = available_peers()
    for w in workloads(quick):
        calls = {name: build(w) for name, build in peers.items() if not ("@" in w.text and name in PER_POINT)}
        notes += [f"{name}: not run on the {w.name} (a matrix formula)" for name in peers if name not in calls]
        want, want_value = as_numbers(*calls["hand-written"][0]()), as_numbers(calls["hand-written"][1]())
        errors = {}
        for k, (step, value) in calls.items():
            got, got_value = as_numbers(*step()), as_numbers(value())
            errors[k] = max(hw.max_relative_error(got, want), hw.max_relative_error(got_value, want_value))
            if errors[k] > 1e-10:
                notes.append(f"DISAGREEMENT: {k} on the {w.name}: max relative error {errors[k]:.1e}")
        t = interleaved({(k, i): c[i] for k, c in calls.items() for i in (0, 1)}, rounds, 0.02)
        peaks = {k: peak_bytes(c[0]) for k, c in calls.items() if k in NUMPY_BASED}
        value_peaks = {k: peak_bytes(c[1]) for k, c in calls.items() if k in NUMPY_BASED}
        text = w.text.replace("\n", "; ")
        title = f"{w.name}: `{text if len(text) < 60 else text[:57] + '...'}` wrt {', '.join(w.wrt[:4])}"
        out += table(title, ARRAY_COLUMNS)
        for k in calls:
            g, v, base = t[(k, 0)], t[(k, 1)], "hand-written"
            peak = f"{peaks[k] / 2**20:.1f} | {peaks[k] / peaks[base]:.2f}x" if k in peaks else "n/a | n/a"
            peak += f" | {value_peaks[k] / max(value_peaks[base], 1):.2f}x" if k in peaks else " | n/a"
            out.append(
                f"| {k} | {min(g) * 1e3:.2f} | {statistics.median(g) * 1e3:.2f} | {ratios(g, t[(base, 0)])} | "
                f"{min(v) * 1e3:.2f} | {statistics.median(v) * 1e3:.2f} | {ratios(v, t[(base, 1)])} | "
                f"{min(g) / min(v):.2f} | {peak} | {errors[k]:.0e} |"
            )


def float_tables(rounds: int, out: list[str], notes: list[str]) -> None:
    """Python floats: ns per call through timeit, the contenders interleaved round by round."""
    import sympy as sp

    ros = (hw.rosenbrock_text(10), [f"x{i}" for i in range(10)], np.linspace(-1.2, 1.1, 10).tolist())
    cases = [("(w*x+b-y)^2/2", ["w", "b"], (1.5, 0.3, 0.25, -0.2), hw.mse_floats), (*ros, hw.rosenbrock_floats)]
    for text, wrt, point, hand in cases:
        f = symgraph.compile(text, wrt=wrt)
        syms, expr = sp.symbols(f.variables), sp.sympify(text.replace("^", "**"))
        fns = {"hand-written Python": hand, "symgraph f(...)": f, "symgraph f.function": f.function}
        fns["SymPy lambdify"] = sp.lambdify(syms, [expr, [sp.diff(expr, sp.Symbol(v)) for v in wrt]], cse=True)
        want = as_numbers(*hand(*point))
        for k, fn in fns.items():
            if (err := hw.max_relative_error(as_numbers(*fn(*point)), want)) > 1e-10:
                notes.append(f"DISAGREEMENT: {k} on floats `{text[:30]}`: max relative error {err:.1e}")
        ns = interleaved({k: (lambda fn=fn, p=point: fn(*p)) for k, fn in fns.items()}, rounds, 0.2)
        name = text if len(text) < 40 else f"Rosenbrock n=10 ({text[:30]}...)"
        title = f"floats: `{name}` wrt {', '.join(wrt[:4])}{', ...' if len(wrt) > 4 else ''}"
        out += table(title, ["contender", "min (ns/call)", "median (ns/call)", "/ hand (min, median)"])
        base = ns["hand-written Python"]
        out += [
            f"| {k} | {min(s) * 1e9:,.0f} | {statistics.median(s) * 1e9:,.0f} | {ratios(s, base)} |"
            for k, s in ns.items()
        ]


def fresh_compile(text: str, kind: Callable[..., Any] = symgraph.compile) -> float:
    """Seconds to compile `text` under a new function name, so the cache of compiled text cannot serve it."""
    start = time.perf_counter()
    kind(text, name=f"f_{time.perf_counter_ns()}")
    return time.perf_counter() - start


def peer_build(n: int, peer: str) -> float:
    """Seconds for CasADi (SX, gradient, Function) or SymPy (diff, lambdify with cse) to build Rosenbrock n."""
    start = time.perf_counter()
    if peer == "casadi":
        import casadi as ca

        x = [ca.SX.sym(f"x{i}") for i in range(n)]
        ca.Function("f", x, [e := rosen_model(None, *x), ca.gradient(e, ca.vertcat(*x))])
    else:
        import sympy as sp

        sp.core.cache.clear_cache()  # the array workload built the same derivatives: no help from SymPy's cache
        x = sp.symbols(f"x0:{n}")
        sp.lambdify(x, [e := rosen_model(None, *x), [sp.diff(e, v) for v in x]], cse=True)
    return time.perf_counter() - start


def compile_table(quick: bool, out: list[str], notes: list[str]) -> None:
    """Compile times: the seed, Rosenbrock n=1000 from text (and its peers), the 400-input product's Hessian."""
    fresh_compile("((x+5)^3+1)^2")  # the first compile imports and builds the parser
    seed = [fresh_compile("((x+5)^3+1)^2") for _ in range(10 if quick else 50)]
    ros = [fresh_compile(hw.rosenbrock_text(1000)) for _ in range(2 if quick else 5)]
    rows = [("seed `((x+5)^3+1)^2`", "symgraph", seed, "< 0.5 ms")]
    rows.append(("Rosenbrock n=1000 from text", "symgraph", ros, "< 150 ms"))
    if importlib.util.find_spec("casadi"):
        ca_times = [peer_build(1000, "casadi") for _ in range(3)]
        rows.append(("Rosenbrock n=1000", "CasADi SX + gradient + Function", ca_times, ""))
    n_sympy = 30 if quick else 100
    rows.append((f"Rosenbrock n={n_sympy}", "SymPy diff + lambdify(cse)", [peer_build(n_sympy, "sympy")], ""))
    rows.append((f"Rosenbrock n={n_sympy} from text", "symgraph", [fresh_compile(hw.rosenbrock_text(n_sympy))], ""))
    notes.append(f"SymPy at n=1000 is too slow to run here (its diff alone took ~100 s): its row is n={n_sympy}")
    tracemalloc.start()
    start, outcome = time.perf_counter(), "built (no LimitError)"
    try:
        fresh_compile("*".join(f"x{i}" for i in range(400)), symgraph.hessian)
    except symgraph.LimitError:
        outcome = "raised symgraph.LimitError"
    elapsed, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out += table("compile", ["formula", "contender", "min (ms)", "median (ms)", "runs", "target"], 2)
    for what, who, s, target in rows:
        out.append(f"| {what} | {who} | {min(s) * 1e3:.2f} | {statistics.median(s) * 1e3:.2f} | {len(s)} | {target} |")
    out.append(
        f"\nHessian of `x0*x1*...*x399` (symgraph.hessian, all 400 inputs): {outcome} after {elapsed * 1e3:.0f} ms,"
        f" peak memory {peak / 2**20:.1f} MiB (tracemalloc)"
    )


def header(args: argparse.Namespace) -> list[str]:
    """Date, machine, versions, command line and the caveats."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    versions = [f"NumPy {np.__version__}", f"Python {platform.python_version()}", f"symgraph {symgraph.__version__}"]
    for name, module in {"SymPy": "sympy", "autograd": "autograd", **PEERS}.items():
        try:
            versions.append(f"{name} {importlib.metadata.version(module)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return [
        f"## symgraph vs peers ({'quick' if args.quick else 'full'} run, {datetime.date.today()})\n",
        f"- machine: {model or platform.processor()}, {os.cpu_count()} logical CPUs; " + ", ".join(versions),
        f"- command: `{' '.join(['python', *sys.argv])}`",
        "- single-threaded: OMP/OPENBLAS/MKL_NUM_THREADS=1, torch.set_num_threads(1), JAX on CPU with one thread",
        f"- {args.rounds} interleaved rounds (floats: {max(args.rounds, 3)}), each sample >= 20 ms of calls"
        " (floats: >= 0.2 s); times are per call",
        "- caveat: array times swing 2-5x with the state of glibc malloc (fresh pages vs reused ones);"
        " quote ratios from one interleaved run, not absolute times across runs",
        "- v+g = value and all gradients; cheap gradient = v+g time / value-alone time; max rel. err is the"
        " largest normwise difference from the hand-written numbers (values and gradients)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 2 rounds (< 60 s)")
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    args = parser.parse_args()
    args.rounds = 2 if args.quick else 7
    start, out, notes = time.perf_counter(), header(args), []
    array_tables(args.quick, args.rounds, out, notes)
    float_tables(max(args.rounds, 3), out, notes)
    compile_table(args.quick, out, notes)
    out += ["\n### notes\n"] + [f"- {n}" for n in notes] + [f"- total run time {time.perf_counter() - start:.0f} s"]
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
