"""Rules for pullback's runtime helpers of reductions, quantiles and linear
algebra (runtime/reductions.py, quantiles.py, linalg.py), so the gradients
that call them are themselves differentiable (hessian, hvp, grad of grad).

Every helper is linear in the adjoint it carries (``g``): its tangent with
respect to ``g`` is the helper called on the tangent, and its adjoint with
respect to ``g`` sums the cotangent, weighted by the helper's weights (the
helper called with ``g = 1.0``), back over the reduced axes
(``sum_restored``). The derivatives with respect to the other arguments are
helpers of ``pullback.runtime.second_order``. Masks and ties are piecewise
constant: a helper that only selects (``extreme_grad``, ``nanmean_grad``, ...)
has no derivative with respect to the array it selects from.

Refused: the second derivative of the SVD-based matrix norms (nuclear, 2,
-2) and of ``np.cumprod`` at an exact zero (NotDifferentiable). Without a
rule (pullback names the helper and refuses): ``cumulative_prod_grad``,
``eigh_grad``, ``svd_grad``, ``svdvals_grad``, ``qr_grad``, ``pinv_grad``,
``lstsq_grads``, ``multi_dot_grads``, ``tensorinv_grad``, ``tensorsolve_grads``.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unbroadcast
from pullback.runtime.linalg import (cholesky_grad, det_grad, eigvalsh_grad, inv_grad,
                                     matrix_power_grad, slogdet_grad, solve_grad_a, solve_grad_b)
from pullback.runtime.quantiles import quantile_grad, quantile_q_grad
from pullback.runtime.reductions import (
    average_grad, average_weights_grad, cumprod_grad, cumsum_grad, cumulative_sum_grad,
    extreme_grad, nan_mask_grad, nancumprod_grad, nancumsum_grad, nanmean_grad, nanprod_grad,
    norm_grad, prod_grad, ptp_grad, std_grad, var_grad)
from pullback.runtime.second_order import (
    average_grad_wrt_w, average_grad_wrt_w_adjoint, average_weights_grad_adjoint,
    average_weights_grad_wrt, cholesky_grad_adjoint, cholesky_grad_wrt_l, cumprod_grad_adjoint,
    cumprod_grad_wrt_a, cumprod_grad_wrt_y, cumulative_sum_grad_adjoint, det_grad_adjoint,
    det_grad_wrt_a, eigvalsh_grad_adjoint, eigvalsh_grad_wrt_a, inv_grad_wrt_y,
    inv_grad_wrt_y_adjoint, matrix_power_grad_wrt_a, nanprod_grad_wrt_a, norm_grad_wrt_x,
    norm_grad_wrt_y, prod_grad_wrt_a, quantile_second, slogdet_grad_adjoint, slogdet_grad_wrt_a,
    solve_grad_a_adjoint, solve_grad_b_adjoint, solve_grad_b_wrt_a, solve_grad_b_wrt_a_adjoint,
    std_grad_wrt_a, std_grad_wrt_y, sum_restored, var_grad_wrt_a)
from pullback.tangent_rules import tangent

SHAPE = "other"


# -- products: the other entries' product moves with every other entry -------------------

@adjoint(prod_grad)
def prod_grad_rule(r, g, a, axis=None, keepdims=False):
    d[g] = sum_restored(d[r], prod_grad(1.0, a, axis, keepdims), g, axis, keepdims)
    d[a] = prod_grad_wrt_a(g, a, d[r], axis, keepdims)


@tangent(prod_grad)
def prod_grad_rule_tangent(r, g, a, axis=None, keepdims=False):
    d[r] = prod_grad(d[g], a, axis, keepdims)
    d[r] += prod_grad_wrt_a(g, a, d[a], axis, keepdims)


@adjoint(nanprod_grad)
def nanprod_grad_rule(r, g, a, axis=None, keepdims=False):
    d[g] = sum_restored(d[r], nanprod_grad(1.0, a, axis, keepdims), g, axis, keepdims)
    d[a] = nanprod_grad_wrt_a(g, a, d[r], axis, keepdims)


@tangent(nanprod_grad)
def nanprod_grad_rule_tangent(r, g, a, axis=None, keepdims=False):
    d[r] = nanprod_grad(d[g], a, axis, keepdims)
    d[r] += nanprod_grad_wrt_a(g, a, d[a], axis, keepdims)


@adjoint(cumprod_grad)
def cumprod_grad_rule(r, g, a, y, axis=None):
    d[g] = cumprod_grad_adjoint(d[r], a, y, g, axis)
    d[a] = cumprod_grad_wrt_a(g, a, y, d[r], axis)
    d[y] = cumprod_grad_adjoint(d[r], a, g, y, axis)


@tangent(cumprod_grad)
def cumprod_grad_rule_tangent(r, g, a, y, axis=None):
    d[r] = cumprod_grad(d[g], a, y, axis)
    d[r] += cumprod_grad_wrt_a(g, a, y, d[a], axis)
    d[r] += cumprod_grad_wrt_y(g, a, y, d[y], axis)


# nancumprod_grad is cumprod_grad with NaNs as 1, zero at the NaNs
@adjoint(nancumprod_grad)
def nancumprod_grad_rule(r, g, a, y, axis=None):
    d[g] = cumprod_grad_adjoint(np.where(np.isnan(a), 0.0, d[r]), np.where(np.isnan(a), 1.0, a),
                                y, g, axis)
    d[a] = np.where(np.isnan(a), 0.0,
                    cumprod_grad_wrt_a(g, np.where(np.isnan(a), 1.0, a), y, d[r], axis))
    d[y] = cumprod_grad_adjoint(np.where(np.isnan(a), 0.0, d[r]), np.where(np.isnan(a), 1.0, a),
                                g, y, axis)


@tangent(nancumprod_grad)
def nancumprod_grad_rule_tangent(r, g, a, y, axis=None):
    d[r] = nancumprod_grad(d[g], a, y, axis)
    d[r] += np.where(np.isnan(a), 0.0,
                     cumprod_grad_wrt_a(g, np.where(np.isnan(a), 1.0, a), y, d[a], axis))
    d[r] += np.where(np.isnan(a), 0.0,
                     cumprod_grad_wrt_y(g, np.where(np.isnan(a), 1.0, a), y, d[y], axis))


# -- running sums: linear in g; the adjoint of a reverse running sum is a forward one ------

@adjoint(cumsum_grad)
def cumsum_grad_rule(r, g, a, axis=None):
    d[g] = unbroadcast(np.cumsum(d[r], axis), g)


@tangent(cumsum_grad)
def cumsum_grad_rule_tangent(r, g, a, axis=None):
    d[r] = cumsum_grad(d[g], a, axis)


@adjoint(nancumsum_grad)
def nancumsum_grad_rule(r, g, a, axis=None):
    d[g] = unbroadcast(np.cumsum(np.where(np.isnan(a), 0.0, d[r]), axis), g)


@tangent(nancumsum_grad)
def nancumsum_grad_rule_tangent(r, g, a, axis=None):
    d[r] = nancumsum_grad(d[g], a, axis)


if hasattr(np, "cumulative_sum"):       # NumPy 2.1+
    @adjoint(cumulative_sum_grad)
    def cumulative_sum_grad_rule(r, g, x, axis=None, include_initial=False):
        d[g] = cumulative_sum_grad_adjoint(d[r], g, x, axis, include_initial)

    @tangent(cumulative_sum_grad)
    def cumulative_sum_grad_rule_tangent(r, g, x, axis=None, include_initial=False):
        d[r] = cumulative_sum_grad(d[g], x, axis, include_initial)


# -- selections: linear in g, constant in the array (masks, ties, NaN counts) --------------

@adjoint(nan_mask_grad)
def nan_mask_grad_rule(r, g, a, axis=None, keepdims=False):
    d[g] = sum_restored(d[r], nan_mask_grad(1.0, a, axis, keepdims), g, axis, keepdims)


@tangent(nan_mask_grad)
def nan_mask_grad_rule_tangent(r, g, a, axis=None, keepdims=False):
    d[r] = nan_mask_grad(d[g], a, axis, keepdims)


@adjoint(nanmean_grad)
def nanmean_grad_rule(r, g, a, axis=None, keepdims=False):
    d[g] = sum_restored(d[r], nanmean_grad(1.0, a, axis, keepdims), g, axis, keepdims)


@tangent(nanmean_grad)
def nanmean_grad_rule_tangent(r, g, a, axis=None, keepdims=False):
    d[r] = nanmean_grad(d[g], a, axis, keepdims)


@adjoint(extreme_grad)
def extreme_grad_rule(r, g, a, y, axis=None, keepdims=False, add_to=None):
    d[g] = sum_restored(d[r], extreme_grad(1.0, a, y, axis, keepdims), g, axis, keepdims)
    d[add_to] = unbroadcast(d[r], add_to)


@tangent(extreme_grad)
def extreme_grad_rule_tangent(r, g, a, y, axis=None, keepdims=False, add_to=None):
    d[r] = extreme_grad(d[g], a, y, axis, keepdims)
    d[r] += d[add_to]


@adjoint(ptp_grad)
def ptp_grad_rule(r, g, a, axis=None, keepdims=False):
    d[g] = sum_restored(d[r], ptp_grad(1.0, a, axis, keepdims), g, axis, keepdims)


@tangent(ptp_grad)
def ptp_grad_rule_tangent(r, g, a, axis=None, keepdims=False):
    d[r] = ptp_grad(d[g], a, axis, keepdims)


# -- order statistics: the order is piecewise constant, the interpolation moves with q ----

@adjoint(quantile_grad)
def quantile_grad_rule(r, g, a, q, axis=None, method="linear", keepdims=False, ignore_nan=False,
                       scale=1.0):
    d[g] = quantile_second("grad_g", d[r], g, a, q, axis, method, keepdims, ignore_nan, scale)
    d[q] = quantile_second("along_a", d[r], g, a, q, axis, method, keepdims, ignore_nan, scale)


@tangent(quantile_grad)
def quantile_grad_rule_tangent(r, g, a, q, axis=None, method="linear", keepdims=False,
                               ignore_nan=False, scale=1.0):
    d[r] = quantile_grad(d[g], a, q, axis, method, keepdims, ignore_nan, scale)
    d[r] += quantile_second("along_q", d[q], g, a, q, axis, method, keepdims, ignore_nan, scale)


@adjoint(quantile_q_grad)
def quantile_q_grad_rule(r, g, a, q, axis=None, method="linear", keepdims=False,
                         ignore_nan=False, scale=1.0):
    d[g] = quantile_second("q_grad_g", d[r], g, a, q, axis, method, keepdims, ignore_nan, scale)
    d[a] = quantile_second("along_q", d[r], g, a, q, axis, method, keepdims, ignore_nan, scale)


@tangent(quantile_q_grad)
def quantile_q_grad_rule_tangent(r, g, a, q, axis=None, method="linear", keepdims=False,
                                 ignore_nan=False, scale=1.0):
    d[r] = quantile_q_grad(d[g], a, q, axis, method, keepdims, ignore_nan, scale)
    d[r] += quantile_second("along_a", d[a], g, a, q, axis, method, keepdims, ignore_nan, scale)


# -- moments: var_grad is linear in a; std_grad divides by 2 y ----------------------------

@adjoint(var_grad)
def var_grad_rule(r, g, a, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    d[g] = sum_restored(d[r], var_grad(1.0, a, axis, ddof, keepdims, ignore_nan), g, axis,
                        keepdims)
    d[a] = var_grad_wrt_a(g, a, d[r], axis, ddof, keepdims, ignore_nan)


@tangent(var_grad)
def var_grad_rule_tangent(r, g, a, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    d[r] = var_grad(d[g], a, axis, ddof, keepdims, ignore_nan)
    d[r] += var_grad_wrt_a(g, a, d[a], axis, ddof, keepdims, ignore_nan)


@adjoint(std_grad)
def std_grad_rule(r, g, a, y, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    d[g] = sum_restored(d[r], std_grad(1.0, a, y, axis, ddof, keepdims, ignore_nan), g, axis,
                        keepdims)
    d[a] = std_grad_wrt_a(g, a, y, d[r], axis, ddof, keepdims, ignore_nan)
    d[y] = sum_restored(d[r], std_grad_wrt_y(g, a, y, 1.0, axis, ddof, keepdims, ignore_nan), y,
                        axis, keepdims)


@tangent(std_grad)
def std_grad_rule_tangent(r, g, a, y, axis=None, ddof=0, keepdims=False, ignore_nan=False):
    d[r] = std_grad(d[g], a, y, axis, ddof, keepdims, ignore_nan)
    d[r] += std_grad_wrt_a(g, a, y, d[a], axis, ddof, keepdims, ignore_nan)
    d[r] += std_grad_wrt_y(g, a, y, d[y], axis, ddof, keepdims, ignore_nan)


# -- weighted averages ---------------------------------------------------------------------

@adjoint(average_grad)
def average_grad_rule(r, g, a, y, axis=None, weights=None, keepdims=False):
    d[g] = sum_restored(d[r], average_grad(1.0, a, y, axis, weights, keepdims), g, axis, keepdims)
    d[weights] = average_grad_wrt_w_adjoint(g, a, axis, weights, d[r], keepdims)


@tangent(average_grad)
def average_grad_rule_tangent(r, g, a, y, axis=None, weights=None, keepdims=False):
    d[r] = average_grad(d[g], a, y, axis, weights, keepdims)
    d[r] += average_grad_wrt_w(g, a, axis, weights, d[weights], keepdims)


@adjoint(average_weights_grad)
def average_weights_grad_rule(r, g, a, y, axis=None, weights=None, keepdims=False):
    d[g] = average_weights_grad_adjoint(d[r], g, a, y, axis, weights, keepdims, "g")
    d[a] = average_weights_grad_adjoint(d[r], g, a, y, axis, weights, keepdims, "a")
    d[y] = average_weights_grad_adjoint(d[r], g, a, y, axis, weights, keepdims, "y")
    d[weights] = average_weights_grad_adjoint(d[r], g, a, y, axis, weights, keepdims, "weights")


@tangent(average_weights_grad)
def average_weights_grad_rule_tangent(r, g, a, y, axis=None, weights=None, keepdims=False):
    d[r] = average_weights_grad(d[g], a, y, axis, weights, keepdims)
    d[r] += average_weights_grad_wrt(g, a, y, axis, weights, keepdims, ta=d[a])
    d[r] += average_weights_grad_wrt(g, a, y, axis, weights, keepdims, ty=d[y])
    d[r] += average_weights_grad_wrt(g, a, y, axis, weights, keepdims, tw=d[weights])


# -- norms (the SVD-based matrix norms refuse: no second derivative) ----------------------

@adjoint(norm_grad)
def norm_grad_rule(r, g, x, y, ord=None, axis=None, keepdims=False):
    d[g] = sum_restored(d[r], norm_grad(1.0, x, y, ord, axis, keepdims), g, axis, keepdims)
    d[x] = norm_grad_wrt_x(g, x, y, d[r], ord, axis, keepdims)
    d[y] = sum_restored(d[r], norm_grad_wrt_y(g, x, y, 1.0, ord, axis, keepdims), y, axis,
                        keepdims)


@tangent(norm_grad)
def norm_grad_rule_tangent(r, g, x, y, ord=None, axis=None, keepdims=False):
    d[r] = norm_grad(d[g], x, y, ord, axis, keepdims)
    d[r] += norm_grad_wrt_x(g, x, y, d[x], ord, axis, keepdims)
    d[r] += norm_grad_wrt_y(g, x, y, d[y], ord, axis, keepdims)


# -- inverses, solves, determinants --------------------------------------------------------

@adjoint(inv_grad)
def inv_grad_rule(r, g, y):
    d[g] = inv_grad(d[r], np.swapaxes(y, -1, -2))      # -y u y
    d[y] = inv_grad_wrt_y_adjoint(g, y, d[r])


@tangent(inv_grad)
def inv_grad_rule_tangent(r, g, y):
    d[r] = inv_grad(d[g], y)
    d[r] += inv_grad_wrt_y(g, y, d[y])


@adjoint(solve_grad_b)
def solve_grad_b_rule(r, g, a, b):
    d[g] = unbroadcast(solve_grad_b_adjoint(d[r], a, b), g)
    d[a] = solve_grad_b_wrt_a_adjoint(g, a, b, d[r])


@tangent(solve_grad_b)
def solve_grad_b_rule_tangent(r, g, a, b):
    d[r] = solve_grad_b(d[g], a, b)
    d[r] += solve_grad_b_wrt_a(g, a, b, d[a])


@adjoint(solve_grad_a)
def solve_grad_a_rule(r, gb, a, b, x):
    grads = solve_grad_a_adjoint(d[r], gb, a, b, x)
    d[gb] = grads[0]
    d[x] = grads[1]


@tangent(solve_grad_a)
def solve_grad_a_rule_tangent(r, gb, a, b, x):
    d[r] = solve_grad_a(d[gb], a, b, x)
    d[r] += solve_grad_a(gb, a, b, d[x])


@adjoint(det_grad)
def det_grad_rule(r, g, a, y):
    d[g] = det_grad_adjoint(d[r], a, y)
    d[y] = det_grad_adjoint(d[r], a, g)
    d[a] = det_grad_wrt_a(g, a, y, d[r])


@tangent(det_grad)
def det_grad_rule_tangent(r, g, a, y):
    d[r] = det_grad(d[g], a, y)
    d[r] += det_grad(g, a, d[y])
    d[r] += det_grad_wrt_a(g, a, y, d[a])


@adjoint(cholesky_grad)
def cholesky_grad_rule(r, g, l, upper=False):
    grads = cholesky_grad_adjoint(d[r], g, l, upper)
    d[g] = grads[0]
    d[l] = grads[1]


@tangent(cholesky_grad)
def cholesky_grad_rule_tangent(r, g, l, upper=False):
    d[r] = cholesky_grad(d[g], l, upper)
    d[r] += cholesky_grad_wrt_l(g, l, d[l], upper)


@adjoint(slogdet_grad)
def slogdet_grad_rule(r, g, a):
    d[g] = slogdet_grad_adjoint(d[r], g, a)
    d[a] = slogdet_grad_wrt_a(g, a, d[r])


@tangent(slogdet_grad)
def slogdet_grad_rule_tangent(r, g, a):
    d[r] = slogdet_grad(d[g], a)
    d[r] += slogdet_grad_wrt_a(g, a, d[a])


# -- symmetric eigenvalues, powers ----------------------------------------------------------

@adjoint(eigvalsh_grad)
def eigvalsh_grad_rule(r, g, a, UPLO="L"):
    d[g] = eigvalsh_grad_adjoint(d[r], a, UPLO)
    d[a] = eigvalsh_grad_wrt_a(g, a, d[r], UPLO)


@tangent(eigvalsh_grad)
def eigvalsh_grad_rule_tangent(r, g, a, UPLO="L"):
    d[r] = eigvalsh_grad(d[g], a, UPLO)
    d[r] += eigvalsh_grad_wrt_a(g, a, d[a], UPLO)


@adjoint(matrix_power_grad)
def matrix_power_grad_rule(r, g, a, n):
    d[g] = unbroadcast(matrix_power_grad(d[r], np.swapaxes(a, -1, -2), n), g)
    d[a] = matrix_power_grad_wrt_a(g, a, d[r], n)


@tangent(matrix_power_grad)
def matrix_power_grad_rule_tangent(r, g, a, n):
    d[r] = matrix_power_grad(d[g], a, n)
    d[r] += matrix_power_grad_wrt_a(g, a, d[a], n)
