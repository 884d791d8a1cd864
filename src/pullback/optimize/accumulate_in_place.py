"""accumulate_in_place: ``dx = dx + e``  ->  ``dx += e`` where ``dx``'s array is its own.

    dx = dx + g * y             ->      dx += g * y
    dx = dx + extreme_grad(g, x)        dx = extreme_grad(g, x, add_to=dx)

Reverse sweep only. ``dx`` owns its value when every assignment gives it a
new object (an arithmetic result, zeros, or an accumulation) or writes into
its own (``dx = add_at(dx, ...)``) and it is read only as an operand of
arithmetic, as that helper's first argument, or returned: no other name can hold the
same array, so adding in place changes nothing else, and saves allocating
a new array per accumulation. In straight-line code the value is also
followed back through ``unbroadcast`` (which may hand back its argument) and
copies. For numbers ``+=`` is the same as before.
"""
import gast

from pullback.code.astutil import loads, names, stores, walk
from pullback.code.quote import quote_expr
from pullback.optimize.facts import REACH, fresh, keeps_a_reference, nested_blocks
from pullback.runtime.declare import facts_by_name


def accumulate_in_place(fn, facts):
    """``dx = dx + e`` -> ``dx += e`` in the reverse sweep, where ``dx`` owns its array."""
    params = {a.id for a in fn.args.args}
    owned = _owned(fn, params)

    def block(stmts):
        out = []
        for stmt in stmts:
            for field in nested_blocks(stmt):
                setattr(stmt, field, block(getattr(stmt, field)))
            found = _accumulation(stmt)
            if found and found[0] in owned and getattr(stmt, "pb_sweep", None) == "reverse":
                stmt = _in_place(stmt, found[1])
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    body = fn.body
    writes = [set(stores(stmt)) for stmt in body]
    last_read = {}
    for i, stmt in enumerate(body):
        for read in loads(stmt):
            last_read[read] = i
    for k, stmt in enumerate(body):     # straight-line code: follow the aliases
        found = _accumulation(stmt)
        if found and getattr(stmt, "pb_sweep", None) == "reverse" \
                and _sole_owner(body, k, found[0], params, writes, last_read):
            body[k] = _in_place(stmt, found[1])
    return fn


def _accumulation(stmt):
    """``a = a + e`` -> ("a", e), else None."""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=target), *_],
                         value=gast.BinOp(left=gast.Name(id=left), op=gast.Add(), right=term)) \
                if left == target:
            return target, term
    return None


def _owned(fn, params):
    """The names every assignment gives a new object and that are read only
    as operands of arithmetic, or returned."""
    candidates = {}
    harmless = set()        # reads that cannot share the array: operands of arithmetic, returns
    loaded = []
    Name, Assign, BinOp, UnaryOp = gast.Name, gast.Assign, gast.BinOp, gast.UnaryOp
    for node in walk(fn):               # one walk for all the facts
        kind = node.__class__
        if kind is Name:
            if node.ctx.__class__ is gast.Load:
                loaded.append(node)
        elif kind is Assign:
            for target in node.targets:
                for name in names(target):
                    if name.ctx.__class__ is gast.Store:
                        new = target.__class__ is Name and (
                            _accumulation(node) is not None or fresh(node.value)
                            or _written_back(node, name.id))
                        candidates[name.id] = candidates.get(name.id, True) and new
            if len(node.targets) == 1 and node.targets[0].__class__ is Name \
                    and _written_back(node, node.targets[0].id):
                harmless.add(id(node.value.args[0]))
        elif kind is BinOp:
            harmless.update(id(n) for n in (node.left, node.right) if n.__class__ is Name)
        elif kind is UnaryOp:
            if node.operand.__class__ is Name:
                harmless.add(id(node.operand))
        elif kind is gast.Compare:
            harmless.update(id(n) for n in [node.left] + node.comparators if n.__class__ is Name)
        elif kind is gast.Return:
            if node.value is not None:
                harmless.update(id(n) for n in names(node.value))
        elif kind is gast.For or kind is gast.AugAssign:
            for name in names(node.target):
                candidates[name.id] = False
    owned = {name for name, new in candidates.items() if new and name not in params}
    for node in loaded:
        if id(node) not in harmless:
            owned.discard(node.id)
    return owned


def _written_back(stmt, name):
    """``name = add_at(name, ...)``: a helper that writes into its first argument
    hands back that array, or a new one of its own (runtime/declare.py), so
    ``name`` keeps holding an array no one else holds, if it did."""
    match stmt.value:
        case gast.Call(func=gast.Name(id=helper), args=[gast.Name(id=first), *_]) if first == name:
            return 0 in facts_by_name(helper).mutates
    return False


def _in_place(stmt, value):
    """``dx = dx + e`` -> ``dx += e`` (``dx = helper(..., add_to=dx)`` for a
    helper that adds into an array of its own)."""
    match value:
        case gast.Call(func=gast.Name(id=helper), keywords=[]) \
                if (into := facts_by_name(helper).adds_into):
            # the helper adds into an array it is given (the max/min adjoint
            # writes only the entries equal to the extreme)
            value.keywords = [gast.keyword(arg=into, value=quote_expr(
                "total", total=stmt.targets[0].id))]
            stmt.value = value
            return stmt
    new = gast.AugAssign(target=stmt.targets[0], op=gast.Add(), value=value)
    for annotation in ("pb_line", "pb_sweep"):
        if hasattr(stmt, annotation):
            setattr(new, annotation, getattr(stmt, annotation))
    return new


def _sole_owner(body, k, name, params, writes, last_read):
    """In the straight-line ``body``, does ``name`` hold, at statement ``k``,
    an array no other live name can reach?

    Its value is followed back through ``a = unbroadcast(b, x)`` and
    ``a = b`` (which may hand over ``b`` itself) to a new object (an
    arithmetic result); none of the names met on the way may be read after
    ``k``, nor before it anywhere a reference could be kept (only arithmetic
    operands, or ``unbroadcast`` results that arithmetic consumes).
    """
    aliases, chain = _alias_chain(body, k, name, params, writes)
    if aliases is None:
        return False
    others = set(aliases) - {name}
    if any(last_read.get(other, -1) > k for other in others):
        return False
    start = min(chain)
    for i in range(start, k + 1):
        stmt = body[i]
        value = stmt.value if i == k else stmt
        if keeps_a_reference(value, set(aliases), allowed=body[i] if i in chain else None):
            return False
    return True


def _alias_chain(body, k, name, params, writes):
    """The names ``name``'s array at ``body[k]`` was handed through, back to
    where it was made, and the positions of the statements on the way; (None,
    None) where it is not made within reach from a new object."""
    aliases, chain = [name], []
    position, current = k, name
    while True:
        j = next((i for i in range(position - 1, max(k - REACH, 0) - 1, -1)
                  if current in writes[i]), None)
        if j is None:
            return None, None   # not made within reach: left alone (bounds the cost)
        match body[j]:
            case gast.AugAssign(target=gast.Name(id=target), op=gast.Add()) if target == current:
                chain.append(j)         # added in place: still the same array
                position = j
                continue
            case gast.Assign(targets=[gast.Name(id=target), *_], value=value) if target == current:
                pass
            case _:
                return None, None
        chain.append(j)
        if fresh(value):
            return aliases, chain
        match value:
            case gast.Name():
                source = value
            case gast.Call(func=gast.Name(id="unbroadcast")):
                source = value.args[0]
            case _:
                source = None
        if not isinstance(source, gast.Name) or source.id in params or source.id in aliases:
            return None, None
        aliases.append(source.id)
        position, current = j, source.id
