"""Adjoints of NumPy's elementwise functions (ufuncs).

A unary rule keeps the shape of its argument, so it needs no unbroadcast;
binary rules sum the gradient back to each argument's shape.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unbroadcast, split_ties


@adjoint(np.sin)
def sin(y, x):
    d[x] = d[y] * np.cos(x)


@adjoint(np.cos)
def cos(y, x):
    d[x] = -d[y] * np.sin(x)


@adjoint(np.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@adjoint(np.arcsin)
def arcsin(y, x):
    d[x] = d[y] / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(y, x):
    d[x] = -d[y] / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@adjoint(np.sinh)
def sinh(y, x):
    d[x] = d[y] * np.cosh(x)


@adjoint(np.cosh)
def cosh(y, x):
    d[x] = d[y] * np.sinh(x)


@adjoint(np.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@adjoint(np.exp)
def exp(y, x):
    d[x] = d[y] * y


@adjoint(np.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@adjoint(np.log)
def log(y, x):
    d[x] = d[y] / x


@adjoint(np.log1p)
def log1p(y, x):
    d[x] = d[y] / (1.0 + x)


@adjoint(np.sqrt)
def sqrt(y, x):
    d[x] = d[y] / (2.0 * y)


@adjoint(np.square)
def square(y, x):
    d[x] = d[y] * 2.0 * x


@adjoint(np.reciprocal)
def reciprocal(y, x):
    d[x] = -d[y] * y * y


@adjoint(np.abs, np.absolute, np.fabs, abs)
def abs(y, x):
    d[x] = d[y] * np.sign(x)


@adjoint(np.maximum, np.fmax)
def maximum(y, x1, x2):
    d[x1] = unbroadcast(d[y] * split_ties(x1, x2), x1)
    d[x2] = unbroadcast(d[y] * split_ties(x2, x1), x2)


@adjoint(np.minimum, np.fmin)
def minimum(y, x1, x2):
    d[x1] = unbroadcast(d[y] * split_ties(x2, x1), x1)
    d[x2] = unbroadcast(d[y] * split_ties(x1, x2), x2)


@adjoint(np.where)
def where(out, condition, x, y):
    d[x] = unbroadcast(np.where(condition, d[out], 0.0), x)
    d[y] = unbroadcast(np.where(condition, 0.0, d[out]), y)


# Piecewise constant or boolean-valued: no gradient flows through these.
NONDIFFERENTIABLE = (
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.round, np.isnan,
    np.isinf, np.isfinite, np.greater, np.greater_equal, np.less,
    np.less_equal, np.equal, np.not_equal, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor, np.zeros_like, np.ones_like, np.zeros,
    np.ones, np.full, np.full_like, np.empty_like, np.shape, np.ndim, np.size,
    np.argmax, np.argmin, np.argsort,
)
