"""Stage 3: what each normalized statement computes (``tree -> facts``).

For every statement of the normalized body this decides which rule of the
table differentiates it, binds the rule's parameters to the statement's
operands, and notes which operands carry a derivative. A call nobody can
differentiate is recorded with the error to raise if a derivative reaches it.
"""
import inspect

import gast
import numpy as np

from pullback.code.astutil import walk_statements
from pullback.errors import NoDerivativeRule, UnsupportedSyntax, refuse
from pullback.analysis.operation import (
    BINARY_OPERATORS, UNARY_OPERATORS,
    ATTRIBUTES, DATA_TYPES, INTEGER_OPERATORS, NEVER_CONSTANT, OBSERVERS, METHODS, VALUE_ATTRIBUTES,
    Operation, arguments_told, describe, in_table, is_text, local_loads, shown_source,
    single_definitions, source_text, static_value)
from pullback.analysis.resolve_methods import MethodCalls
from pullback.frontend.normalize import is_static_reference
from pullback.frontend.parsing import LiftedFunction
from pullback.rules import active_rules
from pullback.runtime import stop_gradient
from pullback.runtime.containers import field


def _own_helper(function):
    return (getattr(function, "__module__", None) or "").startswith("pullback.runtime")


def resolve_operations(tree, parsed):
    """Map each statement of ``tree.body`` (by id) to its :class:`Operation`."""
    resolver = _Resolver(tree, parsed)
    return {id(stmt): resolver.of_statement(stmt) for stmt in walk_statements(tree.body)
            if isinstance(stmt, (gast.Assign, gast.Expr))}


class _Resolver(MethodCalls):
    """The facts one resolution reads: the rule table, the function's local
    names, and what each name assigned once holds."""

    def __init__(self, tree, parsed):
        self.tree, self.parsed = tree, parsed
        self.adjoints, self.nondiff = active_rules()
        self.runtime = False            # the rules of pullback's own helpers read (of_call)
        assigned = {n.id for n in gast.walk(tree)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        self.local_names = parsed.local_names | assigned
        self.location = parsed.location
        self.non_arrays = getattr(parsed, "non_arrays", frozenset())
        self.definitions = single_definitions(tree)
        self.varied = None          # may_vary(), computed when first asked

    def refused(self, node, what, advice, error=UnsupportedSyntax, mutated=None):
        return Operation("opaque", sources=local_loads(node, self.local_names), mutated=mutated,
                         refusal=refuse(error, what, node, self.location, advice))

    def of_rule(self, rule, node, args, keywords, shown):
        try:
            bound = rule.bind(args, keywords)
        except TypeError:
            return self.refused(node, f"{shown} called with {arguments_told(rule, args, keywords)} "
                                "is not differentiable yet",
                                "Call it with the arguments NumPy documents (docs/coverage.md lists "
                                "what pullback differentiates), or register a rule of your own with "
                                "@pullback.register_adjoint (docs/custom-rules.md).")
        dtype = bound.get("dtype")
        if "dtype" in rule.params and not (isinstance(dtype, gast.Constant) and dtype.value is None):
            kind = self.dtype_kind(dtype)
            if kind in ("i", "u", "b"):         # an integer result: no derivative
                return Operation("constant")
            if kind != "f":
                return self.refused(node, f"{shown} with dtype={shown_source(dtype)} is not "
                                    "differentiable (only a floating-point dtype written in the call "
                                    "is)", "Write the dtype itself (np.float64, 'float32') or leave it out.")
        sources = tuple(n.id for p in rule.differentiable
                        for n in (bound[p].elts if isinstance(bound[p], gast.Tuple) else [bound[p]])
                        if isinstance(n, gast.Name) and n.id in self.local_names)
        return Operation("rule", rule=rule, bound=bound, sources=sources)

    def follow(self, node):
        """The expression a local assigned once was assigned (through copies)."""
        for _ in range(16):
            if not (isinstance(node, gast.Name) and node.id in self.definitions):
                break
            node = self.definitions[node.id]
        return node

    def dtype_kind(self, node):
        """The kind ('f', 'i', 'c', ...) of a dtype written in the code, or None."""
        node = self.follow(node)     # dtype = np.float32; x.astype(dtype)
        try:
            if isinstance(node, gast.Constant):
                value = node.value
            elif is_static_reference(node, self.local_names):
                value = static_value(node, self.parsed)
            else:
                return None
            return np.dtype(value).kind
        except (TypeError, ValueError, NameError, AttributeError):
            return None

    def of_value(self, node):
        local = self.local_names
        match node:
            case gast.Name(id=name) if name in local:
                return Operation("copy", sources=(name,))
            case gast.Constant() | gast.Name() | gast.Compare():
                return Operation("constant")
            case gast.Attribute() if is_static_reference(node, local):
                return Operation("constant")
            case gast.BinOp(op=op, left=left, right=right):
                return self.of_operator(node, BINARY_OPERATORS.get(type(op)), [left, right])
            case gast.UnaryOp(op=op, operand=operand):
                return self.of_operator(node, UNARY_OPERATORS.get(type(op)), [operand])
            case gast.Attribute():
                return self.of_attribute(node)
            case gast.Call():
                return self.of_call(node)
            case gast.Subscript(value=gast.Name(id=name)) if name in local:
                return Operation("subscript", bound={"value": node.value, "index": node.slice},
                                 sources=(name,))
            case gast.Subscript():
                return self.of_static_subscript(node)
            case gast.Tuple(elts=elements) | gast.List(elts=elements):
                return Operation("pack", bound={"elements": elements},
                                 sources=tuple(e.id for e in elements
                                               if isinstance(e, gast.Name) and e.id in local))
            case gast.Dict(keys=keys, values=elements) if None not in keys:
                # {"W": w, "b": b}: a pack whose items are found by key (the keys carry no
                # derivative)
                return Operation("pack", bound={"elements": elements, "keys": keys},
                                 sources=tuple(e.id for e in elements
                                               if isinstance(e, gast.Name) and e.id in local))
            case gast.Dict():
                return self.refused(node, "unpacking a dict into a dict literal ({**d}) is not "
                                    "differentiable yet", "Write d2 = dict(d), then set the "
                                    "other keys by assignment: d2['k'] = v.")
        return self.refused(node, f"{type(node).__name__} expressions are not differentiable",
                            "Rewrite the expression with supported operations.")

    def of_attribute(self, node):
        """``x.shape`` (data), ``x.T`` (the rule of np.transpose)."""
        if node.attr in VALUE_ATTRIBUTES:
            return Operation("constant")
        function = ATTRIBUTES.get(node.attr)
        if in_table(function, self.adjoints):
            return self.of_rule(self.adjoints[function], node, [node.value], {}, f".{node.attr}")
        if in_table(function, self.nondiff) and not in_table(function, NEVER_CONSTANT):
            return Operation("constant")
        if function is None and in_table(field, self.adjoints) and not node.attr.startswith("_"):
            # p.w of a named tuple or a dataclass (np.linalg.slogdet(a).logabsdet); anything
            # else is refused when the derivative runs (runtime/containers.py)
            return self.of_rule(self.adjoints[field], node,
                                [node.value, gast.Constant(value=node.attr, kind=None)], {},
                                f".{node.attr}")
        return self.refused(node, f"the attribute .{node.attr} is not differentiable",
                            "Use a NumPy function with a rule instead (docs/coverage.md).")

    def of_operator(self, node, function, operands):
        if in_table(function, self.adjoints):
            return self.of_rule(self.adjoints[function], node, operands, {}, "this operator")
        if isinstance(node.op, INTEGER_OPERATORS) or (
                in_table(function, self.nondiff) and not in_table(function, NEVER_CONSTANT)):
            return Operation("constant")     # floor division, bit operations, not
        return self.refused(node, f"the operator {type(node.op).__name__} has no derivative rule",
                            "Register one with @pullback.register_adjoint for the function of the "
                            "operator module it stands for (docs/custom-rules.md).", NoDerivativeRule)

    def of_static_subscript(self, node):
        """``np.r_[a, b]``, ``TABLE[i]``: a subscript of an object that is not a local."""
        try:
            value = static_value(node.value, self.parsed) if is_static_reference(
                node.value, self.local_names) else None
        except (NameError, AttributeError):
            value = None
        elements = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        reads_locals = bool(local_loads(node.slice, self.local_names))
        if value is not None and in_table(value, self.adjoints):        # np.r_, np.c_
            if any(isinstance(e, gast.Slice) or (isinstance(e, gast.Constant)
                                                 and isinstance(e.value, str)) for e in elements):
                if not reads_locals:
                    return Operation("constant")
                return self.refused(node, f"{source_text(node.value)}[...] with a slice or a directive "
                                    "string is not differentiable",
                                    "Join the arrays with np.concatenate, np.arange or np.linspace.")
            return self.of_rule(self.adjoints[value], node, elements, {},
                                f"{source_text(node.value)}[...]")
        if not reads_locals or isinstance(value, DATA_TYPES):
            # Constant data read at a position computed here: no derivative flows.
            return Operation("subscript", bound={"value": node.value, "index": node.slice})
        shown = source_text(node.value) if value is not None else "this object"
        return self.refused(node, f"pullback has no derivative rule for subscripting {shown} "
                            f"({describe(type(value))}) with values computed here",
                            "Use a NumPy function with a rule instead (docs/coverage.md).",
                            NoDerivativeRule)

    def of_call(self, node):
        func = node.func
        if isinstance(func, gast.Attribute) and not is_static_reference(func, self.local_names):
            return self.of_method(node)
        if not is_static_reference(func, self.local_names):
            name = getattr(func, "id", "this function")
            return self.refused(node, f"calling {name}, a function only known when the derivative "
                                "runs, is not differentiable",
                                f"pullback must know the function when it writes the derivative: call it by its "
                                f"module-level name, or differentiate a wrapper that passes it, e.g. "
                                f"def g(x): return f(np.tanh, x). Inside such a wrapper the call is known.")
        try:
            function = static_value(node.func, self.parsed)
        except (NameError, AttributeError) as error:
            return self.refused(node, f"cannot resolve the function called here ({error})",
                                "Make sure the name is defined before the function is called.",
                                NoDerivativeRule)
        keywords = {k.arg: k.value for k in node.keywords}
        shown = f"{describe(function)}()"
        if function in (max, min) and len(node.args) == 1 and not keywords \
                and in_table(np.max, self.adjoints) and in_table(np.min, self.adjoints):
            # max(values): the largest item of one list or vector, as np.max gives it.
            return self.of_rule(self.adjoints[np.max if function is max else np.min], node, node.args, {},
                                shown)
        if function is np.einsum and node.args and not is_text(node.args[0]):
            return self.of_einsum_sublists(node, keywords)
        if not in_table(function, self.adjoints) and _own_helper(function) and not self.runtime:
            # generated code calls pullback's helpers: their rules (higher order), read now
            self.runtime = True
            self.adjoints, self.nondiff = active_rules(runtime=True)
        if in_table(function, self.adjoints):
            return self.of_rule(self.adjoints[function], node, node.args, keywords, shown)
        if (in_table(function, self.nondiff) and not in_table(function, NEVER_CONSTANT)) \
                or in_table(function, OBSERVERS) or function is stop_gradient:
            return Operation("constant", function=function)
        if isinstance(getattr(function, "__self__", None), (np.ndarray, np.generic)) and \
                getattr(function, "__name__", None) in METHODS:
            return self.of_method(node)          # W.dot(x) for a global array W
        if isinstance(getattr(function, "__self__", None), np.ufunc):
            return self.of_ufunc_method(node, function, keywords)
        if getattr(function, "__pullback_derivative__", False) and not isinstance(function, type):
            # a derivative made by pullback: its generated code is differentiated (higher order)
            function = function.generated_function()
        elif inspect.isfunction(function) and (function.__module__ or "").startswith("pullback."):
            return self.refused(node, f"pullback's own {describe(function)} has no derivative rule",
                                "Differentiate the function it is applied to instead (pullback.jvp, "
                                "pullback.hvp, pullback.hessian, or a derivative object made "
                                "outside the function).", NoDerivativeRule)
        if isinstance(function, LiftedFunction) or (
                inspect.isfunction(function) and not hasattr(function, "__pullback_derivative__")):
            # Another Python function: differentiated too, into its own pair of functions.
            return Operation("call", bound={"function": function, "node": node},
                             sources=local_loads(node, self.local_names))
        return self.refused(node, f"pullback has no derivative rule for {describe(function)}",
                            "Register one with @pullback.register_adjoint (docs/custom-rules.md), mark it "
                            "with pullback.nondifferentiable if no derivative flows through it, or call a "
                            "function that has a rule (docs/coverage.md).", NoDerivativeRule)

    def of_statement(self, stmt):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript):
                value = stmt.value
                local = isinstance(value, gast.Name) and value.id in self.local_names
                sources = (value.id,) if local else ()
                return Operation("setitem", bound={"index": target.slice, "value": value},
                                 sources=sources + (target.value.id,), target=target.value.id)
            value = stmt.value
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                    and value.func.attr == "pop" and isinstance(value.func.value, gast.Name) \
                    and value.func.value.id in self.local_names and not value.args \
                    and not value.keywords:
                # y = items.pop(): the last item, and items changes in place (forward mode;
                # reverse mode reads it as y = items[-1]; items = items[:-1], see desugar_pops)
                owner = value.func.value.id
                return Operation("pop", bound={"owner": owner}, sources=(owner,), target=target.id,
                                 mutated=owner)
            operation = self.of_value(stmt.value)
            operation.target = target.id
            return operation
        call = stmt.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                and call.func.attr == "append" and isinstance(call.func.value, gast.Name) \
                and call.func.value.id in self.local_names and len(call.args) == 1 and not call.keywords:
            owner = call.func.value.id
            value = call.args[0]
            local = isinstance(value, gast.Name) and value.id in self.local_names
            sources = (value.id,) if local else ()
            return Operation("append", bound={"value": value}, sources=sources + (owner,),
                             target=owner)
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                and call.func.attr == "pop" and isinstance(call.func.value, gast.Name) \
                and call.func.value.id in self.local_names and not call.args and not call.keywords:
            return Operation("pop", bound={"owner": call.func.value.id},
                             sources=(call.func.value.id,), mutated=call.func.value.id)
        operation = self.of_value(call)
        # A bare call has no result to differentiate; it may only observe.
        return operation if operation.kind == "opaque" else Operation(
            "constant", function=operation.function if operation.kind == "constant" else None)


