#!/usr/bin/env python3
"""Check symgraph against the AI Feynman corpus in cases.jsonl.

Each formula is compiled with symgraph.compile(text); its value and gradient are compared with the reference
(SymPy diff + mpmath at 50 digits) at 3 points. A number passes when |got - want| <= atol + rtol * |want|.
Prints one line per formula (how it parsed, max relative error of the value and of the gradient) and a
summary; exits 1 when any formula fails to compile, fails to run, or misses the tolerance.

Usage (from the repository root; reads cases.jsonl beside this file unless --cases is given):
    PYTHONPATH=. python tests/data/feynman/check.py [--rtol 1e-9] [--atol 1e-12] [--core] [--failures-only]
                                                    [--only ID ...] [--cases PATH]
  --core   compile `formula_core` (ln, arcsin, arccos spelled log, asin, acos) instead of `formula`
Needs json (stdlib) and an importable symgraph (which brings numpy). tests/test_corpus.py runs it both ways.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def rel_err(got: float, want: float) -> float:
    """Relative error; absolute error when the reference is exactly 0."""
    if not math.isfinite(got):
        return math.inf
    return abs(got - want) / abs(want) if want != 0 else abs(got - want)


def check_case(symgraph, case: dict, text: str, rtol: float, atol: float) -> tuple[bool, str, float, float]:
    """Compile and evaluate one case. Returns (passed, message, max value error, max gradient error)."""

    def close(got: float, want: float) -> bool:
        return math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want)

    try:
        fn = symgraph.compile(text)
    except Exception as e:  # every failure is reported, the run goes on
        return False, f"compile failed: {type(e).__name__}: {e}", math.nan, math.nan
    try:
        variables, wrt = tuple(fn.variables), tuple(fn.wrt)
    except Exception as e:
        return False, f"no .variables/.wrt: {type(e).__name__}: {e}", math.nan, math.nan
    problems = []
    if list(variables) != case["first_appearance"]:
        problems.append(f"variables {variables} != {tuple(case['first_appearance'])} (order of first appearance)")
    if set(wrt) != set(variables):
        problems.append(f"default wrt {wrt} != variables {variables}")
    unknown = [n for n in variables if n not in case["ranges"]]
    if unknown:
        return False, f"variables not in the formula's list: {unknown}", math.nan, math.nan
    max_v = max_g = 0.0
    for p in case["points"]:
        args = [p["inputs"][n] for n in variables]
        try:
            value, grads = fn(*args)
            value = float(value)
            grads = [float(g) for g in grads]
        except Exception as e:
            return False, f"call failed: {type(e).__name__}: {e}", math.nan, math.nan
        max_v = max(max_v, rel_err(value, p["value"]))
        if not close(value, p["value"]):
            problems.append(f"value {value!r} != {p['value']!r} at {p['inputs']}")
        if len(grads) != len(wrt):
            problems.append(f"{len(grads)} gradients for {len(wrt)} names in wrt")
            continue
        for name, g in zip(wrt, grads):
            want = p["gradient"].get(name)
            if want is None:
                problems.append(f"gradient for unknown name {name!r}")
                continue
            max_g = max(max_g, rel_err(g, want))
            if not close(g, want):
                problems.append(f"d/d{name} {g!r} != {want!r} at {p['inputs']}")
    return not problems, "; ".join(problems[:3]), max_v, max_g


def main() -> int:
    ap = argparse.ArgumentParser(description="Check symgraph against the AI Feynman corpus.")
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--atol", type=float, default=1e-12)
    ap.add_argument("--core", action="store_true", help="compile formula_core (core function names only)")
    ap.add_argument("--failures-only", action="store_true", help="print only the formulas that fail")
    ap.add_argument("--only", nargs="*", default=None, metavar="ID", help="case ids to run")
    ap.add_argument("--cases", default=str(Path(__file__).with_name("cases.jsonl")))
    a = ap.parse_args()
    try:
        import symgraph
    except Exception as e:
        print(f"feynman corpus: cannot import symgraph ({type(e).__name__}: {e}); install it or set PYTHONPATH")
        return 1

    with open(a.cases, encoding="utf-8") as fh:
        cases = [json.loads(line) for line in fh if line.strip()]
    if a.only:
        cases = [c for c in cases if c["id"] in a.only]
    field = "formula_core" if a.core else "formula"
    compiled = passed = 0
    worst_v = worst_g = 0.0
    for case in cases:
        ok, msg, ev, eg = check_case(symgraph, case, case[field], a.rtol, a.atol)
        compiled += not msg.startswith("compile failed")
        passed += ok
        if not math.isnan(ev):
            worst_v, worst_g = max(worst_v, ev), max(worst_g, eg)
        if ok and a.failures_only:
            continue
        status = "ok  " if ok else "FAIL"
        errs = f"value {ev:.1e}  grad {eg:.1e}" if not math.isnan(ev) else "value   -      grad   -    "
        line = f"{status} {case['id']:<10} {errs}  {case[field]}"
        print(line if ok else f"{line}\n       {msg}")
    failed = len(cases) - passed
    print(
        f"feynman corpus ({field}): {len(cases)} formulas, {compiled} parsed, {passed} passed, {failed} failed "
        f"(rtol {a.rtol:g}, atol {a.atol:g}); max relative error: value {worst_v:.1e}, gradient {worst_g:.1e}"
    )
    return 0 if failed == 0 and cases else 1


if __name__ == "__main__":
    sys.exit(main())
