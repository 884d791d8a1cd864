"""Run-time helpers of the order statistics (templates/reductions.py: np.median,
np.nanmedian, np.nanquantile, np.nanpercentile): the gradient goes to the
sorted entries the result interpolates (with ties, to the one a stable sort
puts first), and a quantile's gradient with respect to ``q`` is the slope of
the sorted sample between them. The axis steps are those of the reductions.
"""
import numpy as np

from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import as_array, foreign_among, like_array, zeros_of
from pullback.runtime.reductions import _fit, _floats, _to_last, reduced_axes

__all__ = ["quantile_grad", "quantile_q_grad"]


_CONTINUOUS = {     # Hyndman & Fan: virtual index n q + alpha + q (1 - alpha - beta) - 1
    "interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
    "median_unbiased": (1 / 3.0, 1 / 3.0), "normal_unbiased": (3 / 8.0, 3 / 8.0),
}


def _virtual_index(count, q, method):
    """(virtual index, its derivative with respect to q, discrete?) as NumPy's quantile."""
    if method == "linear":
        return (count - 1) * q, (count - 1) * np.ones_like(q), False
    if method in _CONTINUOUS:
        alpha, beta = _CONTINUOUS[method]
        return count * q + (alpha + q * (1 - alpha - beta)) - 1, \
            (count + 1 - alpha - beta) * np.ones_like(q), False
    zero = zeros_of(np.broadcast_shapes(np.shape(count), np.shape(q)), float, q, count)
    if method == "lower":
        return np.floor((count - 1) * q), zero, True
    if method == "higher":
        return np.ceil((count - 1) * q), zero, True
    if method == "nearest":
        return np.around((count - 1) * q), zero, True
    if method == "midpoint":
        return 0.5 * (np.floor((count - 1) * q) + np.ceil((count - 1) * q)), zero, False
    raise NotDifferentiable(f"pullback differentiates quantiles with method 'linear', 'lower', "
                              f"'higher', 'nearest', 'midpoint' or {sorted(_CONTINUOUS)}, "
                              f"not {method!r}")


def _order_statistics(a, q, axis, method, ignore_nan):
    """Where each quantile of each reduced slice of ``a`` reads the sorted slice:
    the two sorted positions and the interpolation weight of the upper one."""
    axes = reduced_axes(axis, a.ndim)
    flat, moved_shape = _to_last(a, axes)
    order = np.argsort(flat, axis=-1, kind="stable")        # NaNs sort last
    n = flat.shape[-1]
    count = np.sum(~np.isnan(flat), axis=-1) if ignore_nan else \
        like_array(np.full(flat.shape[:-1], n), flat)
    q = as_array(q, dtype=np.float64)
    qx = q.reshape(q.shape + (1,) * (flat.ndim - 1))
    virtual, slope, _ = _virtual_index(count, qx, method)
    virtual = np.broadcast_to(virtual, q.shape + flat.shape[:-1])
    slope = np.broadcast_to(slope, virtual.shape)
    count = np.broadcast_to(count, virtual.shape)
    below, above = virtual < 0, virtual >= count - 1
    low = np.floor(virtual)
    gamma = virtual - low
    if method == "midpoint":
        gamma = np.where(gamma == 0, 0.0, 0.5)
    low = np.clip(low, 0, np.maximum(count - 1, 0)).astype(np.intp)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    clipped = below | above
    low = np.where(above, np.maximum(count - 1, 0), low)
    high = np.where(clipped, low, high)
    gamma = np.where(clipped, 0.0, gamma)
    slope = np.where(clipped | (count == 0), 0.0, slope)
    empty = count == 0
    return axes, flat, moved_shape, order, low, high, gamma, slope, empty, q


def quantile_grad(g, a, q, axis=None, method="linear", keepdims=False, ignore_nan=False,
                  scale=1.0):
    """Adjoint of ``np.quantile(a, q / scale, axis, method=method, keepdims=keepdims)``
    (``ignore_nan``: ``np.nanquantile``) with respect to ``a``. ``np.median`` is
    the quantile 0.5; ``np.percentile`` has ``scale=100``."""
    a = _floats(a)
    axes, flat, moved_shape, order, low, high, gamma, _, empty, q = \
        _order_statistics(a, as_array(q, dtype=np.float64) / scale, axis, method, ignore_nan)
    positions = like_array(np.arange(flat.shape[-1]), flat)
    upper = np.where(empty, 0.0, gamma)[..., None]
    lower = np.where(empty, 0.0, 1.0 - gamma)[..., None]
    on_sorted = (positions == low[..., None]) * lower + (positions == high[..., None]) * upper
    if foreign_among(on_sorted, order) is not None:     # gathered through the inverse order:
        ranks = np.argsort(np.broadcast_to(order, on_sorted.shape), axis=-1)    # no writes
        weights = np.take_along_axis(on_sorted, ranks, axis=-1)
    else:
        weights = np.zeros(on_sorted.shape)
        np.put_along_axis(weights, np.broadcast_to(order, on_sorted.shape), on_sorted, axis=-1)
    qd = q.ndim
    weights = weights.reshape(q.shape + moved_shape)
    weights = np.moveaxis(weights, tuple(range(qd + a.ndim - len(axes), qd + a.ndim)),
                          tuple(qd + ax for ax in axes))
    kept = tuple(1 if ax in axes else s for ax, s in enumerate(a.shape))
    g = as_array(g)
    gk = np.reshape(g, q.shape + kept) if g.ndim else g
    return _fit(np.sum(weights.astype(a.dtype) * gk, axis=tuple(range(qd))), a)


def quantile_q_grad(g, a, q, axis=None, method="linear", keepdims=False, ignore_nan=False,
                    scale=1.0):
    """Adjoint of ``np.quantile`` with respect to ``q``: the slope of the sorted
    sample between the two order statistics read (zero for discrete methods)."""
    _, low, q, rate = q_slope(a, q, axis, method, ignore_nan, scale)
    g = as_array(g)
    g = np.broadcast_to(g, low.shape) if g.ndim == 0 else np.reshape(g, low.shape)
    return np.sum(g * rate, axis=tuple(range(q.ndim, low.ndim))) / scale


def q_slope(a, q, axis, method, ignore_nan, scale):
    """``(axes, low, q, rate)``: how fast np.quantile's value moves with ``q``,
    per order statistic read: the slope of the sorted sample between the two
    read (zero for the discrete methods and where ``q`` is clipped)."""
    a = _floats(a)
    axes, flat, _, order, low, high, _, slope, _, q = \
        _order_statistics(a, as_array(q, dtype=np.float64) / scale, axis, method, ignore_nan)
    ordered = np.take_along_axis(flat, order, axis=-1)
    ordered = np.broadcast_to(ordered, low.shape + ordered.shape[-1:])
    step = np.take_along_axis(ordered, high[..., None], -1)[..., 0] \
        - np.take_along_axis(ordered, low[..., None], -1)[..., 0]
    return axes, low, q, slope * np.where(slope == 0, 0.0, step)
