"""Adjoints of reductions: the gradient is spread back over the reduced axes.

``unreduce`` restores the axes a reduction removed and broadcasts the
gradient to the input's shape. The rules past sum and mean call one helper of
``pullback.runtime.reductions`` each, which handles ``axis`` (None, an int, a
negative int, a tuple) and ``keepdims`` when the derivative runs.

Tangents: a reduction that gives one number per reduced slice has the tangent
``sum(d[a] * gradient)`` over the slice, the gradient being the adjoint
helper's with a cotangent of ones: the same choices at kinks (ties, zeros)
by construction. Those rules keep leading direction axes (``batched=True``),
summing over ``tangent_axes`` (the reduced axes counted from the end); the
tangent of a list operand (``np.max([a, b])``) is stacked behind them first
(``tangent_array``).
"""
import numpy as np

from pullback.rules import adjoint, d, number
from pullback.runtime import unreduce
from pullback.runtime.masked_reductions import (
    extreme_initial_share, extreme_where_grad, initial_tangent, mean_where_grad,
    prod_initial_share, prod_where_grad, std_where_grad, sum_where_grad, var_where_grad)
from pullback.runtime.reductions import (
    average_grad, average_weights_grad, cumprod_grad, cumsum_grad, cumulative_prod_grad,
    cumulative_sum_grad, extreme_grad, nan_mask_grad, nancumprod_grad, nancumsum_grad,
    nanmean_grad, nanprod_grad, norm_grad, prod_grad, ptp_grad, std_grad, var_grad)
from pullback.runtime.quantiles import quantile_grad, quantile_q_grad
from pullback.runtime.tangent_reductions import (tangent_average_weights, tangent_axes,
                                                 tangent_cumprod, tangent_quantile,
                                                 tangent_quantile_q)
from pullback.runtime.tangent_shape import tangent_array
from pullback.tangent_rules import tangent

# A number when axis is None and keepdims is false; with keepdims=True, the
# result broadcasts into the operand's shape (rules.SHAPES). Running sums and
# quantiles declare "array".
SHAPE = "reduction"

# where= (a boolean mask, held constant) and initial=: the rules past ``if`` call the
# helpers of pullback.runtime.masked_reductions. The branches are decided when the
# derivative is generated: ``number(where)`` is false for a mask array, ``where is
# True`` and ``initial is None`` are true for the defaults; only a value pullback
# cannot tell is a number or not (an initial read from an object) leaves an ``if``.


@adjoint(np.sum)
def sum(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = sum_where_grad(d[y], a, axis, keepdims, where)
    elif axis is None and number(a):    # the sum of a number is itself
        d[a] = d[y]
    elif axis is None:
        d[a] = np.broadcast_to(d[y], np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims)
    d[initial] = np.sum(d[y])           # initial is added to every result


@tangent(np.sum, batched=True)
def sum_tangent(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if not number(where) or where is not True:      # a mask
        d[y] = np.sum(tangent_array(d[a], a), axis=tangent_axes(a, axis), keepdims=keepdims,
                      where=where)
    else:
        d[y] = np.sum(tangent_array(d[a], a), axis=tangent_axes(a, axis), keepdims=keepdims)
    d[y] += initial_tangent(d[initial], y)


@adjoint(np.mean)
def mean(y, a, axis=None, dtype=None, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = mean_where_grad(d[y], a, axis, keepdims, where)
    elif axis is None:
        d[a] = np.broadcast_to(d[y] / np.size(a), np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims) * (np.size(y) / np.maximum(np.size(a), 1))  # (0, 3)


@tangent(np.mean, batched=True)
def mean_tangent(y, a, axis=None, dtype=None, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[y] = np.mean(tangent_array(d[a], a), axis=tangent_axes(a, axis), keepdims=keepdims,
                       where=where)
    else:
        d[y] = np.mean(tangent_array(d[a], a), axis=tangent_axes(a, axis), keepdims=keepdims)


# -- products --------------------------------------------------------------------------
# Exact with zeros in the input: each entry's gradient is the product of the
# other entries of its slice (running products from both ends, no division).

@adjoint(np.prod)
def prod(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if number(initial) or not number(where):
        d[a] = prod_where_grad(d[y], a, axis, keepdims, initial, where)
    elif initial is not None or where is not True:
        d[a] = prod_where_grad(d[y], a, axis, keepdims, initial, where)
    else:
        d[a] = prod_grad(d[y], a, axis, keepdims)
    d[initial] = np.sum(d[y] * prod_initial_share(a, axis, keepdims, where))


@tangent(np.prod, batched=True)
def prod_tangent(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if number(initial) or not number(where):
        gradient = prod_where_grad(np.ones_like(y), a, axis, keepdims, initial, where)
    elif initial is not None or where is not True:
        gradient = prod_where_grad(np.ones_like(y), a, axis, keepdims, initial, where)
    else:
        gradient = prod_grad(np.ones_like(y), a, axis, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)
    d[y] += initial_tangent(d[initial], y, prod_initial_share(a, axis, keepdims, where))


@adjoint(np.nanprod)
def nanprod(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if number(initial) or not number(where):
        d[a] = prod_where_grad(d[y], a, axis, keepdims, initial, where, True)
    elif initial is not None or where is not True:
        d[a] = prod_where_grad(d[y], a, axis, keepdims, initial, where, True)
    else:
        d[a] = nanprod_grad(d[y], a, axis, keepdims)
    d[initial] = np.sum(d[y] * prod_initial_share(a, axis, keepdims, where, True))


@tangent(np.nanprod, batched=True)
def nanprod_tangent(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if number(initial) or not number(where):
        gradient = prod_where_grad(np.ones_like(y), a, axis, keepdims, initial, where, True)
    elif initial is not None or where is not True:
        gradient = prod_where_grad(np.ones_like(y), a, axis, keepdims, initial, where, True)
    else:
        gradient = nanprod_grad(np.ones_like(y), a, axis, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)
    d[y] += initial_tangent(d[initial], y, prod_initial_share(a, axis, keepdims, where, True))


@adjoint(np.cumprod, shape="accumulated")
def cumprod(y, a, axis=None, dtype=None):
    d[a] = cumprod_grad(d[y], a, y, axis)


@tangent(np.cumprod)
def cumprod_tangent(y, a, axis=None, dtype=None):
    d[y] = tangent_cumprod(d[a], a, axis)


@adjoint(np.nancumprod, shape="accumulated")
def nancumprod(y, a, axis=None, dtype=None):
    d[a] = nancumprod_grad(d[y], a, y, axis)


@tangent(np.nancumprod)
def nancumprod_tangent(y, a, axis=None, dtype=None):
    d[y] = tangent_cumprod(d[a], a, axis, True)


# -- running sums ----------------------------------------------------------------------

@adjoint(np.cumsum, shape="accumulated")
def cumsum(y, a, axis=None, dtype=None):
    d[a] = cumsum_grad(d[y], a, axis)


@tangent(np.cumsum)
def cumsum_tangent(y, a, axis=None, dtype=None):
    d[y] = np.cumsum(d[a], axis)


@adjoint(np.nancumsum, shape="accumulated")
def nancumsum(y, a, axis=None, dtype=None):
    d[a] = nancumsum_grad(d[y], a, axis)


@tangent(np.nancumsum)
def nancumsum_tangent(y, a, axis=None, dtype=None):
    d[y] = np.cumsum(np.where(np.isnan(a), 0.0, d[a]), axis)


if hasattr(np, "cumulative_sum"):       # NumPy 2.1+
    @adjoint(np.cumulative_sum, shape="array")
    def cumulative_sum(y, x, axis=None, dtype=None, include_initial=False):
        d[x] = cumulative_sum_grad(d[y], x, axis, include_initial)

    @tangent(np.cumulative_sum)
    def cumulative_sum_tangent(y, x, axis=None, dtype=None, include_initial=False):
        d[y] = np.cumulative_sum(d[x], axis=axis, include_initial=include_initial)

    @adjoint(np.cumulative_prod, shape="array")
    def cumulative_prod(y, x, axis=None, dtype=None, include_initial=False):
        d[x] = cumulative_prod_grad(d[y], x, y, axis, include_initial)

    @tangent(np.cumulative_prod)
    def cumulative_prod_tangent(y, x, axis=None, dtype=None, include_initial=False):
        d[y] = tangent_cumprod(d[x], x, axis, False, include_initial)


# -- NaN-ignoring sums and means: NaN entries get a zero gradient -----------------------

@adjoint(np.nansum)
def nansum(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = sum_where_grad(d[y], a, axis, keepdims, where, True)
    else:
        d[a] = nan_mask_grad(d[y], a, axis, keepdims)
    d[initial] = np.sum(d[y])


@tangent(np.nansum, batched=True)
def nansum_tangent(y, a, axis=None, dtype=None, keepdims=False, *, initial=None, where=True):
    if not number(where) or where is not True:      # a mask
        d[y] = np.sum(np.where(np.isnan(a), 0.0, tangent_array(d[a], a)),
                      axis=tangent_axes(a, axis), keepdims=keepdims, where=where)
    else:
        d[y] = np.sum(np.where(np.isnan(a), 0.0, tangent_array(d[a], a)),
                      axis=tangent_axes(a, axis), keepdims=keepdims)
    d[y] += initial_tangent(d[initial], y)


@adjoint(np.nanmean)
def nanmean(y, a, axis=None, dtype=None, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = mean_where_grad(d[y], a, axis, keepdims, where, True)
    else:
        d[a] = nanmean_grad(d[y], a, axis, keepdims)


@tangent(np.nanmean, batched=True)
def nanmean_tangent(y, a, axis=None, dtype=None, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        gradient = mean_where_grad(np.ones_like(y), a, axis, keepdims, where, True)
    else:
        gradient = nanmean_grad(np.ones_like(y), a, axis, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


# -- extremes: the gradient goes to the entries equal to the result, split evenly
# among ties (like np.maximum's rule) ----------------------------------------------------

# With initial=, initial is one more contestant: it takes its share of a tie, and
# all of the gradient where it wins alone.
@adjoint(np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin)
def max(y, a, axis=None, keepdims=False, *, initial=None, where=True):
    if number(initial) or not number(where):
        d[a] = extreme_where_grad(d[y], a, y, axis, keepdims, initial, where)
    elif initial is not None or where is not True:
        d[a] = extreme_where_grad(d[y], a, y, axis, keepdims, initial, where)
    else:
        d[a] = extreme_grad(d[y], a, y, axis, keepdims)
    d[initial] = np.sum(d[y] * extreme_initial_share(a, y, axis, keepdims, initial, where))


@tangent(np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin, batched=True)
def max_tangent(y, a, axis=None, keepdims=False, *, initial=None, where=True):
    # the mean of the tied extremes' tangents (the transpose of the even split)
    if number(initial) or not number(where):
        gradient = extreme_where_grad(np.ones_like(y), a, y, axis, keepdims, initial, where)
    elif initial is not None or where is not True:
        gradient = extreme_where_grad(np.ones_like(y), a, y, axis, keepdims, initial, where)
    else:
        gradient = extreme_grad(np.ones_like(y), a, y, axis, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)
    d[y] += initial_tangent(d[initial], y,
                            extreme_initial_share(a, y, axis, keepdims, initial, where))


@adjoint(np.ptp)
def ptp(y, a, axis=None, keepdims=False):
    d[a] = ptp_grad(d[y], a, axis, keepdims)


@tangent(np.ptp, batched=True)
def ptp_tangent(y, a, axis=None, keepdims=False):
    gradient = ptp_grad(np.ones_like(y), a, axis, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


# -- moments ---------------------------------------------------------------------------

@adjoint(np.var)
def var(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = var_where_grad(d[y], a, axis, ddof, keepdims, where)
    else:
        d[a] = var_grad(d[y], a, axis, ddof, keepdims)


@tangent(np.var, batched=True)
def var_tangent(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        gradient = var_where_grad(np.ones_like(y), a, axis, ddof, keepdims, where)
    else:
        gradient = var_grad(np.ones_like(y), a, axis, ddof, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


@adjoint(np.std)
def std(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = std_where_grad(d[y], a, y, axis, ddof, keepdims, where)
    else:
        d[a] = std_grad(d[y], a, y, axis, ddof, keepdims)


@tangent(np.std, batched=True)
def std_tangent(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        gradient = std_where_grad(np.ones_like(y), a, y, axis, ddof, keepdims, where)
    else:
        gradient = std_grad(np.ones_like(y), a, y, axis, ddof, keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


@adjoint(np.nanvar)
def nanvar(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = var_where_grad(d[y], a, axis, ddof, keepdims, where, True)
    else:
        d[a] = var_grad(d[y], a, axis, ddof, keepdims, True)


@tangent(np.nanvar, batched=True)
def nanvar_tangent(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        gradient = var_where_grad(np.ones_like(y), a, axis, ddof, keepdims, where, True)
    else:
        gradient = var_grad(np.ones_like(y), a, axis, ddof, keepdims, True)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


@adjoint(np.nanstd)
def nanstd(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        d[a] = std_where_grad(d[y], a, y, axis, ddof, keepdims, where, True)
    else:
        d[a] = std_grad(d[y], a, y, axis, ddof, keepdims, True)


@tangent(np.nanstd, batched=True)
def nanstd_tangent(y, a, axis=None, dtype=None, ddof=0, keepdims=False, *, where=True):
    if not number(where) or where is not True:      # a mask
        gradient = std_where_grad(np.ones_like(y), a, y, axis, ddof, keepdims, where, True)
    else:
        gradient = std_grad(np.ones_like(y), a, y, axis, ddof, keepdims, True)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


@adjoint(np.average)
def average(y, a, axis=None, weights=None, keepdims=False):
    d[a] = average_grad(d[y], a, y, axis, weights, keepdims)
    d[weights] = average_weights_grad(d[y], a, y, axis, weights, keepdims)


@tangent(np.average)
def average_tangent(y, a, axis=None, weights=None, keepdims=False):
    d[y] = np.sum(d[a] * average_grad(np.ones_like(y), a, y, axis, weights, keepdims),
                  axis=axis, keepdims=keepdims)
    d[y] += tangent_average_weights(d[weights], a, y, axis, weights, keepdims)


# -- norms -----------------------------------------------------------------------------

@adjoint(np.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] = norm_grad(d[y], x, y, ord, axis, keepdims)


@tangent(np.linalg.norm, batched=True)
def norm_tangent(y, x, ord=None, axis=None, keepdims=False):
    gradient = norm_grad(np.ones_like(y), x, y, ord, axis, keepdims)
    d[y] = np.sum(tangent_array(d[x], x) * gradient, axis=tangent_axes(x, axis), keepdims=keepdims)


# -- order statistics: the gradient goes to the sorted entries the result reads ---------
# (np.quantile and np.percentile are in the indexing family, with np.sort.)

@adjoint(np.median)
def median(y, a, axis=None, keepdims=False):
    d[a] = quantile_grad(d[y], a, 0.5, axis, "linear", keepdims)


@tangent(np.median, batched=True)
def median_tangent(y, a, axis=None, keepdims=False):
    gradient = quantile_grad(np.ones_like(y), a, 0.5, axis, "linear", keepdims)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


@adjoint(np.nanmedian)
def nanmedian(y, a, axis=None, keepdims=False):
    d[a] = quantile_grad(d[y], a, 0.5, axis, "linear", keepdims, True)


@tangent(np.nanmedian, batched=True)
def nanmedian_tangent(y, a, axis=None, keepdims=False):
    gradient = quantile_grad(np.ones_like(y), a, 0.5, axis, "linear", keepdims, True)
    d[y] = np.sum(tangent_array(d[a], a) * gradient, axis=tangent_axes(a, axis), keepdims=keepdims)


@adjoint(np.nanquantile, shape="array")
def nanquantile(y, a, q, axis=None, method="linear", keepdims=False):
    d[a] = quantile_grad(d[y], a, q, axis, method, keepdims, True)
    d[q] = quantile_q_grad(d[y], a, q, axis, method, keepdims, True)


@tangent(np.nanquantile)
def nanquantile_tangent(y, a, q, axis=None, method="linear", keepdims=False):
    d[y] = tangent_quantile(d[a], a, q, axis, method, keepdims, True)
    d[y] += tangent_quantile_q(d[q], a, q, axis, method, keepdims, True)


@adjoint(np.nanpercentile, shape="array")
def nanpercentile(y, a, q, axis=None, method="linear", keepdims=False):
    d[a] = quantile_grad(d[y], a, q, axis, method, keepdims, True, 100.0)
    d[q] = quantile_q_grad(d[y], a, q, axis, method, keepdims, True, 100.0)


@tangent(np.nanpercentile)
def nanpercentile_tangent(y, a, q, axis=None, method="linear", keepdims=False):
    d[y] = tangent_quantile(d[a], a, q, axis, method, keepdims, True, 100.0)
    d[y] += tangent_quantile_q(d[q], a, q, axis, method, keepdims, True, 100.0)


# Counts and positions: no gradient flows through them (np.argmax, np.argmin are
# listed with the elementwise family).
NONDIFFERENTIABLE = (np.count_nonzero,)
