"""Stage 3, calls of methods: ``x.sum()``, ``x.astype(np.float32)``,
``x.item(i)``, ``np.add.reduce(x)``, ``np.einsum`` with sublists, each
resolved to the rule of the NumPy function it stands for (a mixin of the
resolver in resolve.py)."""
import gast
import numpy as np

from pullback.analysis.operation import (
    ATTRIBUTES, METHODS, UFUNC_METHODS, UFUNC_PARAMETERS, Operation, in_table, local_loads,
    shown_source, static_value, sublist_letters)
from pullback.code.astutil import walk_statements
from pullback.errors import NoDerivativeRule
from pullback.frontend.normalize import MUTATING_METHODS, is_static_reference
from pullback.runtime.containers import copy_method


class MethodCalls:
    """What resolves a call of a method (see :class:`~pullback.analysis.resolve._Resolver`
    for the state it reads: ``adjoints``, ``nondiff``, ``local_names``, ...)."""

    def of_ufunc_method(self, node, method, keywords):
        """``np.add.reduce(x, axis)`` as ``np.sum(x, axis)``, ``np.multiply.outer(a, b)`` as
        ``np.tensordot(a, b, 0)``. A bound method is made anew at each access, so it is
        recognised by its ufunc and name, never looked up in a table."""
        ufunc, name = method.__self__, method.__name__
        shown = f"np.{ufunc.__name__}.{name}()"
        function = UFUNC_METHODS.get((ufunc.__name__, name))
        parameters = UFUNC_PARAMETERS.get(name, ())
        if function is None or ufunc is not getattr(np, ufunc.__name__, None) \
                or not in_table(function, self.adjoints):
            return self.refused(node, f"pullback has no derivative rule for {shown}",
                                "Use the NumPy function it stands for (np.sum for np.add.reduce, "
                                "np.cumsum for np.add.accumulate, ...), which has a rule.", NoDerivativeRule)
        if len(node.args) > len(parameters) or any(k not in parameters for k in keywords):
            return self.of_rule(self.adjoints[function], node, [None] * 9, {}, shown)   # refused
        given = dict(zip(parameters, node.args), **keywords)
        if name == "outer":
            return self.of_rule(self.adjoints[function], node, [given["A"], given["B"]],
                                {"axes": gast.Constant(value=0, kind=None)}, shown)
        arguments = {"a": given["array"], "axis": given.get("axis", gast.Constant(value=0, kind=None))}
        # initial= and where= go to the rule, which refuses them where it has no such parameter
        arguments.update((k, v) for k, v in given.items()
                         if k in ("dtype", "keepdims", "initial", "where"))
        return self.of_rule(self.adjoints[function], node, [], arguments, shown)

    def of_einsum_sublists(self, node, keywords):
        """``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``: the same call with subscripts
        written as letters, when every sublist is written out in the call."""
        args = node.args
        operands = args[0:-1:2] if len(args) % 2 else args[0::2]
        sublists = args[1::2] if len(args) % 2 == 0 else args[1:-1:2]
        output = args[-1] if len(args) % 2 else None
        text = [sublist_letters(self.follow(s)) for s in sublists]
        out_text = sublist_letters(self.follow(output)) if output is not None else ""
        if None in text or out_text is None or not operands:
            return self.refused(node, "np.einsum with subscripts given as lists computed here is "
                                "not differentiable yet",
                                "Write the subscripts as a string ('ij,jk->ik') or as tuples of "
                                "integers written in the call.")
        subscripts = ",".join(text) + ("->" + out_text if output is not None else "")
        return self.of_rule(self.adjoints[np.einsum], node, [gast.Constant(value=subscripts, kind=None)]
                            + list(operands), keywords, "np.einsum()")

    def of_method(self, node):
        owner, method = node.func.value, node.func.attr
        if isinstance(owner, gast.Name) and owner.id in self.non_arrays:
            return self.refused(node, f"{owner.id} may hold a module or a function here, so pullback "
                                f"cannot tell what {owner.id}.{method}() calls",
                                f"Call the function by its module-level name (np.{method}), or bind "
                                f"{owner.id} once, at the top of the function or as a parameter's "
                                f"default ({owner.id}=np).")
        shown = f".{method}()"
        keywords = {k.arg: k.value for k in node.keywords}
        if method == "item":
            return self.of_item(node, owner)
        if method == "astype":
            dtype = node.args[0] if node.args else keywords.get("dtype")
            kind = self.dtype_kind(dtype) if dtype is not None else None
            if kind in ("i", "u", "b"):
                return Operation("constant")
            if kind == "f" and in_table(np.float64, self.adjoints):
                return self.of_rule(self.adjoints[np.float64], node, [owner], {}, shown)
            return self.refused(node, f".astype({shown_source(dtype)}) is not differentiable "
                                "(only a cast to a floating-point dtype written in the call is)",
                                "Write the dtype itself: x.astype(np.float64), x.astype('float32').")
        if method == "copy" and not node.args and not keywords and in_table(copy_method, self.adjoints):
            # x.copy(): a list's or a dict's is of its own type (np.copy's is an array)
            return self.of_rule(self.adjoints[copy_method], node, [owner], {}, shown)
        if method in METHODS and in_table(METHODS[method], self.adjoints):
            args = node.args
            if method in ("reshape", "transpose") and len(args) > 1:   # x.reshape(2, 3)
                args = [gast.Tuple(elts=list(args), ctx=gast.Load())]
            operation = self.of_rule(self.adjoints[METHODS[method]], node, [owner] + args, keywords,
                                     shown)
            if operation.kind == "rule" and self.may_not_be_array(owner) and any(
                    set(local_loads(value, self.local_names)) & self.may_vary()
                    for name, value in operation.bound.items()
                    if name not in operation.rule.differentiable and isinstance(value, gast.AST)):
                return self.refused(node, f"pullback cannot tell that {owner.id} is an array, and "
                                    f"{owner.id}.{method}() passes a value computed here where an "
                                    f"array method takes no derivative (if {owner.id} is a module, "
                                    f"the call means something else)",
                                    f"Call the function by its module-level name (np.{method}), or "
                                    f"convert first: {owner.id} = np.asarray({owner.id}).")
            return operation
        if method in METHODS and in_table(METHODS[method], self.nondiff):
            return Operation("constant")
        mutated = owner.id if method in MUTATING_METHODS and isinstance(owner, gast.Name) else None
        if method not in METHODS and isinstance(owner, gast.Name):
            # not an array method: most likely a method of the user's own object, which
            # pullback cannot resolve from the source (the object's class is known only
            # when the code runs)
            return self.refused(
                node, f"{owner.id}.{method}() calls a method of an object, and pullback cannot "
                f"tell from the source which function that is",
                f"Call it through its class, e.g. ClassName.{method}({owner.id}, ...), or as a "
                f"module-level function taking {owner.id}: pullback then differentiates its "
                f"source. If {method} is a NumPy array method, it has no rule: use a NumPy "
                f"function with one instead (docs/coverage.md).", mutated=mutated)
        return self.refused(node, f"the method .{method}() is not differentiable",
                            "Use a NumPy function with a rule instead (docs/coverage.md).",
                            mutated=mutated)

    def may_vary(self):
        """Names that may depend on a differentiated parameter (an over-approximation
        of activity's varied set: every assignment that reads one taints its target)."""
        if self.varied is None:
            flows = []
            for stmt in walk_statements(self.tree.body):
                if isinstance(stmt, gast.Assign):
                    target = stmt.targets[0]
                    name = target.value.id if isinstance(target, gast.Subscript) else target.id
                    flows.append((name, set(local_loads(stmt, self.local_names))))
                elif isinstance(stmt, gast.Expr):        # ys.append(v), x.sort()
                    call = stmt.value
                    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                            and isinstance(call.func.value, gast.Name):
                        flows.append((call.func.value.id, set(local_loads(call, self.local_names))))
            found = set(getattr(self.parsed, "wrt_names", self.local_names))
            changed = True
            while changed:
                changed = False
                for name, reads in flows:
                    if name not in found and reads & found:
                        found.add(name)
                        changed = True
            self.varied = found
        return self.varied

    def may_not_be_array(self, owner):
        """Is ``owner`` a local read out of some object (``cfg.xp``, ``MODULES[0]``,
        a global that is no array), so that it may hold a module?"""
        origin = self.follow(owner)
        if origin is owner or not isinstance(origin, (gast.Attribute, gast.Subscript, gast.Name)):
            return False
        if isinstance(origin, gast.Attribute) and origin.attr in ATTRIBUTES:
            return False                    # x.T, x.real of a local array
        root = origin.value if isinstance(origin, gast.Subscript) else origin
        if not is_static_reference(root, self.local_names):
            return isinstance(origin, gast.Attribute)     # cfg.xp of a local object
        try:
            value = static_value(root, self.parsed)
        except (NameError, AttributeError):
            return True
        return not isinstance(value, (np.ndarray, np.generic, float, int)) if \
            isinstance(origin, (gast.Attribute, gast.Name)) else not isinstance(value, np.ndarray)

    def of_item(self, node, owner):
        """``x.item()`` and ``x.item(i)`` read one element, as ``np.take(x, i)`` does
        (a flat index); ``x.item(i, j)`` (read ``x[i, j]`` instead) is refused."""
        args = node.args
        if node.keywords or not in_table(np.take, self.adjoints):
            return self.refused(node, "this call of .item() is not differentiable",
                                "Index the array instead: x[i, j] or np.ravel(x)[i].")
        if len(args) > 1:
            return self.refused(node, ".item() of several indices is not differentiable yet",
                                "Index the array instead: x[i, j].")
        index = args[0] if args else gast.Constant(value=0, kind=None)
        if not self._is_flat_index(index):
            return self.refused(node, ".item() of an index pullback cannot tell is one number "
                                "(it may be a tuple) is not differentiable",
                                "Index the array instead: x[i, j] for a tuple, np.ravel(x)[i] for a "
                                "flat position.")
        return self.of_rule(self.adjoints[np.take], node, [owner, index], {}, ".item()")

    def _is_flat_index(self, node):
        """An index known to be one integer: a literal, or a local computed by
        arithmetic on integers or a call (never a tuple), not a parameter."""
        node = self.follow(node)
        if isinstance(node, gast.Constant):
            return isinstance(node.value, int) and not isinstance(node.value, bool)
        return isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Call)) and not (
            isinstance(node, gast.Call) and self._is_tuple_maker(node))

    def _is_tuple_maker(self, call):
        try:
            function = static_value(call.func, self.parsed) if is_static_reference(
                call.func, self.local_names) else None
        except (NameError, AttributeError):
            return True
        return function in (tuple, np.unravel_index, divmod) or function is None
