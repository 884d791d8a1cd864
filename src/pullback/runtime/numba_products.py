"""Numba twins of the product helpers (``compile="numba"``): ``@``, ``np.dot``,
``np.vdot`` and the ``x * y``, ``x + y`` of operands pullback could not tell
are numbers. numba_helpers.py explains the twins; it imports these.
"""
import numpy as np
from numba import types
from numba.extending import overload

from pullback import runtime
from pullback.runtime import sequence_arithmetic
from pullback.runtime.numba_helpers import _array, _number, _twin, unbroadcast


# -- products -------------------------------------------------------------------------

matmul_grad_lhs = _twin(runtime.matmul_grad_lhs)
matmul_grad_rhs = _twin(runtime.matmul_grad_rhs)


@overload(matmul_grad_lhs)
def _matmul_grad_lhs(g, a, b):
    if _array(a) and _array(b) and _array(g):
        if a.ndim == 2 and b.ndim == 2 and g.ndim == 2:
            return lambda g, a, b: g @ b.T
        if a.ndim == 2 and b.ndim == 1 and g.ndim == 1:
            return lambda g, a, b: np.outer(g, b)
        if a.ndim == 1 and b.ndim == 2 and g.ndim == 1:
            return lambda g, a, b: b @ g
    if _array(a) and _array(b) and a.ndim == 1 and b.ndim == 1:
        if _number(g):
            return lambda g, a, b: g * b
        if _array(g):                   # the adjoint of a broadcast of the product
            return lambda g, a, b: g.sum() * b
    return None


@overload(matmul_grad_rhs)
def _matmul_grad_rhs(g, a, b):
    if _array(a) and _array(b) and _array(g):
        if a.ndim == 2 and b.ndim == 2 and g.ndim == 2:
            return lambda g, a, b: a.T @ g
        if a.ndim == 2 and b.ndim == 1 and g.ndim == 1:
            return lambda g, a, b: a.T @ g
        if a.ndim == 1 and b.ndim == 2 and g.ndim == 1:
            return lambda g, a, b: np.outer(a, g)
    if _array(a) and _array(b) and a.ndim == 1 and b.ndim == 1:
        if _number(g):
            return lambda g, a, b: g * a
        if _array(g):
            return lambda g, a, b: g.sum() * a
    return None


# -- products of numbers and arrays (a callee's x * y, in case either were a list) ----

sequence_mul_grad = _twin(sequence_arithmetic.sequence_mul_grad)


def _numeric_pair(operands):
    """Two numbers or arrays (not lists: a ``+`` or ``*`` of lists joins or repeats them)."""
    return isinstance(operands, types.BaseTuple) and len(operands) == 2 and all(
        _number(t) or _array(t) for t in operands)


@overload(sequence_mul_grad)
def _sequence_mul_grad(g, operands):
    if _numeric_pair(operands):
        def impl(g, operands):
            x, y = operands
            return unbroadcast(g * y, x), unbroadcast(g * x, y)
        return impl
    return None


def vdot(*args):
    """Numba's np.vdot: the sum of the products of a's and b's entries, numbers too."""
    raise TypeError("vdot (pullback.runtime.numba_helpers) runs inside Numba-compiled code only")


vdot.numba_twin_of = np.vdot


@overload(vdot)
def _vdot(a, b):
    if _number(a) and _number(b):
        return lambda a, b: a * b
    if _array(a) and _array(b):
        def impl(a, b):
            if a.size != b.size:
                raise ValueError("vectors have different lengths")
            return np.sum(a.ravel() * b.ravel())
        return impl
    return None


dot_grad_lhs = _twin(runtime.dot_grad_lhs)
dot_grad_rhs = _twin(runtime.dot_grad_rhs)


@overload(dot_grad_lhs)
def _dot_grad_lhs(g, a, b):
    if _number(a) or _number(b):
        return lambda g, a, b: unbroadcast(g * b, a)
    if _array(b) and b.ndim <= 2:
        return lambda g, a, b: matmul_grad_lhs(g, a, b)
    return None


@overload(dot_grad_rhs)
def _dot_grad_rhs(g, a, b):
    if _number(a) or _number(b):
        return lambda g, a, b: unbroadcast(g * a, b)
    if _array(b) and b.ndim <= 2:
        return lambda g, a, b: matmul_grad_rhs(g, a, b)
    return None


sequence_add_grad = _twin(sequence_arithmetic.sequence_add_grad)


@overload(sequence_add_grad)
def _sequence_add_grad(g, operands):
    if _numeric_pair(operands):
        def impl(g, operands):
            x, y = operands
            return unbroadcast(g, x), unbroadcast(g, y)
        return impl
    return None
