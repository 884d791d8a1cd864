"""divide_after_sums: a factor that is constant along the summed axes, applied to the sums.

    dz /= scale_part                                    dexp = -((dz * z).sum(axis=0, keepdims=True) / scale_part)
    dexp = -(dz * z).sum(axis=0, keepdims=True)   ->    dmeans = -(dz.sum(axis=0, keepdims=True) / scale_part)
    dmeans = -dz.sum(axis=0, keepdims=True)
    dm = -(dz * scale_part).sum(axis=0, keepdims=True)  ->  dm = -(dz.sum(axis=0, keepdims=True) * scale_part)

The rule. In the reverse sweep, an adjoint divided or multiplied in place by
an array ``f`` (``d /= f``, ``d *= f``) whose every later read, up to the
adjoint's next assignment, is a factor of a product summed with
``keepdims=True`` over axes along which ``f`` has length 1, is not divided
(multiplied): each of those sums is, once summed. Likewise a name that is a
factor of a summed product and has length 1 along the summed axes multiplies
the sum instead. Every factor of such a product is a name of known shape (or
a number), so the product's dimensions are known, and taking ``f`` out leaves
another factor of as many dimensions.

Why it holds for every program: with ``f`` of length 1 along the summed axes,
each term of a sum is divided by the same entry of ``f``, and a common
factor comes out of a sum (up to rounding); ``keepdims=True`` keeps the sum
of the same number of dimensions as the product, so ``f`` lines up with it as
it did with the product, and neither an in-place update nor taking out ``f``
changes the product's number of dimensions. Negations and the other factors
commute with it. Shapes come from the argument kinds
(analysis/array_shapes.py): without them nothing is moved. What it gives:
the factor applied to arrays smaller by the summed axes' lengths (the
mixture log-likelihood: a division of 20,000 x 3 x 8 entries becomes one of
3 x 8; 1.25x -> 1.14x of the hand-written gradient).
"""
import gast

from pullback.analysis.array_shapes import ONE
from pullback.code.astutil import loads, make_name, stores, walk
from pullback.optimize.facts import kept_names, replace


def divide_after_sums(fn, facts):
    """``d /= f`` read only in sums along ``f``'s length-1 axes -> the sums divided."""
    arrays = getattr(facts.shapes, "arrays", None)
    if not arrays:
        return fn
    kept = kept_names(fn)
    body, k = fn.body, 0
    while k < len(body):
        stmt = body[k]
        match stmt:
            case gast.AugAssign(target=gast.Name(id=d), op=gast.Div() | gast.Mult() as op,
                                value=gast.Name(id=f)) \
                    if getattr(stmt, "pb_sweep", None) == "reverse" and d != f and d not in kept:
                ndim = _ndim(arrays, facts.adjoints.get(d, d))
                sums = _sums_reading(body[k + 1:], d) if ndim is not None else None
                if sums and all(_product_ndim(_summed(call)[0], arrays, facts.adjoints) == ndim
                                and _constant_along(arrays.get(f), ndim, axes) for _, call, axes in sums):
                    for where, call, _ in sums:
                        replace(where, call, gast.BinOp(left=call, op=type(op)(),
                                                        right=make_name(f, gast.Load())))
                    del body[k]
                    continue
        if getattr(stmt, "pb_sweep", None) == "reverse":
            for node in list(walk(stmt)):
                _factor_out(stmt, node, arrays, facts.adjoints)
        k += 1
    return fn


def _factor_out(stmt, call, arrays, adjoints):
    """``(a * f * b).sum(axis=A, keepdims=True)`` -> ``(a * b).sum(...) * f`` in
    ``stmt``, for a name ``f`` constant along ``A`` and a factor left of at least
    ``f``'s dimensions (the product keeps its number of dimensions)."""
    summed = _summed(call)
    if summed is None:
        return
    product, axes = summed
    ndim = _product_ndim(product, arrays, adjoints)
    factors = [node for node in walk(product) if isinstance(node, gast.Name)]
    for node in factors if ndim is not None else ():
        shape = arrays.get(adjoints.get(node.id, node.id))
        if not any(_ndim(arrays, adjoints.get(o.id, o.id)) == ndim for o in factors if o is not node) \
                or not _constant_along(shape, ndim, axes):
            continue                # the product would lose dimensions, or f varies along A
        if _without(call, product, node):
            replace(stmt, call, gast.BinOp(left=call, op=gast.Mult(), right=make_name(node.id, gast.Load())))
            return


def _product_ndim(expression, arrays, adjoints):
    """The number of dimensions of the product ``expression`` when it is made
    of names of known shapes and numbers only (through ``*`` and negations)."""
    match expression:
        case gast.Constant(value=value) if type(value) in (int, float):
            return 0
        case gast.Name(id=name):
            return _ndim(arrays, adjoints.get(name, name))
        case gast.UnaryOp(op=gast.USub(), operand=operand):
            return _product_ndim(operand, arrays, adjoints)
        case gast.BinOp(left=left, op=gast.Mult(), right=right):
            both = (_product_ndim(left, arrays, adjoints), _product_ndim(right, arrays, adjoints))
            return None if None in both else max(both)
    return None


def _without(call, product, name):
    """Take the factor ``name`` (a node) out of ``product``, the summed
    expression of ``call``; False where it is the whole product."""
    if product is name:
        return False
    parents = [(parent, field) for parent in walk(product) for field in ("left", "right", "operand")
               if getattr(parent, field, None) is name]
    [(parent, field)] = parents
    if isinstance(parent, gast.UnaryOp):           # -f: -1.0 stays
        parent.operand = gast.Constant(value=1.0, kind=None)
        return True
    other = parent.right if field == "left" else parent.left
    if parent is product:
        if _method(call):
            call.func.value = other
        else:
            call.args[0] = other
    else:
        replace(product, parent, other)
    return True


def _ndim(arrays, name):
    shape = arrays.get(name)
    if shape is None or shape.dims == ("unknown",):
        return None
    return 0 if getattr(shape, "number", False) else len(shape.dims)


def _sums_reading(later, d):
    """``[(statement, sum call, axes)]``: the sums that hold every read of ``d`` in
    ``later`` up to its next assignment, each with ``d`` a factor of the
    summed product; None if ``d`` is read any other way (or in a nested block)."""
    found = []
    for stmt in later:
        if not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr)):
            if d in loads(stmt) or d in stores(stmt):
                return None
            continue
        reads = [node for node in walk(stmt) if isinstance(node, gast.Name) and node.id == d
                 and isinstance(node.ctx, gast.Load)]
        inside = set()
        for node in walk(stmt):
            summed = _summed(node)
            if summed is not None and _factor(summed[0], d):
                found.append((stmt, node, summed[1]))
                inside |= {id(n) for n in walk(summed[0]) if isinstance(n, gast.Name) and n.id == d}
        if any(id(node) not in inside for node in reads):
            return None
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name) and stmt.target.id == d:
            return None
        if d in stores(stmt):
            return found
    return found


def _method(call):
    """Is ``call`` ``e.sum(...)`` (not ``np.sum(...)``)?"""
    return isinstance(call.func, gast.Attribute) and call.func.attr == "sum" \
        and not (isinstance(call.func.value, gast.Name) and call.func.value.id in ("np", "numpy"))


def _summed(node):
    """``(summed expression, axes)`` for ``e.sum(axis=A, keepdims=True)`` or
    ``np.sum(e, axis=A, keepdims=True)`` with literal axes, else None."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr == "sum"):
        return None
    method = _method(node)
    if len(node.args) != (0 if method else 1):
        return None
    summed = node.func.value if method else node.args[0]
    keywords = {keyword.arg: keyword.value for keyword in node.keywords}
    if set(keywords) != {"axis", "keepdims"}:
        return None
    keep, axis = keywords["keepdims"], keywords["axis"]
    if not (isinstance(keep, gast.Constant) and keep.value is True):
        return None
    values = axis.elts if isinstance(axis, gast.Tuple) else [axis]
    if not all(isinstance(v, gast.Constant) and type(v.value) is int for v in values):
        return None
    return summed, tuple(v.value for v in values)


def _factor(expression, d):
    """Is ``d`` a factor of the product ``expression`` (``d``, ``-d``, ``d * a``,
    ``a * (-d * b)``...), read there once?"""
    match expression:
        case gast.Name(id=name):
            return name == d
        case gast.UnaryOp(op=gast.USub(), operand=operand):
            return _factor(operand, d)
        case gast.BinOp(left=left, op=gast.Mult(), right=right):
            in_left, in_right = d in loads(left), d in loads(right)
            return (in_left != in_right) and _factor(left if in_left else right, d)
    return False


def _constant_along(shape, ndim, axes):
    """Has the array ``shape`` length 1 along ``axes`` of an ``ndim``-dimensional
    array it broadcasts to (an axis it lacks counts as length 1)?"""
    if shape is None or getattr(shape, "number", False) or shape.dims == ("unknown",) \
            or len(shape.dims) > ndim:
        return False
    for axis in axes:
        axis = axis + ndim if axis < 0 else axis
        if not 0 <= axis < ndim:
            return False
        at = axis - (ndim - len(shape.dims))
        if at >= 0 and shape.dims[at] != ONE:
            return False
    return True
