"""Run-time helpers of the reduction rules (templates/reductions.py).

Generated derivative code imports these, like the helpers of
``pullback.runtime``; they use NumPy only. Every helper takes the adjoint of
the result first (``g``), then the primal values and the call's arguments,
and returns the adjoint of the input, with the input's shape.

Shared steps: ``reduced_axes`` normalizes ``axis`` (None, an int, a negative
int, a tuple) to the sorted tuple of axes the reduction removes;
``restore_axes`` puts those axes back as length-1 axes (unless ``keepdims``
kept them), so the gradient broadcasts against the input.

Conventions at the kinks:

* max/min (and ptp, nanmax/nanmin, the inf-norms, matrix 1/inf-norms): the
  gradient is split evenly among tied extremes, like ``np.maximum``'s rule.
* prod, cumprod: exact with zeros in the input (no division by the input
  where it holds a zero).
* median and quantiles (``pullback.runtime.quantiles``): the gradient goes
  to the order statistics that the result interpolates (with ties, to the one
  a stable sort puts first).
* norms at zero: the 2-norm and Frobenius norm give 0 there (a subgradient).
"""
import operator

import numpy as np

from pullback.runtime.arrays import as_array, foreign_among, like_array, ones_of, zeros_like
from pullback.runtime.declare import helper

__all__ = [
    "reduced_axes", "restore_axes", "prod_grad", "extreme_grad", "ptp_grad", "var_grad",
    "std_grad", "cumsum_grad", "cumprod_grad", "cumulative_sum_grad", "cumulative_prod_grad",
    "nan_mask_grad", "nanmean_grad", "nanprod_grad", "nancumsum_grad", "nancumprod_grad",
    "average_grad", "average_weights_grad", "norm_grad",
]


# -- axes ------------------------------------------------------------------------------

def _floats(a):
    a = as_array(a)
    return a if a.dtype.kind in "fc" else a.astype(np.float64)


def _normalize(axis, ndim):
    axis = operator.index(axis)
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim if ndim else 0


def _axis_tuple(axis, ndim):
    """``axis`` as a tuple of non-negative ints, in the order given."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(_normalize(ax, ndim) for ax in axes)


def reduced_axes(axis, ndim):
    """The axes a reduction over ``axis`` removes: a sorted tuple of non-negative ints."""
    return tuple(sorted(set(_axis_tuple(axis, ndim))))


def restore_axes(g, ndim, axes, keepdims=False):
    """``g`` (shaped like a reduction's result) with the reduced ``axes`` put back
    as length-1 axes, so that it broadcasts against the ``ndim``-dimensional input."""
    g = as_array(g)
    if keepdims or not axes or g.ndim != ndim - len(axes):
        return g        # axes kept, nothing reduced, or a scalar cotangent that broadcasts
    return np.expand_dims(g, axes)


def _fit(r, a):
    """The gradient in the shape of ``a`` (a view when it only broadcasts), of
    ``a``'s array type."""
    return np.broadcast_to(like_array(r, a), np.shape(a))


def _part(g, hit, y, axes, dtype):
    """Each entry's share of ``g``: split evenly among the k entries of
    ``hit`` along ``axes``. Counting takes a pass over ``hit`` unless there
    is one entry per result (no ties; a result that is not NaN equals an
    entry of its group, so no group is empty)."""
    if isinstance(hit, (np.ndarray, np.generic)) and np.count_nonzero(hit) == np.size(y) \
            and not np.isnan(y).any():
        return as_array(g).astype(dtype, copy=False)       # (another library's is not asked)
    if not axes:
        count = hit.astype(np.intp)
    elif isinstance(hit, np.ndarray):
        count = np.count_nonzero(hit, axis=axes, keepdims=True)
    else:       # (Dask's count_nonzero has no keepdims)
        count = np.sum(hit, axis=axes, keepdims=True, dtype=np.intp)
    return (as_array(g) / np.maximum(count, 1)).astype(dtype, copy=False)


def _share(hit, axes, dtype):
    """Weights 1/k for each of the k entries of ``hit`` along ``axes`` (0 elsewhere)."""
    count = np.sum(hit, axis=axes, keepdims=True)
    return (hit / np.maximum(count, 1)).astype(dtype)


def _to_last(a, axes):
    """``a`` with ``axes`` moved to the end and merged into one: ``(flat, moved_shape)``."""
    nd, k = a.ndim, len(axes)
    moved = np.moveaxis(a, axes, tuple(range(nd - k, nd)))
    return moved.reshape(moved.shape[:nd - k] + (-1,)), moved.shape


def _from_last(r, moved_shape, axes):
    nd, k = len(moved_shape), len(axes)
    return np.moveaxis(np.reshape(r, moved_shape), tuple(range(nd - k, nd)), axes)


def _reverse_cumsum(g, axis):
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


# -- products ------------------------------------------------------------------------

def _others_product(a, axes):
    """For each entry, the product of the other entries of its reduced slice.

    Left and right running products, so an exact zero in the slice is no
    problem (no division).
    """
    flat, moved_shape = _to_last(a, axes)
    if flat.shape[-1] == 0:
        return zeros_like(a)
    ones = ones_of(flat.shape[:-1] + (1,), flat.dtype, flat)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([flat[..., 1:], ones], axis=-1), -1),
                               axis=-1), -1)
    return _from_last(left * right, moved_shape, axes)


def prod_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.prod(a, axis, keepdims=keepdims)``; exact with zeros in ``a``."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    return _fit(restore_axes(g, a.ndim, axes, keepdims) * _others_product(a, axes), a)


def nanprod_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanprod``: NaNs count as 1 and get no gradient."""
    a = _floats(a)
    missing = np.isnan(a)
    grad = prod_grad(g, np.where(missing, 1.0, a).astype(a.dtype), axis, keepdims)
    return np.where(missing, 0.0, grad).astype(grad.dtype)


def cumprod_grad(g, a, y, axis=None):
    """Adjoint of ``np.cumprod(a, axis)`` (``axis=None``: over the flattened ``a``).

    Without zeros in ``a``: a reverse running sum of ``g * y``, divided by ``a``.
    With zeros: the exact recurrence ``S_j = g_j + a_{j+1} S_{j+1}``,
    ``grad_j = prod(a_<j) * S_j``, one step per position along the axis.
    """
    a = _floats(a)
    if axis is None:
        flat = a.reshape(-1)
        g = np.broadcast_to(as_array(like_array(g, a)), flat.shape)
        return cumprod_grad(g, flat, np.reshape(y, flat.shape), 0).reshape(a.shape)
    ax = _normalize(axis, a.ndim)
    g = np.broadcast_to(as_array(like_array(g, a)), a.shape)
    foreign = foreign_among(a, g) is not None       # not asked whether a holds zeros
    if not foreign and np.all(a != 0):
        return _reverse_cumsum(g * as_array(y), ax) / a
    moved_a = np.moveaxis(a, ax, -1)
    moved_g = np.moveaxis(g, ax, -1)
    n = moved_a.shape[-1]
    if foreign:         # the recurrence without writes into an array
        parts = [moved_g[..., n - 1]]
        for j in range(n - 2, -1, -1):
            parts.append(moved_g[..., j] + moved_a[..., j + 1] * parts[-1])
        running = np.stack(parts[::-1], axis=-1)
    else:
        running = np.empty(moved_a.shape, np.result_type(moved_a, moved_g))
        running[..., n - 1] = moved_g[..., n - 1]
        for j in range(n - 2, -1, -1):
            running[..., j] = moved_g[..., j] + moved_a[..., j + 1] * running[..., j + 1]
    ones = ones_of(moved_a.shape[:-1] + (1,), moved_a.dtype, moved_a)
    before = np.cumprod(np.concatenate([ones, moved_a[..., :-1]], axis=-1), axis=-1)
    return np.moveaxis(before * running, -1, ax)


def nancumprod_grad(g, a, y, axis=None):
    """Adjoint of ``np.nancumprod``: NaNs count as 1 and get no gradient."""
    a = _floats(a)
    missing = np.isnan(a)
    grad = cumprod_grad(g, np.where(missing, 1.0, a).astype(a.dtype), y, axis)
    return np.where(missing, 0.0, grad).astype(grad.dtype)


def cumulative_prod_grad(g, x, y, axis=None, include_initial=False):
    """Adjoint of ``np.cumulative_prod`` (NumPy 2.1+)."""
    x = _floats(x)
    ax = 0 if axis is None else _normalize(axis, x.ndim)
    g, y = as_array(g), as_array(y)
    if include_initial:
        n = x.shape[ax]
        g = np.take(g, np.arange(1, n + 1), axis=ax)
        y = np.take(y, np.arange(1, n + 1), axis=ax)
    return cumprod_grad(g, x, y, ax)


# -- sums ----------------------------------------------------------------------------

def cumsum_grad(g, a, axis=None):
    """Adjoint of ``np.cumsum(a, axis)``: a reverse running sum of ``g``."""
    a = as_array(a)
    g = as_array(like_array(g, a))
    if axis is None:
        g = np.broadcast_to(g, (a.size,))
        return _reverse_cumsum(g, 0).reshape(a.shape)
    g = np.broadcast_to(g, a.shape)
    return _reverse_cumsum(g, _normalize(axis, a.ndim))


def nancumsum_grad(g, a, axis=None):
    """Adjoint of ``np.nancumsum``: NaNs count as 0 and get no gradient."""
    grad = cumsum_grad(g, a, axis)
    return np.where(np.isnan(a), 0.0, grad).astype(grad.dtype)


def cumulative_sum_grad(g, x, axis=None, include_initial=False):
    """Adjoint of ``np.cumulative_sum`` (NumPy 2.1+)."""
    x = as_array(x)
    ax = 0 if axis is None else _normalize(axis, x.ndim)
    g = as_array(g)
    if include_initial:
        g = np.take(g, np.arange(1, x.shape[ax] + 1), axis=ax)
    return cumsum_grad(g, x, ax)


def nan_mask_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nansum``: the sum's gradient, zero at NaN entries."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    return _fit(restore_axes(g, a.ndim, axes, keepdims) * (~np.isnan(a)).astype(a.dtype), a)


def nanmean_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanmean``: 1/(number of non-NaN entries), zero at NaNs."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    return _fit(restore_axes(g, a.ndim, axes, keepdims) * _share(~np.isnan(a), axes, a.dtype), a)


# -- extremes ------------------------------------------------------------------------

@helper(adds_into="add_to")
def extreme_grad(g, a, y, axis=None, keepdims=False, add_to=None):
    """Adjoint of ``np.max``/``np.min`` (and their NaN-ignoring twins): the
    gradient goes to the entries equal to the result, split evenly among ties.

    ``add_to``: a gradient of ``a`` to add this one to, in place when it is
    an array of ``a``'s shape and type that the caller owns (the generated
    code passes it only then): no array the size of ``a`` is made.
    """
    if axis is None and add_to is None and type(a) is np.ndarray and a.dtype == np.float64 \
            and type(g) in (float, np.float64) and type(y) is np.float64:
        # the common case, np.max(x) of a float64 array, in a fraction of the time
        hit = a == y
        if np.count_nonzero(hit) == 1:          # one largest entry (not NaN: NaN equals none)
            return hit * g
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    hit = a == restore_axes(y, a.ndim, axes, keepdims)
    part = _part(restore_axes(g, a.ndim, axes, keepdims), hit, y, axes, a.dtype)
    if add_to is None:
        return _fit(hit * part, a)
    if type(add_to) is np.ndarray and add_to.shape == a.shape and add_to.flags.writeable \
            and np.result_type(add_to, part) == add_to.dtype:
        return np.add(add_to, part, out=add_to, where=hit)
    return add_to + _fit(hit * part, a)


def ptp_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.ptp`` (max - min)."""
    a = _floats(a)
    top = np.max(a, axis=axis, keepdims=keepdims)
    bottom = np.min(a, axis=axis, keepdims=keepdims)
    return extreme_grad(g, a, top, axis, keepdims) - extreme_grad(g, a, bottom, axis, keepdims)


# -- moments -------------------------------------------------------------------------

def var_grad(g, a, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    """Adjoint of ``np.var`` (``ignore_nan``: ``np.nanvar``): 2 (a - mean) / (n - ddof)."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    if ignore_nan:
        present = ~np.isnan(a)
        count = np.sum(present, axis=axes, keepdims=True)
        mean = np.sum(np.where(present, a, 0.0), axis=axes, keepdims=True) / np.maximum(count, 1)
        centered = np.where(present, a - mean, 0.0).astype(a.dtype)
        centered -= np.where(present, np.sum(centered, axis=axes, keepdims=True)
                             / np.maximum(count, 1), 0.0).astype(a.dtype)
        scale = (2.0 / np.maximum(count - ddof, 1)).astype(a.dtype)
    else:
        count = int(np.prod([a.shape[ax] for ax in axes]))
        centered = a - np.mean(a, axis=axes, keepdims=True)
        # The rounding error of the mean, taken out again (two-pass): equal
        # values then get a gradient summing to 0, as var and std are
        # shift-invariant (np.std(np.full(3, 0.1)) is 1e-17, not 0).
        centered -= np.mean(centered, axis=axes, keepdims=True)
        scale = 2.0 / (count - ddof)
    return _fit(restore_axes(g, a.ndim, axes, keepdims) * centered * scale, a)


def std_grad(g, a, y, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    """Adjoint of ``np.std`` (``np.nanstd``): the variance's, times 1 / (2 std).

    Where the spread is exactly 0 (one element, an axis of length 1, equal
    values) std has a kink (std(c + t v) = |t| std(v)); its subgradient 0 is
    taken there, as for ``np.var``, rather than 0 * inf = NaN.
    """
    g, y = as_array(g), as_array(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = g / (2.0 * y)
    scaled = np.where(y == 0, np.zeros_like(scaled), scaled)
    return var_grad(scaled, a, axis, ddof, keepdims, ignore_nan)


# -- weighted averages ---------------------------------------------------------------

def _average_weights(a, weights, axis):
    """``weights`` as ``np.average`` uses them: broadcastable against ``a``."""
    w = as_array(weights)
    if w.shape == a.shape:
        return w
    axes = _axis_tuple(axis, a.ndim)
    w = w.transpose(np.argsort(axes))
    return w.reshape(tuple(s if ax in axes else 1 for ax, s in enumerate(a.shape)))


def average_grad(g, a, y, axis=None, weights=None, keepdims=False):
    """Adjoint of ``np.average(a, axis, weights, keepdims=...)`` with respect to ``a``."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    gk = restore_axes(g, a.ndim, axes, keepdims)
    if weights is None:
        count = int(np.prod([a.shape[ax] for ax in axes]))
        return _fit(gk * (1.0 / count), a)
    w = _average_weights(a, weights, axis)
    return _fit(gk * (w / np.sum(w, axis=axes, keepdims=True)), a)


def average_weights_grad(g, a, y, axis=None, weights=None, keepdims=False):
    """Adjoint of ``np.average(a, axis, weights, keepdims=...)`` with respect to
    ``weights``: (a - average) / sum(weights), summed back to the weights' shape."""
    a = _floats(a)
    w = as_array(weights)
    axes = reduced_axes(axis, a.ndim)
    full = _average_weights(a, w, axis)
    scale = np.sum(full, axis=axes, keepdims=True)
    grad = restore_axes(g, a.ndim, axes, keepdims) * (a - restore_axes(y, a.ndim, axes, keepdims)) \
        / scale
    grad = np.broadcast_to(grad, a.shape)
    if w.shape == a.shape:
        return grad
    given = _axis_tuple(axis, a.ndim)
    summed = np.sum(grad, axis=tuple(ax for ax in range(a.ndim) if ax not in given))
    return summed.transpose(np.argsort(np.argsort(given)))


# -- norms ---------------------------------------------------------------------------

def _is_fro(ord):
    return isinstance(ord, str) and ord in ("f", "fro")


def _nonzero(y):
    """``y`` with zeros replaced by ones: x / y is then 0 where the 2-norm is 0."""
    return np.where(y == 0, 1, y)


def _vector_norm_grad(g, x, y, ord, ax, keepdims):
    axes = (ax,)
    gk = restore_axes(g, x.ndim, axes, keepdims)
    yk = restore_axes(y, x.ndim, axes, keepdims)
    if ord is None or ord == 2:
        return gk * (x / _nonzero(yk))
    if isinstance(ord, str):
        raise ValueError(f"invalid norm order {ord!r} for vectors")
    if ord == 0:
        return zeros_like(x)
    magnitude = np.abs(x)
    if np.isinf(ord):
        extreme = np.max(magnitude, axis=ax, keepdims=True) if ord > 0 else \
            np.min(magnitude, axis=ax, keepdims=True)
        return gk * np.sign(x) * _share(magnitude == extreme, axes, x.dtype)
    if ord == 1:
        return gk * np.sign(x)
    p = float(ord)
    # At x = 0 (y = 0) the subgradient 0, as for the 2-norm (p < 1 would give 0 * inf).
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = gk * np.sign(x) * (magnitude / _nonzero(yk)) ** (p - 1)
    return np.where(yk == 0, x.dtype.type(0), slope)


def _matrix_norm_grad(g, x, y, ord, row, col, keepdims):
    axes = tuple(sorted((row, col)))
    gk = restore_axes(g, x.ndim, axes, keepdims)
    if ord is None or _is_fro(ord):
        return gk * (x / _nonzero(restore_axes(y, x.ndim, axes, keepdims)))
    if (isinstance(ord, str) and ord == "nuc") or (not isinstance(ord, str) and ord in (2, -2)):
        u, _, vt = np.linalg.svd(np.moveaxis(x, (row, col), (-2, -1)), full_matrices=False)
        if isinstance(ord, str):
            direction = u @ vt                  # the nuclear norm: sum of singular values
        else:                                   # singular values come in descending order
            pick = slice(0, 1) if ord == 2 else slice(-1, None)
            direction = u[..., :, pick] @ vt[..., pick, :]
        return gk * np.moveaxis(direction, (-2, -1), (row, col)).astype(x.dtype)
    if isinstance(ord, str):
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    if ord in (1, -1):          # max (min) over columns of the column sums of |x|
        summed, over = row, col
    elif np.isinf(ord):         # max (min) over rows of the row sums of |x|
        summed, over = col, row
    else:
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    sums = np.sum(np.abs(x), axis=summed, keepdims=True)
    extreme = np.max(sums, axis=over, keepdims=True) if ord > 0 else \
        np.min(sums, axis=over, keepdims=True)
    return gk * np.sign(x) * _share(sums == extreme, (over,), x.dtype)


def norm_grad(g, x, y, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm(x, ord, axis, keepdims)``: vector norms
    (2, 1, inf, -inf, 0, any p) and matrix norms ('fro', 'nuc', 2, -2, 1, -1,
    inf, -inf), batched over the axes not reduced."""
    if ord is None and axis is None and not keepdims and type(x) is np.ndarray \
            and x.dtype == np.float64 and type(g) in (float, np.float64) and type(y) is np.float64:
        return g * (x / (y if y != 0 else 1.0))    # the 2-norm of all of x: the general way, quicker
    x = _floats(x)
    nd = x.ndim
    if axis is None and (ord is None or (_is_fro(ord) and nd == 2)
                         or (not isinstance(ord, str) and ord == 2 and nd == 1)):
        axes = tuple(range(nd))
        gk = restore_axes(g, nd, axes, keepdims)
        yk = restore_axes(y, nd, axes, keepdims)
        return _fit(gk * (x / _nonzero(yk)), x)
    axes = _axis_tuple(axis, nd)
    if len(axes) == 1:
        return _fit(_vector_norm_grad(g, x, y, ord, axes[0], keepdims), x)
    if len(axes) == 2:
        return _fit(_matrix_norm_grad(g, x, y, ord, axes[0], axes[1], keepdims), x)
    raise ValueError("np.linalg.norm reduces one axis (vectors) or two (matrices)")
