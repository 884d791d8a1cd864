"""Run-time helpers of the scipy.special rules (templates/scipy_special.py).

NumPy only: this module imports without SciPy (every module of
pullback.runtime is read for its helpers). ``y = logsumexp(a, axis, b)`` is
``log(sum(b * exp(a)))`` over ``axis``; each term's share of the sum,
``exp(a - y)`` with y's reduced axes put back, gives both gradients:
``g * b * exp(a - y)`` for ``a`` and ``g * exp(a - y)`` for ``b``, summed back
over the axes broadcasting ``a`` against ``b`` added.
"""
import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast
from pullback.runtime.arrays import is_foreign_array
from pullback.runtime.declare import helper
from pullback.runtime.reductions import reduced_axes, restore_axes

__all__ = ["logsumexp_grad_a", "logsumexp_grad_b", "logsumexp_jvp_a", "logsumexp_jvp_b",
           "polygamma_of"]


@helper(returns_new=True)
def polygamma_of(n, x):
    """``scipy.special.polygamma(n, x)`` for a whole number ``n >= 1``, in ``x``'s
    array type: SciPy's polygamma reads its arguments with np.asarray (a Dask
    array would be computed into NumPy), so another library's array gets the
    same formula from ufuncs, which dispatch: (-1)**(n+1) * n! * zeta(n+1, x)."""
    import scipy.special
    if not is_foreign_array(x):
        return scipy.special.polygamma(n, x)
    return (-1.0) ** (n + 1) * scipy.special.gamma(n + 1.0) * scipy.special.zeta(n + 1.0, x)


def _refuse_sign(return_sign):
    if return_sign:
        raise NotDifferentiable(
            "pullback does not differentiate scipy.special.logsumexp(..., return_sign=True); "
            "call it without return_sign (the weights b must then keep the sum positive), "
            "or compute the sign apart from the differentiated value")


def _shares(a, y, axis, b, keepdims):
    """``exp(a - y)`` over the broadcast shape of ``a`` and ``b``, and that ndim."""
    ndim = np.ndim(a) if b is None else max(np.ndim(a), np.ndim(b))
    axes = reduced_axes(axis, ndim)
    return np.exp(a - restore_axes(y, ndim, axes, keepdims)), ndim, axes


@helper(returns_new=True)
def logsumexp_grad_a(g, a, y, axis=None, b=None, keepdims=False, return_sign=False):
    """Adjoint of ``a`` in ``y = logsumexp(a, axis, b, keepdims)``."""
    _refuse_sign(return_sign)
    shares, ndim, axes = _shares(a, y, axis, b, keepdims)
    grad = restore_axes(g, ndim, axes, keepdims) * shares
    return unbroadcast(grad if b is None else grad * b, a)


@helper(returns_new=True)
def logsumexp_grad_b(g, a, y, axis=None, b=None, keepdims=False):
    """Adjoint of the weights ``b`` in ``y = logsumexp(a, axis, b, keepdims)``."""
    shares, ndim, axes = _shares(a, y, axis, b, keepdims)
    return unbroadcast(restore_axes(g, ndim, axes, keepdims) * shares, b)


@helper(returns_new=True)
def logsumexp_jvp_a(da, a, y, axis=None, b=None, keepdims=False, return_sign=False):
    """Tangent of ``y = logsumexp(a, axis, b, keepdims)`` along ``da``:
    ``sum(b * exp(a - y) * da)`` over ``axis``."""
    _refuse_sign(return_sign)
    shares, _, _ = _shares(a, y, axis, b, keepdims)
    moved = shares * da if b is None else shares * b * da
    return np.sum(moved, axis=axis, keepdims=keepdims)


@helper(returns_new=True)
def logsumexp_jvp_b(db, a, y, axis=None, b=None, keepdims=False):
    """Tangent of ``y = logsumexp(a, axis, b, keepdims)`` along ``db``:
    ``sum(exp(a - y) * db)`` over ``axis``."""
    shares, _, _ = _shares(a, y, axis, b, keepdims)
    return np.sum(shares * db, axis=axis, keepdims=keepdims)
