"""Stage 2, in desugar_python: a nested def that assigns a variable of the
enclosing function (``nonlocal s``) takes it and returns its new value.

    def acc(v):                        def acc(v, *, s):
        nonlocal s                         s = s + v * v
        s = s + v * v                      return s
    acc(x)                             s = acc(x, s=s)
    y = acc(x)   (acc returns r)       s, y = acc(x, s=s)      (acc returns s, r)

lift.py then makes ``acc`` a function of its own, as for any nested def.
Refused, with the line: the def used other than called on a statement of
its own (as a value, inside an expression, by another nested def or itself),
and ``nonlocal`` two defs deep. A ``nonlocal`` name the def only reads is
just captured (lift.py), as it would be without the declaration.
"""
import gast

from pullback.code.astutil import make_name, own_nodes
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.idiom_kit import assign, located
from pullback.frontend.parsing import assigned_names

_BLOCKS = ("body", "orelse", "finalbody")


def pass_nonlocal_names(tree, namer, location):
    """``tree`` with its nested defs' ``nonlocal`` variables passed in and out."""
    rewritten = {}
    for definition in _nested_defs(tree.body):
        names = _declared(definition, location)
        if not names:
            continue
        written = [n for n in names if n in set(assigned_names(definition))]
        if written:
            rewritten[definition.name] = (_return_state(definition, written), written)
    if rewritten:
        _check_uses(tree, rewritten, location)
        tree.body = _block(tree.body, rewritten, namer, location)
    return tree


def _nested_defs(stmts):
    """The defs directly in the function (in its blocks, not inside other defs)."""
    for stmt in stmts:
        if isinstance(stmt, gast.FunctionDef):
            yield stmt
            continue
        for field in _BLOCKS:
            yield from _nested_defs(getattr(stmt, field, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from _nested_defs(handler.body)




def _declared(definition, location):
    """The names ``definition`` declares nonlocal (the declarations removed)."""
    for inner in gast.walk(definition):
        if isinstance(inner, gast.FunctionDef) and inner is not definition \
                and any(isinstance(n, gast.Nonlocal) for n in gast.walk(inner)):
            node = next(n for n in gast.walk(inner) if isinstance(n, gast.Nonlocal))
            raise refuse(UnsupportedSyntax, "'nonlocal' in a def nested in a nested def is not "
                         "supported", node, location,
                         "Pass the variable in and return its new value.")
    names = []
    for node in own_nodes(definition):
        if isinstance(node, gast.Nonlocal):
            names += [n for n in node.names if n not in names]
    if names:
        _drop_declarations(definition)
    return names


def _drop_declarations(node):
    for field in _BLOCKS:
        block = getattr(node, field, None)
        if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
            kept = [s for s in block if not isinstance(s, gast.Nonlocal)]
            setattr(node, field, kept or [located(gast.Pass(), block[0])])
            for stmt in kept:
                if not isinstance(stmt, gast.FunctionDef):
                    _drop_declarations(stmt)


def _return_state(definition, names):
    """The variables become keyword parameters, and every return gives them back;
    returns whether the def returns a value of its own too."""
    valued = any(isinstance(n, gast.Return) and n.value is not None for n in own_nodes(definition))
    definition.args.kwonlyargs = definition.args.kwonlyargs + [make_name(n, gast.Param()) for n in names]
    definition.args.kw_defaults = definition.args.kw_defaults + [None] * len(names)
    state = [make_name(n) for n in names]

    def returned(value):
        if valued:
            return gast.Tuple(elts=state + [value or gast.Constant(value=None, kind=None)],
                              ctx=gast.Load())
        return state[0] if len(state) == 1 else gast.Tuple(elts=state, ctx=gast.Load())
    for node in list(own_nodes(definition)):
        if isinstance(node, gast.Return):
            node.value = located(returned(node.value), node)
    if not isinstance(definition.body[-1], gast.Return):
        definition.body.append(located(gast.Return(value=returned(None)), definition.body[-1]))
    return valued


def _check_uses(tree, rewritten, location):
    """Every use is a call on a statement of its own, in the enclosing function."""
    allowed = set()
    for stmt in _statements(tree.body):
        value = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
        if isinstance(stmt, gast.Assign) and not (len(stmt.targets) == 1
                                                   and isinstance(stmt.targets[0], gast.Name)):
            value = None
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
                and value.func.id in rewritten:
            allowed.add(id(value.func))
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in rewritten and id(node) not in allowed:
            written = rewritten[node.id][1]
            raise refuse(UnsupportedSyntax, f"{node.id} assigns {', '.join(written)} of the "
                         f"enclosing function (nonlocal), so it can only be called on a line of "
                         f"its own (y = {node.id}(...) or {node.id}(...)) in that function",
                         node, location, "Pass the variable in and return its new value.")


def _statements(stmts):
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, gast.FunctionDef):
            continue
        for field in _BLOCKS:
            yield from _statements(getattr(stmt, field, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from _statements(handler.body)


def _block(stmts, rewritten, namer, location):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.FunctionDef):
            out.append(stmt)
            continue
        for field in _BLOCKS:
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(stmt, field, _block(block, rewritten, namer, location))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _block(handler.body, rewritten, namer, location)
        out += _call_site(stmt, rewritten, namer)
    return out


def _call_site(stmt, rewritten, namer):
    """``acc(x)`` -> ``s = acc(x, s=s)``; ``y = acc(x)`` -> ``s, y = acc(x, s=s)``."""
    call = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Name)
            and call.func.id in rewritten):
        return [stmt]
    returns_value, written = rewritten[call.func.id]
    call.keywords = call.keywords + [gast.keyword(arg=n, value=make_name(n)) for n in written]
    state = [make_name(n, gast.Store()) for n in written]
    if not returns_value:
        code = [assign(written[0], call, stmt) if len(written) == 1 else located(gast.Assign(
            targets=[gast.Tuple(elts=state, ctx=gast.Store())], value=call, type_comment=None), stmt)]
        if isinstance(stmt, gast.Assign):
            code.append(located(gast.Assign(targets=stmt.targets, value=gast.Constant(
                value=None, kind=None), type_comment=None), stmt))
        return code
    result = stmt.targets[0] if isinstance(stmt, gast.Assign) else \
        make_name(namer.fresh(call.func.id + "_result"), gast.Store())
    # the result is assigned last, as Python assigns it after the call: s = acc(x) keeps it
    return [located(gast.Assign(targets=[gast.Tuple(elts=state + [result], ctx=gast.Store())],
                                value=call, type_comment=None), stmt)]
