#!/usr/bin/env python3
"""Rebuild cases.jsonl from FeynmanEquations.csv and BonusEquations.csv (needs sympy and mpmath).

For every formula: 3 points drawn uniformly inside the data set's sampling ranges (seeded per formula id),
and at each point the value and the gradient with respect to every listed variable, computed with SymPy's
diff and evaluated with mpmath at 50 significant digits, then rounded to float64.
A drawn point is redrawn when a plain float64 evaluation of the same SymPy expressions misses the 50-digit
value by more than 1e-11 relative (an ill-conditioned point no float64 program can be held to 1e-9 at).

Usage (from the repository root):
    python tests/data/feynman/build_cases.py                   # rewrites cases.jsonl beside this file
    python tests/data/feynman/build_cases.py --out /tmp/c.jsonl # writes elsewhere, e.g. to compare
The output is deterministic; all paths are relative to this file, so it runs from any directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
import sys
from pathlib import Path

import mpmath
import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

HERE = Path(__file__).resolve().parent
SOURCES = ("FeynmanEquations.csv", "BonusEquations.csv")
SEED = "symgraph-feynman-corpus-v1"
POINTS = 3
DIGITS = 50
COND_RTOL = 1e-11

# The function set symgraph plans to accept, and the spellings the data set uses beyond it.
CORE_FUNCS = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "sqrt", "abs"}
ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan"}
SYMPY_FUNCS = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "ln": sp.log,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
}
TOKEN = re.compile(r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<ws>\s+)|(?P<op>\*\*|.)")


def tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in TOKEN.finditer(text) if m.lastgroup != "ws"]


def analyse(text: str) -> tuple[list[str], list[str]]:
    """Names used as variables in order of first appearance, and the function names called."""
    toks = tokens(text)
    seen: list[str] = []
    calls: list[str] = []
    for i, (kind, tok) in enumerate(toks):
        if kind != "name":
            continue
        if i + 1 < len(toks) and toks[i + 1][1] == "(":
            if tok not in calls:
                calls.append(tok)
        elif tok not in ("pi", "e") and tok not in seen:
            seen.append(tok)
    return seen, calls


def core_spelling(text: str) -> str:
    """The formula with function aliases (ln, arcsin, arccos) spelled as the planned core names."""
    toks = tokens(text)
    out = []
    for i, (kind, tok) in enumerate(toks):
        if kind == "name" and tok in ALIASES and i + 1 < len(toks) and toks[i + 1][1] == "(":
            tok = ALIASES[tok]
        out.append(tok)
    return "".join(out)


def read_rows(path: Path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if (row.get("Formula") or "").strip():
                yield row


def build_case(row: dict, source: str) -> dict:
    cid = row["Filename"].strip()
    written = row["Formula"].strip()
    formula = written.replace("~", "-")
    names, ranges = [], {}
    for i in range(1, 11):
        n = (row.get(f"v{i}_name") or "").strip()
        if n:
            names.append(n)
            ranges[n] = [float(row[f"v{i}_low"]), float(row[f"v{i}_high"])]
    first, calls = analyse(formula)
    missing = [n for n in first if n not in ranges]
    if missing:
        raise SystemExit(f"{cid}: formula uses names not listed in the CSV: {missing}")
    beyond = [f for f in calls if f not in CORE_FUNCS]
    if "~" in written:
        beyond.append("~ (unary minus)")
    syms = {n: sp.Symbol(n, real=True) for n in names}
    local = {**SYMPY_FUNCS, "pi": sp.pi, **syms}
    expr = parse_expr(formula, local_dict=local, transformations=standard_transformations + (convert_xor,))
    if not expr.free_symbols <= set(syms.values()):
        raise SystemExit(f"{cid}: SymPy sees unexpected symbols {expr.free_symbols}")
    order = [syms[n] for n in names]
    exprs = [expr] + [sp.diff(expr, s) for s in order]
    f_mp = sp.lambdify(order, exprs, modules="mpmath")
    f_64 = sp.lambdify(order, exprs, modules="math")
    rng = random.Random(f"{SEED}:{source}:{cid}")
    points, redrawn = [], 0
    while len(points) < POINTS:
        if redrawn > 1000:
            raise SystemExit(f"{cid}: could not find well-conditioned points")
        x = [rng.uniform(*ranges[n]) for n in names]
        with mpmath.workdps(DIGITS):
            ref = f_mp(*[mpmath.mpf(v) for v in x])
            if any(isinstance(r, mpmath.mpc) and r.imag != 0 for r in ref):
                redrawn += 1
                continue
            ref = [float(mpmath.re(r)) for r in ref]
        if not all(math.isfinite(r) for r in ref):
            redrawn += 1
            continue
        try:
            plain = f_64(*x)
        except (ValueError, ZeroDivisionError, OverflowError):
            redrawn += 1
            continue
        if any(abs(p - r) > COND_RTOL * abs(r) for p, r in zip(plain, ref)):
            redrawn += 1
            continue
        points.append({"inputs": dict(zip(names, x)), "value": ref[0], "gradient": dict(zip(names, ref[1:]))})
    return {
        "id": cid,
        "source": source,
        "number": row.get("Number", "").strip(),
        "output": row.get("Output", "").strip(),
        "formula_as_written": written,
        "formula": formula,
        "formula_core": core_spelling(formula),
        "beyond_core": beyond,
        "variables": names,
        "first_appearance": first,
        "unused_variables": [n for n in names if n not in first],
        "ranges": ranges,
        "redrawn_points": redrawn,
        "points": points,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description="Rebuild cases.jsonl from the AI Feynman CSV files.")
    ap.add_argument("--out", type=Path, default=HERE / "cases.jsonl", help="where to write (default: %(default)s)")
    a = ap.parse_args()
    cases = []
    for source in SOURCES:
        for row in read_rows(HERE / source):
            cases.append(build_case(row, source))
    with open(a.out, "w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case) + "\n")
    beyond = [c for c in cases if c["beyond_core"]]
    print(
        f"{len(cases)} cases, {sum(len(c['points']) for c in cases)} points, "
        f"{sum(c['redrawn_points'] > 0 for c in cases)} with redrawn points, {len(beyond)} beyond the core syntax:"
    )
    for c in beyond:
        print(f"  {c['id']}: {', '.join(c['beyond_core'])}: {c['formula_as_written']}")
    for c in cases:
        if c["unused_variables"] or c["redrawn_points"]:
            print(f"  {c['id']}: unused {c['unused_variables']}, redrawn {c['redrawn_points']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
