"""eliminate_dead_stores: drop assignments nothing reads, in loops and branches too.

    for i in range(n):          ->      for i in range(n):
        t = np.sum(x)                       x = x * 2.0
        s = s + x                       return x
        x = x * 2.0
        if s > 1.0:
            u = x
    return x

Flow-insensitive: a name is needed if a needed statement reads it; needed
are the returns, the loops' heads, the tests of branches that keep a
statement, and every statement but an assignment free of effects (its value
calls nothing, or only NumPy and ``math`` functions). So ``s = s + mul_1``
in a loop goes when only the output needed ``s``, and an ``if`` left with
nothing in its branches goes when its test has no effect. Statements marked
``pb_keep`` stay.
"""
import gast

from pullback.code.astutil import loads
from pullback.optimize.facts import effect_free, nested_blocks


def eliminate_dead_stores(fn, facts):
    """Drop assignments, at any depth, of names nothing needed reads, and
    the branches left empty."""
    decided = {}            # id -> (statement, answer): the statement keeps its id alive

    def simple(stmt):
        """An assignment to a name free of effects, not kept for itself."""
        known = decided.get(id(stmt))
        if known is None or known[0] is not stmt:
            known = decided[id(stmt)] = (stmt, isinstance(stmt, gast.Assign)
                                         and isinstance(stmt.targets[0], gast.Name)
                                         and not getattr(stmt, "pb_keep", False)
                                         and effect_free(stmt.value))
        return known[1]

    while True:                         # a branch dropped may leave its test's values unread
        live = _needed(list(_statements(fn.body)), simple)
        dropped = []

        def block(stmts):
            out = []
            for stmt in stmts:
                if simple(stmt) and stmt.targets[0].id not in live:
                    continue
                for field in nested_blocks(stmt):
                    kept = block(getattr(stmt, field))
                    setattr(stmt, field, kept or ([gast.Pass()] if field == "body" else []))
                if _empty_branch(stmt):
                    dropped.append(stmt)
                    continue
                out.append(stmt)
            return out

        fn.body = block(fn.body)
        if not dropped:
            return fn


def _empty_branch(stmt):
    """``if t: pass`` (``else: pass``) whose test ``t`` has no effect."""
    match stmt:
        case gast.If(body=[*body], orelse=[*orelse]) \
                if all(isinstance(s, gast.Pass) for s in body + orelse) \
                and not getattr(stmt, "pb_keep", False) and effect_free(stmt.test):
            return True
    return False


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
