"""Numba twins of the runtime helpers (``compile="numba"``, backend/numba_variant.py).

Each twin has its helper's name and meaning, for the kinds of values Numba
compiles: numbers and NumPy arrays (a tuple of numbers where the helper
takes a tuple's gradient). Each is a stub that Numba's ``@overload`` gives
an implementation per argument type; called from plain Python it says so.
A type a twin does not cover fails Numba's typing, which pullback reports
as the reason the derivative cannot be compiled.

The in-place helpers (``add_at``, ``add_at_basic``, ``add_at_part``) write into a copy: a
compiled function cannot ask whether an array owns its memory, and the
caller's arrays are never written. Importing this module needs Numba.
"""
import numpy as np
from numba import types
from numba.extending import overload

from pullback import runtime
from pullback.runtime import basic_indexing, elementwise, tangents


def _twin(helper):
    """A stub standing for ``helper`` in compiled code (``numba_twin_of`` says which)."""
    def stub(*args):
        raise TypeError(f"{helper.__name__} (pullback.runtime.numba_helpers) runs inside "
                        f"Numba-compiled code only")
    stub.__name__ = stub.__qualname__ = helper.__name__
    stub.__module__ = __name__
    stub.__doc__ = f"Numba's {helper.__name__}: " + (helper.__doc__ or "").split("\n")[0]
    stub.numba_twin_of = helper
    return stub


def _number(t):
    return isinstance(t, (types.Number, types.Boolean))


def _array(t):
    return isinstance(t, types.Array)


# -- gradients summed back to an operand's shape -------------------------------------

unbroadcast = _twin(runtime.unbroadcast)


@overload(unbroadcast)
def _unbroadcast(g, x):
    if _number(x):
        if _array(g):
            return lambda g, x: g.sum()
        return lambda g, x: g
    if _array(x) and _number(g):
        return lambda g, x: np.full(x.shape, g)
    if _array(x) and _array(g) and g.ndim >= x.ndim:
        lead = g.ndim - x.ndim              # axes broadcasting put in front

        def summed(g, x):
            if lead == 0 and g.shape[lead:] == x.shape:     # (a slice: typed for every lead)
                return g
            out = np.zeros(x.shape)
            # every entry of g into the entry of x it broadcast from
            for flat in np.ndindex(g.shape):
                out[tuple_where_one(flat[lead:], x.shape)] += g[flat]
            return out
        return summed
    return None


def tuple_where_one(index, shape):
    """``index`` with 0 on the axes where ``shape`` has length 1."""
    raise TypeError("tuple_where_one runs inside Numba-compiled code only")


@overload(tuple_where_one)
def _tuple_where_one(index, shape):
    def impl(index, shape):
        out = index
        for axis in range(len(shape)):
            if shape[axis] == 1:
                out = tuple_setitem_zero(out, axis)
        return out
    return impl


def tuple_setitem_zero(index, axis):
    raise TypeError("tuple_setitem_zero runs inside Numba-compiled code only")


@overload(tuple_setitem_zero)
def _tuple_setitem_zero(index, axis):
    from numba.cpython.unsafe.tuple import tuple_setitem

    def impl(index, axis):
        return tuple_setitem(index, axis, 0)
    return impl


unreduce = _twin(runtime.unreduce)


@overload(unreduce)
def _unreduce(g, x, axis=None, keepdims=False):
    if isinstance(axis, (types.NoneType, types.Omitted)) or axis is None:
        return lambda g, x, axis=None, keepdims=False: np.full(x.shape, g)
    if isinstance(axis, types.Integer) and _number(g):
        # the only axis of a 1-D array summed: a number (backend/numba_loops.py writes it so)
        return lambda g, x, axis=None, keepdims=False: np.full(x.shape, g)
    if isinstance(axis, types.Integer):
        def impl(g, x, axis=None, keepdims=False):
            if keepdims:
                return np.broadcast_to(g, x.shape)
            return np.broadcast_to(np.expand_dims(g, axis), x.shape)
        return impl
    return None


accumulate = _twin(runtime.accumulate)


@overload(accumulate)
def _accumulate(total, g):
    if (_number(total) or _array(total)) and (_number(g) or _array(g)):
        return lambda total, g: total + g
    return None


# -- zeros, copies, shapes -------------------------------------------------------------

zeros_adjoint = _twin(runtime.zeros_adjoint)


@overload(zeros_adjoint)
def _zeros_adjoint(x):
    if _number(x):
        return lambda x: 0.0
    if _array(x):
        return lambda x: np.zeros(x.shape)
    if isinstance(x, types.BaseTuple):
        return lambda x: np.zeros(len(x))
    return None


fresh_copy = _twin(runtime.fresh_copy)


@overload(fresh_copy)
def _fresh_copy(value):
    if _array(value):
        return lambda value: value.copy()
    if _number(value):
        return lambda value: value
    if isinstance(value, types.List):           # vjp's backward sweep copies its stacks
        return lambda value: value.copy()
    return None


shape_only = _twin(runtime.shape_only)


@overload(shape_only)
def _shape_only(value):
    return lambda value: value          # kept whole: what is read of it is its shape


in_place = _twin(runtime.in_place)


@overload(in_place)
def _in_place(old, new):
    if _array(old):
        def impl(old, new):
            if np.shape(new) != old.shape:
                raise ValueError("non-broadcastable output operand (x += e would change x's shape)")
            return new
        return impl
    return lambda old, new: new


# -- the gradient of x[index] ---------------------------------------------------------

scatter_basic = _twin(basic_indexing.scatter_basic)
scatter = _twin(runtime.scatter)


def _basic(index):
    """An index that names each position once: ints, slices, None, and tuples of them."""
    if isinstance(index, types.BaseTuple):
        return all(_basic(part) for part in index)
    return isinstance(index, (types.Integer, types.SliceType, types.NoneType, types.EllipsisType))


def _positions(index):
    """A 1-D array of integer positions (``x[[0, 0, 2]]``: a position may repeat)."""
    return isinstance(index, types.Array) and index.ndim == 1 \
        and isinstance(index.dtype, types.Integer)


def _mask(index):
    """A boolean array (``x[x > 0]``): each position at most once."""
    return isinstance(index, types.Array) and isinstance(index.dtype, types.Boolean)


def _scatter(x, index, g):
    if _array(x) and (_basic(index) or _mask(index)):
        def impl(x, index, g):
            total = np.zeros(x.shape)
            total[index] += g
            return total
        return impl
    if _array(x) and _positions(index):
        def repeated(x, index, g):
            total = np.zeros(x.shape)
            for j in range(index.shape[0]):
                total[index[j]] += g[j]         # a repeated position adds up
            return total
        return repeated
    if isinstance(x, types.BaseTuple) and isinstance(index, types.Integer):
        def from_tuple(x, index, g):
            total = np.zeros(len(x))
            total[index] += g
            return total
        return from_tuple
    return None


overload(scatter_basic)(_scatter)
overload(scatter)(_scatter)

add_at_basic = _twin(basic_indexing.add_at_basic)
add_at = _twin(runtime.add_at)
add_at_part = _twin(basic_indexing.add_at_part)


def _add_at(total, x, index, g):
    if _array(total) and (_basic(index) or _positions(index) or _mask(index)):
        def impl(total, x, index, g):
            # a new array: never the caller's, nor one another name holds
            return total + scatter(total, index, g)
        return impl
    if _number(total) and _array(x) and (_basic(index) or _positions(index) or _mask(index)):
        def from_zero(total, x, index, g):
            return np.full(x.shape, total) + scatter(x, index, g)
        return from_zero
    return None


overload(add_at_basic)(_add_at)
overload(add_at)(_add_at)
overload(add_at_part)(_add_at)


# -- the checks of grad's output ----------------------------------------------------

scalar_seed = _twin(runtime.scalar_seed)


@overload(scalar_seed)
def _scalar_seed(value):
    if _number(value):
        return lambda value: 1.0
    if _array(value) and value.ndim == 0:
        return lambda value: 1.0
    if _array(value):
        def not_a_number(value):
            if value.size < 0:
                return 1.0              # (never: types the result as a number)
            raise runtime.NonScalarOutput(
                "grad needs a function whose output is a scalar; this one returned an array. "
                "Use pullback.vjp for a vector-Jacobian product or pullback.jacobian for the "
                "full Jacobian.")
        return not_a_number
    return None


is_real_number = _twin(runtime.is_real_number)


@overload(is_real_number)
def _is_real_number(value):
    if isinstance(value, (types.Float, types.Integer, types.Boolean)):
        return lambda value: True
    if _array(value) and value.ndim == 0 and not isinstance(value.dtype, types.Complex):
        return lambda value: True       # a 0-d array, as the plain helper says
    return lambda value: False


# -- forward mode (the tangents of hessian's forward-over-reverse code) ----------------

zeros_tangent = _twin(tangents.zeros_tangent)


@overload(zeros_tangent)
def _zeros_tangent(value, directions=None):
    one = isinstance(directions, (types.NoneType, types.Omitted)) or directions is None
    if _number(value) and one:
        return lambda value, directions=None: 0.0
    if _number(value) and isinstance(directions, types.Integer):
        return lambda value, directions=None: np.zeros(directions)
    if _array(value) and one:
        return lambda value, directions=None: np.zeros(value.shape)
    if _array(value) and isinstance(directions, types.Integer):
        return lambda value, directions=None: np.zeros((directions,) + value.shape)
    return None


tangent_item = _twin(tangents.tangent_item)


@overload(tangent_item)
def _tangent_item(t, index):
    if isinstance(t, types.BaseTuple) and isinstance(index, types.IntegerLiteral):
        return lambda t, index: t[index]        # the tangent of a tuple's item
    if isinstance(t, types.UniTuple) and isinstance(index, types.Integer):
        return lambda t, index: t[index]
    if _array(t) and t.ndim >= 2 and isinstance(index, types.Integer):
        return lambda t, index: t[:, index].copy()     # the direction axis comes first
    return None


# -- loops, powers ------------------------------------------------------------------

loop_length = _twin(runtime.loop_length)


@overload(loop_length)
def _loop_length(sequence):
    if isinstance(sequence, (types.Array, types.List, types.BaseTuple, types.RangeType)):
        return lambda sequence: len(sequence)
    return None


power_slope = _twin(elementwise.power_slope)


@overload(power_slope)
def _power_slope(x, y, float_power=False):
    if _number(x) and _number(y):
        def numbers(x, y, float_power=False):
            if y == 0:
                return 0.0
            if x == 0 and y < 1:
                return y * np.inf
            return y * x ** (y - 1)
        return numbers
    if _array(x) and _number(y):
        def array_to_number(x, y, float_power=False):
            if y == 0:
                return np.zeros(x.shape)
            return y * np.power(x, y - 1.0)
        return array_to_number
    if (_array(x) or _number(x)) and _array(y):
        def arrays(x, y, float_power=False):
            slope = y * np.power(x, y - 1.0)
            return np.where(np.equal(y, 0), np.zeros_like(slope), slope)
        return arrays
    return None


def prefix_stop(start, stop, count):
    """Where ``range(start, stop)[:count]`` stops (a loop that may end early: its reverse)."""
    raise TypeError("prefix_stop (pullback.runtime.numba_helpers) runs inside Numba-compiled "
                    "code only")


@overload(prefix_stop)
def _prefix_stop(start, stop, count):
    def impl(start, stop, count):
        length = max(stop - start, 0)
        taken = min(count, length) if count >= 0 else max(length + count, 0)
        return start + taken
    return impl


# -- x[index] = v, np.dot ---------------------------------------------------------------

take_at = _twin(runtime.take_at)


def _takes_a_number(total, index):
    """Does ``total[index]`` give a number (an int per axis)?"""
    if isinstance(index, types.Integer):
        return total.ndim == 1
    return isinstance(index, types.BaseTuple) and len(index) == total.ndim \
        and all(isinstance(part, types.Integer) for part in index)


@overload(take_at)
def _take_at(total, x, index):
    if not (_array(x) and _basic(index)):
        return None
    if _array(total) and _takes_a_number(total, index):
        def number(total, x, index):
            out = total.copy()          # (x[index] = v: v's gradient, and zeros there)
            part = out[index]
            out[index] = 0.0
            return out, part
        return number
    if _array(total):
        def part_of_array(total, x, index):
            out = total.copy()
            part = out[index].copy()
            out[index] = 0.0
            return out, part
        return part_of_array
    if _number(total) and _takes_a_number(x, index):
        return lambda total, x, index: (np.full(x.shape, total), 1.0 * total)
    if _number(total):
        def from_zero(total, x, index):
            out = np.full(x.shape, total)
            return out, out[index].copy()
        return from_zero
    return None


# the twins of the products live in numba_products.py (imported here: one place to look)
from pullback.runtime.numba_products import (  # noqa: E402
    dot_grad_lhs, dot_grad_rhs, matmul_grad_lhs, matmul_grad_rhs, sequence_add_grad,
    sequence_mul_grad, vdot)
