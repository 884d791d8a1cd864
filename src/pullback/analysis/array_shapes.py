"""Stage 4c: what is known of each array's shape (``tree -> {name: Shape}``).

A derivative is generated for the arguments' kinds: each array argument's
number of dimensions, which of them have length 1 (all that broadcasting
depends on) and its dtype (arguments.argument_kinds). From those
this pass follows every name through the function to a fixed point.
"""
import gast
import numpy as np

from pullback.frontend.parsing import parameter_names
from pullback.code.astutil import walk, walk_statements
from pullback.analysis import lengths as L
from pullback.analysis.dtypes import numeric, product_dtype, reduced_dtype, result_dtype
from pullback.analysis.lengths import ANY, MANY, ONE, ZERO  # noqa: F401  (dims: 1, n (2 or more), ?, 0)
from pullback.analysis.shape_values import (NOT_CONSTANT, NUMBER, UNKNOWN, Elements, Shape,  # noqa: F401
                                            array_kind, broadcast, combined_dtype, constant, join,
                                            shape_of)
from pullback.analysis.constructed import (CONSTRUCTORS, REARRANGING, constructed, literal_number,
                                           rearranged, sealed_lists)
from pullback.analysis.operation import OBSERVERS, in_table, single_definitions


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
    sites = _sites(tree, operations)
    for name in parameter_names(tree):
        sites.setdefault(name, []).append(("parameter", name))
    definitions = {name: value for name, value in single_definitions(tree).items()
                   if name not in sites or ("parameter", name) not in sites[name]}
    integers, sealed = _integers(sites, operations), sealed_lists(tree, operations, definitions)
    sizes = (definitions, scalars, integers)        # what np.zeros' sizes read
    known = dict.fromkeys(sites)        # None: not known yet; a name not here (a global): unknown
    changed = True
    while changed:
        changed = False
        for name, assigned in sites.items():
            if known.get(name, None) is UNKNOWN:
                continue
            shape = None
            for site in assigned:
                shape = join(shape, _site_shape(site, operations, known, parameters, scalars,
                                                integers, sealed, sizes))
            if name in scalars and shape is not UNKNOWN:
                shape = join(shape, NUMBER) if shape is None or shape.number else UNKNOWN
            if shape != known.get(name):
                known[name] = shape
                changed = True
    return {name: shape for name, shape in known.items()
            if isinstance(shape, Shape) and shape is not UNKNOWN}


def keeps_shape(own, others):
    """Does an operand of shape ``own``, broadcast with operands of shapes
    ``others``, give a result of its own shape? Each dimension must be MANY
    in ``own`` (broadcasting then leaves it), or ONE, missing or of the same
    known length in every other."""
    if own is None or own is UNKNOWN or any(s is None or s is UNKNOWN for s in others):
        return False
    if any(s.ndim > own.ndim for s in others):
        return False
    for axis in range(-own.ndim, 0):
        if own.dims[axis] != MANY and any(
                s.ndim >= -axis and s.dims[axis] != ONE and not L.equal(s.length(axis), own.length(axis))
                for s in others):
            return False
    return True


def _sites(tree, operations):
    """name -> its assignments: statements, or "unknown" (unpacked, a loop over
    something other than range, an argument of a bare call that may change it
    in place: ``np.ndarray.resize(v, ...)``; print and the other observers aside)."""
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
        elif isinstance(stmt, gast.Expr):       # xs.append(v) and friends: xs not known
            changed = [node.value.id for node in walk(stmt) if isinstance(node, gast.Attribute)
                       and isinstance(node.value, gast.Name)]
            operation, call = operations.get(id(stmt)), stmt.value
            if isinstance(call, gast.Call) and not (
                    operation is not None and in_table(operation.function, OBSERVERS)):
                changed += [a.id for a in call.args + [k.value for k in call.keywords]
                            if isinstance(a, gast.Name)]        # np.ndarray.resize(v, (2, 3))
            for name in changed:
                sites.setdefault(name, []).append("unknown")
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


def _site_shape(site, operations, known, parameters, scalars, integers, sealed, sizes):
    """What one assignment gives: a Shape, None (reads a name not known yet)
    or UNKNOWN; ``sealed``: the ids of the lists only np.array reads; ``sizes``:
    what constructed() reads sizes with."""
    if site == "integer":
        return NUMBER
    if site == "unknown":
        return UNKNOWN
    if isinstance(site, tuple):                 # ("parameter", name)
        name = site[1]
        return NUMBER if name in scalars else parameters.get(name, UNKNOWN)
    operation = operations.get(id(site))
    if operation is None:
        return UNKNOWN
    if operation.kind == "constant" and in_table(operation.function, CONSTRUCTORS):
        return constructed(operation.function, site.value, known, *sizes)
    return _operation_shape(operation, site.value, known, scalars, integers, sealed)


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
            shape = known.get(name, UNKNOWN)
            return UNKNOWN if isinstance(shape, Elements) else shape
        case gast.Subscript(value=gast.Name() as array, slice=index):    # v[:-2, 1:-1] in place
            return _subscript(_operand(array, known, scalars), index, frozenset())
        case gast.Attribute(value=gast.Name(id=module), attr=attribute) \
                if f"{module}.{attribute}" in scalars:      # np.pi (module_constants)
            return NUMBER
    return UNKNOWN


def _operation_shape(operation, value, known, scalars, integers, sealed):
    match operation.kind:
        case "copy":
            return _operand(gast.Name(id=operation.sources[0], ctx=gast.Load(), annotation=None,
                                      type_comment=None), known, scalars)
        case "constant" if isinstance(value, gast.Compare):
            return _compared(value, known, scalars)
        case "constant":
            return _operand(value, known, scalars)
        case "subscript":
            array = _operand(operation.bound["value"], known, scalars)
            taken = _gathered(array, operation.bound["index"], known)
            return _subscript(array, operation.bound["index"], integers) if taken is False \
                else taken
        case "rule" if operation.rule.shape in REARRANGING:
            return rearranged(operation.rule.shape, operation.bound, known,
                              lambda node: _operand(node, known, scalars))
        case "rule":
            return _rule_shape(operation.rule, operation.bound, known, scalars)
        case "pack" if "keys" not in operation.bound and (
                isinstance(value, gast.Tuple) or id(value) in sealed):    # a list nothing changes
            items = [_element(e, known, scalars) for e in operation.bound["elements"]]
            return None if None in items else Elements(tuple(items))
    return UNKNOWN


def _element(node, known, scalars):
    """An item of a tuple or list: a name's items (nested, for np.array), a
    literal number of its own dtype, else _operand's."""
    if isinstance(node, gast.Name) and isinstance(known.get(node.id), Elements):
        return known[node.id]
    return literal_number(node) or _operand(node, known, scalars)


def _rule_shape(rule, bound, known, scalars):
    if rule.shape == "elementwise":
        if rule.targets[0] is np.where and any(_is_option(bound.get(p)) for p in rule.params):
            return UNKNOWN             # np.where(condition): a tuple of indices
        operands = [_operand(node, known, scalars) for node in bound.values()
                    if not _is_option(node)]
        if any(s is UNKNOWN for s in operands):
            return UNKNOWN
        return None if None in operands else \
            result_dtype(rule.targets[0], operands, broadcast(operands))
    if rule.shape == "reduction":
        return _reduction(_operand(bound.get(rule.params[0]), known, scalars), bound)
    if rule.shape in ("joined", "hstacked", "vstacked"):
        return _joined(rule.shape, bound, known)
    if rule.shape in ("same", "padded"):
        operand = _operand(bound.get(rule.params[0]), known, scalars)
        if operand is None or operand is UNKNOWN or operand.number:
            return None if operand is None else UNKNOWN
        if rule.shape == "same":
            return operand
        widths = L.pad_widths(constant(bound.get("pad_width"), NOT_CONSTANT), operand.ndim)
        if widths is None or any(b < 0 or a < 0 for b, a in widths):
            return UNKNOWN
        dims, lengths = L.padded(operand.dims, [operand.length(i) for i in range(operand.ndim)],
                                 widths)
        return shape_of(dims, operand.dtype, lengths=lengths)
    if rule.shape == "product":
        operands = [_operand(bound.get(p), known, scalars) for p in rule.params[:2]]
        if any(s is UNKNOWN for s in operands):
            return UNKNOWN
        return None if None in operands else _matmul(*operands)
    return UNKNOWN


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
        if shape is None or shape is UNKNOWN:
            return None
        shapes[param] = shape
    return shapes


def summed_axes(own, result):
    """How to sum a gradient of shape ``result`` to ``own`` (an operand that
    broadcast to it): ``(leading axes, kept axes)``, leading ones summed away,
    kept ones summed with keepdims; None when it depends on lengths not known."""
    if own is None or result is None or own is UNKNOWN or result is UNKNOWN \
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
    if operand is None or operand is UNKNOWN:
        return operand
    axis, keepdims = bound.get("axis"), bound.get("keepdims")
    keep = constant(keepdims, default=False)
    if not isinstance(keep, bool):
        return UNKNOWN
    axes = constant(axis, default=None)
    if axes is None:
        return Shape((ONE,) * operand.ndim, combined_dtype([operand])) if keep else NUMBER
    axes = (axes,) if isinstance(axes, int) else axes
    if not (isinstance(axes, tuple) and all(type(a) is int and -operand.ndim <= a < operand.ndim
                                            for a in axes)):
        return UNKNOWN
    axes = {a % operand.ndim for a in axes}
    dtype = reduced_dtype(operand.dtype, bound) if numeric(operand.dtype) else None
    if keep:
        return shape_of(tuple(ONE if i in axes else d for i, d in enumerate(operand.dims)), dtype,
                        lengths=tuple((None, 1) if i in axes else operand.length(i)
                                      for i in range(operand.ndim)))
    kept = [i for i in range(operand.ndim) if i not in axes]
    return shape_of(tuple(operand.dims[i] for i in kept), dtype,
                    lengths=tuple(operand.length(i) for i in kept)) if kept else NUMBER


_ORDERINGS = (gast.Eq, gast.NotEq, gast.Lt, gast.LtE, gast.Gt, gast.GtE)


def _compared(value, known, scalars):
    """``a > b`` (one comparison of arrays or numbers): a bool array of their
    broadcast shape, or a number; ``is``, ``in`` and chains are not known."""
    if len(value.ops) != 1 or not isinstance(value.ops[0], _ORDERINGS):
        return UNKNOWN
    shapes = [_operand(node, known, scalars) for node in (value.left, value.comparators[0])]
    if UNKNOWN in shapes or None in shapes:
        return UNKNOWN if UNKNOWN in shapes else None
    shape = broadcast(shapes)
    if not shape.ndim:
        return shape if shape.number else UNKNOWN
    return shape_of(shape.dims, "bool", lengths=shape.lengths)


_INTEGERS = frozenset(("int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8"))


def _gathered(value, index, known):
    """``x[idx]`` for a name ``idx`` of an integer array (a gather): idx's axes,
    then x's after the first; False where the index is not such a name (None:
    not known yet)."""
    shape = known.get(index.id, False) if isinstance(index, gast.Name) else False
    if shape is None:
        return None
    if not isinstance(shape, Shape) or shape is UNKNOWN or shape.number \
            or shape.dtype not in _INTEGERS:
        return False
    if value is None or value is UNKNOWN or value.number or not value.ndim:
        return value if value is None else UNKNOWN
    return shape_of(shape.dims + value.dims[1:], value.dtype, lengths=tuple(
        [shape.length(i) for i in range(shape.ndim)]
        + [value.length(i) for i in range(1, value.ndim)]))


def _subscript(value, index, integers):
    """``x[index]``, basic indexing: an integer drops an axis (all: a number), a slice
    keeps it (of a known length where its bounds say), None adds one of length 1."""
    if value is None or value is UNKNOWN or value.number:
        return value if value is None else UNKNOWN
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    dims, lengths, axis = [], [], 0
    for part in parts:
        if isinstance(part, gast.Slice):
            if axis >= value.ndim:
                return UNKNOWN
            full = part.lower is None and part.upper is None and part.step is None
            dims.append(value.dims[axis] if full else ANY)
            bounds = [constant(getattr(part, b), None) for b in ("lower", "upper", "step")]
            lengths.append(value.length(axis) if full else
                           None if any(b is not None and type(b) is not int for b in bounds)
                           else L.sliced(value.length(axis), *bounds))
            axis += 1
        elif isinstance(part, gast.Constant) and part.value is None:
            dims.append(ONE)
            lengths.append((None, 1))
        elif _integer_expression(part, integers):
            if axis >= value.ndim:
                return UNKNOWN
            axis += 1
        else:
            return UNKNOWN
    dims += list(value.dims[axis:])
    lengths += [value.length(i) for i in range(axis, value.ndim)]
    if not dims:        # an element: a NumPy scalar (an object array's may be anything)
        return Shape((), value.dtype, True) if numeric(value.dtype) else UNKNOWN
    return shape_of(tuple(dims), value.dtype, lengths=tuple(lengths))


def _joined(how, bound, known):
    """``np.concatenate(arrays, axis)`` of a tuple of arrays of one rank
    (``arrays`` named: the pack before it) along a literal axis; ``np.hstack``
    (``how`` "hstacked": along axis 1, 1-D arrays end to end) and ``np.vstack``
    ("vstacked": along axis 0, 1-D arrays made rows first) of one."""
    arrays = bound.get("arrays", bound.get("tup"))
    axis = constant(bound.get("axis"), default=0) if how == "joined" else 0
    items = known.get(arrays.id, UNKNOWN) if isinstance(arrays, gast.Name) else UNKNOWN
    if items is None:
        return None
    if not isinstance(items, Elements) or type(axis) is not int or not items.items:
        return UNKNOWN
    shapes = items.items
    if any(not isinstance(s, Shape) or s is UNKNOWN or s.number for s in shapes) \
            or len({s.ndim for s in shapes}) != 1 \
            or not shapes[0].ndim:
        return UNKNOWN
    if how == "hstacked" and shapes[0].ndim > 1:
        axis = 1
    elif how == "vstacked" and shapes[0].ndim == 1:
        shapes = [Shape((ONE,) + s.dims, s.dtype, lengths=((None, 1), s.length(0))) for s in shapes]
    if not -shapes[0].ndim <= axis < shapes[0].ndim:
        return UNKNOWN
    dims, lengths = L.joined([s.dims for s in shapes],
                             [[s.length(i) for i in range(s.ndim)] for s in shapes],
                             axis % shapes[0].ndim)
    dtypes = {s.dtype for s in shapes}
    dtype = dtypes.pop() if len(dtypes) == 1 else combined_dtype(shapes)
    if constant(bound.get("dtype"), default=None) is not None:
        dtype = None                # dtype=...: whatever it names
    return shape_of(dims, dtype, lengths=lengths)


def _matmul(a, b):
    """``a @ b`` (np.matmul, np.dot) of 1-D and 2-D operands."""
    if a.ndim == 0 or b.ndim == 0 or a.ndim > 2 or b.ndim > 2:
        return UNKNOWN if a.ndim and b.ndim else broadcast([a, b])   # np.dot with a number
    dims = a.dims[:-1] + b.dims[:-2] + b.dims[-1:] if b.ndim == 2 else a.dims[:-1]
    lengths = [a.length(i) for i in range(a.ndim - 1)] + ([b.length(1)] if b.ndim == 2 else [])
    return shape_of(dims, product_dtype(a.dtype, b.dtype) or combined_dtype([a, b]),
                    lengths=tuple(lengths)) if dims else NUMBER

