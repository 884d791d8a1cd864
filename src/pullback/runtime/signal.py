"""Run-time helpers of the differences, integrals, interpolation, polynomials,
convolutions and covariances (templates/signal.py: np.diff, np.gradient,
np.trapezoid, np.interp, np.polyval, np.convolve, np.correlate, np.cov,
np.corrcoef, np.angle, np.real_if_close).

Each adjoint helper is the transpose of the (bi)linear map its function is
in the differentiated argument; the tangent helpers apply that map to a
tangent. Complex inputs and the options with no derivative here (np.interp's
``period``, np.gradient's coordinate arrays as differentiated inputs, an
array ``dx`` of np.trapezoid) are refused with NotDifferentiable.
"""
import numpy as np

from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import (as_array, copy_array, foreign_among, is_foreign_array,
                                     like_array, number_or_array, size_of, zeros_of)
from pullback.runtime.declare import helper

__all__ = [
    "undiff", "diff_parts", "diff_join", "convolve_margins", "polyval_slope", "polyval_grad_p",
    "trapezoid_grad_y", "trapezoid_grad_x", "trapezoid_dx_grad", "trapezoid_x_tangent",
    "interp_grads", "interp_slope", "interp_tangent", "gradient_grad", "gradient_spacing_grads",
    "gradient_spacing_tangent", "add_outputs", "real_only",
]


def _axis(axis, ndim):
    axis = int(axis)
    return axis + ndim if axis < 0 else axis


def _sum_to(value, shape):
    """``value`` summed over the axes broadcasting added to an array of ``shape``."""
    value = as_array(value)
    extra = value.ndim - len(shape)
    if extra:
        value = np.sum(value, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and value.shape[i] != 1)
    return np.sum(value, axis=axes, keepdims=True) if axes else value


def _like_input(value, x):
    """``value`` as the gradient of ``x``: a float for a number, else an array of its shape."""
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray) and not is_foreign_array(x):
        return number_or_array(np.sum(value))
    return np.reshape(like_array(_sum_to(value, np.shape(x)), x), np.shape(x))


def _refuse_complex(name, *values):
    if any(np.iscomplexobj(v) for v in values if v is not None):
        raise NotDifferentiable(f"pullback differentiates {name} of real input only; this "
                                f"call has a complex argument")


# -- np.diff ------------------------------------------------------------------------------

@helper(returns_new=True)
def undiff(g, n, axis):
    """Adjoint of ``np.diff(., n, axis)``: ``(-1)^n diff(g padded by n zeros on both
    sides, n)``, the n-th difference's transpose."""
    g = as_array(g)
    n = int(n)
    if n == 0:
        return copy_array(g)
    widths = [(0, 0)] * g.ndim
    widths[axis] = (n, n)
    out = np.diff(np.pad(g, widths), n, axis=axis)
    return -out if n % 2 else out


def _edge_shape(a, edge, axis):
    """The shape ``prepend``/``append`` takes in the array np.diff joins (a number
    is broadcast to one slice of ``a``)."""
    if np.ndim(edge) == 0:
        shape = list(np.shape(a))
        shape[axis] = 1
        return tuple(shape)
    return np.shape(edge)


@helper(shape_only=(1,), dtype=False)
def diff_parts(g, a, axis, prepend, append):
    """The gradient ``g`` of the array np.diff joins from ``prepend``, ``a`` and
    ``append`` (undiff's result) split into (d a, d prepend, d append)."""
    axis = _axis(axis, np.ndim(a))
    first = 0 if prepend is None else _edge_shape(a, prepend, axis)[axis]
    g, head, stop = as_array(g), (slice(None),) * axis, first + np.shape(a)[axis]
    parts = [g[head + (slice(0, first),)], g[head + (slice(first, stop),)],
             g[head + (slice(stop, None),)]]
    edges = [None if edge is None else _like_input(part, edge)
             for edge, part in ((prepend, parts[0]), (append, parts[2]))]
    return parts[1], edges[0], edges[1]


@helper(shape_only=(2,), dtype=False, returns_new=True)
def diff_join(t, part, a, axis, prepend, append):
    """The tangent of the array np.diff joins, where only ``part`` ("a",
    "prepend" or "append") moves, with tangent ``t`` (leading direction axes kept)."""
    ndim = np.ndim(a)
    axis = _axis(axis, ndim)
    own = {"a": a, "prepend": prepend, "append": append}[part]
    batch = np.shape(t)[:np.ndim(t) - np.ndim(own)]
    pieces = []
    for name, value in (("prepend", prepend), ("a", a), ("append", append)):
        if value is None:
            continue
        shape = batch + (np.shape(a) if name == "a" else _edge_shape(a, value, axis))
        if name == part:
            moved = np.reshape(t, batch + (1,) * (ndim - np.ndim(value)) + np.shape(value))
            pieces.append(np.broadcast_to(moved, shape))
        else:
            pieces.append(zeros_of(shape, np.result_type(t, 0.0), t, a))
    return np.concatenate(pieces, axis=axis - ndim)


# -- np.convolve, np.correlate ------------------------------------------------------------

@helper(shape_only=(0, 1), dtype=False)
def convolve_margins(a, v, mode, correlate=False):
    """Where ``np.convolve(a, v, mode)`` (``np.correlate``) sits in the full result:
    the zeros (before, after) that pad its gradient to the full one's length."""
    n, m = size_of(a), size_of(v)
    full = n + m - 1
    short = min(n, m)
    if mode == "full":
        return (0, 0)
    if mode == "same":
        length = max(n, m)
        # np.correlate with the longer operand second reverses a swapped product
        start = short // 2 if correlate and n < m else (short - 1) // 2
    elif mode == "valid":
        length, start = max(n, m) - short + 1, short - 1
    else:
        raise NotDifferentiable(f"pullback differentiates np.convolve and np.correlate with mode "
                                f"'full', 'same' or 'valid', not {mode!r}")
    return (start, full - length - start)


# -- np.polyval ---------------------------------------------------------------------------

def _coefficients(p):
    p = as_array(p)
    _refuse_complex("np.polyval", p)
    if p.ndim == 0:
        raise NotDifferentiable("pullback differentiates np.polyval with an array of coefficients")
    return p


@helper()
def polyval_slope(p, x):
    """``p'(x)``: the derivative of the polynomial with coefficients ``p`` at ``x``."""
    p = _coefficients(p)
    count = p.shape[0]
    if count < 2:
        return zeros_of(np.broadcast_shapes(p.shape[1:], np.shape(x)), float, p, x)
    powers = like_array(np.arange(count - 1, 0, -1).reshape((-1,) + (1,) * (p.ndim - 1)), p)
    return np.polyval(p[:-1] * powers, x)


@helper(shape_only=(1,), dtype=False, returns_new=True)
def polyval_grad_p(g, p, x):
    """Adjoint of ``np.polyval(p, x)`` in ``p``: ``d p[i] = sum g x^(N-1-i)``."""
    p = _coefficients(p)
    count = p.shape[0]
    x = as_array(like_array(x, p, g))
    powers = np.stack([x ** k for k in range(count - 1, -1, -1)], axis=-1)   # x.shape + (N,)
    each = np.expand_dims(as_array(g), -1) * powers
    out = _sum_to(each, p.shape[1:] + (count,))
    return copy_array(np.moveaxis(np.reshape(out, p.shape[1:] + (count,)), -1, 0))


# -- np.trapezoid -------------------------------------------------------------------------

def _intervals(y, x, dx, axis):
    """The widths of the intervals along ``axis``, shaped to broadcast against ``y``."""
    y = as_array(y)
    axis = _axis(axis, y.ndim)
    if x is None:
        if np.ndim(dx) != 0:
            raise NotDifferentiable("pullback differentiates np.trapezoid with a number dx; "
                                    "give the sample points as x= instead of an array dx")
        return like_array(np.full((y.shape[axis] - 1,) + (1,) * (y.ndim - 1 - axis), dx,
                                  dtype=float), y), axis
    x = as_array(x)
    _refuse_complex("np.trapezoid", x, y)
    if x.ndim == 1:
        return np.diff(x).reshape((-1,) + (1,) * (y.ndim - 1 - axis)), axis
    if x.ndim != y.ndim:
        raise NotDifferentiable("pullback differentiates np.trapezoid with x 1-D or of y's "
                                "number of dimensions")
    return np.diff(x, axis=axis), axis


def _ends_added(h, axis):
    """``(h[i-1] + h[i]) / 2`` along ``axis`` with zeros past the ends: each sample's weight."""
    widths = [(0, 0)] * np.ndim(h)
    before, after = list(widths), list(widths)
    before[axis], after[axis] = (1, 0), (0, 1)
    return (np.pad(h, before) + np.pad(h, after)) / 2.0


@helper(shape_only=(1,), dtype=False, returns_new=True)
def trapezoid_grad_y(g, y, x, dx, axis):
    """Adjoint of ``np.trapezoid(y, x, dx, axis)`` in ``y``: each sample's weight times ``g``."""
    h, axis = _intervals(y, x, dx, axis)
    h = np.reshape(h, (1,) * (np.ndim(y) - np.ndim(h)) + np.shape(h))
    weights = _ends_added(h, axis)
    return copy_array(_sum_to(np.expand_dims(g, axis) * weights, np.shape(y)))


def _midpoints(y, axis):
    y = np.moveaxis(as_array(y), axis, -1)
    return np.moveaxis((y[..., 1:] + y[..., :-1]) / 2.0, -1, axis)


@helper(shape_only=(2,), dtype=False, returns_new=True)
def trapezoid_grad_x(g, y, x, axis):
    """Adjoint of ``np.trapezoid(y, x, axis=axis)`` in ``x``: the transpose of
    ``x -> diff(x)`` applied to ``g`` times the intervals' mean heights."""
    y = as_array(y)
    axis = _axis(axis, y.ndim)
    each = np.expand_dims(g, axis) * _midpoints(y, axis)      # d/d(width) of each interval
    if np.ndim(x) == 1:
        widths = np.sum(np.moveaxis(each, axis, -1).reshape(-1, np.shape(x)[0] - 1), axis=0)
        return undiff(widths, 1, 0)
    return undiff(_sum_to(each, np.shape(np.diff(x, axis=axis))), 1, axis)


@helper()
def trapezoid_dx_grad(g, y, dx, axis):
    """Adjoint of ``np.trapezoid(y, dx=dx, axis=axis)`` in the number ``dx``."""
    if np.ndim(dx) != 0:
        _intervals(y, None, dx, axis)       # refuses an array dx
    return number_or_array(np.sum(g * np.trapezoid(y, axis=axis)))


@helper()
def trapezoid_x_tangent(t, y, x, axis):
    """Tangent of ``np.trapezoid(y, x, axis=axis)`` along ``t``, the tangent of ``x``."""
    y = as_array(y)
    axis = _axis(axis, y.ndim)
    if np.ndim(x) == 1:
        widths = np.diff(t).reshape((-1,) + (1,) * (y.ndim - 1 - axis))
    else:
        widths = np.diff(t, axis=axis)
    return np.sum(widths * _midpoints(y, axis), axis=axis)


# -- np.interp ----------------------------------------------------------------------------

def _segments(x, xp, fp, period):
    """Where each ``x`` falls: (segment j, fraction t in it, slope there, below, above)."""
    if period is not None:
        raise NotDifferentiable("pullback differentiates np.interp without period=; map x "
                                "into one period (np.mod) and pass the samples as they are")
    _refuse_complex("np.interp", x, xp, fp)
    x, xp, fp = as_array(x, dtype=float), as_array(xp, dtype=float), as_array(fp, dtype=float)
    if xp.size < 2:
        zero = zeros_of(x.shape, float, x, xp, fp)
        return zeros_of(x.shape, int, x, xp, fp), zero, zero, x < xp[0], x > xp[0]
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
    width = xp[j + 1] - xp[j]
    t = (x - xp[j]) / width
    slope = (fp[j + 1] - fp[j]) / width
    return j, t, slope, x < xp[0], x > xp[-1]


def _spread(values, index, size):
    return np.bincount(np.ravel(index), np.ravel(values), minlength=size)


@helper(returns_new=True)
def interp_grads(g, x, xp, fp, left=None, right=None, period=None):
    """Adjoint of ``np.interp(x, xp, fp, left, right)``: (d x, d xp, d fp, d left, d right)."""
    j, t, slope, below, above = _segments(x, xp, fp, period)
    g = np.broadcast_to(as_array(like_array(g, j), dtype=float), np.shape(j))
    inside = ~(below | above)
    size = size_of(xp)
    gin = np.where(inside, g, 0.0)
    d_fp = _spread(gin * (1.0 - t), j, size) + _spread(gin * t, j + 1, size) if size > 1 \
        else _spread(gin, j, size)
    if left is None:
        d_fp[0] += np.sum(g[below])
    if right is None:
        d_fp[-1] += np.sum(g[above])
    d_xp = zeros_of(size, float, g, xp, fp)
    if size > 1:
        d_xp = _spread(-gin * slope * (1.0 - t), j, size) + _spread(-gin * slope * t, j + 1, size)
    d_x = _like_input(gin * slope, x)
    return (d_x, d_xp, d_fp, None if left is None else _like_input(np.sum(g[below]), left),
            None if right is None else _like_input(np.sum(g[above]), right))


@helper()
def interp_slope(x, xp, fp, period=None):
    """How fast ``np.interp(x, xp, fp)`` moves with ``x``: its segment's slope (0 outside
    ``xp``; at a sample point, the slope of the segment that starts there)."""
    _, _, slope, below, above = _segments(x, xp, fp, period)
    slope = np.where(below | above, 0.0, slope)
    return slope if isinstance(x, np.ndarray) or is_foreign_array(x) else number_or_array(slope)


@helper()
def interp_tangent(t, part, x, xp, fp, left=None, right=None, period=None):
    """Tangent of ``np.interp(x, xp, fp, left, right)`` along ``t``, the tangent of
    ``part`` ("xp", "fp", "left" or "right")."""
    j, frac, slope, below, above = _segments(x, xp, fp, period)
    inside = ~(below | above)
    if part == "left":
        out = np.where(below, t, 0.0)
    elif part == "right":
        out = np.where(above, t, 0.0)
    else:
        t = as_array(t, dtype=float)
        weights = t[j] if size_of(xp) < 2 else t[j] * (1.0 - frac) + t[j + 1] * frac
        if part == "xp":
            out = np.where(inside, -slope * weights, 0.0) if size_of(xp) > 1 else \
                zeros_of(j.shape, float, j, t)
        else:
            ends = (t[0] if left is None else 0.0, t[-1] if right is None else 0.0)
            out = np.where(below, ends[0], np.where(above, ends[1], weights))
    return out if isinstance(x, np.ndarray) or is_foreign_array(x) else number_or_array(out)


# -- np.gradient --------------------------------------------------------------------------

def _gradient_axes(f, varargs, axis):
    """[(axis, spacing)] of ``np.gradient(f, *varargs, axis=axis)``, one per output."""
    ndim = np.ndim(f)
    axes = tuple(range(ndim)) if axis is None else \
        tuple(_axis(a, ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    else:
        spacings = list(varargs)
    return list(zip(axes, spacings))


def _outputs(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _bands(n, spacing, edge_order):
    """np.gradient along one axis of length ``n`` is banded (offsets -2..2): the
    entry at offset o of row i, for each o, read off five periodic probes."""
    index = np.arange(n)
    probes = np.stack([np.gradient((index % 5 == r).astype(float), spacing, edge_order=edge_order)
                       for r in range(5)])
    return {o: np.where((index + o >= 0) & (index + o < n), probes[(index + o) % 5, index], 0.0)
            for o in range(-2, 3)}


@helper(shape_only=(1,), dtype=False, returns_new=True)
def gradient_grad(g, f, varargs, axis=None, edge_order=1):
    """Adjoint of ``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)`` in ``f``:
    the transposed difference stencil of each axis applied to its output's gradient."""
    foreign = foreign_among(f, g)
    if foreign is not None:                 # added up without writes into views
        return _gradient_grad_added(g, f, varargs, axis, edge_order, foreign)
    total = np.zeros(np.shape(f), np.result_type(*_outputs(g), 0.0))
    for (ax, spacing), gk in zip(_gradient_axes(f, varargs, axis), _outputs(g)):
        n = np.shape(f)[ax]
        moved = np.moveaxis(np.broadcast_to(gk, np.shape(f)), ax, -1)
        out = np.moveaxis(total, ax, -1)            # a view: adds into total
        for o, coefficients in _bands(n, spacing, edge_order).items():
            each = coefficients * moved
            if o >= 0:
                out[..., o:] += each[..., :n - o]
            else:
                out[..., :n + o] += each[..., -o:]
    return total


def _gradient_grad_added(g, f, varargs, axis, edge_order, foreign):
    """gradient_grad for arrays of another library: each band's shifted
    contribution padded to full length and added (no writes into views)."""
    dtype = np.result_type(*[getattr(v, "dtype", v) for v in _outputs(g)], 0.0)
    total = zeros_of(np.shape(f), dtype, foreign)
    for (ax, spacing), gk in zip(_gradient_axes(f, varargs, axis), _outputs(g)):
        n = np.shape(f)[ax]
        moved = np.moveaxis(np.broadcast_to(like_array(gk, foreign), np.shape(f)), ax, -1)
        lead = [(0, 0)] * (moved.ndim - 1)
        for o, coefficients in _bands(n, spacing, edge_order).items():
            each = like_array(coefficients, foreign) * moved
            if o >= 0:
                shifted = np.pad(each[..., :n - o], lead + [(o, 0)])
            else:
                shifted = np.pad(each[..., -o:], lead + [(0, -o)])
            total = total + np.moveaxis(shifted, -1, ax)
    return total.astype(dtype, copy=False)


def _scalar_spacings(varargs):
    if any(np.ndim(h) != 0 for h in varargs):
        raise NotDifferentiable("pullback differentiates np.gradient with respect to numbers "
                                "as spacings, not coordinate arrays: pass the coordinates as "
                                "constants (computed from no differentiated input)")


@helper(new_list=True)
def gradient_spacing_grads(g, y, varargs, axis=None):
    """Adjoints of np.gradient's spacings (numbers: the result scales as 1 / h)."""
    _scalar_spacings(varargs)
    each = [-number_or_array(np.sum(gk * yk)) for gk, yk in zip(_outputs(g), _outputs(y))]
    if len(varargs) == 1:
        return [sum(each) / varargs[0]]
    return [e / h for e, h in zip(each, varargs)]


@helper()
def gradient_spacing_tangent(t, y, varargs, axis=None):
    """Tangent of np.gradient's result along ``t``, the tangents of its spacings."""
    _scalar_spacings(varargs)
    outputs = _outputs(y)
    rates = [t[0] / varargs[0]] * len(outputs) if len(varargs) == 1 else \
        [tk / h for tk, h in zip(t, varargs)]
    parts = [-yk * r for yk, r in zip(outputs, rates)]
    return type(y)(parts) if isinstance(y, (tuple, list)) else parts[0]


@helper()
def add_outputs(t, u):
    """Two tangents of np.gradient's result (an array, or a tuple of them) added."""
    if isinstance(t, (tuple, list)):
        return type(t)(a + b for a, b in zip(t, u))
    return t + u


# -- np.angle, np.real_if_close of real input -----------------------------------------------

@helper(shape_only=(1,))
def real_only(g, x, name):
    """``g`` as it is, after refusing a complex ``x`` (np.angle and np.real_if_close are
    differentiated on real input only)."""
    _refuse_complex(name, x)
    return g
