"""share_shape_references: a value read only for its shape -> one of that shape kept anyway.

    add = x @ W + b                     h1 = np.tanh(x @ W + b)
    h1 = np.tanh(add)           ->      ...
    ...                                 dadd = unbroadcast(g, h1)
    dadd = unbroadcast(g, add)

A value the reverse sweep reads only for its shape is swapped for one of
the same shape (by the shape facts) that it reads anyway, or for a
parameter: the forward sweep then need not keep it, and its expression goes
back into the one that reads it. Only with shape facts.
"""
import gast

from pullback.code.astutil import make_name, names, walk
from pullback.runtime.declare import facts_by_name


def share_shape_references(fn, facts):
    """``unbroadcast(g, add)`` -> ``unbroadcast(g, h1)`` where ``h1 = np.tanh(add)``."""
    shapes = facts.shapes
    if shapes is None:
        return fn
    references, reads = [], {}
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) != "reverse":
            continue
        shape_only = set()
        for node in walk(stmt):
            if node.__class__ is gast.Call:
                for i in _shape_only_positions(node):
                    if i < len(node.args) and isinstance(node.args[i], gast.Name):
                        references.append((node, i))
                        shape_only.add(id(node.args[i]))
        for node in names(stmt):
            if node.ctx.__class__ is gast.Load and id(node) not in shape_only:
                reads[node.id] = reads.get(node.id, 0) + 1
    params = [a.id for a in fn.args.args]
    kept = params + sorted(name for name in reads if name in shapes)
    for call, i in references:
        name = call.args[i].id
        if reads.get(name) or name in params:
            continue                # kept anyway
        other = next((k for k in kept if k != name and shapes.same_shape(name, k)), None)
        if other is not None:
            call.args[i] = make_name(other)
    return fn


def _shape_only_positions(call):
    """Positions of ``call``'s arguments that it reads only for their shape
    (not their dtype: zeros_adjoint, add_at and scatter make zeros of the
    argument's dtype)."""
    match call.func:
        case gast.Name(id=name) if name not in ("shape", "size", "ndim"):
            pass                    # a runtime helper (its name is reserved)
        case gast.Attribute(value=gast.Name(id="np" | "numpy"), attr=name):
            pass
        case _:
            return ()
    facts = facts_by_name(name)
    return facts.shape_only if not facts.dtype else ()
