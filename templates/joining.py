"""Adjoints of NumPy's joining and splitting functions: each piece of a join
gets its slice of the gradient back; a split adds the gradients of its pieces
(the number 0 for a piece nobody used) back where the pieces came from.

A function taking a sequence of arrays (np.concatenate((a, b))) writes
``d[arrays]`` as a list with one gradient per element; its tangent rule reads
``d[arrays]`` as the tuple of the elements' tangents and joins them as the
values are joined (``tangent_items``: each with its direction axes in front).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.tangent_rules import tangent
from pullback.runtime.shape import (restack, unappend, unblock, unconcatenate, undelete,
                                    uninsert, unjoin, unsplit)
from pullback.runtime.tangent_shape import (as_lists, flattened, from_end, promoted_items,
                                            tangent_array, tangent_items)
from pullback.runtime.tangents import zeros_tangent

SHAPE = "array"             # one array (rules.SHAPES); the splits give lists: "other"


@adjoint(np.concatenate, shape="joined")
def concatenate(y, arrays, axis=0, dtype=None, casting="same_kind"):
    d[arrays] = unconcatenate(d[y], arrays, axis)


@tangent(np.concatenate, batched=True)
def concatenate_tangent(y, arrays, axis=0, dtype=None, casting="same_kind"):
    if axis is None:        # the flattened arrays, one after the other
        d[y] = np.concatenate(tangent_items(d[arrays], arrays, flat=True), -1)
    else:
        d[y] = np.concatenate(tangent_items(d[arrays], arrays), from_end(axis, y))


@adjoint(np.hstack, shape="hstacked")
def hstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] = unjoin(d[y], tup, "1d", 1)


@tangent(np.hstack, batched=True)
def hstack_tangent(y, tup, dtype=None, casting="same_kind"):
    axis = 1 if np.ndim(y) > 1 else 0       # 1-D items join along their only axis
    d[y] = np.concatenate(promoted_items(d[tup], tup, "1d"), from_end(axis, y))


@adjoint(np.vstack, *[f for f in (getattr(np, "row_stack", None),) if f is not None],
         shape="vstacked")
def vstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] = unjoin(d[y], tup, "2d", 0)


@tangent(np.vstack, *[f for f in (getattr(np, "row_stack", None),) if f is not None],
         batched=True)
def vstack_tangent(y, tup, dtype=None, casting="same_kind"):
    d[y] = np.concatenate(promoted_items(d[tup], tup, "2d"), -np.ndim(y))


@adjoint(np.dstack)
def dstack(y, tup):
    d[tup] = unjoin(d[y], tup, "3d", 2)


@tangent(np.dstack, batched=True)
def dstack_tangent(y, tup):
    d[y] = np.concatenate(promoted_items(d[tup], tup, "3d"), 2 - np.ndim(y))


@adjoint(np.column_stack)
def column_stack(y, tup):
    d[tup] = unjoin(d[y], tup, "column", 1)


@tangent(np.column_stack, batched=True)
def column_stack_tangent(y, tup):
    d[y] = np.concatenate(promoted_items(d[tup], tup, "column"), 1 - np.ndim(y))


# np.r_[a, b] and np.c_[a, b] (arrays and numbers only: resolve refuses slices and
# directive strings): the items, raised to 1-d (r_) or made columns (c_), joined
# along the first (r_) or the last (c_) axis.
@adjoint(np.r_, shape="other")
def index_rows(y, *items):
    d[items] = unjoin(d[y], items, "1d", 0)


@tangent(np.r_, batched=True)
def index_rows_tangent(y, *items):
    d[y] = np.concatenate(promoted_items(d[items], items, "1d"), -np.ndim(y))


@adjoint(np.c_, shape="other")
def index_columns(y, *items):
    d[items] = unjoin(d[y], items, "column", -1)


@tangent(np.c_, batched=True)
def index_columns_tangent(y, *items):
    d[y] = np.concatenate(promoted_items(d[items], items, "column"), -1)


@adjoint(np.block)
def block(y, arrays):
    d[arrays] = unblock(d[y], arrays)


@tangent(np.block)
def block_tangent(y, arrays):
    d[y] = np.block(as_lists(d[arrays]))        # np.block takes lists, not tuples


@adjoint(np.split, np.array_split, shape="other")
def split(y, ary, indices_or_sections, axis=0):
    d[ary] = unsplit(d[y], ary, indices_or_sections, axis)


# The pieces of the tangent where np.split cut the value: np.array_split cuts
# as np.split does wherever np.split succeeds.
@tangent(np.split, np.array_split, batched=True)
def split_tangent(y, ary, indices_or_sections, axis=0):
    d[y] = np.array_split(tangent_array(d[ary], ary), indices_or_sections, from_end(axis, ary))


@adjoint(np.hsplit, shape="other")
def hsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], ary, indices_or_sections, 1 if np.ndim(ary) > 1 else 0)


@tangent(np.hsplit, batched=True)
def hsplit_tangent(y, ary, indices_or_sections):
    axis = 1 if np.ndim(ary) > 1 else 0
    d[y] = np.array_split(tangent_array(d[ary], ary), indices_or_sections, from_end(axis, ary))


@adjoint(np.vsplit, shape="other")
def vsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], ary, indices_or_sections, 0)


@tangent(np.vsplit, batched=True)
def vsplit_tangent(y, ary, indices_or_sections):
    d[y] = np.array_split(tangent_array(d[ary], ary), indices_or_sections, -np.ndim(ary))


@adjoint(np.dsplit, shape="other")
def dsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], ary, indices_or_sections, 2)


@tangent(np.dsplit, batched=True)
def dsplit_tangent(y, ary, indices_or_sections):
    d[y] = np.array_split(tangent_array(d[ary], ary), indices_or_sections, 2 - np.ndim(ary))


if hasattr(np, "unstack"):
    @adjoint(np.unstack, shape="other")
    def unstack_(y, x, axis=0):
        d[x] = restack(d[y], x, axis)


    @tangent(np.unstack, batched=True)
    def unstack__tangent(y, x, axis=0):
        d[y] = np.unstack(tangent_array(d[x], x), axis=from_end(axis, x))


@adjoint(np.append)
def append(y, arr, values, axis=None):
    parts = unappend(d[y], arr, values, axis)
    d[arr] = parts[0]
    d[values] = parts[1]


@tangent(np.append)
def append_tangent(y, arr, values, axis=None):
    d[y] = np.append(d[arr], zeros_tangent(values), axis)
    d[y] += np.append(zeros_tangent(arr), d[values], axis)


@adjoint(np.insert)
def insert(y, arr, obj, values, axis=None):
    parts = uninsert(d[y], arr, obj, values, axis)
    d[arr] = parts[0]
    d[values] = parts[1]


@tangent(np.insert)
def insert_tangent(y, arr, obj, values, axis=None):
    d[y] = np.insert(d[arr], obj, zeros_tangent(values), axis)
    d[y] += np.insert(zeros_tangent(arr), obj, d[values], axis)


@adjoint(np.delete)
def delete(y, arr, obj, axis=None):
    d[arr] = undelete(d[y], arr, obj, axis)


@tangent(np.delete, batched=True)
def delete_tangent(y, arr, obj, axis=None):
    if axis is None:        # deletes from the flattened array
        d[y] = np.delete(flattened(d[arr], arr), obj, -1)
    else:
        d[y] = np.delete(tangent_array(d[arr], arr), obj, from_end(axis, arr))
