"""Constant folding of generated statements: what only involves literals is
computed, decided branches are dropped, a template's ``literal(x)`` question
is answered, and negations move to where they cost least.

Used when a template is expanded for what is known of its arguments (stage
5) and by the optimizer's ``fold_constants`` pass (stage 7).
"""
import operator

import gast

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


def constant(value):
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
                return constant(_BINARY[type(node.op)](node.left.value, node.right.value))
            except (ArithmeticError, TypeError, ValueError):
                return node
        # x + (-a) * b -> x - a * b, and x - (-a) * b -> x + a * b
        if isinstance(node.op, (gast.Add, gast.Sub)) and isinstance(node.right, gast.BinOp) \
                and isinstance(node.right.op, (gast.Mult, gast.Div)) \
                and isinstance(node.right.left, gast.UnaryOp) and isinstance(node.right.left.op, gast.USub):
            node.right.left = node.right.left.operand
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
            return node
        # x - (-a) -> x + a
        if isinstance(node.op, gast.Sub) and isinstance(node.right, gast.UnaryOp) \
                and isinstance(node.right.op, gast.USub):
            return gast.BinOp(left=node.left, op=gast.Add(), right=node.right.operand)
        # (-a) * c -> a * (-c) for a number c: one negation of a number, not of an array
        if isinstance(node.op, gast.Mult) and isinstance(node.left, gast.UnaryOp) \
                and isinstance(node.left.op, gast.USub) and _is_literal(node.right) \
                and isinstance(node.right.value, (int, float)) and not isinstance(node.right.value, bool):
            return gast.BinOp(left=node.left.operand, op=gast.Mult(), right=constant(-node.right.value))
        # x ** 1 is x for every numeric x.
        if isinstance(node.op, gast.Pow) and _is_literal(node.right) and node.right.value == 1 \
                and not isinstance(node.right.value, bool):
            return node.left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        # -(-a) -> a, and -((-a) * b / c) -> a * b / c: negation is exact
        if isinstance(node.op, gast.USub):
            inner = node.operand
            if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                return inner.operand
            lead = inner
            while isinstance(lead, gast.BinOp) and isinstance(lead.op, (gast.Mult, gast.Div)):
                if isinstance(lead.left, gast.UnaryOp) and isinstance(lead.left.op, gast.USub):
                    lead.left = lead.left.operand
                    return inner
                lead = lead.left
        if _is_literal(node.operand) and type(node.op) in _UNARY:
            try:
                return constant(_UNARY[type(node.op)](_value(node.operand)))
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
            return constant(result)
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        if all(_is_literal(v) for v in node.values):
            values = [_value(v) for v in node.values]
            result = values[0]
            for value in values[1:]:
                result = (result and value) if isinstance(node.op, gast.And) else (result or value)
            return node.values[values.index(result)] if isinstance(result, tuple) else constant(result)
        return _drop_neutral(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and node.func.id == "literal" and len(node.args) == 1:
            # a template's question: was this argument a number in the user's code?
            argument = node.args[0]
            return constant(isinstance(argument, gast.Constant)
                             and isinstance(argument.value, (int, float))
                             and not isinstance(argument.value, bool))
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if _is_literal(node.test):
            return node.body if _value(node.test) else node.orelse
        if _pure_test(node.test) and gast.dump(node.body) == gast.dump(node.orelse):
            return node.body        # b if c else b, with a test that cannot fail or act
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


def fold_in_place(node):
    """Fold one node's subtrees (the node itself may be changed in place)."""
    return _Fold().visit(node)


def _drop_neutral(node):
    """``False or e`` -> ``e`` and ``True and e`` -> ``e`` (exact: ``or`` returns
    its first truthy operand), ``True or e`` -> ``True``; a trailing ``and True`` / ``or False`` goes only
    after an operand that is a bool already (a comparison)."""
    neutral = isinstance(node.op, gast.Or) is False      # True for And
    values = list(node.values)
    while len(values) > 1 and _is_literal(values[0]) and not isinstance(values[0], gast.Tuple) \
            and bool(values[0].value) is neutral:
        values.pop(0)
    if _is_literal(values[0]) and not isinstance(values[0], gast.Tuple) \
            and bool(values[0].value) is not neutral:
        return values[0]        # True or e -> True, False and e -> False: e never runs
    while len(values) > 1 and _is_literal(values[-1]) and not isinstance(values[-1], gast.Tuple) \
            and bool(values[-1].value) is neutral and _is_bool(values[-2]):
        values.pop()
    if len(values) == 1:
        return values[0]
    node.values = values
    return node


def _is_bool(node):
    """Is ``node`` an expression whose value is always a bool?"""
    match node:
        case gast.Compare(ops=ops):
            return all(isinstance(op, (gast.Is, gast.IsNot, gast.In, gast.NotIn)) for op in ops)
        case gast.UnaryOp(op=gast.Not()):
            return True
        case gast.BoolOp(values=values):
            return all(_is_bool(v) for v in values)
        case gast.Constant(value=bool()):
            return True
    return False


def _pure_test(node):
    """A test that neither raises nor acts: ``is``/``is not`` comparisons of names
    and literals, joined by ``and``/``or``/``not``."""
    match node:
        case gast.Name() | gast.Constant():
            return True
        case gast.Compare(left=left, ops=ops, comparators=rest):
            return all(isinstance(op, (gast.Is, gast.IsNot)) for op in ops) \
                and all(_pure_test(v) for v in [left, *rest])
        case gast.UnaryOp(op=gast.Not(), operand=operand):
            return _pure_test(operand)
        case gast.BoolOp(values=values):
            return all(_pure_test(v) for v in values)
    return False
