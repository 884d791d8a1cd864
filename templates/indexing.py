"""Adjoints of NumPy's indexing, sorting and order-statistics functions.

Gathering functions (take, compress, choose...) send each output's gradient
back to the element it was read from, adding where an element was read more
than once; sorting sends it back through the sorting permutation; a quantile
sends it to the two order statistics it interpolates. (np.median and the
nan-quantiles are in templates/reductions.py.) The run-time steps are in
``pullback.runtime.indexing``.

Parameters follow NumPy's order, ``out`` included (pullback refuses it by
keyword; naming it here keeps positional calls bound as NumPy binds them).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime.indexing import (quantile_q_grad, unchoose, unextract, unpartition,
                                       unquantile, unsort, untake, untake_along_axis, ununique)


@adjoint(np.take)
def take(y, a, indices, axis=None, out=None, mode="raise"):
    d[a] = untake(d[y], a, indices, axis, mode)


@adjoint(np.take_along_axis)
def take_along_axis(y, arr, indices, axis=-1):
    d[arr] = untake_along_axis(d[y], arr, indices, axis)


@adjoint(np.compress)
def compress(y, condition, a, axis=None):
    d[a] = untake(d[y], a, np.flatnonzero(condition), axis)


@adjoint(np.extract)
def extract(y, condition, arr):
    d[arr] = unextract(d[y], condition, arr)


@adjoint(np.choose)
def choose(y, a, choices, out=None, mode="raise"):
    d[choices] = unchoose(d[y], a, choices, mode)


@adjoint(np.sort)
def sort(y, a, axis=-1, kind=None, order=None, *, stable=None):
    d[a] = unsort(d[y], a, axis)


@adjoint(np.partition)
def partition(y, a, kth, axis=-1, kind="introselect", order=None):
    d[a] = unpartition(d[y], y, a, axis)


@adjoint(np.unique)
def unique(y, ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True):
    d[ar] = ununique(d[y], y, ar, return_index, return_inverse, return_counts, axis)


@adjoint(np.quantile)
def quantile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    d[a] = unquantile(d[y], a, q, axis, method, overwrite_input)
    d[q] = quantile_q_grad(d[y], a, q, axis, method)


@adjoint(np.percentile)
def percentile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    d[a] = unquantile(d[y], a, q, axis, method, overwrite_input, scale=100.0)
    d[q] = quantile_q_grad(d[y], a, q, axis, method, scale=100.0)


# Results that are indices, counts, booleans or integers: no gradient flows.
NONDIFFERENTIABLE = (
    # where values are, or would go
    np.nonzero, np.flatnonzero, np.argwhere, np.argpartition, np.lexsort, np.searchsorted,
    np.digitize, np.nanargmax, np.nanargmin, np.ravel_multi_index, np.unravel_index,
    np.isin,
    # comparisons and tests of whole arrays or of each element
    np.isclose, np.allclose, np.array_equal, np.array_equiv, np.isreal, np.iscomplex,
    np.isrealobj, np.iscomplexobj,
    # integer bit operations
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift,
    np.right_shift,
)
