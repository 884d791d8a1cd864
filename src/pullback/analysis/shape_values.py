"""What is known of a value's shape: the values of the shape analysis (stage 4c,
analysis/array_shapes.py, and analysis/constructed.py), and how they combine.
"""
from dataclasses import dataclass

import gast

from pullback.analysis import lengths as L
from pullback.analysis.dtypes import numeric
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


NUMBER = Shape((), None, True)
UNKNOWN = Shape(("unknown",))          # top: anything (never returned)


def join(a, b):
    """What is known of a value that is either ``a`` or ``b`` (None: neither yet)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a is UNKNOWN or b is UNKNOWN or not isinstance(a, Shape) or not isinstance(b, Shape) \
            or a.number != b.number or a.ndim != b.ndim:
        return UNKNOWN             # (a tuple's Elements join only when equal)
    dtype = a.dtype if a.dtype == b.dtype else "numeric" if numeric(a.dtype) and numeric(b.dtype) \
        else None
    return shape_of(tuple(x if x == y else ANY for x, y in zip(a.dims, b.dims)), dtype, a.number,
                    tuple(a.length(i) if a.length(i) == b.length(i) else None
                          for i in range(a.ndim)))


def broadcast(shapes):
    """The shape NumPy's broadcasting gives operands of ``shapes`` (None if one
    is unknown): a dimension is MANY where an operand's is, ONE where all
    are, else ANY."""
    if any(s is None or s is UNKNOWN for s in shapes):
        return None
    ndim = max(s.ndim for s in shapes)
    if ndim == 0:       # of 0-d arrays: a NumPy scalar (a ufunc's) or a 0-d array (np.where's)
        return NUMBER if all(s.number for s in shapes) else Shape((), combined_dtype(shapes))
    dims, lengths = [], []
    for axis in range(-ndim, 0):
        here = [s.dims[axis] for s in shapes if s.ndim >= -axis]
        dims.append(MANY if MANY in here else ONE if all(d == ONE for d in here) else ANY)
        lengths.append(L.broadcast_length([s.length(axis) for s in shapes if s.ndim >= -axis]))
    return shape_of(tuple(dims), combined_dtype(shapes), lengths=tuple(lengths))


def combined_dtype(shapes):
    """The dtype of a result computed from values of ``shapes``: "numeric" when
    all are numbers or of numeric dtypes (which one depends on the operation:
    ``int_array / 2`` is float64), else None."""
    return "numeric" if all(s.number or numeric(s.dtype) for s in shapes) else None


@dataclass(frozen=True)
class Elements:
    """A tuple's items' shapes (for np.concatenate): never read as an array's."""
    items: tuple


NOT_CONSTANT = object()


def constant(node, default):
    """The value of an option written as a literal (None, an int, a bool, a
    tuple of ints); ``NOT_CONSTANT`` for anything else."""
    match node:
        case None:
            return default
        case gast.Constant(value=value):
            return value
        case gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=int(value))):
            return -value
        case gast.Tuple(elts=elts) | gast.List(elts=elts):
            values = tuple(constant(e, NOT_CONSTANT) for e in elts)
            return NOT_CONSTANT if NOT_CONSTANT in values else values
    return NOT_CONSTANT
