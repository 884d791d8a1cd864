"""Elementwise array expressions of known shape, one element at a time
(part of stage 8b, backend/numba_loops.py), and which names can share memory.

``Parts(kinds).part(node)`` reads an expression of float64 arrays and numbers
(``+ - * / **``, unary minus, NumPy's functions of one number, views of
names by ``:``, ``None`` and integers, ``np.broadcast_to(view, y.shape)``)
as a ``Part``: its dims (ONE or MANY per axis), the arrays' axes that set
each axis's length, and ``build(index)``, the expression of one element.
Broadcasting follows NumPy's: axes aligned from the right, an axis of
length 1 read at 0. Division and powers of a negative whole exponent are
written ``np.divide`` and ``np.power``, whose numbers follow NumPy's rules
(1/0 is inf) where Python's raise.

``fresh_names`` and ``holders`` say which names cannot hold a view of
another's array (numba_loops writes ``t += e`` in place only then).
"""
import gast

from pullback.analysis.array_shapes import MANY, ONE, shape_of
from pullback.code.astutil import clone, make_name, walk
from pullback.optimize.facts import fresh
from pullback.optimize.value_kinds import F8, NUM, ValueKinds

# NumPy functions of one number that Numba types for float64 numbers
UNARY = frozenset((
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "abs", "absolute", "fabs", "negative", "positive", "reciprocal", "sign"))
_BINARY = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)
# NumPy calls that return a new array or number (np.zeros and sums: facts.fresh)
_MAKERS = frozenset(("ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                     "full_like", "copy", "array")) | UNARY


class Kinds(ValueKinds):
    """ValueKinds that also follows the reductions and views this pass writes
    loops for (a sum over an axis, np.expand_dims, np.broadcast_to), and
    augmented assignments to an array: ``t += e`` keeps t's array (NumPy
    writes into it, or raises)."""

    def __init__(self, fn, arrays, adjoints):
        super().__init__(fn, arrays, adjoints)
        self.augmented = set()
        for node in walk(fn):
            if node.__class__ is gast.AugAssign and node.target.__class__ is gast.Name:
                self.assigned[node.target.id].remove(None)
                self.augmented.add(node.target.id)

    def name(self, name):
        found = super().name(name)
        if found is not None and found[0] == NUM and name in self.augmented:
            found = self.known[name] = None     # n += x may make an array of a number
        return found

    def of(self, node):
        found = super().of(node)
        if found is not None:
            return found
        reduced = reduction(node)
        if reduced is not None:
            summed, axis, keep, _ = reduced
            inner = self.of(summed)
            if inner is None or inner[0] != F8 or inner[1].number:
                return None
            shape = inner[1]
            if axis is None:
                return NUM, shape_of((), number=True)
            axis = axis_of(axis, shape.ndim)
            if axis is None:
                return None
            dims, lengths = list(shape.dims), list(shape.lengths or [None] * shape.ndim)
            if keep:
                dims[axis], lengths[axis] = ONE, (None, 1)
            else:
                del dims[axis], lengths[axis]
            if not dims:
                return NUM, shape_of((), number=True)      # the only axis summed: a number
            return F8, shape_of(tuple(dims), "float64", lengths=tuple(lengths))
        match node:
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="broadcast_to"),
                           args=[value, gast.Attribute(value=gast.Name(id=target), attr="shape")],
                           keywords=[]):
                inner, outer = self.of(value), self.name(target)
                if inner is not None and inner[0] == F8 and inner[1] is not None \
                        and not inner[1].number and outer is not None and outer[0] == F8:
                    return outer        # (of a number: its dtype, an int's not float64)
        return None


def axis_of(axis, ndim):
    """A literal axis of an array of ``ndim`` dimensions, made non-negative; None if out of range."""
    axis = axis + ndim if axis < 0 else axis
    return axis if 0 <= axis < ndim else None


def reduction(node):
    """``(summed, axis or None, kept, negated)`` for a sum this pass writes as
    loops: ``np.sum(E, axis=k)``, ``E.sum(axis=k)``, ``np.sum(E)``, ``E.sum()``,
    ``np.expand_dims(<a sum over k>, k)``, each maybe negated; else None."""
    negated = False
    if node.__class__ is gast.UnaryOp and node.op.__class__ is gast.USub:
        negated, node = True, node.operand
    kept = None
    match node:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="expand_dims"),
                       args=[inner, axis], keywords=[]) if literal_int(axis) is not None:
            node, kept = inner, literal_int(axis)
    match node:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="sum"),
                       args=[summed, *rest], keywords=keywords):
            pass
        case gast.Call(func=gast.Attribute(value=summed, attr="sum"), args=rest, keywords=keywords) \
                if not (summed.__class__ is gast.Name and summed.id == "np"):
            pass
        case _:
            return None
    named = {k.arg: k.value for k in keywords}
    if len(rest) > 1 or set(named) - {"axis"} or (rest and named):
        return None
    axis = rest[0] if rest else named.get("axis")
    if axis is not None and literal_int(axis) is None:
        return None
    axis = None if axis is None else literal_int(axis)
    if kept is not None and (axis is None or axis != kept):
        return None     # np.expand_dims of a sum over another axis (k and -1 are not matched)
    return summed, axis, kept is not None, negated


def literal_int(node):
    """The value of an int literal (``2``, ``-1``), else None."""
    if node.__class__ is gast.UnaryOp and node.op.__class__ is gast.USub:
        inner = literal_int(node.operand)
        return None if inner is None else -inner
    return node.value if node.__class__ is gast.Constant and type(node.value) is int else None


class Part:
    """An elementwise expression: ``dims`` (ONE or MANY per axis; () for a
    number), ``sources``: per axis, the ``(name, axis, symbolic length)`` of
    the arrays' axes that set its length, and ``build(index)``: the
    expression of one element, given an expression per axis."""

    def __init__(self, dims, sources, build):
        self.dims, self.sources, self.build = tuple(dims), sources, build


def number(node):
    return Part((), [], lambda index: clone(node))


def combine(parts, build):
    """The part of an elementwise operation on ``parts`` (NumPy's broadcasting:
    the axes aligned from the right, an axis of length 1 stretched)."""
    rank = max(len(p.dims) for p in parts)
    if rank == 0:
        return None                     # all numbers: the caller keeps the node as it is
    dims, sources = [ONE] * rank, [[] for _ in range(rank)]
    for p in parts:
        shift = rank - len(p.dims)
        for axis, dim in enumerate(p.dims):
            if dim == MANY:
                dims[shift + axis] = MANY
            sources[shift + axis] += p.sources[axis]

    def one(index):
        return build([p.build(index[rank - len(p.dims):]) for p in parts])
    return Part(dims, sources, one)


class Parts:
    """Reads expressions as Parts, with the kinds of the function's names."""

    def __init__(self, kinds):
        self.kinds = kinds

    def part(self, node):
        """The Part of an elementwise expression, or None."""
        cls = node.__class__
        if cls is gast.Constant:
            return number(node) if type(node.value) in (int, float) else None
        if cls is gast.Name or cls is gast.Subscript:
            return self.leaf(node)
        if cls is gast.UnaryOp and node.op.__class__ in (gast.USub, gast.UAdd):
            inner = self.part(node.operand)
            if inner is None or not inner.dims:
                return None if inner is None else number(node)
            return Part(inner.dims, inner.sources, lambda index: gast.UnaryOp(
                op=node.op.__class__(), operand=inner.build(index)))
        if cls is gast.BinOp and node.op.__class__ in _BINARY:
            left, right = self.part(node.left), self.part(node.right)
            if left is None or right is None:
                return None
            if not left.dims and not right.dims:
                return number(node)
            return combine([left, right], lambda items: binary(items[0], node.op, items[1],
                                                                 node.right))
        if cls is gast.Call:
            return self.call(node)
        return None

    def call(self, node):
        match node:
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=function),
                           args=[argument], keywords=[]) if function in UNARY:
                inner = self.part(argument)
                if inner is None or not inner.dims:
                    return None if inner is None else number(node)
                return Part(inner.dims, inner.sources, lambda index: np_call(
                    function, inner.build(index)))
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="broadcast_to"),
                           args=[value, gast.Attribute(value=gast.Name(id=target), attr="shape")],
                           keywords=[]):
                inner, outer = self.part(value), self.array(target)
                if inner is None or not inner.dims or outer is None \
                        or len(inner.dims) > outer.ndim:
                    return None     # (of a number: an array of the number's dtype)
                shift = outer.ndim - len(inner.dims)
                if any(dim == MANY and outer.dims[shift + k] != MANY
                       for k, dim in enumerate(inner.dims)):
                    return None
                sources = [[(target, k, outer.length(k))] if dim == MANY else []
                           for k, dim in enumerate(outer.dims)]
                for k, found in enumerate(inner.sources):
                    sources[shift + k] += found
                return Part(outer.dims, sources, lambda index: inner.build(index[shift:]))
        return None

    def array(self, name):
        """The Shape of a float64 array name whose axes are each 1 or many, else None."""
        kind = self.kinds.name(name)
        if kind is None or kind[0] != F8 or kind[1] is None or kind[1].number:
            return None
        shape = kind[1]
        return shape if shape.ndim and all(dim in (ONE, MANY) for dim in shape.dims) else None

    def leaf(self, node):
        """A name, or a view of one by ``:``, ``None`` and literal integers."""
        if node.__class__ is gast.Name:
            kind = self.kinds.name(node.id)
            if kind is not None and kind[0] == NUM:
                return number(node)
            name, items = node.id, []
        elif node.value.__class__ is gast.Name:
            name = node.value.id
            items = node.slice.elts if node.slice.__class__ is gast.Tuple else [node.slice]
        else:
            return None
        shape = self.array(name)
        if shape is None:
            return None
        view, fixed, axis = [], {}, 0       # view axes: a base axis, or None (a new axis)
        for item in items:
            if item.__class__ is gast.Constant and item.value is None:
                view.append(None)
            elif literal_int(item) is not None:
                fixed[axis] = literal_int(item)
                axis += 1
            elif item.__class__ is gast.Slice and item.lower is None and item.upper is None \
                    and (item.step is None or (item.step.__class__ is gast.Constant
                                               and (item.step.value is None
                                                    or literal_int(item.step) == 1))):
                view.append(axis)
                axis += 1
            else:
                return None
        if axis > shape.ndim:
            return None
        view += range(axis, shape.ndim)
        if not view:
            return number(node)
        dims = [ONE if base is None else shape.dims[base] for base in view]
        sources = [[(name, base, shape.length(base))] if base is not None and dims[v] == MANY
                   else [] for v, base in enumerate(view)]

        def one(index):
            positions = {k: gast.Constant(value=v, kind=None) for k, v in fixed.items()}
            for v, base in enumerate(view):
                if base is not None:
                    positions[base] = index[v] if shape.dims[base] == MANY \
                        else gast.Constant(value=0, kind=None)
            return element(name, [clone(positions[k]) for k in range(shape.ndim)])
        return Part(dims, sources, one)


def is_view(value):
    """A name, a view of one, or np.broadcast_to of one: nothing to compute."""
    if value.__class__ is gast.Name or (value.__class__ is gast.Subscript
                                        and value.value.__class__ is gast.Name):
        return True
    match value:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="broadcast_to"),
                       args=[inner, _]):
            return is_view(inner)
    return False


def fresh_names(fn, kinds):
    """The names each of whose assignments makes a new array or number (an
    arithmetic result, np.zeros, a sum): no other name can hold a view of
    what they hold. Augmented assignments keep the object."""
    fresh, own_stores = {}, set()
    for node in walk(fn):
        if node.__class__ is gast.Assign and len(node.targets) == 1 \
                and node.targets[0].__class__ is gast.Name:
            name = node.targets[0].id
            fresh[name] = fresh.get(name, True) and makes_new(node.value)
            own_stores.add(id(node.targets[0]))
        elif node.__class__ is gast.AugAssign and node.target.__class__ is gast.Name:
            own_stores.add(id(node.target))
    for node in walk(fn):
        if node.__class__ is gast.Name and node.ctx.__class__ is not gast.Load \
                and id(node) not in own_stores:
            fresh[node.id] = False      # a parameter, a loop's variable, a tuple's item, a pop
    return frozenset(name for name, new in fresh.items() if new)


def holders(fn, target, kinds):
    """The names that may hold ``target``'s array or a view of it, anywhere in
    ``fn`` (``target`` itself among them): a statement that reads a holder
    makes holders of every name in what it assigns (``y = t[0]``, a pop,
    ``box[0] = t``, ``obj.a = t``) and, for a call, of every name it reads
    (``stack.append(t)``) but an array or number (a call can change what a
    list holds, not which memory an array is), unless it makes a new array
    or number (``y = t * 2``), or adds into an array in place."""
    holders, changed = {target}, True
    while changed:
        changed = False
        for node in walk(fn):
            if not isinstance(node, gast.stmt) or node.__class__ in (
                    gast.If, gast.While, gast.Return, gast.FunctionDef):
                continue
            own = [getattr(node, field) for field in ("targets", "target", "value", "iter")
                   if getattr(node, field, None) is not None]
            parts = [n for part in own for item in (part if isinstance(part, list) else [part])
                     for n in walk(item)]
            if not any(n.__class__ is gast.Name and n.id in holders and n.ctx.__class__ is gast.Load
                       for n in parts):
                continue
            if node.__class__ is gast.Assign and makes_new(node.value) \
                    and kinds.of(node.value) is not None:
                continue                # a new array or number (not a list's concatenation)
            if node.__class__ is gast.AugAssign and node.target.__class__ is gast.Name:
                if kinds.name(node.target.id) is not None:
                    continue            # an array's elements or a number: no reference kept
            stored = [n for field in ("targets", "target") if getattr(node, field, None)
                      for item in (getattr(node, field) if isinstance(getattr(node, field), list)
                                   else [getattr(node, field)]) for n in walk(item)]
            called = node.__class__ is gast.Expr
            for n in (parts if called else stored):
                if n.__class__ is not gast.Name or n.id in holders or (
                        called and kinds.name(n.id) is not None):
                    continue            # a call cannot make an array or number hold another's
                holders.add(n.id)       # box[0] = t: box holds t too
                changed = True
    return holders


def makes_new(value):
    """Does ``value`` make a new array (or a number), never a view of another's?
    What optimize/facts.fresh knows (arithmetic, numbers, zeros, sums), NumPy's
    other constructors and functions of one number, and np.expand_dims or
    np.broadcast_to of such a new value (a view of an array nobody else holds)."""
    if fresh(value):
        return True
    match value:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=function), args=args):
            if function in _MAKERS:
                return True
            return function in ("expand_dims", "broadcast_to") and bool(args) \
                and args[0].__class__ not in (gast.Name, gast.Subscript) and makes_new(args[0])
    return False


# ---------------------------------------------------------------------- building nodes

def np_call(function, *args):
    return gast.Call(func=gast.Attribute(value=make_name("np"), attr=function, ctx=gast.Load()),
                     args=list(args), keywords=[])


def element(name, index, ctx=None):
    """``name[i, j]`` (``name[i]`` for one axis)."""
    item = index[0] if len(index) == 1 else gast.Tuple(elts=list(index), ctx=gast.Load())
    return gast.Subscript(value=make_name(name), slice=item, ctx=ctx or gast.Load())


def binary(left, op, right, right_node):
    """``left op right`` for two numbers: ``/`` as np.divide and ``**`` as np.power
    (NumPy's rules: 1/0 is inf), except by a literal that cannot raise."""
    literal = right_node.value if right_node.__class__ is gast.Constant else None
    if right_node.__class__ is gast.UnaryOp and right_node.op.__class__ is gast.USub \
            and right_node.operand.__class__ is gast.Constant:
        literal = -right_node.operand.value if type(right_node.operand.value) in (int, float) \
            else None
    if op.__class__ is gast.Div and not (type(literal) in (int, float) and literal != 0):
        return np_call("divide", left, right)
    if op.__class__ is gast.Pow and not (type(literal) is float
                                         or (type(literal) is int and literal >= 0)):
        return np_call("power", left, right)
    return gast.BinOp(left=left, op=op.__class__(), right=right)
