"""share_shape_references: a value read only for its shape -> one of that shape kept anyway.

    add = x @ W + b                     h1 = np.tanh(x @ W + b)
    h1 = np.tanh(add)           ->      ...
    ...                                 dh1 = matmul_grad_lhs(g, h1, V)
    dh1 = matmul_grad_lhs(g, add, V)

The rule. An argument a runtime helper reads only for its shape (declared
on the helper: ``unbroadcast``'s second, ``matmul_grad_lhs``'s ``a``,
``matmul_grad_rhs``'s ``b``, ``unreduce``'s ``x``; not ``zeros_adjoint``,
which also takes the dtype) may be any value of that shape. A name the
reverse sweep reads only there is swapped for one the shape facts say has
the same shape and that the reverse sweep reads anyway, or a parameter.

Why it holds for every program: the name swapped in is assigned once,
outside loops and branches (a parameter counts as an assignment), so it
holds one value for the whole call, and the shape facts say the two shapes
are equal wherever the helper runs (a name assigned in a loop is in a class
only where every length of every value it takes is known, as the class's
values' are); the helper's result depends on nothing else of the argument. What it gives: the forward sweep need not keep the value (nor
name it apart: its expression goes back into the one that reads it).

Only with shape facts. Knowing each array's rank and length-1 axes (issue
16) removes the ``unbroadcast`` calls whose operand has the result's shape,
but not the references the helpers read for lengths: this pass still
chooses which kept value gives them.
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
        other = next((k for k in kept if k != name and k not in shapes.nested
                      and shapes.same_shape(name, k)), None)
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
