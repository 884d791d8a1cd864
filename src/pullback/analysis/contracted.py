"""Stage 4c, part: the shape of ``np.einsum``'s result (the rule's shape word
"contracted"), from its subscripts and what is known of its operands.

Each letter of the output takes its length from the operands that carry it:
one of length n (2 or more) gives n (a length-1 axis broadcasts against it),
one not known leaves it not known, else 0 or 1. Subscripts with an ellipsis,
computed at run time, or not matching an operand's number of axes are not
known. Implicit subscripts (``'ij,jk'``) give the letters that appear once,
in alphabetical order, as NumPy does. Without ``optimize=`` an einsum whose
output has no letters gives a NumPy scalar (a number); with it, a 0-d array,
which is not claimed.
"""
from functools import reduce

from pullback.analysis.dtypes import product_dtype
from pullback.analysis.shape_values import ANY, MANY, ONE, UNKNOWN, ZERO, combined_dtype, shape_of


def contracted(subscripts, shapes, optimized=False):
    """The Shape of ``np.einsum(subscripts, *operands)`` for operands of
    ``shapes`` (each a known Shape); UNKNOWN where it cannot be told."""
    if not isinstance(subscripts, str):
        return UNKNOWN
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    subs = inputs.split(",")
    if "." in spec or len(subs) != len(shapes) or not all(s.isalpha() for s in subs if s):
        return UNKNOWN
    letters = "".join(subs)
    if not arrow:
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    axes = {}
    for sub, shape in zip(subs, shapes):
        if len(sub) != (0 if shape.number else shape.ndim):
            return UNKNOWN
        for axis, letter in enumerate(sub):
            axes.setdefault(letter, []).append((shape.dims[axis], shape.length(axis)))
    if (output and not output.isalpha()) or len(set(output)) != len(output) \
            or not set(output) <= set(axes):
        return UNKNOWN
    dtype = reduce(product_dtype, [s.dtype for s in shapes]) if len(shapes) > 1 \
        else shapes[0].dtype
    dtype = dtype or combined_dtype(shapes)
    if not output:
        return UNKNOWN if optimized else shape_of((), dtype, number=True)
    found = [_letter(axes[letter]) for letter in output]
    return shape_of(tuple(d for d, _ in found), dtype, lengths=tuple(n for _, n in found))


def _letter(found):
    """``(dim, length)`` of an output letter carried by axes ``found``."""
    for dim, length in found:
        if dim == MANY:
            return dim, length
    if any(dim == ANY for dim, _ in found):
        return ANY, None
    if any(dim == ZERO for dim, _ in found):
        return ZERO, (None, 0)
    return ONE, (None, 1)
