"""Stage 2, first: dicts read as lists the later stages can index and differentiate.

    d.items()  d.values()  d.keys()  ->  dict_items(d)  dict_values(d)  dict_keys(d)
    d.get(k, default)                ->  dict_get(d, k, default)
    dict(a=x, b=y)                   ->  {"a": x, "b": y}
    dict(pairs), {k: v for ...}      ->  dict_from_pairs(pairs), dict_from_pairs([(k, v) for ...])

The helpers (runtime/containers.py) return lists, so ``for k, v in d.items()``
becomes an indexed loop like any other; their rules are in templates/containers.py.
"""
import builtins

import gast

from pullback.code.naming import unused_name
from pullback.code.quote import quote_expr
from pullback.runtime import containers

_METHODS = {"items": (containers.dict_items, 0), "values": (containers.dict_values, 0),
            "keys": (containers.dict_keys, 0), "get": (containers.dict_get, (1, 2))}


def read_dicts(tree, parsed):
    """``tree`` with dict methods, ``dict(...)`` and dict comprehensions rewritten."""
    helpers = {}

    def helper(function):
        name = function.__name__
        if name in parsed.local_names:
            return None         # the user's own name: leave the call as written
        try:
            if parsed.free_value(name) is not function:
                return None
        except NameError:
            pass
        helpers[name] = function
        return name

    class Rewrite(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            func = node.func
            if isinstance(func, gast.Attribute) and func.attr in _METHODS and not node.keywords \
                    and not any(isinstance(a, gast.Starred) for a in node.args) \
                    and not _static(func.value, parsed):
                function, counts = _METHODS[func.attr]
                if len(node.args) in (counts if isinstance(counts, tuple) else (counts,)):
                    name = helper(function)
                    if name is not None:
                        return gast.Call(func=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                                        type_comment=None),
                                         args=[func.value] + node.args, keywords=[])
            if isinstance(func, gast.Name) and func.id == "dict" and _is_builtin(parsed, "dict"):
                return self.dict_call(node)
            return node

        def dict_call(self, node):
            if not node.args and all(k.arg is not None for k in node.keywords):
                return gast.Dict(keys=[gast.Constant(value=k.arg, kind=None) for k in node.keywords],
                                 values=[k.value for k in node.keywords])
            if len(node.args) == 1 and not node.keywords:
                name = helper(containers.dict_from_pairs)
                if name is not None:
                    argument = node.args[0]
                    if isinstance(argument, gast.Call) and isinstance(argument.func, gast.Name) \
                            and argument.func.id == "zip" and _is_builtin(parsed, "zip"):
                        # dict(zip(keys, values)): the pairs as a list the loop stages read
                        key, value = _fresh(tree, parsed, "key"), _fresh(tree, parsed, "value")
                        argument = gast.ListComp(
                            elt=quote_expr("(k, v)", k=key, v=value),
                            generators=[gast.comprehension(
                                target=quote_expr("(k, v)", k=key, v=value),
                                iter=argument, ifs=[], is_async=0)])
                        _store(argument.generators[0].target)
                    return gast.Call(func=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                                    type_comment=None),
                                     args=[argument], keywords=[])
            return node

        def visit_DictComp(self, node):
            self.generic_visit(node)
            name = helper(containers.dict_from_pairs)
            if name is None:
                return node
            pairs = gast.ListComp(elt=gast.Tuple(elts=[node.key, node.value], ctx=gast.Load()),
                                  generators=node.generators)
            return gast.Call(func=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                            type_comment=None), args=[pairs], keywords=[])

    tree = Rewrite().visit(tree)
    parsed.statics.update(helpers)
    return tree


def _static(node, parsed):
    """A module or another global (``os.environ.get``): not a dict of the function's."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id not in parsed.local_names \
        and node.id not in _parameters(parsed)


def _parameters(parsed):
    args = parsed.tree.args
    return {a.id for a in args.posonlyargs + args.args + args.kwonlyargs} | {
        a.id for a in (args.vararg, args.kwarg) if a is not None}


def _is_builtin(parsed, name):
    """Does ``name`` mean Python's builtin of that name in the function?"""
    if name in parsed.local_names:
        return False
    try:
        return parsed.free_value(name) is getattr(builtins, name)
    except NameError:
        return False


def _fresh(tree, parsed, base):
    """A name neither the function nor its module uses."""
    taken = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)} | set(parsed.local_names)
    return unused_name(base, taken | set(parsed.function.__globals__))


def _store(target):
    for node in gast.walk(target):
        if isinstance(node, gast.Name):
            node.ctx = gast.Store()
