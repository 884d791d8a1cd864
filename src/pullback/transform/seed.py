"""The seed of ``grad``'s reverse sweep put in as the literal ``1.0`` (stage 6).

For an output known to be a number, the seed is ``1.0`` whatever the call,
so the reverse sweep reads the literal rather than a name: ``dtotal =
dloss`` becomes nothing, ``np.broadcast_to(dloss, np.shape(x))`` becomes
``np.broadcast_to(1.0, np.shape(x))``, and ``dloss * 2 * x`` folds to
``2.0 * x``. A temporary adjoint the reverse sweep assigns once, at its top
level, to a literal (``dadd = 1.0``) is put in the same way.
"""
import gast

from pullback.transform.broadcasts import factors, is_product
from pullback.code.astutil import clone, loads, stores, walk
from pullback.code.fold import fold_constants_in


def put_in_the_seed(sweeps, reverse, gradients):
    """Put the literal seed in ``reverse`` and ``gradients`` (lists, changed
    in place) where it folds away. True when the seed is still read (its
    statement is needed); the seed stays a name where the output may not be
    a number (the seed statement checks it) or the reverse sweep assigns it."""
    if sweeps.output not in sweeps.scalars or any(sweeps.seed in stores(s) for s in reverse):
        return True
    counts = {}
    for stmt in list(sweeps.forward) + reverse:
        for name in stores(stmt):
            counts[name] = counts.get(name, 0) + 1
    constants = {sweeps.seed: 1.0}
    out = _propagate(reverse, constants, counts, sweeps)
    if out is None:
        return True
    reverse[:] = out
    for i, gradient in enumerate(gradients):
        match gradient:
            case gast.Name(id=name) if name in constants:
                gradients[i] = gast.Constant(value=constants[name], kind=None)
    return any(sweeps.seed in loads(stmt) for stmt in reverse + gradients)


def _propagate(stmts, constants, counts, sweeps):
    """The statements with the literals of ``constants`` put in, or None where
    one does not fold away (:func:`_ones_left`: ``-dseed`` reads better
    with the name); ``a = 1.0`` for a temporary adjoint assigned
    once is dropped and its literal put in the same way."""
    out = []
    for stmt in stmts:
        if constants.keys() & set(loads(stmt)):
            candidate = clone(stmt)
            _put_in(candidate, constants)
            folded = fold_constants_in([candidate])
            for node in folded:
                _drop_ones(node, sweeps.scalars)
            if sum(_ones_left(node) for node in folded) > _ones_left(stmt):
                return None         # a 1.0 of the seed's is left (of the template's: 1.0 + x)
            stmt = folded
        for node in stmt if isinstance(stmt, list) else [stmt]:
            match node:
                case gast.Assign(targets=[gast.Name(id=name)], value=gast.Constant(value=1.0)) \
                        if counts.get(name) == 1 and name not in sweeps.named:
                    constants[name] = 1.0
                case _:
                    out.append(node)
    return out


def _ones_left(stmt):
    """How many ``1.0`` or ``-1.0`` literals are in ``stmt`` but as the value of a
    copy (``dc = 1.0``), the value a reduction's adjoint broadcasts, or the
    numerator of a quotient (``1.0 / total``)."""
    match stmt:
        case gast.Assign(value=gast.Constant(value=1.0)):
            return 0
    broadcast = {id(node.args[0]) for node in walk(stmt)
                 if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
                 and node.func.attr == "broadcast_to" and node.args}
    chained = {id(side) for node in walk(stmt) if isinstance(node, gast.BinOp)
               and isinstance(node.op, (gast.Mult, gast.Div)) for side in (node.left, node.right)}
    reciprocal = {id(node.left) for node in walk(stmt)     # dtotal = 1.0 / total: as written
                  if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div)
                  and id(node) not in chained}             # (1.0 / n * x: the seed's name)
    return sum(isinstance(node, gast.Constant) and type(node.value) is float
               and abs(node.value) == 1.0 and id(node) not in broadcast | reciprocal
               for node in walk(stmt))


def _put_in(tree, constants):
    """Every read of a name of ``constants`` in ``tree`` replaced by its literal."""
    def literal(node):
        if isinstance(node, gast.Name) and node.id in constants:
            return gast.Constant(value=constants[node.id], kind=None)
        return None

    for node in walk(tree):
        for field in node._fields:
            child = getattr(node, field, None)
            if isinstance(child, list):
                child[:] = [literal(v) or v for v in child]
            elif (new := literal(child)) is not None:
                setattr(node, field, new)


def _drop_ones(tree, scalars):
    """``2.0 * (1.0 * y)`` -> ``2.0 * y``; ``1.0 * x`` -> ``x`` for a number
    ``x``. Multiplying by 1.0 changes no value; it is kept where it may make
    an integer array a float one (the product has no other float literal)."""
    for node in walk(tree):
        for field in node._fields:
            child = getattr(node, field, None)
            if not is_product(child):
                continue
            chain = factors(node) if is_product(node) else factors(child)
            for one, other in ((child.left, child.right), (child.right, child.left)):
                if _is_one(one) and (
                        any(_is_float(f) and f is not one for f in chain)
                        or (isinstance(other, gast.Name) and other.id in scalars)):
                    setattr(node, field, other)
                    break


def _is_one(node):
    return isinstance(node, gast.Constant) and type(node.value) is float and node.value == 1.0


def _is_float(node):
    return isinstance(node, gast.Constant) and type(node.value) is float
