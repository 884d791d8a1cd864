"""Stage 5 (forward mode): one rule's tangent template expanded for one statement.

The template is decided for what is known at transformation time as adjoint
templates are (expand.py: ``literal``, ``number``); then the statements that
read the tangent of a constant argument are left out, ``d[x]`` becomes the
tangent of the operand (broadcast against an elementwise result where the
shapes may differ) and ``d[y] = ...`` the definition of the result's tangent.
The rules of this vocabulary are in pullback/tangent_rules.py.
"""
import gast

from pullback.analysis.shapes import same_shape_as_result
from pullback.code.astutil import clone, make_name, walk
from pullback.runtime.tangent_shape import tangent_array
from pullback.transform.expand import TemplateExpander
from pullback.transform.nodes import WRITE, call, marked

_SAME_SHAPED = ("elementwise", "scalar")


class TangentExpander(TemplateExpander):
    """Expands tangent templates; ``tangent_of(node)`` gives an operand's
    tangent expression (None for a constant), ``zero(node)`` a zero tangent."""

    def __init__(self, namer, active, aliases, imports, scalars, representatives, tangent_name,
                 zero, runtime, flat=frozenset(), zeros=frozenset()):
        super().__init__(namer, active, aliases, imports, None, scalars, representatives)
        self.tangent_name = tangent_name     # variable -> its tangent's name (x -> x_dot)
        self.zero = zero                     # operand node -> a zero tangent expression
        self.runtime = runtime               # helper name -> its name in generated code
        self.direction = None                # per-direction expansion: name -> expression
        self.flat = flat                     # names that never hold a list or tuple
        self.zeros = zeros                   # names whose tangent is zero here (the builder's set)

    # -- which statements stay ------------------------------------------------
    def constant_params(self, rule, bound):
        return {p for p in rule.params if p in bound and not self._carries(bound[p])}

    def _carries(self, node):
        if isinstance(node, (gast.Tuple, gast.List)):
            return any(self._carries(e) for e in node.elts)
        return isinstance(node, gast.Name) and node.id in self.active and node.id not in self.zeros

    def reads_old(self, rule, bound, target):
        """Would the tangent of ``target = rule(...)``, written after the value
        and into the target's own tangent, read the target's old value or old
        tangent? (An operand that is the target itself: ``s = s + x``.)"""
        if rule is None:
            return False
        own = {p for p, node in bound.items() if isinstance(node, gast.Name) and node.id == target
               and p in rule.params}
        body = _keep(self._specialized(rule, bound), self.constant_params(rule, bound), rule.result)
        written = False
        for stmt in body:
            for node in walk(stmt):
                if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                        and node.value.id == "d":
                    if node.slice.id in own and written and isinstance(node.ctx, gast.Load):
                        return True
                elif isinstance(node, gast.Name) and node.id in own and isinstance(node.ctx, gast.Load) \
                        and not _inside_d(stmt, node):
                    return True
            if isinstance(stmt, gast.If):
                return True
            written = written or _writes_result(stmt, rule.result)
        return any(not same_shape_as_result(rule, bound, p, self.scalars, self.representatives)
                   for p in own if rule.shape == "elementwise")

    def expand_tangent(self, rule, bound, target, line, result_tangent, direction=None):
        """The statements defining ``result_tangent``, the tangent of
        ``target = rule(bound...)``; ``direction`` (name -> expression) expands
        it for one direction of a batch."""
        self.direction = direction
        body = self._specialized(rule, bound)
        constant = self.constant_params(rule, bound)
        kept = _keep(body, constant, rule.result)
        template_locals = {}
        self._shape_context = (rule, bound, target)
        out = [self._instantiate(stmt, rule, bound, target, result_tangent, template_locals,
                                 shapes=False) for stmt in kept]
        out = _definitions(out, result_tangent)
        if not any(isinstance(n, gast.Name) and n.id == result_tangent and isinstance(n.ctx, gast.Store)
                   for s in out for n in walk(s)):
            out.append(gast.Assign(targets=[make_name(result_tangent, gast.Store())],
                                   value=self.zero(make_name(target)), type_comment=None))
        return [marked(s, line, "forward") for s in out]

    def _read(self, rule, bound, param, target):
        return self._operand_tangent(rule, bound, param, target)

    def _instantiate(self, node, rule, bound, target, result_adjoint, template_locals, shapes=True):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and rule.globals.get(node.func.id) is tangent_array and len(node.args) == 2 \
                and isinstance(node.args[1], gast.Name) \
                and isinstance(bound.get(node.args[1].id), gast.Name) \
                and bound[node.args[1].id].id in self.flat:
            # tangent_array(d[x], x) of an x that never holds a list: the tangent itself
            return self._instantiate(node.args[0], rule, bound, target, result_adjoint,
                                     template_locals)
        return super()._instantiate(node, rule, bound, target, result_adjoint, template_locals,
                                    shapes=False)

    def _operand_tangent(self, rule, bound, param, target):
        node = bound[param]
        sequence = isinstance(node, (gast.Tuple, gast.List))
        if sequence:
            tangent = gast.Tuple(elts=[self._one(e) for e in node.elts], ctx=gast.Load())
        else:
            tangent = self._one(node)
        if rule.shape in _SAME_SHAPED and self._carries(node) and self.direction is None and (
                sequence or (isinstance(node, gast.Name) and node.id not in self.flat)):
            # a list's tangent is a list of tangents: one array, as NumPy reads the list
            tangent = call(self.runtime("tangent_array"), tangent, clone(node))
        if sequence:
            return tangent
        if rule.shape in _SAME_SHAPED and rule.shape == "elementwise" and self._carries(node) \
                and not same_shape_as_result(rule, bound, param, self.scalars, self.representatives):
            tangent = call(self.runtime("broadcast_tangent"), tangent, clone(node), make_name(target))
        return tangent

    def _one(self, node):
        if not self._carries(node):
            return self.zero(node)
        name = self.tangent_name(node.id)
        if self.direction is not None:
            return self.direction(node.id, name)
        return make_name(name)


def _inside_d(stmt, name_node):
    return any(isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and n.value.id == "d"
               and n.slice is name_node for n in walk(stmt))


def _writes_result(stmt, result):
    return any(isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and n.value.id == "d"
               and isinstance(n.ctx, gast.Store) and getattr(n.slice, "id", None) == result
               for n in walk(stmt))


def _reads(stmt, names):
    return any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in names
               for n in walk(stmt))


def _tangent_reads(stmt, constant):
    return any(isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and n.value.id == "d"
               and isinstance(n.ctx, gast.Load) and getattr(n.slice, "id", None) in constant
               for n in walk(stmt))


def _keep(body, constant, result):
    """The template's statements without those reading a constant argument's
    tangent, or a local only such a statement defined (``t = t + d[x]``
    left out keeps the ``t`` defined before it)."""
    dropped, defined = set(), set()
    out = []
    for stmt in body:
        if isinstance(stmt, gast.If):
            stmt = clone(stmt)
            stmt.body = _keep(stmt.body, constant, result) or [gast.Pass()]
            stmt.orelse = _keep(stmt.orelse, constant, result)
            out.append(stmt)
            continue
        stored = {n.id for n in walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        if _tangent_reads(stmt, constant) or _reads(stmt, dropped):
            dropped |= stored - defined
            continue
        defined |= stored
        dropped -= stored
        out.append(stmt)
    return out


def _definitions(stmts, result):
    """``d[y] = e`` / ``d[y] += e`` as definitions and accumulations of ``result``,
    a first ``+=`` (its definition left out) defining it."""
    out = []
    defined = False
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            if not defined and _writes(stmt):
                out.append(_write(result, gast.Constant(value=0.0, kind=None)))
                defined = True
            stmt.body = _accumulating(stmt.body, result)
            stmt.orelse = _accumulating(stmt.orelse, result)
            out.append(stmt)
        elif isinstance(stmt, gast.AugAssign) and _is_write(stmt.target):
            value = stmt.value
            if defined:
                value = gast.BinOp(left=make_name(result), op=stmt.op, right=value)
            elif isinstance(stmt.op, gast.Sub):
                value = gast.UnaryOp(op=gast.USub(), operand=value)
            out.append(_write(result, value))
            defined = True
        elif isinstance(stmt, gast.Assign) and _is_write(stmt.targets[0]):
            out.append(_write(result, stmt.value))
            defined = True
        else:
            out.append(stmt)
    return out


def _accumulating(stmts, result):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.AugAssign) and _is_write(stmt.target):
            out.append(_write(result, gast.BinOp(left=make_name(result), op=stmt.op, right=stmt.value)))
        elif isinstance(stmt, gast.Assign) and _is_write(stmt.targets[0]):
            out.append(_write(result, stmt.value))
        elif isinstance(stmt, gast.If):
            stmt.body = _accumulating(stmt.body, result)
            stmt.orelse = _accumulating(stmt.orelse, result)
            out.append(stmt)
        else:
            out.append(stmt)
    return out


def _is_write(node):
    return isinstance(node, gast.Name) and node.id.startswith(WRITE)


def _writes(stmt):
    return any(isinstance(n, gast.Name) and n.id.startswith(WRITE) for n in walk(stmt))


def _write(result, value):
    return gast.Assign(targets=[make_name(result, gast.Store())], value=value, type_comment=None)
