"""The adjoints of ``np.einsum`` written out where the operands' shapes are known.

``einsum_grads(g, subscripts, operands)`` (runtime/products.py) works out at
run time, for every operand, the einsum that gives its adjoint: it parses the
subscripts, ties repeated letters with identity matrices, gives letters summed
within one operand a vector of ones, and sums what broadcasting spread. That
costs some 30 us a call on small arrays, for every operand, wanted or not.

Where every operand is a float64 array of known dimensions, the subscripts
are explicit and plain (no ellipsis, no letter twice in an operand) and each
letter is of length 1 in all the operands that carry it or in none, each
adjoint is the einsum a person writes::

    s = np.einsum('i,ij,j->', x, A, y)      dA = ds * np.einsum('i,j->ij', x, y)
    C = np.einsum('ij,jk->ik', A, B)        dA = np.einsum('jk,ik->ij', B, dC)

Only einsums of at most two arrays are written so (three or more would need
an order of contraction, which depends on lengths the derivative does not
fix); the rest keep the helper. A letter of an operand that no other operand
and not the result carries (summed within that operand alone) also keeps it.
"""
import gast

from pullback.analysis.lengths import MANY, ONE
from pullback.code.astutil import clone


def einsum_parts(subscripts, operands, arrays, wanted, g, numpy):
    """A tuple node of each operand's adjoint (``None`` for those not in
    ``wanted``, the names whose adjoints are read), or None where the shapes
    or the subscripts leave the helper's run-time work to do.

    ``subscripts``, ``operands``: the call's nodes; ``arrays``: the shape
    analysis's facts (name -> Shape); ``g``: the result's adjoint (a node);
    ``numpy``: the generated code's name node for NumPy.
    """
    if not (isinstance(subscripts, gast.Constant) and isinstance(subscripts.value, str)
            and isinstance(operands, (gast.Tuple, gast.List)) and len(operands.elts) >= 2):
        return None
    spec = subscripts.value.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    subs = inputs.split(",")
    if not arrow or "." in spec or len(subs) != len(operands.elts):
        return None
    lengths = {}
    for sub, node in zip(subs, operands.elts):
        shape = arrays.get(node.id) if isinstance(node, gast.Name) else None
        if shape is None or shape.number or shape.dtype != "float64" \
                or len(sub) != shape.ndim or len(set(sub)) != len(sub) or not sub.isalpha():
            return None
        for letter, dim in zip(sub, shape.dims):
            if dim not in (ONE, MANY) or lengths.setdefault(letter, dim) != dim:
                return None
    if len(set(output)) != len(output) or not set(output) <= set(lengths):
        return None
    parts = []
    for i, (sub, node) in enumerate(zip(subs, operands.elts)):
        if not (isinstance(node, gast.Name) and node.id in wanted):
            parts.append(gast.Constant(value=None, kind=None))
            continue
        part = _part(sub, [(s, n) for j, (s, n) in enumerate(zip(subs, operands.elts)) if j != i],
                     output, g, numpy)
        if part is None:
            return None
        parts.append(part)
    return gast.Tuple(elts=parts, ctx=gast.Load())


def _part(sub, others, output, g, numpy):
    """The adjoint of the operand of subscripts ``sub``: the einsum of the
    ``others`` (subscripts, node) and of ``g`` with ``sub`` as its output; a
    scalar ``g`` (the result has no axes) multiplies it instead."""
    terms = [(s, clone(n)) for s, n in others]
    if output:
        terms.append((output, clone(g)))
    if len(terms) > 2 or not set(sub) <= set("".join(s for s, _ in terms)):
        return None
    if len(terms) == 1 and terms[0][0] == sub:
        value = terms[0][1]         # 'i,i->': the other operand itself, times g
    else:
        text = ",".join(s for s, _ in terms) + "->" + sub
        value = gast.Call(func=gast.Attribute(value=clone(numpy), attr="einsum", ctx=gast.Load()),
                          args=[gast.Constant(value=text, kind=None)] + [n for _, n in terms],
                          keywords=[])
    if output:
        return value
    return gast.BinOp(left=clone(g), op=gast.Mult(), right=value)
