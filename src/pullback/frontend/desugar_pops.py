"""Stage 2 (reverse mode): ``y = items.pop()`` as a read and a shorter list.

    y = items.pop()          ->     y = items[-1]
                                    items = items[:-1]

Reverse mode then differentiates an item read and a new list, which it
already knows how to undo; forward mode keeps the pop (its tangent pops
the list of tangents beside it). Generated gradients pop their stacks, so
this is what makes a gradient with loops differentiable in reverse mode
(grad of grad). The new list copies references only, never arrays.
"""
import gast

from pullback.code.astutil import make_name


def desugar_pops(tree, local_names):
    """Rewrite every ``y = items.pop()`` (and bare ``items.pop()``) of a local list."""
    def rewrite(stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, rewrite(getattr(stmt, field)))
            owner = _popped(stmt, local_names)
            if owner is None:
                out.append(stmt)
                continue
            if isinstance(stmt, gast.Assign):
                out.append(_copy_location(gast.Assign(targets=stmt.targets, value=_item(owner, -1),
                                                      type_comment=None), stmt))
            shorter = gast.Subscript(value=make_name(owner), slice=gast.Slice(
                lower=None, upper=gast.Constant(value=-1, kind=None), step=None), ctx=gast.Load())
            out.append(_copy_location(gast.Assign(targets=[make_name(owner, gast.Store())],
                                                  value=shorter, type_comment=None), stmt))
        return out

    tree.body = rewrite(tree.body)
    return tree


def _popped(stmt, local_names):
    value = stmt.value if isinstance(stmt, (gast.Assign, gast.Expr)) else None
    if isinstance(stmt, gast.Assign) and not isinstance(stmt.targets[0], gast.Name):
        return None
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and value.func.attr == "pop" and isinstance(value.func.value, gast.Name) \
            and value.func.value.id in local_names and not value.args and not value.keywords:
        return value.func.value.id
    return None


def _item(owner, index):
    return gast.Subscript(value=make_name(owner), slice=gast.Constant(value=index, kind=None),
                          ctx=gast.Load())


def _copy_location(new, old):
    for node in gast.walk(new):
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if getattr(old, attr, None) is not None:
                setattr(node, attr, getattr(old, attr))
    new.pb_line = getattr(old, "pb_line", None)
    return new
