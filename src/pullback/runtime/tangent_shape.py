"""Run-time helpers of the tangent (forward-mode) rules of the shape,
joining, indexing and constructor families (templates/shape.py,
templates/joining.py, templates/indexing.py, templates/constructors.py).

A tangent may carry leading *direction* axes (a batch of directions pushed
through one call, runtime/tangents.py): a rule declared ``batched=True``
keeps them in front and counts its own axes from the end. Some helpers here
answer what such a rule needs to know (how many direction axes there are,
an axis counted from the end); the others compute the tangents of the few
functions NumPy has no one-call linear twin for (a partition's permutation,
np.unique's shares, a quantile's pair of order statistics, the grids).

The tangent of a list (or tuple) of values is the list of their tangents,
each with its own direction axes in front; ``tangent_array`` and
``tangent_items`` turn such a list into arrays with the direction axes
first, as NumPy would build the value itself.
"""
import numpy as np

from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import (add_at_unbuffered, as_array, copy_as, foreign_among, size_of,
                                     zeros_of)
from pullback.runtime.declare import helper
from pullback.runtime.indexing import (_CONTINUOUS_METHODS, _along_grid, _grid_fractions,
                                       _ndmin, _no_gradient_for, _order_statistics,
                                       _reduced_last, refuse_overwritten_input)
from pullback.runtime.shape import _INDEX_MODES
from pullback.runtime.tangents import broadcast_tangent, zeros_tangent

__all__ = [
    "lead", "lead_shape", "raised_shape", "from_end", "own_axes", "transpose_axes",
    "reshape_directions", "tangent_array", "tangent_items", "flattened", "promoted_items",
    "lifted_index", "as_lists", "atleast_tangent", "broadcast_tangents", "sum_tangent",
    "pad_mode", "partitioned_tangent", "unique_values_tangent", "quantile_a_tangent",
    "quantile_q_tangent", "linspace_along", "logspace_along", "logspace_base_along",
    "geomspace_along", "arange_along",
]


# -- direction axes and axes counted from the end -------------------------------------

def _is_sequence(value):
    return isinstance(value, (list, tuple))


@helper(shape_only=(0, 1), dtype=False)
def lead(t, x):
    """How many leading direction axes the tangent ``t`` of ``x`` carries (0
    for one direction); ``t`` may be the list of a list's item tangents."""
    while _is_sequence(t) and len(t) and _is_sequence(x) and len(x):
        t, x = t[0], x[0]
    return np.ndim(t) - np.ndim(x)


@helper(shape_only=(0, 1), dtype=False)
def lead_shape(t, x):
    """The shape of the leading direction axes of the tangent ``t`` of ``x``:
    ``()`` for one direction."""
    while _is_sequence(t) and len(t) and _is_sequence(x) and len(x):
        t, x = t[0], x[0]
    return np.shape(t)[:np.ndim(t) - np.ndim(x)]


@helper(shape_only=(0, 1), dtype=False)
def raised_shape(t, x, ndim):
    """The shape of ``x``'s tangent ``t`` with ``x``'s axes raised to ``ndim``
    by axes of length 1 in front of them (behind the direction axes), as
    np.tile raises ``x`` when it has fewer axes than repetitions."""
    return lead_shape(t, x) + (1,) * (ndim - np.ndim(x)) + np.shape(x)


@helper(shape_only=(1,), dtype=False)
def from_end(axis, x):
    """``axis`` (a number, or a tuple or list of them) of ``x`` counted from
    the end, so it names the same axis of a tangent with direction axes in
    front. (Out-of-range axes are left for NumPy to refuse.)"""
    ndim = np.ndim(x)
    if isinstance(axis, (tuple, list)):
        return type(axis)(from_end(a, x) for a in axis)
    axis = int(axis)
    return axis - ndim if 0 <= axis < ndim else axis


@helper(shape_only=(1,), dtype=False)
def own_axes(axis, x):
    """``from_end(axis, x)``, with None meaning every axis of ``x`` (np.flip,
    np.roll)."""
    if axis is None:
        return tuple(range(-np.ndim(x), 0))
    return from_end(axis, x)


@helper(shape_only=(0, 1), dtype=False)
def transpose_axes(t, a, axes):
    """The permutation that applies ``np.transpose(a, axes)`` to the own axes of
    ``a``'s tangent ``t`` and keeps its direction axes in front."""
    n, ndim = lead(t, a), np.ndim(a)
    own = range(ndim)[::-1] if axes is None else [int(k) % ndim for k in axes]
    return tuple(range(n)) + tuple(n + k for k in own)


def reshape_directions(t, a, y, order):
    """The tangent of ``y = np.reshape(a, ..., order)`` (``order`` 'C' or 'F')
    from the tangent ``t`` of ``a``: each direction reshaped in that order
    (the direction axes wait at the end while the own axes are reordered)."""
    t = tangent_array(t, a)
    n = lead(t, a)
    if n == 0 or order == "C":
        return np.reshape(t, np.shape(t)[:n] + np.shape(y), order=order)
    batch = np.shape(t)[:n]
    moved = np.moveaxis(t, tuple(range(n)), tuple(range(-n, 0)))
    out = np.reshape(moved, np.shape(y) + batch, order=order)
    return np.moveaxis(out, tuple(range(-n, 0)), tuple(range(n)))


# -- lists of tangents ------------------------------------------------------------------

@helper(shape_only=(1,), dtype=False)
def tangent_array(t, x):
    """The tangent ``t`` of ``x`` as one array, direction axes first: for a list
    ``x`` (nested lists, numbers) the tangents of its items stacked as
    ``np.array(x)`` stacks the items. An array tangent is returned as it is."""
    if not _is_sequence(t):
        return t
    items = [tangent_array(ti, xi) for ti, xi in zip(t, x)]
    if not items:
        return zeros_of(np.shape(x), float, x)
    n = lead(items[0], x[0])
    return np.stack([as_array(i) for i in items], axis=n)


@helper(shape_only=(1,), dtype=False, new_list=True)
def tangent_items(t, x, flat=False):
    """The tangents of the items of ``x`` (a list, or an array's slices along
    its first axis), each an array with the direction axes first; ``flat``:
    each flattened behind them (np.concatenate(..., axis=None))."""
    if _is_sequence(t):
        items = [tangent_array(ti, xi) for ti, xi in zip(t, x)]
        own = list(x)
    else:
        n = lead(t, x)
        items = list(np.moveaxis(t, n, 0)) if np.ndim(t) > n else []
        own = [as_array(x)[0]] * len(items)
    if flat:
        items = [np.reshape(i, lead_shape(i, xi) + (-1,)) for i, xi in zip(items, own)]
    return items


@helper(shape_only=(1,), dtype=False)
def flattened(t, x):
    """The tangent ``t`` of ``x`` with each direction flattened: the direction
    axes, then one axis (for the functions that work on ``x.ravel()``)."""
    t = tangent_array(t, x)
    return np.reshape(t, lead_shape(t, x) + (-1,))


def _column(item):
    return np.array(item, ndmin=2).T if np.ndim(item) < 2 else item


_PROMOTE = {"1d": np.atleast_1d, "2d": np.atleast_2d, "3d": np.atleast_3d, "column": _column}


@helper(shape_only=(1,), dtype=False, new_list=True)
def promoted_items(t, tup, promote):
    """The tangents of the items of ``tup`` (np.hstack, vstack, dstack,
    column_stack, np.r_, np.c_), each an array with the direction axes
    first, reshaped as its item is raised to at least 1, 2 or 3 dimensions
    (``promote``: "1d", "2d", "3d") or made a column ("column")."""
    items = list(tup) if _is_sequence(tup) else list(as_array(tup))
    raise_to = _PROMOTE[promote]
    return [np.reshape(ti, lead_shape(ti, xi) + np.shape(raise_to(as_array(xi))))
            for ti, xi in zip(tangent_items(t, tup), items)]


@helper(shape_only=(1, 2), dtype=False)
def lifted_index(index, t, x):
    """An index array for ``x`` (np.take_along_axis) with one axis of length 1
    in front for each direction axis of ``x``'s tangent ``t``."""
    return np.reshape(index, (1,) * lead(t, x) + np.shape(index))


def as_lists(t):
    """A tangent of nested lists with its tuples made lists (np.block takes lists only)."""
    if _is_sequence(t):
        return [as_lists(e) for e in t]
    return t


@helper(shape_only=(1, 2), dtype=False)
def atleast_tangent(t, arys, y):
    """The tangent of ``y = np.atleast_1d/2d/3d(*arys)`` from the tuple ``t`` of
    the arguments' tangents: each reshaped to its result (a list for several)."""
    if len(arys) == 1:
        return np.reshape(tangent_array(t[0], arys[0]), lead_shape(t[0], arys[0]) + np.shape(y))
    return [np.reshape(tangent_array(ti, xi), lead_shape(ti, xi) + np.shape(yi))
            for ti, xi, yi in zip(t, arys, y)]


@helper(shape_only=(1, 2), dtype=False, new_list=True)
def broadcast_tangents(t, args, y):
    """The tangents of ``y = np.broadcast_arrays(*args)``: each argument's
    tangent broadcast to its result (read-only views, as the results are)."""
    out = [broadcast_tangent(tangent_array(ti, xi), xi, yi) for ti, xi, yi in zip(t, args, y)]
    return tuple(out) if isinstance(y, tuple) else out


@helper(shape_only=(1, 2), dtype=False, returns_new=True)
def sum_tangent(t, iterable, y):
    """The tangent of the builtin ``sum(iterable)`` (the items only, ``start``
    apart) as ``y``'s: the items' tangents broadcast to ``y`` and added (an
    array's items are its rows)."""
    if _is_sequence(t):
        total = zeros_tangent(y)
        for ti, xi in zip(t, iterable):
            total = total + broadcast_tangent(tangent_array(ti, xi), xi, y)
        return total
    n = lead(t, iterable)
    if np.ndim(iterable) == 0 or np.shape(iterable)[0] == 0:
        return zeros_of(np.shape(t)[:n] + np.shape(y), float, t, y)
    rows = np.sum(t, axis=n)
    return copy_as(broadcast_tangent(rows, as_array(iterable)[0], y))


# -- padding -----------------------------------------------------------------------------

def pad_mode(mode, reflect_type="even"):
    """The mode that pads ``np.pad``'s tangent: 'constant' (zeros: the padding
    is constant_values, whose own tangent is added apart) for 'constant' and
    'empty', the mode itself where the padding copies elements. Refuses the
    modes the adjoint (runtime.shape.unpad) refuses."""
    if mode in ("constant", "empty"):
        return "constant"
    if mode in _INDEX_MODES and (reflect_type == "even" or mode in ("edge", "wrap")):
        return mode
    raise NotDifferentiable(
        f"pullback differentiates np.pad with mode 'constant', 'edge', 'reflect', 'symmetric' "
        f"or 'wrap' (reflect_type='even'), not mode={mode!r}"
        + (f" with reflect_type={reflect_type!r}" if reflect_type != "even" else ""))


# -- permutations: partition, unique ---------------------------------------------------

def partitioned_tangent(t, y, a, axis=-1):
    """The tangent of ``y = np.partition(a, ...)`` (a permutation of ``a`` along
    ``axis``) from ``a``'s tangent ``t``: the value of rank r in ``y`` came
    from the value of rank r in ``a`` (runtime.indexing.unpartition's
    matching, so the two rules are each other's transpose)."""
    t = as_array(t)
    if foreign_among(t, y, a) is not None:      # gathered through the inverse order: no writes
        if axis is None:
            ranked = np.ravel(t)[np.argsort(a, axis=None)]
            return np.reshape(ranked[np.argsort(np.argsort(y, axis=None))], np.shape(y))
        ranked = np.take_along_axis(np.broadcast_to(t, np.shape(a)), np.argsort(a, axis=axis),
                                    axis)
        back = np.argsort(np.argsort(y, axis=axis), axis=axis)
        return np.take_along_axis(ranked, back, axis).astype(_float(t), copy=False)
    if axis is None:
        out = np.empty(np.shape(y), dtype=_float(t))
        out.reshape(-1)[np.argsort(y, axis=None)] = np.ravel(t)[np.argsort(a, axis=None)]
        return out
    ranked = np.take_along_axis(np.broadcast_to(t, np.shape(a)), np.argsort(a, axis=axis), axis)
    out = np.empty(np.shape(y), dtype=_float(t))
    np.put_along_axis(out, np.argsort(y, axis=axis), ranked, axis=axis)
    return out


def _float(t):
    dtype = np.result_type(t)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


_COPIES = "The tangent of np.unique's values (each the mean of its copies: np.add.at)"


def unique_values_tangent(t, y, ar, return_index=False, return_inverse=False, return_counts=False,
                   axis=None):
    """The tangent of ``y = np.unique(ar, ...)`` from ``ar``'s tangent ``t``: each
    unique value (or slice along ``axis``) moves by the mean of its copies'
    tangents (runtime.indexing.ununique gives each copy an equal share). With
    ``return_*`` flags ``y`` is a tuple; its integer parts get zero tangents."""
    several = return_index or return_inverse or return_counts
    values = y[0] if several else y
    _, inverse, counts = np.unique(ar, return_inverse=True, return_counts=True, axis=axis)
    inverse = np.ravel(inverse)
    t = as_array(t, dtype=_float(t))
    if axis is None:
        total = add_at_unbuffered(zeros_of(len(counts), t.dtype, t), inverse, np.ravel(t),
                                  _COPIES)
        moved = total / counts
    else:
        axis = int(axis) % np.ndim(ar)
        along = np.moveaxis(t, axis, 0)
        total = zeros_of((len(counts),) + along.shape[1:], t.dtype, t)
        total = add_at_unbuffered(total, inverse, along, _COPIES)
        share = np.reshape(counts, (-1,) + (1,) * (along.ndim - 1))
        moved = np.moveaxis(total / share, 0, axis)
    moved = np.reshape(moved, np.shape(values))
    if not several:
        return moved
    return (moved,) + tuple(zeros_tangent(part) for part in y[1:])


# -- quantiles ----------------------------------------------------------------------------

def quantile_a_tangent(t, y, a, q, axis=None, method="linear", overwrite_input=False, scale=1.0):
    """The tangent of ``y = np.quantile(a, q, axis, method=...)`` (np.percentile:
    ``scale=100``) along ``a``'s tangent ``t``: each quantile is a weighted
    average of two neighbouring order statistics (runtime.indexing.unquantile's
    weights, so the rules are each other's transpose)."""
    refuse_overwritten_input(overwrite_input)
    array = as_array(a)
    moved, _ = _reduced_last(array, axis)
    n = moved.shape[-1]
    tangent, _ = _reduced_last(np.broadcast_to(as_array(t, dtype=_float(t)), array.shape), axis)
    lower, upper, weight, _ = _order_statistics(n, q, method, scale)
    ordered = np.moveaxis(np.take_along_axis(tangent, np.argsort(moved, axis=-1), axis=-1), -1, 0)
    weight = np.reshape(weight, (-1,) + (1,) * (ordered.ndim - 1))
    out = ordered[lower] * (1.0 - weight) + ordered[upper] * weight     # (q..., kept...)
    return np.reshape(out.astype(tangent.dtype, copy=False), np.shape(y))


def quantile_q_tangent(t, y, a, q, axis=None, method="linear", scale=1.0):
    """The tangent of ``y = np.quantile(a, q, ...)`` along ``q``'s tangent ``t``:
    between two order statistics a continuous method moves along the line
    joining them; discrete methods are piecewise constant in q (zero)."""
    dtype = _float(as_array(a))
    if method not in _CONTINUOUS_METHODS:
        return zeros_of(np.shape(y), dtype, a, t)
    alpha, beta = _CONTINUOUS_METHODS[method]
    moved, _ = _reduced_last(as_array(a), axis)
    n = moved.shape[-1]
    lower, upper, _, positions = _order_statistics(n, q, method, scale)
    ordered = np.moveaxis(np.sort(moved, axis=-1), -1, 0)
    rise = ordered[upper] - ordered[lower]          # (q, kept...)
    slope = (n + 1.0 - alpha - beta) / scale * ((positions > 0) & (positions < n - 1))
    per_q = np.ravel(np.broadcast_to(t, np.shape(q))) * slope
    out = rise * np.reshape(per_q, (-1,) + (1,) * (rise.ndim - 1))
    return np.reshape(out.astype(dtype, copy=False), np.shape(y))


# -- evenly spaced grids -----------------------------------------------------------------
# As runtime.indexing's adjoints weigh them: point k of a grid holds the share
# 1 - f_k of its start and f_k of its stop (f_k = k / (num - 1), or k / num
# without the end point); an integer dtype floors the points (zero tangent).

def _moved(t, y, num, endpoint, axis, share):
    """The end point's tangent ``t`` lined up with the grid ``y`` and weighed by
    its share in each point (``share`` "start" or "stop"); and the grid's axis."""
    ndim = np.ndim(y)
    fractions, axis = _grid_fractions(num, endpoint, ndim, axis)
    weights = fractions if share == "stop" else 1.0 - fractions
    return _along_grid(t, ndim, axis) * weights, axis


def _as_grid(moved, y):
    out = np.broadcast_to(moved, np.shape(y))
    return copy_as(out, np.result_type(out, np.float32))


def linspace_along(t, y, num, endpoint, dtype, axis, share):
    """The tangent of ``y = np.linspace(start, stop, ...)`` along the tangent
    ``t`` of its start or stop (``share``)."""
    if _no_gradient_for(dtype):
        return zeros_tangent(y)
    return _as_grid(_moved(t, y, num, endpoint, axis, share)[0], y)


def logspace_along(t, y, base, num, endpoint, dtype, axis, share):
    """The tangent of ``y = np.logspace(start, stop, ..., base) = base ** u``
    along the tangent ``t`` of its start or stop: ``y log(base)`` times the
    exponent's tangent."""
    if _no_gradient_for(dtype):
        return zeros_tangent(y)
    moved, axis = _moved(t, y, num, endpoint, axis, share)
    return _as_grid(moved * y * np.log(_along_grid(base, np.ndim(y), axis)), y)


def logspace_base_along(t, y, start, stop, num, endpoint, base, dtype, axis):
    """The tangent of ``y = np.logspace(...) = base ** u`` along the tangent
    ``t`` of ``base``: ``y u / base`` times it."""
    if _no_gradient_for(dtype):
        return zeros_tangent(y)
    ndim = np.ndim(y)
    u = np.linspace(_ndmin(start, ndim - 1), _ndmin(stop, ndim - 1), num, endpoint, axis=axis)
    axis = int(axis) % ndim
    return _as_grid(_along_grid(t, ndim, axis) * y * u / _along_grid(base, ndim, axis), y)


def geomspace_along(t, bound, y, num, endpoint, dtype, axis, share):
    """The tangent of ``y = np.geomspace(start, stop, ...) = start (stop / start) ** f``
    along the tangent ``t`` of ``bound``, its start or stop (``share``):
    ``y (1 - f) / start`` (``y f / stop``) times it."""
    if _no_gradient_for(dtype):
        return zeros_tangent(y)
    moved, axis = _moved(t, y, num, endpoint, axis, share)
    return _as_grid(moved * y / _along_grid(bound, np.ndim(y), axis), y)


def arange_along(t, y, dtype=None, wrt="start"):
    """The tangent of ``y = np.arange(start, stop, step)`` along the tangent
    ``t`` of its ``start`` (every point moves by t) or ``step`` (point i by
    i t); the number of points is locally constant."""
    if _no_gradient_for(dtype):
        return zeros_tangent(y)
    weights = np.ones(size_of(y)) if wrt == "start" else np.arange(size_of(y), dtype=np.float64)
    return weights * t
