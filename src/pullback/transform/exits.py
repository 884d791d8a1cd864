"""Stage 5: the reverse of a ``while`` that may leave early (a ``break``, or
an early ``return``, inside its body).

Only the last iteration of such a loop can reach a ``break`` (or fail its
test): every earlier one took the path that stays in the loop. So the
reverse sweep undoes the last, partial iteration with the branch tests left
in place when the loop exited, then ``n_iter - 1`` full iterations in which
a branch that always leaves is impossible and its test is not read:

    while True:                         if cond:
        n_iter = n_iter + 1                 if cond_1:
        cond = y < 10.0                         ...          # the return
        if cond:                            dy = dy * 1.5
            y = 1.5 * y + x      ->         ...
            cond_1 = y > 8.0            for _ in range(n_iter - 1):
            if cond_1:                      dy = dy * 1.5
                returning = True            ...
                break
        else:
            break
"""
import copy

import gast

from pullback.code.astutil import make_name
from pullback.code.quote import quote_expr


def stays(stmts):
    """The statements an iteration runs when it does not leave the loop: a
    branch that always leaves (ends in ``break`` or ``raise``) is impossible,
    so an ``if`` one of whose branches always leaves becomes its other
    branch. None if every path leaves. Statements are the loop's own nodes
    (the reverse sweep finds what it saves by them); an ``if`` that changes
    is a shallow copy."""
    out = []
    for stmt in stmts:
        match stmt:
            case gast.Break() | gast.Raise():
                return None
            case gast.If():
                body, orelse = stays(stmt.body), stays(stmt.orelse)
                if body is None and orelse is None:
                    return None
                if body is None or orelse is None:
                    out += orelse if body is None else body
                elif _same(body, stmt.body) and _same(orelse, stmt.orelse):
                    out.append(stmt)
                else:
                    kept = copy.copy(stmt)
                    kept.body, kept.orelse = body or [gast.Pass()], orelse
                    out.append(kept)
            case _:
                out.append(stmt)
    return out


def _same(new, old):
    return len(new) == len(old) and all(a is b for a, b in zip(new, old))


def partial_exit(loop):
    """For a counted ``while True`` whose body may leave on some paths and
    stay on others: the statements of a full iteration (see ``stays``), else
    None."""
    if not isinstance(loop, gast.While) or getattr(loop, "pb_counter", None) is None:
        return None
    return stays(loop.body)


def reverse_with_exits(builder, loop, full, defined, line):
    """The reverse of ``loop`` (see ``partial_exit``; ``full``: a full
    iteration): its last iteration as it ran, then ``n_iter - 1`` full ones.

    The last step's restores pop from the same stacks as the full steps'
    (``Restore.last_step``): a value saved in the last iteration is given
    back there, every earlier one in its full step. The adjoint of a value
    one iteration computes and reads (``dmul``) gets a name of its own in
    the last step, so that each name keeps one value (the optimizer then
    inlines it in both)."""
    entry = set(defined)
    builder.loop_depth += 1
    last = builder.block(loop.body, defined)
    builder.loop_depth -= 1
    for node in last:
        for restore in gast.walk(node):
            if hasattr(restore, "last_step"):
                restore.last_step = True
    steps = quote_expr("range(n - 1)", n=loop.pb_counter)
    after_last = set(defined)
    rest = builder.repeat(full, defined, line, make_name("_", gast.Store()), steps)
    local = (_adjoints_stored(last, builder.namer) & _adjoints_stored(rest, builder.namer)) \
        - entry - after_last - builder.namer.user_adjoints()
    renames = {name: builder.namer.fresh(name) for name in sorted(local)}
    for node in last:
        for name in gast.walk(node):
            if isinstance(name, gast.Name) and name.id in renames:
                name.id = renames[name.id]
    return last + rest


def _adjoints_stored(stmts, namer):
    found = set()
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                try:
                    namer.primal_of(node.id)
                except KeyError:
                    continue
                found.add(node.id)
    return found
