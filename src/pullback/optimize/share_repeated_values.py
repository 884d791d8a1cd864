"""share_repeated_values: a value computed twice in a row of statements  ->  once.

    dlog_weights = dlog_comp.sum(axis=0)    ->      dlog_weights = dlog_comp.sum(axis=0)
    dlog_norm = dlog_comp.sum(axis=0)               dlog_norm = dlog_weights

The rule. In one block (straight-line statements), ``b = e`` where an
earlier ``a = e`` computed the same expression: ``b = a``, when
- ``e`` has no effect but its value: arithmetic, indexing, attributes, NumPy
  and ``math`` functions with a rule (facts.effect_free), and in the reverse
  sweep the ``sum`` and ``mean`` methods pullback's templates write;
- nothing in between assigns a name ``e`` reads, or ``a``, nor may change an
  array in place (an augmented assignment, an element's assignment, a
  runtime helper that writes, any other call): the statements are looked at
  one by one, and such a statement forgets what was known;
- neither ``a`` nor ``b`` is written in place anywhere in the function (two
  names for one array would see each other's writes). The passes that write
  in place later follow copies and never write into an array another live
  name holds (``own_in_place_buffers``).

Why it holds for every program: the expression reads the same values both
times and its result depends on nothing else, so both are equal; the second
is the first's array, which nobody changes. What it gives: one computation
less, often a reduction over a large array (an adjoint summed over the same
broadcast axes for two operands), and on small arrays one NumPy call less.
"""
import gast

from pullback.code.astutil import loads, make_name, stores, walk
from pullback.optimize.facts import math_function, nested_blocks
from pullback.optimize.ownership import in_place_owner
from pullback.runtime.declare import facts_by_name, runtime_helpers

# The methods of an array the reverse sweep's templates call (g.sum(axis=...)).
_METHODS = frozenset(("sum", "mean"))


def share_repeated_values(fn, facts):
    """``b = e`` -> ``b = a`` where an earlier ``a = e`` in the block still holds it."""
    written = _written_in_place(fn)

    def block(stmts):
        known = {}                      # _key(e) -> (a, the names e reads)
        for k, stmt in enumerate(stmts):
            if nested_blocks(stmt):
                for field in nested_blocks(stmt):
                    block(getattr(stmt, field))
                known.clear()
                continue
            target = _single_target(stmt)
            shareable = target is not None and target not in written and _shareable(stmt)
            key = _key(stmt.value) if shareable else None
            if key is not None and key in known:
                stmt.value = make_name(known[key][0])
                _forget(known, {target})
                continue
            if _pushes(stmt):
                _forget(known, {stmt.value.func.value.id})
                continue
            if not (shareable or _harmless(stmt)):
                known.clear()
                continue
            _forget(known, {target} if target is not None else set(stores(stmt)))
            if key is not None:
                reads = set(loads(stmt.value))
                if target not in reads:
                    known[key] = (target, reads)

    block(fn.body)
    return fn


def _key(node):
    """A value equal for equal expressions (gast.dump's, at a fraction of its cost)."""
    if isinstance(node, gast.AST):
        kind = node.__class__
        if kind is gast.Name:
            return node.id
        if kind is gast.Constant:
            return ("constant", type(node.value), node.value)
        return (kind.__name__,) + tuple(_key(getattr(node, field, None)) for field in node._fields
                                        if field not in ("ctx", "type_comment", "kind"))
    if isinstance(node, list):
        return tuple(_key(item) for item in node)
    return node


def _single_target(stmt):
    if stmt.__class__ is gast.Assign and len(stmt.targets) == 1 \
            and stmt.targets[0].__class__ is gast.Name:
        return stmt.targets[0].id
    return None


def _shareable(stmt):
    """Is the value one worth computing once, with no effect but its result?"""
    value = stmt.value
    if value.__class__ in (gast.Name, gast.Constant, gast.Tuple, gast.List):
        return False
    reverse = getattr(stmt, "pb_sweep", None) == "reverse"
    for node in walk(value):
        kind = node.__class__
        if kind is gast.Call:
            func = node.func
            if func.__class__ is not gast.Attribute or func.value.__class__ is not gast.Name:
                return False
            if func.attr in _METHODS and func.value.id not in _MODULES:     # g.sum(axis=0)
                if not reverse or any(k.arg is None or k.arg == "out" for k in node.keywords):
                    return False
            elif not math_function(func.value.id, func.attr, node):
                return False
        elif kind in _UNSHAREABLE:
            return False
    return True


_MODULES = frozenset(("np", "numpy", "math"))
_UNSHAREABLE = (gast.Lambda, gast.ListComp, gast.DictComp, gast.SetComp, gast.GeneratorExp,
                gast.Starred, gast.Yield, gast.Await, gast.NamedExpr)


def _pushes(stmt):
    """``stack.append(x)``: changes the list, not the arrays in it."""
    match stmt:
        case gast.Expr(value=gast.Call(func=gast.Attribute(value=gast.Name(), attr="append"))):
            return True
    return False


def _harmless(stmt):
    """Does ``stmt`` (not a shareable assignment) change no array in place and
    call nothing that might?"""
    if stmt.__class__ not in (gast.Assign, gast.Expr) or in_place_owner(stmt) is not None:
        return False
    if stmt.__class__ is gast.Assign and any(t.__class__ is not gast.Name for t in stmt.targets):
        return False                    # x[i] = v, a, b = ... (a pop), obj.attr = v
    value = stmt.value
    if value.__class__ is gast.Call and value.func.__class__ is gast.Name \
            and value.func.id in runtime_helpers() and not facts_by_name(value.func.id).mutates \
            and all(k.arg not in (None, "add_to", "out") for k in value.keywords):
        return True                     # unbroadcast(g, x): writes into none of its arguments
    return value.__class__ in (gast.Name, gast.Constant) or _shareable(stmt)


def _forget(known, names):
    """Drop what reads or is held by ``names``."""
    for key in [key for key, (holder, reads) in known.items() if holder in names or reads & names]:
        del known[key]


def _written_in_place(fn):
    """Names whose array some statement of ``fn`` changes in place."""
    written = set()
    for node in walk(fn):
        found = in_place_owner(node) if isinstance(node, gast.stmt) else None
        if found is not None:
            written.add(found[1])
        if node.__class__ is gast.Subscript and node.ctx.__class__ is gast.Store:
            written.update(loads(node.value))
        if node.__class__ is gast.Call and node.func.__class__ is gast.Attribute \
                and node.func.value.__class__ is gast.Name and node.func.attr not in _METHODS:
            written.add(node.func.value.id)         # a method: it may change its owner
    return written
