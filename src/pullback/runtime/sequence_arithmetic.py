"""Python's ``+`` and ``*`` where an operand may be a list or a tuple.

``xs + ys`` of two lists (or two tuples) joins them and ``xs * 3`` repeats
one; of numbers and arrays they add and multiply. Which one a statement does
is known only at run time where an operand is not known to be a number or an
array (``facts.flat``), so there the transformer differentiates ``x + y`` as
``sequence_add((x, y))`` and ``x * y`` as ``sequence_mul((x, y))``
(transform/sequence_operators.py); the rules (templates/sequences.py) call
the helpers below, which look at the operands:

- joined: the gradient of the result is split by the operands' lengths
  (item i of ``xs + ys`` is ``xs[i]`` for i < len(xs), ``ys[i - len(xs)]`` after);
- repeated: each item's gradient is the sum over its copies; the count (an
  integer) has none;
- otherwise: the gradients of ``+`` and ``*`` on numbers and arrays, summed
  back over broadcast axes.

A list's gradient may be a list (one gradient per item) or an array
(``np.array(xs)`` read it): both are split along their first axis.
"""
import operator

import numpy as np

from pullback.runtime import accumulate, unbroadcast, zeros_adjoint
from pullback.runtime.arrays import foreign_among, is_array
from pullback.runtime.declare import helper

_SEQUENCES = (list, tuple)


def sequence_add(operands):
    """``x + y`` of ``operands = (x, y)``, as Python computes it."""
    x, y = operands
    return x + y


def sequence_mul(operands):
    """``x * y`` of ``operands = (x, y)``, as Python computes it."""
    x, y = operands
    return x * y


def _joins(x, y):
    """Does ``x + y`` join two sequences (list + list, tuple + tuple)?"""
    return isinstance(x, _SEQUENCES) and isinstance(y, _SEQUENCES)


def _count(x, y):
    """``(sequence, count)`` where ``x * y`` repeats a sequence, else None."""
    for items, count in ((x, y), (y, x)):
        if isinstance(items, _SEQUENCES) and not isinstance(count, _SEQUENCES):
            if is_array(count):     # an array's own * wins, elementwise (a 0-d one too)
                return None
            try:
                return items, operator.index(count)
            except TypeError:
                return None
    return None


def _items(g, n):
    """The gradient ``g`` of a sequence of ``n`` items, as a list of ``n`` gradients."""
    if isinstance(g, _SEQUENCES):
        return list(g)
    if np.ndim(g) == 0:        # one gradient for every item (a number NumPy spread)
        return [g] * n
    return [g[i] for i in range(n)]


def _numeric(value):
    """A list or tuple as the array NumPy makes of it in arithmetic."""
    if isinstance(value, _SEQUENCES):      # (np.asarray would convert another library's arrays)
        return np.stack(value) if foreign_among(value) is not None else np.asarray(value)
    return value


@helper(new_list=True)
def sequence_add_grad(g, operands):
    """The gradients of ``x`` and ``y`` in ``z = x + y`` (``operands = (x, y)``),
    given the gradient ``g`` of ``z``: split at ``len(x)`` where ``+`` joined two
    sequences, else summed back over broadcast axes."""
    x, y = operands
    if _joins(x, y):
        items = _items(g, len(x) + len(y))
        return [items[:len(x)], items[len(x):]]
    return [unbroadcast(g, _numeric(x)), unbroadcast(g, _numeric(y))]


@helper(new_list=True)
def sequence_mul_grad(g, operands):
    """The gradients of ``x`` and ``y`` in ``z = x * y`` (``operands = (x, y)``),
    given the gradient ``g`` of ``z``: where ``*`` repeated a sequence, each item
    gets the sum of its copies' gradients (the integer count gets 0.0), else the
    product rule summed back over broadcast axes."""
    x, y = operands
    repeat = _count(x, y)
    if repeat is not None:
        items, count = repeat
        n = len(items)
        copies = _items(g, n * max(count, 0))
        total = zeros_adjoint(items)
        for k in range(max(count, 0)):
            total = [accumulate(t, part) for t, part in zip(total, copies[k * n:(k + 1) * n])]
        return [total, 0.0] if items is x else [0.0, total]
    x, y = _numeric(x), _numeric(y)
    return [unbroadcast(g * y, x), unbroadcast(g * x, y)]


def _like(value, items):
    return tuple(items) if isinstance(value, tuple) else list(items)


@helper()
def sequence_add_tangent(tangents, operands):
    """The tangent of ``x + y`` (``operands = (x, y)``) from the operands' tangents:
    joined as the values are, or added."""
    (tx, ty), (x, y) = tangents, operands
    if _joins(x, y):
        return _like(x, list(tx) + list(ty))
    return _numeric(tx) + _numeric(ty)


@helper()
def sequence_mul_tangent(tangents, operands):
    """The tangent of ``x * y`` (``operands = (x, y)``) from the operands' tangents:
    the sequence's tangent repeated as the values are, or the product rule."""
    (tx, ty), (x, y) = tangents, operands
    repeat = _count(x, y)
    if repeat is not None:
        items, count = repeat
        return _like(items, list(tx if items is x else ty) * count)
    return _numeric(tx) * _numeric(y) + _numeric(x) * _numeric(ty)


@helper()
def sequence_add_grad_transpose(parts, g, operands):
    """The transpose of ``sequence_add_grad(g, operands)`` (linear in ``g``), given
    the gradients ``parts`` of its two results: the two joined again where ``+``
    joined sequences, else added (each broadcast back to the shape of ``g``)."""
    x, y = operands
    gx, gy = parts
    if _joins(x, y):
        return _items(gx, len(x)) + _items(gy, len(y))
    return np.broadcast_to(_numeric(gx) + _numeric(gy), np.shape(g)).copy() \
        if np.ndim(g) else _numeric(gx) + _numeric(gy)


@helper(new_list=True)
def sequence_mul_grad_moved(g, tangents, operands):
    """How ``sequence_mul_grad(g, operands)`` changes when the operands move by
    ``tangents`` (``g`` held): nothing where ``*`` repeated a sequence (the
    gradients are the copies' sums), else the product rule's cross terms."""
    x, y = operands
    if _count(x, y) is not None:
        return [zeros_adjoint(x), zeros_adjoint(y)]
    (tx, ty), x, y = tangents, _numeric(x), _numeric(y)
    return [unbroadcast(g * _numeric(ty), x), unbroadcast(g * _numeric(tx), y)]


@helper(new_list=True)
def sequence_mul_grad_transpose(parts, g, operands):
    """The gradients of ``g`` and of the operands through ``sequence_mul_grad(g, operands)``,
    given the gradients ``parts`` of its two results: ``[dg, [dx, dy]]``."""
    x, y = operands
    gx, gy = parts
    repeat = _count(x, y)
    if repeat is not None:
        items, count = repeat
        copies = _items(gx if items is x else gy, len(items)) * max(count, 0)
        return [copies, [zeros_adjoint(x), zeros_adjoint(y)]]
    x, y = _numeric(x), _numeric(y)
    shape = np.shape(g * x * y)
    bx, by = np.broadcast_to(_numeric(gx), shape), np.broadcast_to(_numeric(gy), shape)
    return [unbroadcast(bx * y + by * x, g), [unbroadcast(by * g, x), unbroadcast(bx * g, y)]]


@helper(new_list=True)
def sum_pairs(a, b):
    """Two pairs of gradients added item by item."""
    return [accumulate(a[0], b[0]), accumulate(a[1], b[1])]
