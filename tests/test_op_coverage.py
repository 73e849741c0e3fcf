"""Every op a formula can spell has its derivative checked: a new op cannot land without one.

An op is covered when it appears in a SymPy-agreement case of tests/test_against_sympy.py, or when the formula
strategy knows its domain (tests/strategies.py ARGUMENTS) and its SymPy reference, so that
tests/test_properties.py::test_each_op_agrees_with_sympy checks it. Every op also needs a SymPy spelling in the
bridge (symgraph.check depends on it) and one adjoint rule per input.
"""

from __future__ import annotations

import dataclasses

import pytest

from symgraph import sympy_bridge
from symgraph.ops import OPS
from symgraph.parse import parse
from tests import strategies
from tests.test_against_sympy import CASES


def ops_in_cases() -> set[str]:
    """The ops the graphs of the SymPy-agreement cases contain (aliases resolved by the parser)."""
    found: set[str] = set()
    for text, _ in CASES:
        found |= {node.op for node in parse(text).graph.nodes}
    return found


def in_strategy(name: str) -> bool:
    if name not in strategies.ARGUMENTS or len(strategies.ARGUMENTS[name]) != OPS[name].arity:
        return False
    try:
        strategies.reference_function(name)
    except KeyError:
        return False
    return True


def uncovered() -> dict[str, list[str]]:
    """Op name -> what it lacks, for every user op that lacks something."""
    cases = ops_in_cases()
    missing: dict[str, list[str]] = {}
    for name, spec in OPS.items():
        if not spec.user or spec.arity == 0 or spec.matrix:  # matrix ops: tests/test_matrix.py
            continue
        lacks = []
        if name not in cases and not in_strategy(name):
            lacks.append("a derivative check (a case in test_against_sympy.CASES or an entry in strategies.ARGUMENTS)")
        if not in_strategy(name):
            lacks.append("an entry in tests/strategies.py ARGUMENTS with a SymPy reference")
        try:
            sympy_bridge.sympy_function(name)
        except NotImplementedError:
            lacks.append("a SymPy spelling in symgraph/sympy_bridge.py")
        if len(spec.grads) != spec.arity:
            lacks.append(f"one adjoint rule per input ({len(spec.grads)} for {spec.arity})")
        if lacks:
            missing[name] = lacks
    return missing


def test_every_user_op_has_a_derivative_check() -> None:
    assert uncovered() == {}


def test_the_strategy_draws_from_every_user_op() -> None:
    assert set(strategies.user_ops()) == {n for n, s in OPS.items() if s.user and s.arity > 0 and not s.matrix}
    assert set(strategies.user_ops()) <= set(strategies.ARGUMENTS)


def test_a_new_op_without_checks_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    new = dataclasses.replace(OPS["sin"], name="sinc", sympy="sinc_undefined")
    monkeypatch.setitem(OPS, "sinc", new)
    report = uncovered()
    assert list(report) == ["sinc"]
    assert any("derivative check" in why for why in report["sinc"])
    assert any("sympy_bridge" in why for why in report["sinc"])
