"""symgraph.check on matrix formulas: element by element at small sizes against SymPy, and wrong rules caught."""

from __future__ import annotations

import dataclasses

import pytest

import symgraph
from symgraph import api
from symgraph.ops import OPS

FORMULAS = [
    "X: [n, 3]; w: [3]; y: [n]; mean((X @ w - y)^2)",
    "X: [n, m]; W1: [m, k]; W2: [k, 2]; H = tanh(X @ W1); Z = H @ W2; sum(log_softmax(Z, axis=1))",
    "A: [n, n]; det(A) + tr(A) + sum(inv(A)) + logdet(A)",
    "a: [n]; b: [n]; dot(a, b) + sum(outer(a, b)^2) + norm(a) + norm1(b)",
    "X: [n, m]; sum(softmax(X, axis=0) * X) + sum(logsumexp(X, axis=1, keepdims=True)) + sum(max(X, axis=1))",
    "X: [n, m]; sum(mean(X.T, axis=1)^2) + sum(log_sigmoid(X)) + mean(sum(X, axis=0)) - sum(min(X, axis=0))",
    "x: [n]; sum(x^2)",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_matrix_formulas_pass(text: str) -> None:
    report = symgraph.check(text, points=4)
    assert report.ok, str(report)
    assert all(c.method == "numeric" and c.points > 0 and c.fd_points > 0 for c in report.checks), str(report)
    assert "element by element" in str(report)


def test_shapes_given_beside_the_text() -> None:
    f = symgraph.compile("mean((X @ w - y)^2)", shapes={"X": ("n", 3), "w": (3,), "y": ("n",)})
    report = symgraph.check(f, points=3)
    assert report.ok and "n=3" in str(report), str(report)


def test_an_undeclared_input_is_checked_as_a_number() -> None:
    report = symgraph.check("X: [n, 3]; w: [3]; mean((X @ w - y)^2)", points=3)
    assert report.ok and "y: no declared shape, checked as numbers" in str(report)


@pytest.mark.parametrize("text", ["sum(A @ B)", "A: [n, 3]; sum(A @ B)"])
def test_undeclared_matrix_inputs_are_a_clear_error(text: str) -> None:
    with pytest.raises(symgraph.SymgraphError, match="declare every input's shape|declared shapes") as info:
        symgraph.check(text)
    assert "--shape" in str(info.value)


def test_a_wrong_matrix_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """d(A @ B)/dB = A @ g (not A.T @ g): wrong for non-symmetric A."""
    matmul = OPS["matmul"]
    wrong = (matmul.grads[0], lambda b, a, out, g: b.apply("matmul", a[0], g))
    monkeypatch.setitem(OPS, "matmul", dataclasses.replace(matmul, grads=wrong))
    api._build.cache_clear()
    try:
        report = symgraph.check("A: [n, n]; B: [n, m]; sum(sin(A @ B))", points=3)
    finally:
        api._build.cache_clear()
    by_name = {c.name: c for c in report.checks}
    assert by_name["A"].ok and not by_name["B"].ok and "MISMATCH" in str(report)


def test_every_matrix_op_the_text_can_spell_has_an_element_wise_expansion() -> None:
    """check's expansion table (tensor_check.ARRAY_OPS) covers every matrix op a formula can contain, so a new
    op cannot land that `symgraph check` would fail on."""
    from symgraph import tensor_check
    from symgraph.arguments import AXIS_FORMS
    from symgraph.ops import OPS

    spelled = {name for name, spec in OPS.items() if spec.matrix and spec.user}
    spelled |= {"matmul", *AXIS_FORMS.values()}  # written as A @ B and sum(X, axis=k)
    assert spelled - set(tensor_check.ARRAY_OPS) == set()
