"""Run-time helpers of the shape and joining rules (templates/shape.py,
templates/joining.py): the adjoints of functions that move, copy, join and
split values without changing them.

Generated code imports these like the helpers of :mod:`pullback.runtime`.
Every helper returns a gradient with the shape of the argument it belongs to
and keeps the gradient's floating-point dtype (float32 stays float32).
"""
import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast, unstack
from pullback.runtime.arrays import (add_at_unbuffered, as_array, foreign_among, is_array,
                                     is_foreign_array, like_array, on_diagonal, refuse_array,
                                     shape_of, size_of, zeros_of)
from pullback.runtime.declare import helper

__all__ = ["like", "untile", "unrepeat", "unpad", "pad_values_grad", "untri", "undiag",
           "undiagonal", "untrace", "unconcatenate", "unjoin", "unsplit", "unappend", "undelete",
           "uninsert", "unatleast", "unresize", "unblock", "unbroadcast_arrays", "unrollaxis",
           "restack", "reshape_order", "unsum"]


def _dtype(g):
    dtype = as_array(g).dtype
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _axis(axis, ndim):
    return axis + ndim if axis < 0 else axis


@helper(shape_only=(1,), dtype=False)
def like(g, x):
    """``g`` reshaped to ``x``'s shape: a list or tuple ``x`` gets a list, an
    array ``x`` an array (a 0-d one for a number)."""
    if isinstance(x, (list, tuple)):
        return unstack(np.reshape(g, shape_of(x)), x, 0)
    if type(x) is not np.ndarray:
        g = like_array(g, x)        # another library's array: a gradient of its type
    return np.reshape(g, np.shape(x))


def _is_zero(part):
    """The number 0 that stands for "no gradient reached this piece"."""
    return isinstance(part, (int, float)) and part == 0


def _dtype_of_parts(g):
    """The floating dtype of a gradient that may be a list of pieces."""
    if isinstance(g, (list, tuple)):
        kinds = [p.dtype for p in g if isinstance(p, np.generic) or is_array(p)]
        return np.result_type(*kinds) if kinds else np.dtype(np.float64)
    return _dtype(g)


def _part(g, i, shape, dtype):
    """Piece ``i`` of a list gradient as an array of ``shape``; a missing piece
    (the number 0 that stands for "no gradient") becomes zeros."""
    part = g[i]
    if isinstance(part, (list, tuple)):
        part = np.stack(part) if foreign_among(part) is not None else np.asarray(part)
    if np.shape(part) != tuple(shape):
        part = np.broadcast_to(like_array(part, *(g if isinstance(g, (list, tuple)) else (g,))),
                               shape)
    if is_foreign_array(part):
        return part if part.dtype == dtype else part.astype(dtype)
    return np.asarray(part, dtype=dtype) if np.asarray(part).dtype != dtype else part


# -- tile, repeat, pad, resize -------------------------------------------------------

@helper(shape_only=(1,), dtype=False, returns_new=True)
def untile(g, a, reps):
    """Adjoint of ``np.tile(a, reps)``: the sum over all copies."""
    shape = np.shape(a)
    reps = tuple(np.atleast_1d(reps).tolist())
    n = max(len(shape), len(reps))
    base = (1,) * (n - len(shape)) + tuple(shape)
    reps = (1,) * (n - len(reps)) + reps
    interleaved = tuple(v for pair in zip(reps, base) for v in pair)
    g = np.reshape(g, interleaved)
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * n, 2))), shape)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def unrepeat(g, a, repeats, axis=None):
    """Adjoint of ``np.repeat(a, repeats, axis)``: each element gets the sum of
    its copies (``repeats`` a number or one count per element)."""
    shape = np.shape(a)
    g = as_array(g)
    construct = "The gradient of np.repeat (each element's copies summed: np.add.at)"
    if axis is None:
        n = int(np.prod(shape, dtype=int))
        total = zeros_of(n, _dtype(g), g)
        copies = np.repeat(like_array(np.arange(n), repeats), repeats, axis=0)  # (Dask: an axis)
        total = add_at_unbuffered(total, copies, np.reshape(g, (-1,)), construct)
        return np.reshape(total, shape)
    axis = _axis(axis, len(shape))
    moved = np.moveaxis(g, axis, 0)
    total = zeros_of((shape[axis],) + moved.shape[1:], _dtype(g), g)
    copies = np.repeat(like_array(np.arange(shape[axis]), repeats), repeats)
    total = add_at_unbuffered(total, copies, moved, construct)
    return np.moveaxis(total, 0, axis)


def _as_pairs(x, ndim):
    """np.pad's reading of pad_width / constant_values: an (ndim, 2) array."""
    x = np.asarray(x)
    if x.ndim < 3 and x.size == 1:
        return np.broadcast_to(np.ravel(x), (ndim, 2))
    if x.ndim < 3 and x.size == 2 and x.shape != (2, 1):
        return np.broadcast_to(np.ravel(x), (ndim, 2))
    return np.broadcast_to(x, (ndim, 2))


def _pad_pairs(pad_width, ndim):
    return np.round(_as_pairs(pad_width, ndim)).astype(np.intp)


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


@helper(shape_only=(1,), dtype=False)
def unpad(g, array, pad_width, mode="constant", reflect_type="even"):
    """Adjoint of ``np.pad(array, pad_width, mode)`` with respect to ``array``.

    ``constant``: the part of ``g`` that is not padding. ``edge``, ``reflect``,
    ``symmetric``, ``wrap`` (padding copies of elements): each element also
    receives the gradient of its copies.
    """
    shape = np.shape(array)
    g = as_array(g)
    if mode in ("constant", "empty"):
        pairs = _pad_pairs(pad_width, len(shape))
        index = tuple(slice(int(before), int(before) + n) for (before, _), n in zip(pairs, shape))
        return g[index]
    if mode in _INDEX_MODES and (reflect_type == "even" or mode in ("edge", "wrap")):
        size = int(np.prod(shape, dtype=int))
        source = like_array(np.pad(np.arange(size).reshape(shape), pad_width, mode=mode), g)
        total = np.bincount(np.ravel(source), weights=np.ravel(g), minlength=size)
        return np.reshape(total.astype(_dtype(g), copy=False), shape)
    raise NotDifferentiable(
        f"pullback differentiates np.pad with mode 'constant', 'edge', 'reflect', 'symmetric' "
        f"or 'wrap' (reflect_type='even'), not mode={mode!r}"
        + (f" with reflect_type={reflect_type!r}" if reflect_type != "even" else ""))


@helper(shape_only=(1, 3), dtype=False, returns_new=True)
def pad_values_grad(g, array, pad_width, constant_values):
    """Adjoint of ``np.pad(array, pad_width, constant_values=c)`` with respect to
    ``c`` (a number, a (before, after) pair or one pair per axis).

    NumPy fills the axes in order, each over the full extent of the axes
    before it, so a corner belongs to the last axis padded there.
    """
    shape = np.shape(array)
    ndim = len(shape)
    g = as_array(g)
    pairs = _pad_pairs(pad_width, ndim)
    foreign = is_foreign_array(g)       # its sums stacked, not written into a NumPy array
    grads = [] if foreign else np.zeros((ndim, 2), dtype=_dtype(g))
    for axis in range(ndim):
        inner = tuple(slice(None) if k <= axis else
                      slice(int(pairs[k][0]), int(pairs[k][0]) + shape[k]) for k in range(ndim))
        region = g[inner]
        before, after = int(pairs[axis][0]), int(pairs[axis][1])
        head = (slice(None),) * axis
        sums = (np.sum(region[head + (slice(0, before),)]),
                np.sum(region[head + (slice(region.shape[axis] - after, region.shape[axis]),)]))
        if foreign:
            grads += sums
        else:
            grads[axis] = sums
    if foreign:
        grads = np.reshape(np.stack(grads), (ndim, 2)).astype(_dtype(g), copy=False)
    values = as_array(constant_values)
    if values.ndim < 3 and values.size == 1:
        return np.reshape(np.sum(grads), values.shape)
    if values.ndim < 3 and values.size == 2 and values.shape != (2, 1):
        return np.reshape(np.sum(grads, axis=0), values.shape)
    extra = 2 - values.ndim
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(values.shape) if n == 1)
    return np.reshape(np.sum(grads, axis=axes) if axes else grads, values.shape)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def unresize(g, a, new_shape):
    """Adjoint of ``np.resize(a, new_shape)``: the flat result repeats the
    flattened ``a``; each element gets the sum over its copies."""
    shape = np.shape(a)
    size = int(np.prod(shape, dtype=int))
    source = like_array(np.resize(np.arange(size), new_shape), g)
    total = np.bincount(np.ravel(source), weights=np.ravel(g), minlength=size)
    return np.reshape(total.astype(_dtype(g), copy=False), shape)


# -- triangles and diagonals ------------------------------------------------------------

@helper(shape_only=(1,), dtype=False, returns_new=True)
def untri(g, m, k, upper):
    """Adjoint of ``np.triu(m, k)`` (``upper``) or ``np.tril(m, k)``: a 1-D ``m``
    was broadcast to the rows of a square matrix."""
    masked = np.triu(g, k) if upper else np.tril(g, k)
    if np.ndim(m) == 1:
        return np.sum(masked, axis=0)
    return masked


def _diagonal_positions(n, offset):
    steps = np.arange(n)
    return (steps, steps + offset) if offset >= 0 else (steps - offset, steps)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def undiagonal(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` (its last axis
    along the diagonal) written into zeros of a's shape."""
    shape = np.shape(a)
    ndim = len(shape)
    axis1, axis2 = _axis(axis1, ndim), _axis(axis2, ndim)
    rest = [n for k, n in enumerate(shape) if k not in (axis1, axis2)]
    n = max(0, min(shape[axis1] - max(0, -offset), shape[axis2] - max(0, offset)))
    if foreign_among(g, a) is not None:     # not every library assigns through two index arrays
        return np.moveaxis(on_diagonal(g, shape[axis1], shape[axis2], offset, n), (-2, -1),
                           (axis1, axis2))
    total = zeros_of(tuple(rest) + (shape[axis1], shape[axis2]), _dtype(g), g, a)
    rows, cols = _diagonal_positions(n, offset)
    total[..., rows, cols] = g
    return np.moveaxis(total, (-2, -1), (axis1, axis2))


@helper(shape_only=(1,), dtype=False, returns_new=True)
def untrace(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.trace(a, offset, axis1, axis2)``."""
    return undiagonal(np.expand_dims(g, -1), a, offset, axis1, axis2)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def undiag(g, v, k=0):
    """Adjoint of ``np.diag(v, k)``: a 1-D ``v`` became a matrix (take back the
    diagonal), a 2-D ``v`` gave its diagonal (write it back)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return undiagonal(g, v, k, 0, 1)


# -- joining ------------------------------------------------------------------------------

def _split_along(g, sizes, axis):
    """``g`` cut along ``axis`` into slices of ``sizes`` (np.split's, without its work)."""
    head, start, parts = (slice(None),) * (axis % g.ndim), 0, []
    for size in sizes:
        parts.append(g[head + (slice(start, start + size),)])
        start += size
    return parts


def _give_back(parts, items):
    """Each part reshaped to its item (a list item gets a list gradient); an
    array of items (``np.concatenate(x)`` of a 2-D x) gets an array."""
    grads = [part if type(item) is np.ndarray and part.shape == item.shape else like(part, item)
             for part, item in zip(parts, items)]
    if not isinstance(items, (list, tuple)):
        return np.reshape(np.stack(grads) if grads else zeros_of(np.shape(items), float, items),
                          np.shape(items))
    return grads


@helper(shape_only=(1,), dtype=False, new_list=True, disjoint_parts=True)
def unconcatenate(g, arrays, axis=0):
    """Adjoint of ``np.concatenate(arrays, axis)`` (``axis=None``: flattened)."""
    g = as_array(g)
    if axis is None:
        sizes = [int(size_of(item)) for item in arrays]
        return _give_back(_split_along(np.ravel(g), sizes, 0), arrays)
    sizes = [np.shape(item)[axis] for item in arrays]
    return _give_back(_split_along(g, sizes, axis), arrays)


def _column(item):
    item = as_array(item)
    return np.reshape(item, (1,) * (2 - item.ndim) + item.shape).T if item.ndim < 2 else item


_PROMOTE = {"1d": np.atleast_1d, "2d": np.atleast_2d, "3d": np.atleast_3d, "column": _column}


@helper(shape_only=(1,), dtype=False, new_list=True, disjoint_parts=True)
def unjoin(g, tup, promote, axis):
    """Adjoint of hstack/vstack/dstack/column_stack: the items, promoted to at
    least 1, 2 or 3 dimensions (or to columns), were concatenated along ``axis``."""
    g = as_array(g)
    raise_to = _PROMOTE[promote]
    promoted = [np.shape(raise_to(as_array(item))) for item in tup]
    if promote == "1d" and promoted and len(promoted[0]) == 1:
        axis = 0            # hstack of 1-D arrays joins along the only axis
    sizes = [s[axis] for s in promoted]
    return _give_back(_split_along(g, sizes, axis), tup)


@helper(shape_only=(1,), dtype=False)
def unatleast(g, arys):
    """Adjoint of ``np.atleast_1d/2d/3d(*arys)``: one argument gives one array,
    several a tuple of arrays."""
    if len(arys) == 1:
        return [like(g, arys[0])]
    return [zeros_of(np.shape(item), _dtype_of_parts(g), item, g) if _is_zero(g[i])
            else like(g[i], item) for i, item in enumerate(arys)]


def _section_bounds(n, indices_or_sections):
    """Start and stop of each piece of np.array_split / np.split along an axis of length n."""
    try:
        indices = [int(i) for i in indices_or_sections]
    except TypeError:
        sections = int(indices_or_sections)
        each, extra = divmod(n, sections)
        sizes = [0] + extra * [each + 1] + (sections - extra) * [each]
        points = np.cumsum(sizes).tolist()
        return list(zip(points[:-1], points[1:]))
    points = [0] + indices + [n]
    return list(zip(points[:-1], points[1:]))


@helper(shape_only=(1,), dtype=False, returns_new=True)
def unsplit(g, ary, indices_or_sections, axis=0):
    """Adjoint of ``np.split`` / ``np.array_split`` (and h/v/dsplit): the
    gradient of the list of pieces, added back where each piece came from.

    ``g`` is a list (pieces nobody used may be the number 0) or an array
    stacking equally shaped pieces.
    """
    shape = np.shape(ary)
    axis = _axis(axis, len(shape))
    dtype = _dtype_of_parts(g)
    total = zeros_of(shape, dtype, ary, g)
    head = (slice(None),) * axis
    for i, (start, stop) in enumerate(_section_bounds(shape[axis], indices_or_sections)):
        index = head + (slice(start, stop),)
        if _is_zero(g[i]):
            continue
        total[index] += _part(g, i, total[index].shape, dtype)
    return total


@helper(shape_only=(1, 2), dtype=False)
def unappend(g, arr, values, axis=None):
    """Adjoint of ``np.append(arr, values, axis)``: (gradient of arr, gradient of values)."""
    g = as_array(g)
    if axis is None:
        flat = np.ravel(g)
        size = int(size_of(arr))
        return like(flat[:size], arr), like(flat[size:], values)
    first, second = _split_along(g, [np.shape(arr)[axis], np.shape(values)[axis]], axis)
    return like(first, arr), like(second, values)


@helper(shape_only=(1, 3), dtype=False)
def uninsert(g, arr, obj, values, axis=None):
    """Adjoint of ``np.insert(arr, obj, values, axis)``: (gradient of arr, gradient
    of values). Where each element of the result came from is read off np.insert
    itself, run on the positions of arr's elements (0, 1, ...) and of values'
    (-1, -2, ...); a value broadcast into several places gets their gradients' sum."""
    g = np.ravel(as_array(g))
    arr_size, values_size = int(size_of(arr)), int(size_of(values))
    origin = np.ravel(np.insert(np.reshape(np.arange(arr_size), np.shape(arr)), obj,
                                np.reshape(-1 - np.arange(values_size), np.shape(values)), axis))
    kept = origin >= 0
    arr_grad = zeros_of(arr_size, _dtype(g), g)
    arr_grad[like_array(origin[kept], g)] = g[like_array(kept, g)]
    values_grad = zeros_of(values_size, _dtype(g), g)
    values_grad = add_at_unbuffered(
        values_grad, -1 - origin[~kept], g[like_array(~kept, g)],
        "The gradient of np.insert's values (repeated places add up: np.add.at)")
    return like(arr_grad, arr), like(values_grad, values)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def undelete(g, arr, obj, axis=None):
    """Adjoint of ``np.delete(arr, obj, axis)``: the kept elements get their gradient."""
    shape = np.shape(arr)
    g = as_array(g)
    total = zeros_of(shape, _dtype(g), g)
    if axis is None:
        size = int(np.prod(shape, dtype=int))
        kept = like_array(np.delete(np.arange(size), obj), g)
        flat = np.reshape(total, (-1,))
        flat[kept] = np.ravel(g)
        return np.reshape(flat, shape)
    axis = _axis(axis, len(shape))
    kept = like_array(np.delete(np.arange(shape[axis]), obj), g)
    total[(slice(None),) * axis + (kept,)] = g
    return total


@helper(shape_only=(1,), dtype=False)
def unbroadcast_arrays(g, args):
    """Adjoint of ``np.broadcast_arrays(*args)``: each argument sums its part
    over the axes broadcasting added (a missing part, the number 0, gives zeros)."""
    out = []
    for i, item in enumerate(args):
        if _is_zero(g[i]):
            out.append(zeros_of(np.shape(item), _dtype_of_parts(g), item, g))
        else:
            out.append(unbroadcast(as_array(g[i]), item))
    return out


def _block_depth(arrays):
    depth = 0
    while isinstance(arrays, list):
        if not arrays:
            break
        arrays = arrays[0]
        depth += 1
    return depth


@helper(shape_only=(1,), dtype=False, new_list=True)
def unblock(g, arrays):
    """Adjoint of ``np.block(arrays)``: nested lists of arrays concatenated
    along the last axis at the innermost level, the axis before at the next
    level out, and so on."""
    depth = _block_depth(arrays)
    ndim = max(np.ndim(g), depth)
    g = np.reshape(g, (1,) * (ndim - np.ndim(g)) + np.shape(g))

    def shape_of(item, level):
        if isinstance(item, list):
            parts = [shape_of(sub, level + 1) for sub in item]
            axis = ndim - (depth - level)
            shape = list(parts[0])
            shape[axis] = sum(p[axis] for p in parts)
            return tuple(shape)
        s = np.shape(item)
        return (1,) * (ndim - len(s)) + s

    def back(part, item, level):
        if not isinstance(item, list):
            return np.reshape(part, np.shape(item))
        axis = ndim - (depth - level)
        sizes = [shape_of(sub, level + 1)[axis] for sub in item]
        return [back(p, sub, level + 1) for p, sub in zip(_split_along(part, sizes, axis), item)]

    return back(g, arrays, 0)


@helper(shape_only=(1,), dtype=False)
def unrollaxis(g, a, axis, start=0):
    """Adjoint of ``np.rollaxis(a, axis, start)``: the axis moved back."""
    ndim = np.ndim(a)
    axis = _axis(axis, ndim)
    start = start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    return np.moveaxis(g, start, axis)


@helper(shape_only=(1,), dtype=False)
def restack(g, x, axis=0):
    """Adjoint of ``np.unstack(x, axis)`` (a tuple of the slices of ``x`` along
    ``axis``): the slices' gradients stacked back, zeros for unused ones."""
    shape = np.shape(x)
    axis = _axis(axis, len(shape))
    if not isinstance(g, (list, tuple)):
        return np.moveaxis(as_array(g), 0, axis)
    piece = shape[:axis] + shape[axis + 1:]
    dtype = _dtype_of_parts(g)
    return np.stack([_part(g, i, piece, dtype) for i in range(shape[axis])], axis=axis)


def reshape_order(a, order):
    """The order ``np.reshape(g, shape_of_a, order)`` needs to undo a
    reshape/ravel of ``a`` in ``order`` ('C', 'F', or 'A': Fortran for an
    array laid out that way)."""
    if order in ("C", "F", None):
        return order or "C"
    if order == "A":
        if is_foreign_array(a) and not hasattr(a, "flags"):
            refuse_array(a, "A reshape in order 'A' (the order of the array's memory layout)",
                         "Pass order='C' or order='F'.")
        flags = getattr(a, "flags", None)
        return "F" if flags is not None and flags.f_contiguous and not flags.c_contiguous else "C"
    raise NotDifferentiable(f"pullback differentiates reshapes in order 'C', 'F' or 'A', "
                              f"not order={order!r}")


@helper(shape_only=(1,), dtype=False, new_list=True)
def unsum(g, iterable):
    """Adjoint of the builtin ``sum(iterable, start)`` with respect to the
    items: each item receives ``g`` summed over the axes broadcasting added
    to it (an array's items are its rows)."""
    if isinstance(iterable, (list, tuple)):
        return [unbroadcast(g, item) for item in iterable]
    shape = np.shape(iterable)
    if not shape or shape[0] == 0:
        return zeros_of(shape, _dtype(g), iterable, g)
    g = like_array(g, iterable)
    return np.broadcast_to(unbroadcast(g, np.broadcast_to(0.0, shape[1:])), shape)
