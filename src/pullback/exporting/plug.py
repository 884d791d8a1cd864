"""Plug an edited derivative back into pullback: ``use(f, edited.grad_f)``.

Above the api layer. The edited function becomes a rule registered for ``f``
(a template calling it, built from the ``__pullback_export__`` record of its
module), so ``pullback.grad(f)`` and the derivative of every function calling
``f`` use it; ``use(f, None)`` (or ``unuse(f)``) removes the rule again.
"""
import inspect
import linecache
import sys

from pullback.backend.cache import memory_clear
from pullback.errors import InvalidArgument
from pullback.registration import register_adjoint
from pullback.rules import d, user_rules

_TEMPLATE = '''def {rule}({result}, {params}):
    {gradients} = {module}.{function}({params})
{assignments}
'''


def use(function, derivative, wrt=None):
    """Make ``derivative`` (an edited exported gradient) the derivative of ``function``.

    ``derivative`` is a function of an exported module (see pullback.export),
    the entry function or the generated one, edited or not, taking the
    function's parameters. ``pullback.grad(function)`` and the derivative of
    every function that calls ``function`` then use it (through a rule
    registered for ``function``). ``wrt`` (the parameters it differentiates)
    and the mode come from the module's ``__pullback_export__`` record; pass
    ``wrt`` for a function without one. ``use(function, None)`` goes back to
    pullback's own derivative.

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
    record = getattr(module, "__pullback_export__", {})
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        raise InvalidArgument("pullback.use takes functions without *args or **kwargs")
    names = [p.name for p in parameters]
    wrt = _wrt(wrt, record, names)
    value_and_grad = record.get("mode") == "value_and_grad" and name == record.get("entry") \
        or record.get("mode") == "value_and_grad" and name == record.get("generated")
    single = record.get("single", True) if name == record.get("entry") else len(wrt) == 1
    template = _template(function, module.__name__, name, names, wrt, value_and_grad, single,
                         record.get("scale"))
    template.__defaults__ = function.__defaults__
    register_adjoint(function)(template)


def _wrt(wrt, record, names):
    wrt = record.get("wrt") if wrt is None else wrt
    if wrt is None:
        raise InvalidArgument("pullback.use: say which parameters the derivative differentiates "
                              "(wrt=...): its module has no __pullback_export__ record")
    wrt = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
    named = [names[w] if isinstance(w, int) else w for w in wrt]
    unknown = [w for w in named if w not in names]
    if unknown:
        raise InvalidArgument(f"pullback.use: {', '.join(unknown)} is not a parameter of the "
                              f"function (its parameters: {', '.join(names)})")
    return named


def _template(function, module_name, name, names, wrt, value_and_grad, single, scale):
    """The rule template: ``d[x] = d[y] * the edited gradient`` for each ``x`` in wrt."""
    result = _free("y", names)
    gradients = _free("gradients", names + [result])
    call = f"_, {gradients}" if value_and_grad else gradients
    alias = _free(module_name.replace(".", "_"), names + [result, gradients])
    picked = [gradients] if single else [f"{gradients}[{k}]" for k in range(len(wrt))]
    if scale and callable(getattr(sys.modules[module_name], scale, None)):  # containers too
        scaled = [f"{alias}.{scale}({g}, d[{result}])" for g in picked]
    else:
        scaled = [f"d[{result}] * {g}" for g in picked]
    assignments = [f"    d[{w}] = {s}" for w, s in zip(wrt, scaled)]
    rule = f"used_derivative_of_{getattr(function, '__name__', 'function')}"
    text = _TEMPLATE.format(rule=rule, result=result, params=", ".join(names), gradients=call,
                            module=alias, function=name, assignments="\n".join(assignments))
    filename = f"<pullback.use: {module_name}.{name} for {getattr(function, '__qualname__', '')}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"d": d, alias: sys.modules[module_name], "__name__": "pullback.exporting.plug"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace[rule]


def _free(name, taken):
    while name in taken:
        name += "_"
    return name


def unuse(function):
    """Go back to pullback's own derivative of ``function`` (undo :func:`use`)."""
    rule = user_rules.adjoints.get(function)
    if rule is not None and rule.name.startswith("used_derivative_of_"):
        del user_rules.adjoints[function]
        user_rules.sources.append(f"unuse {function!r}")
        memory_clear()
