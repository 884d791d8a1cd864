"""Plug an edited derivative back into pullback: ``use(f, edited.grad_f)``.

Above the api layer. The edited function becomes a rule registered for ``f``
(a template calling it through a small module of wrappers, ``used``, built
from the ``__pullback_export__`` record of its module), so ``pullback.grad(f)``
and the derivative of every function calling ``f`` use it. A gradient flowing
into a parameter the export does not cover, a tangent and a second
derivative through it are errors, raised when (and only when) the generated
code needs them; ``use(f, None)`` (or ``unuse(f)``) removes the rules again.
"""
import inspect
import linecache
import re
import sys
import types

import numpy as np

from pullback.backend.cache import memory_clear
from pullback.errors import InvalidArgument, NoDerivativeRule
from pullback.registration import register_adjoint, register_tangent
from pullback.rules import d, user_rules
from pullback.tangent_rules import user_tangents

_DEFAULT = "<pullback.use: the function's default>"     # a default not written as a literal
_PLAIN = (int, float, bool, str, type(None))


def use(function, derivative, wrt=None):
    """Make ``derivative`` (an edited exported gradient) the derivative of ``function``.

    ``derivative`` is a function of an exported module (see pullback.export),
    the entry function or the generated one, edited or not, taking the
    function's parameters. ``pullback.grad(function)`` and the derivative of
    every function that calls ``function`` then use it (through a rule
    registered for ``function``). ``wrt`` (the parameters it differentiates)
    and the mode come from the module's ``__pullback_export__`` record; pass
    ``wrt`` for a function without one. A gradient needed for another
    parameter raises NoDerivativeRule when the derivative runs, as do forward
    mode and second derivatives through it. ``use(function, None)`` goes back
    to pullback's own derivative.

    Examples
    --------
    >>> import numpy as np, pullback
    >>> def square(x):
    ...     return np.sum(x * x)
    >>> def halved(x):                  # an edited gradient: half of 2x
    ...     return x
    >>> halved.__module__ = "doctest_halved"
    >>> import types, sys
    >>> sys.modules["doctest_halved"] = types.ModuleType("doctest_halved")
    >>> sys.modules["doctest_halved"].halved = halved
    >>> pullback.use(square, halved, wrt=0)
    >>> pullback.grad(square)(np.array([1.0, 2.0]))
    array([1., 2.])
    >>> pullback.use(square, None)
    """
    if derivative is None:
        unuse(function)
        return
    module = sys.modules.get(getattr(derivative, "__module__", None) or "")
    name = getattr(derivative, "__name__", "")
    if module is None or getattr(module, name, None) is not derivative or module.__name__ == "__main__":
        raise InvalidArgument(
            f"pullback.use needs a function of an imported module (an edited export: "
            f"`import grad_loss; pullback.use(loss, grad_loss.grad_loss)`), not {derivative!r}")
    record = getattr(module, "__pullback_export__", None)
    record = record if isinstance(record, dict) else {}
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        raise InvalidArgument("pullback.use takes functions without *args or **kwargs")
    names = [p.name for p in parameters]
    wrt = _wrt(wrt, record, names)
    entry = name in (record.get("entry"), record.get("generated"))
    how = {"value_and_grad": entry and record.get("mode") == "value_and_grad",
           "single": record.get("single", True) if name == record.get("entry") else len(wrt) == 1,
           "keywords": _passing(derivative, parameters, function),
           "scale": record.get("scale"), "wrt": frozenset(wrt)}
    unuse(function)
    used = _used_module(function, module, name, parameters, how)
    label = _label(function)
    templates = _templates(function, used, f"{module.__name__}.{name}", parameters, wrt)
    register_adjoint(function)(templates[f"used_derivative_of_{label}"])
    register_tangent(function)(templates[f"used_derivative_of_{label}_tangent"])
    for wrapper in ("gradients", "scaled"):
        register_adjoint(getattr(used, wrapper))(templates[f"second_order_{wrapper}"])
        register_tangent(getattr(used, wrapper))(templates[f"second_order_{wrapper}_tangent"])


def _wrt(wrt, record, names):
    wrt = record.get("wrt") if wrt is None else wrt
    if wrt is None:
        raise InvalidArgument("pullback.use: say which parameters the derivative differentiates "
                              "(wrt=...): its module has no __pullback_export__ record")
    wrt = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
    named = [names[w] if isinstance(w, int) and w < len(names) else w for w in wrt]
    unknown = [str(w) for w in named if w not in names]
    if unknown:
        raise InvalidArgument(f"pullback.use: {', '.join(unknown)} is not a parameter of the "
                              f"function (its parameters: {', '.join(names)})")
    return named


def _passing(derivative, parameters, function):
    """The parameters ``derivative`` takes by keyword only (the exported entry
    takes them as the function does; the generated function, positionally)."""
    try:
        own = list(inspect.signature(derivative).parameters.values())
    except (TypeError, ValueError):
        own = None
    names = [p.name for p in parameters]
    if own is None or [p.name for p in own] != names:
        if own is not None and len(own) == len(names) and \
                all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in own):
            return frozenset()          # other names, one per parameter: passed in order
        shown = ", ".join(p.name for p in own) if own is not None else "?"
        raise InvalidArgument(
            f"pullback.use: {getattr(derivative, '__qualname__', derivative)}({shown}) must take "
            f"the parameters of {getattr(function, '__qualname__', function)} "
            f"({', '.join(names)}): keep the exported function's signature when you edit it")
    return frozenset(p.name for p in own if p.kind == p.KEYWORD_ONLY)


def _as_float(value):
    """A number or array of integers (or bools) as floats: a caller may pass
    one for a parameter whose gradient it does not need (``f(w, 3)``), and the
    exported entry refuses integers for the parameters it differentiates."""
    if isinstance(value, (bool, int, np.bool_, np.integer)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biu":
        return value.astype(np.float64)
    return value


def _label(function):
    return re.sub(r"\W", "_", getattr(function, "__name__", "function"))


def _used_module(function, module, name, parameters, how):
    """The module the rule's templates call: ``gradients`` (the edited
    derivative, as a tuple of gradients), ``scaled`` (one of them times the
    caller's seed), ``not_covered`` and ``second_order`` (the errors)."""
    qualname = f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', '')}"
    used = types.ModuleType("pullback_use_" + re.sub(r"\W", "_", qualname.replace("<locals>", "")))
    used.__doc__ = f"pullback.use({qualname}, {module.__name__}.{name}): what its rule calls."
    defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
    names = [p.name for p in parameters]
    shown = f"{getattr(function, '__qualname__', function)}".replace("<locals>.", "")

    def gradients(*values):
        values = [defaults[n] if isinstance(v, str) and v == _DEFAULT else
                  _as_float(v) if n in how["wrt"] else v for n, v in zip(names, values)]
        positional = [v for n, v in zip(names, values) if n not in how["keywords"]]
        keywords = {n: v for n, v in zip(names, values) if n in how["keywords"]}
        result = getattr(module, name)(*positional, **keywords)
        if how["value_and_grad"]:
            result = result[1]
        return (result,) if how["single"] else tuple(result)

    def scaled(parts, k, seed):
        scale = getattr(module, how["scale"], None) if how["scale"] else None
        return scale(parts[k], seed) if callable(scale) else seed * parts[k]

    def not_covered(parameter, covered):
        raise NoDerivativeRule(
            f"the derivative of {shown} plugged in with pullback.use ({module.__name__}.{name}) "
            f"gives the gradient of {covered} only, and a gradient flows into its parameter "
            f"{parameter!r} here. Export one covering {parameter!r} too (pullback.export("
            f"pullback.grad({function.__name__}, wrt=...))) and use that, or go back to "
            f"pullback's own derivative: pullback.use({function.__name__}, None).")

    def second_order(*tangents):
        raise NoDerivativeRule(
            f"a derivative plugged in with pullback.use has no tangent rule: {shown} uses "
            f"{module.__name__}.{name}, so forward mode (jvp) and second derivatives (hessian, "
            f"hvp, the derivative of a gradient) cannot go through it. Compute them with "
            f"pullback's own derivative: pullback.use({function.__name__}, None) first.")

    for helper in (gradients, scaled, not_covered, second_order):
        helper.__qualname__ = helper.__name__
        setattr(used, helper.__name__, helper)
    used.names = tuple(names)
    sys.modules[used.__name__] = used
    return used


_HEAD = "def {rule}({signature}):"


def _templates(function, used, shown, parameters, wrt):
    """The templates: the rule of ``function`` and its tangent (which refuses),
    and the (refusing) rules of the wrappers it calls, for second derivatives."""
    names = [p.name for p in parameters]
    taken = set(names)
    result, parts = _free("y", taken), _free("gradients", taken | {"y"})
    alias = _free("used", taken | {result, parts})
    label = _label(function)
    lines = [_HEAD.format(rule=f"used_derivative_of_{label}",
                          signature=_signature(result, parameters)),
             f"    {parts} = {alias}.gradients({', '.join(names)})"]
    covered = ", ".join(wrt)
    for name in names:
        if name in wrt:
            lines.append(f"    d[{name}] = {alias}.scaled({parts}, {wrt.index(name)}, d[{result}])")
        else:
            lines.append(f"    d[{name}] = {alias}.not_covered({name!r}, {covered!r})")
    lines += ["", "", _HEAD.format(rule=f"used_derivative_of_{label}_tangent",
                                   signature=_signature(result, parameters))]
    lines += [f"    d[{result}] = {alias}.second_order(d[{name}])" for name in names]
    for wrapper, params in (("gradients", names), ("scaled", ["parts", "k", "seed"])):
        wrapper_result = _free("y", set(params))
        signature = ", ".join([wrapper_result] + params)
        lines += ["", "", _HEAD.format(rule=f"second_order_{wrapper}", signature=signature)]
        lines += [f"    d[{p}] = {alias}.second_order()" for p in params]
        lines += ["", "", _HEAD.format(rule=f"second_order_{wrapper}_tangent", signature=signature)]
        lines += [f"    d[{wrapper_result}] = {alias}.second_order(d[{p}])" for p in params]
    text = "\n".join(lines) + "\n"
    filename = f"<pullback.use: {shown} for {getattr(function, '__qualname__', '')}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"d": d, alias: used, "__name__": "pullback.exporting.plug"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace


def _signature(result, parameters):
    """The template's parameters: the result, then the function's, keyword-only
    ones after ``*``, defaults written as literals (others read when called)."""
    parts, star = [result], False
    for p in parameters:
        if p.kind == p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.default is p.empty:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={_literal(p.default)}")
    return ", ".join(parts)


def _literal(value):
    if type(value) in _PLAIN and (type(value) is not float or value == value and abs(value) != float("inf")):
        return repr(value)
    return repr(_DEFAULT)


def _free(name, taken):
    while name in taken:
        name += "_"
    return name


def unuse(function):
    """Go back to pullback's own derivative of ``function`` (undo :func:`use`)."""
    rule = user_rules.adjoints.get(function)
    if rule is None or not rule.name.startswith("used_derivative_of_"):
        return
    del user_rules.adjoints[function]
    user_tangents.tangents.pop(function, None)
    used = next((value for value in rule.globals.values() if isinstance(value, types.ModuleType)
                 and value.__name__.startswith("pullback_use_")), None)
    if used is not None:
        for wrapper in (used.gradients, used.scaled):
            user_rules.adjoints.pop(wrapper, None)
            user_tangents.tangents.pop(wrapper, None)
        if sys.modules.get(used.__name__) is used:
            del sys.modules[used.__name__]
    user_rules.sources.append(f"unuse {function!r}")
    memory_clear()
