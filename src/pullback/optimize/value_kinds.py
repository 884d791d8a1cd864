"""What each name of a generated function holds: its kind of value and shape.

A name's kind is F8 (a float64 array or number), REAL (a real array of any
dtype) or NUM (a real number), with an ``array_shapes.Shape`` (None where
unknown). The argument kinds' shapes (``arrays``) give the forward values'
kinds, an adjoint has its value's, and the kinds are followed through the
arithmetic, the subscripts and the float ufuncs of the code. The passes that
write into arrays in place (reuse_dead_arrays, write_indexes_in_place) ask
it whether an array keeps its shape and dtype.
"""
import gast

from pullback.analysis import lengths as L
from pullback.analysis.array_shapes import NUMBER, Shape, broadcast, shape_of
from pullback.analysis.array_shapes import _matmul as matmul_shape
from pullback.analysis.constructed import _transposed as transposed
from pullback.analysis.array_shapes import _subscript as subscript_shape
from pullback.code.astutil import stores, walk
from pullback.optimize.facts import pop_of

_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div)
# NumPy functions of one array whose result has its shape, float64 for float64
_FLOAT_UFUNCS = frozenset((
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arctanh", "abs", "absolute", "fabs", "negative", "positive", "reciprocal"))
# Kinds of value: a float64 array, a real array (any real dtype), a real number.
F8, REAL, NUM = "float64", "real", "number"


class ValueKinds:
    """What each name of the generated code holds: ``(kind, Shape)`` (kind F8,
    REAL or NUM; the shape None where unknown), or None. The argument kinds'
    shapes (``arrays``) give the forward values' shapes, and an adjoint has
    its value's; the dtypes are followed through the code."""

    def __init__(self, fn, arrays, adjoints):
        self.integers = frozenset(name for loop in walk(fn) if loop.__class__ is gast.For
                                  and _counts(loop.iter) for name in stores(loop.target))
        shapes = {name: shape for name, shape in arrays.items()
                  if isinstance(shape, Shape) and shape.dims != ("unknown",)}
        seeds = {name: (NUM, NUMBER) if shape.number else (F8, shape)
                 for name, shape in shapes.items() if shape.number or shape.dtype == "float64"}
        assigned, self.complex = {}, False
        for node in walk(fn):
            if names_complex(node):
                self.complex = True
                break
            if node.__class__ is gast.Assign and len(node.targets) == 1 \
                    and node.targets[0].__class__ is gast.Name:
                assigned.setdefault(node.targets[0].id, []).append(node.value)
            elif node.__class__ is gast.Assign and pop_of(node.value):
                pass                # a stack's pop restores what the forward sweep pushed
            elif node.__class__ in (gast.Assign, gast.AugAssign, gast.For):
                for name in stores(getattr(node, "target", None) or node.targets[0]):
                    assigned.setdefault(name, []).append(None)
        self.seeds, self.assigned, self.known, self.adjoints = seeds, assigned, {}, adjoints

    def name(self, name):
        """The kind of a name: the analysis's for the user's values, the value's
        for an adjoint, else what every assignment gives (worked out when first
        asked; None while being worked out: a cycle)."""
        if name in self.known:
            return self.known[name]
        self.known[name] = None
        found = self.seeds.get(name)
        primal = self.adjoints.get(name)
        if found is None and primal is not None:
            value = self.name(primal)
            found = value if value is not None and value[0] == F8 and value[1] is not None else None
        if found is None and name not in self.seeds and name in self.assigned:
            kinds = [self.of(v) if v is not None else None for v in self.assigned[name]]
            found = kinds[0] if None not in kinds and len(set(kinds)) == 1 else None
        self.known[name] = found
        return found

    def rename(self, renames):
        for old, new in renames.items():
            self.known[new] = self.name(old)

    def of(self, node):
        """The kind of an expression, or None."""
        match node:
            case gast.Constant(value=value) if type(value) in (int, float):
                return NUM, NUMBER
            case gast.Name(id=name):
                return self.name(name)
            case gast.UnaryOp(op=gast.USub() | gast.UAdd(), operand=operand):
                return self.of(operand)
            case gast.BinOp(left=left, op=op, right=right) if isinstance(op, _ARITHMETIC + (gast.Pow,)):
                a, b = self.of(left), self.of(right)
                if a is None or b is None:
                    return None
                if a[0] == NUM and b[0] == NUM:
                    return NUM, NUMBER
                shape = broadcast([a[1], b[1]]) if a[1] is not None and b[1] is not None else None
                kind = F8 if F8 in (a[0], b[0]) else REAL
                return kind, shape
            case gast.Subscript(value=array, slice=index):
                inner = self.of(array)
                if inner is None or inner[0] == NUM or inner[1] is None:
                    return None
                shape = subscript_shape(inner[1], index, self.integers)
                if shape is None or shape.dims == ("unknown",):
                    return None
                return (NUM, NUMBER) if shape.number else (inner[0], shape)
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=function),
                           args=[argument], keywords=[]) if function in _FLOAT_UFUNCS:
                inner = self.of(argument)
                return inner if inner is not None and inner[0] != REAL else None
            case gast.BinOp(left=left, op=gast.MatMult(), right=right):
                a, b = self.of(left), self.of(right)        # float64 matrices and vectors
                if a is None or b is None or a[0] != F8 or b[0] != F8 or None in (a[1], b[1]) \
                        or not 1 <= a[1].ndim <= 2 or not 1 <= b[1].ndim <= 2 \
                        or a[1].number or b[1].number:
                    return None
                shape = matmul_shape(a[1], b[1])
                return (NUM, NUMBER) if shape.number else (F8, shape)
            case gast.Attribute(value=array, attr="T"):
                inner = self.of(array)
                if inner is None or inner[0] == NUM or inner[1] is None:
                    return None
                return inner[0], transposed(inner[1], None)
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="zeros"),
                           args=[gast.Attribute(value=like, attr="shape")
                                 | gast.Call(func=gast.Attribute(value=gast.Name(id="np"),
                                                                 attr="shape"), args=[like])],
                           keywords=[]):
                inner = self.of(like)       # float64 zeros of an array's shape
                if inner is None or inner[0] == NUM or inner[1] is None:
                    return None
                return F8, Shape(inner[1].dims, "float64", lengths=inner[1].lengths)
            case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="zeros"),
                           args=[sizes], keywords=[]):
                sizes = sizes.elts if sizes.__class__ is gast.Tuple else [sizes]
                if not sizes or not all(n.__class__ is gast.Constant and type(n.value) is int
                                        and n.value >= 0 for n in sizes):
                    return None         # float64 zeros of literal lengths
                return F8, shape_of(tuple(L.dim_of((None, n.value), L.ANY) for n in sizes),
                                    "float64", lengths=tuple((None, n.value) for n in sizes))
        return None


def names_complex(node):
    """Is ``node`` a complex literal or a name of a complex type (or of a cast)?
    (The kinds below take every number for a real one.)"""
    if node.__class__ is gast.Constant:
        return isinstance(node.value, complex)
    name = node.attr if node.__class__ is gast.Attribute else \
        node.id if node.__class__ is gast.Name else None
    return name is not None and ("complex" in name or name in (
        "longdouble", "float128", "clongdouble", "astype"))


def _counts(iterable):
    """``range(...)`` or ``reversed(range(...))``: its items are integers."""
    match iterable:
        case gast.Call(func=gast.Name(id="range")):
            return True
        case gast.Call(func=gast.Name(id="reversed"), args=[inner]):
            return _counts(inner)
    return False
