"""Stage 4c, part: the shapes of new arrays built from sizes, and of the rules
that rearrange their operands' axes (analysis/array_shapes.py asks).

- NumPy's constructors, through which no derivative flows (an operation of
  kind "constant" knows its ``function``): ``np.zeros(shape)``, ``np.ones``
  and ``np.empty`` of an int or a tuple of ints (literals, ``x.shape[k]``,
  ``len(x)``, names of numbers) or of ``x.shape``; ``np.zeros_like(x)`` and
  the other ``_like``s; ``np.eye(n, m)`` and ``np.identity(n)``. Their dtype
  is float64 (a ``_like``'s: its operand's) unless ``dtype=`` names another,
  which is then not known unless it is a string spelling float64.
- The rules' shape words (rules.SHAPES) "transposed" (np.transpose and
  ``x.T``: the axes reversed, or in the order of literal ``axes``), "outer"
  (np.outer: the sizes of its operands), "listed" (np.array, np.asarray:
  an array's own shape, or the nesting of a literal list or tuple of
  numbers, or of arrays of one shape), "accumulated" (np.cumsum: the
  operand's shape along a literal axis, 1-D of its size without one) and
  "differenced" (np.diff: the operand's shape, ``n`` shorter along ``axis``)
  and "contracted" (np.einsum of literal subscripts, analysis/contracted.py).

A literal list passed to np.array is usually first given a name by the
normalizer (``value = [a, b]``): its items are known when nothing else
reads that name (sealed_lists), so nothing can have changed the list.
Anything else is not known (UNKNOWN); a name not known yet gives None.
"""
import gast
import numpy as np

from pullback.analysis import lengths as L
from pullback.analysis.contracted import contracted
from pullback.analysis.dtypes import product_dtype
from pullback.analysis.shape_values import (ANY, NUMBER, ONE, UNKNOWN, Elements, Shape,
                                            combined_dtype, constant, shape_of)

# each constructor: its parameters, in order (keywords beyond them and device=: not known)
CONSTRUCTORS = {np.zeros: ("shape", "dtype", "order"), np.ones: ("shape", "dtype", "order"),
                np.empty: ("shape", "dtype", "order"),
                np.zeros_like: ("a", "dtype", "order", "subok", "shape"),
                np.ones_like: ("a", "dtype", "order", "subok", "shape"),
                np.empty_like: ("a", "dtype", "order", "subok", "shape"),
                np.eye: ("N", "M", "k", "dtype", "order"), np.identity: ("n", "dtype")}
REARRANGING = ("transposed", "outer", "listed", "accumulated", "differenced", "contracted")
_FLOAT64 = frozenset(("float64", "f8", "<f8", "d", "float", "double"))
_FLOATS = frozenset(("float64", "float32", "float16", "longdouble", "complex128", "complex64"))
_LEFT_OUT = object()
_NOT_A_SIZE = object()


def constructed(function, call, known, definitions, scalars, integers):
    """The Shape of ``call``, a call of ``function`` (a key of CONSTRUCTORS);
    ``definitions``: the value of each name assigned once (a size the normalizer
    named, ``value = 2, x.shape[0]``), ``scalars`` and ``integers``: the names
    of numbers and of ints."""
    sizing = (known, definitions, scalars, integers)
    names = CONSTRUCTORS[function]
    bound = _bound(call, names)
    if bound is None:
        return UNKNOWN
    if "a" in names:                                        # np.zeros_like(a)
        operand = _named(bound.get("a"), known)
        if not isinstance(operand, Shape) or operand is UNKNOWN or operand.number \
                or constant(bound.get("shape"), default=None) is not None:
            return operand if operand is None else UNKNOWN
        return shape_of(operand.dims, _dtype(bound.get("dtype"), operand.dtype),
                        lengths=operand.lengths)
    if "shape" in names:
        sizes = _sizes(bound.get("shape", _LEFT_OUT), *sizing)
    else:                                                   # np.eye(N, M), np.identity(n)
        rows = _size(bound.get("N", bound.get("n", _LEFT_OUT)), *sizing)
        columns = bound.get("M")
        if columns is None or (isinstance(columns, gast.Constant) and columns.value is None):
            sizes = (rows, rows)
        else:
            sizes = (rows, _size(columns, *sizing))
        sizes = _NOT_A_SIZE if _NOT_A_SIZE in sizes else None if None in sizes else sizes
    if sizes is None or sizes is _NOT_A_SIZE or not sizes:
        return None if sizes is None else UNKNOWN           # np.zeros(()): 0-d, left alone
    return shape_of(tuple(d for d, _ in sizes), _dtype(bound.get("dtype"), "float64"),
                    lengths=tuple(length for _, length in sizes))


def rearranged(word, bound, known, operand):
    """The Shape of a rule's result of shape ``word`` (REARRANGING); ``operand``
    gives a node's Shape, ``known`` the names' (tuples' Elements too)."""
    if word == "transposed":
        return _transposed(operand(bound.get("a")), bound.get("axes"))
    if word in ("accumulated", "differenced"):
        a = operand(bound.get("a"))
        if a is None or a is UNKNOWN or constant(bound.get("dtype"), default=None) is not None:
            return UNKNOWN if a is UNKNOWN or a is not None else None
        dtype = a.dtype if a.dtype in _FLOATS else None
        return (_accumulated if word == "accumulated" else _differenced)(a, bound, dtype)
    if word == "outer":
        a, b = operand(bound.get("a")), operand(bound.get("b"))
        if a is None or b is None or UNKNOWN in (a, b):
            return UNKNOWN if UNKNOWN in (a, b) else None
        sizes = [_flat_size(s) for s in (a, b)]
        return shape_of(tuple(d for d, _ in sizes), product_dtype(a.dtype, b.dtype)
                        or combined_dtype([a, b]), lengths=tuple(n for _, n in sizes))
    if word == "contracted":
        operands = bound.get("operands")
        if not isinstance(operands, (gast.Tuple, gast.List)):
            return UNKNOWN
        shapes = [operand(node) for node in operands.elts]
        if None in shapes or UNKNOWN in shapes:
            return UNKNOWN if UNKNOWN in shapes else None
        optimize = constant(bound.get("optimize"), default=False)
        return contracted(constant(bound.get("subscripts"), default=None), shapes,
                          optimized=optimize not in (False, None))
    found = _listed(bound.get("object"), known, operand)   # "listed"
    if found is None or found is UNKNOWN or constant(bound.get("dtype"), default=None) is None:
        return found
    return shape_of(found.dims, None, lengths=found.lengths)   # dtype=...: whatever it names


def sealed_lists(tree, operations, definitions):
    """The ids of the list literals assigned to a name that nothing reads but
    np.array or np.asarray (a "listed" rule) as its operand, or such a list
    as one of its items: lists no statement can have changed since they were
    made. ``definitions``: the value of each name assigned once."""
    given = {id(operation.bound.get("object")) for operation in operations.values()
             if operation.kind == "rule" and operation.rule.shape == "listed"}
    lists = {name: value for name, value in definitions.items() if isinstance(value, gast.List)}
    reads = [node for node in gast.walk(tree) if isinstance(node, gast.Name)
             and node.id in lists and not isinstance(node.ctx, gast.Store)]
    changed = True
    while changed:                  # an item of a list that is itself not sealed: not sealed
        items = {id(item) for value in lists.values() for item in value.elts}
        unsealed = {node.id for node in reads if node.id in lists
                    and id(node) not in given and id(node) not in items}
        changed = bool(unsealed)
        for name in unsealed:
            del lists[name]
    return frozenset(id(value) for value in lists.values())


# ---------------------------------------------------------------------- pieces

def _bound(call, names):
    """``{parameter: node}`` of a call of a function of parameters ``names``;
    None for anything else (``*args``, ``like=``, an unknown keyword)."""
    if any(isinstance(a, gast.Starred) for a in call.args) or len(call.args) > len(names):
        return None
    bound = dict(zip(names, call.args))
    for keyword in call.keywords:
        if keyword.arg == "device":
            continue
        if keyword.arg not in names or keyword.arg in bound:
            return None
        bound[keyword.arg] = keyword.value
    return bound


def _named(node, known):
    return known.get(node.id, UNKNOWN) if isinstance(node, gast.Name) else UNKNOWN


def _dtype(node, default):
    """The dtype a ``dtype=`` argument gives: ``default`` where it is left out
    or None, float64 for a string spelling it, else None (not known)."""
    value = constant(node, default=None)
    if value is None:
        return default
    return "float64" if isinstance(value, str) and value in _FLOAT64 else None


def _sizes(node, known, definitions, scalars, integers):
    """``((dim, length), ...)`` of a shape argument; None: a name not known yet;
    _NOT_A_SIZE where its number of axes is not known."""
    if node is _LEFT_OUT:
        return _NOT_A_SIZE
    match _followed(node, definitions):
        case gast.Tuple(elts=items) | gast.List(elts=items):
            sizes = tuple(_size(item, known, definitions, scalars, integers) for item in items)
            return _NOT_A_SIZE if _NOT_A_SIZE in sizes else None if None in sizes else sizes
        case gast.Attribute(value=gast.Name() as name, attr="shape"):     # np.zeros(x.shape)
            shape = _named(name, known)
            if not isinstance(shape, Shape) or shape is UNKNOWN or shape.number:
                return shape if shape is None else _NOT_A_SIZE
            return tuple((shape.dims[i], shape.length(i)) for i in range(shape.ndim))
    size = _size(node, known, definitions, scalars, integers)
    return size if size is None or size is _NOT_A_SIZE else (size,)


def _size(node, known, definitions, scalars, integers):
    """``(dim, length)`` of one axis a size gives; None: a name not known yet;
    _NOT_A_SIZE where it is not surely an int."""
    match _followed(node, definitions):
        case gast.Constant(value=int(n)) if not isinstance(n, bool) and n >= 0:
            return L.dim_of((None, n), ANY), (None, n)
        case gast.Subscript(value=shape, slice=gast.Constant(value=int(axis))):
            match _followed(shape, definitions):
                case gast.Attribute(value=gast.Name() as name, attr="shape"):
                    return _axis(_named(name, known), axis)         # x.shape[k]
        case gast.Call(func=gast.Name(id="len"), args=[gast.Name() as name], keywords=[]):
            return _axis(_named(name, known), 0)
    if isinstance(node, gast.Name) and (node.id in integers or node.id in scalars):
        return ANY, None                        # an int (or a number) of a value not known
    return _NOT_A_SIZE


def _followed(node, definitions):
    """``node``, or for a name the normalizer gave a value once (not a
    parameter), that value: ``shape = x.shape; n = shape[0]``. A name assigned
    once holds that value wherever it is read (or is not set yet: NameError)."""
    for _ in range(8):
        if not isinstance(node, gast.Name) or isinstance(definitions.get(node.id, gast.List()),
                                                          gast.List):
            break                               # a list may have changed since
        node = definitions[node.id]
    return node


def _axis(shape, axis):
    if not isinstance(shape, Shape) or shape is UNKNOWN or shape.number \
            or not -shape.ndim <= axis < shape.ndim:
        return shape if shape is None else _NOT_A_SIZE     # not an array's: may be anything
    return shape.dims[axis], shape.length(axis)


def _transposed(a, axes):
    if a is None or a is UNKNOWN or a.number:
        return a if a is None else UNKNOWN
    order = constant(axes, default=None)
    if order is None:
        order = tuple(range(a.ndim))[::-1]
    elif not (isinstance(order, tuple) and len(order) == a.ndim
              and all(type(i) is int and -a.ndim <= i < a.ndim for i in order)
              and len({i % a.ndim for i in order}) == a.ndim):
        return UNKNOWN
    order = [i % a.ndim for i in order]
    return shape_of(tuple(a.dims[i] for i in order), a.dtype,
                    lengths=tuple(a.length(i) for i in order))


def _accumulated(a, bound, dtype):
    """np.cumsum(a, axis): a's shape along a literal axis; 1-D of a's size without."""
    axis = constant(bound.get("axis"), default=None)
    if axis is None:
        size = _flat_size(a)
        return shape_of((size[0],), dtype, lengths=(size[1],))
    if a.number or type(axis) is not int or not -a.ndim <= axis < a.ndim:
        return UNKNOWN
    return shape_of(a.dims, dtype, lengths=a.lengths)


def _differenced(a, bound, dtype):
    """np.diff(a, n, axis) without prepend or append: ``n`` shorter along ``axis``
    (none left where it is not longer)."""
    n, axis = constant(bound.get("n"), default=1), constant(bound.get("axis"), default=-1)
    if a.number or a.ndim == 0 or type(n) is not int or n < 0 or type(axis) is not int \
            or not -a.ndim <= axis < a.ndim or any(
            constant(bound.get(p), default=None) is not None for p in ("prepend", "append")):
        return UNKNOWN
    axis %= a.ndim
    length = a.length(axis)
    if length is not None:
        symbol, offset = length
        length = (None, max(0, offset - n)) if symbol is None else (
            (symbol, offset - n) if L.LEAST + offset - n >= 0 else None)
    dims = tuple(ANY if i == axis else d for i, d in enumerate(a.dims))
    lengths = tuple(length if i == axis else a.length(i) for i in range(a.ndim))
    return shape_of(dims, dtype, lengths=lengths)


def _flat_size(shape):
    """``(dim, length)`` of np.ravel of a value of ``shape``."""
    if shape.number or shape.ndim == 0 or all(d == ONE for d in shape.dims):
        return ONE, (None, 1)
    if shape.ndim == 1:
        return shape.dims[0], shape.length(0)
    return ANY, None


def _listed(node, known, operand):
    """np.array of ``node``: an array's shape, or the nesting of a list or tuple."""
    if isinstance(node, (gast.List, gast.Tuple)):
        return _nested(node, operand)
    shape = known.get(node.id, UNKNOWN) if isinstance(node, gast.Name) else UNKNOWN
    if isinstance(shape, Elements):                          # a tuple's (value = a, b)
        return _stacked(list(shape.items))
    shape = operand(node)
    if shape is None or shape is UNKNOWN or shape.number:
        return shape if shape is None else UNKNOWN          # a number: a 0-d array
    return shape


def _nested(node, operand):
    """The Shape of np.array of a (nested) literal list or tuple."""
    items = []
    for item in node.elts:
        if isinstance(item, (gast.List, gast.Tuple)):
            items.append(_nested(item, operand))
        else:
            items.append(literal_number(item) or operand(item))
    return _stacked(items)


def literal_number(node):
    """A number literal (``2``, ``-0.5``) as the number of its dtype NumPy
    makes of it in an array (int64, float64); None for anything else."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    if not isinstance(node, gast.Constant) or type(node.value) not in (int, float):
        return None
    if type(node.value) is int and not -2 ** 63 < node.value < 2 ** 63:
        return NUMBER                   # NumPy makes an object array of it
    return Shape((), "int64" if type(node.value) is int else "float64", True)


def _stacked(items):
    """np.array of a sequence of values of Shapes ``items``: numbers, or arrays
    of one rank (NumPy refuses ragged ones)."""
    items = [_stacked(list(s.items)) if isinstance(s, Elements) else s for s in items]
    if not items or any(s is UNKNOWN for s in items):
        return UNKNOWN
    if None in items:
        return None
    if len({(s.number, s.ndim) for s in items}) != 1 or (items[0].ndim == 0 and not items[0].number):
        return UNKNOWN
    first = items[0]
    dtypes = {s.dtype for s in items}
    dtype = "float64" if dtypes == {"float64"} or dtypes == {"float64", "int64"} else \
        "int64" if dtypes == {"int64"} else combined_dtype(items)
    dims = tuple(first.dims[i] if all(s.dims[i] == first.dims[i] for s in items) else ANY
                 for i in range(first.ndim))
    lengths = tuple(first.length(i) if all(L.equal(s.length(i), first.length(i)) for s in items)
                    else None for i in range(first.ndim))
    count = (None, len(items))
    return shape_of((L.dim_of(count, ANY),) + dims, dtype, lengths=(count,) + lengths)
