"""Stage 5b, part: which names of the forward sweep may hold a view of another's array.

A restore puts back a part of an array the forward sweep overwrote in
place (``y2[1:] = y2_stack.pop()``). A view made of the array before the
write (``y2_part = y2[1:]``, which the normalizer names for ``y2[1:] *=
e``) sees the write and the restore alike, so where the reverse sweep reads
the view, it needs the restore as much as a read of ``y2`` would
(stacks._needed_restores; for the restores of parts only: a name given a
new value leaves its old array, and the views of it, as they were). The views are over-approximated: any index of a
name, its ``.T``, ``.real``, ``.imag``, ``.flat``, a method that may give a
view, NumPy's functions that may, and a plain copy of the name (another
name for the same array). A value that is not a view costs at most a copy
kept that was not needed; a view missed would put no value back.
"""
import gast

from pullback.code.astutil import walk_statements

_ATTRIBUTES = frozenset(("T", "mT", "real", "imag", "flat"))
_METHODS = frozenset(("reshape", "view", "ravel", "transpose", "swapaxes", "squeeze",
                      "diagonal", "__getitem__"))
_FUNCTIONS = frozenset(("reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis",
                        "squeeze", "expand_dims", "broadcast_to", "asarray", "asanyarray",
                        "atleast_1d", "atleast_2d", "atleast_3d", "diagonal", "real", "imag",
                        "flip", "fliplr", "flipud", "rot90", "matrix_transpose", "permute_dims",
                        "split", "array_split", "hsplit", "vsplit", "dsplit", "unstack"))


def view_readers(forward):
    """``{name: the names that may hold a view of its array}``, views of views
    included."""
    direct = {}
    for stmt in walk_statements(forward):
        if isinstance(stmt, gast.Assign):
            base = _view_base(stmt.value)
            if base is not None:
                for target in stmt.targets:
                    for node in gast.walk(target):
                        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                            direct.setdefault(base, set()).add(node.id)
    readers = {}
    for base in direct:
        seen, todo = set(), [base]
        while todo:
            for view in direct.get(todo.pop(), ()):
                if view not in seen and view != base:
                    seen.add(view)
                    todo.append(view)
        readers[base] = seen
    return readers


def _view_base(value):
    """The name whose array ``value`` may be a view of (or be), else None."""
    match value:
        case gast.Name(id=name):
            return name
        case gast.Subscript(value=gast.Name(id=name)):
            return name
        case gast.Attribute(value=gast.Name(id=name), attr=attr) if attr in _ATTRIBUTES:
            return name
        case gast.Call(func=gast.Attribute(value=gast.Name(id=name), attr=method)) \
                if method in _METHODS:
            return name
        case gast.Call(func=gast.Attribute(attr=function), args=[gast.Name(id=name), *_]) \
                if function in _FUNCTIONS:
            return name
        case gast.Tuple(elts=elts) | gast.List(elts=elts):
            names = [_view_base(e) for e in elts]       # (the normalizer's packs of views)
            return next((n for n in names if n is not None), None)
    return None
