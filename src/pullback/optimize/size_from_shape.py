"""size_from_shape: ``np.size(x)`` -> ``np.prod(np.shape(x))``, in code for Dask or CuPy arrays.

    d = dy / np.size(a)          ->      d = dy / np.prod(np.shape(a))

The rule. In a derivative generated for arrays of other libraries than NumPy
(pipeline.OUT_OF_PLACE), every call of ``np.size`` with one argument reads
the product of the argument's shape instead.

Why: Dask implements ``np.shape`` through NumPy's dispatch but not
``np.size``, for which it computes the whole array into NumPy (with a
FutureWarning) just to count its elements. The product of the shape is the
number of elements for every value ``np.size`` takes (an array of any
library, a number: the empty product 1, a list: its nested lengths).
"""
import gast

from pullback.code.quote import quote_expr


def size_from_shape(fn, facts):
    """Spell ``np.size(x)`` as the product of x's shape."""
    if "np" in facts.local(fn):         # np: NumPy, unless the function binds it
        return fn

    class Spell(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            match node:
                case gast.Call(func=gast.Attribute(value=gast.Name(id="np"), attr="size"),
                               args=[argument], keywords=[]):
                    return quote_expr("np.prod(np.shape(x))", x=argument)
            return node

    return Spell().visit(fn)
