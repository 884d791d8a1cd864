"""Stage 3: what each normalized statement computes (``tree -> facts``).

For every statement of the normalized body this decides which rule of the
table differentiates it, binds the rule's parameters to the statement's
operands, and notes which operands carry a derivative. A call nobody can
differentiate is recorded with the error to raise if a derivative reaches it.
"""
import inspect
from dataclasses import dataclass, field

import gast
import numpy as np

from .astutil import walk_statements
from .errors import NoDerivativeRule, UnsupportedSyntax, refuse
from .normalize import MUTATING_METHODS, is_static_reference
from .parsing import LiftedFunction
from .rules import BINARY_OPERATORS, UNARY_OPERATORS, active_rules
from .runtime import stop_gradient

# Attributes of an array that are plain data: no derivative flows through them.
VALUE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "imag"})
# Calls that only observe values.
OBSERVERS = frozenset({print, isinstance, type, repr, str, id, hasattr, callable})
# ndarray methods and attributes: the rule of the NumPy function they mirror
# applies, with the array bound to the function's first parameter.
METHODS = {"sum": np.sum, "mean": np.mean, "dot": np.dot, "transpose": np.transpose,
           "reshape": np.reshape, "ravel": np.ravel, "flatten": np.ravel, "copy": np.copy,
           "squeeze": np.squeeze, "prod": np.prod, "max": np.max, "min": np.min,
           "var": np.var, "std": np.std, "cumsum": np.cumsum, "cumprod": np.cumprod,
           "clip": np.clip, "trace": np.trace, "diagonal": np.diagonal, "swapaxes": np.swapaxes,
           "repeat": np.repeat, "take": np.take, "round": np.round, "conj": np.conjugate,
           "ptp": np.ptp, "any": np.any, "all": np.all, "argmax": np.argmax, "argmin": np.argmin,
           "argsort": np.argsort, "nonzero": np.nonzero}
ATTRIBUTES = {"T": np.transpose, "real": np.real}


@dataclass
class Operation:
    """The meaning of one normalized statement.

    kind: "rule" (a template), "copy" (y = x), "subscript" (y = x[i]),
    "pack" (y = (a, b) or [a, b]), "setitem" (y[i] = v, mutates y),
    "append" (ys.append(v), mutates ys), "constant" (no derivative flows),
    "opaque" (pullback cannot differentiate it: ``refusal`` is raised if a
    derivative would have to flow through it).
    """
    kind: str
    rule: object = None         # the Rule, for kind == "rule"
    bound: dict = field(default_factory=dict)   # rule parameter -> operand node
    sources: tuple = ()         # operand names a derivative flows from
    refusal: Exception = None
    target: str = None          # the name the statement defines or mutates
    mutated: str = None         # an array or list an opaque method changes in place


def local_loads(node, local_names):
    return tuple(n.id for n in gast.walk(node)
                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
                 and n.id in local_names)


def static_value(node, parsed):
    """Evaluate an attribute chain rooted at a global/closure name."""
    chain = []
    while isinstance(node, gast.Attribute):
        chain.append(node.attr)
        node = node.value
    value = parsed.free_value(node.id)
    for attr in reversed(chain):
        value = getattr(value, attr)
    return value


def resolve_operations(tree, parsed):
    """Map each statement of ``tree.body`` (by id) to its :class:`Operation`."""
    adjoints, nondiff = active_rules()
    local_names = parsed.local_names | {n.id for n in gast.walk(tree)
                                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    location = parsed.location

    def of_rule(rule, node, args, keywords):
        try:
            bound = rule.bind(args, keywords)
        except TypeError as error:
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                UnsupportedSyntax, f"this call does not match pullback's rule {rule.name} ({error})",
                node, location, f"Call it as the rule at {rule.origin} expects."))
        sources = tuple(n.id for p in rule.differentiable
                        for n in (bound[p].elts if isinstance(bound[p], gast.Tuple) else [bound[p]])
                        if isinstance(n, gast.Name) and n.id in local_names)
        return Operation("rule", rule=rule, bound=bound, sources=sources)

    def of_value(node):
        if isinstance(node, gast.Name) and node.id in local_names:
            return Operation("copy", sources=(node.id,))
        if isinstance(node, gast.Constant) or (
                isinstance(node, gast.Attribute) and is_static_reference(node, local_names)) or (
                isinstance(node, gast.Name)):
            return Operation("constant")
        if isinstance(node, gast.BinOp):
            function = BINARY_OPERATORS.get(type(node.op))
            if function in adjoints:
                return of_rule(adjoints[function], node, [node.left, node.right], {})
            return Operation("constant")     # floor division, bit operations
        if isinstance(node, gast.UnaryOp):
            function = UNARY_OPERATORS.get(type(node.op))
            if function in adjoints:
                return of_rule(adjoints[function], node, [node.operand], {})
            return Operation("constant")     # not, ~
        if isinstance(node, gast.Compare):
            return Operation("constant")
        if isinstance(node, gast.Attribute):
            if node.attr in VALUE_ATTRIBUTES:
                return Operation("constant")
            if node.attr in ATTRIBUTES and _in(ATTRIBUTES[node.attr], adjoints):
                return of_rule(adjoints[ATTRIBUTES[node.attr]], node, [node.value], {})
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                UnsupportedSyntax, f"the attribute .{node.attr} is not differentiable",
                node, location, "Use a NumPy function with a rule instead (docs/coverage.md)."))
        if isinstance(node, gast.Call):
            return of_call(node)
        if isinstance(node, gast.Subscript):
            sources = (node.value.id,) if isinstance(node.value, gast.Name) \
                and node.value.id in local_names else ()
            return Operation("subscript", bound={"value": node.value, "index": node.slice},
                             sources=sources)
        if isinstance(node, (gast.Tuple, gast.List)):
            return Operation("pack", bound={"elements": node.elts},
                             sources=tuple(e.id for e in node.elts
                                           if isinstance(e, gast.Name) and e.id in local_names))
        return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
            UnsupportedSyntax, f"{type(node).__name__} expressions are not differentiable",
            node, location, "Rewrite the expression with supported operations."))

    def of_call(node):
        func = node.func
        if isinstance(func, gast.Attribute) and not is_static_reference(func, local_names):
            return of_method(node)
        if not is_static_reference(func, local_names):
            name = getattr(func, "id", "this function")
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                UnsupportedSyntax, f"calling {name}, a function only known when the derivative "
                "runs, is not differentiable", node, location,
                f"pullback must know the function when it writes the derivative: call it by its "
                f"module-level name, or differentiate a wrapper that passes it, e.g. "
                f"def g(x): return f(np.tanh, x). Inside such a wrapper the call is known."))
        try:
            function = static_value(node.func, parsed)
        except (NameError, AttributeError) as error:
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                NoDerivativeRule, f"cannot resolve the function called here ({error})",
                node, location, "Make sure the name is defined before the function is called."))
        keywords = {k.arg: k.value for k in node.keywords}
        if _in(function, adjoints):
            return of_rule(adjoints[function], node, node.args, keywords)
        if _in(function, nondiff) or _in(function, OBSERVERS) or function is stop_gradient:
            return Operation("constant")
        if isinstance(function, LiftedFunction) or (
                inspect.isfunction(function) and not hasattr(function, "__pullback_derivative__")):
            # Another Python function: differentiated too, into its own pair of functions.
            return Operation("call", bound={"function": function, "node": node},
                             sources=local_loads(node, local_names))
        what = f"pullback has no derivative rule for {_describe(function)}"
        advice = ("Register one with @pullback.register_adjoint (docs/custom-rules.md), mark it "
                  "with pullback.nondifferentiable if no derivative flows through it, or call a "
                  "function that has a rule (docs/coverage.md).")
        return Operation("opaque", sources=local_loads(node, local_names),
                         refusal=refuse(NoDerivativeRule, what, node, location, advice))

    def of_method(node):
        owner, method = node.func.value, node.func.attr
        if method in METHODS and _in(METHODS[method], adjoints):
            args = node.args
            if method in ("reshape", "transpose") and len(args) > 1:   # x.reshape(2, 3)
                args = [gast.Tuple(elts=list(args), ctx=gast.Load())]
            return of_rule(adjoints[METHODS[method]], node, [owner] + args,
                           {k.arg: k.value for k in node.keywords})
        if method in METHODS and _in(METHODS[method], nondiff):
            return Operation("constant")
        if method in ("item", "astype") and isinstance(owner, gast.Name) and owner.id in local_names:
            return Operation("copy", sources=(owner.id,))   # the same number, another type
        mutated = owner.id if method in MUTATING_METHODS and isinstance(owner, gast.Name) else None
        return Operation("opaque", sources=local_loads(node, local_names), mutated=mutated,
                         refusal=refuse(UnsupportedSyntax, f"the method .{method}() is not "
                                        "differentiable", node, location,
                                        "Use a NumPy function with a rule instead (docs/coverage.md)."))

    def of_statement(stmt):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript):
                value = stmt.value
                sources = (value.id,) if isinstance(value, gast.Name) and value.id in local_names else ()
                return Operation("setitem", bound={"index": target.slice, "value": value},
                                 sources=sources + (target.value.id,), target=target.value.id)
            operation = of_value(stmt.value)
            operation.target = target.id
            return operation
        call = stmt.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                and call.func.attr == "append" and isinstance(call.func.value, gast.Name) \
                and call.func.value.id in local_names and len(call.args) == 1 and not call.keywords:
            owner = call.func.value.id
            value = call.args[0]
            sources = (value.id,) if isinstance(value, gast.Name) and value.id in local_names else ()
            return Operation("append", bound={"value": value}, sources=sources + (owner,),
                             target=owner)
        operation = of_value(call)
        # A bare call has no result to differentiate; it may only observe.
        return operation if operation.kind == "opaque" else Operation("constant")

    operations = {}
    for stmt in walk_statements(tree.body):
        if isinstance(stmt, (gast.Assign, gast.Expr)):
            operations[id(stmt)] = of_statement(stmt)
    return operations





def _in(function, table):
    try:
        return function in table
    except TypeError:       # unhashable objects are in no table
        return False


def _describe(function):
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if name is None:
        return f"a {type(function).__name__} object"
    return f"{module}.{name}" if module and module != "builtins" else name
