"""Helpers that generated derivative code calls at run time.

This is the bottom layer: the generated modules import from here (and from
NumPy/math) and from nothing else in pullback; it imports only pullback's
error classes. Each helper is one shared step
of many derivative rules: summing a gradient back over broadcast axes,
restoring reduced axes, the adjoints of matrix products.
"""
import numpy as np

from pullback.errors import InvalidOutput, PullbackError      # a leaf module: the error classes
from pullback.runtime.arrays import (add_at_unbuffered, as_stacked, copy_array, is_array,
                                     is_foreign_array, like_array, refuse_lazy_selection,
                                     zeros_like)
from pullback.runtime.declare import helper
from pullback.runtime.product_shapes import plain_product, product_shape

__all__ = [
    "unbroadcast", "unreduce", "scalar_seed", "matmul_grad_lhs",
    "matmul_grad_rhs", "dot_grad_lhs", "dot_grad_rhs", "split_ties",
    "NonScalarOutput", "NotDifferentiable", "loop_length", "zeros_adjoint", "accumulate", "add_at",
    "scatter", "take_at", "copy_of", "unstack", "pop_last", "fresh_copy", "fresh_copies",
    "stop_gradient",
    "shape_only", "add_at_basic", "add_at_part", "scatter_basic", "in_place",
]


_NO_DATA = bytes(32)     # immutable zeros: every stand-in's one element


def shape_only(value):
    """A stand-in for a value the reverse sweep reads only for its shape and
    dtype: a read-only array of that shape whose elements all share one
    zero (strides 0). Lists and tuples get a stand-in per element; numbers
    stay as they are."""
    if type(value) is np.ndarray:
        dtype = value.dtype
        if dtype.itemsize <= len(_NO_DATA) and not dtype.hasobject:
            return np.ndarray(value.shape, dtype, _NO_DATA, 0, (0,) * value.ndim)
        return np.broadcast_to(np.zeros((), dtype), value.shape)
    if isinstance(value, np.ndarray):
        return np.broadcast_to(np.zeros((), value.dtype), value.shape)
    if type(value) in (list, tuple):
        return type(value)(shape_only(v) for v in value)
    if type(value) is dict:
        return {key: shape_only(v) for key, v in value.items()}
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):      # a named tuple
        return type(value)._make(shape_only(v) for v in value)
    return value


class NonScalarOutput(PullbackError, ValueError):
    """grad was asked for the gradient of a function whose output is not a scalar."""


class NotDifferentiable(PullbackError, ValueError):
    """A call's options have no derivative pullback can compute (say np.pad with
    mode='median'); raised by the reverse sweep, naming the option."""


@helper(shape_only=(1,), dtype=False)
def unbroadcast(g, x):
    """Sum ``g`` over the axes that broadcasting added to ``x``.

    The adjoint of a broadcasting operation has the shape of the result; the
    argument's gradient must have the argument's shape.
    """
    if type(x) is np.ndarray:
        shape = x.shape
    else:
        shape = np.shape(x)
        if is_foreign_array(x):     # another library's array gets a gradient of its type
            g = like_array(g, x)
    gshape = g.shape if type(g) is np.ndarray else np.shape(g)
    return g if gshape == shape else _sum_to_shape(g, shape)


def _sum_to_shape(g, shape):
    """``g`` summed over the axes broadcasting to its shape added to ``shape``."""
    gshape = g.shape if type(g) is np.ndarray else np.shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra < 0:
        # g is smaller than x (a scalar cotangent for an array output).
        return np.broadcast_to(g, shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and gshape[extra + i] != 1)
    g = np.sum(g, axis=axes, keepdims=True) if axes else g
    return np.reshape(g, shape)


@helper(shape_only=(1,), dtype=False)
def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction back to the shape of its input."""
    shape = np.shape(x)
    if type(x) is not np.ndarray and is_foreign_array(x):     # of x's type, chunks and device
        g = like_array(g, x)
        g = np.expand_dims(g, axis) if not keepdims and axis is not None else g
        return zeros_like(x, dtype=np.result_type(x.dtype, g.dtype)) + g
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


@helper(shape_only=(0,))
def scalar_seed(value):
    """The seed of the reverse sweep of ``grad``: 1 for a scalar output.

    Raises :class:`NonScalarOutput` for any other output, since the gradient
    of a vector-valued function is not defined.
    """
    if type(value) is float:
        return 1.0
    if isinstance(value, (tuple, list, dict)) or (is_array(value) and value.ndim != 0):
        raise NonScalarOutput(
            f"grad needs a function whose output is a scalar; this one returned "
            f"{_describe(value)}. Use pullback.vjp for a vector-Jacobian product "
            f"or pullback.jacobian for the full Jacobian.")
    if not is_real_number(value):
        # the entry point adds which return statement gave it (see api.py)
        raise InvalidOutput(value)
    if is_foreign_array(value):     # a 0-d array of its library (lazy, or on its device)
        return like_array(1.0, value, dtype=value.dtype if value.dtype.kind == "f" else None)
    return 1.0


@helper(shape_only=(0,))
def is_real_number(value):
    """A value grad can differentiate: a real number (Python or NumPy) or a
    0-d array of one; not None, a string, a complex number or an object."""
    if isinstance(value, (float, int)):
        return True
    if isinstance(value, (np.ndarray, np.generic)) or is_foreign_array(value):
        return value.ndim == 0 and value.dtype.kind in "biuf"
    return False


def split_ties(a, b):
    """Weights of ``a`` in ``maximum(a, b)``: 1 where a wins, 1/2 at ties.

    Splitting ties evenly gives the derivative that central differences see.
    """
    weights = (a > b) + 0.5 * (a == b)
    if is_array(weights):
        kinds = [v.dtype for v in (a, b) if is_array(v) or isinstance(v, np.generic)]
        floats = [k for k in kinds if k.kind == "f"]
        return weights.astype(np.result_type(*floats) if floats else np.float64, copy=False)
    return float(weights)


def _describe(value):
    if isinstance(value, dict):
        return f"a dict of {len(value)} items"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"an array of shape {np.shape(value)}"


@helper(shape_only=(1,), dtype=False, returns_new=True)
def matmul_grad_lhs(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``a`` (1-D, 2-D and batched).

    ``g`` may be the adjoint of a broadcast of the product (of
    ``a @ b + c``): it is summed to the product's shape first, so the
    product need not be kept for its shape.
    """
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray:
        fast = plain_product(g, a, b)  # matrices and vectors: no broadcasting to undo
        if fast == 2:
            return g @ b.T
        if fast == 1:                   # a matrix times a vector
            return g[:, None] * b
        if fast == -1:                  # a vector times a matrix
            return b @ g
    g = _sum_to_shape(g, product_shape(a, b))
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if b_nd == 1:
        if a_nd == 1:
            return g * b
        return np.expand_dims(g, -1) * b
    if a_nd == 1:
        return unbroadcast(np.matmul(b, np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def matmul_grad_rhs(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``b`` (1-D, 2-D and batched);
    ``g`` as for :func:`matmul_grad_lhs`."""
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray:
        fast = plain_product(g, a, b)  # matrices and vectors: no broadcasting to undo
        if fast == 2 or fast == 1:
            return a.T @ g
        if fast == -1:
            return a[:, None] * g
    g = _sum_to_shape(g, product_shape(a, b))
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1:
        if b_nd == 1:
            return g * a
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if b_nd == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def dot_grad_lhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``a``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if np.ndim(b) <= 2:
        return matmul_grad_lhs(g, a, b)
    # N-D dot: contract the last axis of a with the second-to-last of b.
    b_axes = [i for i in range(np.ndim(b)) if i != np.ndim(b) - 2]
    g_axes = list(range(np.ndim(a) - 1, np.ndim(g)))
    return np.tensordot(g, b, axes=(g_axes, b_axes))


@helper(shape_only=(2,), dtype=False, returns_new=True)
def dot_grad_rhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``b``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    if np.ndim(b) <= 2:
        return matmul_grad_rhs(g, a, b)
    a_lead = list(range(np.ndim(a) - 1))
    ga = np.tensordot(a, g, axes=(a_lead, a_lead))  # (k, b_lead..., n)
    return np.moveaxis(ga, 0, -2)


# -- loops, containers and indexing ------------------------------------------------

@helper(shape_only=(0,), dtype=False, returns_new=True)
def loop_length(sequence):
    """How many items ``for v in sequence`` visits; refuses what cannot be indexed.

    pullback runs ``for v in xs`` as ``for i in range(loop_length(xs)): v = xs[i]``
    so the reverse sweep can walk the same indices backwards.
    """
    if isinstance(sequence, (dict, set, frozenset)) or not hasattr(sequence, "__getitem__"):
        raise TypeError(f"pullback differentiates loops over sequences (lists, tuples, arrays, "
                        f"ranges), not over a {type(sequence).__name__}; convert it with list().")
    return len(sequence)


@helper(shape_only=(0,), returns_new=True)
def zeros_adjoint(x):
    """A zero gradient for ``x``: 0.0 for a number, zeros for an array, a list
    of zeros for a list or tuple (named tuples too), a dict of zeros for a dict,
    and for a dataclass a dict of zeros by field (runtime/containers.py)."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
    if is_foreign_array(x):     # a Dask or CuPy array's zeros: of its own type
        return zeros_like(x, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
    if isinstance(x, (list, tuple)):
        return [zeros_adjoint(v) for v in x]
    if isinstance(x, dict):
        return {key: zeros_adjoint(v) for key, v in x.items()}
    if hasattr(type(x), "__dataclass_fields__"):
        return {name: zeros_adjoint(getattr(x, name)) for name in type(x).__dataclass_fields__}
    if isinstance(x, np.generic) and x.dtype.kind in "fc":
        return x.dtype.type(0)
    return 0.0


def accumulate(total, g):
    """``total + g`` for gradients that may be lists or dicts (item by item)."""
    if isinstance(total, dict) or isinstance(g, dict):
        if not isinstance(total, dict):
            return g if _is_zero(total) else _mismatch(total, g)
        if not isinstance(g, dict):
            return total if _is_zero(g) else _mismatch(total, g)
        summed = dict(total)
        for key, part in g.items():
            summed[key] = accumulate(summed[key], part) if key in summed else part
        return summed
    sequences = (list, tuple)       # a tuple's gradient is a list; a cotangent may be a tuple
    if isinstance(total, sequences) or isinstance(g, sequences):
        if not isinstance(total, sequences):
            return [accumulate(total, v) for v in g] if _is_zero(total) else _items_added(g, total)
        if not isinstance(g, sequences):
            return list(total) if _is_zero(g) else _items_added(total, g)
        return [accumulate(a, b) for a, b in zip(total, g)]
    return total + g


def _items_added(items, array):
    """A list's gradient plus an array NumPy made of the list (``np.sum(items)``):
    item i gets ``array[i]``."""
    if np.ndim(array) == 0:
        return [accumulate(item, array) for item in items]
    return [accumulate(item, part) for item, part in zip(items, array)]


def _is_zero(value):
    return isinstance(value, (int, float)) and value == 0


def _mismatch(total, g):
    raise PullbackError(f"internal error: a gradient of a dict met a gradient of a "
                        f"{type(g).__name__ if isinstance(total, dict) else type(total).__name__}")


def _owned_array(total, x, g=None):
    """``total`` as an array of x's shape that this gradient alone may write to
    (of a foreign array type where x, total or ``g``, about to be written into
    it, is one: never converted to NumPy)."""
    if isinstance(total, np.ndarray) and total.flags.writeable and total.flags.owndata \
            and total.shape == np.shape(x) and not is_foreign_array(g):
        return total
    foreign = next((v for v in (total, x, g) if is_foreign_array(v)), None)
    if foreign is not None:
        dtype = x.dtype if is_array(x) and x.dtype.kind in "fc" else np.float64
        return zeros_like(foreign, shape=np.shape(x), dtype=np.result_type(dtype, np.float32)) + total
    dtype = np.result_type(np.asarray(x).dtype if np.asarray(x).dtype.kind in "fc" else np.float64,
                           np.float32)
    return np.array(np.broadcast_to(total, np.shape(x)), dtype=dtype)


def _has_array_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(p.dtype != bool if is_array(p) else
               isinstance(p, list) and np.asarray(p).dtype != bool for p in parts)


@helper(shape_only=(1,), mutates=(0,))
def add_at(total, x, index, g):
    """The gradient of ``x[index]`` added into ``total`` (the gradient of x).

    Writes in place when ``total`` is an array of its own; repeated indices
    (``x[[0, 0]]``) add up, as they should.
    """
    if isinstance(x, dict):
        total = dict(total) if isinstance(total, dict) else zeros_adjoint(x)
        total[index] = accumulate(total[index], g) if index in total else g
        return total
    if isinstance(x, (list, tuple)):
        total = list(total) if isinstance(total, (list, tuple)) else zeros_adjoint(x)
        if isinstance(index, slice):
            for position, part in zip(range(*index.indices(len(x))), g):
                total[position] = accumulate(total[position], part)
        else:
            total[index] = accumulate(total[index], g)
        return total
    total = _owned_array(total, x, g)
    if not _has_array_index(index):
        if type(total) is not np.ndarray and is_foreign_array(total):
            index, g = _foreign_basic_index(total, index, g)
        total[index] += g
    elif isinstance(total, np.ndarray):
        np.add.at(total, index, g)
    else:       # CuPy has np.add.at; Dask has np.bincount for a 1-D array, nothing more
        total = add_at_unbuffered(total, index, g, "The gradient of x[index] with an "
                                  "integer-array index into an array of more than one dimension "
                                  "(its entries add up, as np.add.at adds them)")
    return total


def _foreign_basic_index(total, index, g):
    """``(index, g)`` for ``total[index] += g`` on another library's array: a new
    axis (None) taken out of the index and ``g`` (not every library assigns
    through one, Dask does not); a boolean mask into a lazy array refused."""
    parts = index if isinstance(index, tuple) else (index,)
    if any(is_array(p) and p.dtype == bool for p in parts):
        refuse_lazy_selection(total, "The gradient of x[mask] with a boolean mask")
    if not any(p is None for p in parts):
        return index, g
    index = tuple(p for p in parts if p is not None)
    if np.ndim(g) == len(np.shape(total[index])) + sum(p is None for p in parts):
        g = np.reshape(g, np.shape(total[index]))      # the new axes have length 1
    return index, g


@helper(shape_only=(0,), returns_new=True)
def scatter(x, index, g):
    """The gradient of ``x`` from the gradient ``g`` of ``x[index]`` alone."""
    return add_at(zeros_adjoint(x), x, index, g)


@helper(shape_only=(1,), mutates=(0,))
def take_at(total, x, index):
    """For ``x[index] = v``: returns (the gradient of x with zeros at ``index``,
    the part of it that belonged to ``index``, which flows to v)."""
    if isinstance(x, dict):         # a new key gets a zero: nothing before the write read it
        total = dict(total) if isinstance(total, dict) else zeros_adjoint(x)
        part = total.get(index, 0.0)
        total[index] = zeros_adjoint(x[index])
        return total, part
    if isinstance(x, (list, tuple)):
        total = list(total) if isinstance(total, (list, tuple)) else zeros_adjoint(x)
        part = total[index]
        total[index] = zeros_adjoint(x[index])
        return total, part
    total = _owned_array(total, x)
    part = copy_array(total[index])
    if _has_array_index(index):
        # x[[0, 0]] = v keeps only the last write: earlier duplicates get nothing.
        positions = like_array(np.arange(total.size), total).reshape(total.shape)[index]
        flat = np.ravel(positions)
        _, last_from_end = np.unique(flat[::-1], return_index=True)
        keep = zeros_like(flat, dtype=bool)
        keep[flat.size - 1 - last_from_end] = True
        part = part * np.reshape(keep, np.shape(positions)).astype(part.dtype)
    total[index] = 0
    return total, part


@helper(returns_new=True)
def copy_of(value):
    """A copy of an array (or slice of one) about to be overwritten; numbers as they are."""
    if type(value) is np.ndarray:
        return np.copy(value)
    return copy_array(value) if is_array(value) else value


@helper(shape_only=(1,), dtype=False, new_list=True)
def unstack(g, items, axis=0):
    """The gradient of a list (or tuple) of values from the gradient of what was
    built from it: ``np.stack(items, axis)`` or ``np.array(items)`` (axis 0), or
    ``sum(items)`` (``axis=None``: every item receives all of ``g``).

    When ``items`` is an array rather than a list, its gradient is an array.
    """
    if isinstance(items, dict):         # list(d), tuple(d): its keys carry no derivative
        return zeros_adjoint(items)
    if axis is None:
        if isinstance(items, (list, tuple)):
            return [unbroadcast(g, item) for item in items]
        return np.broadcast_to(like_array(g, items), np.shape(items))
    if not isinstance(items, (list, tuple)):
        if isinstance(g, (list, tuple)) and is_foreign_array(items):
            row = np.shape(items)[1:]   # another library's array: its rows' gradients stacked
            g = np.stack([np.broadcast_to(like_array(part, items), row) for part in g])
        return np.moveaxis(g, axis, 0) if axis else g
    # tuple(items), list(items): the gradient is a sequence too, whose parts
    # may differ in shape (no array holds them)
    parts = g if isinstance(g, (list, tuple)) and axis == 0 else np.moveaxis(as_stacked(g), axis, 0)
    return [unstack(part, item, 0) if isinstance(item, (list, tuple)) else part
            for part, item in zip(parts, items)]


@helper(mutates=(0,))
def pop_last(total):
    """For ``items.append(v)``: (the gradient of the list before the append,
    the gradient of v). A list's gradient may come back as an array when NumPy
    used the list as one (``np.sum(items)``)."""
    if isinstance(total, list):
        return total, total.pop()
    return total[:-1], total[-1]


@helper(returns_new=True)
def fresh_copy(value):
    """A copy the backward sweep may consume (stacks) or write into (arrays),
    so a vjp's ``back`` can be called again with another cotangent."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    if type(value) is np.ndarray:
        return np.copy(value)
    if is_array(value):
        return copy_array(value)
    return value


def stop_gradient(value):
    """``value`` itself, through which no derivative flows.

    >>> import numpy as np, pullback
    >>> def f(x):
    ...     return x * pullback.stop_gradient(x)
    >>> pullback.grad(f)(3.0)       # d/dx of x * c, with c = 3 held constant
    3.0
    """
    return value


from pullback.runtime.basic_indexing import add_at_basic, add_at_part, scatter_basic  # noqa: E402 (uses the above)
from pullback.runtime.in_place import in_place  # noqa: E402
from pullback.runtime.ownership import fresh_copies  # noqa: E402
