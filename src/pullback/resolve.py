"""Stage 3: what each normalized statement computes (``tree -> facts``).

For every statement of the normalized body this decides which rule of the
table differentiates it, binds the rule's parameters to the statement's
operands, and notes which operands carry a derivative. A call nobody can
differentiate is recorded with the error to raise if a derivative reaches it.
"""
import inspect
from dataclasses import dataclass, field

import gast

from .errors import NoDerivativeRule, UnsupportedSyntax, refuse
from .normalize import is_static_reference
from .rules import BINARY_OPERATORS, UNARY_OPERATORS, rule_table

# Attributes of an array that are plain data: no derivative flows through them.
VALUE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})
# Calls that only observe values.
OBSERVERS = frozenset({print, isinstance, type, repr, str, id})


@dataclass
class Operation:
    """The meaning of one normalized statement."""
    kind: str                   # "rule", "copy", "constant", "opaque"
    rule: object = None         # the Rule, for kind == "rule"
    bound: dict = field(default_factory=dict)   # rule parameter -> operand node
    sources: tuple = ()         # operand names a derivative flows from
    refusal: Exception = None   # raised if a derivative would have to pass here

    def inputs(self):
        """Local names this operation reads (for activity analysis)."""
        return self.sources


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
    adjoints, nondiff = rule_table()
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
        sources = tuple(bound[p].id for p in rule.differentiable
                        if isinstance(bound[p], gast.Name) and bound[p].id in local_names)
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
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                UnsupportedSyntax, f"the array attribute .{node.attr} is not differentiable yet",
                node, location, "Use the NumPy function instead (np.transpose(x) for x.T)."))
        if isinstance(node, gast.Call):
            return of_call(node)
        if isinstance(node, (gast.Tuple, gast.List)):
            kind = "tuple" if isinstance(node, gast.Tuple) else "list"
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                UnsupportedSyntax, f"a {kind} holding differentiable values is not supported yet",
                node, location, "Keep differentiable values in separate variables or one array."))
        return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
            UnsupportedSyntax, f"{type(node).__name__} expressions are not differentiable",
            node, location, "Rewrite the expression with supported operations."))

    def of_call(node):
        if not is_static_reference(node.func, local_names):
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                UnsupportedSyntax, "calling a local variable or a method is not differentiable yet",
                node, location, "Call a module-level function (np.sum(x) for x.sum())."))
        try:
            function = static_value(node.func, parsed)
        except (NameError, AttributeError) as error:
            return Operation("opaque", sources=local_loads(node, local_names), refusal=refuse(
                NoDerivativeRule, f"cannot resolve the function called here ({error})",
                node, location, "Make sure the name is defined before the function is called."))
        keywords = {k.arg: k.value for k in node.keywords}
        if _in(function, adjoints):
            return of_rule(adjoints[function], node, node.args, keywords)
        if _in(function, nondiff) or _in(function, OBSERVERS):
            return Operation("constant")
        name = getattr(function, "__qualname__", None) or repr(function)
        if inspect.isfunction(function):
            what = (f"calls to other Python functions ({name}) are not differentiable yet")
            advice = "Inline the helper's code into the function you differentiate for now."
        else:
            what = f"pullback has no derivative rule for {_describe(function)}"
            advice = ("Call a function that has a rule (docs/coverage.md), or compute this "
                      "value outside the differentiated function and pass it in.")
        return Operation("opaque", sources=local_loads(node, local_names),
                         refusal=refuse(NoDerivativeRule, what, node, location, advice))

    operations = {}
    for stmt in tree.body:
        if isinstance(stmt, gast.Assign):
            operations[id(stmt)] = of_value(stmt.value)
        elif isinstance(stmt, gast.Expr):
            operation = of_value(stmt.value)
            # A bare call has no result to differentiate; it may only observe.
            operations[id(stmt)] = operation if operation.kind == "opaque" else Operation("constant")
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
