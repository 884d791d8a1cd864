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

The part of an array a write overwrites is saved and put back the same
way (``lap_stack.append(copy_of(lap[1:-1]))``, ``lap[1:-1] =
lap_stack.pop()``). Where the array was just made blank (``lap =
np.zeros_like(T)``, and nothing read it before the write), no adjoint reads
what would be put back: the constructor's reads nothing of it, and
statements before it cannot hold it. Both go::

    lap = np.zeros_like(T)                      lap = np.zeros_like(T)
    lap_stack.append(copy_of(lap[1:-1]))   ->   lap[1:-1] = sub
    lap[1:-1] = sub
"""

# NumPy's constructors of arrays whose adjoints read nothing of the result
_BLANK = frozenset(("zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like", "full",
                    "full_like", "eye", "identity"))
import gast

from pullback.code.astutil import loads, names, walk, walk_statements
from pullback.optimize.facts import (append_of, indexed_statements, is_pop, makes_empty_list,
                                     nested_blocks, pop_of, push_of)


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
    pushes, pops, undoing = {}, {}, {}
    for stmt in walk_statements(fn.body):
        sweep = getattr(stmt, "pb_sweep", None)
        if sweep == "reverse" and getattr(stmt, "pb_pair", None) is not None:
            undoing.setdefault(stmt.pb_pair, []).append(stmt)     # stacks.py's mark of a pair
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
            dead.update(id(stmt) for stmt in fn.body if makes_empty_list(stmt, stack)
                        and _mentions(fn, stack) == 3)      # its ``s = []``: nothing else
    for stack, save in _fresh_part_saves(fn):
        # the pop that undoes this push and no other: with both gone, the stack's other
        # pushes and pops still pair up
        back = undoing.get(getattr(save, "pb_pair", None), [])
        if len(back) == 1 and pop_of(getattr(back[0], "value", None)) == stack \
                and isinstance(back[0].targets[0], gast.Subscript):
            dead.update((id(save), id(back[0])))
    return dead


def _mentions(fn, name):
    return sum(1 for node in walk(fn) if node.__class__ is gast.Name and node.id == name)


def _fresh_part_saves(fn):
    """``(stack, push)`` for the forward sweep's saves ``s.append(copy_of(v[i]))``
    of a part of an array that the last statement of the block to mention ``v``
    made with a constructor (_BLANK): no statement between can have read it,
    and the constructor's own adjoint reads nothing of it, so no adjoint reads
    what the restore would put back."""
    found = []
    for block, k, stmt in indexed_statements(fn.body):
        match push_of(stmt) if getattr(stmt, "pb_sweep", None) == "forward" else None:
            case (stack, gast.Call(func=gast.Name(id="copy_of"),
                                   args=[gast.Subscript(value=gast.Name(id=name))])):
                pass
            case _:
                continue
        made = next((earlier for earlier in reversed(block[:k])
                     if any(n.id == name for n in names(earlier))), None)
        match made:
            case gast.Assign(targets=[gast.Name(id=target)], value=gast.Call(
                    func=gast.Attribute(value=gast.Name(id="np"), attr=maker))) \
                    if target == name and maker in _BLANK:
                found.append((stack, stmt))
    return found
