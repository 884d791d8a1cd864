"""propagate_negations: ``t = -u; a += t * y``  ->  ``a -= u * y``.

    dmul_5 = -ddecline          ->      dgamma -= ddecline * predator
    dgamma += dmul_5 * predator

One negation less per use of ``t`` (in a scalar loop, one float operation
in ten). Only within a block, in the reverse sweep, for a ``t`` assigned
once, with ``u`` unchanged until the last use. And ``a += -u * y`` becomes
``a -= u * y``, and ``a = a + -(u * y)`` becomes ``a = a - u * y`` (the same
number: negation is exact). ``t = -(u * y); t += e`` becomes ``t = e - u * y``
(one array operation less; ``e + -(u * y)`` and ``e - u * y`` round alike).
"""
import gast

from pullback.code.astutil import loads, make_name, stores
from pullback.optimize.facts import effect_free, name_counts, nested_blocks


def propagate_negations(fn, facts):
    """Subtract ``u * y`` where a negated ``t = -u`` was added as ``t * y``."""
    load_count, store_count = name_counts(fn)

    def block(stmts):
        out = list(stmts)
        for stmt in out:
            for field in nested_blocks(stmt):
                setattr(stmt, field, block(getattr(stmt, field)))
        i = 0
        while i < len(out):
            stmt = out[i]
            match stmt:
                case gast.Assign(targets=[gast.Name(id=name), *_],
                                 value=gast.UnaryOp(op=gast.USub(), operand=gast.Name(id=source))) \
                        if getattr(stmt, "pb_sweep", None) == "reverse" and name not in facts.named \
                        and store_count.get(name) == 1 \
                        and _subtract_instead(out[i + 1:], name, source, load_count.get(name)):
                    del out[i]
                    continue
                case gast.Assign(targets=[gast.Name(id=name)],
                                 value=gast.UnaryOp(op=gast.USub(), operand=negated)) \
                        if getattr(stmt, "pb_sweep", None) == "reverse" and i + 1 < len(out) \
                        and _adds_to(out[i + 1], name) and effect_free(negated):
                    stmt.value = gast.BinOp(left=out[i + 1].value, op=gast.Sub(), right=negated)
                    del out[i + 1]
                case gast.AugAssign(op=gast.Add()) if getattr(stmt, "pb_sweep", None) == "reverse":
                    _subtract_negated(stmt)
                case gast.Assign(value=gast.BinOp(op=gast.Add()) as total) \
                        if getattr(stmt, "pb_sweep", None) == "reverse":
                    _subtract_negated(total, "right")
            i += 1
        return out

    fn.body = block(fn.body)
    return fn


def _adds_to(stmt, name):
    """Is ``stmt`` ``name += e`` (``e`` not reading ``name``, with no effect)?"""
    match stmt:
        case gast.AugAssign(target=gast.Name(id=target), op=gast.Add(), value=value) \
                if target == name and name not in loads(value) and effect_free(value):
            return True
    return False


def _subtract_instead(later, name, source, uses_wanted):
    """If every one of the ``uses_wanted`` reads of ``name`` in ``later`` adds
    ``name * y``, before ``source`` changes: subtract ``source * y`` there; True."""
    uses, seen = [], 0
    for stmt in later:
        here = loads(stmt).count(name)
        if here:
            use = _use_of(stmt, name) if here == 1 else None
            if use is None:
                break
            uses.append(use)
            seen += 1
        if seen == uses_wanted or source in stores(stmt):
            break
    if not uses or seen != uses_wanted:
        return False
    for use in uses:
        term = use.value if isinstance(use, gast.AugAssign) else use.right
        _negated_term(term, name).left = make_name(source)
        use.op = gast.Sub()
    return True


def _subtract_negated(node, field="value"):
    """``a += -u * y`` -> ``a -= u * y``; ``a + -(u * y)`` -> ``a - u * y``
    (``field``: the added term's)."""
    negated = _leading_negation(getattr(node, field))
    if negated is not None:
        parent, operand = negated
        if parent is None:
            setattr(node, field, operand)
        else:
            parent.left = operand
        node.op = gast.Sub()


def _negated_term(expression, name):
    """The product or quotient in ``name * y * z / w`` whose left is
    ``name``, else None."""
    while isinstance(expression, gast.BinOp) and isinstance(expression.op, (gast.Mult, gast.Div)):
        if isinstance(expression.left, gast.Name) and expression.left.id == name:
            return expression
        expression = expression.left
    return None


def _use_of(stmt, name):
    """The BinOp/AugAssign of ``stmt`` adding ``name * y``, or None."""
    match stmt:
        case gast.AugAssign(op=gast.Add(), value=value):
            return stmt if _negated_term(value, name) is not None else None
        case gast.Assign(value=gast.BinOp(op=gast.Add(), left=left, right=right)) \
                if _negated_term(right, name) is not None and name not in loads(left):
            return stmt.value
    return None


def _leading_negation(expression):
    """``-u`` at the far left of a product or quotient: (its parent, ``u``);
    (None, ``u``) when the expression is ``-u`` itself; else None."""
    parent = None
    while isinstance(expression, gast.BinOp) and isinstance(expression.op, (gast.Mult, gast.Div)):
        parent, expression = expression, expression.left
    if isinstance(expression, gast.UnaryOp) and isinstance(expression.op, gast.USub):
        return parent, expression.operand
    return None
