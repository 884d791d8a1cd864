"""Stage 5 (forward mode): the tangent transformer.

Walks the normalized body in order and, after every statement that assigns
an active value, adds the statements computing its tangent (``x_dot`` for
``x``) from the tangent template of its rule. Control flow is kept as it
is: one sweep computes each value and its tangent side by side, so forward
mode needs no stacks. A *batched* sweep pushes many directions at once:
every tangent has a leading direction axis; rules that do not declare they
keep it (tangent_rules.py) are expanded once per direction in a loop.
"""
import gast
import numpy as np

from pullback.errors import NoDerivativeRule, UnsupportedSyntax, refuse
from pullback.code.astutil import clone, make_name, walk
from pullback.frontend.parsing import parameter_names
from pullback.analysis.shape_classes import ShapeFacts
from pullback.runtime import tangent_shape, tangents as runtime_tangents
from pullback.runtime.declare import helper_facts
from pullback.tangent_rules import tangent_of
from pullback.transform.calls import CallsMixin, _callee_name
from pullback.transform.nodes import call, marked
from pullback.transform.reverse import index_value
from pullback.transform.sequence_operators import sequence_operations
from pullback.transform.tangent_expand import TangentExpander


def _assign(target, value, line):
    node = gast.Assign(targets=[target if isinstance(target, gast.AST) else make_name(target, gast.Store())],
                       value=value, type_comment=None)
    return marked(node, line, "forward")


class ForwardBuilder(CallsMixin):
    """Builds the forward (tangent) sweep of a normalized body."""

    def __init__(self, facts, namer, aliases, imports, batched, request_jvp, mutated):
        self.operations = facts.operations
        self.active = facts.active
        self.scalars = facts.scalars
        self.flat = facts.flat
        self.location = facts.location
        self.static_argument = facts.static_argument
        self.namer = namer
        self.aliases = aliases
        self.imports = imports
        self.batched = batched
        self.request_jvp = request_jvp
        self.mutated = mutated          # names changed in place: their tangents are owned
        self.directions = None          # the batch's size, named when first needed
        self.one_direction = False      # expanding a rule for one direction of a batch
        self.zeros = set()              # names whose tangent is known to be zero here
        self.expander = TangentExpander(namer, facts.active, aliases, imports, facts.scalars,
                                        ShapeFacts.of(facts), namer.tangent, self.zero, self.runtime,
                                        facts.flat | facts.scalars, self.zeros)

    # -- names and helpers -----------------------------------------------------
    def runtime(self, name):
        alias = self.aliases.get(name, name)
        function = getattr(runtime_tangents, name, None) or getattr(tangent_shape, name, None)
        if function is None:
            from pullback import runtime
            function = getattr(runtime, name)
        self.imports[alias] = function
        return alias

    def directions_name(self):
        if self.directions is None:
            self.directions = self.namer.fresh("directions")
        return self.directions

    def zero(self, node):
        """A zero tangent for the value ``node`` (a batch of them in a batched sweep)."""
        batched = self.batched and not self.one_direction
        if isinstance(node, gast.Constant) and not batched:
            return gast.Constant(value=0.0, kind=None)
        if isinstance(node, gast.Name) and node.id in self.scalars and not batched:
            return gast.Constant(value=0.0, kind=None)
        args = [clone(node)] + ([make_name(self.directions_name())] if batched else [])
        return call(self.runtime("zeros_tangent"), *args)

    def tangent(self, node):
        """The tangent expression of an operand: its tangent's name, or a zero."""
        if isinstance(node, gast.Name) and node.id in self.active:
            return make_name(self.namer.tangent(node.id))
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.tangent(e) for e in node.elts], ctx=gast.Load())
        return self.zero(node)

    # -- blocks ------------------------------------------------------------------
    def block(self, stmts):
        out = []
        for stmt in stmts:
            out += self.statement(stmt)
        return out

    def statement(self, stmt):
        line = getattr(stmt, "pb_line", None)
        zeros = self.zeros
        if isinstance(stmt, gast.If):
            before = set(zeros)
            stmt.body = self.block(stmt.body) or [gast.Pass()]
            after_body = set(zeros)
            zeros.clear()
            zeros.update(before)
            stmt.orelse = self.block(stmt.orelse)
            zeros.intersection_update(after_body)       # zero on both paths
            return [marked(stmt, line, "forward")]
        if isinstance(stmt, (gast.For, gast.While)):
            counter = self.loop_counter(stmt)
            # a name the loop assigns may carry a tangent from its second iteration on
            zeros.difference_update(n.id for n in walk(stmt) if isinstance(n, gast.Name)
                                    and isinstance(n.ctx, gast.Store))
            before = set(zeros)
            stmt.body = counter + (self.block(stmt.body) or [gast.Pass()])
            stmt.orelse = self.block(stmt.orelse)
            zeros.clear()
            zeros.update(before)
            return [marked(stmt, line, "forward")]
        if isinstance(stmt, gast.Return):
            return [stmt]
        operation = self.operations.get(id(stmt))
        if operation is None:
            return [marked(stmt, line, "forward")]
        if operation.kind == "setitem":
            return self.setitem(stmt, operation, line)
        if operation.kind == "append":
            return self.append(stmt, operation, line)
        if operation.kind == "pop":
            return self.pop(stmt, operation, line)
        target = operation.target
        zeros.discard(target)
        if operation.kind == "call" and (target in self.active or self.runs_only_generated(operation)):
            return self.call_tangent(stmt, operation, line)
        if target is None or target not in self.active:
            return [marked(stmt, line, "forward")]
        code = self.assignment(stmt, operation, line)
        if target not in self.mutated and _defines_zero(code, self.namer.tangent(target)):
            zeros.add(target)       # what reads it now treats it as a constant
        return code

    def loop_counter(self, stmt):
        """``for i in range(...)`` (every for loop, once normalized): an ``i`` that
        carries a tangent elsewhere (restored from a stack) has none here."""
        if not isinstance(stmt, gast.For):
            return []
        counters = [n.id for n in walk(stmt.target) if isinstance(n, gast.Name) and n.id in self.active]
        if not counters:
            return []
        if not (isinstance(stmt.iter, gast.Call) and isinstance(stmt.iter.func, gast.Name)
                and stmt.iter.func.id == "range"):
            raise refuse(UnsupportedSyntax, "a loop variable carrying a derivative", stmt,
                         self.location, "Loop over indices and read the items by subscript.")
        return [_assign(self.namer.tangent(n), self.zero(make_name(n)), None) for n in counters]

    # -- assignments ---------------------------------------------------------------
    def assignment(self, stmt, operation, line):
        target = operation.target
        result = self.namer.tangent(target)
        primal = [marked(stmt, line, "forward")]
        if target in operation.sources:     # x = f(x, ...)
            code = self.overwriting(stmt, operation, line)
            if code is not None:
                return code
        code = self.tangent_code(stmt, operation, target, result, line)
        if target in self.mutated and _may_share(code, result, self.imports):
            code.append(_assign(result, call(self.runtime("owned_tangent"), make_name(result)), line))
        return primal + code

    def overwriting(self, stmt, operation, line):
        """``x = f(x, ...)``: the tangent in place after the value when it reads
        neither x's old value nor x's old tangent once it wrote the new one;
        else the value and tangent go to new names first (None: in place)."""
        target = operation.target
        result = self.namer.tangent(target)
        if operation.kind != "rule" or self.expander.reads_old(tangent_of(operation.rule),
                                                               operation.bound, target):
            value_name = self.namer.fresh(target + "_new")
            tangent_name = self.namer.fresh(result + "_new")
            stmt.targets = [make_name(value_name, gast.Store())]
            code = self.tangent_code(stmt, operation, value_name, tangent_name, line)
            return [marked(stmt, line, "forward")] + code + [
                _assign(target, make_name(value_name), line),
                _assign(result, make_name(tangent_name), line)]
        return None

    def tangent_code(self, stmt, operation, value_name, result, line):
        kind = operation.kind
        if kind == "rule":
            return self.rule_tangent(stmt, operation, value_name, result, line)
        if kind == "copy":
            return [_assign(result, self.tangent(make_name(operation.sources[0])), line)]
        if kind == "subscript":
            container, index = operation.bound["value"], index_value(operation.bound["index"])
            if not (isinstance(container, gast.Name) and container.id in self.active):
                return [_assign(result, self.zero(make_name(value_name)), line)]
            source = self.tangent(container)
            if self.batched:
                value = call(self.runtime("tangent_item"), source, index)
            else:
                value = gast.Subscript(value=source, slice=clone(operation.bound["index"]),
                                       ctx=gast.Load())
            return [_assign(result, value, line)]
        if kind == "pack":
            elements = [self.tangent(e) for e in operation.bound["elements"]]
            if "keys" in operation.bound:
                keys = [clone(k) for k in operation.bound["keys"]]
                return [_assign(result, gast.Dict(keys=keys, values=elements), line)]
            kind_of = gast.List if isinstance(stmt.value, gast.List) else gast.Tuple
            return [_assign(result, kind_of(elts=elements, ctx=gast.Load()), line)]
        value = stmt.value if isinstance(stmt, gast.Assign) else None
        if isinstance(value, gast.Constant) and isinstance(value.value, (int, float)):
            return [_assign(result, self.zero(value), line)]      # s = 0.0: s_dot = 0.0
        return [_assign(result, self.zero(make_name(value_name)), line)]

    def rule_tangent(self, stmt, operation, value_name, result, line):
        rule = tangent_of(operation.rule)
        if rule is None:
            raise refuse(NoDerivativeRule, f"{operation.rule.name} has an adjoint rule "
                         f"({operation.rule.origin}) but no tangent rule, so forward mode cannot "
                         f"differentiate it", stmt, self.location, "Register one with @pullback.register_tangent, or use "
                         "reverse mode (pullback.grad, pullback.vjp).")
        bound = operation.bound
        if not self.batched or rule.batched or rule.shape in ("elementwise", "scalar"):
            return self.expander.expand_tangent(rule, bound, value_name, line, result)
        return self.per_direction(rule, bound, value_name, result, line)

    def per_direction(self, rule, bound, value_name, result, line):
        """A rule that sees one direction at a time, in a loop over the batch."""
        parts = self.namer.fresh(result + "_parts")
        i = self.namer.fresh("i")
        one = self.namer.fresh(result + "_i")

        def direction(name, tangent):
            if name in self.flat or name in self.scalars:
                return gast.Subscript(value=make_name(tangent), slice=make_name(i), ctx=gast.Load())
            return call(self.runtime("direction"), make_name(tangent), make_name(i))

        self.one_direction = True       # a constant operand's zero: for one direction
        try:
            body = self.expander.expand_tangent(rule, bound, value_name, line, one, direction)
        finally:
            self.one_direction = False
        body.append(marked(gast.Expr(value=call(gast.Attribute(value=make_name(parts), attr="append",
                                                               ctx=gast.Load()), make_name(one))),
                           line, "forward"))
        loop = gast.For(target=make_name(i, gast.Store()),
                        iter=call("range", make_name(self.directions_name())), body=body, orelse=[],
                        type_comment=None)
        return [_assign(parts, gast.List(elts=[], ctx=gast.Load()), line), marked(loop, line, "forward"),
                _assign(result, call(self.runtime("stack_directions"), make_name(parts)), line)]

    # -- in-place changes ------------------------------------------------------------
    def setitem(self, stmt, operation, line):
        target = operation.target
        code = [marked(stmt, line, "forward")]
        if target not in self.active:
            return code
        value = operation.bound["value"]
        tangent = self.tangent(value)
        if not (isinstance(value, gast.Name) and value.id in self.active
                and value.id not in self.zeros):
            tangent = gast.Constant(value=0.0, kind=None)       # a zero: broadcast into place
        own = make_name(self.namer.tangent(target))
        if self.batched:
            code.append(marked(gast.Expr(value=call(self.runtime("set_tangent_item"), own,
                                                    index_value(operation.bound["index"]), tangent)),
                               line, "forward"))
        else:
            place = gast.Subscript(value=own, slice=clone(operation.bound["index"]), ctx=gast.Store())
            code.append(_assign(place, tangent, line))
        return code

    def append(self, stmt, operation, line):
        target = operation.target
        code = [marked(stmt, line, "forward")]
        if target in self.active:
            own = make_name(self.namer.tangent(target))
            code.append(marked(gast.Expr(value=call(
                gast.Attribute(value=own, attr="append", ctx=gast.Load()),
                self.tangent(operation.bound["value"]))), line, "forward"))
        return code

    def pop(self, stmt, operation, line):
        """``y = items.pop()``: the list of tangents beside ``items`` pops too."""
        owner = operation.bound["owner"]
        code = [marked(stmt, line, "forward")]
        if owner in self.active:
            popped = call(gast.Attribute(value=make_name(self.namer.tangent(owner)), attr="pop",
                                         ctx=gast.Load()))
            if operation.target in self.active:
                code.append(_assign(self.namer.tangent(operation.target), popped, line))
            else:
                code.append(marked(gast.Expr(value=popped), line, "forward"))
        elif operation.target in self.active:
            code.append(_assign(self.namer.tangent(operation.target),
                                self.zero(make_name(operation.target)), line))
        return code

    # -- calls into other Python functions ------------------------------------------
    def call_tangent(self, stmt, operation, line):
        """``y = g(a, b)`` -> ``y, y_dot = g_jvp(a, b, a_dot)``: the callee's own
        forward-mode derivative for the arguments that carry a tangent."""
        callee, node = operation.bound["function"], operation.bound["node"]
        callee, arguments, wrt, functions = self.call_arguments(callee, node)
        jvp_name = self.request_jvp(callee, node.func, wrt, functions)
        tangents = [self.tangent(arguments[i]) for i in wrt]
        value = gast.Call(func=make_name(jvp_name), args=arguments + tangents, keywords=[])
        target = operation.target
        if target in self.active:
            result = self.namer.tangent(target)
            pair = gast.Tuple(elts=[make_name(target, gast.Store()), make_name(result, gast.Store())],
                              ctx=gast.Store())
            return [_assign(pair, value, line)]
        if target is None:
            return [marked(gast.Expr(value=value), line, "forward")]
        first = gast.Subscript(value=value, slice=gast.Constant(value=0, kind=None), ctx=gast.Load())
        return [_assign(target, first, line)]


# NumPy functions whose result is always a new array of its own.
_NEW_ARRAYS = frozenset({np.copy, np.array, np.stack, np.concatenate, np.zeros, np.ones, np.full,
                         np.zeros_like, np.ones_like, np.full_like})


def _may_share(code, name, imports):
    """Might the last definition of ``name`` in ``code`` hand back memory that
    another tangent holds (a name, an item, a helper's result)? Arithmetic,
    NumPy's copying functions and helpers declared ``returns_new`` never do."""
    for stmt in reversed(code):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and stmt.targets[0].id == name:
            value = stmt.value
            if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant, gast.List)):
                return False
            if isinstance(value, gast.Call):
                function = _called(value.func, imports)
                return not (function in _NEW_ARRAYS or helper_facts(function).returns_new)
            return True
    return True


def _called(func, imports):
    """The function a call in generated code names (None if unknown)."""
    if isinstance(func, gast.Name):
        return imports.get(func.id)
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
        return getattr(imports.get(func.value.id, np if func.value.id == "np" else None),
                       func.attr, None)
    return None


def _defines_zero(code, name):
    """Does the last statement of ``code`` make ``name`` a zero tangent?"""
    last = code[-1] if code else None
    if not (isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name)
            and last.targets[0].id == name):
        return False
    value = last.value
    return (isinstance(value, gast.Constant) and value.value == 0.0) or (
        isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
        and value.func.id.startswith("zeros_tangent"))


def _changed_in_place(operations):
    """Names whose value may be changed in place: written into, appended to,
    popped, and the values those are views or other names of (their tangents
    must be their own memory, since tangents share memory as values do)."""
    changed = {op.target for op in operations.values() if op.kind in ("setitem", "append")}
    changed |= {op.bound["owner"] for op in operations.values() if op.kind == "pop"}
    sharing = [op for op in operations.values() if op.kind in ("copy", "subscript") and op.sources]
    grew = True
    while grew:
        grew = False
        for op in sharing:
            if op.target in changed and op.sources[0] not in changed:
                changed.add(op.sources[0])
                grew = True
    return changed


def forward_sweep(tree, facts, namer, aliases, batched, request_jvp):
    """The body of the jvp function of ``tree`` (normalized): its statements,
    each active assignment followed by its tangent's, ending in
    ``return value, value_dot``. Returns ``(body, imports, directions name or None)``."""
    imports = {}
    sequence_operations(tree, facts)    # x + y, x * y of lists: joined and repeated
    mutated = _changed_in_place(facts.operations)
    builder = ForwardBuilder(facts, namer, aliases, imports, batched, request_jvp, mutated)
    # a parameter not differentiated that takes a varied value later starts with no tangent
    starts = [_assign(namer.tangent(p), builder.zero(make_name(p)), None)
              for p in parameter_names(tree) if p in facts.active and p not in facts.wrt]
    body = starts + builder.block(tree.body)
    last = body[-1] if body else None
    if isinstance(last, gast.Return) and isinstance(last.value, gast.Name):
        output = last.value.id
        tangent = builder.tangent(make_name(output))
        last.value = gast.Tuple(elts=[make_name(output), tangent], ctx=gast.Load())
    return body, imports, builder.directions


__all__ = ["forward_sweep", "ForwardBuilder", "_callee_name"]
