"""The op table's matrix and axis entries: matmul, transpose, reductions along an axis, the stable
classifier blocks (logsumexp, softmax, log_softmax, log_sigmoid) and linear algebra.

Each entry is an ordinary op record (opdef.Op): spellings, implementation, one adjoint rule per input, and a
shape rule `infer` that gives the output's dims when the operands' are known (dims.py), so mismatched
declared shapes are found at compile time. Adjoint rules that depend on ranks (matmul's vector cases) use the
ranks the graph knows; where it knows none, a runtime helper decides when the function runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import dims as D
from . import runtime
from .opdef import ATOM, MAP, PRODUCT, REDUCE, TENSOR, UNARY, Op

if TYPE_CHECKING:
    from .ir import Graph

Args = tuple[int, ...]


# --- shape rules ------------------------------------------------------------------------------------------


def _same(b: Graph, a: Args, p: tuple[Any, ...]) -> int:
    """The first operand's Shape (an int answer means: the Shape of that argument)."""
    return 0


def _along(what: str) -> Callable[[Graph, Args, tuple[Any, ...]], D.Dims | int | None]:
    """The shape rule of an op of the operand's shape along an axis (softmax): that axis must exist."""

    def infer(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | int | None:
        d = b.dims(a[0])
        if d is not None and p and p[0] is not None:
            D.axis_index(d, p[0], what)
        return 0

    return infer


def _matmul_dims(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | None:
    da, db = b.dims(a[0]), b.dims(a[1])
    return None if da is None or db is None else D.matmul(da, db)


def _reduce_dims(what: str) -> Callable[[Graph, Args, tuple[Any, ...]], D.Dims | None]:
    def infer(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | None:
        d = b.dims(a[0])
        if d is None:
            return () if p[0] is None and not p[1] else None
        return D.reduce(d, p[0], p[1], what)

    return infer


def _transpose_dims(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | None:
    d = b.dims(a[0])
    return None if d is None else d[::-1]


def _render_expand(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
    """np.expand_dims(x, k), or where x's rank is known an index, x[:, None] (the same view, no call)."""
    rank, axis = b.rank(b.nodes[i].args[0]), b.nodes[i].params[0]
    if rank is None:
        return _call("np.expand_dims({0}, {axis})")(b, i, texts)
    k = axis if axis >= 0 else axis + rank + 1
    text, prec = texts[0]
    return f"{text if prec >= ATOM else f'({text})'}[{', '.join([':'] * k + ['None'])}]", ATOM


def _expand_dims(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | None:
    d = b.dims(a[0])
    if d is None:
        return None
    k = p[0] % (len(d) + 1)
    return (*d[:k], 1, *d[k:])


def _vectors(what: str, result: Callable[[D.Dims, D.Dims], D.Dims]) -> Any:
    def infer(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | None:
        da, db = b.dims(a[0]), b.dims(a[1])
        if da is None or db is None:
            return None
        if len(da) != 1 or len(db) != 1:
            raise D.DimsError(f"{what} takes two vectors, not {D.show(da)} and {D.show(db)}")
        return result(da, db)

    return infer


def _dot_result(da: D.Dims, db: D.Dims) -> D.Dims:
    if da != db:
        raise D.DimsError(f"dot takes vectors of one length, not {D.show(da)} and {D.show(db)}")
    return ()


def _matrix(what: str, square: bool, result: Callable[[D.Dims], D.Dims]) -> Any:
    def infer(b: Graph, a: Args, p: tuple[Any, ...]) -> D.Dims | None:
        d = b.dims(a[0])
        if d is None:
            return None
        if len(d) != 2 or (square and d[0] != d[1]):
            kind = "a square matrix" if square else "a matrix"
            raise D.DimsError(f"{what} takes {kind}, not an array of shape {D.show(d)}")
        return result(d)

    return infer


# --- adjoint rules ----------------------------------------------------------------------------------------


def _unreduce(b: Graph, g: int, params: tuple[Any, ...]) -> int:
    """A reduction's adjoint g with the reduced axis put back (length 1), so it broadcasts over the operand."""
    axis, keep = params
    if keep or axis is None or b.shapes[g].dims == ():  # a number broadcasts as it is
        return g
    return b.apply("expand", g, params=(axis,))


def _T(b: Graph, x: int) -> int:
    return b.apply("transpose", x)


def _matmul_d0(b: Graph, a: Args, out: int, g: int) -> int:
    x, y = a
    rx, ry = b.rank(x), b.rank(y)
    if rx is None or ry is None or rx > 2 or ry > 2:
        return b.apply("matmul_da", g, x, y)
    if rx == 1 and ry == 1:
        return b.mul(g, y)
    if ry == 1:
        return b.apply("outer", g, y)
    if rx == 1:
        return b.apply("matmul", y, g)
    return b.apply("matmul", g, _T(b, y))


def _matmul_d1(b: Graph, a: Args, out: int, g: int) -> int:
    x, y = a
    rx, ry = b.rank(x), b.rank(y)
    if rx is None or ry is None or rx > 2 or ry > 2:
        return b.apply("matmul_db", g, x, y)
    if rx == 1 and ry == 1:
        return b.mul(g, x)
    if rx == 1:
        return b.apply("outer", x, g)
    return b.apply("matmul", _T(b, x), g)


def _axis_text(params: tuple[Any, ...]) -> str:
    axis = params[0] if params else None
    keep = len(params) > 1 and params[1]
    text = "" if axis is None else f", axis={axis}"
    return text + (", keepdims=True" if keep else "")


def _call(template: str) -> Callable[..., tuple[str, int]]:
    """Printing for an op with keyword parameters: `{kw}` is `, axis=1` (and `, keepdims=True`); `{axis}` is the
    axis itself."""

    def render(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
        params = b.nodes[i].params
        axis = params[0] if params else None
        return template.format(*(t for t, _ in texts), kw=_axis_text(params), axis=axis), ATOM

    return render


def reduction_render(method: str, template: str) -> Callable[..., tuple[str, int]]:
    """Printing for NumPy's reductions: the array method (`Z.sum(axis=1)`, the same bits without np.sum's
    dispatch) where the operand is known to be an array (declared dims), else the function, which takes
    numbers too."""
    call = _call(template)

    def render(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
        node = b.nodes[i]
        if not b.dims(node.args[0]):
            return call(b, i, texts)
        text, prec = texts[0]
        operand = text if prec >= ATOM else f"({text})"
        return f"{operand}.{method}({_axis_text(node.params)[2:]})", ATOM

    return render


def _reduction(name: str, impl: Any, grad: Any, template: str, note: str, **kw: Any) -> Op:
    infer = kw.pop("infer", None)
    method = kw.pop("method", None)
    render = reduction_render(method, template) if method else _call(template)
    return Op(name, 1, "", name, impl, (grad,), render=render, shape=TENSOR,
              infer=infer or _reduce_dims(f"{name.split('_')[0]}(...)"), keywords=("axis", "keepdims"),
              takes_number=infer is None, note=note, **kw)  # fmt: skip


def _sum_axis_d(b: Graph, a: Args, out: int, g: int) -> int:
    return _unreduce(b, g, b.nodes[out].params)


def _mean_axis_d(b: Graph, a: Args, out: int, g: int) -> int:
    params = b.nodes[out].params
    count = b.size_of(a[0]) if params[0] is None else b.apply("axis_size", a[0], params=(params[0],))
    return b.div(_unreduce(b, g, params), count)


def _extreme_d(b: Graph, a: Args, out: int, g: int) -> int:
    params = b.nodes[out].params
    share = b.apply("tie_share", a[0], _unreduce(b, out, params), params=(params[0],))
    return b.mul(_unreduce(b, g, params), share)


def _logsumexp_d(b: Graph, a: Args, out: int, g: int) -> int:
    params = b.nodes[out].params  # softmax(x) = exp(x - logsumexp(x)), from the value already computed
    return b.mul(_unreduce(b, g, params), b.call("exp", b.sub(a[0], _unreduce(b, out, params))))


def _keep(b: Graph, x: int, axis: Any) -> int:
    return b.apply("sum_axis", x, params=(axis, True))


def _softmax_d(b: Graph, a: Args, out: int, g: int) -> int:
    axis = b.nodes[out].params[0]
    return b.mul(out, b.sub(g, _keep(b, b.mul(g, out), axis)))


def _log_softmax_d(b: Graph, a: Args, out: int, g: int) -> int:
    axis = b.nodes[out].params[0]
    return b.sub(g, b.mul(b.call("exp", out), _keep(b, g, axis)))


def _log_sigmoid(x: Any) -> Any:
    return -np.logaddexp(0.0, -x)


def _det_d(b: Graph, a: Args, out: int, g: int) -> int:
    return b.mul(b.mul(g, out), _T(b, b.apply("inv", a[0])))


def _inv_d(b: Graph, a: Args, out: int, g: int) -> int:
    t = _T(b, out)
    return b.neg(b.apply("matmul", b.apply("matmul", t, g), t))


def _d(f: Callable[[Graph, int, int, int], int]) -> Any:
    return lambda b, a, out, g: f(b, a[0], out, g)


_AXIS_NOTE = "axis=k reduces along axis k (negative counts from the end), keepdims=True keeps it with length 1; "

# fmt: off
TENSOR_OPS: list[Op] = [
    Op("matmul", 2, "{0} @ {1}", "MatMul", np.matmul, (_matmul_d0, _matmul_d1), PRODUCT, (PRODUCT, PRODUCT + 1),
       shape=TENSOR, infer=_matmul_dims, user=False,
       note="A @ B with NumPy's matmul rules: a vector operand is promoted, stacks of matrices broadcast."),
    Op("transpose", 1, "{0}.T", "transpose", np.transpose, (_d(lambda b, x, o, g: _T(b, g)),), ATOM, (ATOM,),
       shape=TENSOR, infer=_transpose_dims, shares="view",
       xp="_transpose(xp, {0})", note="A.T: the axes reversed, as NumPy's .T (a vector is itself)."),
    _reduction("sum_axis", np.sum, _sum_axis_d, "np.sum({0}{kw})", _AXIS_NOTE + "sum(x) sums everything.",
               method="sum", user=False, xp="xp.sum({0}{kw})"),
    _reduction("mean_axis", np.mean, _mean_axis_d, "np.mean({0}{kw})", _AXIS_NOTE + "mean(x) averages all.",
               method="mean", user=False, xp="xp.mean({0}{kw})"),
    _reduction("max_axis", np.max, _extreme_d, "np.max({0}{kw})", method="max", note=_AXIS_NOTE +
               "max(x) is the largest element; at a tie the adjoint is shared equally.", user=False,
               xp="xp.max({0}{kw})"),
    _reduction("min_axis", np.min, _extreme_d, "np.min({0}{kw})", method="min", note=_AXIS_NOTE +
               "min(x) is the smallest element; at a tie the adjoint is shared equally.", user=False,
               xp="xp.min({0}{kw})"),
    _reduction("logsumexp", runtime._logsumexp, _logsumexp_d, "_logsumexp({0}{kw})",
               "log(sum(exp(x))) over an axis (all elements without one), shifted by the maximum: no overflow.",
               xp="_logsumexp(xp, {0}{kw})"),
    _reduction("softmax", runtime._softmax, _softmax_d, "_softmax({0}{kw})",
               "exp(x)/sum(exp(x)) along an axis (all elements without one); no overflow.",
               infer=_along("softmax(...)"), xp="_softmax(xp, {0}{kw})"),
    _reduction("log_softmax", runtime._log_softmax, _log_softmax_d, "_log_softmax({0}{kw})",
               "x - logsumexp(x) along an axis: finite where softmax underflows.",
               infer=_along("log_softmax(...)"), xp="_log_softmax(xp, {0}{kw})"),
    Op("log_sigmoid", 1, "-np.logaddexp(0.0, -{0})", "log_sigmoid", _log_sigmoid,
       (_d(lambda b, x, o, g: b.mul(g, b.call("sigmoid", b.neg(x)))),), UNARY, (UNARY,), shape=MAP,
       note="log(1/(1+exp(-x))) as -logaddexp(0, -x): finite at -1000 and 1000, no overflow warning."),
    Op("dot", 2, "np.dot({0}, {1})", "dot", np.dot,
       (lambda b, a, o, g: b.mul(g, a[1]), lambda b, a, o, g: b.mul(g, a[0])), shape=TENSOR,
       infer=_vectors("dot", _dot_result),
       xp="xp.vecdot({0}, {1})", note="the inner product of two vectors of one length."),
    Op("outer", 2, "np.outer({0}, {1})", "outer", np.outer,
       (lambda b, a, o, g: b.apply("matmul", g, a[1]), lambda b, a, o, g: b.apply("matmul", _T(b, g), a[0])),
       shape=TENSOR, infer=_vectors("outer", lambda x, y: (x[0], y[0])),
       xp="xp.multiply(xp.expand_dims({0}, axis=-1), {1})", note="the matrix of products a_i*b_j."),
    Op("tr", 1, "np.trace({0})", "Trace", np.trace, (_d(lambda b, x, o, g: b.mul(g, b.apply("eye_like", x))),),
       shape=TENSOR, infer=_matrix("tr", False, lambda d: ()), aliases=("trace",), xp="xp.linalg.trace({0})",
       note="the sum of a matrix's diagonal."),
    Op("det", 1, "np.linalg.det({0})", "Determinant", np.linalg.det, (_det_d,), shape=TENSOR,
       infer=_matrix("det", True, lambda d: ()), xp="xp.linalg.det({0})", note="the determinant of a square matrix."),
    Op("inv", 1, "np.linalg.inv({0})", "Inverse", np.linalg.inv, (_inv_d,), shape=TENSOR,
       infer=_matrix("inv", True, lambda d: d), xp="xp.linalg.inv({0})", note="the inverse of a square matrix."),
    Op("logdet", 1, "np.linalg.slogdet({0})[1]", "logdet", lambda x: np.linalg.slogdet(x)[1],
       (_d(lambda b, x, o, g: b.mul(g, _T(b, b.apply("inv", x)))),), shape=TENSOR,
       infer=_matrix("logdet", True, lambda d: ()),
       xp="xp.linalg.slogdet({0})[1]", note="log|det(A)| of a square matrix (by slogdet)."),
    Op("norm", 1, "np.linalg.norm({0})", "norm", np.linalg.norm, (_d(lambda b, x, o, g: b.mul(g, b.div(x, o))),),
       shape=REDUCE, xp="xp.linalg.vector_norm({0})",
       note="the 2-norm of a vector, Frobenius of a matrix; the gradient is nan at 0."),
    Op("norm1", 1, "np.sum(np.abs({0}))", "norm1", lambda x: np.sum(np.abs(x)),
       (_d(lambda b, x, o, g: b.mul(g, b.call("sign", x))),), shape=REDUCE,
       note="the sum of absolute values; the gradient at a 0 element is 0."),
    # The reverse pass's own matrix bookkeeping (never written by the user).
    Op("expand", 1, "", "expand", np.expand_dims,
       (_d(lambda b, x, o, g: b.apply("sum_axis", g, params=(b.nodes[o].params[0], False))),),
       render=_render_expand, shape=TENSOR, infer=_expand_dims, user=False, shares="view",
       xp="xp.expand_dims({0}, axis={axis})"),
    Op("axis_size", 1, "", "axis_size", lambda x, k: np.shape(x)[k], (None,), render=_call("np.shape({0})[{axis}]"),
       shape=REDUCE, user=False, xp="_shape({0})[{axis}]"),
    Op("tie_share", 2, "", "tie_share", runtime._tie_share, (None, None),
       render=_call("_tie_share({0}, {1}{kw})"), shape=TENSOR, infer=_same, user=False,
       xp="_tie_share(xp, {0}, {1}{kw})"),
    Op("eye_like", 1, "np.eye(*np.shape({0}))", "eye", lambda x: np.eye(*np.shape(x)), (None,), shape=TENSOR,
       infer=_same, user=False, xp="_eye_like(xp, {0})"),
    Op("matmul_da", 3, "_matmul_da({0}, {1}, {2})", "matmul_da", runtime._matmul_da, (
        lambda b, a, o, h: b.apply("matmul", h, a[2]), None,
        lambda b, a, o, h: b.apply("matmul_db", a[0], h, a[2])), shape=TENSOR, infer=lambda b, a, p: 1, user=False,
       xp="_matmul_da(xp, {0}, {1}, {2})"),
    Op("matmul_db", 3, "_matmul_db({0}, {1}, {2})", "matmul_db", runtime._matmul_db, (
        lambda b, a, o, h: b.apply("matmul", a[1], h),
        lambda b, a, o, h: b.apply("matmul_da", a[0], a[1], h), None), shape=TENSOR, infer=lambda b, a, p: 2,
       user=False, xp="_matmul_db(xp, {0}, {1}, {2})"),
]
# fmt: on


def _whole(rule: Any) -> Any:
    """`rule` given its op's adjoint at the op's whole shape. With declared dims the reverse pass hands a
    matrix op an adjoint whose dims merely broadcast to the op's (sum((A @ B) * w), w a row: the adjoint of
    A @ B is w itself); the rules transpose, contract and expand it, so it is broadcast first. A number
    that stands for every point stays a number (the reductions' rules take it as it is)."""
    if rule is None:
        return None

    def whole(b: Graph, a: Args, out: int, g: int) -> int | None:
        if b.shapes[g] != b.shapes[out] and not b.shapes[g].is_number:
            g = b.broadcast_like(g, out)
        return rule(b, a, out, g)  # type: ignore[no-any-return]

    return whole


TENSOR_OPS = [
    o if o.shape == MAP else dataclasses.replace(o, matrix=True, grads=tuple(_whole(r) for r in o.grads))
    for o in TENSOR_OPS
]

_CHECKED = {
    "dot": "_vector",
    "outer": "_vector",
    "tr": "_matrix",
    "det": "_matrix",
    "inv": "_matrix",
    "logdet": "_matrix",
}


def _rank_checked(template: str, check: str) -> Callable[..., tuple[str, int]]:
    """Printing for an op defined on vectors (matrices) only: where the graph does not know the operands' dims,
    each operand goes through a runtime check (`_vector(a)`), so another rank raises (and the call's error
    names the op and the shapes) instead of computing NumPy's other meaning of the function (np.dot of two
    matrices is their product) with this op's derivative."""

    def render(b: Graph, i: int, texts: list[tuple[str, int]]) -> tuple[str, int]:
        node = b.nodes[i]
        args = [t if b.dims(a) is not None else f"{check}({t})" for a, (t, _) in zip(node.args, texts)]
        return template.format(*args), ATOM

    return render


TENSOR_OPS = [
    dataclasses.replace(
        o, render=_rank_checked(o.numpy, _CHECKED[o.name]), xp=_rank_checked(str(o.xp), _CHECKED[o.name])
    )
    if o.name in _CHECKED
    else o
    for o in TENSOR_OPS
]

TENSOR_HELPERS = (runtime._vector, runtime._matrix, runtime._matmul_da, runtime._matmul_db, runtime._shift_max,
                  runtime._logsumexp, runtime._softmax, runtime._log_softmax, runtime._tie_share)  # fmt: skip
