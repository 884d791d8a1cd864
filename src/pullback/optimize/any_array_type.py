"""any_array_type: sizes, shapes and broadcasts that hold for any array type, in
code for Dask or CuPy arrays.

    d = dy / np.size(a)                      ->  d = dy / size_of(a)
    np.broadcast_shapes(c.shape, np.shape(parts))  ->  ... shape_of(parts) ...
    da = np.broadcast_to(dtotal, np.shape(a))    ->  da = unreduce(dtotal, a)
    np.broadcast_to(1.0, np.broadcast_shapes(a.shape, np.shape(b)))  ->  broadcast_of(1.0, a, b)
    np.reshape(dv, np.shape(M), order=o)         ->  reshaped(dv, shape_of(M), o)

The rule. In a derivative generated for arrays of other libraries than NumPy
(pipeline.OUT_OF_PLACE), a call of ``np.size`` or ``np.shape`` with one
argument calls the runtime's ``size_of`` or ``shape_of`` (runtime/arrays.py),
and a broadcast to the shape of a name (the gradient of a sum over all axes)
is ``unreduce`` of it, which makes it of that value's array type, and a
broadcast to the shape of operands (the seed of ``np.sum(a * b)``'s
gradient) is ``broadcast_of`` them, of their array type; a reshape with an
``order=`` is ``reshaped``, which leaves NumPy's default 'C' out (Dask's
reshape takes no order).

Why: Dask implements ``np.shape`` through NumPy's dispatch but not
``np.size``, for which it computes the whole array into NumPy (with a
FutureWarning) just to count its elements; ``np.shape`` of a list of Dask
or CuPy arrays (``np.split``'s pieces) converts each of them; and
``np.broadcast_to`` of a number is a NumPy array, which would make the
gradient of ``np.sum(x)`` for a Dask ``x`` a NumPy array on the client, of
x's full size once multiplied. The helpers read ``.size`` and ``.shape`` off
such arrays and give what NumPy's functions give for every other value
(numbers, NumPy arrays, lists); ``unreduce(g, a)`` is ``np.broadcast_to(g,
np.shape(a))`` for a NumPy ``a`` and zeros of a's type (its chunks, its
device) plus ``g`` for another library's.
"""
import gast

from pullback.code.quote import quote_expr

_HELPERS = {"size": "size_of", "shape": "shape_of"}


def any_array_type(fn, facts):
    """Ask the runtime's helpers for sizes, shapes and broadcasts."""
    if "np" in facts.local(fn):         # np: NumPy, unless the function binds it
        return fn

    class Spell(gast.NodeTransformer):
        def visit_Call(self, node):
            operands = _broadcast_operands(node)
            if operands is not None:
                return quote_expr("broadcast_of(g, " + ", ".join(f"x{i}" for i in range(len(operands)))
                                  + ")", g=self.visit(node.args[0]),
                                  **{f"x{i}": operand for i, operand in enumerate(operands)})
            match node:
                case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="reshape"),
                               args=[value, shape], keywords=[gast.keyword(arg="order", value=order)]):
                    return quote_expr("reshaped(x, s, o)", x=self.visit(value), s=self.visit(shape),
                                      o=self.visit(order))
                case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="broadcast_to"),
                               args=[value, gast.Call(func=gast.Attribute(
                                   value=gast.Name(id="np"), attr="shape"),
                                   args=[gast.Name() as name], keywords=[])], keywords=[]):
                    return quote_expr("unreduce(g, x)", g=self.visit(value), x=name)
            self.generic_visit(node)
            match node:
                case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr=attr),
                               args=[argument], keywords=[]) if attr in _HELPERS:
                    return quote_expr(f"{_HELPERS[attr]}(x)", x=argument)
            return node

    return Spell().visit(fn)


def _broadcast_operands(node):
    """``[a, b]`` of ``np.broadcast_to(g, np.broadcast_shapes(a.shape, np.shape(b)))``, else None."""
    match node:
        case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="broadcast_to"),
                       args=[_, gast.Call(func=gast.Attribute(value=gast.Name(id="np"),
                                                              attr="broadcast_shapes"),
                                          args=shapes, keywords=[])], keywords=[]) if shapes:
            operands = []
            for shape in shapes:
                match shape:
                    case gast.Attribute(value=gast.Name() as name, attr="shape") | gast.Call(
                            func=gast.Attribute(value=gast.Name(id="np"), attr="shape"),
                            args=[gast.Name() as name], keywords=[]):
                        operands.append(name)
                    case _:
                        return None
            return operands
    return None
