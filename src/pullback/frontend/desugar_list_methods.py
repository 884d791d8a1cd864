"""Stage 2, idioms (desugar_python.py): the list methods that change a list in
place, as slices and appends of a new list (which the later stages undo).

    xs.reverse()        ->  xs = xs[::-1]
    xs.extend(ys)       ->  for item in ys: xs.append(item)      ([a, b]: two appends)
    xs.insert(i, v)     ->  tail = xs[i:]; xs = list(xs[:i]); xs.append(v); for item in tail: xs.append(item)
    y = xs.pop(i)       ->  y = xs[i]; tail = xs[i + 1:]; xs = list(xs[:i]); for item in tail: ...
    xs.remove(v)        ->  the same at position_of(xs, v) (no derivative flows through v)

``xs`` is then a new list, so no other name may share the old one: every
other read of ``xs`` must be one that copies or only reads it (an index, a
loop, len(), np.array(), ...); otherwise the method is refused. ``xs.pop()``
is left to desugar_pops.py (reverse mode) and forward mode as before.
"""
import gast

from pullback.code.astutil import make_name
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.blocks import map_blocks, quoted
from pullback.frontend.parsing import parameter_names

_METHODS = ("reverse", "extend", "insert", "pop", "remove")
# Calls that read a list without keeping it (the result is never the list itself).
_READERS = frozenset({"len", "sum", "min", "max", "sorted", "list", "tuple", "any", "all"})
# Calls whose iterator reads the list later: only where a loop reads it at once.
_LAZY_READERS = frozenset({"enumerate", "zip", "reversed", "map", "filter"})


def desugar_list_methods(tree, namer, location):
    """Rewrite the calls of _METHODS on the function's own lists (see the module docstring)."""
    params = set(parameter_names(tree))
    rewriter = _ListMethods(tree, namer, location, params)
    tree.body = map_blocks(tree.body, rewriter.statement)
    return tree


class _ListMethods:
    def __init__(self, tree, namer, location, params):
        self.tree, self.namer, self.location, self.params = tree, namer, location, params

    def statement(self, stmt):
        call = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
        match call:
            case gast.Call(func=gast.Attribute(value=gast.Name(id=owner), attr=method)) \
                    if method in _METHODS and owner not in self.params \
                    and not (method == "pop" and _plain_pop(call)):
                pass
            case _:
                return [stmt]
        if isinstance(stmt, gast.Assign) and method != "pop" or call.keywords:
            return [stmt]       # not list methods (their value is None): left to the checks
        self.check_owned(owner, call)
        return getattr(self, method)(stmt, owner, call)

    def check_owned(self, owner, call):
        """Refuse when another name may share the list ``owner`` names."""
        parents = {id(c): n for n in gast.walk(self.tree) for c in gast.iter_child_nodes(n)}
        for node in gast.walk(self.tree):
            if isinstance(node, (gast.Assign, gast.For)) and not _makes_new_list(node, owner):
                raise refuse(UnsupportedSyntax, f"{owner}.{call.func.attr}(...) changes a "
                             f"list that another name may share ({owner} is bound here to a "
                             "value that is not a new list)", node, self.location,
                             f"Work on a copy: {owner} = list(...).")
        for node in gast.walk(self.tree):
            if isinstance(node, gast.Name) and node.id == owner and isinstance(node.ctx, gast.Load):
                parent = parents.get(id(node))
                if not _only_reads(node, parent, parents.get(id(parent))):
                    raise refuse(UnsupportedSyntax, f"{owner}.{call.func.attr}(...) changes a "
                                 f"list that another name may share ({owner} is passed on here)",
                                 node, self.location, f"Work on a copy: {owner} = list({owner}).")

    def reverse(self, stmt, owner, call):
        return quoted("xs = xs[::-1]", stmt, xs=owner)

    def extend(self, stmt, owner, call):
        (items,) = call.args
        if isinstance(items, (gast.List, gast.Tuple)):
            return [s for e in items.elts for s in quoted("xs.append(e)", stmt, xs=owner, e=e)]
        if isinstance(items, gast.Name) and items.id == owner:
            raise refuse(UnsupportedSyntax, f"{owner}.extend({owner}) is not supported", call,
                         self.location, f"Extend it with a copy: {owner}.extend(list({owner})).")
        return quoted("for item in items:\n    xs.append(item)", stmt, xs=owner, items=items,
                      item=self.namer.fresh("item"))

    def insert(self, stmt, owner, call):
        index, value = call.args
        before, index = self.atom(index, "position", stmt)
        bound, value = self.atom(value, "value", stmt)
        tail = self.namer.fresh(owner + "_tail")
        return before + bound + quoted(
            "tail = xs[i:]\nxs = list(xs[:i])\nxs.append(v)\nfor item in tail:\n    xs.append(item)",
            stmt, xs=owner, i=index, v=value, tail=tail, item=self.namer.fresh("item"))

    def pop(self, stmt, owner, call):
        (index,) = call.args
        if isinstance(index, gast.Constant) and index.value == -1:
            call.args = []          # xs.pop(-1) is xs.pop()
            return [stmt]
        if isinstance(index, gast.Constant) and isinstance(index.value, int) and index.value >= 0:
            before = []
        else:
            position = self.namer.fresh("position")
            before = quoted("p = position_in(xs, i)", stmt, p=position, xs=owner, i=index)
            index = make_name(position)
        if isinstance(stmt, gast.Assign):
            before += quoted("y = xs[i]", stmt, xs=owner, i=index)
            before[-1].targets = stmt.targets
        return before + self.without(stmt, owner, index)

    def remove(self, stmt, owner, call):
        (value,) = call.args
        position = self.namer.fresh("position")
        return quoted("p = position_of(xs, v)", stmt, p=position, xs=owner, v=value) \
            + self.without(stmt, owner, make_name(position))

    def without(self, stmt, owner, index):
        """``owner`` without its item at ``index`` (a name or a literal)."""
        tail = self.namer.fresh(owner + "_tail")
        return quoted("tail = xs[i + 1:]\nxs = list(xs[:i])\nfor item in tail:\n    xs.append(item)",
                      stmt, xs=owner, i=index, tail=tail, item=self.namer.fresh("item"))

    def atom(self, node, base, stmt):
        """(statements binding ``node`` to a name, the name) unless it is a literal or a name."""
        if isinstance(node, (gast.Constant, gast.Name)):
            return [], node
        name = self.namer.fresh(base)
        return quoted("name = value", stmt, name=name, value=node), make_name(name)


def _makes_new_list(node, owner):
    """Does ``node``, if it binds ``owner``, bind it to a list no other name holds?"""
    targets = node.targets if isinstance(node, gast.Assign) else [node.target]
    if not any(isinstance(n, gast.Name) and n.id == owner and isinstance(n.ctx, gast.Store)
               for t in targets for n in gast.walk(t)):
        return True
    match node:
        case gast.Assign(targets=[gast.Name()], value=value):
            pass
        case _:
            return False        # unpacked, or a loop variable: an item of another sequence
    match value:
        case gast.List() | gast.ListComp() | gast.BinOp():
            return True
        case gast.Subscript(slice=gast.Slice()):
            return True         # a slice of a list is a copy
        case gast.Call(func=gast.Name(id="list" | "sorted")):
            return True
    return False


def _plain_pop(call):
    return not call.args and not call.keywords


def _only_reads(name, parent, grandparent):
    """Does this read of a list keep no reference to it?"""
    match parent:
        case gast.Call(func=gast.Name(id=called)) if called in _LAZY_READERS:
            return _only_reads(parent, grandparent, None)
        case gast.Subscript(value=value) | gast.Attribute(value=value) if value is name:
            return True
        case gast.For(iter=iterable) | gast.comprehension(iter=iterable) if iterable is name:
            return True
        case gast.Call(func=gast.Name(id=called)) if called in _READERS:
            return True
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"))):
            return True     # np.array(xs), np.sum(xs): NumPy copies or reads
        case gast.Return() | gast.Compare():
            return True
    return False
