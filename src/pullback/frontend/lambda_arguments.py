"""Stage 2, in desugar_python: a lambda written as an argument of a call to one
of the user's functions gets a name of its own on the line before,

    y = apply(lambda v: v * w, x)    ->    g = lambda v: v * w
                                           y = apply(g, x)

which lift.py then makes a function of its own, as ``name = lambda`` always was.
Lambdas given to anything else are left to check_supported's refusal.
"""
import inspect

import gast

from pullback.frontend.idiom_kit import assign


class LambdaArguments:
    """``rewrite(node, site)`` for idiom_kit.rewrite_expressions."""

    def __init__(self, parsed, namer):
        self.parsed, self.namer = parsed, namer

    def __call__(self, node, site):
        if not isinstance(node, gast.Call):
            return None
        lambdas = [a for a in node.args + [k.value for k in node.keywords]
                   if isinstance(a, gast.Lambda)]
        callee = self.user_function(node.func) if lambdas else None
        if callee is None:
            return None
        parameters = list(inspect.signature(callee).parameters)
        names = {}
        for i, argument in enumerate(node.args):
            if isinstance(argument, gast.Lambda):
                names[id(argument)] = parameters[i] if i < len(parameters) else "function"
        for keyword in node.keywords:
            if isinstance(keyword.value, gast.Lambda):
                names[id(keyword.value)] = keyword.arg or "function"
        bound = {}
        for function in lambdas:
            name = self.namer.fresh(names[id(function)])
            site.hoist([assign(name, function, node)], "a lambda given to a function", function)
            bound[id(function)] = gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                            type_comment=None)
        node.args = [gast.copy_location(bound.get(id(a), a), a) for a in node.args]
        for keyword in node.keywords:
            keyword.value = gast.copy_location(bound.get(id(keyword.value), keyword.value),
                                               keyword.value)
        return node

    def user_function(self, func):
        """The user's Python function ``func`` names (a global or ``module.name``), or None."""
        chain = []
        while isinstance(func, gast.Attribute):
            chain.append(func.attr)
            func = func.value
        if not isinstance(func, gast.Name) or not self.parsed.is_free(func.id):
            return None
        try:
            value = self.parsed.free_value(func.id)
            for attr in reversed(chain):
                value = getattr(value, attr)
        except (NameError, AttributeError):
            return None
        if not inspect.isfunction(value) or getattr(value, "__pullback_derivative__", False) \
                or (value.__module__ or "").startswith("pullback."):
            return None
        return value
