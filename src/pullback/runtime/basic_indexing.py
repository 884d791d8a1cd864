"""``add_at`` and ``scatter`` for a basic index into an array (generated code).

When the transformation knows ``x`` is an array and the index is made of
integers, slices and None only (no index arrays: no position is repeated),
the gradient of ``x[index]`` is added with ``+=`` on the positions, without
the questions the general helpers ask of lists, dicts and index arrays.
"""
import numpy as np

from pullback.runtime import _owned_array, zeros_adjoint
from pullback.runtime.declare import helper


@helper(shape_only=(1,), mutates=(0,))
def add_at_basic(total, x, index, g):
    """``add_at`` for an array ``x`` and a basic index: ``total[index] += g``
    (on a copy when ``total`` is not an array of x's shape of its own)."""
    if type(total) is not np.ndarray or not total.flags.writeable or not total.flags.owndata \
            or total.shape != x.shape:
        total = _owned_array(total, x)
    total[index] += g
    return total


@helper(shape_only=(1,), mutates=(0,))
def add_at_part(total, x, index, g):
    """``add_at_basic`` into a part of an array that no other value can read
    (optimize/write_into_parts.py proves it): a view is written in place, not
    copied; what is not a writable array of x's shape still is."""
    if type(total) is not np.ndarray or not total.flags.writeable or total.shape != x.shape:
        total = _owned_array(total, x)
    total[index] += g
    return total


@helper(shape_only=(0,), returns_new=True)
def scatter_basic(x, index, g):
    """``scatter`` for an array ``x`` and a basic index: zeros with ``g`` at ``index``
    (copied in where it has their dtype: a basic index names each position once,
    so no sum is needed, and the copy reads ``total`` no more)."""
    total = zeros_adjoint(x)
    if type(g) is np.ndarray and g.dtype == total.dtype:
        total[index] = g
    else:
        total[index] += g       # a number, or another dtype: NumPy's casting rules for +=
    return total
