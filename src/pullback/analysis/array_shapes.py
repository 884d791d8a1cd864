"""Stage 4c: what is known of each array's shape (``tree -> {name: Shape}``).

A derivative is generated for the arguments' kinds: each array argument's
number of dimensions, which of them have length 1 (all that broadcasting
depends on) and its dtype (api/arguments.py: ``array_kinds``). From those
this pass follows every name through the function to a fixed point.
"""
from dataclasses import dataclass

ONE, MANY, ANY = "1", "n", "?"      # a dimension of length 1, of another length, not known


@dataclass(frozen=True)
class Shape:
    """What is known of a value: an array of ``len(dims)`` dimensions, each
    ONE, MANY or ANY, of ``dtype`` (a NumPy dtype's name, None if not known);
    ``number``: a Python or NumPy scalar rather than an array (``dims == ()``)."""
    dims: tuple
    dtype: str = None
    number: bool = False

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
    ``(dims, dtype)`` with dims a string of ONE and MANY (``"n1"`` for a
    (5, 1) array): lengths other than 1 do not matter."""
    return "".join(ONE if n == 1 else MANY for n in value.shape), value.dtype.name


def parameter_shapes(params, arrays):
    """``{parameter name: Shape}`` from the ``arrays`` part of the kinds:
    ``((position, dims, dtype), ...)``."""
    return {params[i]: Shape(tuple(dims), dtype) for i, dims, dtype in arrays if i < len(params)}


def array_shapes(tree, operations, parameters, scalars):
    """``{name: Shape}`` for the names of ``tree`` (normalized) whose shape is
    known at every assignment; ``parameters``: the parameters' (parameter_shapes),
    ``scalars``: the names known to hold numbers (shapes.scalar_names)."""
    return dict(parameters)
