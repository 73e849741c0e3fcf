"""benchmarks/hand_written.py agrees with symgraph (and the benchmark's SymPy and autograd wrappers with both) at
tiny sizes: the hand-written baselines of benchmarks/bench_peers.py stay honest, and so do its peers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import symgraph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import hand_mlp
import hand_written as hw

with mock.patch.dict(os.environ):  # the benchmark pins thread counts in os.environ: keep them out of the tests
    import bench_peers

RNG = np.random.default_rng(7)
X = tuple(RNG.uniform(-1.5, 1.5, 9) for _ in range(6))
DATA = RNG.uniform(-2.0, 2.0, 50), RNG.uniform(-3.0, 1.0, 50)
NET = (RNG.uniform(0, 1, (5, 64)), np.eye(10)[RNG.integers(0, 10, 5)], RNG.normal(0, 1 / 8, (64, 32)))
NET += (RNG.normal(0, 0.1, 32), RNG.normal(0, 0.2, (32, 10)), RNG.normal(0, 0.1, 10))


def close(got: object, want: object) -> None:
    """Values and gradients agree to ~1e-12, normwise."""
    assert hw.max_relative_error(bench_peers.as_numbers(*got), bench_peers.as_numbers(*want)) < 1e-12


def test_rosenbrock_arrays_and_its_text() -> None:
    f = symgraph.compile(hw.rosenbrock_text(6))
    assert f.variables == tuple(f"x{i}" for i in range(6))
    close(hw.rosenbrock(*X), f(*X))
    close((hw.rosenbrock_value(*X), ()), (f(*X)[0], ()))


def test_mse_and_seed_arrays() -> None:
    x, y = DATA
    close(hw.mse(1.5, x, 0.25, y), symgraph.compile("mean((w*x+b-y)^2)/2", wrt=["w", "b"])(1.5, x, 0.25, y))
    assert hw.mse_value(1.5, x, 0.25, y) == pytest.approx(hw.mse(1.5, x, 0.25, y)[0], rel=1e-14)
    close(hw.seed(x), symgraph.compile("((x+5)^3+1)^2")(x))
    close((hw.seed_value(x), ()), (hw.seed(x)[0], ()))


def test_network_loss_alone() -> None:
    assert hw.mlp_loss(*NET) == pytest.approx(hand_mlp.loss_and_grads(*NET)[0], rel=1e-13)


def test_floats() -> None:
    point = (1.5, 0.3, 0.25, -0.2)
    close(hw.mse_floats(*point), symgraph.compile("(w*x+b-y)^2/2", wrt=["w", "b"]).function(*point))
    xs = tuple(float(v) for v in np.linspace(-1.2, 1.1, 10))
    close(hw.rosenbrock_floats(*xs), symgraph.compile(hw.rosenbrock_text(10)).function(*xs))


@pytest.mark.parametrize("build", [bench_peers.peer_symgraph, bench_peers.peer_sympy, bench_peers.peer_autograd])
def test_peer_wrappers_agree(build: Callable[[bench_peers.Workload], bench_peers.Pair]) -> None:
    """The benchmark's wrappers of each peer give the hand-written numbers, value alone included."""
    x, y = DATA
    cube = lambda m, x: ((x + 5) ** 3 + 1) ** 2  # noqa: E731
    mse = lambda m, w, x, b, y: m.mean((w * x + b - y) ** 2 / 2)  # noqa: E731
    W = bench_peers.Workload
    cases = [
        W(
            "ros",
            hw.rosenbrock_text(6),
            [f"x{i}" for i in range(6)],
            X,
            (hw.rosenbrock, hw.rosenbrock_value),
            bench_peers.rosen_model,
        ),
        W("mse", "mean((w*x+b-y)^2)/2", ["w", "b"], (1.5, x, 0.25, y), (hw.mse, hw.mse_value), mse, True),
        W("cube", "((x+5)^3+1)^2", ["x"], (x,), (hw.seed, hw.seed_value), cube),
    ]
    if build is not bench_peers.peer_sympy:  # SymPy runs the per-point formulas only
        mlp = (lambda *a: hand_mlp.loss_and_grads(a[0], a[5], *a[1:5]), lambda *a: hw.mlp_loss(a[0], a[5], *a[1:5]))
        net = (NET[0], *NET[2:], NET[1])  # symgraph's order: first use in the text (X, W1, b1, W2, b2, Y)
        cases.append(W("net", hand_mlp.FORMULA, list(hand_mlp.WEIGHTS), net, mlp, bench_peers.mlp_model, True))
    for w in cases:
        step, value = build(w)
        close(step(), w.hand[0](*w.inputs))
        close((value(), ()), (w.hand[1](*w.inputs), ()))
