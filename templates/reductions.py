"""Adjoints of reductions: the gradient is spread back over the reduced axes.

``unreduce`` restores the axes a reduction removed and broadcasts the
gradient to the input's shape; every rule here goes through it.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unreduce


@adjoint(np.sum)
def sum(y, a, axis=None, dtype=None, keepdims=False):
    if axis is None:
        d[a] = np.broadcast_to(d[y], np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims)


@adjoint(np.mean)
def mean(y, a, axis=None, dtype=None, keepdims=False):
    if axis is None:
        d[a] = np.broadcast_to(d[y] / np.size(a), np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims) * (np.size(y) / np.size(a))
