"""sink_pops: ``x = x_stack.pop()`` down its block, to just before ``x`` is next used.

    x = x_stack.pop()           ->      dt = dy * 2.0
    dt = dy * 2.0                       x = x_stack.pop()
    dx = dt * x                         dx = dt * x

The pop then no longer separates an adjoint's computation from its use,
so ``inline_temporaries`` can join them. The same for ``y = y_before``, a
value saved outside loops (paired with its save, as a pop with its push).
Reverse-sweep pops only, within their block, never past a statement that
reads or writes ``x`` or the stack.
"""
import gast

from pullback.optimize.facts import REACH, StatementFacts, is_pop, nested_blocks


def sink_pops(fn, facts):
    """Move each reverse-sweep pop down to just before the next statement
    that reads or writes its variable or its stack."""
    statements = StatementFacts(facts.local(fn))

    def block(stmts):
        out = list(stmts)
        for stmt in out:
            for field in nested_blocks(stmt):
                setattr(stmt, field, block(getattr(stmt, field)))
        i = len(out) - 1
        while i >= 0:
            stmt = out[i]
            if _restores(stmt) and getattr(stmt, "pb_sweep", None) == "reverse":
                name, stack = stmt.targets[0].id, _source(stmt)
                j = i + 1
                while j < min(len(out), i + 1 + REACH):
                    reads, written = statements.reads(out[j]), statements.written(out[j])
                    if name in reads or stack in reads or name in written or stack in written:
                        break
                    j += 1
                if j > i + 1:
                    out.insert(j - 1, out.pop(i))
            i -= 1
        return out

    fn.body = block(fn.body)
    return fn


def _restores(stmt):
    """A pop, or ``y = y_before`` (a value saved outside loops, paired with its save)."""
    match stmt:
        case gast.Assign(targets=[gast.Name()], value=gast.Name()):
            return getattr(stmt, "pb_pair", None) is not None
    return is_pop(stmt)


def _source(stmt):
    """The stack a pop reads, or the name a saved value is kept in."""
    return stmt.value.id if isinstance(stmt.value, gast.Name) else stmt.value.func.value.id
