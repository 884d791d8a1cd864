"""Stage 6 (forward mode): the jvp function a user calls and reads.

jvp            {f}_jvp(params, tangents)   -> (value, tangent of the value)

The tangents are parameters after the function's own, one per
differentiated argument (``x_dot`` for ``x``). In a batched function each
has a leading axis, the direction; ``directions`` is their number.
"""
import gast

from pullback.code.astutil import make_name
from pullback.runtime.tangents import direction_count
from pullback.transform.assemble import _function


def jvp_function(parsed, params, wrt, body, namer, directions, batched, name, imports, aliases):
    """``def name(params..., tangents...)``: the forward sweep with its tangents."""
    tangents = [namer.tangent(w) for w in wrt]
    where = f"{parsed.location.filename}:{parsed.location.first_line}"
    shown = ", ".join(wrt) or "nothing"
    if batched:
        doc = (f"Value of {parsed.name} ({where}) and its derivative along each direction in "
               f"{', '.join(tangents) or 'none'} (leading axis: one direction each), w.r.t. {shown}.")
    else:
        doc = (f"Value of {parsed.name} ({where}) and its derivative along "
               f"{', '.join(tangents) or 'no direction'} (Jacobian-vector product), w.r.t. {shown}.")
    prelude = []
    if directions is not None:
        count = aliases.get("direction_count", "direction_count")
        imports[count] = direction_count
        value = gast.Call(func=make_name(count), args=[make_name(t) for t in tangents], keywords=[]) \
            if tangents else gast.Constant(value=1, kind=None)
        prelude.append(gast.Assign(targets=[make_name(directions, gast.Store())], value=value,
                                   type_comment=None))
        prelude[-1].pb_sweep = "forward"
    return _function(name, list(params) + tangents, prelude + body, doc)
