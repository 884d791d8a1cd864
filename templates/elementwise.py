"""Adjoints and tangents of NumPy's elementwise functions (ufuncs).

A unary rule keeps the shape of its argument, so it needs no unbroadcast;
binary rules sum the gradient back to each argument's shape (skipped when the
other argument is a number written in the user's code: ``literal``). Where
the argument is known to be a number (``number``), ``math.sin``/``math.cos``
stand in for NumPy's: one Python float costs much less through ``math``
(not for functions that overflow, where ``math`` raises and NumPy gives inf).
Constants are Python floats (``math.log(2.0)``, ``np.pi / 180.0``), so a
float32 gradient stays float32.

Each tangent rule follows its adjoint. Its ``d[x]`` arrives broadcast against
the result (leading direction axes included), so it needs no unbroadcast, and
it makes the adjoint's choices where the function has a kink: ties of
maximum/minimum and clip split evenly (``share``), abs'(0) = 0, hypot's
slope 0 at the origin, selections pick the chosen operand's tangent.
"""
import builtins
import math
import operator

import numpy as np

from pullback.rules import adjoint, d, literal, number
from pullback.tangent_rules import tangent
from pullback.runtime import unbroadcast
from pullback.runtime.elementwise import (cast_like, clip_grad_a, clip_grad_lower,
                                          clip_grad_upper, finite_part, nonzero, select_default_grad,
                                          select_grads, share, sinc_slope)
from pullback.runtime.tangents import zeros_tangent

SHAPE = "elementwise"       # the result has the operands' broadcast shape (rules.SHAPES)


@adjoint(np.sin)
def sin(y, x):
    d[x] = d[y] * (math.cos(x) if number(x) else np.cos(x))


@adjoint(np.cos)
def cos(y, x):
    d[x] = -d[y] * (math.sin(x) if number(x) else np.sin(x))


@tangent(np.sin)
def sin_tangent(y, x):
    d[y] = d[x] * (math.cos(x) if number(x) else np.cos(x))


@tangent(np.cos)
def cos_tangent(y, x):
    d[y] = -d[x] * (math.sin(x) if number(x) else np.sin(x))


@adjoint(np.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@tangent(np.tan)
def tan_tangent(y, x):
    d[y] = d[x] * (1.0 + y * y)


@adjoint(np.arcsin)
def arcsin(y, x):
    d[x] = d[y] / np.sqrt(1.0 - x * x)


@tangent(np.arcsin)
def arcsin_tangent(y, x):
    d[y] = d[x] / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(y, x):
    d[x] = -d[y] / np.sqrt(1.0 - x * x)


@tangent(np.arccos)
def arccos_tangent(y, x):
    d[y] = -d[x] / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@tangent(np.arctan)
def arctan_tangent(y, x):
    d[y] = d[x] / (1.0 + x * x)


@adjoint(np.sinh)
def sinh(y, x):
    d[x] = d[y] * np.cosh(x)


@tangent(np.sinh)
def sinh_tangent(y, x):
    d[y] = d[x] * np.cosh(x)


@adjoint(np.cosh)
def cosh(y, x):
    d[x] = d[y] * np.sinh(x)


@tangent(np.cosh)
def cosh_tangent(y, x):
    d[y] = d[x] * np.sinh(x)


@adjoint(np.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@tangent(np.tanh)
def tanh_tangent(y, x):
    d[y] = d[x] * (1.0 - y * y)


@adjoint(np.exp)
def exp(y, x):
    d[x] = d[y] * y


@tangent(np.exp)
def exp_tangent(y, x):
    d[y] = d[x] * y


@adjoint(np.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@tangent(np.expm1)
def expm1_tangent(y, x):
    d[y] = d[x] * (y + 1.0)


@adjoint(np.log)
def log(y, x):
    d[x] = d[y] / x


@tangent(np.log)
def log_tangent(y, x):
    d[y] = d[x] / x


@adjoint(np.log1p)
def log1p(y, x):
    d[x] = d[y] / (1.0 + x)


@tangent(np.log1p)
def log1p_tangent(y, x):
    d[y] = d[x] / (1.0 + x)


@adjoint(np.sqrt)
def sqrt(y, x):
    d[x] = d[y] / (2.0 * y)


@tangent(np.sqrt)
def sqrt_tangent(y, x):
    d[y] = d[x] / (2.0 * y)


@adjoint(np.square)
def square(y, x):
    d[x] = d[y] * 2.0 * x


@tangent(np.square)
def square_tangent(y, x):
    d[y] = d[x] * (2.0 * x)


@adjoint(np.reciprocal)
def reciprocal(y, x):
    d[x] = -d[y] * y * y


@tangent(np.reciprocal)
def reciprocal_tangent(y, x):
    d[y] = -d[x] * (y * y)


@adjoint(np.abs, np.absolute, np.fabs, abs, operator.abs)
def abs(y, x):
    d[x] = d[y] * np.sign(x)


@tangent(np.abs, np.absolute, np.fabs, builtins.abs, operator.abs)    # abs is the rule above
def abs_tangent(y, x):
    d[y] = d[x] * np.sign(x)


@adjoint(np.maximum, np.fmax)
def maximum(y, x1, x2):
    # Ties split evenly (share), in the dtype of d[y].
    d[x1] = share(d[y], x1, x2) if literal(x2) else unbroadcast(share(d[y], x1, x2), x1)
    d[x2] = share(d[y], x2, x1) if literal(x1) else unbroadcast(share(d[y], x2, x1), x2)


@tangent(np.maximum, np.fmax)
def maximum_tangent(y, x1, x2):
    # The adjoint's choice at ties: each side gets half.
    d[y] = share(d[x1], x1, x2)
    d[y] += share(d[x2], x2, x1)


@adjoint(np.minimum, np.fmin)
def minimum(y, x1, x2):
    d[x1] = share(d[y], x2, x1) if literal(x2) else unbroadcast(share(d[y], x2, x1), x1)
    d[x2] = share(d[y], x1, x2) if literal(x1) else unbroadcast(share(d[y], x1, x2), x2)


@tangent(np.minimum, np.fmin)
def minimum_tangent(y, x1, x2):
    d[y] = share(d[x1], x2, x1)
    d[y] += share(d[x2], x1, x2)


@adjoint(np.where)
def where(out, condition, x, y):
    d[x] = unbroadcast(np.where(condition, d[out], 0.0), x)
    d[y] = unbroadcast(np.where(condition, 0.0, d[out]), y)


@tangent(np.where)
def where_tangent(out, condition, x, y):
    d[out] = np.where(condition, d[x], 0.0)
    d[out] += np.where(condition, 0.0, d[y])


@adjoint(np.select, shape="other")    # the shape of its choices, not of their list
def select(out, condlist, choicelist, default=0):
    # Each element comes from the first choice whose condition holds there, or
    # from default where none does: each gets the gradient where it was chosen.
    d[choicelist] = select_grads(d[out], condlist, choicelist)
    d[default] = unbroadcast(select_default_grad(d[out], condlist), default)


@tangent(np.select)
def select_tangent(out, condlist, choicelist, default=0):
    # One direction at a time: the tangents have their choices' own shapes.
    # np.select picks the tangent of the choice it picks the value of.
    d[out] = np.select(condlist, d[choicelist], zeros_tangent(out))
    d[out] += np.select(condlist, [zeros_tangent(out)] * len(condlist), d[default])


# -- inverse hyperbolic functions, other bases, roots ---------------------------

@adjoint(np.arcsinh)
def arcsinh(y, x):
    # 1 / sqrt(x^2 + 1), without overflow for large x.
    d[x] = d[y] / np.hypot(x, 1.0)


@tangent(np.arcsinh)
def arcsinh_tangent(y, x):
    d[y] = d[x] / np.hypot(x, 1.0)


@adjoint(np.arccosh)
def arccosh(y, x):
    d[x] = d[y] / np.sqrt((x - 1.0) * (x + 1.0))


@tangent(np.arccosh)
def arccosh_tangent(y, x):
    d[y] = d[x] / np.sqrt((x - 1.0) * (x + 1.0))


@adjoint(np.arctanh)
def arctanh(y, x):
    d[x] = d[y] / ((1.0 - x) * (1.0 + x))


@tangent(np.arctanh)
def arctanh_tangent(y, x):
    d[y] = d[x] / ((1.0 - x) * (1.0 + x))


@adjoint(np.exp2)
def exp2(y, x):
    d[x] = d[y] * y * math.log(2.0)


@tangent(np.exp2)
def exp2_tangent(y, x):
    d[y] = d[x] * (y * math.log(2.0))


@adjoint(np.log2)
def log2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@tangent(np.log2)
def log2_tangent(y, x):
    d[y] = d[x] / (x * math.log(2.0))


@adjoint(np.log10)
def log10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@tangent(np.log10)
def log10_tangent(y, x):
    d[y] = d[x] / (x * math.log(10.0))


@adjoint(np.cbrt)
def cbrt(y, x):
    d[x] = d[y] / (3.0 * y * y)


@tangent(np.cbrt)
def cbrt_tangent(y, x):
    d[y] = d[x] / (3.0 * y * y)


@adjoint(np.sinc)
def sinc(y, x):
    d[x] = d[y] * sinc_slope(x, y)


@tangent(np.sinc)
def sinc_tangent(y, x):
    d[y] = d[x] * sinc_slope(x, y)


@adjoint(np.deg2rad, np.radians)
def deg2rad(y, x):
    d[x] = d[y] * (np.pi / 180.0)


@tangent(np.deg2rad, np.radians)
def deg2rad_tangent(y, x):
    d[y] = d[x] * (np.pi / 180.0)


@adjoint(np.rad2deg, np.degrees)
def rad2deg(y, x):
    d[x] = d[y] * (180.0 / np.pi)


@tangent(np.rad2deg, np.degrees)
def rad2deg_tangent(y, x):
    d[y] = d[x] * (180.0 / np.pi)


# -- identities for real inputs, casts --------------------------------------------

@adjoint(np.conjugate)
def conjugate(y, x):
    d[x] = d[y]


@tangent(np.conjugate)
def conjugate_tangent(y, x):
    d[y] = d[x]


@adjoint(np.real)
def real(y, val):
    d[val] = d[y]


@tangent(np.real)
def real_tangent(y, val):
    d[y] = d[val]


@adjoint(np.float64, np.float32)
def to_float_type(y, x):
    # The gradient keeps the type of the value that was cast (float32 stays
    # float32 under np.float64(x), a Python float stays a Python float).
    d[x] = cast_like(d[y], x)


@tangent(np.float64, np.float32)
def to_float_type_tangent(y, x):
    # The tangent keeps its own type, as the gradient keeps x's: rounding it to
    # float32 under np.float32(x) would make it differ from the adjoint's.
    d[y] = d[x]


@adjoint(np.nan_to_num)
def nan_to_num(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # The identity where x is finite; elsewhere the replacement values receive it.
    d[x] = finite_part(d[y], x, copy)
    d[nan] = np.sum(np.where(np.isnan(x), d[y], 0.0))
    d[posinf] = np.sum(np.where(np.isposinf(x), d[y], 0.0))
    d[neginf] = np.sum(np.where(np.isneginf(x), d[y], 0.0))


@tangent(np.nan_to_num)
def nan_to_num_tangent(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # x's tangent where x is finite; the replacement's where it replaced.
    d[y] = finite_part(d[x], x, copy)
    d[y] += np.where(np.isnan(x), d[nan], 0.0)
    d[y] += np.where(np.isposinf(x), d[posinf], 0.0)
    d[y] += np.where(np.isneginf(x), d[neginf], 0.0)


# -- binary functions ----------------------------------------------------------

@adjoint(np.logaddexp)
def logaddexp(y, x1, x2):
    # softmax weights exp(x - y), never overflowing since y >= x1, x2.
    d[x1] = d[y] * np.exp(x1 - y) if literal(x2) else unbroadcast(d[y] * np.exp(x1 - y), x1)
    d[x2] = d[y] * np.exp(x2 - y) if literal(x1) else unbroadcast(d[y] * np.exp(x2 - y), x2)


@tangent(np.logaddexp)
def logaddexp_tangent(y, x1, x2):
    d[y] = d[x1] * np.exp(x1 - y)
    d[y] += d[x2] * np.exp(x2 - y)


@adjoint(np.logaddexp2)
def logaddexp2(y, x1, x2):
    d[x1] = d[y] * np.exp2(x1 - y) if literal(x2) else unbroadcast(d[y] * np.exp2(x1 - y), x1)
    d[x2] = d[y] * np.exp2(x2 - y) if literal(x1) else unbroadcast(d[y] * np.exp2(x2 - y), x2)


@tangent(np.logaddexp2)
def logaddexp2_tangent(y, x1, x2):
    d[y] = d[x1] * np.exp2(x1 - y)
    d[y] += d[x2] * np.exp2(x2 - y)


@adjoint(np.hypot)
def hypot(y, x1, x2):
    # At (0, 0), a kink, the subgradient 0 (x1 / y would be 0 / 0).
    d[x1] = d[y] * x1 / nonzero(y) if literal(x2) else unbroadcast(d[y] * x1 / nonzero(y), x1)
    d[x2] = d[y] * x2 / nonzero(y) if literal(x1) else unbroadcast(d[y] * x2 / nonzero(y), x2)


@tangent(np.hypot)
def hypot_tangent(y, x1, x2):
    # 0 at (0, 0), as the adjoint.
    d[y] = d[x1] * (x1 / nonzero(y))
    d[y] += d[x2] * (x2 / nonzero(y))


@adjoint(np.arctan2)
def arctan2(y, x1, x2):
    # arctan2(x1, x2) is the angle of the point (x2, x1).
    d[x1] = d[y] * x2 / (x1 * x1 + x2 * x2) if literal(x2) \
        else unbroadcast(d[y] * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] = -d[y] * x1 / (x1 * x1 + x2 * x2) if literal(x1) \
        else unbroadcast(-d[y] * x1 / (x1 * x1 + x2 * x2), x2)


@tangent(np.arctan2)
def arctan2_tangent(y, x1, x2):
    d[y] = d[x1] * (x2 / (x1 * x1 + x2 * x2))
    d[y] -= d[x2] * (x1 / (x1 * x1 + x2 * x2))


@adjoint(np.copysign)
def copysign(y, x1, x2):
    # |x1| with the sign of x2: piecewise constant in x2, which gets no gradient.
    # d/dx1 = sign(x1) sign(x2), the sign of x1 * x2 (signed zeros included).
    d[x1] = d[y] * np.copysign(1.0, x1 * x2) if literal(x2) \
        else unbroadcast(d[y] * np.copysign(1.0, x1 * x2), x1)


@tangent(np.copysign)
def copysign_tangent(y, x1, x2):
    d[y] = d[x1] * np.copysign(1.0, x1 * x2)


@adjoint(np.fmod)
def fmod(y, x1, x2):
    # y = x1 - n * x2 with n = trunc(x1 / x2), read back from y (exact) rather
    # than recomputed from a rounded quotient.
    d[x1] = d[y] if literal(x2) else unbroadcast(d[y], x1)
    d[x2] = -d[y] * np.rint((x1 - y) / x2) if literal(x1) \
        else unbroadcast(-d[y] * np.rint((x1 - y) / x2), x2)


@tangent(np.fmod)
def fmod_tangent(y, x1, x2):
    d[y] = d[x1]
    d[y] -= d[x2] * np.rint((x1 - y) / x2)


@adjoint(np.ldexp)
def ldexp(y, x1, x2):
    # x1 * 2**x2 with integer exponents x2: exact scaling of the gradient.
    d[x1] = np.ldexp(d[y], x2) if literal(x2) else unbroadcast(np.ldexp(d[y], x2), x1)


@tangent(np.ldexp)
def ldexp_tangent(y, x1, x2):
    d[y] = np.ldexp(d[x1], x2)


@adjoint(np.clip)
def clip(y, a, a_min=None, a_max=None, *, min=None, max=None):
    # clip(a, lo, hi) = minimum(maximum(a, lo), hi): the gradient passes to a
    # where lo < a < hi and to the bound that binds elsewhere (ties split
    # evenly, as for maximum). NumPy 2 also spells the bounds min= and max=,
    # as ndarray.clip does; either bound may be None.
    d[a] = clip_grad_a(d[y], a, a_min if min is None else min, a_max if max is None else max) \
        if (literal(a_min) or a_min is None) and (literal(a_max) or a_max is None) \
        and (literal(min) or min is None) and (literal(max) or max is None) \
        else unbroadcast(clip_grad_a(d[y], a, a_min if min is None else min,
                                     a_max if max is None else max), a)
    d[a_min] = unbroadcast(clip_grad_lower(d[y], a, a_min, a_max if max is None else max), a_min)
    d[min] = unbroadcast(clip_grad_lower(d[y], a, min, a_max if max is None else max), min)
    d[a_max] = unbroadcast(clip_grad_upper(d[y], a, a_min if min is None else min, a_max), a_max)
    d[max] = unbroadcast(clip_grad_upper(d[y], a, a_min if min is None else min, max), max)


@tangent(np.clip)
def clip_tangent(y, a, a_min=None, a_max=None, *, min=None, max=None):
    # Each input's tangent where it is the value clip returns (ties split
    # evenly, as in the adjoint).
    d[y] = clip_grad_a(d[a], a, a_min if min is None else min, a_max if max is None else max)
    d[y] += clip_grad_lower(d[a_min], a, a_min, a_max if max is None else max)
    d[y] += clip_grad_lower(d[min], a, min, a_max if max is None else max)
    d[y] += clip_grad_upper(d[a_max], a, a_min if min is None else min, a_max)
    d[y] += clip_grad_upper(d[max], a, a_min if min is None else min, max)


# Piecewise constant or boolean-valued: no gradient flows through these.
NONDIFFERENTIABLE = (
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.round, np.isnan,
    np.isinf, np.isfinite, np.greater, np.greater_equal, np.less,
    np.less_equal, np.equal, np.not_equal, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor, np.zeros_like, np.ones_like, np.zeros,
    np.ones, np.empty_like, np.shape, np.ndim, np.size,
    np.argmax, np.argmin, np.argsort,
    # heaviside(x1, x2) jumps at x1 == 0 (x2 is only its value there).
    np.heaviside, np.signbit, np.fix, np.isposinf, np.isneginf, np.spacing,
    # the imaginary part of a real value is 0, whatever the value.
    np.imag,
)
