"""Adjoints of the math module and of the numeric builtins, for Python floats.

These use math's own functions so a scalar gradient stays a fast Python float.
"""
import math

from pullback.rules import adjoint, d
from pullback.runtime.elementwise import power_slope

SHAPE = "scalar"            # a number when the arguments are numbers (rules.SHAPES)


@adjoint(math.sin)
def sin(y, x):
    d[x] = d[y] * math.cos(x)


@adjoint(math.cos)
def cos(y, x):
    d[x] = -d[y] * math.sin(x)


@adjoint(math.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@adjoint(math.asin)
def asin(y, x):
    d[x] = d[y] / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def acos(y, x):
    d[x] = -d[y] / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def atan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@adjoint(math.sinh)
def sinh(y, x):
    d[x] = d[y] * math.cosh(x)


@adjoint(math.cosh)
def cosh(y, x):
    d[x] = d[y] * math.sinh(x)


@adjoint(math.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@adjoint(math.exp)
def exp(y, x):
    d[x] = d[y] * y


@adjoint(math.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@adjoint(math.log)
def log(y, x, base=None):
    if base is None:
        d[x] = d[y] / x
    else:
        d[x] = d[y] / (x * math.log(base))
        d[base] = -d[y] * y / (base * math.log(base))


@adjoint(math.log1p)
def log1p(y, x):
    d[x] = d[y] / (1.0 + x)


@adjoint(math.log2)
def log2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@adjoint(math.log10)
def log10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@adjoint(math.sqrt)
def sqrt(y, x):
    d[x] = d[y] / (2.0 * y)


@adjoint(math.fabs)
def fabs(y, x):
    d[x] = d[y] * math.copysign(1.0, x) if x != 0 else 0.0


@adjoint(math.pow)
def pow(z, x, y):
    # 0 where y == 0, at x = 0 too (see power_slope)
    d[x] = d[z] * power_slope(x, y)
    d[y] = d[z] * z * math.log(x) if x != 0 else 0.0


@adjoint(math.hypot)
def hypot(z, x, y):
    # At (0, 0), a kink, the subgradient 0 (x / z would be 0 / 0).
    d[x] = d[z] * x / z if z != 0 else 0.0
    d[y] = d[z] * y / z if z != 0 else 0.0


@adjoint(math.atan2)
def atan2(z, y, x):
    d[y] = d[z] * x / (x * x + y * y)
    d[x] = -d[z] * y / (x * x + y * y)


@adjoint(math.asinh)
def asinh(y, x):
    d[x] = d[y] / math.hypot(x, 1.0)


@adjoint(math.acosh)
def acosh(y, x):
    d[x] = d[y] / math.sqrt((x - 1.0) * (x + 1.0))


@adjoint(math.atanh)
def atanh(y, x):
    d[x] = d[y] / ((1.0 - x) * (1.0 + x))


@adjoint(math.erf)
def erf(y, x):
    d[x] = d[y] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.erfc)
def erfc(y, x):
    d[x] = -d[y] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.degrees)
def degrees(y, x):
    d[x] = d[y] * (180.0 / math.pi)


@adjoint(math.radians)
def radians(y, x):
    d[x] = d[y] * (math.pi / 180.0)


# math.cbrt and math.exp2 are new in Python 3.11.
if hasattr(math, "cbrt"):
    @adjoint(math.cbrt)
    def cbrt(y, x):
        d[x] = d[y] / (3.0 * y * y)

if hasattr(math, "exp2"):
    @adjoint(math.exp2)
    def exp2(y, x):
        d[x] = d[y] * y * math.log(2.0)


@adjoint(math.copysign)
def copysign(z, x, y):
    # |x| with the sign of y: piecewise constant in y, which gets no gradient.
    d[x] = d[z] * math.copysign(1.0, x) * math.copysign(1.0, y)


@adjoint(math.fmod)
def fmod(z, x, y):
    # z = x - n * y, n = trunc(x / y), read back from z (exact).
    d[x] = d[z]
    d[y] = -d[z] * math.floor((x - z) / y + 0.5)


@adjoint(math.remainder)
def remainder(z, x, y):
    # z = x - n * y, n the integer nearest to x / y, read back from z (exact).
    d[x] = d[z]
    d[y] = -d[z] * math.floor((x - z) / y + 0.5)


@adjoint(math.ldexp)
def ldexp(z, x, i):
    # x * 2**i for an integer i: the gradient scales exactly.
    d[x] = math.ldexp(d[z], i)


@adjoint(float)
def to_float(y, x):
    d[x] = d[y]


NONDIFFERENTIABLE = (
    math.floor, math.ceil, math.trunc, round, int, bool, len, math.isnan,
    math.isinf, math.isfinite,
)
