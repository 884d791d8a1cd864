"""factor_shared_factors: a factor both terms of a sum share, applied once.

    dp = dmean / n * y / p - dmean / n * sub / q    ->  dp = (y / p - sub / q) * (dmean / n)
    dx -= dadd * s * np.sin(x)                      ->  dx -= (np.sin(x) - np.cos(y)) * (dadd * s)
    dx += dadd * s * np.cos(y)

The rule. In the reverse sweep, ``L + R`` or ``L - R`` where ``L`` and ``R``
are chains of ``*`` and ``/`` that begin with the same factors (``dmean /
n``, the adjoint of a mean reaching two terms), or that both multiply by one
same factor, becomes the sum of what is left, times that factor once. The
shared factors must be names, numbers, attributes of names, ``np.size`` or
``np.shape`` of a name, and arithmetic of these (evaluating them twice or
once reads the same values); what is left of each chain must begin with a
factor, not a division. Two updates of one adjoint (``v = L``, ``v += L``
or ``v = v + L``, then ``v += R`` or ``v -= R``) whose terms share a factor
become one, at the second's place, when the statements between them only
assign or accumulate into other names, by no call but a stack's pop, and
write nothing the first reads; the update stays out of place unless both
were in place.

Why it holds for every program: multiplication distributes over addition
elementwise, and broadcasting keeps that true (``s * a - s * b`` and
``s * (a - b)`` broadcast ``s``, ``a`` and ``b`` to one shape, the shape the
separate updates had). The value differs by rounding only: the product is
reassociated, as a person writing the adjoint by hand would (near the end of
the float range an unscaled term may overflow where the scaled one did not,
giving inf for a finite number; a shared factor that is itself infinite
gives inf where 0 * inf gave NaN). What it gives:
one multiplication less per shared factor, and one pass over the adjoint
less per merged update (a sigmoid's cross-entropy in a loop: 5 array
operations a step instead of 6).
"""
import gast

from pullback.code.astutil import loads, rewrite_children, stores, walk_statements
from pullback.optimize.facts import effect_free, nested_blocks

_PRODUCTS = (gast.Mult, gast.Div)


def factor_shared_factors(fn, facts):
    """Rewrite ``L ± R`` sharing a factor as ``(L' ± R') * factor``, in the
    expressions of the reverse sweep's statements (a statement of the forward
    sweep inside a reverse loop, as checkpointing recomputes, keeps its bits),
    and two updates of one adjoint, ``v = L`` (or ``v += L``) then ``v += R``, as one."""
    _merge_updates(fn.body)
    for stmt in walk_statements(fn.body):
        if _reverse(stmt):
            for field, value in gast.iter_fields(stmt):
                if isinstance(value, gast.expr):
                    rewrite_children(value, _factored)
                    setattr(stmt, field, _factored(value))
    return fn


def _reverse(stmt):
    return getattr(stmt, "pb_sweep", None) == "reverse"


def _merge_updates(stmts):
    """``v = L; v += R`` -> ``v = (L' + R') * f`` where L and R share the factor f,
    the second update next but for assignments the first may move past (_passable)."""
    for stmt in stmts:
        for field in nested_blocks(stmt):
            _merge_updates(getattr(stmt, field))
    i = 0
    while i < len(stmts):
        first = _update(stmts[i])
        j = i + 1
        while first and j < len(stmts) and _passable(stmts[j], first):
            j += 1
        second = _update(stmts[j]) if first and j < len(stmts) else None
        merged = second and _merged(first, second)
        if merged is not None and _reverse(stmts[i]) and _reverse(stmts[j]):
            merged.pb_sweep, merged.pb_line = "reverse", getattr(stmts[j], "pb_line", None)
            stmts[j] = merged
            del stmts[i]
            continue
        i += 1


def _update(stmt):
    """``(v, how, e, in place)`` for ``v = e`` (how "="), ``v += e`` or ``v = v + e``
    ("+"), ``v -= e`` or ``v = v - e`` ("-"); else None."""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=name)],
                         value=gast.BinOp(left=gast.Name(id=same), op=gast.Add() | gast.Sub() as op,
                                          right=value)) if same == name:
            return name, "+" if isinstance(op, gast.Add) else "-", value, False
        case gast.Assign(targets=[gast.Name(id=name)], value=value):
            return name, "=", value, False
        case gast.AugAssign(target=gast.Name(id=name), op=gast.Add() | gast.Sub() as op, value=value):
            return name, "+" if isinstance(op, gast.Add) else "-", value, True
    return None


def _passable(stmt, first):
    """May the update ``first`` move down past ``stmt``: an assignment or an
    accumulation (``w += e``) of names that update neither reads nor writes,
    computing nothing with an effect but popping a stack? Nothing ``first``
    reads can then change in between (an accumulation into an array another
    name holds is made on a copy by own_in_place_buffers, which runs last)."""
    name, _, value, _ = first
    if not isinstance(stmt, (gast.Assign, gast.AugAssign)) or name in loads(stmt):
        return False
    targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
    if not all(isinstance(t, gast.Name) or (isinstance(t, gast.Tuple) and all(
            isinstance(e, gast.Name) for e in t.elts)) for t in targets):
        return False        # a write into an element or attribute changes an existing value
    if set(stores(stmt) if isinstance(stmt, gast.Assign) else [stmt.target.id]) & (
            set(loads(value)) | {name}):
        return False
    match stmt.value:
        case gast.Call(func=gast.Attribute(attr="pop"), args=[]):
            return True
    return effect_free(stmt.value)


def _merged(first, second):
    """The one statement doing both updates, when they share a factor; else None.
    It updates in place only where both did (an update written ``v = v + e`` was
    kept out of place: v's array may be another name's)."""
    (name, how, left, in_place), (other, how_2, right, in_place_2) = first, second
    if other != name or how_2 == "=" or name in loads(right) or (
            how != "=" and name in loads(left)):
        return None
    if how == "-":          # v -= L; v ± R  is  v -= L ∓ R
        how_2 = "-" if how_2 == "+" else "+"
    found = _shared(left, right, how_2 == "+")
    if found is None:
        return None
    shared, total = found
    value = gast.BinOp(left=total, op=gast.Mult(), right=shared)
    target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
    if how == "=":
        return gast.Assign(targets=[target], value=value, type_comment=None)
    op = gast.Add() if how == "+" else gast.Sub()
    if in_place and in_place_2:
        return gast.AugAssign(target=target, op=op, value=value)
    old = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
    return gast.Assign(targets=[target], value=gast.BinOp(left=old, op=op, right=value),
                       type_comment=None)


def _factored(node):
    """``node`` with a factor its two terms share taken out, or ``node``."""
    if not (isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub))):
        return node
    node.left, node.right = _factored(node.left), _factored(node.right)
    found = _shared(node.left, node.right, isinstance(node.op, gast.Add))
    if found is None:
        return node
    shared, total = found
    return gast.BinOp(left=total, op=gast.Mult(), right=shared)


def _shared(left, right, adding):
    """``(factor, what is left)`` for ``left + right`` (``adding``) or ``left -
    right`` whose terms share a factor (a term's leading minus taken along); else None."""
    left, left_negated = _unsigned(left)
    right, right_negated = _unsigned(right)
    found = _shared_prefix(_chain(left), _chain(right)) or _shared_factor(_chain(left),
                                                                         _chain(right))
    if found is None:
        return None
    shared, left_rest, right_rest = (_build(part) for part in found)
    subtract = right_negated == adding          # -(b) added, or b taken away
    if not left_negated:
        total = gast.BinOp(left=left_rest, op=gast.Sub() if subtract else gast.Add(),
                           right=right_rest)
    elif not subtract:                          # -a + b: b - a
        total = gast.BinOp(left=right_rest, op=gast.Sub(), right=left_rest)
    else:                                       # -a - b: -(a + b)
        total = gast.UnaryOp(op=gast.USub(), operand=gast.BinOp(left=left_rest, op=gast.Add(),
                                                                right=right_rest))
    return shared, total


def _unsigned(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand, True
    return node, False


def _chain(node):
    """``a / b * c`` -> ``[(None, a), (Div, b), (Mult, c)]``: a product, flattened."""
    if isinstance(node, gast.BinOp) and isinstance(node.op, _PRODUCTS):
        return _chain(node.left) + [(node.op, node.right)]
    return [(None, node)]


def _build(chain):
    node = chain[0][1]
    for op, operand in chain[1:]:
        node = gast.BinOp(left=node, op=op, right=operand)
    return node


def _shared_prefix(left, right):
    """The longest run of leading factors both chains begin with, when what
    follows it in each is a multiplication: ``(prefix, left rest, right rest)``."""
    k = 0
    while k < min(len(left), len(right)) - 1 and _same_step(left[k], right[k]) \
            and _plain(left[k][1]):
        k += 1
    while k and not (isinstance(left[k][0], gast.Mult) and isinstance(right[k][0], gast.Mult)):
        k -= 1
    if not k:
        return None
    return left[:k], [(None, left[k][1])] + left[k + 1:], [(None, right[k][1])] + right[k + 1:]


def _shared_factor(left, right):
    """One factor both chains multiply by (first, or after a ``*``), taken out of
    each where what is left still begins with a factor."""
    for i, (op_l, factor) in enumerate(left):
        if not (op_l is None or isinstance(op_l, gast.Mult)) or not _plain(factor):
            continue
        for j, (op_r, other) in enumerate(right):
            if (op_r is None or isinstance(op_r, gast.Mult)) and _same(factor, other):
                left_rest, right_rest = _without(left, i), _without(right, j)
                if left_rest and right_rest:
                    return [(None, factor)], left_rest, right_rest
    return None


def _without(chain, i):
    """``chain`` without its factor ``i``; None when nothing, or a division, would lead."""
    rest = chain[:i] + chain[i + 1:]
    if not rest or (i == 0 and not isinstance(rest[0][0], gast.Mult)):
        return None
    return [(None, rest[0][1])] + rest[1:]


def _plain(node):
    """A name, a number, an attribute of a name, ``np.size``, ``np.shape`` or
    ``np.ndim`` of a name (NumPy's functions, as the generated code imports them),
    or arithmetic of these."""
    match node:
        case gast.Name() | gast.Constant(value=int() | float()):
            return True
        case gast.Attribute(value=gast.Name()):
            return True
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="size" | "shape" | "ndim"),
                       args=[gast.Name()], keywords=[]):
            return True         # what the reverse sweep's templates ask of an array
        case gast.UnaryOp(op=gast.USub(), operand=operand):
            return _plain(operand)
        case gast.BinOp(left=left, op=gast.Add() | gast.Sub() | gast.Mult() | gast.Div(),
                        right=right):
            return _plain(left) and _plain(right)
    return False


def _same_step(a, b):
    return type(a[0]) is type(b[0]) and _same(a[1], b[1])


def _same(a, b):
    return _key(a) == _key(b)


def _key(node):
    """A structural key of an expression (a tuple walk: fast beside gast.dump)."""
    if isinstance(node, gast.AST):
        return (type(node).__name__,) + tuple(
            _key(value) for name, value in gast.iter_fields(node) if name != "ctx")
    if isinstance(node, list):
        return tuple(_key(v) for v in node)
    return node
