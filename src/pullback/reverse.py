"""Stage 5: the reverse-mode transformer.

Walks the normalized body backwards and, for every active statement, expands
the adjoint template of its rule with the user's names substituted. The first
write to an adjoint defines it; later writes accumulate (``dx = dx + ...``).
The result is a pair of sweeps that stage 6 assembles into functions.
"""
from dataclasses import dataclass, field

import gast

from .cleanup import fold_constants_in
from .astutil import clone, make_name

_WRITE = "\0adjoint-of:"     # marks ``d[x] = ...`` targets while a template is expanded


@dataclass
class Sweeps:
    """The two halves of a reverse-mode derivative."""
    forward: list                   # the normalized primal statements (no return)
    reverse: list                   # adjoint statements, in execution order
    output: str                     # name of the value the function returns
    seed: str                       # name of that value's adjoint
    gradients: list                 # one expression node per wrt parameter
    imports: dict = field(default_factory=dict)   # name in generated code -> object


def _stmt(node, line, sweep):
    node.pb_line = line
    node.pb_sweep = sweep
    return node


class TemplateExpander:
    """Expands one rule's template for one statement of the user's code."""

    def __init__(self, namer, active, aliases, imports):
        self.namer = namer
        self.active = active
        self.aliases = aliases      # template global name -> name in generated code
        self.imports = imports

    def expand(self, rule, bound, target, defined, line):
        result_adjoint = self.namer.adjoint(target)
        substitute = self._substitution(rule, bound, target, result_adjoint)
        body = [substitute.visit(clone(stmt)) for stmt in rule.body]
        body = fold_constants_in(body)
        return self._writes(body, rule, bound, defined, line)

    def _substitution(self, rule, bound, target, result_adjoint):
        expander = self
        template_locals = {}
        params = set(rule.params)

        class Substitute(gast.NodeTransformer):
            def visit_Subscript(self, node):
                if isinstance(node.value, gast.Name) and node.value.id == "d":
                    name = node.slice.id
                    if isinstance(node.ctx, gast.Store):
                        return make_name(_WRITE + name, gast.Store())
                    if name == rule.result:
                        return make_name(result_adjoint)
                    return make_name(expander.namer.adjoint(bound[name].id))
                return self.generic_visit(node)

            def visit_Name(self, node):
                if node.id == rule.result:
                    return make_name(target, node.ctx)
                if node.id in params:
                    return clone(bound[node.id])
                if node.id in rule.globals:
                    alias = expander.aliases.get(node.id, node.id)
                    expander.imports[alias] = rule.globals[node.id]
                    return make_name(alias, node.ctx)
                if node.id not in template_locals:
                    template_locals[node.id] = expander.namer.fresh(node.id)
                return make_name(template_locals[node.id], node.ctx)

        return Substitute()

    def _adjoint_target(self, param, bound):
        node = bound.get(param)
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    def _writes(self, body, rule, bound, defined, line):
        out = []
        for stmt in body:
            if isinstance(stmt, gast.Assign) and stmt.targets[0].id.startswith(_WRITE):
                adjoint = self._adjoint_target(stmt.targets[0].id[len(_WRITE):], bound)
                if adjoint is None:
                    continue            # the argument is a constant: no adjoint
                value = stmt.value
                if adjoint in defined:
                    value = gast.BinOp(left=make_name(adjoint), op=gast.Add(), right=value)
                defined.add(adjoint)
                out.append(_stmt(gast.Assign(targets=[make_name(adjoint, gast.Store())],
                                             value=value, type_comment=None), line, "reverse"))
            elif isinstance(stmt, gast.If):
                # A branch the constants did not decide: every adjoint it may write
                # must exist before it, so both paths can accumulate.
                for written in sorted(self._written_in(stmt, bound) - defined):
                    out.append(_stmt(gast.Assign(targets=[make_name(written, gast.Store())],
                                                 value=gast.Constant(value=0.0, kind=None),
                                                 type_comment=None), line, "reverse"))
                    defined.add(written)
                stmt.body = self._writes(stmt.body, rule, bound, defined, line) or [gast.Pass()]
                stmt.orelse = self._writes(stmt.orelse, rule, bound, defined, line)
                out.append(_stmt(stmt, line, "reverse"))
            else:
                out.append(_stmt(stmt, line, "reverse"))
        return out

    def _written_in(self, node, bound):
        written = set()
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and sub.id.startswith(_WRITE):
                adjoint = self._adjoint_target(sub.id[len(_WRITE):], bound)
                if adjoint:
                    written.add(adjoint)
        return written


def reverse_sweeps(tree, operations, active, wrt, namer, aliases):
    """Build the forward and reverse sweeps of ``tree`` (normalized, SSA)."""
    forward = [s for s in tree.body if not isinstance(s, gast.Return)]
    for stmt in forward:
        stmt.pb_sweep = "forward"
    returned = tree.body[-1].value if tree.body and isinstance(tree.body[-1], gast.Return) else None
    output = returned.id if isinstance(returned, gast.Name) else None
    seed = namer.adjoint(output) if output else None
    imports = {}
    expander = TemplateExpander(namer, active, aliases, imports)
    defined = {seed} if output in active else set()
    reverse = []
    for stmt in reversed(forward):
        if not isinstance(stmt, gast.Assign):
            continue
        target = stmt.targets[0].id
        if target not in active or namer.adjoint(target) not in defined:
            continue
        operation = operations[id(stmt)]
        line = getattr(stmt, "pb_line", None)
        if operation.kind == "copy":
            source = namer.adjoint(operation.sources[0])
            value = make_name(namer.adjoint(target))
            if source in defined:
                value = gast.BinOp(left=make_name(source), op=gast.Add(), right=value)
            defined.add(source)
            reverse.append(_stmt(gast.Assign(targets=[make_name(source, gast.Store())], value=value,
                                             type_comment=None), line, "reverse"))
        elif operation.kind == "rule":
            reverse += expander.expand(operation.rule, operation.bound, target, defined, line)
    gradients = []
    for name in wrt:
        adjoint = namer.adjoint(name)
        if adjoint in defined:
            gradients.append(make_name(adjoint))
        else:
            # The output does not depend on this argument: its gradient is zero.
            imports.setdefault(aliases.get("np", "np"), __import__("numpy"))
            gradients.append(gast.Call(
                func=gast.Attribute(value=make_name(aliases.get("np", "np")), attr="zeros_like",
                                    ctx=gast.Load()),
                args=[make_name(name)], keywords=[]))
    return Sweeps(forward, reverse, output, seed, gradients, imports)
