"""Stage 5: calls into other Python functions inside a differentiated function.

``y = g(a, b)`` runs the callee's own forward sweep (``y, g_saved =
g_forward(a, b)``), and its reverse calls ``g_backward(dy, *g_saved)``; both
are generated once per (function, differentiated arguments).
"""
import inspect

import gast

from pullback.errors import UnsupportedSyntax, refuse
from pullback.analysis.shapes import is_scalar
from pullback.code.astutil import clone, make_name
from pullback.frontend.captured_arguments import callee_with_captures
from pullback.frontend.lift import CAPTURE_PREFIX, capture_keyword
from pullback.frontend.parsing import LiftedFunction
from pullback.transform.nodes import assign


class CallsMixin:
    """The part of ReverseBuilder that handles calls to user functions."""

    # -- calls into other Python functions -----------------------------------------
    def call_forward(self, stmt, operation):
        """``y = g(a, b)`` -> ``y, g_saved = g_forward(a, b)``: the callee's own
        forward sweep, which also returns what its backward sweep needs."""
        if getattr(stmt, "pb_saved", None) is not None:
            return
        callee, node = operation.bound["function"], operation.bound["node"]
        callee, arguments, wrt, functions = self.call_arguments(callee, node)
        forward, backward = self.request_vjp(callee, node.func, wrt, functions,
                                             operation.target in self.masked,
                                             self.argument_kinds(arguments))
        saved = self.namer.fresh(_callee_name(node.func) + "_saved")
        stmt.targets = [gast.Tuple(elts=[make_name(operation.target, gast.Store()),
                                         make_name(saved, gast.Store())], ctx=gast.Store())]
        stmt.value = gast.Call(func=make_name(forward), args=arguments, keywords=[])
        stmt.pb_saved, stmt.pb_backward, stmt.pb_wrt = saved, backward, wrt
        stmt.pb_arguments = arguments
        operation.bound["statement"] = stmt
        if operation.target in self.mutable:
            self.mutable.add(saved)

    def call_reverse(self, operation, result_adjoint, defined, line):
        stmt = operation.bound["statement"]
        backward = gast.Call(func=make_name(stmt.pb_backward), args=[
            make_name(result_adjoint), gast.Starred(value=make_name(stmt.pb_saved), ctx=gast.Load())],
            keywords=[])
        receivers = [self.adjoint_of(stmt.pb_arguments[i]) for i in stmt.pb_wrt]
        if len(receivers) == 1:
            return [self.write(receivers[0], backward, defined, line)]
        parts = self.namer.fresh("d" + _callee_name(operation.bound["node"].func) + "_args")
        code = [assign(parts, backward, line)]
        for i, receiver in enumerate(receivers):
            part = gast.Subscript(value=make_name(parts), slice=gast.Constant(value=i, kind=None),
                                  ctx=gast.Load())
            code.append(self.write(receiver, part, defined, line))
        return code

    def call_arguments(self, callee, node):
        """``(callee, arguments, wrt, functions)`` of a call: its arguments in the
        callee's order, the positions that carry a derivative, and the callee's
        parameters that receive a known function. A function nested in the
        caller (lift.py) exists only inside generated code: its parameter gets
        None (the callee's derivative is made for it, and never reads the
        value), and where it reads the caller's variables the callee takes
        them after its own arguments (frontend/captured_arguments.py)."""
        captures = {k.arg: k.value for k in node.keywords if (k.arg or "").startswith(CAPTURE_PREFIX)}
        if captures:
            node = gast.Call(func=node.func, args=node.args, keywords=[
                k for k in node.keywords if k.arg not in captures])
        arguments, wrt = self.bind_call(callee, node)
        functions = self.known_functions(callee, arguments)
        if not any(isinstance(f, LiftedFunction) for f, _ in functions.values()):
            return callee, arguments, wrt, functions
        names = [p.name for p in inspect.signature(callee).parameters.values()]
        arguments = [gast.Constant(value=None, kind=None)
                     if isinstance(functions.get(name, (None,))[0], LiftedFunction) else argument
                     for name, argument in zip(names, arguments)]
        capturing = {name: f for name, (f, _) in functions.items()
                     if isinstance(f, LiftedFunction) and f.captured}
        if capturing:
            callee, captured = callee_with_captures(callee, capturing)
            arguments = arguments + [clone(captures[capture_keyword(f.__name__, c)])
                                     for f, c in captured]
        return callee, arguments, self.active_positions(arguments), functions

    def argument_kinds(self, arguments):
        """``(scalars, arrays)``: what the call site knows of the arguments (in the
        callee's order), as pipeline.derive takes them: the callee's derivative is
        specialized for them."""
        scalars = tuple(i for i, a in enumerate(arguments) if is_scalar(a, self.scalars))
        arrays = tuple((i, "".join(shape.dims), shape.dtype) for i, a in enumerate(arguments)
                       if isinstance(a, gast.Name) and (shape := self.arrays.get(a.id)) is not None
                       and not shape.number)
        return scalars, arrays

    def runs_only_generated(self, operation):
        """A call of a nested function, or one given a nested function: only
        generated code can run it, with or without a derivative to carry."""
        node = operation.bound["node"]
        given = [self.static_argument(a) for a in node.args + [k.value for k in node.keywords]]
        return isinstance(operation.bound["function"], LiftedFunction) or any(
            g is not None and isinstance(g[0], LiftedFunction) for g in given)

    def known_functions(self, callee, arguments):
        """The callee's parameters that receive a known function (``apply(np.sin,
        x)``): the callee is differentiated for that function in particular."""
        names = [p.name for p in inspect.signature(callee).parameters.values()]
        functions = {}
        for name, argument in zip(names, arguments):
            known = self.static_argument(argument)
            if known is not None:
                functions[name] = known
        return functions

    def bind_call(self, callee, node):
        """Every parameter's argument node, in the callee's order, and which
        positions carry a derivative."""
        signature = inspect.signature(callee)
        positional = list(node.args)
        keywords = {k.arg: k.value for k in node.keywords}
        defaults = callee.__defaults__ or ()
        ordered = [p for p in signature.parameters.values()
                   if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        arguments = []
        for parameter in signature.parameters.values():
            if parameter.kind == parameter.VAR_POSITIONAL:
                arguments.append(gast.Tuple(elts=positional, ctx=gast.Load()))
                positional = []
            elif parameter.kind == parameter.VAR_KEYWORD:
                module = getattr(callee, "__module__", None) or "?"
                raise refuse(UnsupportedSyntax, f"calling {callee.__qualname__} (from {module}), "
                             "which takes **kwargs, is not differentiable", node, self.location,
                             "If it is yours, give it named keyword parameters. If it is a "
                             "library's, pullback has no rule for it: register one with "
                             "@pullback.register_adjoint (docs/custom-rules.md), or compute it "
                             "outside the function you differentiate.")
            elif positional and parameter.kind != parameter.KEYWORD_ONLY:
                arguments.append(positional.pop(0))
            elif parameter.name in keywords:
                arguments.append(keywords.pop(parameter.name))
            elif parameter.default is not parameter.empty:
                arguments.append(_default(parameter, callee, node.func, ordered, defaults))
            else:
                raise refuse(UnsupportedSyntax, f"{callee.__qualname__}() is missing the argument "
                             f"{parameter.name!r}", node, self.location, "Pass every argument.")
        wrt = self.active_positions(arguments)
        for a in arguments:
            if isinstance(a, gast.Tuple) and any(isinstance(e, gast.Name) and e.id in self.active
                                                 for e in a.elts):
                raise refuse(UnsupportedSyntax, f"differentiating through the *args of "
                             f"{callee.__qualname__} is not supported", node, self.location,
                             "Give the function named parameters for differentiated values.")
        return arguments, wrt

    def active_positions(self, arguments):
        return tuple(i for i, a in enumerate(arguments)
                     if isinstance(a, gast.Name) and a.id in self.active)


def _callee_name(func_node):
    """How the call site names its callee: ``helpers.g`` -> ``g``."""
    return func_node.attr if isinstance(func_node, gast.Attribute) else getattr(func_node, "id", "f")


_LITERALS = (int, float, bool, str, type(None))


def _default(parameter, callee, func_node, ordered, defaults):
    """A parameter's default as code: the literal, or the callee's own record of it."""
    value = parameter.default
    if isinstance(value, _LITERALS) or (isinstance(value, tuple)
                                        and all(isinstance(v, _LITERALS) for v in value)):
        if isinstance(value, tuple):
            return gast.Tuple(elts=[gast.Constant(value=v, kind=None) for v in value], ctx=gast.Load())
        return gast.Constant(value=value, kind=None)
    if parameter.kind == parameter.KEYWORD_ONLY:
        record, key = "__kwdefaults__", gast.Constant(value=parameter.name, kind=None)
    else:
        position = ordered.index(parameter) - (len(ordered) - len(defaults))
        record, key = "__defaults__", gast.Constant(value=position, kind=None)
    return gast.Subscript(value=gast.Attribute(value=clone(func_node), attr=record, ctx=gast.Load()),
                          slice=key, ctx=gast.Load())


