"""drop_unread_restores: no push and pop of a value the reverse sweep no longer reads.

    for i in range(n):                  for i in range(n):
        m_stack.append(m)       ->          m = a @ b
        m = a @ b
    ...                                 ...
        m = m_stack.pop()                   (gone)

A value the forward sweep overwrites is pushed so that the reverse sweep
can restore it; once earlier passes have removed the reverse sweep's reads
(``fuse_product_sums`` takes a product's shape from its operands), the
restore and its push are dead. Only with shape facts (it follows them).
"""
import gast

from pullback.code.astutil import loads, walk_statements
from pullback.optimize.facts import append_of, is_pop, nested_blocks


def drop_unread_restores(fn, facts):
    """``s.append(v)`` and ``v = s.pop()`` go where the reverse sweep never reads ``v``."""
    if facts.shapes is None:
        return fn
    dead = _unread_pairs(fn)
    if not dead:
        return fn

    def block(stmts):
        out = []
        for stmt in stmts:
            if id(stmt) in dead:
                continue
            for field in nested_blocks(stmt):
                setattr(stmt, field, block(getattr(stmt, field)) or ([gast.Pass()] if field == "body"
                                                                      else []))
            out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def _unread_pairs(fn):
    """The ids of the pushes and pops of the stacks whose one value nothing reads."""
    reads = set()
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) != "forward":    # the reverse sweep, the return
            reads.update(loads(stmt))
    pushes, pops = {}, {}
    for stmt in walk_statements(fn.body):
        sweep = getattr(stmt, "pb_sweep", None)
        push = append_of(stmt) if sweep == "forward" else None
        if push:
            pushes.setdefault(push[0], []).append(stmt)
        elif sweep == "reverse" and is_pop(stmt) and isinstance(stmt.value.func.value, gast.Name):
            pops.setdefault(stmt.value.func.value.id, []).append(stmt)
    dead = set()
    for stack, made in pushes.items():
        back = pops.get(stack, [])
        if len(made) == 1 == len(back) and back[0].targets[0].id not in reads \
                and append_of(made[0])[1] == back[0].targets[0].id:
            dead.update((id(made[0]), id(back[0])))
    return dead
