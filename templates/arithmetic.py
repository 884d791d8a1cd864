"""Adjoints and tangents of Python's arithmetic operators and their NumPy ufunc twins.

Binary rules sum the gradient back over broadcast axes (``unbroadcast``); the
gradient of a number multiplying an array is a dot product.
"""
import builtins
import operator

import numpy as np

from pullback.rules import adjoint, d, literal, number
from pullback.tangent_rules import tangent
from pullback.runtime import unbroadcast, matmul_grad_lhs, matmul_grad_rhs
from pullback.runtime.elementwise import cast_like, power_slope
from pullback.runtime.tangents import matmul_lhs_tangent, matmul_rhs_tangent, zeros_tangent

SHAPE = "elementwise"       # the result has the operands' broadcast shape (rules.SHAPES)


@adjoint(operator.add, np.add)
def add(z, x, y):
    d[x] = d[z] if literal(y) else unbroadcast(d[z], x)
    d[y] = d[z] if literal(x) else unbroadcast(d[z], y)


@tangent(operator.add, np.add)
def add_tangent(z, x, y):
    d[z] = d[x]
    d[z] += d[y]


@adjoint(operator.sub, np.subtract)
def sub(z, x, y):
    d[x] = d[z] if literal(y) else unbroadcast(d[z], x)
    d[y] = -d[z] if literal(x) else -unbroadcast(d[z], y)     # negate after summing


@tangent(operator.sub, np.subtract)
def sub_tangent(z, x, y):
    d[z] = d[x]
    d[z] -= d[y]


@adjoint(operator.mul, np.multiply)
def mul(z, x, y):
    # A number times an array: the number's gradient is a dot product (one
    # pass, no temporary) of the result's gradient with the array.
    d[x] = d[z] * y if literal(y) else (np.vdot(d[z], y) if number(x) and not number(y)
                                        else unbroadcast(d[z] * y, x))
    d[y] = d[z] * x if literal(x) else (np.vdot(d[z], x) if number(y) and not number(x)
                                        else unbroadcast(d[z] * x, y))


@tangent(operator.mul, np.multiply)
def mul_tangent(z, x, y):
    d[z] = d[x] * y
    d[z] += x * d[y]


@adjoint(operator.truediv, np.divide, np.true_divide)
def truediv(z, x, y):
    # one division serves both: y's gradient -d[z] z / y is -(d[z] / y) z
    scaled = d[z] / y
    d[x] = scaled if literal(y) else unbroadcast(scaled, x)
    d[y] = -scaled * z if literal(x) else unbroadcast(-scaled * z, y)


@tangent(operator.truediv, np.divide, np.true_divide)
def truediv_tangent(z, x, y):
    d[z] = d[x] / y
    d[z] -= d[y] * (z / y)


@adjoint(operator.pow, np.power, pow)
def pow(z, x, y):
    # y x ** (y - 1), decided for an exponent written in the code: x ** 0 has
    # no gradient (0 * 0 ** -1 would be NaN at x = 0), x ** 2 gets 2 * x. A
    # number x ** 0.5 at x = 0 gets inf from power_slope, where 0.0 ** -0.5 raises.
    if literal(y):
        if y != 0:
            d[x] = d[z] * power_slope(x, y) if 0 < y < 1 and number(x) else d[z] * y * x ** (y - 1)
    else:
        d[x] = unbroadcast(d[z] * power_slope(x, y), x)
    # d/dy x**y = x**y log(x); taken as 0 where x == 0, the limit from above.
    d[y] = unbroadcast(d[z] * z * np.log(np.where(x == 0, 1.0, x)), y)


@tangent(operator.pow, np.power, builtins.pow)   # pow is the rule above
def pow_tangent(z, x, y):
    if literal(y):
        if y != 0:
            d[z] = d[x] * (power_slope(x, y) if 0 < y < 1 and number(x) else y * x ** (y - 1))
    else:
        d[z] = d[x] * power_slope(x, y)
    d[z] += d[y] * (z * np.log(np.where(x == 0, 1.0, x)))


@adjoint(np.float_power)
def float_power(z, x1, x2):
    # As power, computed in float64 (or complex); each gradient is given back the
    # dtype of its argument, so float32 arguments get float32 gradients.
    if literal(x2):
        if x2 != 0:
            d[x1] = cast_like(d[z] * x2 * np.float_power(x1, x2 - 1), x1)
    else:
        d[x1] = cast_like(unbroadcast(d[z] * power_slope(x1, x2, True), x1), x1)
    # d/dx2 x1**x2 = x1**x2 log(x1); taken as 0 where x1 == 0, the limit from above.
    d[x2] = cast_like(d[z] * z * np.log(np.where(x1 == 0, 1.0, x1)), x2) if literal(x1) \
        else cast_like(unbroadcast(d[z] * z * np.log(np.where(x1 == 0, 1.0, x1)), x2), x2)


@tangent(np.float_power)
def float_power_tangent(z, x1, x2):
    if literal(x2):
        if x2 != 0:
            d[z] = d[x1] * (x2 * np.float_power(x1, x2 - 1))
    else:
        d[z] = d[x1] * power_slope(x1, x2, True)
    d[z] += d[x2] * (z * np.log(np.where(x1 == 0, 1.0, x1)))


@adjoint(operator.mod, np.mod, np.remainder)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)


@tangent(operator.mod, np.mod, np.remainder)
def mod_tangent(z, x, y):
    d[z] = d[x]
    d[z] -= d[y] * np.floor_divide(x, y)


@adjoint(divmod, np.divmod, shape="other")     # a pair of arrays
def divmod(qr, x1, x2):
    # (x1 // x2, x1 % x2): the quotient is piecewise constant (no gradient); the
    # remainder x1 - x2 floor(x1 / x2) as for %, the quotient read back from qr.
    d[x1] = d[qr][1] if literal(x2) else unbroadcast(d[qr][1], x1)
    d[x2] = unbroadcast(-d[qr][1] * qr[0], x2)


@tangent(builtins.divmod, np.divmod)     # divmod is the rule above
def divmod_tangent(qr, x1, x2):
    # one direction at a time (shape "other"): the quotient's tangent is zero
    remainder = zeros_tangent(qr[1])
    remainder = remainder + d[x1]
    remainder = remainder - d[x2] * qr[0]
    d[qr] = (zeros_tangent(qr[0]), remainder)


@adjoint(operator.neg, np.negative)
def neg(y, x):
    d[x] = -d[y]


@tangent(operator.neg, np.negative)
def neg_tangent(y, x):
    d[y] = -d[x]


@adjoint(operator.pos, np.positive)
def pos(y, x):
    d[x] = d[y]


@tangent(operator.pos, np.positive)
def pos_tangent(y, x):
    d[y] = d[x]


@adjoint(operator.matmul, np.matmul, shape="product")
def matmul(z, x, y):
    d[x] = matmul_grad_lhs(d[z], x, y)
    d[y] = matmul_grad_rhs(d[z], x, y)


@tangent(operator.matmul, np.matmul, batched=True)
def matmul_tangent(z, x, y):
    # leading direction axes of d[x] stack matrices; a vector y takes d[y]'s as columns
    d[z] = matmul_lhs_tangent(d[x], x, y)
    d[z] += matmul_rhs_tangent(x, d[y], y)


# Piecewise constant: the derivative is zero wherever it exists.
NONDIFFERENTIABLE = (operator.floordiv, np.floor_divide)
