"""Stage 4c: what is known of each array's shape (``tree -> {name: Shape}``).

A derivative is generated for the arguments' kinds: each array argument's
number of dimensions, which of them have length 1 (all that broadcasting
depends on) and its dtype (arguments.argument_kinds). From those
this pass follows every name through the function to a fixed point.
"""
from dataclasses import dataclass

import gast
import numpy as np

from pullback.frontend.parsing import parameter_names
from pullback.code.astutil import walk, walk_statements
from pullback.analysis import lengths as L
from pullback.analysis.dtypes import numeric, product_dtype, reduced_dtype, result_dtype
from pullback.analysis.lengths import ANY, MANY, ONE, ZERO  # noqa: F401  (dims: 1, n (2 or more), ?, 0)


@dataclass(frozen=True)
class Shape:
    """What is known of a value: an array of ``len(dims)`` dimensions, each
    ONE, ZERO, MANY (2 or more) or ANY, of ``dtype`` (a NumPy dtype's name,
    None if not known); ``number``: a Python or NumPy scalar rather than an
    array (``dims == ()``); ``lengths``: each axis's symbolic length
    (analysis/lengths.py), None where none is known."""
    dims: tuple
    dtype: str = None
    number: bool = False
    lengths: tuple = None

    def length(self, axis):
        return self.lengths[axis] if self.lengths is not None else None

    @property
    def ndim(self):
        return len(self.dims)

    def describe(self):
        """``2-D float64 (n, 1)``, as the generated header states it."""
        if self.number:
            return "a number"
        dims = ", ".join(self.dims) + ("," if len(self.dims) == 1 else "")
        return f"{self.ndim}-D {self.dtype or 'array'} ({dims})"


def array_kind(value):
    """The part of an array argument's kind a derivative is specialized for:
    ``(dims, dtype)`` with dims a string of ONE, ZERO and MANY (``"n1"`` for a
    (5, 1) array): lengths other than 0 and 1 do not matter."""
    return "".join(ONE if n == 1 else ZERO if n == 0 else MANY for n in value.shape), \
        value.dtype.name


def shape_of(dims, dtype=None, number=False, lengths=None):
    """A Shape whose dims say what its known lengths say (``(u.0, 0)`` is MANY);
    no lengths kept where none is known."""
    if lengths is not None and any(length is not None for length in lengths):
        dims = tuple(L.dim_of(length, d) for length, d in zip(lengths, dims))
    else:
        lengths = None
    return Shape(tuple(dims), dtype, number, lengths)


def parameter_shapes(params, arrays):
    """``{parameter name: Shape}`` from the ``arrays`` part of the kinds:
    ``((position, dims, dtype), ...)``."""
    return {params[i]: shape_of(tuple(dims), dtype, lengths=L.parameter_lengths(params[i], dims))
            for i, dims, dtype in arrays if i < len(params)}


def array_shapes(tree, operations, parameters, scalars):
    """``{name: Shape}`` for the names of ``tree`` (normalized) whose shape is
    known at every assignment; ``parameters``: the parameters' (parameter_shapes),
    ``scalars``: the names known to hold numbers (shapes.scalar_names).

    A name's shape is the join of what each of its assignments gives (a loop's
    variable: its value before the loop and each iteration's), found as the
    least fixed point: every name starts unassigned (None) and grows until
    nothing changes. A name with an assignment of unknown shape is left out.
    """
    sites = _sites(tree)
    for name in parameter_names(tree):
        sites.setdefault(name, []).append(("parameter", name))
    integers = _integers(sites, operations)
    known = dict.fromkeys(sites)        # None: not known yet; a name not here (a global): unknown
    changed = True
    while changed:
        changed = False
        for name, assigned in sites.items():
            if known.get(name, None) is _UNKNOWN:
                continue
            shape = None
            for site in assigned:
                shape = join(shape, _site_shape(site, operations, known, parameters, scalars,
                                                integers))
            if name in scalars and shape is not _UNKNOWN:
                shape = join(shape, NUMBER) if shape is None or shape.number else _UNKNOWN
            if shape != known.get(name):
                known[name] = shape
                changed = True
    return {name: shape for name, shape in known.items()
            if isinstance(shape, Shape) and shape is not _UNKNOWN}


NUMBER = Shape((), None, True)
_UNKNOWN = Shape(("unknown",))          # top: anything (never returned)


def join(a, b):
    """What is known of a value that is either ``a`` or ``b`` (None: neither yet)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a is _UNKNOWN or b is _UNKNOWN or not isinstance(a, Shape) or not isinstance(b, Shape) \
            or a.number != b.number or a.ndim != b.ndim:
        return _UNKNOWN             # (a tuple's Elements join only when equal)
    dtype = a.dtype if a.dtype == b.dtype else "numeric" if numeric(a.dtype) and numeric(b.dtype) \
        else None
    return shape_of(tuple(x if x == y else ANY for x, y in zip(a.dims, b.dims)), dtype, a.number,
                    tuple(a.length(i) if a.length(i) == b.length(i) else None
                          for i in range(a.ndim)))


def broadcast(shapes):
    """The shape NumPy's broadcasting gives operands of ``shapes`` (None if one
    is unknown): a dimension is MANY where an operand's is, ONE where all
    are, else ANY."""
    if any(s is None or s is _UNKNOWN for s in shapes):
        return None
    ndim = max(s.ndim for s in shapes)
    if ndim == 0:       # of 0-d arrays: a NumPy scalar (a ufunc's) or a 0-d array (np.where's)
        return NUMBER if all(s.number for s in shapes) else Shape((), _dtype(shapes))
    dims, lengths = [], []
    for axis in range(-ndim, 0):
        here = [s.dims[axis] for s in shapes if s.ndim >= -axis]
        dims.append(MANY if MANY in here else ONE if all(d == ONE for d in here) else ANY)
        lengths.append(L.broadcast_length([s.length(axis) for s in shapes if s.ndim >= -axis]))
    return shape_of(tuple(dims), _dtype(shapes), lengths=tuple(lengths))


def _dtype(shapes):
    """The dtype of a result computed from values of ``shapes``: "numeric" when
    all are numbers or of numeric dtypes (which one depends on the operation:
    ``int_array / 2`` is float64), else None."""
    return "numeric" if all(s.number or numeric(s.dtype) for s in shapes) else None


def keeps_shape(own, others):
    """Does an operand of shape ``own``, broadcast with operands of shapes
    ``others``, give a result of its own shape? Each dimension must be MANY
    in ``own`` (broadcasting then leaves it), or ONE, missing or of the same
    known length in every other."""
    if own is None or own is _UNKNOWN or any(s is None or s is _UNKNOWN for s in others):
        return False
    if any(s.ndim > own.ndim for s in others):
        return False
    for axis in range(-own.ndim, 0):
        if own.dims[axis] != MANY and any(
                s.ndim >= -axis and s.dims[axis] != ONE and not L.equal(s.length(axis), own.length(axis))
                for s in others):
            return False
    return True


def _sites(tree):
    """name -> its assignments: statements, or "unknown" (unpacked, a loop over
    something other than range)."""
    sites = {}
    for stmt in walk_statements(tree.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            sites.setdefault(stmt.targets[0].id, []).append(stmt)
        elif isinstance(stmt, (gast.Assign, gast.For)):
            target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
            counter = isinstance(stmt, gast.For) and _is_range(stmt.iter)
            for node in walk(target):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    sites.setdefault(node.id, []).append("integer" if counter else "unknown")
        elif isinstance(stmt, gast.Expr):
            for node in walk(stmt):     # xs.append(v) and friends: what xs holds is not known
                if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name):
                    sites.setdefault(node.value.id, []).append("unknown")
    return sites


def _is_range(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
        and node.func.id == "range"


def _integers(sites, operations):
    """The names that hold Python ints at every assignment: range counters,
    integer literals, ``len``, ``x.shape[k]``, ``x.ndim`` and +, -, *, // of them."""
    def integer(site, known):
        if site == "integer":
            return True
        if not isinstance(site, gast.Assign):
            return False
        return _integer_expression(site.value, known)
    return largest(sites, integer)


def _integer_expression(node, known):
    match node:
        case gast.Constant(value=value):
            return type(value) is int
        case gast.Name(id=name):
            return name in known
        case gast.UnaryOp(op=gast.USub() | gast.UAdd(), operand=operand):
            return _integer_expression(operand, known)
        case gast.BinOp(op=gast.Add() | gast.Sub() | gast.Mult() | gast.FloorDiv(),
                        left=left, right=right):
            return _integer_expression(left, known) and _integer_expression(right, known)
        case gast.Call(func=gast.Name(id="len"), args=[_]):
            return True
        case gast.Attribute(attr="ndim" | "size"):
            return True
        case gast.Subscript(value=gast.Attribute(attr="shape"), slice=gast.Constant(value=int())):
            return True
    return False


def largest(sites, holds):
    """The largest set of names every site of which ``holds`` (given the set):
    every name to begin with, dropping, until nothing changes, each name with a
    site that does not hold (analysis/shapes.py's numbers use it too)."""
    known = set(sites)
    changed = True
    while changed:
        changed = False
        for name in list(known):
            if not all(holds(site, known) for site in sites[name]):
                known.discard(name)
                changed = True
    return frozenset(known)


def _site_shape(site, operations, known, parameters, scalars, integers):
    """What one assignment gives: a Shape, None (reads a name not known yet)
    or _UNKNOWN."""
    if site == "integer":
        return NUMBER
    if site == "unknown":
        return _UNKNOWN
    if isinstance(site, tuple):                 # ("parameter", name)
        name = site[1]
        return NUMBER if name in scalars else parameters.get(name, _UNKNOWN)
    operation = operations.get(id(site))
    if operation is None:
        return _UNKNOWN
    value = _operation_shape(operation, site.value, known, scalars, integers)
    return _UNKNOWN if value is _UNKNOWN else value


def _operand(node, known, scalars):
    """The shape of an operand node: a number literal, a name (None: not yet
    known; a name the function never assigns, a global: unknown)."""
    match node:
        case gast.Constant(value=value) if isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            return NUMBER
        case gast.UnaryOp(op=gast.USub() | gast.UAdd(), operand=operand):
            return _operand(operand, known, scalars)
        case gast.Name(id=name):
            if name in scalars:
                return NUMBER
            shape = known.get(name, _UNKNOWN)
            return _UNKNOWN if isinstance(shape, Elements) else shape
        case gast.Subscript(value=gast.Name() as array, slice=index):    # v[:-2, 1:-1] in place
            return _subscript(_operand(array, known, scalars), index, frozenset())
        case gast.Attribute(value=gast.Name(id=module), attr=attribute) \
                if f"{module}.{attribute}" in scalars:      # np.pi (module_constants)
            return NUMBER
    return _UNKNOWN


def _operation_shape(operation, value, known, scalars, integers):
    match operation.kind:
        case "copy":
            return _operand(gast.Name(id=operation.sources[0], ctx=gast.Load(), annotation=None,
                                      type_comment=None), known, scalars)
        case "constant":
            return _operand(value, known, scalars)
        case "subscript":
            return _subscript(_operand(operation.bound["value"], known, scalars),
                              operation.bound["index"], integers)
        case "rule":
            return _rule_shape(operation.rule, operation.bound, known, scalars)
        case "pack" if "keys" not in operation.bound and isinstance(value, gast.Tuple):
            items = [_operand(e, known, scalars) for e in operation.bound["elements"]]
            return None if None in items else Elements(tuple(items))
    return _UNKNOWN


@dataclass(frozen=True)
class Elements:
    """A tuple's items' shapes (for np.concatenate): never read as an array's."""
    items: tuple


def _rule_shape(rule, bound, known, scalars):
    if rule.shape == "elementwise":
        if rule.targets[0] is np.where and any(_is_option(bound.get(p)) for p in rule.params):
            return _UNKNOWN             # np.where(condition): a tuple of indices
        operands = [_operand(node, known, scalars) for node in bound.values()
                    if not _is_option(node)]
        if any(s is _UNKNOWN for s in operands):
            return _UNKNOWN
        return None if None in operands else \
            result_dtype(rule.targets[0], operands, broadcast(operands))
    if rule.shape == "reduction":
        return _reduction(_operand(bound.get(rule.params[0]), known, scalars), bound)
    if rule.shape in ("joined", "hstacked", "vstacked"):
        return _joined(rule.shape, bound, known)
    if rule.shape in ("same", "padded"):
        operand = _operand(bound.get(rule.params[0]), known, scalars)
        if operand is None or operand is _UNKNOWN or operand.number:
            return None if operand is None else _UNKNOWN
        if rule.shape == "same":
            return operand
        widths = L.pad_widths(_constant(bound.get("pad_width"), _NOT_CONSTANT), operand.ndim)
        if widths is None or any(b < 0 or a < 0 for b, a in widths):
            return _UNKNOWN
        dims, lengths = L.padded(operand.dims, [operand.length(i) for i in range(operand.ndim)],
                                 widths)
        return shape_of(dims, operand.dtype, lengths=lengths)
    if rule.shape == "product":
        operands = [_operand(bound.get(p), known, scalars) for p in rule.params[:2]]
        if any(s is _UNKNOWN for s in operands):
            return _UNKNOWN
        return None if None in operands else _matmul(*operands)
    return _UNKNOWN


def _is_option(node):
    """None, a string or a bool: an argument that is an option, not an operand."""
    return node is None or (isinstance(node, gast.Constant)
                            and (node.value is None or isinstance(node.value, (str, bool))))


def operand_shapes(rule, bound, arrays, scalars):
    """``{parameter: Shape}`` of an elementwise rule's operands, None where one
    is not known (``arrays``: array_shapes' answer)."""
    if rule.targets and rule.targets[0] is np.where and any(
            _is_option(bound.get(p)) for p in rule.params):
        return None                     # np.where(condition): indices, not elementwise
    shapes = {}
    for param in rule.params:
        node = bound.get(param)
        if _is_option(node):
            continue
        shape = _operand(node, arrays, scalars)
        if shape is None or shape is _UNKNOWN:
            return None
        shapes[param] = shape
    return shapes


def summed_axes(own, result):
    """How to sum a gradient of shape ``result`` to ``own`` (an operand that
    broadcast to it): ``(leading axes, kept axes)``, leading ones summed away,
    kept ones summed with keepdims; None when it depends on lengths not known."""
    if own is None or result is None or own is _UNKNOWN or result is _UNKNOWN \
            or own.ndim > result.ndim:
        return None
    lead = result.ndim - own.ndim
    kept = []
    for axis, dim in enumerate(own.dims):
        other = result.dims[lead + axis]
        if L.equal(own.length(axis), result.length(lead + axis)):
            continue
        if dim == ONE and other == MANY:
            kept.append(axis)
        elif dim != other or dim == ANY:
            return None
    return tuple(range(lead)), tuple(kept)


def _reduction(operand, bound):
    """``np.sum(x, axis=..., keepdims=...)`` and the other reductions."""
    if operand is None or operand is _UNKNOWN:
        return operand
    axis, keepdims = bound.get("axis"), bound.get("keepdims")
    keep = _constant(keepdims, default=False)
    if not isinstance(keep, bool):
        return _UNKNOWN
    axes = _constant(axis, default=None)
    if axes is None:
        return Shape((ONE,) * operand.ndim, _dtype([operand])) if keep else NUMBER
    axes = (axes,) if isinstance(axes, int) else axes
    if not (isinstance(axes, tuple) and all(type(a) is int and -operand.ndim <= a < operand.ndim
                                            for a in axes)):
        return _UNKNOWN
    axes = {a % operand.ndim for a in axes}
    dtype = reduced_dtype(operand.dtype, bound) if numeric(operand.dtype) else None
    if keep:
        return shape_of(tuple(ONE if i in axes else d for i, d in enumerate(operand.dims)), dtype,
                        lengths=tuple((None, 1) if i in axes else operand.length(i)
                                      for i in range(operand.ndim)))
    kept = [i for i in range(operand.ndim) if i not in axes]
    return shape_of(tuple(operand.dims[i] for i in kept), dtype,
                    lengths=tuple(operand.length(i) for i in kept)) if kept else NUMBER


_NOT_CONSTANT = object()


def _constant(node, default):
    """The value of an option written as a literal (None, an int, a bool, a
    tuple of ints); ``_NOT_CONSTANT`` for anything else."""
    match node:
        case None:
            return default
        case gast.Constant(value=value):
            return value
        case gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=int(value))):
            return -value
        case gast.Tuple(elts=elts) | gast.List(elts=elts):
            values = tuple(_constant(e, _NOT_CONSTANT) for e in elts)
            return _NOT_CONSTANT if _NOT_CONSTANT in values else values
    return _NOT_CONSTANT


def _subscript(value, index, integers):
    """``x[index]``, basic indexing: an integer drops an axis (all: a number), a slice
    keeps it (of a known length where its bounds say), None adds one of length 1."""
    if value is None or value is _UNKNOWN or value.number:
        return value if value is None else _UNKNOWN
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    dims, lengths, axis = [], [], 0
    for part in parts:
        if isinstance(part, gast.Slice):
            if axis >= value.ndim:
                return _UNKNOWN
            full = part.lower is None and part.upper is None and part.step is None
            dims.append(value.dims[axis] if full else ANY)
            bounds = [_constant(getattr(part, b), None) for b in ("lower", "upper", "step")]
            lengths.append(value.length(axis) if full else
                           None if any(b is not None and type(b) is not int for b in bounds)
                           else L.sliced(value.length(axis), *bounds))
            axis += 1
        elif isinstance(part, gast.Constant) and part.value is None:
            dims.append(ONE)
            lengths.append((None, 1))
        elif _integer_expression(part, integers):
            if axis >= value.ndim:
                return _UNKNOWN
            axis += 1
        else:
            return _UNKNOWN
    dims += list(value.dims[axis:])
    lengths += [value.length(i) for i in range(axis, value.ndim)]
    if not dims:        # an element: a NumPy scalar (an object array's may be anything)
        return Shape((), value.dtype, True) if numeric(value.dtype) else _UNKNOWN
    return shape_of(tuple(dims), value.dtype, lengths=tuple(lengths))


def _joined(how, bound, known):
    """``np.concatenate(arrays, axis)`` of a tuple of arrays of one rank
    (``arrays`` named: the pack before it) along a literal axis; ``np.hstack``
    (``how`` "hstacked": along axis 1, 1-D arrays end to end) and ``np.vstack``
    ("vstacked": along axis 0, 1-D arrays made rows first) of one."""
    arrays = bound.get("arrays", bound.get("tup"))
    axis = _constant(bound.get("axis"), default=0) if how == "joined" else 0
    items = known.get(arrays.id, _UNKNOWN) if isinstance(arrays, gast.Name) else _UNKNOWN
    if items is None:
        return None
    if not isinstance(items, Elements) or type(axis) is not int or not items.items:
        return _UNKNOWN
    shapes = items.items
    if any(s is _UNKNOWN or s.number for s in shapes) or len({s.ndim for s in shapes}) != 1 \
            or not shapes[0].ndim:
        return _UNKNOWN
    if how == "hstacked" and shapes[0].ndim > 1:
        axis = 1
    elif how == "vstacked" and shapes[0].ndim == 1:
        shapes = [Shape((ONE,) + s.dims, s.dtype, lengths=((None, 1), s.length(0))) for s in shapes]
    if not -shapes[0].ndim <= axis < shapes[0].ndim:
        return _UNKNOWN
    dims, lengths = L.joined([s.dims for s in shapes],
                             [[s.length(i) for i in range(s.ndim)] for s in shapes],
                             axis % shapes[0].ndim)
    dtypes = {s.dtype for s in shapes}
    dtype = dtypes.pop() if len(dtypes) == 1 else _dtype(shapes)
    if _constant(bound.get("dtype"), default=None) is not None:
        dtype = None                # dtype=...: whatever it names
    return shape_of(dims, dtype, lengths=lengths)


def _matmul(a, b):
    """``a @ b`` (np.matmul, np.dot) of 1-D and 2-D operands."""
    if a.ndim == 0 or b.ndim == 0 or a.ndim > 2 or b.ndim > 2:
        return _UNKNOWN if a.ndim and b.ndim else broadcast([a, b])   # np.dot with a number
    dims = a.dims[:-1] + b.dims[:-2] + b.dims[-1:] if b.ndim == 2 else a.dims[:-1]
    lengths = [a.length(i) for i in range(a.ndim - 1)] + ([b.length(1)] if b.ndim == 2 else [])
    return shape_of(dims, product_dtype(a.dtype, b.dtype) or _dtype([a, b]),
                    lengths=tuple(lengths)) if dims else NUMBER

