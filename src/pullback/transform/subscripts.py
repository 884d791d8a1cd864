"""Stage 5: the adjoint of ``y = x[index]``, decided by what is known of x.

In general the gradient of ``x`` is made by a runtime helper: ``scatter``
(zeros of x's shape with ``g`` added at ``index``) or ``add_at`` (into the
gradient so far), which handle lists, dicts, repeated indices and arrays of
any kind; for a known array and a basic index (numbers, slices, None),
``scatter_basic`` and ``add_at_basic`` only add. When x is an array of known rank and the index only adds axes of
length 1 and takes whole axes (``x[None, :, :]``, ``x[:, None]``), ``y`` is
x itself reshaped, and its gradient is ``g`` with those axes taken away:
``g[0]``, ``g[:, 0]``.
"""
import gast

from pullback.analysis import lengths as L
from pullback.analysis.array_shapes import Shape
from pullback.analysis.array_shapes import _subscript as subscript_shape
from pullback.transform.nodes import call
from pullback.code.astutil import clone, make_name


def index_value(node):
    """A subscript's index as a value (``1:n`` -> ``slice(1, n)``)."""
    if isinstance(node, gast.Slice):
        none = gast.Constant(value=None, kind=None)
        return call("slice", *[clone(getattr(node, p)) if getattr(node, p) is not None else none
                               for p in ("lower", "upper", "step")])
    if isinstance(node, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in node.elts], ctx=gast.Load())
    return clone(node)


def fills_part(arrays, target, index, value):
    """Does ``value`` (an operand node) have exactly the shape of ``target[index]``
    (a basic index, every length known; or both are numbers, an element
    written): the gradient of ``target[index] = value`` is then the part
    itself, nothing summed (no ``unbroadcast``)."""
    own = arrays.get(value.id) if isinstance(value, gast.Name) else None
    whole = arrays.get(target)
    if own is None or whole is None or whole.number:
        return False
    part = subscript_shape(whole, index, frozenset())
    if own.number or (isinstance(part, Shape) and part.number):
        return own.number and isinstance(part, Shape) and part.number   # one element
    return isinstance(part, Shape) and not part.number and part.dims != ("unknown",) \
        and part.ndim == own.ndim and all(L.equal(own.length(i), part.length(i))
                                          for i in range(own.ndim))


def subscript_gradient(runtime, container, index, adjoint, total, shapes, scalars):
    """The gradient of ``container`` from ``adjoint``, the gradient of
    ``container[index]``, added to ``total`` (None: the first part of it);
    ``runtime(name)`` names a helper; ``shapes`` is a ShapeFacts (its
    ``arrays``: array_shapes' answer), ``scalars`` the names known to hold
    numbers. Returns ``(value, add)``: add says ``value`` is to be added to
    the total with ``+`` (else it is the new total).

    The basic-index helpers read ``container`` for its shape and dtype only:
    they are given the name of its shape class that holds its value longest
    (analysis/shape_classes.py) where that one has its dtype, so a value
    updated in a loop need not be kept for its shape."""
    arrays = shapes.arrays
    added = _added_axes(container, index, arrays)
    if added is not None:
        return _without_axes(make_name(adjoint), added), True
    basic = _is_array(container, arrays) and _basic(index, scalars)
    if basic:
        root = shapes.shape_of(container.id)
        kinds = arrays.get(root), arrays.get(container.id)
        if root != container.id and kinds[0] is not None and kinds[0].dtype == kinds[1].dtype \
                and kinds[0].dtype not in (None, "numeric") and not kinds[0].number:
            container = make_name(root)
    if total is not None:
        return call(runtime("add_at_basic" if basic else "add_at"), make_name(total),
                    clone(container), index_value(index), make_name(adjoint)), False
    return call(runtime("scatter_basic" if basic else "scatter"), clone(container),
                index_value(index), make_name(adjoint)), False


def _is_array(container, arrays):
    """Is ``container`` known to be an array of at least one dimension (a 0-d
    result may be a NumPy scalar, which cannot be written into)?"""
    shape = arrays.get(container.id) if isinstance(container, gast.Name) else None
    return isinstance(shape, Shape) and not shape.number and shape.ndim >= 1


def _basic(index, scalars):
    """Is ``index`` made of numbers, slices, None and ``...`` only (no index
    arrays or lists: no position can repeat)?"""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    for part in parts:
        match part:
            case gast.Slice() | gast.Constant(value=int() | None | bool()):
                continue
            case gast.Constant(value=value) if value is Ellipsis:
                continue
            case gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=int())):
                continue
            case gast.Name(id=name) if name in scalars:
                continue
        return False
    return True


def _added_axes(container, index, arrays):
    """The positions (in the result) of the axes ``container[index]`` adds,
    when the index is only None and whole slices ``:`` of an array of known
    rank; else None."""
    if not _is_array(container, arrays):
        return None
    shape = arrays[container.id]
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    added, taken = [], 0
    for position, part in enumerate(parts):
        if isinstance(part, gast.Constant) and part.value is None:
            added.append(position)
        elif isinstance(part, gast.Slice) and part.lower is None and part.upper is None \
                and part.step is None:
            taken += 1
        else:
            return None
    return tuple(added) if added and taken <= shape.ndim else None


def _without_axes(value, axes):
    """``value`` (of the result's shape) with the length-1 ``axes`` taken
    away: ``value[:, 0]``."""
    slices = [gast.Constant(value=0, kind=None) if i in axes else
              gast.Slice(lower=None, upper=None, step=None) for i in range(max(axes) + 1)]
    index = slices[0] if len(slices) == 1 else gast.Tuple(elts=slices, ctx=gast.Load())
    return gast.Subscript(value=value, slice=index, ctx=gast.Load())


def expanded_axes(value, axis, keepdims, shape):
    """``np.expand_dims(value, axis)`` as an index (``value[:, None]``) for
    ``unreduce``'s gradient of a reduction over literal ``axis`` (an int or a
    tuple of ints) of an array of ``shape`` (a known rank); ``value`` itself
    with ``keepdims``; None where the axes are not literal or out of range."""
    if shape is None or shape.number or shape.dims == ("unknown",):
        return None
    if isinstance(keepdims, gast.Constant) and keepdims.value is True:
        return value
    if not (isinstance(keepdims, gast.Constant) and keepdims.value is False):
        return None
    parts = axis.elts if isinstance(axis, gast.Tuple) else [axis]
    if not parts or not all(isinstance(p, gast.Constant) and type(p.value) is int for p in parts):
        return None
    if any(not -shape.ndim <= p.value < shape.ndim for p in parts):
        return None
    axes = {p.value % shape.ndim for p in parts}
    if len(axes) != len(parts) or len(axes) == shape.ndim:
        return None     # a repeated axis; or every axis: the gradient may be a Python float
    slices = [gast.Constant(value=None, kind=None) if i in axes else
              gast.Slice(lower=None, upper=None, step=None) for i in range(max(axes) + 1)]
    index = slices[0] if len(slices) == 1 else gast.Tuple(elts=slices, ctx=gast.Load())
    return gast.Subscript(value=value, slice=index, ctx=gast.Load())
