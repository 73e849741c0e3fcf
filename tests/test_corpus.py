"""The AI Feynman corpus (120 physics formulas with reference values and gradients from SymPy + mpmath at 50
digits), checked by the corpus's own check.py, which none of symgraph's authors wrote for symgraph's sake.

The corpus lives in the repository, in tests/data/feynman/ (its SOURCE.md says where the formulas come from;
build_cases.py there regenerates cases.jsonl). Each formula is one test case, run through check.py's own
`check_case`, once as written (ln, arcsin, arccos) and once in core spelling; the script itself is also run as a
user runs it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import symgraph

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "feynman"
CHECK = CORPUS / "check.py"
CASES = CORPUS / "cases.jsonl"


@functools.cache
def load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feynman_check", CHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_cases() -> list[dict[str, Any]]:
    with CASES.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ALL = load_cases()


def test_the_corpus_is_complete() -> None:
    assert len(ALL) == 120
    assert len({c["id"] for c in ALL}) == 120


@pytest.mark.parametrize("field", ["formula", "formula_core"])
@pytest.mark.parametrize("case", ALL, ids=[c["id"] for c in ALL])
def test_formula_compiles_and_matches_the_reference(case: dict[str, Any], field: str) -> None:
    checker = load_checker()
    ok, message, value_err, grad_err = checker.check_case(symgraph, case, case[field], 1e-9, 1e-12)
    assert ok, f"{case['id']}: {case[field]}\n{message}"


@pytest.mark.parametrize("flags", [[], ["--core"]])
def test_check_script_passes(flags: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(CHECK), *flags], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "120 formulas, 120 parsed, 120 passed, 0 failed" in out.stdout
