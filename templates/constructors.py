"""Adjoints of NumPy's array constructors.

Most constructors build arrays from shapes alone (zeros, eye, arange's
integer ranges): no derivative flows through them. The evenly spaced grids
are differentiable in their end points: every point is a fixed mix of
``start`` and ``stop`` (for logspace and geomspace, of their logarithms).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unbroadcast
from pullback.runtime.indexing import (arange_grad, geomspace_grad, linspace_grad,
                                       logspace_base_grad, logspace_grad)

SHAPE = "array"             # one array (rules.SHAPES)


@adjoint(np.full)
def full(y, shape, fill_value, dtype=None, order="C"):
    d[fill_value] = unbroadcast(d[y], fill_value)


@adjoint(np.full_like)
def full_like(y, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[fill_value] = unbroadcast(d[y], fill_value)


@adjoint(np.linspace)
def linspace(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[start] = linspace_grad(d[y], start, stop, num, endpoint, dtype, axis, wrt="start")
    d[stop] = linspace_grad(d[y], start, stop, num, endpoint, dtype, axis, wrt="stop")


@adjoint(np.logspace)
def logspace(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[start] = logspace_grad(d[y], y, start, stop, num, endpoint, base, dtype, axis, wrt="start")
    d[stop] = logspace_grad(d[y], y, start, stop, num, endpoint, base, dtype, axis, wrt="stop")
    d[base] = logspace_base_grad(d[y], y, start, stop, num, endpoint, base, dtype, axis)


@adjoint(np.geomspace)
def geomspace(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[start] = geomspace_grad(d[y], y, start, stop, num, endpoint, dtype, axis, wrt="start")
    d[stop] = geomspace_grad(d[y], y, start, stop, num, endpoint, dtype, axis, wrt="stop")


@adjoint(np.arange)
def arange(y, start, stop=None, step=None, dtype=None):
    # np.arange(n) counts up to n: its one argument is the stop, and the
    # values do not move with it. Otherwise point i is start + i * step.
    if stop is not None:
        d[start] = arange_grad(d[y], start, dtype, wrt="start")
        if step is not None:
            d[step] = arange_grad(d[y], step, dtype, wrt="step")


# Arrays built from shapes and sizes only: no gradient flows.
NONDIFFERENTIABLE = (
    np.empty, np.eye, np.identity, np.tri, np.indices, np.diag_indices, np.diag_indices_from,
    np.tril_indices, np.tril_indices_from, np.triu_indices, np.triu_indices_from,
    np.mask_indices,
)
