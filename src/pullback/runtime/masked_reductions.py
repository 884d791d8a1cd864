"""Run-time helpers of reductions called with ``where=`` (a boolean mask held
constant, broadcastable against the input) or ``initial=`` (templates/reductions.py).

NumPy's semantics: only the entries ``where`` selects take part; a mean,
variance or standard deviation counts only those; ``initial`` is one more
operand of every reduced slice (``np.sum``: added, ``np.prod``: multiplied,
``np.max``: a contestant). An entry ``where`` leaves out gets exactly 0 (also
where the gradient is infinite or NaN), as does a NaN entry of a nan*
reduction (``ignore_nan``).

Ties of ``np.max``/``np.min`` with ``initial``: the gradient is split evenly
among the tied selected entries and ``initial`` (one share each), as
``extreme_grad`` splits it among tied entries; central differences see the
same split whether ``initial`` is differentiated or held constant. When
``initial`` wins alone, no entry gets a gradient.

Each ``*_grad`` helper takes the adjoint of the result first and returns the
input's adjoint, in the input's shape. ``*_share`` helpers give the
derivative of the result with respect to ``initial``, in the result's shape
(its adjoint sums ``g * share``, its tangent is ``initial_tangent``).
"""
import numpy as np

from pullback.runtime.arrays import as_array, copy_as, like_array, zeros_of
from pullback.runtime.declare import helper
from pullback.runtime.reductions import _floats, prod_grad, reduced_axes, restore_axes

__all__ = [
    "sum_where_grad", "mean_where_grad", "prod_where_grad", "prod_initial_share",
    "extreme_where_grad", "extreme_initial_share", "var_where_grad", "std_where_grad",
    "initial_tangent",
]


def _selected(a, where, ignore_nan=False):
    """The entries of ``a`` that take part: ``where`` broadcast to ``a``'s shape,
    less the NaNs when ``ignore_nan``."""
    selected = np.broadcast_to(like_array(as_array(where, dtype=bool), a), a.shape)
    return selected & ~np.isnan(a) if ignore_nan else selected


def _dtype(g, a):
    """The gradient's floating dtype: ``a``'s, promoted with ``g``'s when that is floating."""
    g = as_array(g)
    return np.result_type(g, a) if g.dtype.kind in "fc" else a.dtype


def _restored(value, a, axes, keepdims):
    return restore_axes(as_array(value), a.ndim, axes, keepdims)


def _kept(part, selected, dtype):
    """``part`` where ``selected``, exactly 0 elsewhere, in ``selected``'s shape."""
    return np.where(selected, part, 0).astype(dtype, copy=False)


# -- sums and means ----------------------------------------------------------------------

@helper(returns_new=True)
def sum_where_grad(g, a, axis=None, keepdims=False, where=True, ignore_nan=False):
    """Adjoint of ``np.sum(a, axis, keepdims=keepdims, where=where)``
    (``ignore_nan``: ``np.nansum``): the gradient of each selected entry's slice."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    return _kept(_restored(g, a, axes, keepdims), _selected(a, where, ignore_nan), _dtype(g, a))


@helper(returns_new=True)
def mean_where_grad(g, a, axis=None, keepdims=False, where=True, ignore_nan=False):
    """Adjoint of ``np.mean(a, axis, keepdims=keepdims, where=where)``
    (``ignore_nan``: ``np.nanmean``): 1 / (the number of selected entries of the slice)."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    selected = _selected(a, where, ignore_nan)
    count = np.maximum(np.sum(selected, axis=axes, keepdims=True), 1)
    return _kept(_restored(g, a, axes, keepdims) / count, selected, _dtype(g, a))


# -- products ----------------------------------------------------------------------------

def _ones_outside(a, selected):
    return np.where(selected, a, 1).astype(a.dtype, copy=False)


@helper(returns_new=True)
def prod_where_grad(g, a, axis=None, keepdims=False, initial=None, where=True, ignore_nan=False):
    """Adjoint of ``np.prod(a, axis, keepdims=keepdims, initial=initial, where=where)``
    (``ignore_nan``: ``np.nanprod``) with respect to ``a``: ``initial`` times the
    product of the other selected entries of the slice (exact with zeros)."""
    a = _floats(a)
    selected = _selected(a, where, ignore_nan)
    grad = prod_grad(g, _ones_outside(a, selected), axis, keepdims)
    if initial is not None:
        grad = grad * initial
    return _kept(grad, selected, _dtype(grad, a))


def prod_initial_share(a, axis=None, keepdims=False, where=True, ignore_nan=False):
    """The derivative of ``np.prod(a, ..., initial=initial, where=where)`` with
    respect to ``initial``: the product of the selected entries, per slice."""
    a = _floats(a)
    return np.prod(_ones_outside(a, _selected(a, where, ignore_nan)), axis=axis, keepdims=keepdims)


# -- extremes ----------------------------------------------------------------------------

def _contest(a, y, axis, keepdims, initial, where):
    """The selected entries equal to the result (``hit``), whether ``initial``
    equals it too (``tied``, with the result's axes restored), and how many
    contestants share the result (``count``, at least 1)."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    result = _restored(y, a, axes, keepdims)
    hit = _selected(a, where) & (a == result)
    tied = (result == initial) if initial is not None else zeros_of(result.shape, bool, result)
    count = np.sum(hit, axis=axes, keepdims=True) + tied
    return a, axes, hit, tied, np.maximum(count, 1)


@helper(returns_new=True)
def extreme_where_grad(g, a, y, axis=None, keepdims=False, initial=None, where=True):
    """Adjoint of ``np.max``/``np.min`` (and ``np.nanmax``/``np.nanmin``) with
    ``initial=`` or ``where=``, with respect to ``a``: the selected entries equal
    to the result, split evenly with the tied ones and ``initial`` when it ties."""
    a, axes, hit, _, count = _contest(a, y, axis, keepdims, initial, where)
    return _kept(_restored(g, a, axes, keepdims) / count, hit, _dtype(g, a))


def extreme_initial_share(a, y, axis=None, keepdims=False, initial=None, where=True):
    """The derivative of ``np.max``/``np.min`` with ``initial=`` with respect to
    ``initial``, per result: 1 where ``initial`` wins alone, 1/k where it ties
    with k - 1 entries, 0 where an entry wins."""
    a, axes, _, tied, count = _contest(a, y, axis, keepdims, initial, where)
    share = (tied / count).astype(a.dtype)
    return np.reshape(share, np.shape(y))


# -- moments -----------------------------------------------------------------------------

@helper(returns_new=True)
def var_where_grad(g, a, axis=None, ddof=0, keepdims=False, where=True, ignore_nan=False):
    """Adjoint of ``np.var(a, axis, ddof=ddof, keepdims=keepdims, where=where)``
    (``ignore_nan``: ``np.nanvar``): 2 (a - mean) / (n - ddof) over the n
    selected entries of each slice, the mean theirs."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    selected = _selected(a, where, ignore_nan)
    count = np.sum(selected, axis=axes, keepdims=True)
    total = np.sum(a, axis=axes, keepdims=True, where=selected)
    centered = np.where(selected, a - total / np.maximum(count, 1), 0.0).astype(a.dtype)
    # the mean's rounding error, taken out again (two-pass, as var_grad does)
    centered -= np.where(selected, np.sum(centered, axis=axes, keepdims=True)
                         / np.maximum(count, 1), 0.0).astype(a.dtype)
    scale = (2.0 / np.maximum(count - ddof, 1)).astype(a.dtype)
    return _kept(_restored(g, a, axes, keepdims) * centered * scale, selected, _dtype(g, a))


@helper(returns_new=True)
def std_where_grad(g, a, y, axis=None, ddof=0, keepdims=False, where=True, ignore_nan=False):
    """Adjoint of ``np.std`` (``np.nanstd``) with ``where=``: the variance's, times
    1 / (2 std); 0 where the spread is exactly 0 (as ``std_grad``)."""
    g, y = as_array(g), as_array(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = g / (2.0 * y)
    scaled = np.where(y == 0, np.zeros_like(scaled), scaled)
    return var_where_grad(scaled, a, axis, ddof, keepdims, where, ignore_nan)


# -- the tangent of initial --------------------------------------------------------------

@helper(shape_only=(1,), dtype=False, returns_new=True)
def initial_tangent(t, y, share=1.0):
    """The tangent of a reduction's result along the tangent ``t`` of its number
    ``initial`` (with leading direction axes, when batched): ``t * share`` in the
    result's shape, the direction axes in front."""
    t = as_array(like_array(t, y))
    lifted = np.reshape(t, t.shape + (1,) * np.ndim(y))
    return copy_as(np.broadcast_to(lifted * share, t.shape + np.shape(y)))
