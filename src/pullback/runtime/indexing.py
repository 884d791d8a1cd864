"""Run-time helpers of the indexing, sorting and constructor rules
(templates/indexing.py, templates/constructors.py).

Like :mod:`pullback.runtime`, this is the bottom layer: generated modules
import these helpers, and they import nothing from pullback but the runtime.
Each one sends a gradient back to where the values came from: through an
index (``untake``), a sorting permutation (``unsort``), the two order
statistics a quantile interpolates (``unquantile``), or the weights of an
evenly spaced grid (``linspace_grad``).
"""
import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast
from pullback.runtime.arrays import (add_at_unbuffered, as_array, foreign_among, is_foreign_array,
                                     like_array, refuse_lazy_selection, size_of, zeros_of)
from pullback.runtime.declare import helper

__all__ = [
    "untake", "untake_along_axis", "unextract", "unchoose", "unsort", "unpartition", "ununique",
    "unquantile", "quantile_q_grad", "linspace_grad", "logspace_grad", "logspace_base_grad",
    "geomspace_grad", "arange_grad",
]


# -- shared steps ----------------------------------------------------------------

def _zeros_for(x, *others):
    """A writable zero gradient of x's shape, in x's floating dtype (else float64),
    of the array type of x or of ``others`` where one is another library's."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        dtype = np.float64
    return zeros_of(np.shape(x), dtype, x, *others)


def _gradient_of(x, gradient):
    """``gradient`` in the form of ``x``: an array for an array, a number for
    a number (a Python float, or the NumPy scalar type of a NumPy scalar); an
    array of another library's stays one (of x's library where x is one)."""
    if isinstance(x, np.ndarray):
        return gradient
    if is_foreign_array(x) or is_foreign_array(gradient):
        gradient = like_array(gradient, x)
        return np.reshape(gradient, ()) if np.ndim(x) == 0 else gradient
    gradient = np.asarray(gradient)
    if isinstance(x, np.generic) and x.dtype.kind in "fc":
        return x.dtype.type(gradient.reshape(()))
    if np.ndim(x) == 0:
        return float(gradient.reshape(()))
    return gradient


def _unflattened(total, flat):
    """``total`` after writes into ``flat = total.reshape(-1)``: a NumPy array saw
    them through the view; another library's may have no views (Dask)."""
    return total if type(total) is np.ndarray else flat.reshape(total.shape)


def _normalize_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def _wrap_indices(indices, length, mode):
    """The positions ``np.take(..., mode=mode)`` reads: 'wrap' and 'clip'
    bring out-of-range indices back into [0, length)."""
    indices = as_array(indices)
    if mode == "wrap":
        return np.mod(indices, length)
    if mode == "clip":
        return np.clip(indices, 0, length - 1)
    return indices


# -- gathering: take, take_along_axis, compress, extract, choose -----------------

@helper(returns_new=True)
def untake(g, a, indices, axis=None, mode="raise"):
    """The gradient of ``a`` from the gradient ``g`` of ``np.take(a, indices, axis)``.

    Every index sends its part of ``g`` back; repeated indices add up.

    >>> untake(np.array([1.0, 2.0, 3.0]), np.zeros(4), [0, 3, 0])
    array([4., 0., 0., 2.])
    """
    total = _zeros_for(a, g)
    construct = "The gradient of np.take (repeated indices add up: np.add.at)"
    if axis is None:
        flat = total.reshape(-1)
        flat = add_at_unbuffered(flat, _wrap_indices(indices, flat.size, mode), g, construct)
        return _gradient_of(a, _unflattened(total, flat))
    axis = _normalize_axis(axis, total.ndim)
    position = (slice(None),) * axis + (_wrap_indices(indices, total.shape[axis], mode),)
    return _gradient_of(a, add_at_unbuffered(total, position, g, construct))


@helper(returns_new=True)
def untake_along_axis(g, arr, indices, axis=-1):
    """The gradient of ``arr`` from that of ``np.take_along_axis(arr, indices, axis)``."""
    total = _zeros_for(arr, g)
    construct = "The gradient of np.take_along_axis (repeated indices add up: np.add.at)"
    if axis is None:
        flat = add_at_unbuffered(total.reshape(-1), as_array(indices), g, construct)
        return _gradient_of(arr, _unflattened(total, flat))
    ndim = total.ndim
    axis = _normalize_axis(axis, ndim)
    # The same fancy index NumPy builds: indices along `axis`, aranges elsewhere
    # (they broadcast like take_along_axis broadcasts arr against indices).
    position = tuple(as_array(indices) if dim == axis else
                     np.arange(n).reshape((1,) * dim + (n,) + (1,) * (ndim - dim - 1))
                     for dim, n in enumerate(total.shape))
    return _gradient_of(arr, add_at_unbuffered(total, position, g, construct))


@helper(returns_new=True)
def unextract(g, condition, arr):
    """The gradient of ``arr`` from that of ``np.extract(condition, arr)``
    (the values of ``arr.ravel()`` where ``condition.ravel()`` is nonzero)."""
    for value in (g, arr):
        refuse_lazy_selection(value, "The gradient of np.extract")
    total = _zeros_for(arr, g)
    flat = total.reshape(-1)        # written, then reshaped back (no views in every library)
    flat[like_array(np.flatnonzero(condition), flat)] = g
    return _gradient_of(arr, _unflattened(total, flat))


def unchoose(g, a, choices, mode="raise"):
    """The gradients of ``choices`` from that of ``np.choose(a, choices)``:
    choice k receives ``g`` where ``a`` picked k, summed over the axes
    broadcasting added. A list (or tuple) of choices gets a list of gradients,
    an array of choices an array."""
    picked = _wrap_indices(a, len(choices), mode)
    zero = np.result_type(g, np.float32).type(0)
    parts = [_gradient_of(choice, unbroadcast(np.where(picked == k, g, zero), choice))
             for k, choice in enumerate(choices)]
    if isinstance(choices, (list, tuple)):
        return parts
    return np.stack([np.broadcast_to(p, np.shape(choices)[1:]) for p in parts])


# -- sorting ------------------------------------------------------------------------

def unsort(g, a, axis=-1):
    """The gradient of ``a`` from that of ``np.sort(a, axis)``: each sorted
    position sends its gradient back to where its value came from.

    >>> unsort(np.array([10.0, 20.0, 30.0]), np.array([2.0, 3.0, 1.0]))
    array([20., 30., 10.])
    """
    if foreign_among(a, g) is not None:     # gathered through the inverse permutation:
        return _gradient_of(a, _unpermute(g, a, np.shape(a), axis))     # no writes
    total = _zeros_for(a)
    if axis is None:
        total.reshape(-1)[np.argsort(a, axis=None)] = np.broadcast_to(g, (total.size,))
    else:
        np.put_along_axis(total, np.argsort(a, axis=axis), np.broadcast_to(g, total.shape),
                          axis=axis)
    return _gradient_of(a, total)


def _unpermute(g, a, shape, axis, from_rank=None):
    """The gradient of ``a`` from ``g`` (``from_rank``: already in sorted order),
    that of values sorted from ``a`` along ``axis`` (None: flattened), gathered
    through the inverse of the sorting permutation: no writes into an array."""
    dtype = _zeros_for(a).dtype
    if axis is None:
        ranks = np.argsort(np.argsort(a, axis=None))
        values = from_rank if from_rank is not None else \
            np.ravel(np.broadcast_to(like_array(g, a), (size_of(a),)))
        return np.reshape(values[ranks], shape).astype(dtype, copy=False)
    ranks = np.argsort(np.argsort(a, axis=axis), axis=axis)
    values = from_rank if from_rank is not None else np.broadcast_to(like_array(g, a), shape)
    return np.take_along_axis(values, ranks, axis=axis).astype(dtype, copy=False)


def unpartition(g, y, a, axis=-1):
    """The gradient of ``a`` from that of ``y``, a permutation of ``a`` along
    ``axis`` (``np.partition``): the value of rank r in ``y`` came from the
    value of rank r in ``a``, so that is where its gradient goes. Equal values
    are interchangeable, so any matching between them is a valid one."""
    a = as_array(a)
    if foreign_among(a, g, y) is not None:      # gathered, not written (see _unpermute)
        g = np.broadcast_to(like_array(g, a), np.shape(y))
        if axis is None:
            from_rank = np.ravel(g)[np.argsort(y, axis=None)]
        else:
            from_rank = np.take_along_axis(g, np.argsort(y, axis=axis), axis=axis)
        return _gradient_of(a, _unpermute(g, a, np.shape(a), axis, from_rank))
    total = _zeros_for(a)
    if axis is None:
        flat = total.reshape(-1)
        flat[np.argsort(a, axis=None)] = np.ravel(np.broadcast_to(g, np.shape(y)))[
            np.argsort(y, axis=None)]
        return _gradient_of(a, total)
    g = np.broadcast_to(g, np.shape(y))
    from_rank = np.take_along_axis(g, np.argsort(y, axis=axis), axis=axis)
    np.put_along_axis(total, np.argsort(a, axis=axis), from_rank, axis=axis)
    return _gradient_of(a, total)


def ununique(g, y, ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The gradient of ``ar`` from that of ``np.unique(ar, ...)``: each unique
    value (or slice along ``axis``) sends its gradient back to the elements
    equal to it, in equal shares, so moving all copies together moves the
    unique value as much. With ``return_*`` flags ``y`` and ``g`` are tuples
    (lists) whose first entry is the unique values; the rest are integers."""
    several = return_index or return_inverse or return_counts
    values, g = (y[0], g[0]) if several else (y, g)
    g = np.broadcast_to(like_array(g, ar), np.shape(values))    # a plain 0 when unused
    _, inverse, counts = np.unique(ar, return_inverse=True, return_counts=True, axis=axis)
    inverse = np.ravel(inverse)
    share = 1.0 / counts[inverse]
    if axis is None:
        total = np.reshape(g[inverse] * share, np.shape(ar))
    else:
        axis = _normalize_axis(axis, np.ndim(ar))
        share = np.reshape(share, (-1,) + (1,) * (np.ndim(ar) - axis - 1))
        total = np.take(g, inverse, axis=axis) * share
    return _gradient_of(ar, total.astype(_zeros_for(ar).dtype, copy=False))


# -- quantiles ----------------------------------------------------------------------

# d(virtual index)/dq of the continuous methods of np.quantile: the index is
# n*q + alpha + q*(1 - alpha - beta) - 1 (Hyndman and Fan); 'linear' is alpha = beta = 1.
_CONTINUOUS_METHODS = {"linear": (1.0, 1.0), "interpolated_inverted_cdf": (0.0, 1.0),
                       "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
                       "median_unbiased": (1.0 / 3.0, 1.0 / 3.0),
                       "normal_unbiased": (3.0 / 8.0, 3.0 / 8.0)}


def _reduced_last(a, axis):
    """``a`` with the reduced axes moved to the end and flattened into one,
    and a function that puts an array of that layout back into a's shape."""
    ndim = a.ndim
    if axis is None:
        reduced = list(range(ndim))
    else:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        reduced = [_normalize_axis(ax, ndim) for ax in axes]
    kept = [i for i in range(ndim) if i not in reduced]
    order = kept + reduced
    kept_shape = tuple(a.shape[i] for i in kept)
    moved = np.transpose(a, order).reshape(kept_shape + (-1,))

    def restore(values):
        values = np.reshape(values, tuple(a.shape[i] for i in order))
        return np.transpose(values, np.argsort(order))

    return moved, restore


def _order_statistics(n, q, method, scale):
    """Where ``np.quantile`` (``np.percentile`` for scale 100) reads the
    sorted values: for each q (flattened), the lower position, the upper one
    (lower + 1, or the same at the ends) and the weight of the upper one.

    The quantile of 0, 1, ..., n-1 is that fractional position itself, so
    NumPy's own index arithmetic decides it, for every method."""
    positions = np.quantile(np.arange(n, dtype=np.float64), np.true_divide(q, scale),
                            method=method)
    positions = np.reshape(positions, -1)
    lower = np.clip(np.floor(positions), 0, n - 1).astype(np.intp)
    upper = np.minimum(lower + 1, n - 1)
    weight = positions - lower
    return lower, upper, weight, positions


def refuse_overwritten_input(overwrite_input):
    """A quantile computed with ``overwrite_input=True`` reordered its input in place."""
    if overwrite_input:
        raise NotDifferentiable("pullback cannot differentiate a quantile computed with "
                                "overwrite_input=True: the input was reordered in place")


def unquantile(g, a, q, axis=None, method="linear", overwrite_input=False, scale=1.0):
    """The gradient of ``a`` from that of ``np.quantile(a, q, axis, ...)``
    (``np.percentile`` with ``scale=100``): each quantile is a weighted
    average of two neighbouring order statistics, and the weights go back,
    through the sorting permutation, to the elements that hold them.

    (With or without keepdims, ``g`` holds the same numbers in the same order.)
    """
    refuse_overwritten_input(overwrite_input)
    array = as_array(a)
    moved, restore = _reduced_last(array, axis)
    n = moved.shape[-1]
    kept_shape = moved.shape[:-1]
    lower, upper, weight, _ = _order_statistics(n, q, method, scale)
    g = np.reshape(g, (lower.size,) + kept_shape)
    weight = np.reshape(weight, (-1,) + (1,) * len(kept_shape))
    # The gradient in sorted coordinates, order statistic first.
    sorted_gradient = zeros_of((n,) + kept_shape, _zeros_for(a).dtype, a, g)
    construct = "The gradient of a quantile (its order statistics' shares added: np.add.at)"
    sorted_gradient = add_at_unbuffered(sorted_gradient, lower, g * (1.0 - weight), construct)
    sorted_gradient = add_at_unbuffered(sorted_gradient, upper, g * weight, construct)
    if is_foreign_array(sorted_gradient):       # gathered, not written (see _unpermute)
        ranks = np.argsort(np.argsort(moved, axis=-1), axis=-1)
        total = np.take_along_axis(np.moveaxis(sorted_gradient, 0, -1), ranks, axis=-1)
        return _gradient_of(a, restore(total))
    total = np.zeros(moved.shape, dtype=sorted_gradient.dtype)
    np.put_along_axis(total, np.argsort(moved, axis=-1), np.moveaxis(sorted_gradient, 0, -1),
                      axis=-1)
    return _gradient_of(a, restore(total))


def quantile_q_grad(g, a, q, axis=None, method="linear", scale=1.0):
    """The gradient of ``q`` from that of ``np.quantile(a, q, ...)``: between
    two order statistics a continuous method moves along the line joining
    them. Discrete methods (lower, nearest, ...) are piecewise constant in q."""
    if method not in _CONTINUOUS_METHODS:
        return _gradient_of(q, _zeros_for(q))
    alpha, beta = _CONTINUOUS_METHODS[method]
    moved, _ = _reduced_last(as_array(a), axis)
    n = moved.shape[-1]
    kept_shape = moved.shape[:-1]
    lower, upper, _, positions = _order_statistics(n, q, method, scale)
    ordered = np.moveaxis(np.sort(moved, axis=-1), -1, 0)
    rise = ordered[upper] - ordered[lower]          # (q, kept...)
    slope = (n + 1.0 - alpha - beta) / scale * ((positions > 0) & (positions < n - 1))
    g = np.reshape(g, (lower.size,) + kept_shape)
    per_q = np.sum(g * rise, axis=tuple(range(1, 1 + len(kept_shape)))) * slope
    gradient = np.reshape(per_q, np.shape(q)).astype(_zeros_for(q).dtype, copy=False)
    return _gradient_of(q, gradient)


# -- evenly spaced grids ------------------------------------------------------------

def _grid_fractions(num, endpoint, ndim, axis):
    """t = 0 ... 1 of ``np.linspace`` (the share of ``stop`` in each point),
    shaped to broadcast against its ``ndim``-dimensional result, whose points
    run along ``axis``; and that axis, counted from the front."""
    div = num - 1 if endpoint else num
    t = np.arange(num, dtype=np.float64) / div if div > 0 else np.zeros(num)
    axis = _normalize_axis(axis, ndim)
    return np.reshape(t, (num,) + (1,) * (ndim - axis - 1)), axis


def _ndmin(value, ndim):
    """``np.array(value, ndmin=ndim)`` without a copy."""
    value = as_array(value)
    return np.reshape(value, (1,) * (ndim - value.ndim) + value.shape)


def _along_grid(value, ndim, axis):
    """``value`` (a start, stop or base) lined up with an ``ndim``-dimensional
    grid whose points run along ``axis``, as NumPy lines it up."""
    return np.expand_dims(_ndmin(value, ndim - 1), axis)


def _no_gradient_for(dtype):
    """An integer dtype floors the points: no gradient flows."""
    return dtype is not None and np.dtype(dtype).kind not in "fc"


def _sum_over_points(bound, values, axis):
    return _gradient_of(bound, unbroadcast(np.sum(values, axis=axis), bound))


def linspace_grad(g, start, stop, num=50, endpoint=True, dtype=None, axis=0, wrt="start"):
    """The gradient of ``start`` (``wrt="start"``) or ``stop`` (``wrt="stop"``)
    from that of ``np.linspace(start, stop, num, endpoint, dtype=dtype, axis=axis)``,
    whose points are ``start + t * (stop - start)``."""
    end = wrt == "stop"
    bound = stop if end else start
    if _no_gradient_for(dtype):
        return _gradient_of(bound, _zeros_for(bound))
    t, axis = _grid_fractions(num, endpoint, np.ndim(g), axis)
    share = (t if end else 1.0 - t).astype(np.result_type(g, np.float32), copy=False)
    return _sum_over_points(bound, g * share, axis)


def logspace_grad(g, y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0,
                  wrt="start"):
    """The gradient of ``start`` (or ``stop``) from that of
    ``y = np.logspace(start, stop, ...) = base ** linspace(start, stop, ...)``:
    ``y * log(base)`` times the share of start (stop) in the exponent."""
    end = wrt == "stop"
    bound = stop if end else start
    if _no_gradient_for(dtype):
        return _gradient_of(bound, _zeros_for(bound))
    ndim = np.ndim(y)
    t, axis = _grid_fractions(num, endpoint, ndim, axis)
    share = t if end else 1.0 - t
    return _sum_over_points(bound, g * y * np.log(_along_grid(base, ndim, axis)) * share, axis)


def logspace_base_grad(g, y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """The gradient of ``base`` from that of ``y = np.logspace(...) = base ** u``:
    ``y * u / base``, summed over the points."""
    if _no_gradient_for(dtype):
        return _gradient_of(base, _zeros_for(base))
    ndim = np.ndim(y)
    # The exponents, laid out as np.logspace lays them out against an array base.
    u = np.linspace(_ndmin(start, ndim - 1), _ndmin(stop, ndim - 1), num, endpoint, axis=axis)
    axis = _normalize_axis(axis, ndim)
    return _sum_over_points(base, g * y * u / _along_grid(base, ndim, axis), axis)


def geomspace_grad(g, y, start, stop, num=50, endpoint=True, dtype=None, axis=0, wrt="start"):
    """The gradient of ``start`` (or ``stop``) from that of
    ``y = np.geomspace(start, stop, ...) = start * (stop / start) ** t``:
    ``y * (1 - t) / start`` (``y * t / stop``)."""
    end = wrt == "stop"
    bound = stop if end else start
    if _no_gradient_for(dtype):
        return _gradient_of(bound, _zeros_for(bound))
    ndim = np.ndim(y)
    t, axis = _grid_fractions(num, endpoint, ndim, axis)
    share = t if end else 1.0 - t
    return _sum_over_points(bound, g * y * share / _along_grid(bound, ndim, axis), axis)


def arange_grad(g, value, dtype=None, wrt="start"):
    """The gradient of ``value``, the ``start`` or the ``step`` (``wrt``) of
    ``np.arange(start, stop, step)``, whose point i is ``start + i * step``;
    the number of points is locally constant."""
    if _no_gradient_for(dtype):
        return _gradient_of(value, _zeros_for(value))
    weights = 1.0 if wrt == "start" else np.arange(size_of(g))
    return _gradient_of(value, np.sum(g * weights))
