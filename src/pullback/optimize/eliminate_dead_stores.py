"""eliminate_dead_stores: drop assignments nothing reads, in loops and branches too.

    for i in range(n):          ->      for i in range(n):
        s = s + x                           x = x * 2.0
        x = x * 2.0                     return x
    return x

Flow-insensitive: a name is needed if a needed statement reads it; needed
are the returns, tests, calls and every assignment whose value may do more
than compute a result (a call). So ``s = s + mul_1`` in a loop goes when
only the output needed ``s``. Statements marked ``pb_keep`` stay.
"""
import gast

from pullback.code.astutil import loads
from pullback.optimize.facts import nested_blocks, pure


def eliminate_dead_stores(fn, facts):
    """Drop assignments, at any depth, of names nothing needed reads."""
    decided = {}

    def simple(stmt):
        """A pure assignment to a name, not kept for itself."""
        known = decided.get(id(stmt))
        if known is None:
            known = decided[id(stmt)] = isinstance(stmt, gast.Assign) \
                and isinstance(stmt.targets[0], gast.Name) and not getattr(stmt, "pb_keep", False) \
                and pure(stmt.value)
        return known

    live = _needed(list(_statements(fn.body)), simple)

    def block(stmts):
        out = []
        for stmt in stmts:
            if simple(stmt) and stmt.targets[0].id not in live:
                continue
            for field in nested_blocks(stmt):
                kept = block(getattr(stmt, field))
                setattr(stmt, field, kept or ([gast.Pass()] if field == "body" else []))
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def _statements(stmts):
    """Every statement, nested ones too, in order."""
    for stmt in stmts:
        yield stmt
        for field in nested_blocks(stmt):
            yield from _statements(getattr(stmt, field))


def _needed(everything, simple):
    """The names some needed statement reads, to a fixed point."""
    live = set()
    for stmt in everything:
        if simple(stmt):
            continue
        match stmt:
            case gast.For(iter=head) | gast.While(test=head) | gast.If(test=head):
                live.update(loads(head))
            case _:
                live.update(loads(stmt))
    definitions = [stmt for stmt in everything if simple(stmt)]
    changed = True
    while changed:
        changed = False
        for stmt in definitions:
            if stmt.targets[0].id in live:
                new = set(loads(stmt.value)) - live
                if new:
                    live |= new
                    changed = True
    return live
