"""Stage 2, last, for ``has_aux=True``: the function returns ``(loss, aux)``.

    return result      ->  aux = auxiliary_part(result)
                           loss = result[0]
                           return loss

Only ``loss`` is differentiated; ``aux`` is handed back untouched (a copy of
its arrays, kept before the reverse sweep puts earlier values back into them).
Where every return is a pair written out (``return loss, metrics``), the split
happens at each return before normalization (split_aux_returns), so the
metrics never enter the reverse sweep.
"""
import gast

from pullback.code.astutil import own_nodes
from pullback.code.naming import unused_name
from pullback.code.quote import quote
from pullback.runtime.containers import kept_aux


def split_aux(tree, namer, location):
    """``(tree, name of aux)``: the normalized ``tree``'s one return split in two."""
    ret = tree.body[-1]
    result = ret.value.id
    aux, loss = namer.fresh("aux"), namer.fresh(result + "_loss")
    line = getattr(ret, "pb_line", None)
    stmts = [quote("aux = auxiliary_part(result)", aux=aux, result=result),
             quote("loss = result[0]", loss=loss, result=result),
             quote("return loss", loss=loss)]
    for stmt in stmts:
        stmt.pb_line = line
    tree.body[-1:] = stmts
    return tree, aux


def split_aux_returns(tree, parsed):
    """``return loss, aux`` at every return (before normalization): each becomes
    ``aux = kept_aux(aux); return loss``, so only the loss flows into the reverse
    sweep. ``(tree, name of aux)``, or ``(tree, None)`` if some return is not a
    pair written in the code (then split_aux splits the one return)."""
    returns = [node for node in own_nodes(tree) if isinstance(node, gast.Return)]
    if not returns or not all(isinstance(r.value, gast.Tuple) and len(r.value.elts) == 2
                              and not any(isinstance(e, gast.Starred) for e in r.value.elts)
                              for r in returns):
        return tree, None
    taken = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)} | set(parsed.local_names)
    aux = unused_name("aux", taken)

    class Split(gast.NodeTransformer):
        def visit_Return(self, node):
            loss, value = node.value.elts
            keep = quote("aux = kept_aux(value)", aux=aux, value=value)
            ret = gast.Return(value=loss)
            for new in (keep, ret):
                gast.copy_location(new, node)
                new.pb_line = getattr(node, "pb_line", None)
            return [keep, ret]

        def visit_FunctionDef(self, node):
            return node if node is not tree else self.generic_visit(node)

        visit_Lambda = visit_FunctionDef

    tree.body = [Split().visit(stmt) for stmt in tree.body]
    tree.body = [s for stmt in tree.body for s in (stmt if isinstance(stmt, list) else [stmt])]
    parsed.statics.setdefault("kept_aux", kept_aux)
    parsed.local_names = frozenset(parsed.local_names | {aux})
    return gast.fix_missing_locations(tree), aux
