"""Stage 2, idioms (desugar_python.py): Python's iterator builtins as the list
comprehensions and indexing the later stages differentiate.

    map(f, xs)              ->  [f(v) for v in xs]        (a lambda's body inlined)
    filter(f, xs)           ->  [v for v in xs if f(v)]
    zip(*rows)              ->  [tuple([row[j] for row in rows]) for j in range(shortest_length(rows))]
    sorted(xs, key=k)       ->  [xs[i] for i in sorted_order([k(v) for v in xs])]
    max(xs, key=k)          ->  xs[first_largest([k(v) for v in xs])]

An order or a position is computed from the primal values by a helper of
runtime/sequences.py: no derivative flows through it, only through the items
it selects (at tied keys, the item Python picks). map, filter and zip make
one-pass iterators: they are rewritten where they are consumed once (a loop,
list(), sum(), ...), and refused where a list would behave otherwise.
"""
import builtins

import gast

from pullback.code.astutil import clone, make_name
from pullback.code.quote import quote_expr
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.idiom_kit import assign

# Calls that read an iterator argument once, to the end.
_CONSUMERS = frozenset({"list", "tuple", "sum", "min", "max", "sorted", "any", "all"})
_LAZY = frozenset({"map", "filter", "zip", "enumerate"})


class IteratorRewrites:
    """``rewrite(node, site)`` for idiom_kit.rewrite_expressions."""

    def __init__(self, tree, parsed, namer):
        self.parsed, self.namer, self.location = parsed, namer, parsed.location
        self.consumed = _consumed_once(tree, self.builtin_name)

    def builtin_name(self, call):
        """The name of the builtin ``call`` calls (not shadowed), or None."""
        func = call.func if isinstance(call, gast.Call) else None
        if not isinstance(func, gast.Name) or not self.parsed.is_free(func.id) \
                or not hasattr(builtins, func.id):
            return None
        try:
            value = self.parsed.free_value(func.id)
        except NameError:
            return None
        return func.id if value is getattr(builtins, func.id) else None

    def __call__(self, node, site):
        name = self.builtin_name(node)
        if name in ("map", "filter") or (name == "zip" and _unpacks_rows(node)):
            if id(node) not in self.consumed:
                raise refuse(UnsupportedSyntax, f"{name}(...) makes a one-pass iterator, "
                             "which is differentiated only where it is read once", node,
                             self.location, f"Write list({name}(...)), or loop over it directly.")
            return getattr(self, name)(node)
        if name == "sorted" or (name in ("min", "max") and _keyword(node, "key") is not None):
            return self.ordered(node, name, site)
        return None

    # -- map, filter, zip(*rows) ----------------------------------------------

    def map(self, node):
        if len(node.args) < 2 or node.keywords:
            return None
        function, iterables = node.args[0], node.args[1:]
        names, element = self.applied(function, len(iterables), node)
        return _comprehension(element, names, iterables)

    def filter(self, node):
        if len(node.args) != 2 or node.keywords:
            return None
        function, iterable = node.args
        if isinstance(function, gast.Constant) and function.value is None:
            item = self.namer.fresh("item")
            return _comprehension(make_name(item), [item], [iterable], make_name(item))
        (item,), condition = self.applied(function, 1, node)     # a lambda's parameter, or fresh
        return _comprehension(make_name(item), [item], [iterable], condition)

    def zip(self, node):
        rows = node.args[0].value
        row, column = self.namer.fresh("row"), self.namer.fresh("column")
        return quote_expr("[tuple([r[j] for r in rows]) for j in range(shortest_length(rows))]",
                          r=row, j=column, rows=rows)

    def applied(self, function, count, node):
        """(parameter names, ``function`` applied to them): a lambda's body
        with its own parameters, else a call of a function named once."""
        if isinstance(function, gast.Lambda):
            args = function.args
            if not (args.defaults or args.kw_defaults or args.vararg or args.kwarg
                    or args.kwonlyargs or args.posonlyargs) and len(args.args) == count:
                return [a.id for a in args.args], clone(function.body)
            raise refuse(UnsupportedSyntax, f"a lambda given to {node.func.id} must take "
                         f"{count} plain parameter(s)", function, self.location,
                         "Write a def and pass its name.")
        if not _named(function):
            raise refuse(UnsupportedSyntax, f"the function given to {node.func.id} must be a "
                         "name or a lambda (it is called once per item)", function,
                         self.location, "Assign the function to a name first.")
        names = [self.namer.fresh("item") for _ in range(count)]
        return names, gast.Call(func=clone(function), args=[make_name(n) for n in names],
                                keywords=[])

    # -- sorted, and min/max with key= -----------------------------------------

    def ordered(self, node, name, site):
        key, reverse = _keyword(node, "key"), _keyword(node, "reverse")
        unknown = [k.arg for k in node.keywords if k.arg not in ("key", "reverse")]
        if unknown or (reverse is not None and name != "sorted") or not node.args \
                or (name == "sorted" and len(node.args) != 1):
            raise refuse(UnsupportedSyntax, f"{name}(...) with "
                         f"{', '.join(map(repr, unknown)) or 'these arguments'} is not "
                         "differentiable", node, self.location,
                         f"Call {name} with the items and key= only.")
        items = node.args[0] if len(node.args) == 1 else gast.List(
            elts=node.args, ctx=gast.Load())        # max(a, b, key=k)
        if not isinstance(items, gast.Name):
            if isinstance(items, gast.GeneratorExp):
                items = gast.ListComp(elt=items.elt, generators=items.generators)
            bound = self.namer.fresh("items")
            site.hoist([assign(bound, items, site.stmt)], f"{name}(...) of an expression", node)
            items = make_name(bound)
        if key is None or (isinstance(key, gast.Constant) and key.value is None):
            keys = clone(items)
        else:
            (item,), keyed = self.applied_key(key, name)
            keys = _comprehension(keyed, [item], [items])
        if name != "sorted":
            position = "first_largest" if name == "max" else "first_smallest"
            return quote_expr(f"items[{position}(keys)]", items=items, keys=keys)
        order = quote_expr("sorted_order(keys, reverse)", keys=keys, reverse=reverse) \
            if reverse is not None else quote_expr("sorted_order(keys)", keys=keys)
        index = self.namer.fresh("index")
        return quote_expr("[items[i] for i in order]", items=items, i=index, order=order)

    def applied_key(self, key, name):
        if isinstance(key, gast.Lambda) or _named(key):
            node = gast.Call(func=make_name(name), args=[], keywords=[])
            return self.applied(key, 1, node)
        raise refuse(UnsupportedSyntax, f"the key given to {name} must be a name or a lambda "
                     "(it is called once per item)", key, self.location,
                     "Assign the key function to a name first.")


def _keyword(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _named(node):
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name)


def _unpacks_rows(call):
    """``zip(*rows)``: one starred name, nothing else."""
    return len(call.args) == 1 and not call.keywords and isinstance(call.args[0], gast.Starred) \
        and isinstance(call.args[0].value, gast.Name)


def _comprehension(element, names, iterables, condition=None):
    if len(iterables) == 1:
        target = make_name(names[0], gast.Store()) if len(names) == 1 else gast.Tuple(
            elts=[make_name(n, gast.Store()) for n in names], ctx=gast.Store())
        iterable = clone(iterables[0])
    else:
        target = gast.Tuple(elts=[make_name(n, gast.Store()) for n in names], ctx=gast.Store())
        iterable = gast.Call(func=make_name("zip"), args=[clone(i) for i in iterables], keywords=[])
    generator = gast.comprehension(target=target, iter=iterable,
                                   ifs=[condition] if condition is not None else [], is_async=0)
    return gast.ListComp(elt=element, generators=[generator])


def _consumed_once(tree, builtin_name):
    """ids of the calls of ``tree`` whose value is read once, to its end: a
    loop's or a comprehension's iterable, an argument of list(), sum(), ...,
    unpacked into names; and a lazy call (zip, enumerate) read so itself."""
    holders = {}
    for node in gast.walk(tree):
        if isinstance(node, gast.For):
            holders[id(node.iter)] = True
        elif isinstance(node, gast.comprehension):
            holders[id(node.iter)] = True
        elif isinstance(node, gast.Assign) and isinstance(node.targets[0], (gast.Tuple, gast.List)):
            holders[id(node.value)] = True
        elif isinstance(node, gast.Call):
            name = builtin_name(node)
            if name in _CONSUMERS and node.args:
                holders[id(node.args[0])] = True
            elif name in ("zip", "enumerate"):
                for argument in node.args:
                    holders[id(argument)] = node      # consumed once if the lazy call is
    consumed = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Call) and builtin_name(node) in _LAZY:
            holder = holders.get(id(node))
            while holder is not None and holder is not True:
                holder = holders.get(id(holder))
            if holder is True:
                consumed.add(id(node))
    return consumed
