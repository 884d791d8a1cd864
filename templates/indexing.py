"""Adjoints and tangents of NumPy's indexing, sorting and order-statistics functions.

Gathering functions (take, compress, choose...) send each output's gradient
back to the element it was read from, adding where an element was read more
than once; sorting sends it back through the sorting permutation; a quantile
sends it to the two order statistics it interpolates. (np.median and the
nan-quantiles are in templates/reductions.py.) The run-time steps are in
``pullback.runtime.indexing``. A tangent gathers the argument's tangent as the
value was gathered, through the same permutations and weights as the adjoint
(``pullback.runtime.tangent_shape``), so each rule is the other's transpose.

Parameters follow NumPy's order, ``out`` included (pullback refuses it by
keyword; naming it here keeps positional calls bound as NumPy binds them).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
from pullback.runtime.indexing import (quantile_q_grad, unchoose, unextract, unpartition,
                                       unquantile, unsort, untake, untake_along_axis, ununique)
from pullback.runtime.tangent_shape import (flattened, from_end, lifted_index,
                                            partitioned_tangent, quantile_a_tangent,
                                            quantile_q_tangent, tangent_array,
                                            unique_values_tangent)


@adjoint(np.take)
def take(y, a, indices, axis=None, out=None, mode="raise"):
    d[a] = untake(d[y], a, indices, axis, mode)


@tangent(np.take, batched=True)
def take_tangent(y, a, indices, axis=None, out=None, mode="raise"):
    if axis is None:        # takes from the flattened array
        d[y] = np.take(flattened(d[a], a), indices, -1, mode=mode)
    else:
        d[y] = np.take(tangent_array(d[a], a), indices, from_end(axis, a), mode=mode)


@adjoint(np.take_along_axis)
def take_along_axis(y, arr, indices, axis=-1):
    d[arr] = untake_along_axis(d[y], arr, indices, axis)


@tangent(np.take_along_axis, batched=True)
def take_along_axis_tangent(y, arr, indices, axis=-1):
    if axis is None:        # takes from the flattened array
        d[y] = np.take_along_axis(flattened(d[arr], arr), lifted_index(indices, d[arr], arr), -1)
    else:
        d[y] = np.take_along_axis(tangent_array(d[arr], arr), lifted_index(indices, d[arr], arr),
                                  from_end(axis, arr))


@adjoint(np.compress)
def compress(y, condition, a, axis=None):
    d[a] = untake(d[y], a, np.flatnonzero(condition), axis)


@tangent(np.compress, batched=True)
def compress_tangent(y, condition, a, axis=None):
    if axis is None:        # from the flattened array
        d[y] = np.compress(condition, flattened(d[a], a), -1)
    else:
        d[y] = np.compress(condition, tangent_array(d[a], a), from_end(axis, a))


@adjoint(np.extract)
def extract(y, condition, arr):
    d[arr] = unextract(d[y], condition, arr)


@tangent(np.extract, batched=True)
def extract_tangent(y, condition, arr):
    d[y] = np.take(flattened(d[arr], arr), np.flatnonzero(condition), -1)


@adjoint(np.choose)
def choose(y, a, choices, out=None, mode="raise"):
    d[choices] = unchoose(d[y], a, choices, mode)


@tangent(np.choose)
def choose_tangent(y, a, choices, out=None, mode="raise"):
    d[y] = np.choose(a, d[choices], mode=mode)


@adjoint(np.sort)
def sort(y, a, axis=-1, kind=None, order=None, *, stable=None):
    d[a] = unsort(d[y], a, axis)


@tangent(np.sort, batched=True)
def sort_tangent(y, a, axis=-1, kind=None, order=None, *, stable=None):
    # through the permutation the adjoint uses (runtime.indexing.unsort)
    if axis is None:
        d[y] = np.take(flattened(d[a], a), np.argsort(a, axis=None), -1)
    else:
        permutation = lifted_index(np.argsort(a, axis=axis), d[a], a)
        d[y] = np.take_along_axis(tangent_array(d[a], a), permutation, from_end(axis, a))


@adjoint(np.partition)
def partition(y, a, kth, axis=-1, kind="introselect", order=None):
    d[a] = unpartition(d[y], y, a, axis)


@tangent(np.partition)
def partition_tangent(y, a, kth, axis=-1, kind="introselect", order=None):
    d[y] = partitioned_tangent(d[a], y, a, axis)


@adjoint(np.unique)
def unique(y, ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True):
    d[ar] = ununique(d[y], y, ar, return_index, return_inverse, return_counts, axis)


@tangent(np.unique)
def unique_tangent(y, ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
                   *, equal_nan=True):
    d[y] = unique_values_tangent(d[ar], y, ar, return_index, return_inverse, return_counts, axis)


@adjoint(np.quantile)
def quantile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    d[a] = unquantile(d[y], a, q, axis, method, overwrite_input)
    d[q] = quantile_q_grad(d[y], a, q, axis, method)


@tangent(np.quantile)
def quantile_tangent(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                     keepdims=False):
    d[y] = quantile_a_tangent(d[a], y, a, q, axis, method, overwrite_input)
    d[y] += quantile_q_tangent(d[q], y, a, q, axis, method)


@adjoint(np.percentile)
def percentile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    d[a] = unquantile(d[y], a, q, axis, method, overwrite_input, scale=100.0)
    d[q] = quantile_q_grad(d[y], a, q, axis, method, scale=100.0)


@tangent(np.percentile)
def percentile_tangent(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                       keepdims=False):
    d[y] = quantile_a_tangent(d[a], y, a, q, axis, method, overwrite_input, scale=100.0)
    d[y] += quantile_q_tangent(d[q], y, a, q, axis, method, scale=100.0)


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
