"""Stage 5: one rule's adjoint template expanded for one statement.

The template is first decided for what is known at transformation time (the
numbers written in the call, which operands have the result's shape), then
instantiated with the user's names; ``d[x] = ...`` writes become definitions
or accumulations of the operands' adjoints.
"""
import builtins

import gast
import numpy as np

from pullback.code.fold import fold_constants_in
from pullback.runtime import (dot_grad_lhs, dot_grad_rhs, elementwise as runtime_elementwise,
                              matmul_grad_lhs, matmul_grad_rhs, unreduce)
from pullback.runtime.declare import helper_facts
from pullback.runtime.products import einsum_grads
from pullback.analysis.array_shapes import broadcast, operand_shapes, summed_axes
from pullback.analysis.shape_classes import ShapeFacts
from pullback.analysis.shapes import is_scalar, same_shape_as_result
from pullback.code.astutil import clone, make_name, walk
from pullback.transform.einsum_parts import einsum_parts
from pullback.transform.masking import MaskProducts
from pullback.transform.nodes import WRITE, call, marked
from pullback.transform.subscripts import expanded_axes

_BUILTINS = frozenset(dir(builtins))
# the adjoints of a @ b and np.dot(a, b) (alike for vectors and matrices): True for a's
_PRODUCT_GRADS = {matmul_grad_lhs: True, dot_grad_lhs: True, matmul_grad_rhs: False,
                  dot_grad_rhs: False}


class TemplateExpander:
    """Expands one rule's template for one statement of the user's code."""

    def __init__(self, namer, active, aliases, imports, writer, scalars=frozenset(),
                 representatives=None):
        self.namer = namer
        self.active = active
        self.scalars = scalars      # names known to hold scalars: no unbroadcast for them
        self.representatives = representatives if representatives is not None else ShapeFacts()
        self.aliases = aliases      # template global name -> name in generated code
        self.imports = imports
        self.write = writer         # (adjoint name, value node, defined, line) -> statement
        self._cache = {}            # (rule, constants, shapes) -> specialized body

    def expand(self, rule, bound, target, defined, line, result_adjoint=None, masked=False):
        """The reverse-sweep statements of ``target = rule(bound...)``.

        ``target`` names the result's value (a capture of it when the
        statement overwrote one of its own operands), ``result_adjoint`` the
        name holding its adjoint. ``masked``: a selection may have zeroed the
        adjoint where the value was not selected (see masked_names); products
        and quotients of the adjoint then give 0 there whatever the factor.
        """
        result_adjoint = result_adjoint or self.namer.adjoint(target)
        body = self._specialized(rule, bound)
        template_locals = {}
        body = [self._instantiate(stmt, rule, bound, target, result_adjoint, template_locals)
                for stmt in body]
        if masked:
            body = MaskProducts(result_adjoint, self._masked_helper).statements(body)
        return self._writes(body, rule, bound, defined, line)

    def _masked_helper(self, name):
        """The generated code's name of a runtime_elementwise helper (``masked_mul``),
        renamed where the user's code already uses the name."""
        alias = self.aliases.get(name)
        if alias is None:
            # (reserved as a generated global when a rule names it: only the user's own
            # names clash)
            alias = self.namer.fresh(name + "_pb") if name in self.namer.user else name
            self.namer.taken.add(alias)
            self.aliases[name] = alias
        self.imports[alias] = getattr(runtime_elementwise, name)
        return alias

    def _specialized(self, rule, bound):
        """The rule's body decided for what is known of its arguments: the
        numbers written in the user's code put in and folded (``literal``
        answered), ``unbroadcast`` dropped where shapes agree. Cached per
        transformation: the same rule meets the same kinds of arguments often.
        """
        constants = {p: node for p, node in bound.items() if p in rule.params and _literal(node)}
        same = frozenset(p for p in rule.params
                         if same_shape_as_result(rule, bound, p, self.scalars, self.representatives))
        numbers = frozenset(p for p in rule.params if is_scalar(bound[p], self.scalars))
        summed = self._summed_axes(rule, bound, same)
        arrays = getattr(self.representatives, "arrays", None) or {}
        ranks = {p: 0 if p in numbers else arrays[node.id].ndim for p, node in bound.items()
                 if p in numbers or (isinstance(node, gast.Name) and node.id in arrays
                                     and not arrays[node.id].number)}
        key = (id(rule), tuple(sorted((p, _literal(node)) for p, node in constants.items())), same,
               numbers, tuple(sorted(summed.items())), tuple(sorted(ranks.items())))
        body = self._cache.get(key)
        if body is None:
            body = fold_constants_in([_decide(clone(stmt), constants, same, numbers, summed, ranks)
                                      for stmt in rule.body])
            self._cache[key] = body
        return body

    def _summed_axes(self, rule, bound, same):
        """``{parameter: (leading axes, kept axes)}``: how ``unbroadcast(g, p)``
        sums for the operands whose shape and the result's are known (array_shapes)
        but differ: ``g.sum(axis=0)``, ``g.sum(axis=1, keepdims=True)``."""
        arrays = getattr(self.representatives, "arrays", None)
        if not arrays or rule.shape != "elementwise":
            return {}
        shapes = operand_shapes(rule, bound, arrays, self.scalars)
        if not shapes:
            return {}
        result = broadcast(list(shapes.values()))
        summed = {}
        for param, shape in shapes.items():
            axes = summed_axes(shape, result) if param not in same else None
            if axes is not None and isinstance(bound.get(param), gast.Name):
                summed[param] = (None, ()) if shape.ndim == 0 else axes
        return summed

    def _shape_call(self, node, rule, bound, target, result_adjoint, template_locals):
        """A call reading arguments only for their shape (``np.shape(a)``,
        ``unreduce(g, a, ...)``), given a value of the same shape where one is
        known; None if nothing changes."""
        func = node.func
        if isinstance(func, gast.Name):
            helper = rule.globals.get(func.id)
            known = getattr(helper, "__module__", "").startswith("pullback.runtime")
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            helper = getattr(rule.globals.get(func.value.id), func.attr, None)
            known = rule.globals.get(func.value.id) is np
        else:
            return None
        facts = helper_facts(helper) if known else None
        positions = facts.shape_only if known else ()
        swaps = {}
        for i in positions:
            argument = node.args[i] if i < len(node.args) else None
            if isinstance(argument, gast.Name) and argument.id in rule.params:
                value = bound.get(argument.id)
                same = self.representatives.get(getattr(value, "id", None))
                if isinstance(same, str):
                    same = self.representatives.shape_of(same)
                if isinstance(same, str) and not facts.dtype:   # a representative shares
                    # the shape, not always the dtype (x * 3.0 of an int x)
                    swaps[i] = make_name(same)
                elif same and known and helper is np.shape:
                    # np.shape(a * b) -> np.broadcast_shapes(np.shape(a), np.shape(b))
                    shape = clone(func)
                    return call(gast.Attribute(value=clone(func.value), attr="broadcast_shapes",
                                                ctx=gast.Load()),
                                 *[call(clone(shape), make_name(n)) for n in same])
        if not swaps:
            return None
        new = self._instantiate(node, rule, bound, target, result_adjoint, template_locals, False)
        for i, name in swaps.items():
            new.args[i] = name
        return new

    def _unreduce_view(self, node, rule, bound, target, result_adjoint, template_locals):
        """``unreduce(g, x, 1, False)`` of an ``x`` of known rank ->
        ``np.broadcast_to(g[:, None], np.shape(x))``: the axis put back by
        indexing, with no helper call; None where not known."""
        arrays = getattr(self.representatives, "arrays", None)
        if not (arrays and isinstance(node.func, gast.Name) and len(node.args) == 4
                and not node.keywords and rule.globals.get(node.func.id) is unreduce
                and "np" in rule.globals and isinstance(node.args[1], gast.Name)):
            return None
        operand = bound.get(node.args[1].id) if node.args[1].id in rule.params else None
        shape = arrays.get(operand.id) if isinstance(operand, gast.Name) else None
        args = [self._instantiate(a, rule, bound, target, result_adjoint, template_locals)
                for a in node.args]
        value = expanded_axes(args[0], args[2], args[3], shape)
        if value is None:
            return None
        numpy = self._instantiate(make_name("np"), rule, bound, target, result_adjoint,
                                  template_locals)
        return call(gast.Attribute(value=numpy, attr="broadcast_to", ctx=gast.Load()), value,
                    call(gast.Attribute(value=clone(numpy), attr="shape", ctx=gast.Load()),
                         args[1]))

    def _plain_product(self, node, rule, bound, target, result_adjoint, template_locals):
        """``matmul_grad_lhs(g, a, b)`` / ``matmul_grad_rhs(g, a, b)`` (and
        np.dot's, the same for these ranks) of arrays of known ranks (a matrix
        or a vector each) -> the product the helper's quick path computes
        (``g @ b.T``, ``a.T @ g``, ``g[:, None] * b``, ``b @ g``,
        ``a[:, None] * g``; ``g * b`` for two vectors, whose product is a
        number), with no call and no test of the shapes at run time; None
        where not known.

        ``g`` is the adjoint of the product's own value, which has its shape
        where the operands' shapes are known (the adjoint of an operand of a
        broadcast is summed to it); the helper's sum of a broadcast ``g``
        (fuse_product_sums) only happens where shapes are not known."""
        arrays = getattr(self.representatives, "arrays", None)
        if not (arrays and isinstance(node.func, gast.Name) and len(node.args) == 3
                and not node.keywords):
            return None
        helper = rule.globals.get(node.func.id)
        if not any(helper is known for known in _PRODUCT_GRADS):
            return None
        ranks = []
        for argument in node.args[1:]:
            operand = bound.get(argument.id) if isinstance(argument, gast.Name) \
                and argument.id in rule.params else None
            shape = arrays.get(operand.id) if isinstance(operand, gast.Name) else None
            if shape is None or shape.number or shape.ndim not in (1, 2):
                return None
            ranks.append(shape.ndim)
        g, a, b = (self._instantiate(n, rule, bound, target, result_adjoint, template_locals)
                   for n in node.args)
        if ranks == [1, 1]:                 # a number: g times the other vector
            return gast.BinOp(left=g, op=gast.Mult(), right=b if _PRODUCT_GRADS[helper] else a)
        if _PRODUCT_GRADS[helper]:          # of a: g b^T, its rows' or columns' parts
            if ranks == [2, 2]:
                return _matmul(g, _transposed(b))
            return _outer(g, b) if ranks == [2, 1] else _matmul(b, g)
        return _outer(a, g) if ranks == [1, 2] else _matmul(_transposed(a), g)     # of b: a^T g

    def _einsum_parts(self, node, rule, bound, target, result_adjoint, template_locals):
        """``einsum_grads(g, subscripts, operands)`` of operands of known shapes ->
        a tuple of each operand's adjoint written as its own einsum
        (transform/einsum_parts.py); None where not known."""
        arrays = getattr(self.representatives, "arrays", None)
        if not (arrays and isinstance(node.func, gast.Name) and len(node.args) == 3
                and rule.globals.get(node.func.id) is einsum_grads):
            return None
        g, subscripts, operands = (bound.get(a.id) if isinstance(a, gast.Name) and a.id in rule.params
                                   else a for a in node.args)
        g = self._instantiate(node.args[0], rule, bound, target, result_adjoint, template_locals)
        numpy = self.aliases.get("np", "np")
        parts = einsum_parts(subscripts, operands, arrays, self.active, g, make_name(numpy))
        if parts is not None:
            self.imports[numpy] = np
        return parts

    def _assigned(self, rule):
        """Names the template assigns (a builtin's name may be reused as a local)."""
        names = self._cache.get(("assigned", id(rule)))
        if names is None:
            names = {n.id for stmt in rule.body for n in walk(stmt)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            self._cache[("assigned", id(rule))] = names
        return names

    def _instantiate(self, node, rule, bound, target, result_adjoint, template_locals, shapes=True):
        """A fresh copy of template ``node`` with the statement's names put in."""
        if isinstance(node, list):
            return [self._instantiate(n, rule, bound, target, result_adjoint, template_locals)
                    for n in node]
        if not isinstance(node, gast.AST):
            return node
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                and node.value.id == "d":
            name = node.slice.id
            if isinstance(node.ctx, gast.Store):
                return make_name(WRITE + name, gast.Store())
            if name == rule.result:
                return make_name(result_adjoint)
            return self._read(rule, bound, name, target)
        if shapes and node.__class__ is gast.Call and (
                self.representatives or getattr(self.representatives, "arrays", None)):
            shaped = (self._unreduce_view(node, rule, bound, target, result_adjoint, template_locals)
                      or self._einsum_parts(node, rule, bound, target, result_adjoint,
                                            template_locals)
                      or self._plain_product(node, rule, bound, target, result_adjoint,
                                             template_locals)
                      or self._shape_call(node, rule, bound, target, result_adjoint, template_locals))
            if shaped is not None:
                return shaped
        if isinstance(node, gast.Name):
            name = node.id
            if name == rule.result:
                return make_name(target, node.ctx)
            if name in bound and name in rule.params:
                return clone(bound[name])
            if name in rule.globals:
                alias = self.aliases.get(name, name)
                self.imports[alias] = rule.globals[name]
                return make_name(alias, node.ctx)
            if name in _BUILTINS and name not in self._assigned(rule):
                return make_name(name, node.ctx)        # isinstance, len, ... as in Python
            if name not in template_locals:
                template_locals[name] = self.namer.fresh(name)
            return make_name(template_locals[name], node.ctx)
        new = type(node)(**{field: self._instantiate(getattr(node, field, None), rule, bound, target,
                                                     result_adjoint, template_locals)
                            for field in node._fields})
        return new

    def _read(self, rule, bound, param, target):
        """What ``d[param]`` reads in a template: the operand's adjoint (a tangent
        expander reads its tangent)."""
        return make_name(self.namer.adjoint(bound[param].id))

    def _adjoint_target(self, param, bound):
        node = bound.get(param)
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    def _writes(self, body, rule, bound, defined, line):
        out = []
        for stmt in body:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and stmt.targets[0].id.startswith(WRITE):
                param = stmt.targets[0].id[len(WRITE):]
                if isinstance(bound.get(param), (gast.Tuple, gast.List)):
                    out += self._spread(bound[param], stmt.value, defined, line)
                    continue
                adjoint = self._adjoint_target(param, bound)
                if adjoint is None:
                    continue            # the argument is a constant: no adjoint
                out.append(self.write(adjoint, stmt.value, defined, line))
            elif isinstance(stmt, gast.If):
                # A branch the constants did not decide: every adjoint it may write
                # must exist before it, so both paths can accumulate.
                for written in sorted(self._written_in(stmt, bound) - defined):
                    out.append(self.write(written, None, defined, line))
                stmt.body = self._writes(stmt.body, rule, bound, defined, line) or [gast.Pass()]
                stmt.orelse = self._writes(stmt.orelse, rule, bound, defined, line)
                out.append(marked(stmt, line, "reverse"))
            else:
                out.append(marked(stmt, line, "reverse"))
        return out

    def _spread(self, elements, value, defined, line):
        """``d[operands] = parts`` for operands written out at the call:
        element i of ``parts`` goes to the i-th operand."""
        receivers = [(i, self._adjoint_of_node(e)) for i, e in enumerate(elements.elts)]
        receivers = [(i, a) for i, a in receivers if a]
        if not receivers:
            return []
        if isinstance(value, gast.Tuple) and len(value.elts) == len(elements.elts):
            # each part written out (einsum_parts): no tuple to index
            return [self.write(adjoint, value.elts[i], defined, line) for i, adjoint in receivers]
        parts = self.namer.fresh("parts")
        out = [marked(gast.Assign(targets=[make_name(parts, gast.Store())], value=value,
                                 type_comment=None), line, "reverse")]
        for i, adjoint in receivers:
            part = gast.Subscript(value=make_name(parts), slice=gast.Constant(value=i, kind=None),
                                  ctx=gast.Load())
            out.append(self.write(adjoint, part, defined, line))
        return out

    def _adjoint_of_node(self, node):
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    def _written_in(self, node, bound):
        written = set()
        for sub in walk(node):
            if isinstance(sub, gast.Name) and sub.id.startswith(WRITE):
                adjoint = self._adjoint_target(sub.id[len(WRITE):], bound)
                if adjoint:
                    written.add(adjoint)
        return written




def _matmul(a, b):
    return gast.BinOp(left=a, op=gast.MatMult(), right=b)


def _transposed(a):
    return gast.Attribute(value=a, attr="T", ctx=gast.Load())


def _outer(column, row):
    """``column[:, None] * row``: the outer product of two vectors."""
    index = gast.Tuple(elts=[gast.Slice(lower=None, upper=None, step=None),
                             gast.Constant(value=None, kind=None)], ctx=gast.Load())
    return gast.BinOp(left=gast.Subscript(value=column, slice=index, ctx=gast.Load()),
                      op=gast.Mult(), right=row)


def sum_call(value, leading, kept):
    """``value.sum(axis=leading).sum(axis=kept, keepdims=True)``, each part
    only where it has axes; ``value.sum()`` for ``leading=None`` (all of them)."""
    def axis(axes):
        if len(axes) == 1:
            return gast.Constant(value=axes[0], kind=None)
        return gast.Tuple(elts=[gast.Constant(value=a, kind=None) for a in axes], ctx=gast.Load())

    def method_sum(of, keywords):
        return gast.Call(func=gast.Attribute(value=of, attr="sum", ctx=gast.Load()), args=[],
                         keywords=keywords)
    if leading is None:                 # a number's part of an array
        return method_sum(value, [])
    if leading:
        value = method_sum(value, [gast.keyword(arg="axis", value=axis(leading))])
    if kept:
        value = method_sum(value, [gast.keyword(arg="axis", value=axis(kept)),
                                   gast.keyword(arg="keepdims", value=gast.Constant(True, None))])
    return value


def _literal(node):
    """A number, string, None or tuple of them written in the user's code, as a
    hashable key (with types: 1, 1.0 and True differ); None for anything else."""
    if isinstance(node, gast.Constant):
        return (type(node.value).__name__, node.value)
    if isinstance(node, gast.Tuple) and all(_literal(e) for e in node.elts):
        return ("tuple",) + tuple(_literal(e) for e in node.elts)
    return None


def _decide(node, constants, same_shape, numbers=frozenset(), summed=None, ranks=None):
    """A template statement with the arguments known at transformation time
    put in: numbers from the user's code, ``literal(p)``, ``number(p)`` and
    ``rank(p)`` (``ranks``; -1: not known) answered, ``unbroadcast(g, p)`` ->
    ``g`` for the parameters in ``same_shape`` and the sum it does for those
    in ``summed`` (_summed_axes)."""
    summed, ranks = summed or {}, ranks or {}
    class Decide(gast.NodeTransformer):
        def visit_Subscript(self, node):
            if isinstance(node.value, gast.Name) and node.value.id == "d":
                return node                 # d[p] names an adjoint, not p's value
            return self.generic_visit(node)

        def visit_Call(self, node):
            func = node.func
            if isinstance(func, gast.Name) and len(node.args) == 2 and func.id == "unbroadcast" \
                    and isinstance(node.args[1], gast.Name) and node.args[1].id in same_shape:
                return self.visit(node.args[0])
            if isinstance(func, gast.Name) and len(node.args) == 2 and func.id == "unbroadcast" \
                    and isinstance(node.args[1], gast.Name) and node.args[1].id in summed:
                return sum_call(self.visit(node.args[0]), *summed[node.args[1].id])
            if isinstance(func, gast.Name) and func.id == "number" and len(node.args) == 1 \
                    and isinstance(node.args[0], gast.Name):
                return gast.Constant(value=node.args[0].id in numbers, kind=None)
            if isinstance(func, gast.Name) and func.id == "rank" and len(node.args) == 1 \
                    and isinstance(node.args[0], gast.Name):
                return gast.Constant(value=ranks.get(node.args[0].id, -1), kind=None)
            if isinstance(func, gast.Name) and func.id == "literal" and len(node.args) == 1 \
                    and isinstance(node.args[0], gast.Name):
                value = getattr(constants.get(node.args[0].id), "value", None)
                return gast.Constant(value=isinstance(value, (int, float)) and not isinstance(value, bool),
                                     kind=None)
            return self.generic_visit(node)

        def visit_Name(self, node):
            if node.id in constants and isinstance(node.ctx, gast.Load):
                return clone(constants[node.id])
            return node

    return Decide().visit(node)


# -- the reverse sweep of structured code --------------------------------------------

