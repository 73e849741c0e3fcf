"""Generated source: exact text for the seed, Python's precedence traps, names, determinism, standalone use."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import symgraph
from symgraph.codegen import MAX_INLINE_DEPTH

SEED_BODY = '''\
def value_and_grad(x):
    """Value of FORMULA and its gradient with respect to (x)."""
    try:
        h = x + 5.0
        g = np.power(h, 3.0) + 1.0
        f = g * g
        d_g = 2.0 * g
        d_h = 3.0 * d_g * (h * h)
    except (ZeroDivisionError, OverflowError):
        if not _python_numbers(x):
            raise
        # Python floats raise where NumPy gives inf or nan with a warning: redo in NumPy floats.
        return value_and_grad(*_numpy_floats(x))
    return f, (d_h,)
'''


def body(f: symgraph.CompiledFunction) -> str:
    """The generated function's text, from `def` to the blank line after it."""
    src = f.source
    start = src.index(f"def {f.name}(")
    return src[start : src.index("\n\n", start) + 1]


def test_seed_source_is_the_reviewed_golden_text() -> None:
    assert body(symgraph.compile("h = x + 5; g = h^3 + 1; f = g^2")) == SEED_BODY


def value_line(text: str) -> str:
    src = symgraph.compile(text, wrt=[]).source  # the value alone: no adjoint shares its nodes
    return next(line.strip() for line in src.splitlines() if line.strip().startswith("value = "))


@pytest.mark.parametrize(
    "text,line",
    [
        ("-x^2", "value = -(x * x)"),
        ("(-x)^y", "value = np.power(-x, y)"),
        ("2^-x", "value = np.power(2.0, -x)"),
        ("x^-1", "value = 1.0 / x"),
        ("x^-3", "value = np.power(x, -3.0)"),  # powers NumPy's array power does not special-case
        ("(a+b)^-4", "value = np.power(a + b, -4.0)"),
        ("x^2", "value = x * x"),  # np.power(x, 2.0) on arrays is np.square: the same bits
        ("x^0.5", "value = np.sqrt(x)"),
        ("x/2", "value = x / 2.0"),
        ("a - (b - c)", "value = a - (b - c)"),
        ("a - b - c", "value = a - b - c"),
        ("a + (b + c)", "value = a + (b + c)"),
        ("a/(b*c)", "value = a / (b * c)"),
        ("a/b*c", "value = a / b * c"),
        ("(a*b)^5", "value = np.power(a * b, 5.0)"),
        ("y*x + x*y", "value = t2"),  # one node (canonical operand order), computed once: `t2 += t2` before
        ("-(2*x)", "value = -2.0 * x"),
        ("x^y^z", "value = np.power(x, np.power(y, z))"),
        ("-(a + b)", "value = -(a + b)"),
        ("x - 3", "value = x - 3.0"),
        ("x + -3", "value = x - 3.0"),
        ("sin(-x)", "value = np.sin(-x)"),
    ],
)
def test_python_precedence_traps(text: str, line: str) -> None:
    assert value_line(text) == line


def test_shared_subexpression_computed_once() -> None:
    src = body(symgraph.compile("sin(x*y) + cos(x*y) * sin(x*y)"))
    assert src.count("x * y") == 1
    assert src.count("np.sin(") == 1


def test_dead_statements_are_dropped() -> None:
    src = body(symgraph.compile("unused = exp(x); y = x + 1; out = y^2"))
    assert "exp" not in src and "unused" not in src


def test_source_is_byte_identical_across_processes() -> None:
    code = "import symgraph; print(symgraph.compile('a = x*y; b = sin(a) + a^2; c = b/y').source)"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(runs) == 1


@pytest.mark.parametrize(
    "text,param",
    [
        ("lambda*2 + if_", "lambda_"),
        ("np + 1", "np_"),
        ("value*2", "value"),
        ("x + d_x", "d_x"),
        ("_sum_to*x", "_sum_to_"),
    ],
)
def test_awkward_names_are_renamed_safely(text: str, param: str) -> None:
    f = symgraph.compile(text)
    assert "def value_and_grad(" in f.source and param in f.source.split("def value_and_grad(")[1].split(")")[0]
    args = {n: 1.5 for n in f.variables}
    value, grads = f(**args)
    assert np.isfinite(value) and len(grads) == len(f.variables)


def test_gradient_named_like_an_input_does_not_clash() -> None:
    f = symgraph.compile("x*x*d_x")  # d/dx would be d_x, which is an input's name
    value, (gx, gdx) = f(2.0, 3.0)
    assert (value, gx, gdx) == (12.0, 12.0, 4.0)


def test_long_chains_are_split_into_lines() -> None:
    f = symgraph.compile(" + ".join(["x"] + ["1"] * 0) + "".join(f" + sin(x)*{i}" for i in range(40)))
    depth = max(line.count("(") for line in body(f).splitlines())
    assert depth <= 2 * MAX_INLINE_DEPTH + 4


def test_save_runs_without_symgraph(tmp_path: Path) -> None:
    """The saved module needs only NumPy: run it where symgraph cannot be imported."""
    f = symgraph.compile("(w*x+b-y)^2/2", wrt=["w", "b"], name="cost")
    f.save(tmp_path / "grad_cost.py")
    script = textwrap.dedent(
        """
        import sys
        sys.modules["symgraph"] = None  # any import of symgraph now fails
        from grad_cost import cost
        print(cost(3.0, -3.0, 1.0, 5.0))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{script}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "(84.5, (39.0, -13.0))"


def test_traceback_shows_generated_lines() -> None:
    class Opaque:
        __array_ufunc__ = None  # array-like enough to be passed, but supports no arithmetic

    f = symgraph.compile("x + y")
    with pytest.raises(TypeError) as info:
        f(Opaque(), 1.0)
    assert any("x + y" in (entry.statement and str(entry.statement) or "") for entry in info.traceback)
