"""Helpers of the rules of pullback's own runtime helpers (templates/runtime.py).

Generated gradient code is itself differentiated (``hessian``, ``hvp``,
``grad(grad(f))``): each helper it calls needs a tangent and an adjoint. Most
helpers are linear in the gradient they carry: their tangent is the same helper
on a tangent, their adjoint its transpose. The helpers here are those transposes
and the batched forms of helpers that reshape (a batch of tangents has leading
direction axes, runtime/tangents.py); most have rules too, so the rules close
on themselves at any order.
"""
import numpy as np

from pullback.runtime import add_at, take_at, zeros_adjoint
from pullback.runtime.arrays import (add_at_unbuffered, as_array, as_stacked, copy_as,
                                     is_array, is_numeric_array, like_array, ones_of, zeros_of)
from pullback.runtime.declare import helper
from pullback.runtime.elementwise import masked_mul, power_slope, sinc_slope
from pullback.runtime.products import einsum_grads
from pullback.runtime.shape import _PROMOTE, _section_bounds
from pullback.runtime.tangents import matmul_lhs_tangent_grads, matmul_rhs_tangent_grads

__all__ = ["fit_directions", "fit_shape", "unreduce_directions", "reduce_directions", "untake_at",
           "take_cotangent", "unpop_last", "restack_parts", "unaccumulate", "untotal",
           "power_slope_dx", "power_slope_dy", "power_slope_dy_dx", "power_slope_dy_dy",
           "unstack_directions", "undirection", "direction_of", "item_of", "untangent_item",
           "pad_linear", "einsum_grads_along", "einsum_grads_transpose", "where_nonzero",
           "sinc_slope_dx", "sinc_slope_dy", "unselect", "join_parts", "rejoin", "split_parts",
           "reappend", "rebroadcast_parts", "reshape_parts", "matmul_rhs_tangent_grads",
           "matmul_lhs_tangent_grads"]


def _batch(t, value):
    """The leading direction axes ``t`` has beyond ``value``'s (a tangent of it)."""
    extra = np.ndim(t) - np.ndim(value)
    return np.shape(t)[:extra] if extra > 0 else ()


def _scalar(out, batch):
    """A 0-d result of one direction as a NumPy number (as NumPy's sums give)."""
    return out[()] if not batch and isinstance(out, np.ndarray) and out.ndim == 0 else out


@helper(shape_only=(1, 2), dtype=False)
def fit_directions(t, g, x):
    """``t``, a tangent of a value shaped like ``g`` (or a batch of them: leading
    direction axes), brought to ``x``'s shape direction by direction: summed over the
    axes broadcasting added (as ``unbroadcast``), or broadcast when ``g``'s shape
    broadcasts to ``x``'s. ``fit_directions(., x, g)`` is its transpose."""
    return _fit(t, _batch(t, g), np.shape(g), np.shape(x))


@helper(shape_only=(1,), dtype=False)
def fit_shape(g, x):
    """``g`` summed or broadcast to ``x``'s shape (one direction: see fit_directions)."""
    if type(x) is not np.ndarray:
        g = like_array(g, x)        # another library's array: a gradient of its type
    return _fit(g, (), np.shape(g), np.shape(x))


def _fit(t, batch, g_shape, x_shape):
    if g_shape == x_shape:
        return t
    if len(g_shape) <= len(x_shape):
        padded = (1,) * (len(x_shape) - len(g_shape)) + g_shape
        if all(a in (1, b) for a, b in zip(padded, x_shape)):       # g broadcasts to x
            return np.broadcast_to(np.reshape(t, batch + padded), batch + x_shape)
    padded = (1,) * (len(g_shape) - len(x_shape)) + x_shape
    axes = tuple(len(batch) + i for i, (a, b) in enumerate(zip(g_shape, padded))
                 if b == 1 and a != 1)
    out = np.sum(t, axis=axes, keepdims=True) if axes else t
    return _scalar(np.reshape(out, batch + x_shape), batch)


def _expanded(g, x, axis, keepdims):
    """The shape ``unreduce`` gives ``g`` before broadcasting it to ``x``'s:
    the reduced axes put back, right-aligned with ``x``'s axes."""
    shape = np.shape(g)
    if not keepdims and axis is not None:
        axes = axis if isinstance(axis, tuple) else (axis,)
        ndim = len(shape) + len(axes)
        shape = list(shape)
        for a in sorted(a + ndim if a < 0 else a for a in axes):
            shape.insert(a, 1)
        shape = tuple(shape)
    return (1,) * (np.ndim(x) - len(shape)) + shape


@helper(shape_only=(1, 2), dtype=False)
def unreduce_directions(t, g, x, axis=None, keepdims=False):
    """``unreduce(t, x, axis, keepdims)`` for each direction of a batch ``t``
    of tangents of ``g`` (the gradient of a reduction)."""
    batch = _batch(t, g)
    return np.broadcast_to(np.reshape(t, batch + _expanded(g, x, axis, keepdims)),
                           batch + np.shape(x))


@helper(shape_only=(1, 2), dtype=False)
def reduce_directions(h, x, g, axis=None, keepdims=False):
    """The transpose of ``unreduce_directions(., g, x, axis, keepdims)``: ``h`` (x's
    shape, after any direction axes) summed over the reduced axes, to ``g``'s shape."""
    batch = _batch(h, x)
    expanded = _expanded(g, x, axis, keepdims)
    axes = tuple(len(batch) + i for i, (a, b) in enumerate(zip(expanded, np.shape(x)))
                 if a == 1 and b != 1)
    out = np.sum(h, axis=axes, keepdims=True) if axes else h
    return _scalar(np.reshape(out, batch + np.shape(g)), batch)


# -- containers and indexing (one direction at a time) ---------------------------------

def _is_zero(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def _zeros_like(value, like):
    """``value`` as a gradient of ``like``'s structure (a zero number: zeros)."""
    return zeros_adjoint(like) if _is_zero(value) else value


@helper(shape_only=(1,), returns_new=True)
def untake_at(g, x, index):
    """Adjoint of ``(rest, part) = take_at(total, x, index)`` with respect to
    ``total``, from the pair ``g`` of their gradients: ``rest``'s gradient
    with ``part``'s put back at ``index`` (of repeated indices, only the
    last carried the value, as take_at decided)."""
    g_rest, g_part = g
    if isinstance(x, (list, tuple)):
        total = list(g_rest) if isinstance(g_rest, (list, tuple)) else zeros_adjoint(x)
        total[index] = _zeros_like(g_part, x[index])
        return total
    start = np.broadcast_to(like_array(_zeros_like(g_rest, x), x), np.shape(x))
    rest, _ = take_at(copy_as(start, _float(x, g_rest)), x, index)
    if _is_zero(g_part):
        return rest
    _, kept = take_at(ones_of(np.shape(x), float, x, g_part), x, index)   # 1 where x[index] taken
    return add_at(rest, x, index, g_part * kept)


def _float(x, g):
    dtype = np.result_type(as_array(x).dtype, as_array(g).dtype)
    return dtype if dtype.kind in "fc" else np.float64


@helper(shape_only=(2,))
def take_cotangent(g, index, part):
    """The transpose of scattering ``part`` into ``x[index]`` (``add_at``,
    ``scatter``): ``g[index]`` (repeated indices read again), summed to
    ``part``'s shape when it was broadcast into the selection."""
    if isinstance(g, (list, tuple)):
        if isinstance(index, slice):        # an array part took a slice of a list's items
            return like_array(as_stacked(g[index]), part) if is_array(part) else list(g[index])
        return g[index]
    if _is_zero(g):
        return zeros_adjoint(part)
    taken = g[index]
    return fit_shape(taken, part)


@helper(shape_only=(1, 2, 3))
def untotal(g, total, x, carried=None):
    """The gradient of ``total`` in ``add_at(total, x, index, part)``: all of
    ``g`` (summed to ``total``'s shape when a number stood for zeros), none
    when a list's ``total`` was not one (add_at then starts from zeros).

    ``carried`` (its own transpose): the ``total`` that decided whether a
    list's gradient was carried, when ``total`` here is another value."""
    if isinstance(x, (list, tuple)):
        source = total if carried is None else carried
        return g if isinstance(source, (list, tuple)) else zeros_adjoint(total)
    return fit_shape(g, total)


@helper(shape_only=(1,), returns_new=True)
def unpop_last(g, y):
    """Adjoint of ``(rest, last) = pop_last(total)``, from their gradients
    ``g`` and the pair ``y`` itself: the gradient of the list (or array)
    before the pop."""
    g_rest, g_last = _zeros_like(g[0], y[0]), _zeros_like(g[1], y[1])
    if isinstance(y[0], list):
        return list(g_rest) + [g_last]
    return np.concatenate([np.broadcast_to(g_rest, np.shape(y[0])),
                           np.broadcast_to(g_last, np.shape(y[1]))[None]])


@helper(shape_only=(1, 2))
def restack_parts(g, parts, items, axis=0):
    """The transpose of ``unstack(., items, axis)``: the gradient ``g`` of the
    parts ``unstack`` handed out (``parts`` is its input, for its structure)
    put back together."""
    if axis is None:
        if isinstance(items, (list, tuple)):
            pieces = [fit_shape(piece, parts) for piece in g if not _is_zero(piece)]
            return sum(pieces[1:], pieces[0]) if pieces else zeros_adjoint(parts)
        return fit_shape(g, parts)
    if not isinstance(items, (list, tuple)):
        return np.moveaxis(g, 0, axis) if axis else g
    split = parts if isinstance(parts, (list, tuple)) and axis == 0 \
        else np.moveaxis(as_stacked(parts), axis, 0)
    pieces = [restack_parts(_zeros_like(piece, part), part, item, 0)
              if isinstance(item, (list, tuple)) else _zeros_like(piece, part)
              for piece, part, item in zip(g, split, items)]
    if isinstance(parts, (list, tuple)) and axis == 0:
        return type(parts)(pieces)
    return np.moveaxis(np.stack([np.broadcast_to(p, np.shape(s)) for p, s in zip(pieces, split)]),
                       0, axis)


@helper(shape_only=(1,))
def unaccumulate(g, x):
    """The gradient of one operand ``x`` of ``accumulate(total, part)`` from
    the result's gradient ``g``: all of it, summed to ``x``'s shape; a number
    added to every item of a list gets the sum of theirs."""
    if isinstance(x, (list, tuple)):
        if isinstance(g, (list, tuple)):
            return [unaccumulate(a, b) for a, b in zip(g, x)]
        return [fit_shape(g, item) for item in x]
    if isinstance(g, (list, tuple)):
        return sum((unaccumulate(item, x) for item in g), zeros_adjoint(x))
    return fit_shape(g, x)


# -- products (runtime/products.py) -----------------------------------------------------

def einsum_grads_along(g, subscripts, operands, tangents):
    """The operands' part of the tangent of ``einsum_grads(g, subscripts, operands)``: a
    moving operand j, its tangent in its place, changes the others' gradients."""
    out = [0.0] * len(operands)
    for j, t in enumerate(tangents):
        if _is_zero(t):
            continue
        grads = einsum_grads(g, subscripts, list(operands[:j]) + [t] + list(operands[j + 1:]))
        out = [total if i == j else total + grad for i, (total, grad) in enumerate(zip(out, grads))]
    return out


def einsum_grads_transpose(u, g, subscripts, operands):
    """The adjoints of ``einsum_grads(g, subscripts, operands)`` for ``g`` and each operand,
    from its results' gradients ``u``: <grad_i, u_i> is <g, einsum with u_i for operand i>."""
    operands = list(operands)
    g_total = 0.0
    totals = [0.0] * len(operands)
    for i, part in enumerate(u):
        if _is_zero(part):
            continue
        swapped = operands[:i] + [part] + operands[i + 1:]
        g_total = g_total + np.einsum(subscripts, *swapped)
        grads = einsum_grads(g, subscripts, swapped)
        totals = [total if j == i else total + grad
                  for j, (total, grad) in enumerate(zip(totals, grads))]
    g_total = fit_shape(g_total, g) if not _is_zero(g_total) else zeros_adjoint(g)
    return g_total, [zeros_adjoint(op) if _is_zero(total) else total
                     for total, op in zip(totals, operands)]


# -- shapes (runtime/shape.py) ----------------------------------------------------------

@helper(returns_new=True)
def pad_linear(g, pad_width, mode="constant", reflect_type="even"):
    """``np.pad(g, pad_width, mode)``, padding zeros for 'constant': the transpose of unpad."""
    if mode in ("constant", "empty"):
        return np.pad(g, pad_width)
    if mode in ("reflect", "symmetric"):
        return np.pad(g, pad_width, mode=mode, reflect_type=reflect_type)
    return np.pad(g, pad_width, mode=mode)


def _piece(part, like):
    """A gradient piece as an array of ``like``'s shape (a zero number: zeros)."""
    if _is_zero(part):
        return zeros_of(np.shape(like), _float(like, 0.0), like)
    return np.reshape(as_array(part), np.shape(like))


@helper(shape_only=(1,), returns_new=True)
def join_parts(parts, items, axis=0):
    """The transpose of ``unconcatenate(., items, axis)``: the pieces joined
    as ``np.concatenate(items, axis)`` joins the items."""
    pieces = [_piece(part, item) for part, item in zip(parts, items)]
    if axis is None:
        return np.concatenate([np.ravel(p) for p in pieces])
    return np.concatenate(pieces, axis)


@helper(shape_only=(1,), returns_new=True)
def rejoin(parts, tup, promote, axis):
    """The transpose of ``unjoin(., tup, promote, axis)`` (hstack, vstack,
    dstack, column_stack): the pieces promoted and joined as the items were."""
    raise_to = _PROMOTE[promote]
    promoted = [np.shape(raise_to(as_array(item))) for item in tup]
    if promote == "1d" and promoted and len(promoted[0]) == 1:
        axis = 0
    pieces = [np.reshape(_piece(part, item), shape)
              for part, item, shape in zip(parts, tup, promoted)]
    return np.concatenate(pieces, axis)


@helper(shape_only=(1,))
def split_parts(h, g, indices_or_sections, axis=0):
    """The transpose of ``unsplit(g, ary, indices_or_sections, axis)``: ``h``
    (ary's shape) cut into the pieces ``np.split`` makes, a list when ``g``
    was one, else stacked as ``g`` stacked them."""
    axis = axis + np.ndim(h) if axis < 0 else axis
    head = (slice(None),) * axis
    pieces = [h[head + (slice(start, stop),)]
              for start, stop in _section_bounds(np.shape(h)[axis], indices_or_sections)]
    return list(pieces) if isinstance(g, (list, tuple)) else np.stack(pieces)


@helper(shape_only=(1, 2), returns_new=True)
def reappend(parts, arr, values, axis=None):
    """The transpose of ``unappend(., arr, values, axis)``: the two pieces
    appended as ``np.append(arr, values, axis)`` appends."""
    return np.append(_piece(parts[0], arr), _piece(parts[1], values), axis)


@helper(shape_only=(1,))
def rebroadcast_parts(parts, g):
    """The transpose of ``unbroadcast_arrays(g, args)``: each piece broadcast
    back to the shape of ``g``'s (a zero number stays one)."""
    return [part if _is_zero(item) or _is_zero(part) else fit_shape(part, item)
            for part, item in zip(parts, g)]


@helper(shape_only=(1,))
def reshape_parts(parts, like):
    """Each piece reshaped as the matching one of ``like`` (a list); one
    array when ``like`` is one (np.atleast_1d of one argument): the
    transpose of ``unatleast`` and of itself."""
    if not isinstance(like, (list, tuple)):
        return np.reshape(parts[0], np.shape(like))
    parts = parts if isinstance(parts, (list, tuple)) else [parts]
    return [part if _is_zero(part) else np.reshape(part, np.shape(item))
            for part, item in zip(parts, like)]


# -- elementwise -----------------------------------------------------------------------

def power_slope_dx(x, y, float_power=False):
    """d/dx of ``power_slope(x, y)`` = y (y - 1) x ** (y - 2), 0 where y is 0 or 1."""
    return masked_mul(y, power_slope(x, y - 1.0, float_power))


def power_slope_dy(x, y, float_power=False):
    """d/dy of ``power_slope(x, y)`` = x ** (y - 1) (1 + y log x), log x taken
    as 0 where x == 0 (as the rule of x ** y does)."""
    return _power(x, y - 1.0, float_power) * (1.0 + y * _log(x))


def power_slope_dy_dx(x, y, float_power=False):
    """d/dx of ``power_slope_dy(x, y)`` = x ** (y - 2) ((y - 1)(1 + y log x) + y)."""
    return _power(x, y - 2.0, float_power) * ((y - 1.0) * (1.0 + y * _log(x)) + y)


def power_slope_dy_dy(x, y, float_power=False):
    """d/dy of ``power_slope_dy(x, y)`` = x ** (y - 1) log x (2 + y log x)."""
    log = _log(x)
    return _power(x, y - 1.0, float_power) * log * (2.0 + y * log)


def _power(x, y, float_power):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.float_power(x, y) if float_power else np.power(x, y)


def _log(x):
    """log x, taken as 0 where x == 0 (the rule of x ** y takes that limit)."""
    return np.log(np.where(np.equal(x, 0), 1.0, x))


def where_nonzero(t, y):
    """``t`` where ``y`` is not 0, and 0 where it is: the derivative of
    ``nonzero(y)`` (``y`` with zeros replaced by ones) applied to ``t``."""
    if is_numeric_array(t) or is_numeric_array(y):
        out = np.where(np.equal(y, 0), 0.0, t).astype(np.result_type(t, np.float32), copy=False)
        return out if out.ndim else out[()]
    return t if y != 0 else 0.0


_SMALL_SINC = 1e-2      # where runtime.elementwise.sinc_slope switches to its series


def sinc_slope_dx(x, y):
    """d/dx of ``sinc_slope(x, y)`` = (cos(pi x) - y) / x: -(pi sin(pi x) + sinc_slope) / x;
    near 0 the derivative of sinc_slope's series."""
    small = np.abs(x) < _SMALL_SINC
    safe = np.where(small, 1.0, x)
    u = (np.pi * x) * (np.pi * x)
    series = (-np.pi * np.pi / 3.0) * (1.0 - 0.3 * u + u * u / 56.0 - u * u * u / 2160.0)
    return np.where(small, series, -(np.pi * np.sin(np.pi * safe) + sinc_slope(safe, y)) / safe)


def sinc_slope_dy(x, y):
    """d/dy of ``sinc_slope(x, y)``: -1 / x (0 near 0, where its series reads no y)."""
    small = np.abs(x) < _SMALL_SINC
    return np.where(small, 0.0, -1.0 / np.where(small, 1.0, x)) * np.ones_like(y)


@helper(shape_only=(1,))
def unselect(parts, g, condlist):
    """The transpose of ``select_grads(g, condlist, choicelist)``: each
    choice's piece where its condition was the first to hold, summed, in
    ``g``'s shape."""
    taken = False
    total = 0.0
    for condition, part in zip(condlist, parts):
        condition = as_array(condition, dtype=bool)
        if not _is_zero(part):
            total = total + np.where(condition & ~taken, part, 0.0)
        taken = taken | condition
    return fit_shape(np.broadcast_to(total, np.broadcast_shapes(np.shape(total), np.shape(g))), g)


# -- the tangent helpers (runtime/tangents.py) -----------------------------------------

@helper(shape_only=(1,), dtype=False)
def direction_of(t, value, i):
    """Direction ``i`` of a batch ``t`` whose own tangents lead (``t`` has
    leading axes of another batch before the direction axis of ``value``'s)."""
    if isinstance(t, (list, tuple)):
        return type(t)(direction_of(e, v, i) for e, v in zip(t, value))
    return np.take(t, i, axis=np.ndim(t) - np.ndim(value))


@helper(shape_only=(1, 3), dtype=False, returns_new=True)
def undirection(g, t, i, value=None):
    """The transpose of ``direction(t, i)`` (and of ``direction_of(t, value,
    i)``): zeros of ``t``'s shape with ``g`` at direction ``i``."""
    if isinstance(t, (list, tuple)):
        values = value if value is not None else [None] * len(t)
        return type(t)(undirection(e, v, i, w) for e, v, w in zip(g, t, values))
    axis = 0 if value is None else np.ndim(t) - np.ndim(value)
    out = zeros_of(np.shape(t), np.result_type(as_array(g).dtype, np.float32), t, g)
    out[(slice(None),) * axis + (i,)] = g
    return out


def _item_index(t, like, index):
    """``index`` behind the direction axes of ``t`` (a batch of tangents of
    a batch ``like``: its own leading axes, then ``like``'s direction axis)."""
    lead = np.ndim(t) - np.ndim(like) + 1
    return (slice(None),) * lead + (index if isinstance(index, tuple) else (index,))


@helper(shape_only=(1,), dtype=False)
def item_of(t, like, index):
    """``tangent_item(like, index)`` for each direction of ``t``, a batch of
    tangents of ``like`` (leading axes of its own before ``like``'s)."""
    if isinstance(t, (list, tuple)):
        return t[index]
    return t[_item_index(t, like, index)]


@helper(shape_only=(1, 3), dtype=False, returns_new=True)
def untangent_item(g, t, index, like=None):
    """The transpose of ``tangent_item(t, index)`` (of ``item_of(t, like,
    index)``): zeros of ``t``'s shape with ``g`` added at the index
    (repeated indices add up)."""
    if isinstance(t, (list, tuple)):
        out = zeros_adjoint(t)
        out[index] = g
        return out
    out = zeros_of(np.shape(t), np.result_type(as_array(g).dtype, np.float32), t, g)
    return add_at_unbuffered(out, _item_index(t, t if like is None else like, index), g,
                             _ITEM_ADDED)


_ITEM_ADDED = "The transpose of a tangent's item (repeated indices add up: np.add.at)"


@helper(shape_only=(1,), dtype=False, new_list=True)
def unstack_directions(g, parts):
    """The transpose of ``stack_directions(parts)``: direction ``i`` of ``g`` to part ``i``."""
    if isinstance(g, (list, tuple)):
        columns = [unstack_directions(e, [p[k] for p in parts]) for k, e in enumerate(g)]
        return [type(g)(c[i] for c in columns) for i in range(len(parts))]
    return [g[i] for i in range(len(parts))]
