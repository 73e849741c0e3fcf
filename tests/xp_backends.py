"""The array libraries the Array-API tests run on, and the comparison they share: each result of the library's
type, dtype and device, of the NumPy result's shape, and equal to it within a relative tolerance.

array-api-strict (the standard's reference, a test dependency) always runs; PyTorch and JAX CPU run when
installed (CI installs their CPU wheels) and are skipped, saying so, when not.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

REL = 1e-12  # float64 in any library against NumPy's float64
REL32 = 2e-4  # float32 against NumPy's float64


@dataclass(frozen=True)
class Backend:
    """One library: how to make its array from a NumPy one, and how to read one back."""

    name: str
    module: str  # what must be importable

    def array(self, a: np.ndarray, dtype: str = "float64") -> Any:
        if self.name == "array-api-strict":
            import array_api_strict as xs

            return xs.asarray(a, dtype=getattr(xs, dtype))
        if self.name == "torch":
            import torch

            return torch.from_numpy(np.array(a)).to(getattr(torch, dtype))
        import jax.numpy as jnp

        return jnp.asarray(a, dtype=dtype)


BACKENDS = [Backend("array-api-strict", "array_api_strict"), Backend("torch", "torch"), Backend("jax", "jax")]
WHY = {
    "array_api_strict": "array-api-strict is a test dependency: pip install -e '.[test]'",
    "torch": "PyTorch is not installed here (CI installs the CPU wheel from download.pytorch.org/whl/cpu)",
    "jax": "JAX is not installed here (CI installs jax[cpu])",
}


def params() -> list[Any]:
    """The backends as pytest params, each skipped with its reason when its library is missing."""
    out = []
    for b in BACKENDS:
        found = importlib.util.find_spec(b.module) is not None
        out.append(pytest.param(b, id=b.name, marks=() if found else pytest.mark.skip(reason=WHY[b.module])))
    return out


def setup(backend: Backend) -> None:
    """JAX computes in float64 only with x64 enabled (what its users do for float64 work)."""
    if backend.name == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)


def to_numpy(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor
        return np.asarray(a.detach().cpu().numpy())
    try:
        return np.asarray(a)
    except (TypeError, ValueError, RuntimeError):  # array-api-strict without __array__: through DLPack
        return np.from_dlpack(a)


def assert_like(got: Any, want: Any, like: Any, what: str, rel: float = REL) -> None:
    """`got` is an array of `like`'s library, dtype and device, of `want`'s shape, equal to it within `rel`
    of its largest entry (nan where it is nan)."""
    import array_api_compat

    assert type(got) is type(like), f"{what}: a {type(got).__name__}, not the inputs' {type(like).__name__}"
    assert got.dtype == like.dtype, f"{what}: dtype {got.dtype}, inputs {like.dtype}"
    assert array_api_compat.device(got) == array_api_compat.device(like), what
    g, w = to_numpy(got), np.asarray(want, dtype=float)
    assert g.shape == w.shape, f"{what}: shape {g.shape}, NumPy's {w.shape}"
    assert np.array_equal(np.isnan(g), np.isnan(w)), f"{what}: nan at other places"
    finite = np.isfinite(w)
    assert np.array_equal(g[~finite & ~np.isnan(w)], w[~finite & ~np.isnan(w)]), f"{what}: infinities differ"
    scale = max(float(np.max(np.abs(w[finite]), initial=0.0)), 1e-300)
    error = float(np.max(np.abs(g[finite] - w[finite]), initial=0.0)) / scale
    assert error <= rel, f"{what}: relative error {error:.2e} > {rel:.0e}"


def compare(f: Any, args: list[Any], backend: Backend, dtype: str = "float64", rel: float = REL) -> None:
    """f at `args` (NumPy arrays, or Python floats kept as they are) in `backend` against f at `args` in NumPy:
    the value and every gradient."""
    want_value, want_grads = f(*args)
    converted = [a if isinstance(a, float) else backend.array(a, dtype) for a in args]
    like = next(a for a in converted if not isinstance(a, float))
    value, grads = f(*converted)
    assert_like(value, want_value, like, "value", rel)
    assert len(grads) == len(want_grads)
    for name, got, want in zip(f.wrt, grads, want_grads):
        assert_like(got, want, like, f"d_{name}", rel)
