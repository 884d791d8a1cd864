"""Adjoints of NumPy's joining and splitting functions: each piece of a join
gets its slice of the gradient back; a split adds the gradients of its pieces
(the number 0 for a piece nobody used) back where the pieces came from.

A function taking a sequence of arrays (np.concatenate((a, b))) writes
``d[arrays]`` as a list with one gradient per element.
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime.shape import (restack, unappend, unblock, unconcatenate, undelete, unjoin,
                                    unsplit)

SHAPE = "array"             # one array (rules.SHAPES); the splits give lists: "other"


@adjoint(np.concatenate)
def concatenate(y, arrays, axis=0, dtype=None, casting="same_kind"):
    d[arrays] = unconcatenate(d[y], arrays, axis)


@adjoint(np.hstack)
def hstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] = unjoin(d[y], tup, "1d", 1)


@adjoint(np.vstack, *[f for f in (getattr(np, "row_stack", None),) if f is not None])
def vstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] = unjoin(d[y], tup, "2d", 0)


@adjoint(np.dstack)
def dstack(y, tup):
    d[tup] = unjoin(d[y], tup, "3d", 2)


@adjoint(np.column_stack)
def column_stack(y, tup):
    d[tup] = unjoin(d[y], tup, "column", 1)


# np.r_[a, b] and np.c_[a, b] (arrays and numbers only: resolve refuses slices and
# directive strings): the items, raised to 1-d (r_) or made columns (c_), joined
# along the first (r_) or the last (c_) axis.
@adjoint(np.r_, shape="other")
def index_rows(y, *items):
    d[items] = unjoin(d[y], items, "1d", 0)


@adjoint(np.c_, shape="other")
def index_columns(y, *items):
    d[items] = unjoin(d[y], items, "column", -1)


@adjoint(np.block)
def block(y, arrays):
    d[arrays] = unblock(d[y], arrays)


@adjoint(np.split, np.array_split, shape="other")
def split(y, ary, indices_or_sections, axis=0):
    d[ary] = unsplit(d[y], ary, indices_or_sections, axis)


@adjoint(np.hsplit, shape="other")
def hsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], ary, indices_or_sections, 1 if np.ndim(ary) > 1 else 0)


@adjoint(np.vsplit, shape="other")
def vsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], ary, indices_or_sections, 0)


@adjoint(np.dsplit, shape="other")
def dsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], ary, indices_or_sections, 2)


if hasattr(np, "unstack"):
    @adjoint(np.unstack, shape="other")
    def unstack_(y, x, axis=0):
        d[x] = restack(d[y], x, axis)


@adjoint(np.append)
def append(y, arr, values, axis=None):
    parts = unappend(d[y], arr, values, axis)
    d[arr] = parts[0]
    d[values] = parts[1]


@adjoint(np.delete)
def delete(y, arr, obj, axis=None):
    d[arr] = undelete(d[y], arr, obj, axis)
