"""Helpers that generated forward-mode (tangent) code calls at run time.

A tangent has the shape of its value. A *batch* of tangents (many
directions pushed through one call) has one more, leading, axis: the
direction. Helpers that must tell the two apart compare the tangent's
number of axes with its value's.
"""
import numpy as np

from pullback.runtime import matmul_grad_lhs, matmul_grad_rhs
from pullback.runtime.arrays import as_array, copy_array, is_foreign_array, zeros_of
from pullback.runtime.declare import helper

__all__ = ["zeros_tangent", "broadcast_tangent", "stack_directions", "direction",
           "tangent_item", "set_tangent_item", "direction_count", "owned_tangent",
           "matmul_lhs_tangent", "matmul_rhs_tangent", "matmul_rhs_tangent_grads",
           "matmul_lhs_tangent_grads"]


def _batch(t, value):
    """The leading axes a tangent has beyond its value's: () for one direction."""
    extra = np.ndim(t) - np.ndim(value)
    return np.shape(t)[:extra] if extra > 0 else ()


@helper(shape_only=(0,), returns_new=True)
def zeros_tangent(value, directions=None):
    """The zero tangent of ``value`` (``directions`` of them, stacked, when
    given): 0.0 for a number, zeros of its shape (float, its dtype when
    floating) for an array, and the same structure for a list or tuple."""
    if isinstance(value, (list, tuple)):
        return _like(value, [zeros_tangent(v, directions) for v in value])
    if isinstance(value, dict):
        return {key: zeros_tangent(v, directions) for key, v in value.items()}
    if hasattr(type(value), "__dataclass_fields__"):      # a dataclass: its fields by name
        return {name: zeros_tangent(getattr(value, name), directions)
                for name in type(value).__dataclass_fields__}
    if directions is None and not isinstance(value, np.ndarray) and not is_foreign_array(value):
        return 0.0 if not isinstance(value, np.generic) else np.zeros((), _float(value))[()]
    shape = np.shape(value) if directions is None else (directions,) + np.shape(value)
    return zeros_of(shape, _float(value), value)


def _like(value, items):
    """A tuple, list or named tuple (np.linalg.qr's) of ``items``, as ``value`` is."""
    return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)


def _float(value):
    if isinstance(value, (str, bytes)) or value is None:
        return np.float64           # a dict's key, a label: no numbers (NumPy 2.5 refuses its dtype)
    dtype = np.result_type(value)
    return dtype if np.issubdtype(dtype, np.inexact) else np.float64


@helper(shape_only=(1, 2))
def broadcast_tangent(t, x, z):
    """The tangent ``t`` of ``x`` broadcast to the shape of ``z`` (an
    elementwise result ``x`` took part in), keeping leading direction axes."""
    x_shape, z_shape = np.shape(x), np.shape(z)
    if x_shape == z_shape:
        return t
    batch = _batch(t, x)
    if not batch:
        return np.broadcast_to(t, z_shape)
    lifted = np.reshape(t, batch + (1,) * (len(z_shape) - len(x_shape)) + x_shape)
    return np.broadcast_to(lifted, batch + z_shape)


@helper(returns_new=True)
def stack_directions(parts):
    """One tangent per direction -> the batch of them (leading axis). Lists
    and tuples of tangents are stacked element by element."""
    first = parts[0]
    if isinstance(first, dict):
        return {key: stack_directions([p[key] for p in parts]) for key in first}
    if isinstance(first, (list, tuple)):
        return _like(first, [stack_directions([p[i] for p in parts]) for i in range(len(first))])
    return np.stack([as_array(p) for p in parts])


def direction(t, i):
    """Direction ``i`` of a batch of tangents (a list or tuple: of each element)."""
    if isinstance(t, (list, tuple)):
        return _like(t, [direction(e, i) for e in t])
    if isinstance(t, dict):
        return {key: direction(e, i) for key, e in t.items()}
    return t[i]


def direction_count(*tangents):
    """How many directions a batch of tangents holds: the leading axis of the
    first array among them (in lists and tuples too); 1 when they hold none
    (then every tangent is an empty structure, and a zero broadcasts)."""
    for t in tangents:
        if isinstance(t, dict):
            t = list(t.values())
        if isinstance(t, (list, tuple)):
            count = direction_count(*t)
            if count != 1 or _holds_array(t):
                return count
        elif np.ndim(t):
            return len(t)
    return 1


def _holds_array(t):
    return any(_holds_array(list(e.values()) if isinstance(e, dict) else e)
               if isinstance(e, (list, tuple, dict)) else np.ndim(e) > 0 for e in t)


def tangent_item(t, index):
    """``value[index]``'s tangent from ``value``'s batch of tangents: an
    array's direction axis comes first; a list, tuple or dict is indexed as is."""
    if isinstance(t, (list, tuple, dict)):
        return t[index]
    index = index if isinstance(index, tuple) else (index,)
    item = t[(slice(None),) + index]
    if np.ndim(t) - 1 == len(index) and all(isinstance(i, (int, np.integer)) for i in index):
        # value[i, j] is a number, not a view: so is its tangent
        return copy_array(item) if is_foreign_array(item) else np.array(item)
    return item


@helper(mutates=(0,))
def set_tangent_item(t, index, v):
    """``value[index] = v`` on a batch of tangents (see tangent_item)."""
    if isinstance(t, (list, dict)):
        t[index] = v
        return
    place = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    if np.ndim(v):      # the direction axis first, then v's own axes, broadcast into the place
        region = np.ndim(t[place])
        v = np.reshape(v, np.shape(v)[:1] + (1,) * (region - np.ndim(v)) + np.shape(v)[1:])
    t[place] = v


@helper(returns_new=True)
def owned_tangent(t):
    """A writeable copy of a tangent, for a value the code changes in place
    (lists and tuples: of each item)."""
    if isinstance(t, (list, tuple)):
        return _like(t, [owned_tangent(e) for e in t]) if isinstance(t, tuple) \
            else [owned_tangent(e) for e in t]
    if isinstance(t, dict):
        return {key: owned_tangent(e) for key, e in t.items()}
    if isinstance(t, np.ndarray):
        return np.array(t, dtype=_float(t))
    if is_foreign_array(t):
        return t.astype(_float(t))      # a copy
    return t


def matmul_lhs_tangent(tx, x, y):
    """``tx @ y``, the tangent of ``x @ y`` along ``x``'s tangent ``tx``, which
    may carry leading direction axes: they stay in front of the result's."""
    batch = _batch(tx, x)
    if not batch or np.ndim(y) == 1:
        return np.matmul(tx, y)
    if np.ndim(x) == 1:         # a row vector for each direction
        rows = np.reshape(tx, batch + (1,) * (np.ndim(y) - 2) + (1,) + np.shape(x))
        return np.matmul(rows, y)[..., 0, :]
    lifted = np.reshape(tx, batch + (1,) * max(0, np.ndim(y) - np.ndim(x)) + np.shape(x))
    return np.matmul(lifted, y)


def matmul_rhs_tangent(x, ty, y):
    """``x @ ty``, the tangent of ``x @ y`` along ``y``'s tangent ``ty``, which
    may carry leading direction axes: they stay in front of the result's."""
    batch = _batch(ty, y)
    if not batch:
        return np.matmul(x, ty)
    if np.ndim(y) == 1:         # a column vector for each direction
        if np.ndim(x) == 1:
            return np.matmul(ty, x)
        columns = np.reshape(ty, batch + (1,) * (np.ndim(x) - 2) + np.shape(y) + (1,))
        return np.matmul(x, columns)[..., 0]
    lifted = np.reshape(ty, batch + (1,) * max(0, np.ndim(x) - np.ndim(y)) + np.shape(y))
    return np.matmul(x, lifted)


def matmul_rhs_tangent_grads(g, x, ty, y):
    """The adjoints of ``matmul_rhs_tangent(x, ty, y)`` with respect to ``x``
    and ``ty``, as a pair: the product it computes, written as one matmul
    (``ty`` laid out as it lays it out)."""
    batch = _batch(ty, y)
    if not batch:
        return matmul_grad_lhs(g, x, ty), matmul_grad_rhs(g, x, ty)
    if np.ndim(y) == 1:
        if np.ndim(x) == 1:                     # ty @ x
            return matmul_grad_rhs(g, ty, x), matmul_grad_lhs(g, ty, x)
        columns = np.reshape(ty, batch + (1,) * (np.ndim(x) - 2) + np.shape(y) + (1,))
        g = np.expand_dims(g, -1)
        return (matmul_grad_lhs(g, x, columns),
                np.reshape(matmul_grad_rhs(g, x, columns), np.shape(ty)))
    lifted = np.reshape(ty, batch + (1,) * max(0, np.ndim(x) - np.ndim(y)) + np.shape(y))
    return matmul_grad_lhs(g, x, lifted), np.reshape(matmul_grad_rhs(g, x, lifted), np.shape(ty))


def matmul_lhs_tangent_grads(g, tx, x, y):
    """The adjoints of ``matmul_lhs_tangent(tx, x, y)`` with respect to
    ``tx`` and ``y``, as a pair (see matmul_rhs_tangent_grads)."""
    batch = _batch(tx, x)
    if not batch or np.ndim(y) == 1:
        return matmul_grad_lhs(g, tx, y), matmul_grad_rhs(g, tx, y)
    if np.ndim(x) == 1:                         # a row vector for each direction
        rows = np.reshape(tx, batch + (1,) * (np.ndim(y) - 2) + (1,) + np.shape(x))
        g = np.expand_dims(g, -2)
        return np.reshape(matmul_grad_lhs(g, rows, y), np.shape(tx)), matmul_grad_rhs(g, rows, y)
    lifted = np.reshape(tx, batch + (1,) * max(0, np.ndim(y) - np.ndim(x)) + np.shape(x))
    return np.reshape(matmul_grad_lhs(g, lifted, y), np.shape(tx)), matmul_grad_rhs(g, lifted, y)
