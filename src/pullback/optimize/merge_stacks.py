"""merge_stacks: one stack of tuples per loop body, not one stack per variable.

    for i in range(n):                      for i in range(n):
        a_stack.append(a)           ->          iteration_stack.append((a, b))
        a = f(a)                                a = f(a)
        b_stack.append(b)                       b = g(b)
        b = g(b)
    ...                                     ...
        b = b_stack.pop()                       a, b = iteration_stack.pop()
        a = a_stack.pop()

Where no variable pushed is assigned in the block before its push (so the
value pushed is the one the block started with) and their pops can all
move up to the first of them (nothing between reads or writes the
variable): one list operation per iteration instead of one per variable.
A variable the reverse sweep still reads before its own pop is popped into
``a_old`` and restored by ``a = a_old`` where its pop was.
"""
import gast

from pullback.code.annotations import mark
from pullback.code.astutil import loads, names, stores
from pullback.code.quote import quote
from pullback.optimize.facts import append_of, is_counter_step, is_pop


def merge_stacks(fn, facts):
    """Merge the stacks each loop body pushes into one stack of tuples."""
    taken = set(facts.local(fn))
    made = []
    for members in _groups(fn).values():
        block, back = members[0][0], members[0][5]
        chosen = sorted((m for m in members if not _stored_before(block, m[1], m[3])),
                        key=lambda m: _index(back, m[6]))
        if len(chosen) < 2:
            continue
        name = _fresh_name("iteration_stack", taken, "iteration_stack_{}")
        _merge(block, back, chosen, name, taken)
        made.append((name, [m[2] for m in chosen]))
    if made:
        _recreate_stacks(fn, made)
    return fn


def _blocks(stmts, sweep=None):
    """Every block (statement list) under ``stmts`` with the sweep of the
    compound statement holding it: (block, sweep)."""
    for stmt in stmts:
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block:
                yield block, getattr(stmt, "pb_sweep", sweep)
                yield from _blocks(block, getattr(stmt, "pb_sweep", sweep))


def _groups(fn):
    """(forward block, reverse block) -> the pushes of one and their pops in
    the other: (block, push, stack, variable, value, back, pop) each."""
    pushes, pops = {}, {}
    for block, sweep in _blocks(fn.body):
        for stmt in block:
            pair = getattr(stmt, "pb_pair", None)
            if pair is None:
                continue
            if sweep == "forward" and append_of(stmt):
                pushes[pair] = (block, stmt) + append_of(stmt)
            elif sweep == "reverse" and is_pop(stmt):
                pops[pair] = (block, stmt)
    groups = {}
    for pair, (block, push, stack, variable, value) in pushes.items():
        if pair in pops and pops[pair][1].targets[0].id == variable:
            back, pop = pops[pair]
            groups.setdefault((id(block), id(back)), []).append((block, push, stack, variable, value,
                                                                  back, pop))
    return groups


def _fresh_name(name, taken, pattern):
    """``name``, else ``pattern.format(k)`` for the first k = 1, 2, ... not in
    ``taken``; reserved in ``taken``."""
    k = 1
    while name in taken:
        name, k = pattern.format(k), k + 1
    taken.add(name)
    return name


def _merge(block, back, chosen, name, taken):
    """One push of ``chosen``'s values at the top of ``block`` and one pop in
    ``back`` where the first of their pops was."""
    first = chosen[0][6]
    position = _index(back, first)
    targets = []
    for m in chosen:
        block.remove(m[1])
        between = back[position:_index(back, m[6])]
        if all(m[3] not in loads(s) and m[3] not in stores(s) for s in between):
            targets.append(m[3])
            if m[6] is not first:
                back.remove(m[6])
            continue
        old = _fresh_name(m[3] + "_old", taken, m[3] + "_old_{}")
        targets.append(old)
        restore = mark(quote("variable = old", variable=m[3], old=old),
                       sweep="reverse", line=getattr(m[6], "pb_line", None))
        back[_index(back, m[6])] = restore
    push = mark(quote("stack.append(values)", stack=name, values=tuple(m[4] for m in chosen)),
                sweep="forward", line=getattr(chosen[0][1], "pb_line", None))
    pop = mark(quote("values = stack.pop()", stack=name, values=tuple(targets)),
               sweep="reverse", line=getattr(first, "pb_line", None))
    top = 0
    while top < len(block) and is_counter_step(block[top]):
        top += 1
    block.insert(top, push)
    back[_index(back, first)] = pop


def _stored_before(block, stmt, variable):
    """Is ``variable`` assigned in ``block`` before ``stmt`` (nested statements included)?"""
    for earlier in block[:_index(block, stmt)]:
        if variable in stores(earlier):
            return True
    return False


def _index(block, stmt):
    return next(i for i, s in enumerate(block) if s is stmt)


def _recreate_stacks(fn, made):
    """Create the merged stacks where the first of theirs was created, and
    drop the creation of stacks nothing uses any more."""
    used = {n.id for n in names(fn) if n.ctx.__class__ is gast.Load}
    first_of = {}
    for name, stacks in made:
        for stack in stacks:
            first_of.setdefault(stack, name)
    body, created = [], set()
    for stmt in fn.body:
        match stmt:
            case gast.Assign(targets=[gast.Name(id=target), *_], value=gast.List()):
                pass
            case _:
                target = None
        if target in first_of and first_of[target] not in created:
            name = first_of[target]
            created.add(name)
            body.append(mark(quote("stack = []", stack=name), sweep="forward", line=None))
        if target in first_of and target not in used:
            continue
        body.append(stmt)
    fn.body = body
