"""Derivatives of the reduction and linear-algebra gradient helpers
(``pullback.runtime.reductions``, ``pullback.runtime.linalg``): what the
rules of templates/runtime_reductions.py call, so that a gradient calling
``prod_grad``, ``std_grad``, ``inv_grad``, ... is itself differentiable
(hessian, hvp, grad of grad).

Each gradient helper is linear in the adjoint ``g`` it carries; these give
its derivative with respect to its other arguments. A helper named
``<helper>_wrt_<arg>(..., t, ...)`` is that derivative in the direction ``t``
(the tangent rule's term). Where the derivative is a symmetric map (the
Hessian of a product, a centering projection, a diagonal), the same helper
is its own adjoint; otherwise ``<helper>_wrt_<arg>_adjoint`` is the
transposed map.

Most gradients of reductions have the form ``restore(g) * W(a)``: their
adjoint with respect to ``g`` sums ``u * W(a)`` back over the reduced axes
(:func:`sum_restored`), ``W(a)`` being the helper called with ``g = 1.0``.
The conventions at kinks are the first-order helpers': ties split evenly
(piecewise-constant masks have derivative zero), and a zero spread or norm
gives the subgradient zero again.
"""
import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast
from pullback.runtime.arrays import (as_array, foreign_among, is_foreign_array, like_array,
                                     number_or_array, refuse_array, zeros_like)
from pullback.runtime.quantiles import _order_statistics
from pullback.runtime.reductions import (_average_weights, _axis_tuple, _fit, _floats, _to_last,
                                         _from_last, cumprod_grad, norm_grad, reduced_axes,
                                         restore_axes, std_grad, var_grad)

__all__ = [
    "sum_restored", "prod_grad_wrt_a", "nanprod_grad_wrt_a", "var_grad_wrt_a",
    "std_grad_wrt_a", "std_grad_wrt_y", "norm_grad_wrt_x", "norm_grad_wrt_y",
    "cumulative_sum_grad_adjoint", "inv_grad_wrt_y", "inv_grad_wrt_y_adjoint",
    "solve_grad_b_adjoint", "solve_grad_b_wrt_a", "solve_grad_b_wrt_a_adjoint",
    "solve_grad_a_adjoint", "det_grad_wrt_a", "det_grad_adjoint",
    "cholesky_grad_wrt_l", "cholesky_grad_adjoint", "slogdet_grad_adjoint",
    "slogdet_grad_wrt_a", "eigvalsh_grad_adjoint", "eigvalsh_grad_wrt_a",
    "matrix_power_grad_wrt_a", "average_grad_wrt_w", "average_grad_wrt_w_adjoint",
    "average_weights_grad_wrt", "average_weights_grad_adjoint", "cumprod_grad_wrt_a",
    "cumprod_grad_wrt_y", "cumprod_grad_adjoint", "quantile_second",
]


# -- reductions: the adjoint of restore(g) -------------------------------------------

def sum_restored(u, w, like, axis=None, keepdims=False):
    """The adjoint, with respect to ``like`` (``g``, or ``y``), of
    ``t -> restore_axes(t) * w``: ``u * w`` summed over the reduced axes of
    ``u``'s array and over the axes ``like`` broadcasts along, in ``like``'s shape."""
    t = as_array(u) * w
    axes = reduced_axes(axis, t.ndim)
    if axes and not keepdims and np.ndim(like) == t.ndim - len(axes):
        t = np.sum(t, axis=axes)
    t = unbroadcast(t, like)
    return number_or_array(t) if isinstance(like, float) else t


# -- products -------------------------------------------------------------------------

def _others_product_tangent(a, t, axes):
    """The derivative of each entry's product of the other entries of its
    slice, in the direction ``t``: the sum over j != i of t_j prod_{k != i, j} a_k.

    Forward-differentiated running products from both ends (no division, so
    exact with zeros); the map is symmetric (a Hessian), hence its own adjoint.
    """
    flat, moved_shape = _to_last(a, axes)
    tflat, _ = _to_last(np.broadcast_to(t, a.shape).astype(flat.dtype), axes)
    n = flat.shape[-1]
    left, dleft = np.ones_like(flat), np.zeros_like(flat)      # products of the entries before
    right, dright = np.ones_like(flat), np.zeros_like(flat)    # ... and after each entry
    for i in range(1, n):
        left[..., i] = left[..., i - 1] * flat[..., i - 1]
        dleft[..., i] = dleft[..., i - 1] * flat[..., i - 1] + left[..., i - 1] * tflat[..., i - 1]
        j = n - 1 - i
        right[..., j] = right[..., j + 1] * flat[..., j + 1]
        dright[..., j] = dright[..., j + 1] * flat[..., j + 1] + right[..., j + 1] * tflat[..., j + 1]
    return _from_last(dleft * right + left * dright, moved_shape, axes)


def prod_grad_wrt_a(g, a, t, axis=None, keepdims=False):
    """Derivative of ``prod_grad(g, a, axis, keepdims)`` with respect to ``a``
    in the direction ``t`` (and, being symmetric, its adjoint for cotangent ``t``)."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    return _fit(restore_axes(g, a.ndim, axes, keepdims) * _others_product_tangent(a, t, axes), a)


def nanprod_grad_wrt_a(g, a, t, axis=None, keepdims=False):
    """The same for ``nanprod_grad``: NaNs count as 1 and neither move nor get anything."""
    a = _floats(a)
    missing = np.isnan(a)
    inner = prod_grad_wrt_a(g, np.where(missing, 1.0, a).astype(a.dtype),
                            np.where(missing, 0.0, t), axis, keepdims)
    return np.where(missing, 0.0, inner).astype(inner.dtype)


# -- moments: var_grad is linear in a (a centering projection, symmetric) -------------

def _nan_at(t, a, ignore_nan):
    """``t`` with ``a``'s NaNs (so the NaN-ignoring helpers skip the same entries)."""
    t = _floats(t)
    return np.where(np.isnan(a), np.nan, t).astype(t.dtype) if ignore_nan else t


def _masked_ratio(g, t, y):
    """``g t / y``, 0 where y is 0 (the subgradient the first-order helpers take there)."""
    y = as_array(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = as_array(g) * t / y
    return np.where(y == 0, np.zeros_like(ratio), ratio)


def var_grad_wrt_a(g, a, t, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    """Derivative of ``var_grad(g, a, ...)`` with respect to ``a`` along ``t``
    (its own adjoint): ``var_grad(g, t)``, skipping ``a``'s NaNs."""
    return var_grad(g, _nan_at(t, _floats(a), ignore_nan), axis, ddof, keepdims, ignore_nan)


def std_grad_wrt_a(g, a, y, t, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    """Derivative of ``std_grad(g, a, y, ...)`` with respect to ``a`` along ``t`` (its own adjoint)."""
    return std_grad(g, _nan_at(t, _floats(a), ignore_nan), y, axis, ddof, keepdims, ignore_nan)


def std_grad_wrt_y(g, a, y, t, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    """Derivative of ``std_grad(g, a, y, ...)`` with respect to ``y`` along ``t``:
    ``g / (2 y)`` moves by ``-g t / (2 y^2)`` (0 where y is 0, as std_grad)."""
    return -std_grad(_masked_ratio(g, t, y), a, y, axis, ddof, keepdims, ignore_nan)


# -- norms ------------------------------------------------------------------------------

def _norm_kind(x, ord, axis):
    """'two' (2-norm, Frobenius), 'p' (a vector p-norm), 'flat' (piecewise
    linear: 1, inf, 0 and the matrix 1/inf norms: no second derivative), or
    'svd' (nuclear and matrix 2-norms)."""
    nd = np.ndim(x)
    if ord is None or (isinstance(ord, str) and ord in ("f", "fro")):
        return "two"
    axes = tuple(range(nd)) if axis is None else \
        (tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))
    if len(axes) == 2:
        return "svd" if (isinstance(ord, str) or ord in (2, -2)) else "flat"
    if isinstance(ord, str) or ord == 0 or np.isinf(ord) or ord == 1:
        return "flat"
    return "two" if ord == 2 else "p"


def norm_grad_wrt_x(g, x, y, t, ord=None, axis=None, keepdims=False):
    """Derivative of ``norm_grad(g, x, y, ...)`` with respect to ``x`` along
    ``t``; a diagonal map (its own adjoint). The SVD-based matrix norms refuse."""
    x = _floats(x)
    kind = _norm_kind(x, ord, axis)
    if kind == "two":
        return norm_grad(g, np.broadcast_to(t, x.shape).astype(x.dtype), y, ord, axis, keepdims)
    if kind == "flat":
        return zeros_like(x)
    if kind == "svd":
        raise NotDifferentiable(f"pullback has no second derivative of np.linalg.norm with "
                                f"ord={ord!r} for matrices")
    # p-norm: d/dx of g sign(x) |x|^(p-1) / y^(p-1) is (p-1) g |x|^(p-2) / y^(p-1); at x = 0
    # the subgradient 0 (as abs'' there), also where y = 0.
    p = float(ord)
    ax = axis if axis is not None else 0
    ax = ax[0] if isinstance(ax, (tuple, list)) else ax
    gk = restore_axes(g, x.ndim, reduced_axes(ax, x.ndim), keepdims)
    yk = restore_axes(y, x.ndim, reduced_axes(ax, x.ndim), keepdims)
    magnitude = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = (p - 1.0) * gk * magnitude ** (p - 2.0) / np.where(yk == 0, 1, yk) ** (p - 1.0)
    curve = np.where((magnitude == 0) | (yk == 0), x.dtype.type(0), curve)
    return _fit(curve * t, x).astype(x.dtype, copy=False)


def norm_grad_wrt_y(g, x, y, t, ord=None, axis=None, keepdims=False):
    """Derivative of ``norm_grad(g, x, y, ...)`` with respect to ``y`` along
    ``t``: ``-(p - 1) norm_grad(g t / y)`` (0 where y is 0)."""
    x = _floats(x)
    kind = _norm_kind(x, ord, axis)
    if kind == "flat":
        return zeros_like(x)
    if kind == "svd":
        raise NotDifferentiable(f"pullback has no second derivative of np.linalg.norm with "
                                f"ord={ord!r} for matrices")
    scale = 1.0 if kind == "two" else float(ord) - 1.0
    return -scale * norm_grad(_masked_ratio(g, t, y), x, y, ord, axis, keepdims)


# -- weighted averages: w / sum(w) over the reduced axes ---------------------------------

def _weights_back(full, a, w, axis):
    """The adjoint of ``_average_weights``: an ``a``-shaped array summed back to ``w``'s shape."""
    full = np.broadcast_to(full, a.shape)
    if np.shape(w) == a.shape:
        return full
    given = _axis_tuple(axis, a.ndim)
    summed = np.sum(full, axis=tuple(ax for ax in range(a.ndim) if ax not in given))
    return summed.transpose(np.argsort(np.argsort(given)))


def _average_parts(g, a, axis, weights, keepdims):
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    w = _average_weights(a, weights, axis)
    return a, axes, w, np.sum(w, axis=axes, keepdims=True), restore_axes(g, a.ndim, axes, keepdims)


def average_grad_wrt_w(g, a, axis, weights, t, keepdims=False):
    """Derivative of ``average_grad(g, a, y, axis, weights, keepdims)`` with respect
    to ``weights`` along ``t``: ``g (t - w sum(t) / S) / S``, S = sum(w)."""
    a, axes, w, total, gk = _average_parts(g, a, axis, weights, keepdims)
    tw = _average_weights(a, t, axis)
    return _fit(gk * (tw - w * np.sum(tw, axis=axes, keepdims=True) / total) / total, a)


def average_grad_wrt_w_adjoint(g, a, axis, weights, u, keepdims=False):
    """Adjoint of :func:`average_grad_wrt_w` for the cotangent ``u`` (``a``'s shape)."""
    a, axes, w, total, gk = _average_parts(g, a, axis, weights, keepdims)
    v = as_array(u) * gk / total
    return _weights_back(v - np.sum(v * w, axis=axes, keepdims=True) / total, a, weights, axis)


def average_weights_grad_wrt(g, a, y, axis, weights, keepdims, ta=0.0, ty=0.0, tw=0.0):
    """Derivative of ``average_weights_grad(g, a, y, axis, weights, keepdims)`` =
    back(g (a - y) / S) with respect to ``a``, ``y`` or ``weights`` along ``ta``, ``ty``, ``tw``."""
    a, axes, w, total, gk = _average_parts(g, a, axis, weights, keepdims)
    yk = restore_axes(y, a.ndim, axes, keepdims)
    tyk = restore_axes(ty, a.ndim, axes, keepdims)
    moved = np.sum(_average_weights(a, tw, axis), axis=axes, keepdims=True) if np.ndim(tw) else 0.0
    return _weights_back(gk * (ta - tyk - (a - yk) * moved / total) / total, a, weights, axis)


def average_weights_grad_adjoint(u, g, a, y, axis, weights, keepdims, wrt):
    """Adjoint of ``average_weights_grad`` with respect to ``wrt`` ('g', 'a', 'y', 'weights')
    for the cotangent ``u`` (``weights``' shape)."""
    a, axes, w, total, gk = _average_parts(g, a, axis, weights, keepdims)
    yk = restore_axes(y, a.ndim, axes, keepdims)
    v = np.broadcast_to(_average_weights(a, u, axis), a.shape) / total
    if wrt == "g":
        return sum_restored(v, a - yk, g, axis, keepdims)
    if wrt == "y":
        return sum_restored(v, -gk, y, axis, keepdims)
    if wrt == "a":
        return _fit(v * gk, a)
    return _weights_back(-np.sum(v * gk * (a - yk), axis=axes, keepdims=True) / total, a,
                         weights, axis)


# -- running products (no exact zeros: there the second derivative refuses) ---------------

def _no_zeros(a):
    a = _floats(a)
    if is_foreign_array(a):     # asking would compute a lazy array
        refuse_array(a, "The second derivative of np.cumprod (refused at an input holding an "
                        "exact zero, which is asked of the values)")
    if np.any(a == 0):
        raise NotDifferentiable("pullback has no second derivative of np.cumprod at an input "
                                "holding an exact zero")
    return a


def cumprod_grad_wrt_a(g, a, y, t, axis=None):
    """Derivative of ``cumprod_grad(g, a, y, axis) = R(g y) / a`` (R: a reverse
    running sum) with respect to ``a`` along ``t``: ``-r t / a``; diagonal, its own adjoint."""
    a = _no_zeros(a)
    return -cumprod_grad(g, a, y, axis) * np.reshape(t, a.shape) / a


def cumprod_grad_wrt_y(g, a, y, t, axis=None):
    """Derivative of ``cumprod_grad(g, a, y, axis)`` with respect to ``y`` along ``t``: ``R(g t) / a``."""
    return cumprod_grad(g, _no_zeros(a), t, axis)


def cumprod_grad_adjoint(u, a, other, like, axis=None):
    """Adjoint of ``R(g y) / a`` with respect to ``g`` (``other`` is y, ``like`` g)
    or to ``y`` (``other`` is g, ``like`` y): ``other * cumsum(u / a)``."""
    a = _no_zeros(a)
    v = as_array(u) / a
    if axis is None:
        v, axis = np.ravel(v), 0
    return unbroadcast(as_array(other) * np.cumsum(v, axis=axis), like)


# -- quantiles: the weights of the order statistics move with q only ---------------------

def _quantile_weights(a, q, axis, method, ignore_nan, scale):
    """The weights ``W`` of each quantile on the entries of ``a`` (quantile_grad's) and
    their derivative ``dW`` with respect to ``q``, both shaped ``q.shape + a.shape``."""
    axes, flat, moved_shape, order, low, high, gamma, slope, empty, q = \
        _order_statistics(a, as_array(q, dtype=np.float64) / scale, axis, method, ignore_nan)
    at_low = np.arange(flat.shape[-1]) == low[..., None]
    at_high = np.arange(flat.shape[-1]) == high[..., None]
    live = ~empty[..., None]
    maps = []
    for on_sorted in (live * (at_low * (1.0 - gamma[..., None]) + at_high * gamma[..., None]),
                      live * (at_high * 1.0 - at_low) * (slope[..., None] / scale)):
        if foreign_among(on_sorted, order) is not None:     # gathered, not written
            ranks = np.argsort(np.broadcast_to(order, on_sorted.shape), axis=-1)
            weights = np.take_along_axis(on_sorted, ranks, axis=-1)
        else:
            weights = np.zeros(on_sorted.shape)
            np.put_along_axis(weights, np.broadcast_to(order, on_sorted.shape), on_sorted,
                              axis=-1)
        weights = weights.reshape(q.shape + moved_shape)
        maps.append(np.moveaxis(weights, tuple(range(q.ndim + a.ndim - len(axes), q.ndim + a.ndim)),
                                tuple(q.ndim + ax for ax in axes)).astype(a.dtype))
    return maps[0], maps[1], q.shape, axes


def quantile_second(wrt, v, g, a, q, axis=None, method="linear", keepdims=False,
                    ignore_nan=False, scale=1.0):
    """The second-order maps of ``quantile_grad(g, a, q) = sum_q W g`` and
    ``quantile_q_grad(g, a, q) = sum dW a g`` (the order is piecewise constant:
    only q moves the weights). 'along_q': the first's derivative in q along ``v``
    (and the second's adjoint in a); 'along_a': the second's derivative in a
    along ``v`` (and the first's adjoint in q); 'grad_g', 'q_grad_g': their
    adjoints in g for the cotangent ``v``."""
    a = _floats(a)
    w, dw, q_shape, axes = _quantile_weights(a, q, axis, method, ignore_nan, scale)
    kept = tuple(1 if ax in axes else n for ax, n in enumerate(a.shape))
    gk = np.reshape(g, q_shape + kept) if np.ndim(g) else as_array(g)
    per_q = np.reshape(v, q_shape + (1,) * a.ndim) if wrt in ("along_q", "q_grad_g") else v
    if wrt == "along_q":
        return _fit(np.sum(dw * gk * per_q, axis=tuple(range(len(q_shape)))), a)
    missing = np.isnan(a)       # NaNs have no weight (but 0 * NaN would be NaN)
    a = np.where(missing, 0.0, a)
    if wrt == "along_a":
        return np.sum(dw * gk * np.where(missing, 0.0, v),
                      axis=tuple(len(q_shape) + ax for ax in range(a.ndim)))
    total = np.sum(w * per_q if wrt == "grad_g" else dw * a * per_q,
                   axis=tuple(len(q_shape) + ax for ax in axes), keepdims=True)
    return np.reshape(total, np.shape(g)) if np.ndim(g) else np.sum(total)


# -- running sums -------------------------------------------------------------------------

def cumulative_sum_grad_adjoint(u, g, x, axis=None, include_initial=False):
    """Adjoint of ``cumulative_sum_grad(g, x, axis, include_initial)`` with respect
    to ``g``: a forward running sum of ``u``, with a zero for the initial entry."""
    x = as_array(x)
    ax = 0 if axis is None else axis
    r = np.cumsum(np.broadcast_to(like_array(u, x, g), x.shape), axis=ax)
    if include_initial:     # the initial entry (a zero) gets nothing back
        r = np.concatenate([np.zeros_like(np.take(r, [0], axis=ax)), r], axis=ax)
    return unbroadcast(r, g)


from pullback.runtime.second_order_linalg import (  # noqa: E402 (the rules import them here)
    cholesky_grad_adjoint, cholesky_grad_wrt_l, det_grad_adjoint, det_grad_wrt_a,
    eigvalsh_grad_adjoint, eigvalsh_grad_wrt_a, inv_grad_wrt_y, inv_grad_wrt_y_adjoint,
    matrix_power_grad_wrt_a, slogdet_grad_adjoint, slogdet_grad_wrt_a, solve_grad_a_adjoint,
    solve_grad_b_adjoint, solve_grad_b_wrt_a, solve_grad_b_wrt_a_adjoint)
