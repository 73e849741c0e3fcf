"""The Array-API form (symgraph/xp.py): every formula of the op-coverage table (tests/test_against_sympy.py's
CASES, which test_op_coverage.py holds to every user op) and the digits network's loss, called with
array-api-strict arrays, PyTorch CPU tensors and JAX CPU arrays, equal NumPy's result to 1e-12 relative (float32:
2e-4), each result of the input's library, dtype and shape. Also: NumPy keeps its own code, saved modules,
jax.jit, and the errors a missing function or a mixed call gives."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
import zlib
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

import symgraph
from symgraph import xp
from tests import xp_backends as B
from tests.test_against_sympy import CASES

ROOT = Path(__file__).resolve().parent.parent
SHAPES = [(3, 1), (4,), (3, 4), ()]  # input k has SHAPES[k % 4]; () is a Python float: broadcasting, sums back


def inputs(f: symgraph.CompiledFunction, bounds: tuple[float, float], seed: str) -> list[Any]:
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    out: list[Any] = []
    for k, _ in enumerate(f.variables):
        shape = SHAPES[k % len(SHAPES)]
        out.append(float(rng.uniform(*bounds)) if shape == () else rng.uniform(*bounds, size=shape))
    return out


@pytest.mark.parametrize("backend", B.params())
@pytest.mark.parametrize("text,bounds", CASES, ids=[c[0] for c in CASES])
def test_every_coverage_formula_equals_numpy(text: str, bounds: tuple[float, float], backend: B.Backend) -> None:
    B.setup(backend)
    f = symgraph.compile(text)
    B.compare(f, inputs(f, bounds, text), backend)


@pytest.mark.parametrize("backend", B.params())
@pytest.mark.parametrize("text,bounds", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_float32_stays_float32(text: str, bounds: tuple[float, float], backend: B.Backend) -> None:
    B.setup(backend)
    f = symgraph.compile(text)
    B.compare(f, inputs(f, bounds, text), backend, dtype="float32", rel=B.REL32)


def digits_batch() -> list[np.ndarray]:
    """64 digits images and the example's initial weights moved a little (no bias exactly 0), in f's order."""
    pytest.importorskip("sklearn", reason="the digits come with scikit-learn (a test dependency)")
    sys.path.insert(0, str(ROOT / "examples"))
    import mlp_digits

    data = mlp_digits.load_digits()
    rng = np.random.default_rng(5)
    W1, b1, W2, b2 = mlp_digits.initial_weights()
    b1, b2 = b1 + rng.normal(0, 0.1, b1.shape), b2 + rng.normal(0, 0.1, b2.shape)
    return [data.X[:64], W1, b1, W2, b2, data.Y[:64]]


@pytest.mark.parametrize("backend", B.params())
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_digits_network_loss_and_gradients_equal_numpy(backend: B.Backend, dtype: str) -> None:
    B.setup(backend)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hand_mlp

    f = symgraph.compile(hand_mlp.FORMULA)
    assert f.variables == ("X", "W1", "b1", "W2", "b2", "Y")
    B.compare(f, digits_batch(), backend, dtype, B.REL if dtype == "float64" else B.REL32)


def test_numpy_inputs_keep_the_numpy_code() -> None:
    """Floats and NumPy arrays run f.source's function; the Array-API form is not even made."""
    f = symgraph.compile("sin(x) * y + x^3")
    assert "xp." not in f.source and "array_api_compat" not in f.source
    f(1.0, 2.0), f(np.ones(3), 2.0), f(x=np.ones(3), y=np.int64(2))
    assert "_xp_function" not in vars(f) and "_xp_source" not in vars(f)


@pytest.mark.parametrize("backend", B.params())
def test_keywords_integers_and_numbers_beside_arrays(backend: B.Backend) -> None:
    B.setup(backend)
    f = symgraph.compile("x * y + z^2", wrt=["x", "z"])
    x = np.linspace(0.5, 1.5, 5)
    value, (dx, dz) = f(y=2.0, z=backend.array(np.arange(5.0)), x=backend.array(x))
    B.assert_like(value, x * 2.0 + np.arange(5.0) ** 2, backend.array(x), "value")
    B.assert_like(dz, 2 * np.arange(5.0), backend.array(x), "d_z")
    value, (dx, dz) = f(backend.array(x), 2, backend.array(np.arange(5), "int64"))  # integers: float64
    B.assert_like(dz, 2 * np.arange(5.0), backend.array(x), "d_z from an integer array")


def test_arrays_of_two_libraries_are_refused() -> None:
    torch = pytest.importorskip("torch", reason=B.WHY["torch"])
    f = symgraph.compile("x * y")
    with pytest.raises(TypeError, match="[Mm]ultiple namespaces"):
        f(torch.ones(3, dtype=torch.float64), np.ones(3))


def test_a_function_the_library_lacks_is_named() -> None:
    """Dask's namespace has no linalg.det (array-api-compat's dask.array): the error names both."""
    da = pytest.importorskip("dask.array", reason="Dask is a test dependency")
    f = symgraph.compile("det(S)")
    with pytest.raises(NotImplementedError, match=r"dask\.array has no linalg\.det"):
        f.function_xp(da.from_array(np.eye(3) * 2.0))


def test_dask_runs_the_array_api_form_too() -> None:
    """Called directly (f(...) keeps Dask on NumPy's form, which Dask follows), the Array-API form is lazy Dask."""
    da = pytest.importorskip("dask.array", reason="Dask is a test dependency")
    f = symgraph.compile("mean((w*x + b - y)^2)/2 + logsumexp(x)", wrt=["w", "b"])
    x, y = np.linspace(-1, 1, 50), np.linspace(0, 2, 50)
    value, grads = f.function_xp(1.5, da.from_array(x, chunks=10), 0.25, da.from_array(y, chunks=10))
    want_value, want_grads = f(1.5, x, 0.25, y)
    assert isinstance(value, da.Array) and all(isinstance(g, da.Array) for g in grads)
    np.testing.assert_allclose([float(value), *map(float, grads)], [want_value, *want_grads], rtol=B.REL)


def test_jit_fuses_and_equals_numpy() -> None:
    jax = pytest.importorskip("jax", reason=B.WHY["jax"])
    B.setup(B.BACKENDS[2])
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hand_written

    f = symgraph.compile(hand_written.rosenbrock_text(6))
    xs = [np.random.default_rng(k).uniform(-1.5, 1.5, 100) for k in range(6)]
    step = f.jit()
    value, grads = step(*[jax.numpy.asarray(a) for a in xs])
    want_value, want_grads = f(*xs)
    like = jax.numpy.asarray(xs[0])
    B.assert_like(value, want_value, like, "value")
    for got, want in zip(grads, want_grads):
        B.assert_like(got, want, like, "gradient")
    assert len(jax.make_jaxpr(step)(*xs).jaxpr.eqns) == 1  # one jitted computation, whose body XLA fuses


def test_saved_module_is_numpy_only_unless_asked(tmp_path: Path) -> None:
    xs = pytest.importorskip("array_api_strict", reason=B.WHY["array_api_strict"])
    f = symgraph.compile("sum(softmax(A @ B, axis=1)) + norm(B)")
    plain = f.save(tmp_path / "plain.py").read_text()
    assert plain == f.source and "array_api_compat" not in plain
    text = f.save(tmp_path / "grad_xp.py", array_api=True).read_text()
    tree = ast.parse(text)
    imports = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
    assert imports == ["math", "array_api_compat"] and "array-api-compat" in ast.get_docstring(tree)  # type: ignore[operator]
    assert "np." not in text and "errstate" not in text and "_numpy_floats" not in text
    spec = importlib.util.spec_from_file_location("grad_xp", tmp_path / "grad_xp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(1)
    A, Bm = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    value, (dA, dB) = module.value_and_grad(xs.asarray(A), xs.asarray(Bm))
    want_value, (wA, wB) = f(A, Bm)
    B.assert_like(value, want_value, xs.asarray(A), "value")
    B.assert_like(dB, wB, xs.asarray(A), "d_B")


HOSTILE = ["xp", "math", "array_api_compat", "NEEDS", "_namespace", "_sum_to", "np", "value_and_grad"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_plain_variables_in_the_array_api_form(name: str) -> None:
    """A user name equal to one the Array-API module defines is renamed there; the function calls only xp.*,
    its helpers and itself, and holds no string but its docstring."""
    xs = pytest.importorskip("array_api_strict", reason=B.WHY["array_api_strict"])
    f = symgraph.compile(f"{name} * x + {name}^2 + sum(x)")
    tree = ast.parse(xp.module_source(f))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == f.name)
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id in {f.name, *xp.HELPERS}, ast.unparse(node)
        elif isinstance(node, ast.Call):
            assert ast.unparse(node.func).startswith("xp."), ast.unparse(node)
        assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Lambda, ast.Global, ast.Nonlocal))
    value, grads = f(xs.asarray([2.0, 1.0]), xs.asarray([3.0, 4.0]))
    want_value, want_grads = f(np.array([2.0, 1.0]), np.array([3.0, 4.0]))
    B.assert_like(value, want_value, xs.asarray([1.0]), "value")
    for got, want in zip(grads, want_grads):
        B.assert_like(got, want, xs.asarray([1.0]), "gradient")


def test_the_benchmark_contenders_agree_at_small_sizes() -> None:
    """benchmarks/bench_xp.py times only calls whose results equal symgraph's NumPy ones (no timing here)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hand_mlp
    import hand_written as hw

    with mock.patch.dict(os.environ):  # the benchmarks pin thread counts in os.environ: keep them out of the tests
        import bench_peers as bp
        import bench_xp

    rng = np.random.default_rng(3)
    xs = tuple(rng.uniform(-1.5, 1.5, 9) for _ in range(4))
    net = (rng.uniform(0, 1, (5, 64)), rng.normal(0, 1 / 8, (64, 32)), rng.normal(0, 0.1, 32))
    net += (rng.normal(0, 0.2, (32, 10)), rng.normal(0, 0.1, 10), np.eye(10)[rng.integers(0, 10, 5)])
    loads = [
        bp.Workload("Rosenbrock", hw.rosenbrock_text(4), [f"x{i}" for i in range(4)], xs, (hw.rosenbrock,) * 2,
                    bp.rosen_model),
        bp.Workload("digits", hand_mlp.FORMULA, list(hand_mlp.WEIGHTS), net, (hw.mlp_loss,) * 2, bp.mlp_model, True),
    ]  # fmt: skip
    for w in loads:
        calls = bench_xp.contenders(w)
        want = bp.as_numbers(*calls["symgraph, NumPy"]())
        for name, call in calls.items():
            error = hw.max_relative_error(bp.as_numbers(*bench_xp._pair(call())), want)
            assert error < 1e-12, (w.name, name, error)


def test_the_gpu_check_skips_cleanly_without_a_gpu() -> None:
    """benchmarks/gpu_check.py says why it checked nothing and exits 0 where no CUDA GPU is present."""
    import subprocess

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_check

    found, _why = gpu_check.gpu_libraries()
    if found:
        pytest.skip(f"a GPU is present ({', '.join(found)}): run benchmarks/gpu_check.py itself")
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py")], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("skipped: no CUDA GPU found"), run.stdout + run.stderr


def test_the_gpu_checks_comparison_can_fail() -> None:
    """gpu_check's comparison, given CPU tensors as its 'GPU' arrays, passes where it should and fails otherwise."""
    torch = pytest.importorskip("torch", reason=B.WHY["torch"])
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_check

    f = symgraph.compile("sin(x) * y")
    args = [np.linspace(0, 1, 5), 2.0]
    assert gpu_check.compare(f, args, torch.from_numpy) <= gpu_check.REL
    with pytest.raises(AssertionError, match="a float64, not a ndarray"):
        gpu_check.compare(f, args, lambda a: torch.from_numpy(a).numpy())  # 'GPU' arrays that are NumPy's


def test_higher_derivatives_say_they_are_numpy_only() -> None:
    torch = pytest.importorskip("torch", reason=B.WHY["torch"])
    h = symgraph.hessian("x^2*y")
    with pytest.raises(NotImplementedError, match="value_grad_hessian has no Array-API form yet"):
        h(torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    assert h(np.ones(2), np.ones(2))[0].shape == (2,)  # NumPy's form as before


@pytest.mark.parametrize("backend", B.params())
@pytest.mark.parametrize("text", ["x + 1", "x + 2*y", "sum(x) + y", "x*y + 3*y"])
def test_constant_gradients_of_0d_inputs_are_arrays(text: str, backend: B.Backend) -> None:
    """A gradient that is one number (d/dx of x + 1) comes back as a 0-d array of the inputs' library and dtype,
    for 0-d inputs too (float32 stays float32)."""
    B.setup(backend)
    f = symgraph.compile(text)
    for dtype in ("float64", "float32"):
        args = [np.array(1.5), np.array(-0.5)][: len(f.variables)]
        B.compare(f, args, backend, dtype, B.REL if dtype == "float64" else B.REL32)


def test_the_readme_shows_the_array_api_function_as_generated() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Other array libraries") : readme.index("## Data sets and training")]
    shown = section[section.index("def value_and_grad") :]
    shown = shown[: shown.index("```")]
    f = symgraph.compile("mean((w*x + b - y)^2)/2", wrt=["w", "b"])
    assert shown.strip() in f.source_xp
