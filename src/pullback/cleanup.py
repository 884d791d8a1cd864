"""Stage 7: clean-up passes over a generated function, each ``tree -> tree``.

fold_constants          compute what only involves literals; drop decided branches
propagate_copies        ``a = b`` then uses of ``a``  ->  uses of ``b``
eliminate_dead_code     drop assignments nobody reads

Statements marked ``pb_keep`` (the scalar check on grad's output) survive.
"""
import operator

import gast

from .astutil import loads, stores

_BINARY = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
}
_UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_}
_COMPARE = {
    gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Lt: operator.lt,
    gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
    gast.Is: operator.is_, gast.IsNot: operator.is_not,
}
_LITERAL = (int, float, bool, str, type(None))


def _constant(value):
    return gast.Constant(value=value, kind=None)


def _is_literal(node):
    """A literal whose value the folder may compute with (tuples of literals too)."""
    if isinstance(node, gast.Tuple):
        return all(_is_literal(e) for e in node.elts)
    return isinstance(node, gast.Constant) and isinstance(node.value, _LITERAL)


def _value(node):
    if isinstance(node, gast.Tuple):
        return tuple(_value(e) for e in node.elts)
    return node.value


class _Fold(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if _is_literal(node.left) and _is_literal(node.right) and type(node.op) in _BINARY \
                and not isinstance(node.left, gast.Tuple) and not isinstance(node.right, gast.Tuple):
            try:
                return _constant(_BINARY[type(node.op)](node.left.value, node.right.value))
            except (ArithmeticError, TypeError, ValueError):
                return node
        # x ** 1 is x for every numeric x.
        if isinstance(node.op, gast.Pow) and _is_literal(node.right) and node.right.value == 1 \
                and not isinstance(node.right.value, bool):
            return node.left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if _is_literal(node.operand) and type(node.op) in _UNARY:
            try:
                return _constant(_UNARY[type(node.op)](_value(node.operand)))
            except TypeError:
                return node
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        operands = [node.left] + node.comparators
        if all(_is_literal(o) for o in operands) and all(type(o) in _COMPARE for o in node.ops):
            values = [_value(o) for o in operands]
            try:
                result = all(_COMPARE[type(op)](a, b)
                             for op, a, b in zip(node.ops, values, values[1:]))
            except TypeError:
                return node
            return _constant(result)
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        if all(_is_literal(v) for v in node.values):
            values = [_value(v) for v in node.values]
            result = values[0]
            for value in values[1:]:
                result = (result and value) if isinstance(node.op, gast.And) else (result or value)
            return node.values[values.index(result)] if isinstance(result, tuple) else _constant(result)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and node.func.id == "literal" and len(node.args) == 1:
            # a template's question: was this argument a number in the user's code?
            argument = node.args[0]
            return _constant(isinstance(argument, gast.Constant)
                             and isinstance(argument.value, (int, float))
                             and not isinstance(argument.value, bool))
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if _is_literal(node.test):
            return node.body if _value(node.test) else node.orelse
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if _is_literal(node.test):
            return (node.body if _value(node.test) else node.orelse) or []
        return node


def fold_constants_in(statements):
    """Fold constants in a list of statements (returns a new list)."""
    folder = _Fold()
    out = []
    for stmt in statements:
        result = folder.visit(stmt)
        if isinstance(result, list):
            out.extend(result)
        elif result is not None:
            out.append(result)
    return out


def fold_constants(fn):
    fn.body = fold_constants_in(fn.body)
    return fn


def eliminate_dead_code(fn):
    """Drop assignments whose value no later statement (or the return) reads."""
    live = set()
    kept = []
    for stmt in reversed(fn.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and not getattr(stmt, "pb_keep", False):
            target = stmt.targets[0].id
            if target not in live:
                continue
            live.discard(target)
            live.update(loads(stmt.value))
        else:
            live.update(loads(stmt))
        kept.append(stmt)
    fn.body = kept[::-1]
    return fn


def propagate_copies(fn):
    """Replace ``a = b; f(a)`` by ``f(b)`` where both names keep one value.

    One pass: ``a = b`` is dropped when ``a`` is assigned only there and
    ``b`` is not assigned again later. Names the function returns are left
    alone, so the result keeps the user's name (``return dx``).
    """
    returned = set()
    if fn.body and isinstance(fn.body[-1], gast.Return) and fn.body[-1].value is not None:
        returned = set(loads(fn.body[-1].value))
    keep = returned | {a.id for a in fn.args.args}
    store_count, last_store = {}, {}
    for i, stmt in enumerate(fn.body):
        for target in stores(stmt):
            store_count[target] = store_count.get(target, 0) + 1
            last_store[target] = i
    replace = {}
    body = []
    for i, stmt in enumerate(fn.body):
        if replace:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in replace:
                    node.id = replace[node.id]
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
                and isinstance(stmt.targets[0], gast.Name):
            alias, source = stmt.targets[0].id, stmt.value.id
            if alias not in keep and store_count.get(alias) == 1 and last_store.get(source, -1) <= i:
                replace[alias] = source
                continue
        body.append(stmt)
    fn.body = body
    return fn


def forward_substitute(fn):
    """``a = b`` followed, in the same block, by the only use of ``a``: use ``b``.

    Works inside loops and branches, where ``propagate_copies`` does not go:
    ``dmul = dadd; dx = dmul * 1.1`` becomes ``dx = dadd * 1.1``.
    """
    load_count, store_count = {}, {}
    for node in gast.walk(fn):
        if isinstance(node, gast.Name):
            counts = load_count if isinstance(node.ctx, gast.Load) else store_count
            counts[node.id] = counts.get(node.id, 0) + 1
    keep = {a.id for a in fn.args.args}
    if fn.body and isinstance(fn.body[-1], gast.Return) and fn.body[-1].value is not None:
        keep |= set(loads(fn.body[-1].value))

    def block(stmts):
        out = list(stmts)
        i = 0
        while i < len(out):
            stmt = out[i]
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    new = block(getattr(stmt, field))
                    setattr(stmt, field, new or ([gast.Pass()] if field == "body" else []))
            if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
                    and isinstance(stmt.targets[0], gast.Name):
                alias, source = stmt.targets[0].id, stmt.value.id
                if alias not in keep and load_count.get(alias) == 1 and store_count.get(alias) == 1:
                    for j in range(i + 1, len(out)):
                        later = out[j]
                        if alias in loads(later):
                            simple = isinstance(later, (gast.Assign, gast.Expr, gast.Return))
                            if simple:
                                for node in gast.walk(later):
                                    if isinstance(node, gast.Name) and node.id == alias \
                                            and isinstance(node.ctx, gast.Load):
                                        node.id = source
                                del out[i]
                                i -= 1
                            break
                        if source in stores(later) or alias in stores(later):
                            break
            i += 1
        return out

    fn.body = block(fn.body)
    return fn


def clean(fn):
    """Every clean-up pass, in order."""
    return eliminate_dead_code(forward_substitute(propagate_copies(fold_constants(fn))))
