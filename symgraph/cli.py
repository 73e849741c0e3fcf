"""The `symgraph` command: argparse over the public API only.

Points (`--at`) take numbers, JSON arrays (`X=[[1,2],[3,4]]`) and random arrays (`X=randn(4,3)`, seeded by
the input's name, so a command shows the same numbers each time); shapes (`--shape X=n,64`) are declared as
the text's `X: [n, 64]` declares them.

Bad input prints the error's message (no traceback) on stderr and exits 2. A warning raised while the
formula is evaluated (NumPy's overflow, division by zero, invalid value) is printed as one line naming the
formula, not as the line of generated code that raised it.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import warnings
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import api
from .errors import ArgumentError, SymgraphError

# Values of --at that are meant to be infinite or nan, spelled as such (float() reads them, in any case).
_NON_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"}


_RANDOM = re.compile(r"^(rand|randn)\(\s*(\d+(?:\s*,\s*\d+)*)?\s*\)$")
MAX_ELEMENTS = 1_000_000  # of one random array given on the command line


def _split(item: str) -> list[str]:
    """`x=1,Y=[1,2]` -> ['x=1', 'Y=[1,2]']: commas inside brackets and parentheses belong to the value."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(item):
        depth += (ch in "[(") - (ch in "])")
        if ch == "," and depth <= 0:
            parts.append(item[start:k])
            start = k + 1
    return [*parts, item[start:]]


def parse_at(items: Sequence[str]) -> dict[str, Any]:
    """`x=-3 y=2` or `x=-3,y=2` -> {'x': -3.0, 'y': 2.0}; `X=[[1,2],[3,4]]` and `X=randn(4,3)` give arrays."""
    point: dict[str, Any] = {}
    for item in items:
        for part in _split(item):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise ArgumentError(f"--at takes name=value pairs, got {part!r}")
            if name.strip() in point:
                raise ArgumentError(f"--at gives {name.strip()} twice")
            point[name.strip()] = _array(name.strip(), value.strip())
    return point


def _array(name: str, text: str) -> Any:
    """A value of --at: a number, a JSON list of numbers (nested for a matrix), or rand(...)/randn(...)."""
    m = _RANDOM.match(text)
    if m:
        shape = tuple(int(d) for d in m.group(2).split(",")) if m.group(2) else ()
        if math.prod(shape) > MAX_ELEMENTS:
            raise ArgumentError(f"--at {name}: {text} has more than {MAX_ELEMENTS:,} elements")
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        return rng.random(shape) if m.group(1) == "rand" else rng.standard_normal(shape)
    if not text.startswith("["):
        return _value(name, text)
    try:
        return np.asarray(json.loads(text), dtype=np.float64)
    except (ValueError, TypeError, RecursionError):
        raise ArgumentError(
            f"--at {name}: {text[:40]!r} is not a list of numbers",
            hint="write a vector as [1,2,3] and a matrix as [[1,2],[3,4]] (quoted for the shell), or randn(4,3)",
        ) from None


def parse_shapes(items: Sequence[str]) -> dict[str, tuple[int | str, ...]] | None:
    """`X=n,64 w=64` (or `X=[n,64]`; `s=` for a number) -> {'X': ('n', 64), 'w': (64,)}, as the text's
    `X: [n, 64]` declares them; None when no --shape is given."""
    if not items:
        return None
    shapes: dict[str, tuple[int | str, ...]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name.isidentifier():
            raise ArgumentError(f"--shape takes NAME=DIMS such as X=n,64, got {item!r}")
        if name in shapes:
            raise ArgumentError(f"--shape gives {name} twice")
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        dims: list[int | str] = []
        for d in (t.strip() for t in text.split(",") if t.strip()):
            if d.isdigit():
                dims.append(int(d))
            elif d.isidentifier():
                dims.append(d)
            else:
                raise ArgumentError(
                    f"--shape {name}: {d!r} is not a dimension (a whole number or a name such as n)",
                    hint="give one NAME=DIMS item per input: --shape X=n,64 W1=64,32",
                )
        shapes[name] = tuple(dims)
    return shapes


def _value(name: str, text: str) -> float:
    """A value of --at: a float, finite unless spelled inf or nan; a number that overflows is an error, as the
    same number in a formula is."""
    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(f"--at {name}: {text!r} is not a number") from None
    if not math.isfinite(value) and text.strip().lower() not in _NON_FINITE:
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise ArgumentError(
            f"--at {name}: the number {shown} is too large for a float (the largest is about 1.8e308)",
            hint="write inf (or -inf, nan) if that is what you mean",
        )
    return value


def _number(v: Any) -> str:
    if np.ndim(v) != 0:
        return np.array2string(np.asarray(v, dtype=np.float64), separator=", ")
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return repr(v)


def cmd_grad(a: argparse.Namespace) -> int:
    """Print the value and every gradient, by name."""
    f = api.compile(a.expr, wrt=a.wrt, shapes=parse_shapes(a.shape))
    point = parse_at(a.at or [])
    value, grads = f(**point)
    print(f"value = {_number(value)}")
    for name, g in zip(f.wrt, grads):
        print(f"d_{name} = {_number(g)}")
    return 0


def cmd_compile(a: argparse.Namespace) -> int:
    """Write (or print) the standalone module."""
    f = api.compile(a.expr, wrt=a.wrt, name=a.name, shapes=parse_shapes(a.shape))
    if a.output:
        _writing(a.output, lambda: f.save(a.output))
        print(f"wrote {a.output}: {f.name}({', '.join(f.variables)}) -> value, ({', '.join('d_' + w for w in f.wrt)})")
    else:
        sys.stdout.write(f.source)
    return 0


def _writing(path: str, write: Any) -> None:
    """Run `write`; an OSError (no such directory, no permission) is bad input: a message, exit 2."""
    try:
        write()
    except OSError as e:
        raise ArgumentError(f"cannot write {path}: {e.strerror or e}") from None


def cmd_explain(a: argparse.Namespace) -> int:
    """Print the forward and backward tables, step by step."""
    from . import explain

    f = api.compile(a.expr, wrt=a.wrt, shapes=parse_shapes(a.shape))
    point = parse_at(a.at) if a.at else None
    print(explain(f, at=point).render(limit=None if a.all else 200))
    return 0


def cmd_graph(a: argparse.Namespace) -> int:
    """Write the computational graph (.dot text, or .svg/.png/.pdf through Graphviz), or print DOT."""
    from . import draw_graph, to_dot

    f = api.compile(a.expr, wrt=a.wrt, shapes=parse_shapes(a.shape))
    point = parse_at(a.at) if a.at else None
    if a.output:
        _writing(a.output, lambda: draw_graph(f, a.output, at=point, adjoints=a.adjoints))
        print(f"wrote {a.output}")
    else:
        sys.stdout.write(to_dot(f, at=point, adjoints=a.adjoints))
    return 0


def cmd_check(a: argparse.Namespace) -> int:
    """Cross-check every gradient against SymPy and finite differences; exit 1 on a mismatch."""
    from . import check  # the function symgraph.check (SymPy is imported when it runs)

    if a.points < 1:
        raise SymgraphError(f"--points must be at least 1, got {a.points}")
    shapes = parse_shapes(a.shape)
    formula = a.expr if shapes is None else api.compile(a.expr, wrt=a.wrt, shapes=shapes)
    wrt = a.wrt if shapes is None else None  # a compiled function carries its wrt
    report = check(formula, wrt=wrt, points=a.points, seed=a.seed, timeout=a.timeout, budget=a.budget)
    print(report)
    return 0 if report.ok else 1


def cmd_serve(a: argparse.Namespace) -> int:
    """Start the local web playground (symgraph/serve) and serve until Ctrl-C."""
    from .serve import serve

    return serve(host=a.host, port=a.port, open_browser=a.open, workers=a.workers)


AT_HELP = "the point, e.g. --at x=-3 y=2; arrays as JSON, X='[[1,2],[3,4]]', or random, X='randn(4,3)'"


def _command(sub: Any, name: str, run: Any, summary: str, at: str | None) -> argparse.ArgumentParser:
    """A subcommand taking the formula, --wrt and (when `at` says what it is for) --at."""
    c = sub.add_parser(name, help=summary)
    c.add_argument("expr", help='the formula, e.g. "((x+5)^3+1)^2"')
    c.add_argument("--wrt", help="comma-separated inputs to differentiate for (default: all)")
    c.add_argument(
        "--shape",
        nargs="+",
        metavar="NAME=DIMS",
        help="declare an input's shape as the text's `X: [n, 64]` does: --shape X=n,64 W1=64,32 (s= for a number)",
    )
    if at:
        c.add_argument("--at", nargs="+", metavar="NAME=VALUE", help=at)
    c.set_defaults(run=run)
    return c


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar; each subcommand sets `run`."""
    p = argparse.ArgumentParser(prog="symgraph", description="Formulas as text -> value and gradient code.")
    sub = p.add_subparsers(dest="command", required=True)
    _command(sub, "grad", cmd_grad, "evaluate a formula and its gradient at a point", AT_HELP)
    c = _command(sub, "compile", cmd_compile, "generate the standalone NumPy module", None)
    c.add_argument("-o", "--output", help="file to write (default: print the source)")
    c.add_argument("--name", default="value_and_grad", help="name of the generated function")
    e = _command(sub, "explain", cmd_explain, "the forward and backward pass step by step, as tables",
                 AT_HELP + " (default: formulas only)")  # fmt: skip
    e.add_argument("--all", action="store_true", help="print every row of a long table")
    d = _command(sub, "graph", cmd_graph, "draw the computational graph (Graphviz)",
                 AT_HELP + ": show values and adjoints there")  # fmt: skip
    d.add_argument("-o", "--output", help="out.dot, out.svg, out.png or out.pdf (default: print DOT)")
    d.add_argument("--adjoints", action="store_true", help="draw the adjoint nodes too (the gradient graph)")
    k = _command(sub, "check", cmd_check, "cross-check the gradients against SymPy and finite differences", None)
    k.add_argument("--points", type=int, default=20, help="random points to compare at (default: 20)")
    k.add_argument("--seed", type=int, default=0, help="seed of the random points (default: 0)")
    k.add_argument("--timeout", type=float, default=5.0, help="seconds SymPy may spend simplifying (default: 5)")
    k.add_argument("--budget", type=float, default=60.0, help="seconds for the whole check (default: 60)")
    s = sub.add_parser("serve", help="a local web playground: type a formula, see its graph, tables and code")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    s.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)")
    s.add_argument("--open", action="store_true", help="open the page in the web browser")
    s.add_argument("--workers", type=int, default=2, help="worker processes running formulas (default: 2)")
    s.set_defaults(run=cmd_serve)
    return p


def shield_formula(argv: list[str]) -> tuple[list[str], bool]:
    """A formula that starts with '-' ("-x^2") would read as an option. After `--` (`grad -- "-x^2" --at x=1`)
    or right after the subcommand, it is moved there with a leading space (the grammar ignores it); True when
    it was, so that the caller takes the space off again and error columns stay right."""
    if "--" in argv[1:]:
        i = argv.index("--", 1)
        if i + 1 < len(argv):
            return [argv[0], " " + argv[i + 1], *argv[1:i], *argv[i + 2 :]], True
    if len(argv) > 1 and argv[0] != "serve" and argv[1].startswith("-") and argv[1] not in ("-h", "--help"):
        return [argv[0], " " + argv[1], *argv[2:]], True
    return argv, False


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; each distinct warning it raises is printed once, as a line that names the formula."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = int(args.run(args))
    seen: set[str] = set()
    for w in caught:
        line = f"symgraph: warning: {w.message}"
        if issubclass(w.category, RuntimeWarning):
            line += " while evaluating the formula"
        if line not in seen:
            seen.add(line)
            print(line, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `symgraph` console script."""
    argv, shielded = shield_formula(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    if shielded and hasattr(args, "expr"):
        args.expr = args.expr[1:]
    try:
        return run(args)
    except SymgraphError as e:
        print(f"symgraph: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"symgraph: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
