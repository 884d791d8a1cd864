"""scale_smaller_factors: a number or a sign applied where the array is smallest.

    dz = 2.0 * (dtotal[:, :, None] * z)     ->  dz = 2.0 * dtotal[:, :, None] * z
    d = (-scaled * z).sum(axis=0)           ->  d = -(scaled * z).sum(axis=0)

The rule. In the reverse sweep, a number times a product one of whose
factors adds axes by indexing (``g[:, None]``) multiplies that factor
instead; a negation inside a sum (``(-a * b).sum(...)``, ``(-a).sum(...)``)
negates the sum.

Why it holds for every program: broadcasting never makes a result smaller
than an operand, and a factor indexed with ``None`` has length 1 on the axes
it adds, so it is at most the product's size; a sum is at most its operand's
size. The value is the same number: negation is exact and commutes with
rounding; scaling one factor instead of the product reassociates one
multiplication (a power of two, the usual ``2.0`` or ``-0.5`` of a
template, gives the same bits). What it gives: one pass over the small array
instead of the large one (0.3 ms of 14 on the mixture log-likelihood).
"""
import gast

from pullback.code.astutil import rewrite_children


def scale_smaller_factors(fn, facts):
    """Move literal factors onto indexed factors and negations out of sums."""
    for stmt in fn.body:
        if getattr(stmt, "pb_sweep", None) == "reverse":
            rewrite_children(stmt, _better)
    return fn


def _better(node):
    match node:
        case gast.BinOp(left=number, op=gast.Mult(), right=gast.BinOp(op=gast.Mult()) as product) \
                if _number(number):
            return _scaled(number, product) or node
        case gast.BinOp(left=gast.BinOp(op=gast.Mult()) as product, op=gast.Mult(), right=number) \
                if _number(number):
            return _scaled(number, product) or node
        case gast.Call(func=gast.Attribute(value=summed, attr="sum") as method, args=args,
                       keywords=keywords):
            inner = _without_sign(summed)
            if inner is not None:
                method.value = inner
                return gast.UnaryOp(op=gast.USub(), operand=gast.Call(func=method, args=args,
                                                                       keywords=keywords))
    return node


def _scaled(number, product):
    """``number * product`` with the number on the factor that adds axes, or None."""
    if _adds_axes(product.left) and not _adds_axes(product.right):
        product.left = gast.BinOp(left=number, op=gast.Mult(), right=product.left)
        return product
    if _adds_axes(product.right) and not _adds_axes(product.left):
        product.right = gast.BinOp(left=number, op=gast.Mult(), right=product.right)
        return product
    return None


def _without_sign(node):
    """``a * b`` for ``-a * b`` or ``a * -b``, ``a`` for ``-a``; else None."""
    match node:
        case gast.UnaryOp(op=gast.USub(), operand=operand):
            return operand
        case gast.BinOp(left=gast.UnaryOp(op=gast.USub(), operand=left), op=gast.Mult(), right=right) \
                if not isinstance(right, gast.UnaryOp):
            return gast.BinOp(left=left, op=gast.Mult(), right=right)
        case gast.BinOp(left=left, op=gast.Mult(), right=gast.UnaryOp(op=gast.USub(), operand=right)) \
                if not isinstance(left, gast.UnaryOp):
            return gast.BinOp(left=left, op=gast.Mult(), right=right)
    return None


def _number(node):
    match node:
        case gast.Constant(value=value):
            return type(value) in (int, float)
        case gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=value)):
            return type(value) in (int, float)
    return False


def _adds_axes(node):
    """``g[:, None]``: an index of whole slices and at least one None."""
    if not isinstance(node, gast.Subscript):
        return False
    parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
    return any(isinstance(p, gast.Constant) and p.value is None for p in parts) and all(
        (isinstance(p, gast.Constant) and p.value is None)
        or (isinstance(p, gast.Slice) and p.lower is None and p.upper is None and p.step is None)
        for p in parts)
