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


# --- arrays and declared shapes ------------------------------------------------------------------------------


def test_arrays_at_the_point_as_json_and_random() -> None:
    text = "X: [n, 3]; w: [3]; mean((X @ w - y)^2)"
    out = run("grad", text, "--at", "X=[[1,2,3],[4,5,6]]", "w=[1,0,-1]", "y=[0,1]")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "value = 6.5" and lines[-2:] == ["d_w = [-14., -19., -24.]", "d_y = [2., 3.]"]
    out = run("grad", text, "--at", "X=randn(4,3),w=[1,0,-1],y=rand(4)")  # commas inside brackets are the value's
    assert out.returncode == 0, out.stderr
    assert run("grad", text, "--at", "X=randn(4,3),w=[1,0,-1],y=rand(4)").stdout == out.stdout  # seeded by name


def test_shapes_on_the_command_line() -> None:
    out = run("grad", "mean((X @ w - y)^2)", "--shape", "X=n,3", "w=[3]", "y=n", "--at", "X=[[1,2,3],[4,5,6]]",
              "w=[1,0,-1]", "y=[0,1]")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "value = 6.5"
    out = run("compile", "sum(X @ W)", "--shape", "X=n,64", "W=64,32")
    assert out.returncode == 0 and "def value_and_grad(X, W):" in out.stdout
    assert "--shape NAME=DIMS" in run("compile", "--help").stdout


def test_bad_shapes_and_arrays_are_messages() -> None:
    cases = [
        (["grad", "sum(X @ w)", "--shape", "X=n,3", "w=4"], "the inner dimensions 3 and 4 differ"),
        (["grad", "sum(X @ w)", "--shape", "X=n,3,w=4"], "'w=4' is not a dimension"),
        (["grad", "sum(X @ w)", "--shape", "X=n,3", "X=3"], "--shape gives X twice"),
        (["grad", "sum(X @ w)", "--shape", "Z=3"], "not an input of the formula"),
        (["grad", "X: [n, 3]; sum(X)", "--shape", "X=3"], "declared in the text and in shapes="),
        (["grad", "sum(X @ w)", "--shape", "X=n,3", "w=3", "--at", "X=randn(4,2)", "w=[1,2,3]"], "input X has shape"),
        (["grad", "sum(X)", "--at", "X=[[1,2],[3]"], "is not a list of numbers"),
    ]
    for args, message in cases:
        out = run(*args)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)


def test_explain_and_graph_of_a_matrix_formula() -> None:
    text = "X: [n, 3]; w: [3]; mean((X @ w - y)^2)"
    point = ["--at", "X=[[1,2,3],[4,5,6]]", "w=[1,0,-1]", "y=[0,1]"]
    out = run("explain", text, *point)
    assert out.returncode == 0, out.stderr
    lines = [" ".join(line.split()) for line in out.stdout.splitlines()]
    assert "t2 [n] (2,) X @ w [-2., -2.]" in lines
    assert "w (3,) [-14., -19., -24.] df/dw = X.T @ d_t2 = [-14., -19., -24.] d_w = X.T @ d_t2" in lines
    out = run("graph", text, *point)
    assert out.returncode == 0 and "[n, 3] (2, 3)" in out.stdout
