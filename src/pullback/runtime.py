"""Helpers that generated derivative code calls at run time.

This is the bottom layer: the generated modules import from here (and from
NumPy/math) and from nothing else in pullback. Each helper is one shared step
of many derivative rules: summing a gradient back over broadcast axes,
restoring reduced axes, the adjoints of matrix products.
"""
import numpy as np

__all__ = [
    "unbroadcast", "unreduce", "scalar_seed", "matmul_grad_lhs",
    "matmul_grad_rhs", "dot_grad_lhs", "dot_grad_rhs", "split_ties",
    "NonScalarOutput",
]


class NonScalarOutput(ValueError):
    """grad was asked for the gradient of a function whose output is not a scalar."""


def unbroadcast(g, x):
    """Sum ``g`` over the axes that broadcasting added to ``x``.

    The adjoint of a broadcasting operation has the shape of the result; the
    argument's gradient must have the argument's shape.
    """
    shape = np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra < 0:
        # g is smaller than x (a scalar cotangent for an array output).
        return np.broadcast_to(g, shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and gshape[extra + i] != 1)
    g = np.sum(g, axis=axes, keepdims=True) if axes else g
    return np.reshape(g, shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction back to the shape of its input."""
    shape = np.shape(x)
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def scalar_seed(value):
    """The seed of the reverse sweep of ``grad``: 1 for a scalar output.

    Raises :class:`NonScalarOutput` for any other output, since the gradient
    of a vector-valued function is not defined.
    """
    if np.ndim(value) != 0 or isinstance(value, (tuple, list)):
        raise NonScalarOutput(
            f"grad needs a function whose output is a scalar; this one returned "
            f"{_describe(value)}. Use pullback.vjp for a vector-Jacobian product "
            f"or pullback.jacobian for the full Jacobian.")
    if np.iscomplexobj(value):
        raise TypeError("pullback does not differentiate complex-valued functions")
    return 1.0


def split_ties(a, b):
    """Weights of ``a`` in ``maximum(a, b)``: 1 where a wins, 1/2 at ties.

    Splitting ties evenly gives the derivative that central differences see.
    """
    return (a > b) + 0.5 * (a == b)


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"an array of shape {np.shape(value)}"


def matmul_grad_lhs(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``a`` (1-D, 2-D and batched)."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if b_nd == 1:
        if a_nd == 1:
            return g * b
        return np.expand_dims(g, -1) * b
    if a_nd == 1:
        return unbroadcast(np.matmul(b, np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)


def matmul_grad_rhs(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``b`` (1-D, 2-D and batched)."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1:
        if b_nd == 1:
            return g * a
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if b_nd == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)


def dot_grad_lhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``a``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if np.ndim(b) <= 2:
        return matmul_grad_lhs(g, a, b)
    # N-D dot: contract the last axis of a with the second-to-last of b.
    b_axes = [i for i in range(np.ndim(b)) if i != np.ndim(b) - 2]
    g_axes = list(range(np.ndim(a) - 1, np.ndim(g)))
    return np.tensordot(g, b, axes=(g_axes, b_axes))


def dot_grad_rhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``b``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    if np.ndim(b) <= 2:
        return matmul_grad_rhs(g, a, b)
    a_lead = list(range(np.ndim(a) - 1))
    ga = np.tensordot(a, g, axes=(a_lead, a_lead))  # (k, b_lead..., n)
    return np.moveaxis(ga, 0, -2)
