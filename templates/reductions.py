"""Adjoints of reductions: the gradient is spread back over the reduced axes.

``unreduce`` restores the axes a reduction removed and broadcasts the
gradient to the input's shape. The rules past sum and mean call one helper of
``pullback.runtime.reductions`` each, which handles ``axis`` (None, an int, a
negative int, a tuple) and ``keepdims`` when the derivative runs.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unreduce
from pullback.runtime.reductions import (
    average_grad, average_weights_grad, cumprod_grad, cumsum_grad, cumulative_prod_grad,
    cumulative_sum_grad, extreme_grad, nan_mask_grad, nancumprod_grad, nancumsum_grad,
    nanmean_grad, nanprod_grad, norm_grad, prod_grad, ptp_grad, std_grad, var_grad)
from pullback.runtime.quantiles import quantile_grad, quantile_q_grad

# A number when axis is None and keepdims is false; with keepdims=True, the
# result broadcasts into the operand's shape (rules.SHAPES). Running sums and
# quantiles declare "array".
SHAPE = "reduction"


@adjoint(np.sum)
def sum(y, a, axis=None, dtype=None, keepdims=False):
    if axis is None:
        d[a] = np.broadcast_to(d[y], np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims)


@adjoint(np.mean)
def mean(y, a, axis=None, dtype=None, keepdims=False):
    if axis is None:
        d[a] = np.broadcast_to(d[y] / np.size(a), np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims) * (np.size(y) / np.size(a))


# -- products --------------------------------------------------------------------------
# Exact with zeros in the input: each entry's gradient is the product of the
# other entries of its slice (running products from both ends, no division).

@adjoint(np.prod)
def prod(y, a, axis=None, dtype=None, keepdims=False):
    d[a] = prod_grad(d[y], a, axis, keepdims)


@adjoint(np.nanprod)
def nanprod(y, a, axis=None, dtype=None, keepdims=False):
    d[a] = nanprod_grad(d[y], a, axis, keepdims)


@adjoint(np.cumprod, shape="array")
def cumprod(y, a, axis=None, dtype=None):
    d[a] = cumprod_grad(d[y], a, y, axis)


@adjoint(np.nancumprod, shape="array")
def nancumprod(y, a, axis=None, dtype=None):
    d[a] = nancumprod_grad(d[y], a, y, axis)


# -- running sums ----------------------------------------------------------------------

@adjoint(np.cumsum, shape="array")
def cumsum(y, a, axis=None, dtype=None):
    d[a] = cumsum_grad(d[y], a, axis)


@adjoint(np.nancumsum, shape="array")
def nancumsum(y, a, axis=None, dtype=None):
    d[a] = nancumsum_grad(d[y], a, axis)


if hasattr(np, "cumulative_sum"):       # NumPy 2.1+
    @adjoint(np.cumulative_sum, shape="array")
    def cumulative_sum(y, x, axis=None, dtype=None, include_initial=False):
        d[x] = cumulative_sum_grad(d[y], x, axis, include_initial)

    @adjoint(np.cumulative_prod, shape="array")
    def cumulative_prod(y, x, axis=None, dtype=None, include_initial=False):
        d[x] = cumulative_prod_grad(d[y], x, y, axis, include_initial)


# -- NaN-ignoring sums and means: NaN entries get a zero gradient -----------------------

@adjoint(np.nansum)
def nansum(y, a, axis=None, dtype=None, keepdims=False):
    d[a] = nan_mask_grad(d[y], a, axis, keepdims)


@adjoint(np.nanmean)
def nanmean(y, a, axis=None, dtype=None, keepdims=False):
    d[a] = nanmean_grad(d[y], a, axis, keepdims)


# -- extremes: the gradient goes to the entries equal to the result, split evenly
# among ties (like np.maximum's rule) ----------------------------------------------------

@adjoint(np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin)
def max(y, a, axis=None, keepdims=False):
    d[a] = extreme_grad(d[y], a, y, axis, keepdims)


@adjoint(np.ptp)
def ptp(y, a, axis=None, keepdims=False):
    d[a] = ptp_grad(d[y], a, axis, keepdims)


# -- moments ---------------------------------------------------------------------------

@adjoint(np.var)
def var(y, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = var_grad(d[y], a, axis, ddof, keepdims)


@adjoint(np.std)
def std(y, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = std_grad(d[y], a, y, axis, ddof, keepdims)


@adjoint(np.nanvar)
def nanvar(y, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = var_grad(d[y], a, axis, ddof, keepdims, True)


@adjoint(np.nanstd)
def nanstd(y, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = std_grad(d[y], a, y, axis, ddof, keepdims, True)


@adjoint(np.average)
def average(y, a, axis=None, weights=None, keepdims=False):
    d[a] = average_grad(d[y], a, y, axis, weights, keepdims)
    d[weights] = average_weights_grad(d[y], a, y, axis, weights, keepdims)


# -- norms -----------------------------------------------------------------------------

@adjoint(np.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] = norm_grad(d[y], x, y, ord, axis, keepdims)


# -- order statistics: the gradient goes to the sorted entries the result reads ---------
# (np.quantile and np.percentile are in the indexing family, with np.sort.)

@adjoint(np.median)
def median(y, a, axis=None, keepdims=False):
    d[a] = quantile_grad(d[y], a, 0.5, axis, "linear", keepdims)


@adjoint(np.nanmedian)
def nanmedian(y, a, axis=None, keepdims=False):
    d[a] = quantile_grad(d[y], a, 0.5, axis, "linear", keepdims, True)


@adjoint(np.nanquantile, shape="array")
def nanquantile(y, a, q, axis=None, method="linear", keepdims=False):
    d[a] = quantile_grad(d[y], a, q, axis, method, keepdims, True)
    d[q] = quantile_q_grad(d[y], a, q, axis, method, keepdims, True)


@adjoint(np.nanpercentile, shape="array")
def nanpercentile(y, a, q, axis=None, method="linear", keepdims=False):
    d[a] = quantile_grad(d[y], a, q, axis, method, keepdims, True, 100.0)
    d[q] = quantile_q_grad(d[y], a, q, axis, method, keepdims, True, 100.0)


# Counts and positions: no gradient flows through them (np.argmax, np.argmin are
# listed with the elementwise family).
NONDIFFERENTIABLE = (np.count_nonzero,)
