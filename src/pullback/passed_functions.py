"""Functions passed as arguments: ``grad(loss, wrt=0)(w, x, np.tanh)``.

The derivative is made for the function each call passes, as it is for a
call inside a differentiated function (``apply(np.sin, x)``): the user's
function is differentiated through a wrapper with the same parameters whose
one line calls it with that function as a known global,

    def loss(w, x, act):                    # <pullback: loss for act=np.tanh>
        return loss_function(w, x, act_passed)

so the call resolves ``act(...)`` to np.tanh's rule (or differentiates a user
function or lambda passed). A wrapper is made once per function passed and
kept with the derivative, so a derivative always belongs to the function the
call passes.
"""
import functools
import inspect
import linecache

import numpy as np

from pullback.code.naming import unused_name

def is_function_value(value):
    """A function a derivative specializes on: Python functions and lambdas,
    NumPy's functions and ufuncs, builtins, partials, derivatives made by pullback."""
    if isinstance(value, type) or isinstance(value, (np.ndarray, np.generic)):
        return False
    if inspect.isroutine(value) or isinstance(value, (np.ufunc, functools.partial)):
        return True
    if getattr(value, "__pullback_derivative__", False):
        return True
    return callable(value) and (type(value).__module__ or "").startswith("numpy")


def passed_functions(values, wrt):
    """``((index, function), ...)`` for the arguments that hold functions."""
    return tuple((i, v) for i, v in enumerate(values) if i not in wrt and is_function_value(v))


def can_specialize(function):
    """Every parameter can be passed by position or keyword (no *args, **kwargs)."""
    return all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               for p in inspect.signature(function).parameters.values())


def specialized(function, passed, cache):
    """The wrapper of ``function`` for the functions ``passed`` (made once, kept in ``cache``)."""
    key = tuple((i, id(v)) for i, v in passed)
    entry = cache.get(key)
    if entry is not None and all(a is b for (_, a), (_, b) in zip(entry[0], passed)):
        return entry[1]
    parameters = list(inspect.signature(function).parameters.values())
    names = [p.name for p in parameters]
    inner = unused_name(function.__name__ + "_function", names)
    namespace = {inner: function, "__name__": function.__module__}
    arguments = []
    for i, p in enumerate(parameters):
        value = p.name
        for j, v in passed:
            if j == i:
                value = unused_name(p.name + "_passed", names + list(namespace))
                namespace[value] = v
        arguments.append(value if p.kind != p.KEYWORD_ONLY else f"{p.name}={value}")
    shown = ", ".join(f"{parameters[i].name}={_shown(v)}" for i, v in passed)
    text = (f"def {function.__name__}({', '.join(names)}):\n"
            f"    return {inner}({', '.join(arguments)})\n")
    filename = f"<pullback: {function.__qualname__} for {shown}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    defined = {}
    exec(compile(text, filename, "exec"), namespace, defined)
    wrapper = defined[function.__name__]
    wrapper.__qualname__ = function.__qualname__
    cache[key] = (passed, wrapper)
    return wrapper


def _shown(value):
    module = getattr(value, "__module__", None) or ""
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or repr(value)
    return f"np.{name}" if module.startswith("numpy") else name
