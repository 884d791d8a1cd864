"""Run-time helpers of the elementwise rules (templates/elementwise.py,
templates/arithmetic.py).

Every helper keeps the floating-point type of the gradient it is given: a
float32 gradient stays float32 (the constants are Python floats, which NumPy
does not let widen an array's dtype).
"""
import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast
from pullback.runtime.arrays import (as_array, is_array, is_foreign_array, is_numeric_array,
                                     like_array, zeros_of)

__all__ = ["share", "clip_grad_a", "clip_grad_lower", "clip_grad_upper", "sinc_slope",
           "cast_like", "finite_part", "masked_mul", "masked_div", "power_slope", "select_grads", "select_default_grad", "nonzero"]


def share(g, a, b):
    """``g`` where ``a > b``, ``g / 2`` where ``a == b``, 0 elsewhere.

    The adjoint of ``maximum(a, b)`` with respect to ``a``: ties are split
    evenly, which is the derivative central differences see. Unlike
    ``g * split_ties(a, b)``, it keeps the dtype of ``g``. Selected, not
    multiplied: an infinite ``g`` on the side not taken gives 0 there, not
    NaN (``np.sqrt(np.maximum(x, 0.0))`` at x < 0, where the value is the
    constant 0 and sqrt's slope there is inf).
    """
    out = np.where(np.greater(a, b), g, 0.0)
    tie = np.equal(a, b)
    if not (type(tie) is np.ndarray or type(tie) is np.bool_) or tie.any():   # another library's
        # array is not asked (a lazy one would be computed)
        out = np.where(tie, 0.5 * g, out)
    return out if out.ndim else out[()]


def _lower_clipped(a, lower):
    return a if lower is None else np.maximum(a, lower)


def clip_grad_a(g, a, lower, upper):
    """Adjoint of ``np.clip(a, lower, upper)`` (= ``minimum(maximum(a, lower),
    upper)``) with respect to ``a``: ``g`` where lower < a < upper. Either
    bound may be None. The result has the broadcast shape of the three."""
    if upper is not None:
        g = share(g, upper, _lower_clipped(a, lower))
    if lower is not None:
        g = share(g, a, lower)
    return g


def clip_grad_lower(g, a, lower, upper):
    """Adjoint of ``np.clip(a, lower, upper)`` with respect to ``lower``: ``g``
    where the lower bound binds (a < lower, and lower < upper)."""
    if upper is not None:
        g = share(g, upper, np.maximum(a, lower))
    return share(g, lower, a)


def clip_grad_upper(g, a, lower, upper):
    """Adjoint of ``np.clip(a, lower, upper)`` with respect to ``upper``: ``g``
    where the upper bound binds (NumPy's clip returns ``upper`` wherever
    ``max(a, lower) > upper``, even when lower > upper)."""
    return share(g, _lower_clipped(a, lower), upper)


def sinc_slope(x, y):
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, given ``y = sinc(x)``.

    Near 0, where the formula cancels, its Taylor series
    -(pi^2 x / 3) (1 - u/10 + u^2/280 - u^3/15120), u = (pi x)^2, is used.
    """
    small = np.abs(x) < 1e-2
    safe = np.where(small, 1.0, x)
    u = (np.pi * x) * (np.pi * x)
    series = (-np.pi * np.pi / 3.0) * x * (1.0 - u / 10.0 + u * u / 280.0 - u * u * u / 15120.0)
    return np.where(small, series, (np.cos(np.pi * safe) - y) / safe)


def power_slope(x, y, float_power=False):
    """d/dx x ** y = y x ** (y - 1), and 0 where y == 0.

    x ** 0 is 1 for every x, 0 included, where the formula would give
    0 * 0 ** -1: NaN for arrays, ZeroDivisionError for numbers (polynomial
    features ``x ** k`` for k in range(n)). At x = 0 with 0 < y < 1 the
    derivative is infinite (a Python float gives inf rather than raising).
    ``float_power``: computed as np.float_power (float64 or wider).
    """
    if isinstance(x, (np.ndarray, np.generic)) or isinstance(y, (np.ndarray, np.generic)) \
            or float_power or (type(x) is not float and is_foreign_array(x)) \
            or (type(y) is not float and is_foreign_array(y)):
        power = np.float_power if float_power else np.power
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = y * power(x, y - 1)
        if is_array(slope) or np.ndim(y):
            return np.where(np.equal(y, 0), np.zeros_like(slope), slope)
        return slope if y != 0 else slope.dtype.type(0)
    if y == 0:
        return 0.0
    try:
        return y * x ** (y - 1)
    except ZeroDivisionError:
        return y * float("inf")


def select_grads(g, condlist, choicelist):
    """Adjoint of ``np.select(condlist, choicelist, default)`` with respect to
    each choice: ``g`` where that choice was taken (its condition is the first
    that holds), exact zeros elsewhere; summed back to the choice's shape."""
    taken = False
    grads = []
    for condition, choice in zip(condlist, choicelist):
        condition = as_array(condition, dtype=bool)
        grads.append(unbroadcast(np.where(condition & ~taken, g, 0.0), choice))
        taken = taken | condition
    return grads


def select_default_grad(g, condlist):
    """Adjoint of ``np.select`` with respect to ``default``: ``g`` where no
    condition holds (the caller sums it back to the default's shape)."""
    taken = zeros_of(np.shape(g), bool, g, condlist)
    for condition in condlist:
        taken = taken | as_array(condition, dtype=bool)
    return np.where(taken, 0.0, g)


def nonzero(y):
    """``y`` with zeros replaced by ones: ``x / nonzero(y)`` is 0 where a norm
    ``y`` of ``x`` is 0 (the subgradient 0 at the kink), in y's dtype."""
    if isinstance(y, np.ndarray) or is_foreign_array(y):
        return np.where(y == 0, y.dtype.type(1), y)
    return y if y != 0 else type(y)(1)


def cast_like(g, x):
    """``g`` in the floating-point type of ``x``.

    The adjoint of a cast (``np.float64(x)``, ``np.float32(x)``) and of
    functions that compute in another precision than their argument
    (``np.float_power``): a float32 argument gets a float32 gradient, a
    Python float a Python float. ``g`` must already have x's shape.
    A complex ``g`` for a real ``x`` is refused: casting would drop its
    imaginary part, a wrong gradient (a complex value pullback could not see
    when it wrote the derivative, such as a global array, was differentiated).
    """
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        raise NotDifferentiable("the gradient became complex: a complex intermediate value (from a "
                                "global or an argument) was differentiated; pullback "
                                "differentiates real-valued code only")
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "f" and np.result_type(g) != x.dtype:
            return as_array(g, dtype=x.dtype)
        return g
    if is_foreign_array(x):     # another library's: a gradient of its type
        return like_array(g, x, dtype=x.dtype if x.dtype.kind == "f" else None)
    if isinstance(x, np.generic):
        return x.dtype.type(g) if x.dtype.kind == "f" else g
    if isinstance(x, float) and np.ndim(g) == 0:
        return float(g)
    return g


def finite_part(g, x, copy=True):
    """Adjoint of ``np.nan_to_num(x)`` with respect to ``x``: ``g`` where x is
    finite, 0 where NaN or an infinity was replaced.

    ``copy=False`` overwrites an array ``x`` with the replacements, so where it
    held NaN or infinities can no longer be told: refused.
    """
    if not copy and isinstance(x, np.ndarray):
        raise NotDifferentiable("np.nan_to_num(x, copy=False) overwrites x, so its derivative "
                                "cannot be computed afterwards; pullback differentiates "
                                "np.nan_to_num with copy=True (the default).")
    return np.where(np.isfinite(x), g, 0.0)


# -- gradients that a selection (np.where, np.select) has zeroed --------------------------

def masked_mul(g, factor):
    """``g * factor``, but exactly 0 where ``g == 0``, even where ``factor`` is
    infinite or NaN.

    Used instead of ``*`` in the adjoints of the statements whose gradient a
    selection can zero (``np.where(x > 0, np.sqrt(x), 0.0)``: the sqrt branch
    gets 0 where x <= 0, and sqrt's local derivative there is inf or NaN). A
    zero gradient means the value was not selected there, so it contributes
    nothing. Keeps g's floating-point type (the zero is g's own).
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        product = g * factor
    return _zero_where_unselected(g, product)


def masked_div(g, divisor):
    """``g / divisor``, but exactly 0 where ``g == 0`` (see masked_mul): the
    divisor may be 0, inf or NaN where the value was not selected."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if is_numeric_array(g) or is_numeric_array(divisor):
            return _zero_where_unselected(g, np.divide(g, divisor))
    return g / divisor if g != 0 else 0.0


def _zero_where_unselected(g, value):
    if isinstance(value, np.ndarray) or is_foreign_array(value):
        return np.where(g == 0, value.dtype.type(0), value)
    if isinstance(value, np.generic):
        return value if g != 0 else value.dtype.type(0)
    return value if g != 0 else 0.0
