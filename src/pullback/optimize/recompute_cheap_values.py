"""recompute_cheap_values: an array one operation makes from saved values is recomputed, not saved.

    for t in range(n):                          for t in range(n):
        sub = 1.0 - u                               sub = 1.0 - u
        stack.append((lap, sub, u))     ->          stack.append((lap, u))
        u = u + dt * (lap + u * sub)                u = u + dt * (lap + u * sub)
    for t in reversed(range(n)):                for t in reversed(range(n)):
        lap, sub, u = stack.pop()                   lap, u = stack.pop()
                                                    sub = 1.0 - u

Saving an array keeps it alive until the reverse sweep: a loop of n steps
holds n more of them, and each step's new arrays land in memory the caches
no longer hold (on a 200 x 200 grid, saving ``sub`` made the forward sweep
40 % slower than recomputing it once in the reverse sweep). An array that
one arithmetic operation (``+ - * /``, or a minus sign) makes from literals,
values saved in the same push, and names that hold one value for the whole
call (all known arrays or numbers: no list, which ``append`` could change)
is recomputed after the pop instead: the same operation on the same
values gives the same bits. Only arrays (shape facts say so): a number costs
nothing to keep. The value's last assignment before the push is that
operation, in the push's block, and nothing between them assigns an operand.
Only where one push and one pop of the stack are both in this function, and
the forward sweep writes into no array in place (no ``a[i] = v``, no call
that may change its arguments): then a saved array popped holds what it held
when the value was computed from it.

Where the push holds ``shape_only(u)`` (only u's shape is read) and two or
more saved arrays are one operation on ``u`` (``0.1 * u`` and ``1.0 - u``),
``u`` itself is saved instead and both are recomputed: one array kept, not two.
"""
import gast

from pullback.code.astutil import clone, loads, names, stores, walk, walk_statements
from pullback.code.quote import quote
from pullback.optimize.facts import (effect_free, indexed_statements, name_counts, nested_blocks,
                                     pop_of, push_of)
from pullback.runtime.declare import facts_by_name, runtime_helpers

_CHEAP = (gast.Add, gast.Sub, gast.Mult, gast.Div)


def recompute_cheap_values(fn, facts):
    """Recompute after the pop each saved array one operation makes from other saved values."""
    arrays = getattr(facts.shapes, "arrays", None)
    if not arrays:
        return fn
    pushes, pops = {}, {}
    for block, k, stmt in indexed_statements(fn.body):
        push = push_of(stmt)
        if push is not None and getattr(stmt, "pb_sweep", None) == "forward":
            pushes.setdefault(push[0], []).append((block, k, stmt))
        elif stmt.__class__ is gast.Assign and pop_of(stmt.value) is not None:
            pops.setdefault(pop_of(stmt.value), []).append((block, k, stmt))
    if not pushes or not _forward_writes_no_array(fn):
        return fn
    _, store_count = name_counts(fn)
    top = {id(node): i for i, stmt in enumerate(fn.body) for node in walk_statements([stmt])}
    params = {a.id for a in fn.args.args}
    for stack, made in pushes.items():
        back = pops.get(stack, [])
        if len(made) != 1 or len(back) != 1:
            continue
        (block, k, push), (pop_block, j, pop) = made[0], back[0]
        saved, target = push.value.args[0], pop.targets[0]
        if saved.__class__ is not gast.Tuple or target.__class__ is not gast.Tuple \
                or len(saved.elts) != len(target.elts) or top[id(pop)] <= top[id(push)]:
            continue
        assigned_before = {n for stmt in fn.body[:top[id(push)]] if stmt.__class__ is gast.Assign
                           for n in stores(stmt)}
        invariant = {name for name in assigned_before | params if store_count.get(name) == 1}
        # (a parameter's one store is the parameter itself)
        recomputed = _choose(block, k, saved, target, invariant, arrays)
        for i, item in enumerate(saved.elts):    # a stand-in whose array would give two or more
            if _stand_in(item, arrays) is not None:
                saved.elts[i] = _stand_in(item, arrays)
                more = _choose(block, k, saved, target, invariant, arrays)
                if len(more) - len(recomputed) >= 2:
                    recomputed = more
                else:
                    saved.elts[i] = item
        if not recomputed:
            continue
        _drop(saved, target, [i for i, _ in recomputed])
        statements = [stmt for _, stmt in recomputed]
        for stmt in statements:
            stmt.pb_sweep = getattr(pop, "pb_sweep", None)
        pop_block[j + 1:j + 1] = statements
        _drop_unread_definitions(fn, block, push, pop_block[j + 1 + len(statements):],
                                 [stmt.targets[0].id for stmt in statements])
        if not saved.elts:                  # nothing left to save: no push, no pop
            del pop_block[j]
            del block[next(i for i, stmt in enumerate(block) if stmt is push)]
        elif len(saved.elts) == 1:          # one value left: no tuple
            push.value.args[0], pop.targets[0] = saved.elts[0], target.elts[0]
    return fn


def _choose(block, k, saved, target, invariant, arrays):
    """[(position in the push, recomputing statement)], each reading popped values only."""
    recomputed, chosen, operands_of_chosen = [], set(), set()
    for i, item in enumerate(saved.elts):
        value = _recomputable(item, block, k, saved, target, invariant, arrays)
        if value is None or target.elts[i].id in operands_of_chosen:
            continue            # (operands are named as the pop names them)
        operands = {n.id for n in names(value)}
        if operands & chosen:
            continue            # its operands are popped values, not recomputed ones
        chosen.add(target.elts[i].id)
        operands_of_chosen |= operands
        recomputed.append((i, quote("name = value", name=target.elts[i].id, value=value)))
    return recomputed


def _stand_in(item, arrays):
    """The array ``shape_only(u)`` stands in for (pushing it instead keeps one array
    alive, as saving one value recomputed from it would), or None."""
    match item:
        case gast.Call(func=gast.Name(id="shape_only"), args=[gast.Name(id=name) as array]) \
                if name in arrays and not arrays[name].number and arrays[name].ndim:
            return array
    return None


def _drop_unread_definitions(fn, block, push, after_pop, recomputed):
    """The forward sweep's assignment of a value now recomputed, where only the
    statements after the pop (which see the recomputed value) read the name."""
    reads, _ = name_counts(fn)
    for name in recomputed:
        if reads.get(name, 0) != sum(loads(stmt).count(name) for stmt in after_pop):
            continue
        k = next(i for i, stmt in enumerate(block) if stmt is push)
        for d in range(k - 1, -1, -1):
            if name in stores(block[d]):
                del block[d]            # one arithmetic operation: no effect to keep
                break


def _forward_writes_no_array(fn):
    """Does the forward sweep only assign names and call functions of their
    arguments (NumPy's with rules, helpers that write into nothing) and push?
    Then a saved array holds, when popped, what it held when its neighbours in
    the push were computed from it."""
    for stmt in walk_statements(fn.body):
        if getattr(stmt, "pb_sweep", None) != "forward" or push_of(stmt) is not None:
            continue
        if stmt.__class__ in (gast.AugAssign, gast.Delete):
            return False
        own = [getattr(stmt, field) for field in ("iter", "test") if hasattr(stmt, field)] \
            if nested_blocks(stmt) else [stmt]
        for node in (node for part in own for node in walk(part)):
            if node.__class__ in (gast.Subscript, gast.Attribute, gast.Starred) \
                    and node.ctx.__class__ is gast.Store:
                return False
            if node.__class__ is gast.Call and not effect_free(node) and not _reads_only(node):
                return False
    return True


def _reads_only(call):
    """A call of a builtin or runtime helper that changes none of its arguments."""
    match call.func:
        case gast.Name(id=name) if name in ("range", "len", "reversed", "float", "int"):
            return True
        case gast.Name(id=name) if name in runtime_helpers():
            return not facts_by_name(name).mutates and not facts_by_name(name).adds_into
    return False


def _recomputable(item, block, k, saved, target, invariant, arrays):
    """The operation that makes the saved ``item`` (its operands renamed to
    what the pop gives back), or None."""
    if item.__class__ is not gast.Name or item.id not in arrays or arrays[item.id].number \
            or not arrays[item.id].ndim:
        return None
    popped = {e.id: t.id for e, t in zip(saved.elts, target.elts)
              if e.__class__ is gast.Name and t.__class__ is gast.Name and e.id != item.id}
    for d in range(k - 1, -1, -1):
        stmt = block[d]
        if item.id not in stores(stmt):
            continue
        match stmt:
            case gast.Assign(targets=[gast.Name()], value=value) if _one_operation(value):
                operands = {n.id for n in names(value)}
                if not operands <= set(popped) | invariant or not operands <= set(arrays) \
                        or not operands.isdisjoint(
                        {n for s in block[d + 1:k] for n in stores(s)}):
                    return None
                return _renamed(value, popped)
        return None
    return None


def _one_operation(value):
    def operand(node):
        return node.__class__ is gast.Name or (node.__class__ is gast.Constant
                                               and type(node.value) in (int, float))
    match value:
        case gast.BinOp(left=left, op=op, right=right):
            return isinstance(op, _CHEAP) and operand(left) and operand(right)
        case gast.UnaryOp(op=gast.USub(), operand=inner):
            return operand(inner)
    return False


def _renamed(value, popped):
    """A copy of ``value`` with each saved operand named as the pop names it."""
    new = clone(value)
    for node in walk(new):
        if node.__class__ is gast.Name:
            node.id = popped.get(node.id, node.id)
    return new


def _drop(saved, target, positions):
    """Take the recomputed items out of the push and the pop."""
    saved.elts = [e for i, e in enumerate(saved.elts) if i not in positions]
    target.elts = [e for i, e in enumerate(target.elts) if i not in positions]
