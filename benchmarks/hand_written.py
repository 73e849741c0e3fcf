"""The workloads of benchmarks/bench_peers.py written by hand: the baseline every contender is measured against.

Each is what a careful NumPy user writes: arithmetic in place into a few scratch arrays, dot products for sums
of products (no temporary at all), gradient arrays allocated once and written, not rebuilt. Arguments and
results follow symgraph's convention for the same formula (inputs in order of first appearance in the text,
one gradient per input in wrt); the network's are in benchmarks/hand_mlp.py. The float versions are plain
Python with the derivative written out, as one would type it for a scalar model.
"""

from __future__ import annotations

from collections.abc import Sequence

import hand_mlp  # next to this file (the benchmarks put their folder on sys.path)
import numpy as np

Array = np.ndarray


def rosenbrock_text(n: int) -> str:
    """sum over i < n-1 of 100*(x_{i+1} - x_i^2)^2 + (1 - x_i)^2, written so that x0, x1, ... appear in order."""
    return " + ".join(f"(1-x{i})^2 + 100*(x{i + 1}-x{i}^2)^2" for i in range(n - 1))


def rosenbrock(*x: Array) -> tuple[Array, list[Array]]:
    """Rosenbrock's value at every point and its gradient wrt each x_i, in one loop over i with three scratch
    arrays. x_{i+1}'s gradient is first written (200 t) by term i, then term i+1 subtracts its own part."""
    t, u, s = (np.empty_like(x[0]) for _ in range(3))
    value = np.zeros_like(x[0])
    grads = [np.empty_like(xi) for xi in x]
    grads[0].fill(0.0)
    for i in range(len(x) - 1):
        xi, gi, gj = x[i], grads[i], grads[i + 1]
        np.multiply(xi, xi, out=t)
        np.subtract(x[i + 1], t, out=t)  # t = x_{i+1} - x_i^2
        np.subtract(1.0, xi, out=u)  # u = 1 - x_i
        np.multiply(t, t, out=s)
        s *= 100.0
        value += s
        np.multiply(u, u, out=s)
        value += s
        np.multiply(t, 200.0, out=gj)  # d/dx_{i+1} = 200 t
        np.multiply(gj, xi, out=s)
        s *= 2.0
        gi -= s  # d/dx_i = -400 t x_i - 2 u
        u *= 2.0
        gi -= u
    return value, grads


def rosenbrock_value(*x: Array) -> Array:
    """Rosenbrock's value alone at every point: the same loop with two scratch arrays."""
    t, s = np.empty_like(x[0]), np.empty_like(x[0])
    value = np.zeros_like(x[0])
    for i in range(len(x) - 1):
        np.multiply(x[i], x[i], out=t)
        np.subtract(x[i + 1], t, out=t)
        np.multiply(t, t, out=t)
        t *= 100.0
        value += t
        np.subtract(1.0, x[i], out=s)
        np.multiply(s, s, out=s)
        value += s
    return value


def mse(w: float, x: Array, b: float, y: Array) -> tuple[float, tuple[float, float]]:
    """mean((w*x + b - y)^2)/2 and its gradient wrt (w, b): one residual array and dot products
    (benchmarks/bench_mse.py's by_hand)."""
    r = w * x
    r += b
    r -= y
    n = r.size
    return r.dot(r) / (2 * n), (r.dot(x) / n, r.sum() / n)


def mse_value(w: float, x: Array, b: float, y: Array) -> float:
    """The MSE cost alone: the residual and one dot product."""
    r = w * x
    r += b
    r -= y
    return r.dot(r) / (2 * r.size)


def seed(x: Array) -> tuple[Array, tuple[Array]]:
    """((x+5)^3+1)^2 and its derivative 6 g h^2 with h = x+5, g = h^3+1: three arrays, two of them returned."""
    h = x + 5.0
    h2 = h * h
    h *= h2
    h += 1.0  # h is now g
    value = h * h
    h2 *= h
    h2 *= 6.0
    return value, (h2,)


def seed_value(x: Array) -> Array:
    """((x+5)^3+1)^2 alone: two arrays."""
    h = x + 5.0
    g = h * h
    g *= h
    g += 1.0
    np.multiply(g, g, out=g)
    return g


def mlp_loss(X: Array, Y: Array, W1: Array, b1: Array, W2: Array, b2: Array) -> float:
    """The digits network's loss alone (hand_mlp.FORMULA): the forward pass of hand_mlp, without dZ."""
    _H, Z = hand_mlp.logits(X, W1, b1, W2, b2)
    m = Z.max(axis=1, keepdims=True)
    P = Z - m
    np.exp(P, out=P)
    return float((np.log(P.sum(axis=1)).sum() + m.sum() - np.vdot(Y, Z)) / X.shape[0])


def mse_floats(w: float, x: float, b: float, y: float) -> tuple[float, tuple[float, float]]:
    """(w*x + b - y)^2/2 on Python floats and its derivatives wrt (w, b), written out."""
    r = w * x + b - y
    return 0.5 * r * r, (r * x, r)


def rosenbrock_floats(*x: float) -> tuple[float, list[float]]:
    """Rosenbrock on Python floats and its gradient wrt every x_i, in one loop."""
    value, grads = 0.0, [0.0] * len(x)
    for i in range(len(x) - 1):
        xi = x[i]
        t = x[i + 1] - xi * xi
        u = 1.0 - xi
        value += 100.0 * t * t + u * u
        grads[i + 1] += 200.0 * t
        grads[i] -= 400.0 * t * xi + 2.0 * u
    return value, grads


def max_relative_error(got: Sequence[object], want: Sequence[object]) -> float:
    """The largest difference between two lists of numbers or arrays, each relative to the largest magnitude
    of its `want` entry (normwise: an entry near zero does not blow it up)."""
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        g, w = np.ravel(np.asarray(g, dtype=float)), np.ravel(np.asarray(w, dtype=float))
        scale = max(float(np.abs(w).max(initial=0.0)), 1e-300)
        worst = max(worst, float(np.abs(g - w).max(initial=0.0)) / scale)
    return worst
