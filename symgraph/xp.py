"""The Array-API form of a compiled function: the same graph printed for any library that follows the Python
Array API standard (PyTorch, JAX, CuPy, Dask, array-api-strict), so one function computes in the inputs' own
library, on their device, and fuses under jax.jit.

The NumPy form (f.source) is untouched: this is a second printing of f's Spec by the one emitter, with the op
table's `xp` spellings (opdef.Op.xp: the standard's names, xp.asin for np.arcsin) and runtime_xp's helpers,
which take the namespace. The function starts with `xp, x, y = _namespace(x, y)`: the namespace from the
inputs (array_api_compat.array_namespace, once per call), every function the formula needs checked to be
there (NEEDS; a clear error names the function and the library), and Python numbers made 0-d arrays. It has
no NumPy-only construct: no float retry, no errstate, no object dtypes. f(...) runs it when an input is an
array of another library (`foreign`); `function_xp(f)`, `jit(f)` and `module_source(f)` give it directly.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import itertools
import linecache
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import calls, runtime_xp
from ._version import __version__
from .codegen import const_text, emit_lines, node_names
from .ir import Graph, live_nodes
from .opdef import ATOM, UNARY, VARIADIC
from .ops import OPS

_PLACEHOLDER = re.compile(r"\{n(\d+)\}")
_USES = re.compile(r"\bxp\.([A-Za-z]\w*(?:\.[A-Za-z]\w*)?)")
_CALLS = re.compile(r"\b(_[a-z_]+)\(")
HELPERS: dict[str, str] = {
    name: inspect.getsource(f) for name, f in vars(runtime_xp).items() if inspect.isfunction(f) and name[0] == "_"
}
NAMES = frozenset({"xp", "math", "array_api_compat", "NEEDS", *HELPERS})  # the module's own names
_counter = itertools.count(1)

ARRAYS = """Inputs are arrays of one library that follows the Python Array API standard (PyTorch, JAX, CuPy,
Dask, array-api-strict, NumPy...), and Python numbers, made 0-d arrays of the arrays' floating type; value and
gradients are arrays of that library, on the inputs' device, each gradient of its input's shape."""


def _axis_text(params: tuple[Any, ...]) -> str:
    axis = params[0] if params else None
    keep = len(params) > 1 and params[1]
    return ("" if axis is None else f", axis={axis}") + (", keepdims=True" if keep else "")


def render_node(g: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """Node i in the Array-API form: the op's `xp` spelling (a render or a template), else its NumPy
    template with np. read as xp. (the names the standard shares with NumPy)."""
    node = g.nodes[i]
    op = OPS[node.op]
    spell = op.xp or op.numpy.replace("np.", "xp.")
    if callable(spell):
        return spell(g, i, [texts[a] for a in node.args])
    if not spell:
        raise NotImplementedError(f"op {op.name} has no Array-API spelling (opdef.Op.xp)")
    parts = [texts[a][0] for a in node.args]
    if op.arity == VARIADIC:
        return spell.format(args=", ".join(parts)), ATOM
    for k, (a, need) in enumerate(zip(node.args, op.operand_prec)):
        if texts[a][1] < need:
            parts[k] = f"({parts[k]})"
    params = node.params
    return spell.format(*parts, kw=_axis_text(params), axis=params[0] if params else None), op.prec


def constant_text(v: float) -> tuple[str, int]:
    """A constant as source without NumPy: math.inf and math.nan for the numbers Python cannot spell."""
    if math.isnan(v):
        return "math.nan", ATOM
    if math.isinf(v):
        return ("math.inf", ATOM) if v > 0 else ("-math.inf", UNARY)
    return const_text(v)


def constants_node(g: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """A node of constants that folding left (its value is inf or nan: 1/0, log(-1)), printed as that value."""
    node = g.nodes[i]
    try:
        with np.errstate(all="ignore"):
            value = float(OPS[node.op].impl(*[np.float64(g.nodes[a].value) for a in node.args]))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return render_node(g, i, texts)
    return constant_text(value)


PRINTER = (render_node, constant_text, constants_node)


def generate_function(spec: Any, fname: str) -> tuple[str, tuple[str, ...]]:
    """The Array-API form of the function `spec` describes (codegen.Spec), and the helpers it calls."""
    spec = dataclasses.replace(spec, reserved=spec.reserved | NAMES)
    g, roots = spec.graph, spec.roots()
    live = live_nodes(g, roots)
    params, named, namer = node_names(spec, fname, live)
    var_text = {i: params[name] for name, i in spec.params}
    lines, texts = emit_lines(g, roots, var_text, named, namer, live=live, free_named=True, printer=PRINTER)
    names = [params[name] for name, _ in spec.params]
    returned = _PLACEHOLDER.sub(lambda m: texts[int(m.group(1))][0], spec.returns.replace("_fresh(", "_fresh(xp, "))
    out = [f"def {fname}({', '.join(names)}):", f'    """{spec.doc}"""']
    out.append(f"    xp, {', '.join(names)}{',' if len(names) == 1 else ''} = _namespace({', '.join(names)})")
    out += [f"    {line}" for line in lines] + [f"    return {returned}"]
    body = "\n".join(out) + "\n"
    unknown = sorted({name for name in _CALLS.findall(body) if name not in HELPERS and name != fname})
    if unknown:  # Hessians, HVPs and Jacobians call NumPy-only machinery (_stack, _hvp, _directions)
        raise NotImplementedError(
            f"{fname} has no Array-API form yet (it calls the NumPy-only {', '.join(unknown)}); "
            "only value-and-gradient functions (symgraph.compile) do: pass NumPy arrays"
        )
    return body, _helpers_of(body)


def _helpers_of(body: str) -> tuple[str, ...]:
    """The helpers `body` calls, and those they call, in runtime_xp's order."""
    found, todo = set(), ["_namespace", *_CALLS.findall(body)]
    while todo:
        name = todo.pop()
        if name in HELPERS and name not in found:
            found.add(name)
            todo += _CALLS.findall(HELPERS[name])
    return tuple(name for name in HELPERS if name in found)


def module_text(spec: Any, fname: str, formula: str) -> str:
    """A complete Array-API module: docstring, its imports (math and array-api-compat), the function, helpers."""
    body, helpers = generate_function(spec, fname)
    code = body + "".join(HELPERS[h] for h in helpers)
    needs = sorted({n for n in _USES.findall(code)})
    head = [
        f'"""{spec.summary}; generated by symgraph {__version__}, Array-API form:',
        "it computes in the inputs' own library, and needs array-api-compat (pip install array-api-compat), its",
        "one import beyond Python's own.",
        "",
        f"    {spec.usage}",
        "",
        ARRAYS,
        '"""',
        "",
        "import math",
        "",
        "import array_api_compat",
        "",
        f"FORMULA = {formula!r}",
        f"NEEDS = {tuple(needs)!r}  # the namespace's functions this module calls",
        "",
        "",
        "",
    ]
    return "\n".join(head) + body + "".join("\n\n" + HELPERS[h] for h in helpers)


def module_source(f: Any) -> str:
    """The Array-API module of a compiled function (what f.save(path, array_api=True) writes)."""
    if "_xp_source" not in f.__dict__:
        f.__dict__["_xp_source"] = module_text(f.spec, f.name, f.program.text)
    return str(f.__dict__["_xp_source"])


def function_xp(f: Any) -> Callable[..., Any]:
    """The Array-API form of f's generated function, compiled once: `value, grads = function_xp(f)(*arrays)`,
    inputs by position, no checks (jax.jit traces it)."""
    if "_xp_function" not in f.__dict__:
        if importlib.util.find_spec("array_api_compat") is None:
            raise ImportError('the Array-API form needs array-api-compat: pip install "symgraph[array-api]"')
        source = module_source(f)
        filename = f"<symgraph-xp-{next(_counter)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {"__name__": "symgraph_generated_xp"}
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated source
        f.__dict__["_xp_function"] = namespace[f.name]
    return f.__dict__["_xp_function"]  # type: ignore[no-any-return]


def jit(f: Any, **options: Any) -> Callable[..., Any]:
    """jax.jit of f's Array-API function: one fused XLA computation (JAX arrays in and out; float64 needs
    jax.config.update("jax_enable_x64", True))."""
    try:
        import jax
    except ImportError as e:
        raise ImportError(f"f.jit() needs JAX: pip install jax ({e})") from e
    return jax.jit(function_xp(f), **options)  # type: ignore[no-any-return]


def foreign(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """True when an input is an array of a library other than NumPy (it has __array_namespace__, or is a
    PyTorch tensor): the call goes to the Array-API form. Dask arrays keep NumPy's form, which they follow."""
    for a in (*args, *kwargs.values()):
        if type(a) is float or isinstance(a, (np.ndarray, np.generic, int)):
            continue
        if hasattr(a, "__array_namespace__") or type(a).__module__.startswith("torch"):
            return True
    return False


def call(f: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """f(...) with another library's arrays: inputs bound by name and checked against declared shapes, then
    the Array-API function; a failure whose cause is two inputs' shapes names them."""
    point = f.bind(args, kwargs)
    if f.program.declared:
        calls.check_declared(f.program.declared, point)
    run = function_xp(f)
    try:
        return run(*(point[n] for n in f.variables))
    except (ValueError, RuntimeError, TypeError):
        error = calls.clash(point)
        if error is not None:
            raise error from None
        raise


def checked(f: Any) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    """f's slow path (function._entry's `_checked`) with another library's arrays sent to the Array-API form."""
    slow = f._call_checked

    def run(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return call(f, args, kwargs) if foreign(args, kwargs) else slow(args, kwargs)

    return run
