"""The Array-API form on every case of the matrix ops' coverage table (tests/test_matrix_ops.py's CASES: matmul
of every rank, transposes, reductions along each axis, logsumexp, softmax, dot, outer, tr, det, inv, logdet,
norms), undeclared and with every input's shape declared: array-api-strict, PyTorch CPU and JAX CPU against
NumPy to 1e-12 relative, each result of the input's library, dtype and shape. Also: every op of the table has
an Array-API spelling that uses only the standard's names."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

import symgraph
from symgraph import xp
from symgraph.ops import OPS
from tests import xp_backends as B
from tests.matrix_reference import symbolic
from tests.test_matrix_ops import CASES, _inputs, _weighted

# Names the Array-API form may call that are not in array-api-strict: none today.
NOT_IN_THE_STANDARD: set[str] = set()


@pytest.mark.parametrize("backend", B.params())
@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "declared"])
@pytest.mark.parametrize(("expr", "shapes"), CASES, ids=[f"{e}|{s}" for e, s in CASES])
def test_every_matrix_case_equals_numpy(
    expr: str, shapes: dict[str, tuple[int, ...]], declared: bool, backend: B.Backend
) -> None:
    B.setup(backend)
    rng = np.random.default_rng(zlib.crc32(f"{expr}|{shapes}".encode()))
    args = _inputs(shapes, rng)
    text = _weighted(expr, args, "whole", rng)
    f = symgraph.compile(text, shapes=symbolic({**shapes, "W": np.shape(args["W"])}) if declared else None)
    B.compare(f, [args[n] for n in f.variables], backend)


def test_every_op_has_an_array_api_spelling_in_the_standard() -> None:
    """A template names only the standard's functions (array-api-strict has each) and runtime_xp's helpers; a
    render (sum_to, the rank-checked linear algebra) is run by the cases above, on array-api-strict, whose
    _namespace refuses a module that needs a function the namespace lacks."""
    xs = pytest.importorskip("array_api_strict", reason=B.WHY["array_api_strict"])
    for name, op in OPS.items():
        if name in ("var", "const"):
            continue
        spell = op.xp or op.numpy.replace("np.", "xp.")
        assert spell, f"{name} has no Array-API spelling (opdef.Op.xp)"
        if callable(spell):
            continue
        assert "np." not in spell, (name, spell)
        for used in re.findall(r"\bxp\.([A-Za-z]\w*(?:\.[A-Za-z]\w*)?)", spell):
            where = xs
            for part in used.split("."):
                where = getattr(where, part, None)
            assert where is not None or used in NOT_IN_THE_STANDARD, f"{name}: xp.{used} is not in the standard"
        for helper in re.findall(r"\b(_[a-z_]+)\(", spell):
            assert helper in xp.HELPERS, f"{name}: {helper} is not a runtime_xp helper"


def test_a_numpy_only_name_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: np.arcsin read as xp.arcsin is not the standard's name."""
    import dataclasses

    monkeypatch.setitem(OPS, "asin", dataclasses.replace(OPS["asin"], xp=""))
    with pytest.raises(AssertionError, match="xp.arcsin is not in the standard"):
        test_every_op_has_an_array_api_spelling_in_the_standard()
