"""combine_accumulations: two equal accumulations in a row  ->  one, doubled.

    dx = dx + g * x             ->      dx = dx + 2.0 * (g * x)
    dx = dx + g * x

(the two halves of ``x * x``), and ``a = e; a = a + e``  ->  ``a = 2.0 * e``.
"""
import gast

from pullback.code.astutil import loads
from pullback.code.quote import quote_expr
from pullback.optimize.facts import nested_blocks


def combine_accumulations(fn, facts):
    """Join an accumulation with an equal one just before it."""
    def block(stmts):
        out = []
        for stmt in stmts:
            for field in nested_blocks(stmt):
                setattr(stmt, field, block(getattr(stmt, field)))
            if not (out and _joined(out[-1], stmt)):
                out.append(stmt)
        return out

    fn.body = block(fn.body)
    return fn


def _joined(previous, stmt):
    """Fold ``stmt`` into ``previous`` where both add the same term; True if done."""
    this = _accumulation(stmt)
    if this is None:
        return False
    name, term = this
    before = _accumulation(previous)
    if before and before[0] == name and _same(term, before[1]) \
            and not getattr(previous, "pb_doubled", False):
        previous.value.right = _doubled(term)
        previous.pb_doubled = True
        return True
    match previous:
        case gast.Assign(targets=[gast.Name(id=target), *_], value=value) \
                if target == name and _same(value, term) and name not in loads(term):
            previous.value = _doubled(term)
            return True
    return False


def _doubled(term):
    return quote_expr("2.0 * term", term=term)


def _same(a, b):
    return gast.dump(a) == gast.dump(b)


def _accumulation(stmt):
    """``a = a + e`` (``e`` not reading ``a``) -> ("a", e), else None."""
    match stmt:
        case gast.Assign(targets=[gast.Name(id=target), *_],
                         value=gast.BinOp(left=gast.Name(id=left), op=gast.Add(), right=term)) \
                if left == target and target not in loads(term):
            return target, term
    return None
