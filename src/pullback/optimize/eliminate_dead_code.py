"""eliminate_dead_code: drop assignments nobody reads later (straight-line code).

    t = x * 2.0                 ->      y = x + 1.0
    y = x + 1.0                         return y
    return y

A value with effects stays: ``v = v_stack.pop()`` must pop even when ``v``
is not read, or the next pop of that stack gets the wrong value
(``drop_unread_restores`` removes such a push and pop together).
Statements marked ``pb_keep`` (the scalar check on grad's output) stay.
"""
import gast

from pullback.code.astutil import loads
from pullback.optimize.facts import is_pop, pure


def eliminate_dead_code(fn, facts):
    """Drop top-level assignments whose value no later statement (or the return) reads."""
    live = set()
    kept = []
    for stmt in reversed(fn.body):
        match stmt:
            case gast.Assign(targets=[gast.Name(id=target), *_]) if not getattr(stmt, "pb_keep", False):
                if target not in live and (pure(stmt.value) or not is_pop(stmt)):
                    continue
                live.discard(target)
                live.update(loads(stmt.value))
            case _:
                live.update(loads(stmt))
        kept.append(stmt)
    fn.body = kept[::-1]
    return fn
