"""A small neural network, trained on handwritten digits with gradients from symgraph.

    python examples/mlp_digits.py [--epochs N] [--show-code] [--plot FILE]

The network is two layers, 64 -> 32 (tanh) -> 10, and the loss is softmax cross-entropy against one-hot
labels; the whole model is the formula below, and symgraph turns it into one NumPy function returning the
loss and its gradients wrt the weights. Training is plain mini-batch gradient descent, W = W - lr * dW.

The data are scikit-learn's bundled 8x8 digits (1,797 images, no download), pixels scaled from 0..16 to
0..1; a fixed quarter is held out to measure accuracy on images the network never trained on. Every random
choice (split, initial weights, batch order) comes from one seed, so a run prints the same numbers each time.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np

import symgraph

FORMULA = """X: [n, 64]; Y: [n, 10]; W1: [64, 32]; b1: [32]; W2: [32, 10]; b2: [10]
H = tanh(X @ W1 + b1)
Z = H @ W2 + b2
loss = mean(logsumexp(Z, axis=1) - sum(Y*Z, axis=1))"""

WEIGHTS = ["W1", "b1", "W2", "b2"]
SEED = 0


@dataclass
class Data:
    """Training and held-out images (rows of 64 pixels in 0..1), with one-hot targets and digit labels."""

    X: np.ndarray
    Y: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    labels_test: np.ndarray


@dataclass
class Result:
    """What a run returns: the mean training loss of each epoch, held-out losses and accuracies, the weights."""

    losses: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.accuracies[-1]


def load_digits(seed: int = SEED) -> Data:
    """scikit-learn's digits, scaled to 0..1, with a held-out quarter chosen by a seeded permutation."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    X = digits.data / 16.0
    labels = digits.target
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[: len(X) // 4], order[len(X) // 4 :]
    one_hot = np.eye(10)[labels]
    return Data(X[train], one_hot[train], X[test], one_hot[test], labels[test])


def initial_weights(seed: int = SEED) -> list[np.ndarray]:
    """W1, b1, W2, b2: weights drawn with variance 1/fan-in (so tanh starts in its linear range), biases 0."""
    rng = np.random.default_rng(seed + 1)
    W1 = rng.normal(0.0, 1.0 / np.sqrt(64), size=(64, 32))
    W2 = rng.normal(0.0, 1.0 / np.sqrt(32), size=(32, 10))
    return [W1, np.zeros(32), W2, np.zeros(10)]


def predict(weights: list[np.ndarray], X: np.ndarray) -> np.ndarray:
    """The digit each row of X is most likely to be: the largest logit (softmax does not change the order)."""
    W1, b1, W2, b2 = weights
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


def train(data: Data, epochs: int, batch: int = 16, lr: float = 0.1, seed: int = SEED, quiet: bool = False) -> Result:
    """Mini-batch gradient descent with symgraph's gradients; one progress line per epoch unless quiet."""
    step = symgraph.compile(FORMULA, wrt=WEIGHTS)  # loss, (d_W1, d_b1, d_W2, d_b2)
    loss_only = symgraph.compile(FORMULA, wrt=[])  # the held-out loss, with no gradient work
    rng = np.random.default_rng(seed + 2)
    weights = initial_weights(seed)
    result = Result()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(data.X))
        total = 0.0
        for first in range(0, len(order), batch):
            rows = order[first : first + batch]
            loss, grads = step(data.X[rows], *weights, data.Y[rows])  # inputs in order of first use
            weights = [w - lr * g for w, g in zip(weights, grads)]
            total += loss * len(rows)
        test_loss, _ = loss_only(data.X_test, *weights, data.Y_test)
        result.losses.append(total / len(order))
        result.test_losses.append(float(test_loss))
        result.accuracies.append(float(np.mean(predict(weights, data.X_test) == data.labels_test)))
        if not quiet:
            print(
                f"epoch {epoch:3d}: loss {result.losses[-1]:.4f}  held-out loss {test_loss:.4f}  "
                f"held-out accuracy {result.accuracy:.3f}"
            )
    result.seconds = time.perf_counter() - start
    result.weights = weights
    return result


def plot_losses(result: Result, path: str) -> None:
    """The training and held-out loss per epoch, saved to path; a printed note instead without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss plot (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(result.losses) + 1)
    ax.plot(epochs, result.losses, label="training (mean over the epoch)")
    ax.plot(epochs, result.test_losses, label="held out (after the epoch)")
    ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="64-32-10 network on the digits")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"loss curve saved to {path}")


def main(
    epochs: int = 20, quiet: bool = False, show_code: bool = False, plot: str | None = None, seed: int = SEED
) -> Result:
    """Train for `epochs` and return the Result (losses per epoch, final held-out accuracy in .accuracy)."""
    if show_code:
        print(symgraph.compile(FORMULA, wrt=WEIGHTS).source)
    data = load_digits(seed)
    result = train(data, epochs, seed=seed, quiet=quiet)
    if not quiet:
        print(
            f"{len(data.X)} training and {len(data.X_test)} held-out images; {epochs} epochs in "
            f"{result.seconds:.2f} s; held-out accuracy {result.accuracy:.3f}"
        )
    if plot:
        plot_losses(result, plot)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--show-code", action="store_true", help="print the generated NumPy module first")
    parser.add_argument("--plot", default="mlp_digits_loss.png", help="where to save the loss curve ('' for none)")
    args = parser.parse_args()
    main(epochs=args.epochs, show_code=args.show_code, plot=args.plot or None)
