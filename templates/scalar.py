"""Adjoints and tangents of the math module and of the numeric builtins, for
Python floats.

These use math's own functions so a scalar gradient stays a fast Python float.
A tangent multiplies ``d[x]`` by a number computed from the values, never
passes it to a math function: in a batch, ``d[x]`` is an array of directions.
"""
import math

import numpy as np

from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
from pullback.runtime.elementwise import cast_like, power_slope

SHAPE = "scalar"            # a number when the arguments are numbers (rules.SHAPES)


@adjoint(math.sin)
def sin(y, x):
    d[x] = d[y] * math.cos(x)


@tangent(math.sin)
def sin_tangent(y, x):
    d[y] = d[x] * math.cos(x)


@adjoint(math.cos)
def cos(y, x):
    d[x] = -d[y] * math.sin(x)


@tangent(math.cos)
def cos_tangent(y, x):
    d[y] = -d[x] * math.sin(x)


@adjoint(math.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@tangent(math.tan)
def tan_tangent(y, x):
    d[y] = d[x] * (1.0 + y * y)


@adjoint(math.asin)
def asin(y, x):
    d[x] = d[y] / math.sqrt(1.0 - x * x)


@tangent(math.asin)
def asin_tangent(y, x):
    d[y] = d[x] / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def acos(y, x):
    d[x] = -d[y] / math.sqrt(1.0 - x * x)


@tangent(math.acos)
def acos_tangent(y, x):
    d[y] = -d[x] / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def atan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@tangent(math.atan)
def atan_tangent(y, x):
    d[y] = d[x] / (1.0 + x * x)


@adjoint(math.sinh)
def sinh(y, x):
    d[x] = d[y] * math.cosh(x)


@tangent(math.sinh)
def sinh_tangent(y, x):
    d[y] = d[x] * math.cosh(x)


@adjoint(math.cosh)
def cosh(y, x):
    d[x] = d[y] * math.sinh(x)


@tangent(math.cosh)
def cosh_tangent(y, x):
    d[y] = d[x] * math.sinh(x)


@adjoint(math.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@tangent(math.tanh)
def tanh_tangent(y, x):
    d[y] = d[x] * (1.0 - y * y)


@adjoint(math.exp)
def exp(y, x):
    d[x] = d[y] * y


@tangent(math.exp)
def exp_tangent(y, x):
    d[y] = d[x] * y


@adjoint(math.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@tangent(math.expm1)
def expm1_tangent(y, x):
    d[y] = d[x] * (y + 1.0)


@adjoint(math.log)
def log(y, x, base=None):
    if base is None:
        d[x] = d[y] / x
    else:
        d[x] = d[y] / (x * math.log(base))
        d[base] = -d[y] * y / (base * math.log(base))


@tangent(math.log)
def log_tangent(y, x, base=None):
    if base is None:
        d[y] = d[x] / x
    else:
        d[y] = d[x] / (x * math.log(base))
        d[y] -= d[base] * (y / (base * math.log(base)))


@adjoint(math.log1p)
def log1p(y, x):
    d[x] = d[y] / (1.0 + x)


@tangent(math.log1p)
def log1p_tangent(y, x):
    d[y] = d[x] / (1.0 + x)


@adjoint(math.log2)
def log2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@tangent(math.log2)
def log2_tangent(y, x):
    d[y] = d[x] / (x * math.log(2.0))


@adjoint(math.log10)
def log10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@tangent(math.log10)
def log10_tangent(y, x):
    d[y] = d[x] / (x * math.log(10.0))


@adjoint(math.sqrt)
def sqrt(y, x):
    d[x] = d[y] / (2.0 * y)


@tangent(math.sqrt)
def sqrt_tangent(y, x):
    d[y] = d[x] / (2.0 * y)


@adjoint(math.fabs)
def fabs(y, x):
    d[x] = d[y] * math.copysign(1.0, x) if x != 0 else 0.0


@tangent(math.fabs)
def fabs_tangent(y, x):
    d[y] = d[x] * (math.copysign(1.0, x) if x != 0 else 0.0)


@adjoint(math.pow)
def pow(z, x, y):
    # 0 where y == 0, at x = 0 too (see power_slope)
    d[x] = d[z] * power_slope(x, y)
    d[y] = d[z] * z * math.log(x) if x != 0 else 0.0


@tangent(math.pow)
def pow_tangent(z, x, y):
    d[z] = d[x] * power_slope(x, y)
    d[z] += d[y] * (z * math.log(x) if x != 0 else 0.0)


@adjoint(math.hypot)
def hypot(z, x, y):
    # At (0, 0), a kink, the subgradient 0 (x / z would be 0 / 0).
    d[x] = d[z] * x / z if z != 0 else 0.0
    d[y] = d[z] * y / z if z != 0 else 0.0


@tangent(math.hypot)
def hypot_tangent(z, x, y):
    d[z] = d[x] * (x / z if z != 0 else 0.0)
    d[z] += d[y] * (y / z if z != 0 else 0.0)


@adjoint(math.atan2)
def atan2(z, y, x):
    d[y] = d[z] * x / (x * x + y * y)
    d[x] = -d[z] * y / (x * x + y * y)


@tangent(math.atan2)
def atan2_tangent(z, y, x):
    d[z] = d[y] * (x / (x * x + y * y))
    d[z] -= d[x] * (y / (x * x + y * y))


@adjoint(math.asinh)
def asinh(y, x):
    d[x] = d[y] / math.hypot(x, 1.0)


@tangent(math.asinh)
def asinh_tangent(y, x):
    d[y] = d[x] / math.hypot(x, 1.0)


@adjoint(math.acosh)
def acosh(y, x):
    d[x] = d[y] / math.sqrt((x - 1.0) * (x + 1.0))


@tangent(math.acosh)
def acosh_tangent(y, x):
    d[y] = d[x] / math.sqrt((x - 1.0) * (x + 1.0))


@adjoint(math.atanh)
def atanh(y, x):
    d[x] = d[y] / ((1.0 - x) * (1.0 + x))


@tangent(math.atanh)
def atanh_tangent(y, x):
    d[y] = d[x] / ((1.0 - x) * (1.0 + x))


@adjoint(math.erf)
def erf(y, x):
    d[x] = d[y] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@tangent(math.erf)
def erf_tangent(y, x):
    d[y] = d[x] * ((2.0 / math.sqrt(math.pi)) * math.exp(-x * x))


@adjoint(math.erfc)
def erfc(y, x):
    d[x] = -d[y] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@tangent(math.erfc)
def erfc_tangent(y, x):
    d[y] = -d[x] * ((2.0 / math.sqrt(math.pi)) * math.exp(-x * x))


@adjoint(math.degrees)
def degrees(y, x):
    d[x] = d[y] * (180.0 / math.pi)


@tangent(math.degrees)
def degrees_tangent(y, x):
    d[y] = d[x] * (180.0 / math.pi)


@adjoint(math.radians)
def radians(y, x):
    d[x] = d[y] * (math.pi / 180.0)


@tangent(math.radians)
def radians_tangent(y, x):
    d[y] = d[x] * (math.pi / 180.0)


# math.cbrt and math.exp2 are new in Python 3.11.
if hasattr(math, "cbrt"):
    @adjoint(math.cbrt)
    def cbrt(y, x):
        d[x] = d[y] / (3.0 * y * y)

    @tangent(math.cbrt)
    def cbrt_tangent(y, x):
        d[y] = d[x] / (3.0 * y * y)


if hasattr(math, "exp2"):
    @adjoint(math.exp2)
    def exp2(y, x):
        d[x] = d[y] * y * math.log(2.0)

    @tangent(math.exp2)
    def exp2_tangent(y, x):
        d[y] = d[x] * (y * math.log(2.0))


@adjoint(math.copysign)
def copysign(z, x, y):
    # |x| with the sign of y: piecewise constant in y, which gets no gradient.
    d[x] = d[z] * math.copysign(1.0, x) * math.copysign(1.0, y)


@tangent(math.copysign)
def copysign_tangent(z, x, y):
    d[z] = d[x] * (math.copysign(1.0, x) * math.copysign(1.0, y))


@adjoint(math.fmod)
def fmod(z, x, y):
    # z = x - n * y, n = trunc(x / y), read back from z (exact).
    d[x] = d[z]
    d[y] = -d[z] * math.floor((x - z) / y + 0.5)


@tangent(math.fmod)
def fmod_tangent(z, x, y):
    d[z] = d[x]
    d[z] -= d[y] * math.floor((x - z) / y + 0.5)


@adjoint(math.remainder)
def remainder(z, x, y):
    # z = x - n * y, n the integer nearest to x / y, read back from z (exact).
    d[x] = d[z]
    d[y] = -d[z] * math.floor((x - z) / y + 0.5)


@tangent(math.remainder)
def remainder_tangent(z, x, y):
    d[z] = d[x]
    d[z] -= d[y] * math.floor((x - z) / y + 0.5)


@adjoint(math.ldexp)
def ldexp(z, x, i):
    # x * 2**i for an integer i: the gradient scales exactly.
    d[x] = math.ldexp(d[z], i)


@tangent(math.ldexp)
def ldexp_tangent(z, x, i):
    # np.ldexp scales a batch of directions too, exactly (math.ldexp takes a number).
    d[z] = np.ldexp(d[x], i)


@adjoint(float)
def to_float(y, x):
    d[x] = d[y]


@tangent(float)
def to_float_tangent(y, x):
    # float(x) of a float32 number: the tangent widened with it.
    d[y] = cast_like(d[x], y)


NONDIFFERENTIABLE = (
    math.floor, math.ceil, math.trunc, round, int, bool, len, math.isnan,
    math.isinf, math.isfinite,
)
