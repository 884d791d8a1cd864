"""Run-time helpers of the tangent (forward-mode) rules of reductions and
products (templates/reductions.py, templates/products.py).

A tangent may carry leading *direction* axes (a batch of directions pushed
through one call, runtime/tangents.py). A rule declared ``batched=True``
keeps them in front and counts its own axes from the end: ``tangent_axes``
turns a reduction's ``axis`` into such axes, and the product helpers
(``tangent_dot_lhs``, ``tangent_tensordot_rhs``, ``tangent_einsum``, ...)
keep the direction axes in front of the product's own. The tangent of a list
operand (``np.dot([x, y], w)``: a list of its items' tangents, each with its
direction axes) is first made one array with them in front (``tangent_array``).

Most reductions need no helper of their own: their result is one number per
reduced slice, so its tangent is the sum over the slice of the tangent times
the slice's gradient, and the gradient is the adjoint helper's
(``prod_grad(ones, ...)``): the same choices at kinks (ties of max/min split
evenly, zeros in prod) by construction. The helpers here cover what is not a
number per slice: running products, quantiles at several ``q``, and the
weights of ``np.average``.
"""
import numpy as np

from pullback.runtime.arrays import as_array, foreign_among, is_foreign_array, zeros_of
from pullback.runtime.declare import helper
from pullback.runtime.products import _einsum_parse, _tensordot_axes
from pullback.runtime.quantiles import _order_statistics, q_slope
from pullback.runtime.reductions import (_average_weights, _floats, _normalize, _to_last,
                                         reduced_axes, restore_axes)
from pullback.runtime.tangent_shape import tangent_array

__all__ = [
    "tangent_axes", "tangent_dot_lhs", "tangent_dot_rhs", "tangent_tensordot_lhs",
    "tangent_tensordot_rhs", "tangent_einsum", "tangent_cumprod", "tangent_quantile",
    "tangent_quantile_q", "tangent_average_weights",
]


def _lead(t, x):
    """How many leading direction axes the tangent ``t`` of ``x`` carries."""
    return max(np.ndim(t) - np.ndim(x), 0)


# -- axes ------------------------------------------------------------------------------

@helper(shape_only=(0,), dtype=False)
def tangent_axes(a, axis=None):
    """The axes ``axis`` of ``a`` (None: all of them), counted from the end:
    a reduction of ``a``'s tangent over them keeps its leading direction axes."""
    nd = np.ndim(a)
    if axis is None or nd == 0:
        return tuple(range(-nd, 0))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(_normalize(ax, nd) - nd for ax in axes)


# -- products --------------------------------------------------------------------------

def _lift(t, lead, ndim):
    """``t`` with ``ndim`` length-1 axes after its ``lead`` direction axes: a
    number's tangent that broadcasts against an ``ndim``-dimensional array."""
    return np.reshape(t, np.shape(t)[:lead] + (1,) * ndim)


@helper(returns_new=True)
def tangent_dot_lhs(ta, a, b):
    """``np.dot(ta, b)``: the tangent of ``np.dot(a, b)`` along ``a``'s tangent
    ``ta``, whose leading direction axes come first in the result."""
    ta = tangent_array(ta, a)       # a list operand's: one array, direction axes first
    if np.ndim(a) == 0:         # a number times b
        return _lift(ta, _lead(ta, a), np.ndim(b)) * b
    return np.dot(ta, b)        # contracts ta's last axis: direction axes stay in front


@helper(returns_new=True)
def tangent_dot_rhs(a, tb, b):
    """``np.dot(a, tb)``: the tangent of ``np.dot(a, b)`` along ``b``'s tangent
    ``tb``, whose leading direction axes come first in the result."""
    tb = tangent_array(tb, b)
    lead, na, nb = _lead(tb, b), np.ndim(a), np.ndim(b)
    if lead == 0 or na == 0:
        return np.dot(a, tb)
    if nb == 0:                 # a times a number
        return _lift(tb, lead, na) * a
    if nb == 1:                 # a's last axis against b's only one
        return np.tensordot(tb, a, axes=([-1], [-1]))
    # np.dot puts tb's leading axes after a's free ones: move them to the front.
    product = np.dot(a, tb)
    return np.moveaxis(product, tuple(range(na - 1, na - 1 + lead)), tuple(range(lead)))


@helper(returns_new=True)
def tangent_tensordot_lhs(ta, a, b, axes=2):
    """``np.tensordot(ta, b, axes)`` with ``ta``'s leading direction axes kept in front."""
    ta = tangent_array(ta, a)
    lead = _lead(ta, a)
    a_axes, b_axes = _tensordot_axes(axes, np.ndim(a), np.ndim(b))
    return np.tensordot(ta, b, axes=([ax + lead for ax in a_axes], b_axes))


@helper(returns_new=True)
def tangent_tensordot_rhs(a, tb, b, axes=2):
    """``np.tensordot(a, tb, axes)`` with ``tb``'s leading direction axes kept in front."""
    tb = tangent_array(tb, b)
    lead, na = _lead(tb, b), np.ndim(a)
    a_axes, b_axes = _tensordot_axes(axes, na, np.ndim(b))
    product = np.tensordot(a, tb, axes=(a_axes, [ax + lead for ax in b_axes]))
    free_a = na - len(a_axes)
    return np.moveaxis(product, tuple(range(free_a, free_a + lead)), tuple(range(lead)))


@helper(returns_new=True)
def tangent_einsum(subscripts, operands, tangents):
    """The tangent of ``np.einsum(subscripts, *operands)``: the sum, over the
    operands, of the einsum with that operand replaced by its tangent. A
    tangent's leading direction axes get letters of their own, first in the
    output. Operands whose tangent is all zeros (constants) are skipped."""
    arrays = [as_array(op) for op in operands]
    tangents = [tangent_array(t, op) for t, op in zip(tangents, operands)]
    subs, output, pool = _einsum_parse(subscripts, [x.shape for x in arrays])
    moving = [i for i, t in enumerate(tangents) if is_foreign_array(t) or np.any(t)] or [0]
    total = None
    for i in moving:
        t = as_array(tangents[i])
        lead = "".join(pool[:_lead(t, arrays[i])])
        spec = ",".join(lead + s if j == i else s for j, s in enumerate(subs)) \
            + "->" + lead + output
        term = np.einsum(spec, *[t if j == i else x for j, x in enumerate(arrays)],
                         optimize="greedy" if len(arrays) > 2 else False)
        total = term if total is None else total + term
    if len(moving) == 1 and type(total) is np.ndarray \
            and np.shares_memory(total, tangents[moving[0]]):
        total = total.copy()        # one operand's transpose or diagonal: einsum gives a view
    return total


# -- running products ------------------------------------------------------------------

def tangent_cumprod(t, a, axis=None, ignore_nan=False, include_initial=False):
    """The tangent of ``np.cumprod(a, axis)`` along ``t`` (one direction;
    ``axis=None`` flattens). ``ignore_nan``: ``np.nancumprod`` (NaNs count as
    1); ``include_initial``: ``np.cumulative_prod``'s leading 1 (tangent 0).

    Without zeros in ``a``: ``cumprod(a) * cumsum(t / a)``. With zeros: the
    exact recurrence ``T_j = T_{j-1} a_j + P_{j-1} t_j`` (``P`` the running
    product), one step per position along the axis.
    """
    a = _floats(a)
    t = np.broadcast_to(as_array(t, dtype=np.result_type(t, a)), a.shape)
    if ignore_nan:
        missing = np.isnan(a)
        a = np.where(missing, 1.0, a).astype(a.dtype)
        t = np.where(missing, 0.0, t).astype(t.dtype)
    if axis is None:
        a, t, axis = a.reshape(-1), t.reshape(-1), 0
    ax = _normalize(axis, a.ndim)
    foreign = foreign_among(a, t) is not None       # not asked whether a holds zeros
    if not foreign and np.all(a != 0):
        out = np.cumprod(a, axis=ax) * np.cumsum(t / a, axis=ax)
    elif foreign:               # the recurrence, its steps stacked (no writes)
        moved_a, moved_t = np.moveaxis(a, ax, -1), np.moveaxis(t, ax, -1)
        running, total, steps = 1.0, 0.0, []
        for j in range(moved_a.shape[-1]):
            total = total * moved_a[..., j] + running * moved_t[..., j]
            running = running * moved_a[..., j]
            steps.append(total)
        out = np.moveaxis(np.stack(steps, axis=-1), -1, ax)
    else:
        moved_a, moved_t = np.moveaxis(a, ax, -1), np.moveaxis(t, ax, -1)
        out = np.empty(moved_t.shape, np.result_type(moved_a, moved_t))
        running = np.ones(moved_a.shape[:-1], moved_a.dtype)
        total = np.zeros(moved_t.shape[:-1], out.dtype)
        for j in range(moved_a.shape[-1]):
            total = total * moved_a[..., j] + running * moved_t[..., j]
            running = running * moved_a[..., j]
            out[..., j] = total
        out = np.moveaxis(out, -1, ax)
    if include_initial:
        zero = zeros_of(out.shape[:ax] + (1,) + out.shape[ax + 1:], out.dtype, out)
        out = np.concatenate([zero, out], axis=ax)
    return out


# -- order statistics ------------------------------------------------------------------

def _quantile_shape(a, q, axes, keepdims):
    """The shape of ``np.quantile(a, q, axis, keepdims=keepdims)``."""
    kept = tuple(1 if ax in axes else n for ax, n in enumerate(a.shape)) if keepdims else \
        tuple(n for ax, n in enumerate(a.shape) if ax not in axes)
    return np.shape(q) + kept


def tangent_quantile(t, a, q, axis=None, method="linear", keepdims=False, ignore_nan=False,
                     scale=1.0):
    """The tangent of ``np.quantile(a, q / scale, axis, method=method,
    keepdims=keepdims)`` (``ignore_nan``: ``np.nanquantile``) along ``a``'s
    tangent ``t``: the tangents of the order statistics the result
    interpolates, with its weights (those of ``quantile_grad``)."""
    a = _floats(a)
    axes, flat, _, order, low, high, gamma, _, empty, q = \
        _order_statistics(a, as_array(q, dtype=np.float64) / scale, axis, method, ignore_nan)
    moved, _ = _to_last(np.broadcast_to(as_array(t), a.shape), axes)
    ordered = np.take_along_axis(moved, order, axis=-1)
    ordered = np.broadcast_to(ordered, low.shape + ordered.shape[-1:])
    lower = np.take_along_axis(ordered, low[..., None], -1)[..., 0]
    upper = np.take_along_axis(ordered, high[..., None], -1)[..., 0]
    dtype = np.result_type(moved, a)
    result = np.where(empty, 0.0, (1.0 - gamma) * lower + gamma * upper).astype(dtype)
    return np.reshape(result, _quantile_shape(a, q, axes, keepdims))


def tangent_quantile_q(tq, a, q, axis=None, method="linear", keepdims=False, ignore_nan=False,
                       scale=1.0):
    """The tangent of ``np.quantile`` along ``q``'s tangent ``tq``: the slope of
    the sorted sample between the two order statistics read (zero for the
    discrete methods and where ``q`` is clipped), as in ``quantile_q_grad``."""
    axes, low, q, rate = q_slope(a, q, axis, method, ignore_nan, scale)
    tq = np.reshape(as_array(tq), q.shape + (1,) * (low.ndim - q.ndim))
    return np.reshape(tq * rate / scale, _quantile_shape(_floats(a), q, axes, keepdims))


# -- weighted averages -----------------------------------------------------------------

def tangent_average_weights(tw, a, y, axis=None, weights=None, keepdims=False):
    """The tangent of ``np.average(a, axis, weights, keepdims=keepdims)`` along
    the weights' tangent ``tw`` (one direction): ``sum((a - y) tw) / sum(weights)``
    over the reduced axes."""
    a = _floats(a)
    axes = reduced_axes(axis, a.ndim)
    centered = a - restore_axes(y, a.ndim, axes, keepdims)
    spread = _average_weights(a, as_array(tw), axis)
    total = np.sum(np.broadcast_to(_average_weights(a, weights, axis), a.shape), axis=axes,
                   keepdims=keepdims)
    return np.sum(centered * spread, axis=axes, keepdims=keepdims) / total
