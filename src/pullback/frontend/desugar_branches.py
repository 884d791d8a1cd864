"""Stage 2b, values chosen by a test, and tuple targets.

desugar_conditionals    ``a if c else b``, ``a and b``, ``a or b`` -> ``if`` statements
desugar_tuple_targets   ``a, b = t`` -> ``a = t[0]; b = t[1]``
"""
import gast

from pullback.code.astutil import make_name
from pullback.code.quote import quote_expr
from pullback.frontend.blocks import map_blocks, quoted


def desugar_conditionals(tree, namer):
    """Hoist ``a if c else b`` and ``a and b`` / ``a or b`` into ``if`` statements.

    Only the chosen operand is evaluated, as in Python.
    """
    def hoist(stmt):
        before = []

        class Hoist(gast.NodeTransformer):
            def visit_IfExp(self, node):
                self.generic_visit(node)
                result = namer.fresh("choice")
                before.extend(quoted("""
                    if test:
                        result = chosen
                    else:
                        result = otherwise
                    """, stmt, test=node.test, result=result, chosen=node.body,
                    otherwise=node.orelse))
                return make_name(result)

            def visit_BoolOp(self, node):
                self.generic_visit(node)
                either = isinstance(node.op, gast.Or)
                result = namer.fresh("either" if either else "both")
                before.extend(quoted("result = value", stmt, result=result, value=node.values[0]))
                for value in node.values[1:]:
                    # a or b: b only when a is false; a and b: b only when a is true
                    text = "if not result:\n    result = value" if either else \
                        "if result:\n    result = value"
                    before.extend(quoted(text, stmt, result=result, value=value))
                return make_name(result)

        match stmt:
            case gast.If() | gast.While():
                # only the header belongs to this statement; bodies were done already
                stmt.test = Hoist().visit(stmt.test)
            case gast.For():
                stmt.iter = Hoist().visit(stmt.iter)
            case _:
                stmt = Hoist().visit(stmt)
        return before + [stmt]

    tree.body = map_blocks(tree.body, hoist)
    return tree


def desugar_tuple_targets(tree, namer):
    """``a, (b, c) = t`` -> ``a = t[0]; rest = t[1]; b = rest[0]; c = rest[1]``."""
    def unpack(target, value, like):
        if not isinstance(target, (gast.Tuple, gast.List)):
            return quoted("target = value", like, target=target, value=value)
        if _pairs_up(target, value):            # a, b = b, a  is two moves
            return [s for t, v in zip(target.elts, value.elts) for s in unpack(t, v, like)]
        out = []
        if not isinstance(value, gast.Name):
            name = namer.fresh("packed")
            out += quoted("packed = value", like, packed=name, value=value)
            value = make_name(name)
        for i, element in enumerate(target.elts):
            out += unpack(element, quote_expr("packed[i]", packed=value.id, i=i), like)
        return out

    def rewrite(stmt):
        match stmt:
            case gast.Assign(targets=[_, _, *_]):       # a = b = value
                name = namer.fresh("value")
                out = quoted("name = value", stmt, name=name, value=stmt.value)
                for target in stmt.targets:
                    out += unpack(target, make_name(name), stmt)
                return out
            case gast.Assign(targets=[gast.Tuple() | gast.List()]):
                return unpack(stmt.targets[0], stmt.value, stmt)
        return [stmt]

    tree.body = map_blocks(tree.body, rewrite)
    return tree


def _pairs_up(target, value):
    """``a, b = x, 1.0``: each target takes a name or literal no target rebinds."""
    return (isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts)
            and all(isinstance(e, (gast.Name, gast.Constant)) for e in value.elts)
            and not ({e.id for e in value.elts if isinstance(e, gast.Name)}
                     & {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}))
