"""The helpers of the Array-API form (xp.py), as runtime.py's are NumPy's: xp.py copies their source into every
such module. They compute in the namespace `xp` they are given (PyTorch, JAX, CuPy, array-api-strict, NumPy...),
use only the standard's functions, and read shapes from `.shape` (no data-dependent branch: they trace under
jax.jit). Each may use `xp`, `math`, `array_api_compat`, the module's NEEDS and the other helpers here.
"""

import math

try:
    import array_api_compat
except ImportError:  # symgraph needs it only to run the Array-API form; its modules import it themselves
    array_api_compat = None  # type: ignore[assignment]

NEEDS: tuple[str, ...] = ()  # each module sets its own: the namespace's functions its formula calls


def _namespace(*inputs):
    """The inputs' namespace, checked to have every function in NEEDS, then the inputs as arrays of one
    floating type: Python numbers as 0-d arrays on the arrays' device, integer and bool arrays converted."""
    xp = array_api_compat.array_namespace(*inputs)
    for name in NEEDS:
        where = xp
        for part in name.split("."):
            where = getattr(where, part, None)
        if where is None:
            library = xp.__name__.removeprefix("array_api_compat.")
            raise NotImplementedError(f"{library} has no {name} (namespace {xp.__name__}); this formula needs it")
    arrays = [a for a in inputs if not isinstance(a, (int, float))]
    floats = [a.dtype for a in arrays if xp.isdtype(a.dtype, "real floating")]
    dtype = xp.result_type(*floats) if floats else xp.float64
    device = array_api_compat.device(arrays[0]) if arrays else None
    out = []
    for a in inputs:
        if isinstance(a, (int, float)):
            a = xp.asarray(float(a), dtype=dtype, device=device)
        elif xp.isdtype(a.dtype, "complex floating"):
            raise TypeError("a complex input: symgraph's derivatives are real")
        elif not xp.isdtype(a.dtype, "real floating"):
            a = xp.astype(a, dtype)
        out.append(a)
    return (xp, *out)


def _shape(a):
    """The shape of an array, () for a number."""
    return tuple(a.shape) if hasattr(a, "shape") else ()


def _broadcast_shapes(*shapes):
    """The shape the shapes broadcast to (the standard's rules), without making an array."""
    out = []
    for k in range(1, max((len(s) for s in shapes), default=0) + 1):
        sizes = {s[-k] for s in shapes if len(s) >= k} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))


def _size(*inputs):
    """The number of elements the inputs broadcast to; nan for none (a mean of nothing), never a 0 to divide by."""
    n = 1
    for k in _broadcast_shapes(*[_shape(a) for a in inputs]):
        n *= k
    return n if n else math.nan


def _float_dtype(xp, *inputs):
    """The floating type the array inputs compute in."""
    kinds = [a.dtype for a in inputs if hasattr(a, "dtype") and xp.isdtype(a.dtype, "real floating")]
    return xp.result_type(*kinds) if kinds else xp.float64


def _device(inputs):
    arrays = [a for a in inputs if hasattr(a, "shape")]
    return array_api_compat.device(arrays[0]) if arrays else None


def _filled(xp, grad, shape, inputs):
    """`grad` (a number or an array that broadcasts to `shape`) as a fresh array of that shape."""
    grad = xp.asarray(grad, dtype=_float_dtype(xp, grad, *inputs), device=_device((grad, *inputs)))
    return xp.asarray(xp.broadcast_to(grad, shape), copy=True)


def _sum_to(xp, grad, like, space):
    """runtime._sum_to in `xp`: an adjoint that broadcasts against `space` summed to the shape of `like`."""
    like = like if type(like) is tuple else (like,)
    space = space if type(space) is tuple else (space,)
    shape = _broadcast_shapes(*[_shape(a) for a in like])
    full = _broadcast_shapes(_shape(grad), *[_shape(a) for a in space])
    if full != shape:
        if not _shape(grad):  # the same number at every point: each target element gets `repeat` of them
            grad = grad * (_size(*space) // max(_size(*like), 1))
        else:
            lead = len(full) - len(shape)
            axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and full[lead + i] != 1)
            grad = xp.sum(xp.broadcast_to(grad, full), axis=axes)
            if _shape(grad) != shape:
                grad = xp.reshape(grad, shape)
    if _shape(grad) != shape or (like and not hasattr(grad, "shape")):  # a number for an input: its array
        grad = _filled(xp, grad, shape, (*like, *space))
    return grad


def _like(xp, grad, *inputs):
    """`grad` as a fresh array of the shape the inputs broadcast to."""
    shape = _broadcast_shapes(*[_shape(a) for a in inputs])
    if _shape(grad) == shape and hasattr(grad, "shape"):
        return _fresh(xp, grad)
    return _filled(xp, grad, shape, inputs)


def _fresh(xp, a):
    """A copy of an array, so a returned gradient is never the caller's input."""
    return xp.asarray(a, copy=True) if hasattr(a, "shape") else a


def _vector(a):
    """`a`, checked to be a vector (dot and outer are defined on vectors only)."""
    if len(_shape(a)) != 1:
        raise ValueError(f"expected a vector, got an array of shape {_shape(a)}")
    return a


def _matrix(a):
    """`a`, checked to be a matrix (tr, det, inv and logdet are defined on matrices only)."""
    if len(_shape(a)) != 2:
        raise ValueError(f"expected a matrix, got an array of shape {_shape(a)}")
    return a


def _transpose(xp, a):
    """NumPy's a.T: the axes reversed (the standard's .T is for matrices only)."""
    n = len(_shape(a))
    return a if n < 2 else xp.permute_dims(a, tuple(range(n - 1, -1, -1)))


def _matmul_da(xp, g, a, b):
    """runtime._matmul_da in `xp`: the adjoint of `a` in a @ b, for operands of any ranks."""
    if not _shape(g):
        return g * b
    if len(_shape(a)) == 1:
        g = xp.expand_dims(g, axis=-2)
    r = xp.expand_dims(g, axis=-1) * b if len(_shape(b)) == 1 else g @ xp.matrix_transpose(b)
    return _sum_to(xp, r, a, r)


def _matmul_db(xp, g, a, b):
    """runtime._matmul_db in `xp`: the adjoint of `b` in a @ b, for operands of any ranks."""
    if not _shape(g):
        return g * a
    if len(_shape(a)) == 1:
        r = xp.expand_dims(a, axis=-1) * xp.expand_dims(g, axis=-2)
    elif len(_shape(b)) == 1:
        r = (xp.matrix_transpose(a) @ xp.expand_dims(g, axis=-1))[..., 0]
    else:
        r = xp.matrix_transpose(a) @ g
    return _sum_to(xp, r, b, r)


def _logsumexp(xp, x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, shifted by the maximum (by 0 where that is not finite)."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    return xp.reshape(out, ()) if axis is None else xp.squeeze(out, axis=axis)


def _softmax(xp, x, axis=None):
    """exp(x) / sum(exp(x)) over `axis`, shifted by the maximum."""
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _log_softmax(xp, x, axis=None):
    """x - logsumexp(x) over `axis`, shifted by the maximum before the subtraction."""
    m = xp.max(x, axis=axis, keepdims=True)
    shifted = x - xp.where(xp.isfinite(m), m, 0.0)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _tie_share(xp, x, m, axis=None):
    """1/k at each of the k places where x equals its maximum (minimum) m along `axis`, else 0."""
    hit = xp.astype(x == m, x.dtype)
    return hit / xp.sum(hit, axis=axis, keepdims=True)


def _eye_like(xp, a):
    """The identity matrix of a matrix's shape, type and device (the gradient of its trace)."""
    n, m = _shape(a)
    return xp.eye(n, m, dtype=a.dtype, device=array_api_compat.device(a))


def _cbrt(xp, x):
    """The real cube root: the library's own where it has one (the standard has none)."""
    own = getattr(xp, "cbrt", None)
    return own(x) if own is not None else xp.sign(x) * xp.abs(x) ** (1.0 / 3.0)


def _heaviside(xp, x, h):
    """NumPy's heaviside (not in the standard): 0 below 0, h at 0, 1 above, nan at nan."""
    return xp.where(x < 0, 0.0, xp.where(x > 0, 1.0, xp.where(x == 0, h, x)))


def _one_at_zero(xp, u):
    """1.0 where u is 0, else 0.0, in u's type (the standard adds no bool to a float)."""
    return xp.astype(u == 0.0, u.dtype)
