"""Stage 3a: names that stand for a module or a function are read as what they hold.

``bind_static_names``: ``def f(x, xp=np)`` and ``act = np.tanh`` at the top
of the body make ``xp.mean(v)`` read as ``np.mean(v)`` (a parameter gets a
guard checked at each call), so the call resolves to its rule.
"""
import copy
import math
import inspect
import types

import gast
import numpy as np

from pullback.analysis.operation import METHODS, in_table, local_loads, source_text, static_value
from pullback.code.quote import quote, quote_expr
from pullback.frontend.normalize import is_static_reference
from pullback.frontend.parsing import parameter_names
from pullback.rules import active_rules


def _is_namespace(value):
    """Modules, classes and functions (ufuncs, builtins, user functions): a
    name bound to one of these is how code reaches NumPy under another name
    (``xp=np``, ``m = np``, ``act = np.tanh``), never data to differentiate."""
    return isinstance(value, (types.ModuleType, type)) or (
        callable(value) and not isinstance(value, (np.ndarray, np.generic)))


def bind_static_names(parsed, wrt=()):
    """Replace the names that stand for a module or a function by what they stand for.

    A parameter whose default is a module or a function (``def f(x, xp=np)``)
    and a local assigned one only once, at the top of the body (``xp = np``,
    ``act = np.tanh``), are read as the static reference they hold
    (``xp.mean(v)`` -> ``np.mean(v)``), so the call resolves to its rule like
    any ``np.mean`` would. The derivative is then right only for that value:
    a parameter gets a guard at the top of the body, ``if xp is not np: raise
    TypeError(...)``, so a caller passing another object gets an error, never
    a derivative made for ``np``. Names that may hold such an object but
    cannot be replaced (assigned several times, a default pullback cannot
    name) are recorded in ``parsed.non_arrays``: a method called on them is
    refused (:func:`resolve_operations`), never taken for an ndarray method.

    A parameter without such a default that is not differentiated (``wrt``
    indexes the parameters; those are checked to be arrays or numbers at the
    call) may still be given a module: where a method call on it would pass a
    value of the function to a parameter of the method's rule that carries no
    derivative (``xp.mean(v)`` read as ``v.mean(axis=v)``), the body starts with
    ``if not hasattr(xp, '__array__'): raise TypeError(...)``.
    """
    tree = parsed.tree
    body_stores = {}
    for stmt in tree.body:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                body_stores[node.id] = body_stores.get(node.id, 0) + 1
    non_arrays = set()
    replacements = {}       # name -> (expression, index of the first statement it applies from)
    guards = []
    for name, node, value in _parameter_defaults(parsed):
        if name in parsed.statics or not _is_namespace(value):
            continue
        if isinstance(value, type):     # dtype=np.float32: a parameter the caller may change
            continue
        if body_stores.get(name) or not _names_value(node, value, parsed):
            non_arrays.add(name)
            continue
        replacements[name] = (node, 0)
        guards.append(_default_guard(name, node, parsed))
    for index, stmt in enumerate(tree.body):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            continue
        name = stmt.targets[0].id
        if name in parsed.statics or name in replacements or \
                not is_static_reference(stmt.value, parsed.local_names):
            continue
        try:
            value = static_value(stmt.value, parsed)
        except (NameError, AttributeError):
            continue
        if not _is_namespace(value):
            continue
        if body_stores.get(name) == 1 and name not in parameter_names(tree):
            replacements[name] = (stmt.value, index + 1)
        else:
            non_arrays.add(name)
    non_arrays |= _namespace_holders(tree, parsed) - set(replacements)   # in a branch, a loop
    for index, stmt in enumerate(tree.body):
        _substitute(stmt, {n: e for n, (e, first) in replacements.items() if index >= first})
    params = parameter_names(tree)
    parsed.wrt_names = frozenset(params[i] for i in wrt)
    unsure = set(params) - {params[i] for i in wrt} - set(replacements) - non_arrays \
        - set(body_stores) - set(parsed.statics)
    guards += _array_owner_guards(parsed, unsure)
    tree.body[:0] = guards
    parsed.non_arrays = frozenset(non_arrays)
    return parsed


def _parameter_defaults(parsed):
    """``(name, default expression, default value)`` of each parameter with a default."""
    function = parsed.function
    if not inspect.isfunction(function):
        return []
    args = parsed.tree.args
    positional = args.posonlyargs + args.args
    found = []
    for param, node, value in zip(positional[len(positional) - len(args.defaults):],
                                  args.defaults, function.__defaults__ or ()):
        found.append((param.id, node, value))
    keyword_defaults = function.__kwdefaults__ or {}
    for param, node in zip(args.kwonlyargs, args.kw_defaults):
        if node is not None and param.id in keyword_defaults:
            found.append((param.id, node, keyword_defaults[param.id]))
    return found


def _names_value(node, value, parsed):
    """Does the expression ``node`` (a default, as written) still evaluate to ``value``?"""
    if not is_static_reference(node, parsed.local_names):
        return False
    try:
        return static_value(node, parsed) is value
    except (NameError, AttributeError):
        return False


def _namespace_holders(tree, parsed):
    """Names some assignment of the body binds to a module or a function."""
    found = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and is_static_reference(node.value, parsed.local_names):
            try:
                value = static_value(node.value, parsed)
            except (NameError, AttributeError):
                continue
            if _is_namespace(value):
                found.update(t.id for t in node.targets if isinstance(t, gast.Name))
    return found


def _substitute(stmt, replacements):
    """Replace the loads of the names in ``replacements`` inside ``stmt`` by copies
    of their expressions, placed where the name was (error carets stay right)."""
    if not replacements:
        return
    for node in gast.walk(stmt):
        for field_name, child in gast.iter_fields(node):
            if isinstance(child, list):
                for i, item in enumerate(child):
                    if _is_load_of(item, replacements):
                        child[i] = _placed_copy(replacements[item.id], item)
            elif _is_load_of(child, replacements):
                setattr(node, field_name, _placed_copy(replacements[child.id], child))


def _is_load_of(node, replacements):
    return isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in replacements


def _placed_copy(expression, where):
    copied = copy.deepcopy(expression)
    for node in gast.walk(copied):
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(where, attribute):
                setattr(node, attribute, getattr(where, attribute))
    return copied


def _array_owner_guards(parsed, parameters):
    """Guards for the parameters in ``parameters`` that own a method call which
    passes a local value to a parameter of its rule that carries no derivative."""
    adjoints, _ = active_rules()
    local_names = parsed.local_names
    guarded = []
    for node in gast.walk(parsed.tree):
        if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
                and isinstance(node.func.value, gast.Name) and node.func.value.id in parameters
                and node.func.value.id not in guarded and node.func.attr in METHODS
                and in_table(METHODS[node.func.attr], adjoints)):
            continue
        rule = adjoints[METHODS[node.func.attr]]
        try:
            bound = rule.bind([node.func.value] + list(node.args),
                              {k.arg: k.value for k in node.keywords})
        except TypeError:
            continue
        if any(local_loads(value, local_names) for name, value in bound.items()
               if name not in rule.differentiable and isinstance(value, gast.AST)):
            guarded.append(node.func.value.id)
    guards = []
    for name in guarded:
        test = quote_expr("not hasattr(name, '__array__')", name=name)
        guards.append(_guard(test, parsed, name, (
            f"{parsed.name}() reads {name}.<method>() as the method of an array, but {name} is "
            f"not an array. Call the function by its module-level name (np.mean(v) rather than "
            f"{name}.mean(v)), or give {name} a default ({name}=np).")))
    return guards


def _default_guard(name, default, parsed):
    """``if name is not <default>: raise TypeError(...)``, placed at the parameter."""
    shown = source_text(default)
    message = (f"{parsed.name}() was differentiated for {name}={shown}, its default: pullback "
               f"resolved the calls through {name} with it. Call the derivative without "
               f"{name}, or differentiate a function that calls {parsed.name} with the other value.")
    test = quote_expr("name is not default", name=name, default=default)
    return _guard(test, parsed, name, message)


def _guard(test, parsed, name, message):
    """``if test: raise TypeError(message)``, placed at the parameter ``name``."""
    where = next(a for a in parsed.tree.args.posonlyargs + parsed.tree.args.args
                 + parsed.tree.args.kwonlyargs if a.id == name)
    guard = quote("if test:\n    raise TypeError(message)", test=test,
                  message=gast.Constant(value=message, kind=None))
    for node in gast.walk(guard):
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(where, attribute):
                setattr(node, attribute, getattr(where, attribute))
    return guard


def module_constants(tree, parsed):
    """``{"np.pi", "math.tau", ...}``: the attribute chains of ``tree`` that read a
    number from the ``numpy`` or ``math`` module (neither is data the caller
    changes), written as dotted names so the number analyses, which know names,
    can count them as numbers (no variable's name has a dot)."""
    found = set()
    for node in gast.walk(tree):
        if not (isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name)
                and is_static_reference(node, parsed.local_names)):
            continue
        try:
            module = static_value(node.value, parsed)
        except (NameError, AttributeError):
            continue
        if module is np or module is math:
            value = getattr(module, node.attr, None)
            if type(value) in (float, int):
                found.add(f"{node.value.id}.{node.attr}")
    return found
