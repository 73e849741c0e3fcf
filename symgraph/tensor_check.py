"""symgraph.check for matrix formulas: the formula expanded element by element at small sizes, in SymPy.

SymPy's matrix expressions cannot differentiate through softmax, det or an axis reduction, so the check
works on elements instead. Each declared dimension gets a small size (n -> 3, m -> 2, ...), each input
becomes an array of real symbols (X_0_1, ...), and the forward graph is evaluated over NumPy object arrays
of SymPy expressions: elementwise ops through the op table's SymPy spellings (broadcast as NumPy does), the
matrix ops written out here (@ as sums of products, det and inv by SymPy's Matrix, max along an axis as
SymPy's Max). The value (summed over its elements when it is an array, as the gradients are) is
differentiated by every element of every input; compared with the compiled gradients at random points,
element by element, and with central finite differences. No symbolic simplify: the expansion is the
reference. SymPy is reached through sympy_bridge, imported only when a check of a matrix formula runs.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .check_report import Report
from .crosscheck import _draw, _finite, _finite_difference, _intermediates_finite, _record
from .errors import SymgraphError
from .function import CompiledFunction
from .ir import live_nodes
from .ops import MAP, OPS
from .sympy_bridge import away_from_kinks, sp, sympy_function, sympy_number

SIZES = (3, 2)  # the sizes given to declared dimension names, in turn (different, so a transposition shows)
MAX_SYMBOLS = 60  # elements of all inputs together: SymPy's det and inv grow fast with the size


def is_matrix_formula(f: CompiledFunction) -> bool:
    """True when the formula uses a matrix op or an input is declared an array: check expands it."""
    graph = f.program.graph
    live = live_nodes(graph, [f.program.output])
    if any(live[i] and OPS[node.op].matrix for i, node in enumerate(graph.nodes)):
        return True
    return any(dims for dims in graph.declared.values())


def concrete_shapes(f: CompiledFunction) -> tuple[dict[str, tuple[int, ...]], dict[str, int], list[str]]:
    """Each input's shape at the check's sizes, the size given to each dimension name, and the inputs with no
    declared shape (checked as numbers)."""
    sizes: dict[str, int] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    undeclared = []
    for name in f.variables:
        dims = f.program.declared.get(name)
        if dims is None:
            undeclared.append(name)
            shapes[name] = ()
            continue
        for d in dims:
            if isinstance(d, str) and d not in sizes:
                sizes[d] = SIZES[len(sizes) % len(SIZES)]
        shapes[name] = tuple(sizes[d] if isinstance(d, str) else d for d in dims)
    return shapes, sizes, undeclared


def _each(fn: Callable[..., Any], *args: Any) -> Any:
    """fn applied element by element, NumPy broadcasting the arguments (a SymPy scalar stays one)."""
    if all(np.ndim(a) == 0 for a in args):
        return fn(*args)
    return np.frompyfunc(fn, len(args), 1)(*args)


def _total(x: Any, axis: Any = None, keep: bool = False) -> Any:
    return np.sum(np.asarray(x, dtype=object), axis=axis, keepdims=keep) if np.ndim(x) else x


def _count(x: Any, axis: Any) -> int:
    return int(np.size(x) if axis is None else np.shape(x)[axis])


def _extreme(which: Any) -> Callable[..., Any]:
    def reduce(x: Any, axis: Any = None, keep: bool = False) -> Any:
        if np.ndim(x) == 0:
            return x
        array = np.asarray(x, dtype=object)
        out = np.frompyfunc(which, 2, 1).reduce(array.reshape(-1) if axis is None else array, axis=0 if axis is None
                                                 else axis, keepdims=keep)  # fmt: skip
        return np.reshape(out, (1,) * array.ndim) if axis is None and keep else out

    return reduce


def _logsumexp(x: Any, axis: Any = None, keep: bool = False) -> Any:
    return _each(sp.log, _total(_each(sp.exp, x), axis, keep))


def _log_softmax(x: Any, axis: Any = None, keep: bool = False) -> Any:
    return x - _logsumexp(x, axis, True)


def _matrix(x: Any) -> Any:
    return sp.Matrix(np.asarray(x, dtype=object).tolist())


# The matrix ops over object arrays of SymPy expressions: (operands, params) -> the result.
ARRAY_OPS: dict[str, Callable[[list[Any], tuple[Any, ...]], Any]] = {
    "sum": lambda a, p: _total(a[0]),
    "mean": lambda a, p: _total(a[0]) / np.size(a[0]),
    "matmul": lambda a, p: np.matmul(np.asarray(a[0], dtype=object), np.asarray(a[1], dtype=object)),
    "transpose": lambda a, p: np.transpose(a[0]),
    "sum_axis": lambda a, p: _total(a[0], p[0], p[1]),
    "mean_axis": lambda a, p: _total(a[0], p[0], p[1]) / _count(a[0], p[0]),
    "max_axis": lambda a, p: _extreme(sp.Max)(a[0], p[0], p[1]),
    "min_axis": lambda a, p: _extreme(sp.Min)(a[0], p[0], p[1]),
    "logsumexp": lambda a, p: _logsumexp(a[0], p[0], p[1]),
    "softmax": lambda a, p: _each(sp.exp, _log_softmax(a[0], p[0])),
    "log_softmax": lambda a, p: _log_softmax(a[0], p[0]),
    "dot": lambda a, p: np.dot(a[0], a[1]),
    "outer": lambda a, p: np.outer(a[0], a[1]),
    "tr": lambda a, p: np.trace(a[0]),
    "det": lambda a, p: _matrix(a[0]).det(),
    "inv": lambda a, p: np.array(_matrix(a[0]).inv().tolist(), dtype=object),
    "logdet": lambda a, p: sp.log(sp.Abs(_matrix(a[0]).det())),
    "norm": lambda a, p: sp.sqrt(_total(_each(lambda u: u**2, a[0]))),
    "norm1": lambda a, p: _total(_each(sp.Abs, a[0])),
}


def expand(f: CompiledFunction, shapes: dict[str, tuple[int, ...]]) -> tuple[Any, dict[str, Any]]:
    """The formula's value as one SymPy expression over the inputs' elements, and each input's symbols."""
    graph, output = f.program.graph, f.program.output
    live = live_nodes(graph, [output])
    symbols: dict[str, Any] = {}
    values: list[Any] = [None] * (output + 1)
    for i in range(output + 1):
        if not live[i]:
            continue
        node = graph.nodes[i]
        if node.op == "var":
            name = str(node.value)
            shape = shapes[name]
            made = [sp.Symbol(name + "".join(f"_{k}" for k in index), real=True) for index in np.ndindex(*shape)]
            symbols[name] = made[0] if not shape else np.array(made, dtype=object).reshape(shape)
            values[i] = symbols[name]
        elif node.op == "const":
            values[i] = sympy_number(float(node.value))  # type: ignore[arg-type]
        elif OPS[node.op].shape == MAP:
            values[i] = _each(sympy_function(node.op), *(values[a] for a in node.args))
        elif node.op in ARRAY_OPS:
            values[i] = ARRAY_OPS[node.op]([values[a] for a in node.args], node.params)
        else:
            raise SymgraphError(f"check: the op {node.op} has no element-wise SymPy form (symgraph/tensor_check.py)")
    return _total(values[output]), symbols


def references(value: Any, symbols: dict[str, Any], variables: tuple[str, ...], wrt: tuple[str, ...]) -> list[Any]:
    """SymPy's gradient of `value` for each input in `wrt`, as a NumPy function of every element (flat)."""
    flat = [s for v in variables for s in np.ravel(np.asarray(symbols[v], dtype=object))]
    refs = []
    for w in wrt:
        elements = np.ravel(np.asarray(symbols[w], dtype=object))
        exprs = [away_from_kinks(sp.diff(value, s)) for s in elements]
        refs.append(sp.lambdify(flat, exprs, modules="numpy", cse=True))
    return refs


class _Flat:
    """The compiled function called with every element as a separate argument (for finite differences)."""

    def __init__(self, f: CompiledFunction, shapes: dict[str, tuple[int, ...]]) -> None:
        self.f, self.shapes = f, shapes

    def arrays(self, flat: list[Any]) -> dict[str, Any]:
        out, k = {}, 0
        for name in self.f.variables:
            n = math.prod(self.shapes[name])
            chunk = np.array(flat[k : k + n], dtype=np.float64)
            out[name] = chunk.reshape(self.shapes[name]) if self.shapes[name] else np.float64(chunk[0])
            k += n
        return out

    def __call__(self, *flat: Any) -> Any:
        value, grads = self.f(**self.arrays(list(flat)))
        return np.sum(value), grads  # an array output: its gradients are those of its sum


def check_matrix(f: CompiledFunction, report: Report, rng: np.random.Generator, want: int, until: float) -> None:
    """Fill `report` for a matrix formula (see the module docstring)."""
    shapes, sizes, undeclared = concrete_shapes(f)
    report.notes.append(
        "a matrix formula: checked element by element at "
        + (", ".join(f"{d}={s}" for d, s in sizes.items()) or "its declared sizes")
        + "; SymPy differentiates the expanded formula, and points count every element compared"
    )
    if undeclared:
        report.notes.append(f"{', '.join(undeclared)}: no declared shape, checked as numbers")
    flat_fn = _Flat(f, shapes)
    names = [f"{v}{list(ix) if ix else ''}" for v in f.variables for ix in np.ndindex(*shapes[v])]
    hint = "declare every input's shape: X: [n, 3] in the text, shapes= in Python, --shape X=n,3 on the command line"
    if len(undeclared) == len(f.variables):
        raise SymgraphError(
            "check: a matrix formula is checked element by element at small sizes, which needs the inputs' "
            f"declared shapes; none of {', '.join(f.variables)} has one",
            hint=hint,
        )
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            flat_fn(*_draw(rng, len(names)))
    except (SymgraphError, TypeError, ValueError) as e:
        raise SymgraphError(
            f"check: the matrix formula does not run with {', '.join(undeclared)} as numbers "
            f"({getattr(e, 'message', e)})",
            hint=hint,
        ) from None
    refs: list[Any] = [None] * len(f.wrt)
    if len(names) > MAX_SYMBOLS:
        report.notes.append(f"{len(names)} elements are too many to expand in SymPy: finite differences only")
    else:
        value, symbols = expand(f, shapes)
        refs = references(value, symbols, f.variables, f.wrt)
    for c, r in zip(report.checks, refs):
        c.symbolic, c.method = "off", "numeric" if r is not None else "finite differences"
    _compare_elements(flat_fn, refs, report, names, rng, want, until)


def _compare_elements(
    flat_fn: _Flat, refs: list[Any], report: Report, names: list[str], rng: np.random.Generator, want: int, until: float
) -> None:
    """The numeric comparison and finite differences of check, element by element at `want` random points."""
    f = flat_fn.f
    offset, k = {}, 0
    for v in f.variables:
        offset[v] = k
        k += math.prod(flat_fn.shapes[v])
    live = live_nodes(f.program.graph, [f.program.output])
    used = 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(50 * want):
            if used == want or time.monotonic() > until:
                break
            flat = [np.float64(v) for v in _draw(rng, len(names))]
            point = flat_fn.arrays(flat)
            value, grads = flat_fn(*flat)
            ref_grads = [None if r is None else np.asarray(r(*flat), dtype=np.float64) for r in refs]
            if not _finite(value) or not all(r is None or _finite(r) for r in ref_grads):
                continue
            if not _intermediates_finite(f, [point[v] for v in f.variables], live):
                continue
            used += 1
            for c, g, r in zip(report.checks, grads, ref_grads):
                for j, ours in enumerate(np.ravel(g)):
                    if r is not None:
                        _record(c, flat, tuple(names), float(ours), float(r[j]))
                    _finite_difference(flat_fn, c, flat, offset[c.name] + j, float(value), float(ours))  # type: ignore[arg-type]
    if used < want:
        report.notes.append(f"compared at {used} of {want} points (the domain or the time budget)")
