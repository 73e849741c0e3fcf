"""The helpers generated modules call, as ordinary functions: codegen copies their source into every
module (which imports only NumPy). np.shape rather than np.size: Dask arrays know their shape without
computing anything. Each helper is self-contained: it may use only `np` and the other helpers here.
"""

import numpy as np


def _sum_to(grad, like, space):
    """`grad`, an adjoint that broadcasts against the inputs in `space`, summed down to the shape the inputs
    in `like` broadcast to (exactly that shape): the gradient of an operand that its op broadcast. One input
    may stand alone instead of in a tuple."""
    like = like if type(like) is tuple else (like,)
    space = space if type(space) is tuple else (space,)
    shape = np.broadcast_shapes(*[np.shape(a) for a in like])
    full = np.broadcast_shapes(np.shape(grad), *[np.shape(a) for a in space])
    if full != shape:
        if np.ndim(grad) == 0:  # the same number at every point: each target element gets `repeat` of them
            grad = grad * (_size(*space) // max(_size(*like), 1))
        else:
            lead = len(full) - len(shape)
            axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and full[lead + i] != 1)
            grad = np.broadcast_to(grad, full).sum(axis=axes)
            if np.shape(grad) != shape:
                grad = np.reshape(grad, shape)
    if np.shape(grad) != shape:
        grad = np.broadcast_to(np.asarray(grad, dtype=_float_dtype(*like, *space)), shape).copy()
    return grad


def _sum_to_dot(a, b, like, space):
    """`_sum_to(a * b, like, space)`, as one dot product when that sums every element of two float64 arrays
    of one shape to one number: no array a * b is made. (float32 stays with np.sum's pairwise sum: BLAS's
    sdot adds in float32 one element after another and loses digits over millions of elements.)"""
    like = like if type(like) is tuple else (like,)
    space = space if type(space) is tuple else (space,)
    if (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.shape == b.shape
        and a.dtype == b.dtype == np.float64
        and np.broadcast_shapes(*[np.shape(x) for x in like]) == ()
        and np.broadcast_shapes(a.shape, *[np.shape(x) for x in space]) == a.shape
    ):
        return np.vdot(a, b)
    return _sum_to(a * b, like, space)


def _dot_all(a, b):
    """The sum of every element of a * b: a dot product for float64 arrays of one shape (no array a * b is
    made), np.sum(a * b) otherwise (float32 too: see _sum_to_dot)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype == np.float64:
        return np.vdot(a, b)
    return np.sum(a * b)


def _dot_mean(a, b):
    """_dot_all(a, b) over the number of elements a * b has (the factors are computed once)."""
    return _dot_all(a, b) / _size(a, b)


def _sum_product(a, b, block=1 << 18):
    """np.sum(a * b) to the bit, without the array a * b where NumPy's sum can be followed: for C-contiguous
    float64 or float32 arrays of one shape, NumPy adds all elements pairwise (halves, the first rounded down to
    a multiple of 8); the halves are split the same way here down to blocks, each block's product made in one
    small buffer and summed by NumPy. Otherwise np.sum(a * b)."""
    n = a.size if type(a) is np.ndarray else 0
    if not (
        n > block
        and type(b) is np.ndarray
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.dtype in (np.float64, np.float32)
        and a.flags.c_contiguous
        and b.flags.c_contiguous
    ):
        return np.sum(a * b)
    a, b, buffer = a.reshape(-1), b.reshape(-1), np.empty(block, a.dtype)
    todo, sums = [(0, n, False)], []
    while todo:  # the halves in order, each pair's sum once both are done
        start, k, joined = todo.pop()
        if joined:
            right = sums.pop()
            sums.append(sums.pop() + right)
        elif k <= block:
            part = np.multiply(a[start : start + k], b[start : start + k], out=buffer[:k])
            sums.append(part.sum())
        else:
            half = k // 2 - k // 2 % 8
            todo += [(start, k, True), (start + half, k - half, False), (start, half, False)]
    return sums[0]


def _mean_product(a, b):
    """np.mean(a * b) to the bit, without the array a * b where _sum_product can (np.mean divides NumPy's sum
    by the count as an np.intp and casts back to the sum's type)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape and a.size:
        total = _sum_product(a, b)
        return total.dtype.type(total / np.intp(a.size)) if a.dtype in (np.float64, np.float32) else np.mean(a * b)
    return np.mean(a * b)


def _size(*inputs):
    """The number of elements the inputs broadcast to (1 for numbers), from shapes alone."""
    if len(inputs) == 1 and type(inputs[0]) is np.ndarray:  # one array: its own size
        return inputs[0].size or _float_dtype(*inputs).type(0.0)
    n = 1
    for k in np.broadcast_shapes(*[np.shape(a) for a in inputs]):
        n *= k
    # An empty batch: x / 0 is NumPy's nan with its warning, not an error (a zero of the inputs' float type).
    return n if n else _float_dtype(*inputs).type(0.0)


def _like(grad, *inputs):
    """`grad` (a number or an array that broadcasts to the inputs' shape) as a fresh array of that shape."""
    shape = np.broadcast_shapes(*[np.shape(a) for a in inputs])
    if np.shape(grad) == shape:
        return _fresh(grad)  # it may be another input's array (d/dx of x*y is y)
    return np.broadcast_to(np.asarray(grad, dtype=_float_dtype(*inputs)), shape).copy()


def _fresh(a):
    """A copy of an array (so a returned gradient is never the caller's input); numbers as they are."""
    return a.copy() if hasattr(a, "copy") else a


def _stack(entries, *wrt):
    """Derivatives (a list, or a list of rows) broadcast to the shape W of the inputs in `wrt` and stacked
    in front of it: shape (len(entries), ...) + W."""
    shape = np.broadcast_shapes(*[np.shape(a) for a in wrt])
    if isinstance(entries[0], list):
        return np.stack([_stack(row, *wrt) for row in entries])
    return np.stack([np.broadcast_to(e, shape) for e in entries])


def _python_numbers(*inputs):
    """True when an input is a Python number: only then can a retry in NumPy floats help."""
    return any(type(a) is float or type(a) is int for a in inputs)


def _numpy_floats(*inputs):
    """The inputs with each Python number as a NumPy float of the arrays' float type (arrays as they are)."""
    number = _float_dtype(*inputs).type
    return [number(a) if type(a) is float or type(a) is int else a for a in inputs]


def _float_dtype(*inputs):
    """The floating type the array inputs compute in (float64 when none is a float array): a number that
    stands for every point of an array is made an array of that type, so float32 in is float32 out."""
    kinds = [a.dtype for a in inputs if getattr(getattr(a, "dtype", None), "kind", "") == "f"]
    return np.result_type(*kinds) if kinds else np.dtype(np.float64)


def _flat(*arrays):
    """The arrays' elements in one vector, each array raveled in turn: a gradient over every element."""
    return np.concatenate([np.ravel(a) for a in arrays])


def _directions(*wrt):
    """The unit vectors of every element of the inputs, each as a tuple of arrays shaped like the inputs:
    the directions whose Hessian-vector products are the Hessian's columns."""
    shapes = [np.shape(a) for a in wrt]
    sizes = [int(np.prod(s)) for s in shapes]
    dtype = _float_dtype(*wrt)
    for k in range(sum(sizes)):
        flat = np.zeros(sum(sizes), dtype=dtype)
        flat[k] = 1.0
        parts, start = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(flat[start : start + size].reshape(shape))
            start += size
        yield tuple(parts)


def _vector(a):
    """`a`, checked to be a vector (dot and outer are defined on vectors only)."""
    if np.ndim(a) != 1:
        raise ValueError(f"expected a vector, got an array of shape {np.shape(a)}")
    return a


def _matrix(a):
    """`a`, checked to be a matrix (tr, det, inv and logdet are defined on matrices only)."""
    if np.ndim(a) != 2:
        raise ValueError(f"expected a matrix, got an array of shape {np.shape(a)}")
    return a


def _matmul_da(g, a, b):
    """The adjoint of `a` in a @ b from the product's adjoint g, for operands of any ranks (NumPy's matmul
    rules: a vector operand is promoted to a matrix and the added axis removed; stacks broadcast)."""
    if np.ndim(g) == 0:
        return g * b
    if np.ndim(a) == 1:
        g = np.expand_dims(g, -2)
    r = np.expand_dims(g, -1) * b if np.ndim(b) == 1 else g @ np.swapaxes(b, -1, -2)
    return _sum_to(r, a, r)


def _matmul_db(g, a, b):
    """The adjoint of `b` in a @ b from the product's adjoint g, for operands of any ranks."""
    if np.ndim(g) == 0:
        return g * a
    if np.ndim(a) == 1:
        r = np.expand_dims(a, -1) * np.expand_dims(g, -2)
    elif np.ndim(b) == 1:
        r = (np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0]
    else:
        r = np.swapaxes(a, -1, -2) @ g
    return _sum_to(r, b, r)


def _shift_max(x, axis):
    """np.max(x, axis=axis, keepdims=True), the shift of logsumexp and softmax. Along the short last axis of a
    C-ordered array (logits: a row per sample) it is taken from a Fortran-ordered copy: NumPy then compares
    whole columns at once instead of calling its loop once per row, 3-4x faster at 256 rows of 10 and 20x at
    4096 rows of 3. Only which of 0.0 and -0.0 comes back may differ, and no caller can show that: the shift
    is subtracted from every element and added back, and a row holding both zeros sums to at least 2."""
    if type(x) is np.ndarray and x.ndim == 2 and axis in (1, -1) and x.shape[1] <= 32 and x.shape[0] >= 16:
        if x.flags.c_contiguous:
            return np.asfortranarray(x).max(axis=1, keepdims=True)
    return np.max(x, axis=axis, keepdims=True)


def _logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, shifted by the maximum (_shift_max) so that nothing overflows. (The array's
    own sum method: the same bits as np.sum without its dispatch, a microsecond.)"""
    x = x if hasattr(x, "max") else np.asarray(x)
    m = _shift_max(x, axis)
    if not (type(m) is np.ndarray and np.isfinite(m).all()):  # a row of -inf (or inf, nan): shift it by 0
        m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    out = np.squeeze(out, axis=axis)  # axis None: every axis, each of length 1 here
    return out[()] if axis is None else out


def _softmax(x, axis=None):
    """exp(x) / sum(exp(x)) over `axis`, shifted by the maximum so that nothing overflows."""
    e = np.exp(x - _shift_max(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=None):
    """x - logsumexp(x) over `axis`: finite where softmax underflows to 0. Shifted by the maximum before
    the subtraction, so a large x loses no digits (1000 - (1000 + log 2) would be off by an ulp of 1000)."""
    m = _shift_max(x, axis)
    shifted = x - np.where(np.isfinite(m), m, 0.0)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _tie_share(x, m, axis=None):
    """1/k at each of the k places where x equals its maximum (or minimum) m along `axis`, else 0: how
    max and min share their adjoint among ties."""
    hit = x == m
    return hit / np.sum(hit, axis=axis, keepdims=True, dtype=_float_dtype(x))
