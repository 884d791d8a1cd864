"""Stage 3: what each normalized statement computes (``tree -> facts``).

For every statement of the normalized body this decides which rule of the
table differentiates it, binds the rule's parameters to the statement's
operands, and notes which operands carry a derivative. A call nobody can
differentiate is recorded with the error to raise if a derivative reaches it.
"""
import copy
import inspect
import math
import operator
import types
from dataclasses import dataclass, field

import gast
import numpy as np

from pullback.code.astutil import walk_statements
from pullback.errors import NoDerivativeRule, UnsupportedSyntax, refuse
from pullback.frontend.normalize import MUTATING_METHODS, is_static_reference
from pullback.frontend.parsing import LiftedFunction, parameter_names
from pullback.rules import BINARY_OPERATORS, UNARY_OPERATORS, active_rules
from pullback.runtime import stop_gradient

# Attributes of an array that are plain data: no derivative flows through them.
VALUE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})
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
ATTRIBUTES = {"T": np.transpose, "real": np.real, "imag": np.imag}
# Operators on integers and booleans only (floats raise): no derivative to lose.
INTEGER_OPERATORS = (gast.BitAnd, gast.BitOr, gast.BitXor, gast.LShift, gast.RShift, gast.Invert,
                     gast.Not)
# Functions with a derivative somewhere (x % y is x plus a step function): they
# are refused without a rule, even where a table lists them as nondifferentiable.
NEVER_CONSTANT = (operator.mod, np.mod, np.remainder, np.fmod, math.fmod, math.remainder,
                  divmod, np.divmod)
# ufunc methods with the meaning of a NumPy function whose rule applies:
# np.add.reduce(x) is np.sum(x, axis=0) (the methods' axis defaults to 0),
# np.multiply.outer(a, b) is np.tensordot(a, b, axes=0).
UFUNC_METHODS = {("add", "reduce"): np.sum, ("multiply", "reduce"): np.prod,
                 ("maximum", "reduce"): np.max, ("minimum", "reduce"): np.min,
                 ("add", "accumulate"): np.cumsum, ("multiply", "accumulate"): np.cumprod,
                 ("multiply", "outer"): np.tensordot}
# The parameters of the ufunc methods, in order.
_UFUNC_PARAMETERS = {"reduce": ("array", "axis", "dtype", "out", "keepdims", "initial", "where"),
                     "accumulate": ("array", "axis", "dtype", "out"), "outer": ("A", "B")}
# Objects whose subscript only reads data (or builds an index): the index
# carries no derivative, so a subscript of one of them held in a global is a constant.
_DATA_TYPES = (np.ndarray, np.generic, list, tuple, dict, str, bytes, range, int, float,
               type(np.s_))


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
    non_arrays = getattr(parsed, "non_arrays", frozenset())
    definitions = _definitions(tree)

    def refused(node, what, advice, error=UnsupportedSyntax, mutated=None):
        return Operation("opaque", sources=local_loads(node, local_names), mutated=mutated,
                         refusal=refuse(error, what, node, location, advice))

    def of_rule(rule, node, args, keywords, shown):
        try:
            bound = rule.bind(args, keywords)
        except TypeError:
            return refused(node, f"{shown} called with {_arguments_told(rule, args, keywords)} "
                           "is not differentiable yet",
                           "Call it with the arguments NumPy documents (docs/coverage.md lists "
                           "what pullback differentiates), or register a rule of your own with "
                           "@pullback.register_adjoint (docs/custom-rules.md).")
        dtype = bound.get("dtype")
        if "dtype" in rule.params and not (isinstance(dtype, gast.Constant) and dtype.value is None):
            kind = dtype_kind(dtype)
            if kind in ("i", "u", "b"):         # an integer result: no derivative
                return Operation("constant")
            if kind != "f":
                return refused(node, f"{shown} with dtype={_shown_source(dtype)} is not "
                               "differentiable (only a floating-point dtype written in the call "
                               "is)", "Write the dtype itself (np.float64, 'float32') or leave it out.")
        sources = tuple(n.id for p in rule.differentiable
                        for n in (bound[p].elts if isinstance(bound[p], gast.Tuple) else [bound[p]])
                        if isinstance(n, gast.Name) and n.id in local_names)
        return Operation("rule", rule=rule, bound=bound, sources=sources)

    def follow(node):
        """The expression a local assigned once was assigned (through copies)."""
        for _ in range(16):
            if not (isinstance(node, gast.Name) and node.id in definitions):
                break
            node = definitions[node.id]
        return node

    def dtype_kind(node):
        """The kind ('f', 'i', 'c', ...) of a dtype written in the code, or None."""
        node = follow(node)     # dtype = np.float32; x.astype(dtype)
        try:
            if isinstance(node, gast.Constant):
                value = node.value
            elif is_static_reference(node, local_names):
                value = static_value(node, parsed)
            else:
                return None
            return np.dtype(value).kind
        except (TypeError, ValueError, NameError, AttributeError):
            return None

    def of_value(node):
        if isinstance(node, gast.Name) and node.id in local_names:
            return Operation("copy", sources=(node.id,))
        if isinstance(node, gast.Constant) or (
                isinstance(node, gast.Attribute) and is_static_reference(node, local_names)) or (
                isinstance(node, gast.Name)):
            return Operation("constant")
        if isinstance(node, gast.BinOp):
            return of_operator(node, BINARY_OPERATORS.get(type(node.op)), [node.left, node.right])
        if isinstance(node, gast.UnaryOp):
            return of_operator(node, UNARY_OPERATORS.get(type(node.op)), [node.operand])
        if isinstance(node, gast.Compare):
            return Operation("constant")
        if isinstance(node, gast.Attribute):
            if node.attr in VALUE_ATTRIBUTES:
                return Operation("constant")
            function = ATTRIBUTES.get(node.attr)
            if _in(function, adjoints):
                return of_rule(adjoints[function], node, [node.value], {}, f".{node.attr}")
            if _in(function, nondiff) and not _in(function, NEVER_CONSTANT):
                return Operation("constant")
            return refused(node, f"the attribute .{node.attr} is not differentiable",
                           "Use a NumPy function with a rule instead (docs/coverage.md).")
        if isinstance(node, gast.Call):
            return of_call(node)
        if isinstance(node, gast.Subscript):
            if not (isinstance(node.value, gast.Name) and node.value.id in local_names):
                return of_static_subscript(node)
            return Operation("subscript", bound={"value": node.value, "index": node.slice},
                             sources=(node.value.id,))
        if isinstance(node, (gast.Tuple, gast.List)):
            return Operation("pack", bound={"elements": node.elts},
                             sources=tuple(e.id for e in node.elts
                                           if isinstance(e, gast.Name) and e.id in local_names))
        return refused(node, f"{type(node).__name__} expressions are not differentiable",
                       "Rewrite the expression with supported operations.")

    def of_operator(node, function, operands):
        if _in(function, adjoints):
            return of_rule(adjoints[function], node, operands, {}, "this operator")
        if isinstance(node.op, INTEGER_OPERATORS) or (
                _in(function, nondiff) and not _in(function, NEVER_CONSTANT)):
            return Operation("constant")     # floor division, bit operations, not
        return refused(node, f"the operator {type(node.op).__name__} has no derivative rule",
                       "Register one with @pullback.register_adjoint for the function of the "
                       "operator module it stands for (docs/custom-rules.md).", NoDerivativeRule)

    def of_static_subscript(node):
        """``np.r_[a, b]``, ``TABLE[i]``: a subscript of an object that is not a local."""
        try:
            value = static_value(node.value, parsed) if is_static_reference(
                node.value, local_names) else None
        except (NameError, AttributeError):
            value = None
        elements = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        reads_locals = bool(local_loads(node.slice, local_names))
        if value is not None and _in(value, adjoints):        # np.r_, np.c_
            if any(isinstance(e, gast.Slice) or (isinstance(e, gast.Constant)
                                                 and isinstance(e.value, str)) for e in elements):
                if not reads_locals:
                    return Operation("constant")
                return refused(node, f"{_source_of(node.value)}[...] with a slice or a directive "
                               "string is not differentiable",
                               "Join the arrays with np.concatenate, np.arange or np.linspace.")
            return of_rule(adjoints[value], node, elements, {}, f"{_source_of(node.value)}[...]")
        if not reads_locals or isinstance(value, _DATA_TYPES):
            # Constant data read at a position computed here: no derivative flows.
            return Operation("subscript", bound={"value": node.value, "index": node.slice})
        shown = _source_of(node.value) if value is not None else "this object"
        return refused(node, f"pullback has no derivative rule for subscripting {shown} "
                       f"({_describe(type(value))}) with values computed here",
                       "Use a NumPy function with a rule instead (docs/coverage.md).",
                       NoDerivativeRule)

    def of_call(node):
        func = node.func
        if isinstance(func, gast.Attribute) and not is_static_reference(func, local_names):
            return of_method(node)
        if not is_static_reference(func, local_names):
            name = getattr(func, "id", "this function")
            return refused(node, f"calling {name}, a function only known when the derivative "
                           "runs, is not differentiable",
                           f"pullback must know the function when it writes the derivative: call it by its "
                           f"module-level name, or differentiate a wrapper that passes it, e.g. "
                           f"def g(x): return f(np.tanh, x). Inside such a wrapper the call is known.")
        try:
            function = static_value(node.func, parsed)
        except (NameError, AttributeError) as error:
            return refused(node, f"cannot resolve the function called here ({error})",
                           "Make sure the name is defined before the function is called.",
                           NoDerivativeRule)
        keywords = {k.arg: k.value for k in node.keywords}
        shown = f"{_describe(function)}()"
        if function in (max, min) and len(node.args) == 1 and not keywords \
                and _in(np.max, adjoints) and _in(np.min, adjoints):
            # max(values): the largest item of one list or vector, as np.max gives it.
            return of_rule(adjoints[np.max if function is max else np.min], node, node.args, {},
                           shown)
        if function is np.einsum and node.args and not _is_text(node.args[0]):
            return of_einsum_sublists(node, keywords)
        if _in(function, adjoints):
            return of_rule(adjoints[function], node, node.args, keywords, shown)
        if (_in(function, nondiff) and not _in(function, NEVER_CONSTANT)) \
                or _in(function, OBSERVERS) or function is stop_gradient:
            return Operation("constant")
        if isinstance(getattr(function, "__self__", None), (np.ndarray, np.generic)) and \
                getattr(function, "__name__", None) in METHODS:
            return of_method(node)          # W.dot(x) for a global array W
        if isinstance(getattr(function, "__self__", None), np.ufunc):
            return of_ufunc_method(node, function, keywords)
        if isinstance(function, LiftedFunction) or (
                inspect.isfunction(function) and not hasattr(function, "__pullback_derivative__")):
            # Another Python function: differentiated too, into its own pair of functions.
            return Operation("call", bound={"function": function, "node": node},
                             sources=local_loads(node, local_names))
        if getattr(function, "__pullback_derivative__", False):
            return refused(node, "calling a derivative made by pullback inside a differentiated "
                           "function would need a higher-order derivative, which is not "
                           "supported yet", "Differentiate the original function once, or "
                           "approximate the second derivative by central differences of the "
                           "gradient.")
        return refused(node, f"pullback has no derivative rule for {_describe(function)}",
                       "Register one with @pullback.register_adjoint (docs/custom-rules.md), mark it "
                       "with pullback.nondifferentiable if no derivative flows through it, or call a "
                       "function that has a rule (docs/coverage.md).", NoDerivativeRule)

    def of_ufunc_method(node, method, keywords):
        """``np.add.reduce(x, axis)`` as ``np.sum(x, axis)``, ``np.multiply.outer(a, b)`` as
        ``np.tensordot(a, b, 0)``. A bound method is made anew at each access, so it is
        recognised by its ufunc and name, never looked up in a table."""
        ufunc, name = method.__self__, method.__name__
        shown = f"np.{ufunc.__name__}.{name}()"
        function = UFUNC_METHODS.get((ufunc.__name__, name))
        parameters = _UFUNC_PARAMETERS.get(name, ())
        if function is None or ufunc is not getattr(np, ufunc.__name__, None) \
                or not _in(function, adjoints):
            return refused(node, f"pullback has no derivative rule for {shown}",
                           "Use the NumPy function it stands for (np.sum for np.add.reduce, "
                           "np.cumsum for np.add.accumulate, ...), which has a rule.", NoDerivativeRule)
        if len(node.args) > len(parameters) or any(k not in parameters for k in keywords):
            return of_rule(adjoints[function], node, [None] * 9, {}, shown)   # refused
        given = dict(zip(parameters, node.args), **keywords)
        if name == "outer":
            return of_rule(adjoints[function], node, [given["A"], given["B"]],
                           {"axes": gast.Constant(value=0, kind=None)}, shown)
        if "initial" in given or "where" in given:
            return refused(node, f"{shown} with initial= or where= is not differentiable yet",
                           f"Use the NumPy function it stands for ({function.__name__}).")
        arguments = {"a": given["array"], "axis": given.get("axis", gast.Constant(value=0, kind=None))}
        arguments.update((k, v) for k, v in given.items() if k in ("dtype", "keepdims"))
        return of_rule(adjoints[function], node, [], arguments, shown)

    def of_einsum_sublists(node, keywords):
        """``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``: the same call with subscripts
        written as letters, when every sublist is written out in the call."""
        args = node.args
        operands = args[0:-1:2] if len(args) % 2 else args[0::2]
        sublists = args[1::2] if len(args) % 2 == 0 else args[1:-1:2]
        output = args[-1] if len(args) % 2 else None
        text = [_sublist_letters(follow(s)) for s in sublists]
        out_text = _sublist_letters(follow(output)) if output is not None else ""
        if None in text or out_text is None or not operands:
            return refused(node, "np.einsum with subscripts given as lists computed here is "
                           "not differentiable yet",
                           "Write the subscripts as a string ('ij,jk->ik') or as tuples of "
                           "integers written in the call.")
        subscripts = ",".join(text) + ("->" + out_text if output is not None else "")
        return of_rule(adjoints[np.einsum], node, [gast.Constant(value=subscripts, kind=None)]
                       + list(operands), keywords, "np.einsum()")

    def of_method(node):
        owner, method = node.func.value, node.func.attr
        if isinstance(owner, gast.Name) and owner.id in non_arrays:
            return refused(node, f"{owner.id} may hold a module or a function here, so pullback "
                           f"cannot tell what {owner.id}.{method}() calls",
                           f"Call the function by its module-level name (np.{method}), or bind "
                           f"{owner.id} once, at the top of the function or as a parameter's "
                           f"default ({owner.id}=np).")
        shown = f".{method}()"
        keywords = {k.arg: k.value for k in node.keywords}
        if method == "item":
            return of_item(node, owner)
        if method == "astype":
            dtype = node.args[0] if node.args else keywords.get("dtype")
            kind = dtype_kind(dtype) if dtype is not None else None
            if kind in ("i", "u", "b"):
                return Operation("constant")
            if kind == "f" and _in(np.float64, adjoints):
                return of_rule(adjoints[np.float64], node, [owner], {}, shown)
            return refused(node, f".astype({_shown_source(dtype)}) is not differentiable "
                           "(only a cast to a floating-point dtype written in the call is)",
                           "Write the dtype itself: x.astype(np.float64), x.astype('float32').")
        if method in METHODS and _in(METHODS[method], adjoints):
            args = node.args
            if method in ("reshape", "transpose") and len(args) > 1:   # x.reshape(2, 3)
                args = [gast.Tuple(elts=list(args), ctx=gast.Load())]
            operation = of_rule(adjoints[METHODS[method]], node, [owner] + args, keywords, shown)
            if operation.kind == "rule" and may_not_be_array(owner) and any(
                    set(local_loads(value, local_names)) & may_vary()
                    for name, value in operation.bound.items()
                    if name not in operation.rule.differentiable and isinstance(value, gast.AST)):
                return refused(node, f"pullback cannot tell that {owner.id} is an array, and "
                               f"{owner.id}.{method}() passes a value computed here where an "
                               f"array method takes no derivative (if {owner.id} is a module, "
                               f"the call means something else)",
                               f"Call the function by its module-level name (np.{method}), or "
                               f"convert first: {owner.id} = np.asarray({owner.id}).")
            return operation
        if method in METHODS and _in(METHODS[method], nondiff):
            return Operation("constant")
        mutated = owner.id if method in MUTATING_METHODS and isinstance(owner, gast.Name) else None
        return refused(node, f"the method .{method}() is not differentiable",
                       "Use a NumPy function with a rule instead (docs/coverage.md).",
                       mutated=mutated)

    varied = []

    def may_vary():
        """Names that may depend on a differentiated parameter (an over-approximation
        of activity's varied set: every assignment that reads one taints its target)."""
        if not varied:
            flows = []
            for stmt in walk_statements(tree.body):
                if isinstance(stmt, gast.Assign):
                    target = stmt.targets[0]
                    name = target.value.id if isinstance(target, gast.Subscript) else target.id
                    flows.append((name, set(local_loads(stmt, local_names))))
                elif isinstance(stmt, gast.Expr):        # ys.append(v), x.sort()
                    call = stmt.value
                    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                            and isinstance(call.func.value, gast.Name):
                        flows.append((call.func.value.id, set(local_loads(call, local_names))))
            found = set(getattr(parsed, "wrt_names", local_names))
            changed = True
            while changed:
                changed = False
                for name, reads in flows:
                    if name not in found and reads & found:
                        found.add(name)
                        changed = True
            varied.append(found)
        return varied[0]

    def may_not_be_array(owner):
        """Is ``owner`` a local read out of some object (``cfg.xp``, ``MODULES[0]``,
        a global that is no array), so that it may hold a module?"""
        origin = follow(owner)
        if origin is owner or not isinstance(origin, (gast.Attribute, gast.Subscript, gast.Name)):
            return False
        if isinstance(origin, gast.Attribute) and origin.attr in ATTRIBUTES:
            return False                    # x.T, x.real of a local array
        root = origin.value if isinstance(origin, gast.Subscript) else origin
        if not is_static_reference(root, local_names):
            return isinstance(origin, gast.Attribute)     # cfg.xp of a local object
        try:
            value = static_value(root, parsed)
        except (NameError, AttributeError):
            return True
        return not isinstance(value, (np.ndarray, np.generic, float, int)) if \
            isinstance(origin, (gast.Attribute, gast.Name)) else not isinstance(value, np.ndarray)

    def of_item(node, owner):
        """``x.item()`` and ``x.item(i)`` read one element, as ``np.take(x, i)`` does
        (a flat index); ``x.item(i, j)`` (read ``x[i, j]`` instead) is refused."""
        args = node.args
        if node.keywords or not _in(np.take, adjoints):
            return refused(node, "this call of .item() is not differentiable",
                           "Index the array instead: x[i, j] or np.ravel(x)[i].")
        if len(args) > 1:
            return refused(node, ".item() of several indices is not differentiable yet",
                           "Index the array instead: x[i, j].")
        index = args[0] if args else gast.Constant(value=0, kind=None)
        if not _is_flat_index(index):
            return refused(node, ".item() of an index pullback cannot tell is one number "
                           "(it may be a tuple) is not differentiable",
                           "Index the array instead: x[i, j] for a tuple, np.ravel(x)[i] for a "
                           "flat position.")
        return of_rule(adjoints[np.take], node, [owner, index], {}, ".item()")

    def _is_flat_index(node):
        """An index known to be one integer: a literal, or a local computed by
        arithmetic on integers or a call (never a tuple), not a parameter."""
        node = follow(node)
        if isinstance(node, gast.Constant):
            return isinstance(node.value, int) and not isinstance(node.value, bool)
        return isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Call)) and not (
            isinstance(node, gast.Call) and _is_tuple_maker(node))

    def _is_tuple_maker(call):
        try:
            function = static_value(call.func, parsed) if is_static_reference(
                call.func, local_names) else None
        except (NameError, AttributeError):
            return True
        return function in (tuple, np.unravel_index, divmod) or function is None

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


def _definitions(tree):
    """name -> the value of its only assignment (names assigned more than once left out)."""
    found, counts = {}, {}
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            counts[node.id] = counts.get(node.id, 0) + 1
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name) and counts[node.targets[0].id] == 1:
            found[node.targets[0].id] = node.value
    return found


def _is_text(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str)


def _sublist_letters(node):
    """``(0, 1)`` -> ``"ab"``, ``(Ellipsis, 0)`` -> ``"...a"``; None if not written out."""
    if not isinstance(node, (gast.Tuple, gast.List)):
        return None
    letters = []
    for element in node.elts:
        if isinstance(element, gast.Name) and element.id == "Ellipsis":
            letters.append("...")
            continue
        if not isinstance(element, gast.Constant):
            return None
        if element.value is Ellipsis:
            letters.append("...")
        elif isinstance(element.value, int) and not isinstance(element.value, bool) \
                and 0 <= element.value < 52:
            letters.append("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[element.value])
        else:
            return None
    return "".join(letters)


def _arguments_told(rule, args, keywords):
    """How the user's call differs from what the rule takes, in the user's terms."""
    fixed = [p for p in rule.params if p != rule.varargs and p not in rule.keyword_only]
    if len(args) > len(fixed) and rule.varargs is None:
        return f"{len(args)} positional arguments"
    unknown = [k for k in keywords if k not in rule.params]
    if unknown:
        return f"the argument {unknown[0]}="
    return f"{len(args)} positional argument{'s' * (len(args) != 1)}" + (
        f" and {', '.join(k + '=' for k in keywords)}" if keywords else "")


def _shown_source(node):
    if node is None:
        return ""
    try:
        return _source_of(node) if isinstance(node, (gast.Name, gast.Attribute)) else repr(node.value)
    except AttributeError:
        return "..."


# -- names that hold a module or a function, not data ---------------------------

def _is_namespace(value):
    """Modules, classes and functions (ufuncs, builtins, user functions): a
    name bound to one of these is how code reaches NumPy under another name
    (``xp=np``, ``m = np``, ``act = np.tanh``), never data to differentiate."""
    return isinstance(value, (types.ModuleType, type)) or (
        callable(value) and not isinstance(value, (np.ndarray, np.generic)))


def bind_static_names(parsed, wrt=()):
    """Replace the names that stand for a module or a function by what they stand for.

    A parameter whose default is a module or a function (``def f(x, xp=np)``)
    and a local assigned one only once, at the top of the body (``xp = np``,
    ``act = np.tanh``), are read as the static reference they hold
    (``xp.mean(v)`` -> ``np.mean(v)``), so the call resolves to its rule like
    any ``np.mean`` would. The derivative is then right only for that value:
    a parameter gets a guard at the top of the body, ``if xp is not np: raise
    TypeError(...)``, so a caller passing another object gets an error, never
    a derivative made for ``np``. Names that may hold such an object but
    cannot be replaced (assigned several times, a default pullback cannot
    name) are recorded in ``parsed.non_arrays``: a method called on them is
    refused (:func:`resolve_operations`), never taken for an ndarray method.

    A parameter without such a default that is not differentiated (``wrt``
    indexes the parameters; those are checked to be arrays or numbers at the
    call) may still be given a module: where a method call on it would pass a
    value of the function to a parameter of the method's rule that carries no
    derivative (``xp.mean(v)`` read as ``v.mean(axis=v)``), the body starts with
    ``if not hasattr(xp, '__array__'): raise TypeError(...)``.
    """
    tree = parsed.tree
    body_stores = {}
    for stmt in tree.body:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                body_stores[node.id] = body_stores.get(node.id, 0) + 1
    non_arrays = set()
    replacements = {}       # name -> (expression, index of the first statement it applies from)
    guards = []
    for name, node, value in _parameter_defaults(parsed):
        if name in parsed.statics or not _is_namespace(value):
            continue
        if isinstance(value, type):     # dtype=np.float32: a parameter the caller may change
            continue
        if body_stores.get(name) or not _names_value(node, value, parsed):
            non_arrays.add(name)
            continue
        replacements[name] = (node, 0)
        guards.append(_default_guard(name, node, parsed))
    for index, stmt in enumerate(tree.body):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            continue
        name = stmt.targets[0].id
        if name in parsed.statics or name in replacements or \
                not is_static_reference(stmt.value, parsed.local_names):
            continue
        try:
            value = static_value(stmt.value, parsed)
        except (NameError, AttributeError):
            continue
        if not _is_namespace(value):
            continue
        if body_stores.get(name) == 1 and name not in parameter_names(tree):
            replacements[name] = (stmt.value, index + 1)
        else:
            non_arrays.add(name)
    non_arrays |= _namespace_holders(tree, parsed) - set(replacements)   # in a branch, a loop
    for index, stmt in enumerate(tree.body):
        _substitute(stmt, {n: e for n, (e, first) in replacements.items() if index >= first})
    params = parameter_names(tree)
    parsed.wrt_names = frozenset(params[i] for i in wrt)
    unsure = set(params) - {params[i] for i in wrt} - set(replacements) - non_arrays \
        - set(body_stores) - set(parsed.statics)
    guards += _array_owner_guards(parsed, unsure)
    tree.body[:0] = guards
    parsed.non_arrays = frozenset(non_arrays)
    return parsed


def _parameter_defaults(parsed):
    """``(name, default expression, default value)`` of each parameter with a default."""
    function = parsed.function
    if not inspect.isfunction(function):
        return []
    args = parsed.tree.args
    positional = args.posonlyargs + args.args
    found = []
    for param, node, value in zip(positional[len(positional) - len(args.defaults):],
                                  args.defaults, function.__defaults__ or ()):
        found.append((param.id, node, value))
    keyword_defaults = function.__kwdefaults__ or {}
    for param, node in zip(args.kwonlyargs, args.kw_defaults):
        if node is not None and param.id in keyword_defaults:
            found.append((param.id, node, keyword_defaults[param.id]))
    return found


def _names_value(node, value, parsed):
    """Does the expression ``node`` (a default, as written) still evaluate to ``value``?"""
    if not is_static_reference(node, parsed.local_names):
        return False
    try:
        return static_value(node, parsed) is value
    except (NameError, AttributeError):
        return False


def _namespace_holders(tree, parsed):
    """Names some assignment of the body binds to a module or a function."""
    found = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and is_static_reference(node.value, parsed.local_names):
            try:
                value = static_value(node.value, parsed)
            except (NameError, AttributeError):
                continue
            if _is_namespace(value):
                found.update(t.id for t in node.targets if isinstance(t, gast.Name))
    return found


def _substitute(stmt, replacements):
    """Replace the loads of the names in ``replacements`` inside ``stmt`` by copies
    of their expressions, placed where the name was (error carets stay right)."""
    if not replacements:
        return
    for node in gast.walk(stmt):
        for field_name, child in gast.iter_fields(node):
            if isinstance(child, list):
                for i, item in enumerate(child):
                    if _is_load_of(item, replacements):
                        child[i] = _placed_copy(replacements[item.id], item)
            elif _is_load_of(child, replacements):
                setattr(node, field_name, _placed_copy(replacements[child.id], child))


def _is_load_of(node, replacements):
    return isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in replacements


def _placed_copy(expression, where):
    copied = copy.deepcopy(expression)
    for node in gast.walk(copied):
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(where, attribute):
                setattr(node, attribute, getattr(where, attribute))
    return copied


def _array_owner_guards(parsed, parameters):
    """Guards for the parameters in ``parameters`` that own a method call which
    passes a local value to a parameter of its rule that carries no derivative."""
    adjoints, _ = active_rules()
    local_names = parsed.local_names
    guarded = []
    for node in gast.walk(parsed.tree):
        if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
                and isinstance(node.func.value, gast.Name) and node.func.value.id in parameters
                and node.func.value.id not in guarded and node.func.attr in METHODS
                and _in(METHODS[node.func.attr], adjoints)):
            continue
        rule = adjoints[METHODS[node.func.attr]]
        try:
            bound = rule.bind([node.func.value] + list(node.args),
                              {k.arg: k.value for k in node.keywords})
        except TypeError:
            continue
        if any(local_loads(value, local_names) for name, value in bound.items()
               if name not in rule.differentiable and isinstance(value, gast.AST)):
            guarded.append(node.func.value.id)
    guards = []
    for name in guarded:
        test = gast.UnaryOp(op=gast.Not(), operand=gast.Call(
            func=_load("hasattr"), args=[_load(name), gast.Constant(value="__array__", kind=None)],
            keywords=[]))
        guards.append(_guard(test, parsed, name, (
            f"{parsed.name}() reads {name}.<method>() as the method of an array, but {name} is "
            f"not an array. Call the function by its module-level name (np.mean(v) rather than "
            f"{name}.mean(v)), or give {name} a default ({name}=np).")))
    return guards


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _default_guard(name, default, parsed):
    """``if name is not <default>: raise TypeError(...)``, placed at the parameter."""
    shown = _source_of(default)
    message = (f"{parsed.name}() was differentiated for {name}={shown}, its default: pullback "
               f"resolved the calls through {name} with it. Call the derivative without "
               f"{name}, or differentiate a function that calls {parsed.name} with the other value.")
    test = gast.Compare(left=_load(name), ops=[gast.IsNot()], comparators=[copy.deepcopy(default)])
    return _guard(test, parsed, name, message)


def _guard(test, parsed, name, message):
    """``if test: raise TypeError(message)``, placed at the parameter ``name``."""
    where = next(a for a in parsed.tree.args.posonlyargs + parsed.tree.args.args
                 + parsed.tree.args.kwonlyargs if a.id == name)
    error = gast.Call(func=_load("TypeError"), args=[gast.Constant(value=message, kind=None)],
                      keywords=[])
    guard = gast.If(test=test, body=[gast.Raise(exc=error, cause=None)], orelse=[])
    for node in gast.walk(guard):
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(where, attribute):
                setattr(node, attribute, getattr(where, attribute))
    return guard


def _source_of(node):
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1])


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
