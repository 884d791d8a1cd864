"""Stage 2: writes into arrays whose library has no views (Dask), refused.

The derivative follows NumPy's semantics: after ``y = x[1:]; x[0] = v`` the
view ``y`` sees the write, and the reverse sweep restores overwritten parts
in place. A Dask array's ``x[0] = v`` instead gives ``x`` a new task graph
that ``y`` never sees, so the same code computes something else there, and
a gradient of it could be silently wrong. When the derivative is generated
for such arrays (an argument is one), every subscript write in the function
is refused, naming the construct and the line; NumPy's in-place forms
(``out=``, ``a.fill``, ``a.sort``) arrive here already written as subscript
writes (own_arguments.py).
"""
import gast

from pullback.errors import UnsupportedSyntax, refuse
from pullback.runtime.arrays import LIBRARIES


def refuse_writes_without_views(parsed, libraries):
    """Raise UnsupportedSyntax at the first write into an item or slice of
    anything, or ``ufunc.at``, when ``libraries`` (of the arguments' arrays)
    has one whose arrays have no views."""
    if not libraries:
        return
    names = " and ".join(sorted(LIBRARIES[library] for library in libraries))
    advice = (f"Build the new array without writing into one (np.where, np.concatenate, "
              f"arithmetic with a mask), or pass NumPy arrays. With {names} arrays a write makes "
              f"a new graph that earlier slices of the array do not see, while the derivative "
              f"follows NumPy's semantics, where they do (docs/scaling.md).")
    for node in gast.walk(parsed.tree):
        targets = (node.targets if isinstance(node, gast.Assign) else
                   [node.target] if isinstance(node, (gast.AugAssign, gast.AnnAssign)) else [])
        for target in targets:
            for part in gast.walk(target):
                if isinstance(part, gast.Subscript) and isinstance(part.ctx, gast.Store):
                    raise refuse(UnsupportedSyntax, f"a write into part of an array "
                                 f"(subscript assignment) with {names} arrays as arguments",
                                 part, parsed.location, advice)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "at":
            raise refuse(UnsupportedSyntax, f"an unbuffered in-place ufunc (ufunc.at) with "
                         f"{names} arrays as arguments", node, parsed.location, advice)
