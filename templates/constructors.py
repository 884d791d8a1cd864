"""Adjoints and tangents of NumPy's array constructors.

Most constructors build arrays from shapes alone (zeros, eye, arange's
integer ranges): no derivative flows through them. The evenly spaced grids
are differentiable in their end points: every point is a fixed mix of
``start`` and ``stop`` (for logspace and geomspace, of their logarithms).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
from pullback.runtime import unbroadcast
from pullback.runtime.indexing import (arange_grad, geomspace_grad, linspace_grad,
                                       logspace_base_grad, logspace_grad)
from pullback.runtime.tangent_shape import (arange_along, geomspace_along, linspace_along,
                                            logspace_along, logspace_base_along, tangent_array)
from pullback.runtime.tangents import broadcast_tangent

SHAPE = "array"             # one array (rules.SHAPES)


@adjoint(np.full)
def full(y, shape, fill_value, dtype=None, order="C"):
    d[fill_value] = unbroadcast(d[y], fill_value)


@tangent(np.full, batched=True)
def full_tangent(y, shape, fill_value, dtype=None, order="C"):
    d[y] = broadcast_tangent(tangent_array(d[fill_value], fill_value), fill_value, y)


@adjoint(np.full_like)
def full_like(y, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[fill_value] = unbroadcast(d[y], fill_value)


@tangent(np.full_like, batched=True)
def full_like_tangent(y, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[y] = broadcast_tangent(tangent_array(d[fill_value], fill_value), fill_value, y)


@adjoint(np.linspace)
def linspace(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[start] = linspace_grad(d[y], start, stop, num, endpoint, dtype, axis, wrt="start")
    d[stop] = linspace_grad(d[y], start, stop, num, endpoint, dtype, axis, wrt="stop")


@tangent(np.linspace)
def linspace_tangent(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[y] = linspace_along(d[start], y, num, endpoint, dtype, axis, "start")
    d[y] += linspace_along(d[stop], y, num, endpoint, dtype, axis, "stop")


@adjoint(np.logspace)
def logspace(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[start] = logspace_grad(d[y], y, start, stop, num, endpoint, base, dtype, axis, wrt="start")
    d[stop] = logspace_grad(d[y], y, start, stop, num, endpoint, base, dtype, axis, wrt="stop")
    d[base] = logspace_base_grad(d[y], y, start, stop, num, endpoint, base, dtype, axis)


@tangent(np.logspace)
def logspace_tangent(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[y] = logspace_along(d[start], y, base, num, endpoint, dtype, axis, "start")
    d[y] += logspace_along(d[stop], y, base, num, endpoint, dtype, axis, "stop")
    d[y] += logspace_base_along(d[base], y, start, stop, num, endpoint, base, dtype, axis)


@adjoint(np.geomspace)
def geomspace(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[start] = geomspace_grad(d[y], y, start, stop, num, endpoint, dtype, axis, wrt="start")
    d[stop] = geomspace_grad(d[y], y, start, stop, num, endpoint, dtype, axis, wrt="stop")


@tangent(np.geomspace)
def geomspace_tangent(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[y] = geomspace_along(d[start], start, y, num, endpoint, dtype, axis, "start")
    d[y] += geomspace_along(d[stop], stop, y, num, endpoint, dtype, axis, "stop")


@adjoint(np.arange)
def arange(y, start, stop=None, step=None, dtype=None):
    # np.arange(n) counts up to n: its one argument is the stop, and the
    # values do not move with it. Otherwise point i is start + i * step.
    if stop is not None:
        d[start] = arange_grad(d[y], start, dtype, wrt="start")
        if step is not None:
            d[step] = arange_grad(d[y], step, dtype, wrt="step")


@tangent(np.arange)
def arange_tangent(y, start, stop=None, step=None, dtype=None):
    # np.arange(n): the values do not move with n (no tangent)
    if stop is not None:
        d[y] = arange_along(d[start], y, dtype, "start")
        if step is not None:
            d[y] += arange_along(d[step], y, dtype, "step")


# Arrays built from shapes and sizes only: no gradient flows.
NONDIFFERENTIABLE = (
    np.empty, np.eye, np.identity, np.tri, np.indices, np.diag_indices, np.diag_indices_from,
    np.tril_indices, np.tril_indices_from, np.triu_indices, np.triu_indices_from,
    np.mask_indices,
)
