"""Adjoints of Python's arithmetic operators and their NumPy ufunc twins.

Binary rules sum the gradient back over broadcast axes (``unbroadcast``).
"""
import operator

import numpy as np

from pullback.rules import adjoint, d, literal
from pullback.runtime import unbroadcast, matmul_grad_lhs, matmul_grad_rhs


@adjoint(operator.add, np.add)
def add(z, x, y):
    d[x] = d[z] if literal(y) else unbroadcast(d[z], x)
    d[y] = d[z] if literal(x) else unbroadcast(d[z], y)


@adjoint(operator.sub, np.subtract)
def sub(z, x, y):
    d[x] = d[z] if literal(y) else unbroadcast(d[z], x)
    d[y] = -d[z] if literal(x) else unbroadcast(-d[z], y)


@adjoint(operator.mul, np.multiply)
def mul(z, x, y):
    d[x] = d[z] * y if literal(y) else unbroadcast(d[z] * y, x)
    d[y] = d[z] * x if literal(x) else unbroadcast(d[z] * x, y)


@adjoint(operator.truediv, np.divide, np.true_divide)
def truediv(z, x, y):
    d[x] = d[z] / y if literal(y) else unbroadcast(d[z] / y, x)
    d[y] = -d[z] * z / y if literal(x) else unbroadcast(-d[z] * z / y, y)


@adjoint(operator.pow, np.power, pow)
def pow(z, x, y):
    d[x] = d[z] * y * x ** (y - 1) if literal(y) else unbroadcast(d[z] * y * x ** (y - 1), x)
    # d/dy x**y = x**y log(x); taken as 0 where x == 0, the limit from above.
    d[y] = unbroadcast(d[z] * z * np.log(np.where(x == 0, 1.0, x)), y)


@adjoint(operator.mod, np.mod, np.remainder)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)


@adjoint(operator.neg, np.negative)
def neg(y, x):
    d[x] = -d[y]


@adjoint(operator.pos, np.positive)
def pos(y, x):
    d[x] = d[y]


@adjoint(operator.matmul, np.matmul)
def matmul(z, x, y):
    d[x] = matmul_grad_lhs(d[z], x, y)
    d[y] = matmul_grad_rhs(d[z], x, y)


# Piecewise constant: the derivative is zero wherever it exists.
NONDIFFERENTIABLE = (operator.floordiv, np.floor_divide)
