"""Stage 2, first: in-place updates of arguments. A differentiated function
that changes an argument in place works on a private copy of it, so the
caller's arrays are never modified; NumPy's in-place forms are rewritten
into subscript writes, which the later stages differentiate.

    np.add(a, b, out=a)     ->  a[...] = np.add(a, b)
    a.fill(v)               ->  a[...] = v
    a.sort(axis=0)          ->  a[...] = np.sort(a, axis=0)
    x[0] = v  (x a parameter of the function the user differentiates)
                            ->  x = x.copy() at entry, then x[0] = v

The written arguments are found by the aliasing analysis (aliasing.py,
summary mode): a write through a view of ``x``, into an item of a list ``x``,
or by a NumPy function all count. The copy is as deep as the writes reach
(the items of a list argument are copied when one of them is written);
deeper writes are refused. Since the copy separates two arguments the caller
passed as one array (``f(x, x)``), where Python would change both, each call
first asserts that a written argument shares no memory with another one.
"""
import gast
import numpy

from pullback.code.naming import unused_name
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.aliasing import written_parameters
from pullback.frontend.parsing import parameter_names
from pullback.runtime.ownership import shares_memory_with

# The NumPy functions (besides ufuncs) whose ``out=a`` is ``a[...] = f(...)``.
_OUT_FUNCTIONS = (numpy.clip,)
# sort's keywords for arrays (a list's sort takes key= and reverse=).
_SORT_KEYWORDS = frozenset({"axis", "kind", "order", "stable"})


def own_written_arguments(tree, parsed, root):
    """``tree`` with NumPy's in-place forms rewritten and, for ``root`` (the
    function the user differentiates, whose caller is the user), a private
    copy of each argument it writes into."""
    tree = rewrite_in_place_calls(tree, parsed)
    if root:
        tree = copy_written_arguments(tree, parsed)
    return tree


# -- in-place forms -> subscript writes ----------------------------------------------

def rewrite_in_place_calls(tree, parsed):
    """``np.<ufunc>(a, b, out=a)``, ``a.fill(v)``, ``a.sort(...)`` as
    ``a[...] = ...`` (statements; an assigned ``y = np.add(a, b, out=a)`` also
    names ``a`` as ``y``)."""
    numpy_name = _numpy_name(tree, parsed)

    class Rewrite(gast.NodeTransformer):
        def visit_Expr(self, node):
            written = _in_place_write(node.value, parsed, numpy_name)
            return node if written is None else _located(written, node)

        def visit_Assign(self, node):
            written = _in_place_write(node.value, parsed, numpy_name)
            if written is None or not all(isinstance(t, gast.Name) for t in node.targets):
                return node
            owner = written.targets[0].value
            alias = gast.Assign(targets=node.targets, value=_load(owner.id), type_comment=None)
            return [_located(written, node), _located(alias, node)]

    return gast.fix_missing_locations(Rewrite().visit(tree))


def _in_place_write(call, parsed, numpy_name):
    """The ``a[...] = value`` statement a call means, or None (not one of ours)."""
    if not isinstance(call, gast.Call):
        return None
    func = call.func
    if isinstance(func, gast.Attribute) and func.attr in ("fill", "sort") and \
            isinstance(func.value, gast.Name) and func.value.id in parsed.local_names:
        return _method_write(call, numpy_name)
    out = [k for k in call.keywords if k.arg == "out"]
    if not out or any(k.arg == "where" for k in call.keywords):
        return None         # where=: out keeps its entries where the mask is False
    target = out[0].value
    if isinstance(target, gast.Tuple) and len(target.elts) == 1:
        target = target.elts[0]
    if not isinstance(target, gast.Name) or not _out_function(func, parsed):
        return None         # check_supported refuses the other forms
    value = gast.Call(func=func, args=call.args,
                      keywords=[k for k in call.keywords if k.arg != "out"])
    return _write_all(target.id, value)


def _method_write(call, numpy_name):
    func = call.func
    if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)):
        return None
    owner = func.value.id
    if func.attr == "fill" and len(call.args) == 1 and not call.keywords:
        return _write_all(owner, call.args[0])
    if func.attr == "sort" and numpy_name and len(call.args) <= 1 and \
            all(k.arg in _SORT_KEYWORDS for k in call.keywords):
        keywords = call.keywords + ([gast.keyword(arg="axis", value=call.args[0])]
                                    if call.args else [])
        sort = gast.Attribute(value=_load(numpy_name), attr="sort", ctx=gast.Load())
        return _write_all(owner, gast.Call(func=sort, args=[_load(owner)], keywords=keywords))
    return None


def _out_function(func, parsed):
    """Whether ``func`` names a NumPy ufunc (or np.clip) the function can see."""
    chain = []
    while isinstance(func, gast.Attribute):
        chain.append(func.attr)
        func = func.value
    if not isinstance(func, gast.Name) or func.id in parsed.local_names:
        return False
    try:
        value = parsed.free_value(func.id)
        for attribute in reversed(chain):
            value = getattr(value, attribute)
    except (NameError, AttributeError):
        return False
    return isinstance(value, numpy.ufunc) or any(value is f for f in _OUT_FUNCTIONS)


def _numpy_name(tree, parsed):
    """A name through which the function sees NumPy (``np``, ``xp``), or None."""
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id not in parsed.local_names:
            try:
                if parsed.free_value(node.id) is numpy:
                    return node.id
            except NameError:
                continue
    return None


def _write_all(name, value):
    target = gast.Subscript(value=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                            type_comment=None),
                            slice=gast.Constant(value=Ellipsis, kind=None), ctx=gast.Store())
    return gast.Assign(targets=[target], value=value, type_comment=None)


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _located(new, old):
    for node in gast.walk(new):
        if hasattr(node, "lineno") or isinstance(node, (gast.stmt, gast.expr)):
            gast.copy_location(node, old)
    return new


# -- private copies of written arguments ------------------------------------------

def copy_written_arguments(tree, parsed):
    """A private copy, at entry, of each parameter the function writes into."""
    written = written_parameters(tree, parsed.location, parsed)
    if not written:
        return tree
    params = parameter_names(tree)
    used = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
    check, index = _helper_name("shares_memory_with", used, parsed), unused_name("item", used)
    numpy_name = _numpy_name(tree, parsed) or unused_name("np", used)
    entry = []
    for name in params:
        if name not in written:
            continue
        depth, node = written[name]
        user = _backward_of(node, parsed) if depth > 1 else None
        if user:
            raise refuse(UnsupportedSyntax,
                         f"this derivative calls {node.func.id}, the backward sweep of your "
                         f"function {user}, which restores what it overwrote in part of an "
                         f"array; a derivative of this derivative (hvp, hessian, a gradient of "
                         f"a gradient) does not follow such restores through a call yet",
                         node, parsed.location,
                         f"Do the writes in the function you differentiate (not in {user}, "
                         f"which it calls), or build the array in {user} without writing into "
                         f"part of it (np.concatenate, np.where).")
        if depth > 1:
            raise refuse(UnsupportedSyntax,
                         f"this writes into an item of an item of the argument {name!r} "
                         f"(a list of lists), which pullback would have to copy that deep",
                         node, parsed.location,
                         f"Make the copy yourself at the start: {name} = "
                         f"[[a.copy() for a in row] for row in {name}] (or work on new values).")
        others = [p for p in params if p != name]
        if others:
            entry.append(_check_statement(check, name, others, tree.name))
        entry += _copy_statements(name, depth, index, numpy_name)
        if depth:
            parsed.statics.setdefault(numpy_name, numpy)
    parsed.statics[check] = shares_memory_with
    parsed.local_names = frozenset(parsed.local_names | {index})
    first = 1 if _has_docstring(tree) else 0
    for statement in entry:
        _at_line(statement, tree.lineno)
    tree.body[first:first] = entry
    return gast.fix_missing_locations(tree)


def _backward_of(node, parsed):
    """Where ``node`` calls the backward sweep pullback generated for one of the
    user's functions (a derivative differentiated again): that function's name."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)):
        return None
    try:
        links = parsed.free_value("__pullback_links__")
    except NameError:
        return None
    made_from = links.get(node.func.id) if isinstance(links, dict) else None
    return made_from[0][-1] if made_from and node.func.id.endswith("_backward") else None


def _check_statement(check, name, others, function):
    """``if shares_memory_with(x, y, z): raise ValueError("...")``: the caller did
    not pass ``x`` as (part of) another argument (an if, not an assert, which
    ``python -O`` would drop)."""
    listed = ", ".join(others)
    message = (f"{function} writes into its argument {name!r}, which shares memory with "
               f"another argument ({listed}): pullback works on a private copy of {name} "
               f"and would not see the change through the other; pass separate arrays")
    return gast.parse(f"if {check}({name}, {listed}):\n    raise ValueError({message!r})\n").body[0]


def _copy_statements(name, depth, index, numpy_name):
    """``x = x.copy()``; where an item of ``x`` is written, a list ``x`` (or
    tuple) becomes a list of copies of its items (an array's copy already
    owns its rows)."""
    if depth == 0:
        return gast.parse(f"{name} = {name}.copy()").body
    return gast.parse(f"if hasattr({name}, 'shape'):\n"
                      f"    {name} = {numpy_name}.copy({name})\n"
                      f"else:\n"
                      f"    {name} = [{index}.copy() for {index} in {name}]\n").body


def _helper_name(name, used, parsed):
    """The helper's own name where it means the helper (generated code differentiated
    again already calls it), else a fresh one."""
    if name not in parsed.local_names:
        try:
            if parsed.free_value(name) is shares_memory_with:
                return name
        except NameError:
            pass
    return unused_name(name, used)


def _has_docstring(tree):
    first = tree.body[0] if tree.body else None
    return isinstance(first, gast.Expr) and isinstance(first.value, gast.Constant) and \
        isinstance(first.value.value, str)


def _at_line(statement, line):
    for node in gast.walk(statement):
        if isinstance(node, (gast.stmt, gast.expr)):
            node.lineno, node.col_offset = line, 0
            node.end_lineno, node.end_col_offset = line, 0
