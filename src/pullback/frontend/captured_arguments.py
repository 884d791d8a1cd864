"""Stage 5 support: a function nested in the caller, passed to a callee.

``apply(mul, x)``, where ``mul`` is lifted (lift.py) and reads the caller's
``w``: the callee is differentiated for ``mul`` in particular, and
:func:`callee_with_captures` makes that version of it take ``w`` too, as a
parameter of its own, which each of its calls ``g(v)`` passes on (``g(v, w=g_w)``).
The caller passes ``w`` (transform/calls.py), so ``w`` gets its gradient.
"""
import gast

from pullback.code.astutil import clone, make_name
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.parsing import LiftedFunction, parameter_names, parse_function


class CalleeWithCaptures(LiftedFunction):
    """A user function whose parameters ``functions`` receive nested functions
    of the caller: it takes what they capture as parameters after its own."""

    def __init__(self, callee, functions):
        outer = parse_function(callee)
        tree = clone(outer.tree)
        self.extra = _add_capture_parameters(tree, functions, outer.location)
        super().__init__(tree, outer, [], dict(outer.statics))
        self.__qualname__ = callee.__qualname__


def callee_with_captures(callee, functions):
    """``callee`` taking what the nested functions it receives capture
    (``functions``: parameter name -> LiftedFunction); one object per pair, so
    the callee's derivative is generated once. Returns it and, in order, the
    (nested function, captured variable) to pass after the callee's own arguments."""
    # kept by the first nested function: it lives as long as its caller's derivative is made
    cache = min(functions.values(), key=lambda f: f.__name__).__dict__.setdefault(
        "callees_with_captures", {})
    key = (callee, tuple(sorted((name, id(f)) for name, f in functions.items())))
    if key not in cache:
        cache[key] = CalleeWithCaptures(callee, functions)
    specialised = cache[key]
    return specialised, [(functions[p], captured) for p, captured in specialised.extra]


def _add_capture_parameters(tree, functions, location):
    """Every parameter positional and without a default (the caller passes
    them all), then one parameter per captured variable; each call of a
    function parameter passes its captures on. Returns [(parameter, captured)], in
    the order of the new parameters."""
    args = tree.args
    if args.vararg or args.kwarg:
        raise refuse(UnsupportedSyntax, f"{tree.name} takes *args or **kwargs, so it cannot be "
                     "given a nested function that reads variables of its caller", tree, location,
                     "Give it named parameters, or pass those variables as parameters.")
    args.args = args.posonlyargs + args.args + args.kwonlyargs
    args.posonlyargs, args.kwonlyargs, args.kw_defaults, args.defaults = [], [], [], []
    taken = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)} | set(parameter_names(tree))
    extra, passed = [], {}
    for parameter, function in sorted(functions.items()):
        passed[parameter] = []
        for captured in function.captured:
            name, i = f"{parameter}_{captured}", 1
            while name in taken:
                name, i = f"{parameter}_{captured}_{i}", i + 1
            taken.add(name)
            extra.append((parameter, captured))
            passed[parameter].append(name)
    args.args = args.args + [make_name(name, gast.Param()) for names in passed.values()
                             for name in names]
    calls = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in passed:
            captured = [c for c in functions[node.func.id].captured]
            node.keywords = node.keywords + [gast.keyword(arg=c, value=make_name(n))
                                             for c, n in zip(captured, passed[node.func.id])]
            calls.add(id(node.func))
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in passed and id(node) not in calls \
                and not isinstance(node.ctx, gast.Param):
            raise refuse(UnsupportedSyntax, f"{tree.name} receives as {node.id} a nested function "
                         "that reads variables of its caller, so it may only call it here, not "
                         "pass it on or reassign it", node, location,
                         "Call it directly, or pass those variables as parameters.")
    return extra
