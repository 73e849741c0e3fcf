"""The digits network (examples/mlp_digits.py): symgraph's loss and gradients for the two-layer tanh network
with softmax cross-entropy equal the hand-written NumPy backward pass (benchmarks/hand_mlp.py) and HIPS
autograd's, and a short training run learns the digits. Needs scikit-learn (its bundled digits, no download)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp

import symgraph

pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("X", "Y", "W1", "b1", "W2", "b2")
REL = 1e-10


def load(path: Path) -> ModuleType:
    """A module from a file outside the package (an example or a benchmark), registered so dataclasses work."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


example = load(ROOT / "examples" / "mlp_digits.py")
hand = load(ROOT / "benchmarks" / "hand_mlp.py")


def autograd_loss(X: Any, Y: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> Any:
    """The formula, written again from its text in autograd.numpy."""
    H = anp.tanh(anp.dot(X, W1) + b1)
    Z = anp.dot(H, W2) + b2
    return anp.mean(logsumexp(Z, axis=1) - anp.sum(Y * Z, axis=1))


def autograd_reference(inputs: tuple[np.ndarray, ...]) -> tuple[float, list[np.ndarray]]:
    """autograd's loss and gradient wrt each of the six inputs."""
    return float(autograd_loss(*inputs)), [grad(autograd_loss, i)(*inputs) for i in range(len(inputs))]


def assert_close(got: np.ndarray | float, want: np.ndarray | float, what: str, rel: float = REL) -> None:
    """Equal in shape, and to `rel` relative to the largest entry (an entry near 0 is not held to rel of itself)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-300)
    error = float(np.max(np.abs(got - want), initial=0.0)) / scale
    assert error <= rel, f"{what}: relative error {error:.2e} > {rel:.0e}"


@pytest.fixture(scope="module")
def data() -> example.Data:
    return example.load_digits()


def first_batch(data: example.Data, size: int = 64) -> tuple[np.ndarray, ...]:
    """One mini-batch of training images and weights a little way from their start (nothing exactly 0)."""
    rng = np.random.default_rng(5)
    W1, b1, W2, b2 = example.initial_weights()
    b1, b2 = b1 + rng.normal(0, 0.1, b1.shape), b2 + rng.normal(0, 0.1, b2.shape)
    return (data.X[:size], data.Y[:size], W1, b1, W2, b2)


def test_hand_written_gradients_match_autograd() -> None:
    rng = np.random.default_rng(0)
    n = 37
    inputs = (
        rng.normal(size=(n, 64)),
        np.eye(10)[rng.integers(0, 10, n)],
        rng.normal(0, 0.2, (64, 32)),
        rng.normal(0, 0.2, 32),
        rng.normal(0, 0.3, (32, 10)),
        rng.normal(0, 0.3, 10),
    )
    want_loss, want = autograd_reference(inputs)
    loss, grads = hand.loss_and_all_grads(*[a.copy() for a in inputs])
    assert_close(loss, want_loss, "loss", rel=1e-13)
    for name, g, w in zip(NAMES, grads, want):
        assert_close(g, w, f"d_{name}", rel=1e-12)
    loss_w, grads_w = hand.loss_and_grads(*inputs)
    assert loss_w == loss
    for name, g, w in zip(NAMES[2:], grads_w, want[2:]):
        assert_close(g, w, f"d_{name} (weights only)", rel=1e-12)


def test_symgraph_matches_hand_written_and_autograd_on_a_batch(data: example.Data) -> None:
    inputs = first_batch(data)
    f = symgraph.compile(example.FORMULA)
    loss, grads = f(**dict(zip(NAMES, inputs)))
    grads = tuple(dict(zip(f.wrt, grads))[name] for name in NAMES)  # in NAMES order, as the references
    want_loss, want = autograd_reference(inputs)
    hand_loss, hand_grads = hand.loss_and_all_grads(*inputs)
    assert_close(loss, want_loss, "loss vs autograd")
    assert_close(loss, hand_loss, "loss vs hand-written")
    assert len(grads) == 6
    for name, g, w, h in zip(NAMES, grads, want, hand_grads):
        assert_close(g, w, f"d_{name} vs autograd")
        assert_close(g, h, f"d_{name} vs hand-written")


def test_weights_only_gradients_are_the_training_step(data: example.Data) -> None:
    inputs = first_batch(data, size=16)
    step = symgraph.compile(example.FORMULA, wrt=example.WEIGHTS)
    by_name = dict(zip(NAMES, inputs))
    ordered = [by_name[name] for name in step.variables]  # inputs in order of first use: X, W1, ..., Y
    loss, grads = step(*ordered)
    hand_loss, hand_grads = hand.loss_and_grads(*inputs)
    assert_close(loss, hand_loss, "loss")
    assert len(grads) == 4
    for name, g, h in zip(example.WEIGHTS, grads, hand_grads):
        assert_close(g, h, f"d_{name}")
    raw_loss, raw_grads = step.function(*ordered)  # the generated function itself, as the benchmark calls it
    assert_close(raw_loss, loss, "f.function loss")
    for name, g, h in zip(example.WEIGHTS, raw_grads, grads):
        assert_close(g, h, f"f.function d_{name}")


def test_shapes_through_the_api_give_the_same_function(data: example.Data) -> None:
    inputs = first_batch(data, size=16)
    body = example.FORMULA.split("\n", 1)[1]
    shapes = {"X": ("n", 64), "Y": ("n", 10), "W1": (64, 32), "b1": (32,), "W2": (32, 10), "b2": (10,)}
    f = symgraph.compile(body, shapes=shapes, wrt=example.WEIGHTS)
    loss, grads = f(**dict(zip(NAMES, inputs)))  # by name: without declarations, Y appears last in the text
    hand_loss, hand_grads = hand.loss_and_grads(*inputs)
    assert_close(loss, hand_loss, "loss")
    for name, g, h in zip(example.WEIGHTS, grads, hand_grads):
        assert_close(g, h, f"d_{name}")


def test_a_short_training_run_learns_the_digits() -> None:
    result = example.main(epochs=5, quiet=True)
    losses = result.losses
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.5 * losses[0]
    assert result.accuracy > 0.9
    assert result.seconds < 10.0
    again = example.main(epochs=5, quiet=True)  # seeded: the same run twice gives the same numbers
    assert again.losses == losses and again.accuracy == result.accuracy


def test_the_script_prints_one_line_per_epoch_and_the_code() -> None:
    script = ROOT / "examples" / "mlp_digits.py"
    run = [sys.executable, str(script), "--epochs", "2", "--plot", "", "--show-code"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("def ") for line in lines)  # the generated module came first
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 2 and "held-out accuracy" in epochs[-1]
