"""The 64-32-10 tanh network's loss and gradients, written by hand in NumPy: the baseline symgraph is measured
against (benchmarks/bench_mlp.py) and checked against (tests/test_mlp_digits.py).

    H = tanh(X @ W1 + b1);  Z = H @ W2 + b2;  loss = mean(logsumexp(Z, axis=1) - sum(Y*Z, axis=1))

This is the backward pass as course notes write it, done carefully: a stable softmax (the row maximum is
subtracted before exp), dZ = (P - Y)/n, the tanh derivative applied in place, and no array made that the
next line could have written into an existing one. The arguments and the order and shapes of the returned
gradients are symgraph's for the same formula: inputs in order of first appearance (X, Y, W1, b1, W2, b2).
"""

from __future__ import annotations

import numpy as np

FORMULA = """X: [n, 64]; Y: [n, 10]; W1: [64, 32]; b1: [32]; W2: [32, 10]; b2: [10]
H = tanh(X @ W1 + b1)
Z = H @ W2 + b2
loss = mean(logsumexp(Z, axis=1) - sum(Y*Z, axis=1))"""

WEIGHTS = ("W1", "b1", "W2", "b2")

Grads = tuple[np.ndarray, ...]


def logits(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> tuple[np.ndarray, ...]:
    """The hidden layer H = tanh(X @ W1 + b1) and the logits Z = H @ W2 + b2, each made once and updated in place."""
    H = X @ W1
    H += b1
    np.tanh(H, out=H)
    Z = H @ W2
    Z += b2
    return H, Z


def _forward(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """loss, the hidden layer H, the logits Z and dZ = d loss / dZ = (softmax(Z) - Y) / n."""
    n = X.shape[0]
    H, Z = logits(X, W1, b1, W2, b2)
    m = Z.max(axis=1, keepdims=True)
    P = Z - m  # stable: every exponent is <= 0
    np.exp(P, out=P)
    s = P.sum(axis=1, keepdims=True)
    # logsumexp(Z) = m + log(s), row by row; the sum of Y*Z over everything is one vdot, with no temporary.
    loss = (np.log(s).sum() + m.sum() - np.vdot(Y, Z)) / n
    P /= s  # softmax(Z)
    P -= Y
    P /= n  # now dZ
    return float(loss), H, Z, P


def _backward(X: np.ndarray, W1: np.ndarray, W2: np.ndarray, H: np.ndarray, dZ: np.ndarray, want_dX: bool) -> Grads:
    """(dX or None, dW1, db1, dW2, db2) from the forward pass's H and dZ; H is overwritten."""
    dW2 = H.T @ dZ
    db2 = dZ.sum(axis=0)
    dA = dZ @ W2.T  # dH, turned into dA = dH * (1 - H^2) in place
    np.multiply(H, H, out=H)
    np.subtract(1.0, H, out=H)
    dA *= H
    dW1 = X.T @ dA
    db1 = dA.sum(axis=0)
    dX = dA @ W1.T if want_dX else None
    return dX, dW1, db1, dW2, db2


def loss_and_grads(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, Grads]:
    """One training step's numbers: the loss and its gradients wrt (W1, b1, W2, b2), as
    symgraph.compile(FORMULA, wrt=["W1", "b1", "W2", "b2"]) returns them."""
    loss, H, _, dZ = _forward(X, Y, W1, b1, W2, b2)
    _, dW1, db1, dW2, db2 = _backward(X, W1, W2, H, dZ, want_dX=False)
    return loss, (dW1, db1, dW2, db2)


def loss_and_all_grads(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, Grads]:
    """The loss and its gradients wrt every input (X, Y, W1, b1, W2, b2), as symgraph.compile(FORMULA) returns
    them. d loss / dY = -Z / n: Y is data, but the formula does not know that."""
    n = X.shape[0]
    loss, H, Z, dZ = _forward(X, Y, W1, b1, W2, b2)
    dX, dW1, db1, dW2, db2 = _backward(X, W1, W2, H, dZ, want_dX=True)
    Z /= -n
    return loss, (dX, Z, dW1, db1, dW2, db2)
