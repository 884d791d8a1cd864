"""Stage 2, last, for ``has_aux=True``: the function returns ``(loss, aux)``.

    return result      ->  aux = auxiliary_part(result)
                           loss = result[0]
                           return loss

Only ``loss`` is differentiated; ``aux`` is handed back untouched (a copy of
its arrays, kept before the reverse sweep puts earlier values back into them).
"""
import gast

from pullback.code.quote import quote


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
