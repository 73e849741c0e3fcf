"""The `symgraph` command, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The checkout under test, first on the path of every subprocess (not some other installed copy).
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "symgraph", *args], capture_output=True, text=True, cwd=cwd, env=ENV)


def test_grad_prints_value_and_every_gradient_by_name() -> None:
    out = run("grad", "((x+5)^3+1)^2", "--at", "x=-3")
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["value = 81.0", "d_x = 216.0"]
    out = run("grad", "(x+y)*z", "--at", "x=1", "y=3", "z=-3")
    assert out.stdout.splitlines() == ["value = -12.0", "d_x = -3.0", "d_y = -3.0", "d_z = 4.0"]


def test_compile_writes_a_module(tmp_path: Path) -> None:
    out = run("compile", "(x+y)*z", "-o", "grad_xyz.py", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    check = subprocess.run(
        [sys.executable, "-c", "from grad_xyz import value_and_grad as f; print(f(1.0, 3.0, -3.0))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert check.stdout.strip() == "(-12.0, (-3.0, -3.0, 4.0))"


def test_bad_input_is_a_message_and_exit_2() -> None:
    out = run("grad", "(x+", "--at", "x=1")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "line 1, column 4" in out.stderr
    out = run("grad", "x+y", "--at", "x=1")
    assert out.returncode == 2 and "missing input(s): y" in out.stderr


def test_a_formula_starting_with_minus_is_not_an_option() -> None:
    out = run("grad", "-x^2", "--at", "x=3")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["value = -9.0", "d_x = -6.0"]
    out = run("grad", "-x^", "--at", "x=3")
    assert out.returncode == 2 and "column 4" in out.stderr


def test_a_point_given_twice_is_an_error() -> None:
    out = run("grad", "x+y", "--at", "x=1", "y=2", "x=3")
    assert out.returncode == 2 and "--at gives x twice" in out.stderr


def test_check_without_sympy_says_what_to_install() -> None:
    code = "import sys; sys.modules['sympy'] = None; from symgraph.cli import main; sys.exit(main(['check', 'x^2']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert 'pip install "symgraph[sympy]"' in out.stderr
