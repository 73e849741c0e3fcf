"""The helpers generated modules call, as ordinary functions: codegen copies their source into every
module (which imports only NumPy), and graph interpretation (ir.evaluate) calls them directly, so both run
the very same code. np.shape rather than np.size: Dask arrays know their shape without computing anything.

Each helper must be self-contained: it may use only `np` and the other helpers here.
"""

import numpy as np


def _sum_to(grad, like, out):
    """The gradient with respect to an input shaped like `like`, from its adjoint spread over `out`.

    `grad` broadcasts against `out`, whose every point it stands for. Axes that broadcasting added to the
    input are summed away, so each gradient has exactly its input's shape.
    """
    shape = np.shape(like)
    full = np.broadcast_shapes(np.shape(out), shape)
    spread = np.shape(grad) != full
    if spread:
        grad = np.broadcast_to(grad, full)
    lead = len(full) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and full[lead + i] != 1)
    if axes:
        return grad.sum(axis=axes).reshape(shape)
    if spread:
        return np.reshape(grad, shape).copy()  # a fresh array, not a read-only broadcast view
    return grad


def _total(grad, like):
    """The sum of `grad` over every point of `like` (it broadcasts against it): the adjoint of a number
    such as sum(u) that was used at each of those points."""
    repeat = _size(like) // max(_size(grad), 1)
    total = grad if np.ndim(grad) == 0 else np.sum(grad)
    return total if repeat == 1 else total * repeat


def _size(a):
    """The number of elements of `a` (1 for a number), from its shape: Dask knows it without computing."""
    n = 1
    for k in np.shape(a):
        n *= k
    return n
