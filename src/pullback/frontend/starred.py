"""Stage 2: ``f(a, *rest)`` as ``f(a, rest[0], rest[1])`` where ``f`` is known,
and ``g(*args, **kwargs)`` where the call passed the function ``args`` and ``kwargs``.

A call that unpacks a sequence into a function whose positional parameters
are fixed (a Python function with no ``*args``, known where the derivative
is written) reads as many items as the parameters left to fill. Generated
backward sweeps call their callees' so (``g_backward(dy, *g_saved)``), so
this is what makes them differentiable again; a user's call of the same
shape gets the same treatment.

The function the user differentiates is generated for the number of items of
its ``*args`` and the keys of its ``**kwargs`` (``varargs``), so it may forward
them to any function: ``g(x, *args, **kwargs)`` becomes
``g(x, args[0], args[1], scale=kwargs['scale'])``. Other starred expressions
are refused (normalize.check_supported).
"""
import inspect

import gast

from pullback.code.astutil import clone


def expand_starred_calls(tree, parsed, varargs=()):
    """Rewrite the calls of ``tree`` that unpack one sequence, last, into a known
    function, and those forwarding ``*args``/``**kwargs`` of known ``varargs``
    (``((name, item count or keys), ...)``, see the module docstring)."""
    known = dict(varargs)
    if known:
        _forward_varargs(tree, known)
    for node in gast.walk(tree):
        if not isinstance(node, gast.Call) or not node.args \
                or not isinstance(node.args[-1], gast.Starred) \
                or any(isinstance(a, gast.Starred) for a in node.args[:-1]) or node.keywords:
            continue
        count = _positional_count(node.func, parsed)
        if count is None or count < len(node.args) - 1:
            continue
        sequence = node.args[-1].value
        if not isinstance(sequence, gast.Name):
            continue
        node.args = node.args[:-1] + [
            gast.Subscript(value=clone(sequence), slice=gast.Constant(value=i, kind=None),
                           ctx=gast.Load())
            for i in range(count - (len(node.args) - 1))]
    return tree


def _positional_count(func, parsed):
    """How many positional parameters the called function has (all of them
    required, no ``*args``), or None if it is not known here."""
    if not isinstance(func, gast.Name) or not parsed.is_free(func.id):
        return None
    try:
        function = parsed.free_value(func.id)
    except (NameError, AttributeError):
        return None
    if not inspect.isfunction(function):
        return None
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty
           for p in parameters):
        return None
    return len(parameters)


def _forward_varargs(tree, known):
    """``*args`` of a known count and ``**kwargs`` of known keys, spelled out."""
    for node in gast.walk(tree):
        if not isinstance(node, gast.Call):
            continue
        args = []
        for argument in node.args:
            if isinstance(argument, gast.Starred) and isinstance(argument.value, gast.Name) \
                    and isinstance(known.get(argument.value.id), int):
                args += [_item(argument.value, i) for i in range(known[argument.value.id])]
            else:
                args.append(argument)
        keywords = []
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg is None and isinstance(value, gast.Name) \
                    and isinstance(known.get(value.id), tuple):
                keywords += [gast.keyword(arg=key, value=_item(value, key))
                             for key in known[value.id]]
            else:
                keywords.append(keyword)
        node.args, node.keywords = args, keywords


def _item(sequence, key):
    return gast.Subscript(value=clone(sequence), slice=gast.Constant(value=key, kind=None),
                          ctx=gast.Load())
