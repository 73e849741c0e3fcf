"""Every example runs and prints the tutorials' numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str) -> str:
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_one_parameter() -> None:
    out = run("one_parameter.py")
    assert "forward:  h = 2, g = 9, f = 81" in out
    assert "backward: df/dg = 18, df/dh = 216, df/dx = 216" in out


def test_three_inputs() -> None:
    out = run("three_inputs.py")
    assert "forward:  p = 4, g = -12" in out
    assert "dg/dz = 4, dg/dx = -3, dg/dy = -3" in out


def test_linear_regression_converges() -> None:
    out = run("linear_regression.py")
    assert "forward:  c = -9, f = -8, d = -13, J = 84.5" in out
    assert "dJ/db = -13, dJ/dw = 39" in out
    w, b = map(float, re.search(r"fitted w = (\S+), b = (\S+) ", out).groups())
    assert abs(w - 2.0) < 0.02 and abs(b + 1.0) < 0.02


def test_logistic_newton_converges_to_scikit_learns_answer() -> None:
    out = run("logistic_newton.py")
    steps = int(re.search(r"newton converged in (\d+) steps", out).group(1))
    assert steps <= 15  # quadratic convergence: gradient descent would take thousands
    difference = float(re.search(r"LogisticRegression: (\S+)", out).group(1))
    assert difference < 1e-4  # scikit-learn's own tolerance bounds the agreement
