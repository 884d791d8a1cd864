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

The values an iteration ends with (pushed after the block's last assignment
of each, popped at the start of the reverse step) merge the same way: one
push after the last of theirs, one pop at the top of the reverse step.

    for i in range(n):                      for i in range(n):
        a = f(x)                    ->          a = f(x)
        a_stack.append(a)                       b = g(a)
        b = g(a)                                iteration_stack.append((a, b))
        b_stack.append(b)
    ...                                     ...
        a = a_stack.pop()                       a, b = iteration_stack.pop()
        b = b_stack.pop()
"""
import gast

from pullback.code.annotations import mark
from pullback.code.astutil import loads, make_name, names, stores
from pullback.code.quote import quote
from pullback.optimize.facts import append_of, is_counter_step, is_pop


def merge_stacks(fn, facts):
    """Merge the stacks each loop body pushes into one stack of tuples."""
    taken = set(facts.local(fn))
    made = []
    for members in _groups(fn).values():
        block, back = members[0][0], members[0][5]
        started = [m for m in members if not _stored_before(block, m[1], m[3])]
        ended = [m for m in members if _stored_before(block, m[1], m[3])
                 and not _stored_after(block, m[1], m[3])]
        if started and ended and _whole_iteration(back, ended):
            name = _fresh_name("iteration_stack", taken, "iteration_stack_{}")
            _merge_whole_iteration(block, back, started, ended, name, taken)
            made.append((name, [m[2] for m in started + ended]))
            continue
        for chosen, at_end in ((started, False), (ended, True)):
            if len(chosen) < 2:
                continue
            # the tuple in the order its values are computed (at the end) or popped
            chosen = sorted(chosen, key=lambda m: _index(block, m[1]) if at_end
                            else _index(back, m[6]))
            name = _fresh_name("iteration_stack", taken, "iteration_stack_{}")
            _merge(block, back, chosen, name, taken, at_end)
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


def _merge(block, back, chosen, name, taken, at_end=False):
    """One push of ``chosen``'s values at the top of ``block`` and one pop in
    ``back`` where the first of their pops was; ``at_end``: values the
    iteration ends with, pushed after the last of their pushes and popped at
    the top of ``back``."""
    first = min(chosen, key=lambda m: _index(back, m[6]))[6]
    position = 0 if at_end else _index(back, first)
    last_push = max(chosen, key=lambda m: _index(block, m[1]))[1]
    targets = []
    for m in chosen:
        if m[1] is not last_push:
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
    if at_end:
        block[_index(block, last_push)] = push
        if first in back:
            back.remove(first)
        back.insert(0, pop)
        return
    block.remove(last_push)
    top = 0
    while top < len(block) and is_counter_step(block[top]):
        top += 1
    block.insert(top, push)
    back[_index(back, first)] = pop


def _whole_iteration(back, ended):
    """Can what an iteration starts with and what it computes go in one
    push: can every pop of a computed value move to the top of the step?"""
    return all(m[3] not in loads(s) and m[3] not in stores(s)
               for m in ended for s in back[:_index(back, m[6])])


def _merge_whole_iteration(block, back, started, ended, name, taken):
    """One push after the last value the iteration computes, one pop at the
    top of the reverse step. A value the iteration started with that is
    overwritten before that push is kept in a temporary (``x_start = x``)
    where it was pushed; one the reverse step reads before its restore is
    popped into that temporary and restored (``x = x_start``) where its pop was."""
    ended = sorted(ended, key=lambda m: _index(block, m[1]))
    started = sorted(started, key=lambda m: _index(block, m[1]))
    at = ended[-1][1]
    values, targets = [m[4] for m in ended], [m[3] for m in ended]
    for m in ended:
        if m[1] is not at:
            block.remove(m[1])
        back.remove(m[6])
    for m in started:
        movable = all(m[3] not in loads(s) and m[3] not in stores(s)
                      for s in back[:_index(back, m[6])])
        temporary = None
        if any(m[3] in stores(s) for s in block[_index(block, m[1]):_index(block, at)]):
            temporary = _fresh_name(m[3] + "_start", taken, m[3] + "_start_{}")
            block[_index(block, m[1])] = mark(
                quote("temporary = value", temporary=temporary, value=m[4]),
                sweep="forward", line=getattr(m[1], "pb_line", None))
            values.append(make_name(temporary))
        else:
            block.remove(m[1])
            values.append(m[4])
        if movable:
            back.remove(m[6])
            targets.append(m[3])
            continue
        temporary = temporary or _fresh_name(m[3] + "_start", taken, m[3] + "_start_{}")
        targets.append(temporary)
        back[_index(back, m[6])] = mark(quote("variable = temporary", variable=m[3],
                                              temporary=temporary),
                                        sweep="reverse", line=getattr(m[6], "pb_line", None))
    block[_index(block, at)] = mark(quote("stack.append(values)", stack=name, values=tuple(values)),
                                    sweep="forward", line=getattr(at, "pb_line", None))
    back.insert(0, mark(quote("values = stack.pop()", stack=name, values=tuple(targets)),
                        sweep="reverse", line=getattr(ended[0][6], "pb_line", None)))


def _stored_before(block, stmt, variable):
    """Is ``variable`` assigned in ``block`` before ``stmt`` (nested statements included)?"""
    for earlier in block[:_index(block, stmt)]:
        if variable in stores(earlier):
            return True
    return False


def _stored_after(block, stmt, variable):
    """Is ``variable`` assigned in ``block`` after ``stmt`` (nested statements included)?"""
    return any(variable in stores(later) for later in block[_index(block, stmt) + 1:])


def _index(block, stmt):
    return next(i for i, s in enumerate(block) if s is stmt)


def _recreate_stacks(fn, made):
    """Create the merged stacks where the first of theirs was created, and
    drop the creation of stacks nothing uses any more."""
    used = {n.id for n in names(fn) if n.ctx.__class__ is gast.Load}
    first_of = {}       # a stack may feed two merged ones (what an iteration starts and ends with)
    for name, stacks in made:
        for stack in stacks:
            first_of.setdefault(stack, []).append(name)
    body, created = [], set()
    for stmt in fn.body:
        match stmt:
            case gast.Assign(targets=[gast.Name(id=target), *_], value=gast.List()):
                pass
            case _:
                target = None
        for name in first_of.get(target, ()):
            if name not in created:
                created.add(name)
                body.append(mark(quote("stack = []", stack=name),
                                 sweep=getattr(stmt, "pb_sweep", None) or "forward",
                                 line=getattr(stmt, "pb_line", None)))
        if target in first_of and target not in used:
            continue
        body.append(stmt)
    fn.body = body
