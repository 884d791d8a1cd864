"""fuse_product_sums: ``matmul_grad_lhs(unbroadcast(g, m), a, b)`` -> ``matmul_grad_lhs(g, a, b)``.

    m = a @ b                           m = a @ b
    ...                         ->      ...
    dm = unbroadcast(g, m)              da = matmul_grad_lhs(g, a, b)
    da = matmul_grad_lhs(dm, a, b)

The rule. ``dm = unbroadcast(g, m)``, where the forward sweep assigns
``m = a @ b`` once (in a loop: once per step, restored with its operands),
is read only by the product's adjoint helpers (``matmul_grad_lhs``,
``matmul_grad_rhs``) called with operands of ``a``'s and ``b``'s shapes
(the shape facts, or the same names), before ``g`` changes: they get ``g``.

Why it holds for every program: the helpers sum their ``g`` to the shape
of their operands' product themselves (runtime ``_sum_to_shape``, the
function ``unbroadcast`` calls), and that shape is ``m``'s; the sum is
linear, so summing first or inside gives the same array. What it gives:
``m`` is read for nothing else, so the forward sweep need not keep it (for
``h = np.tanh(x @ W + b)`` it keeps only ``h``), nor sum ``g`` twice.

Only with shape facts. Where the derivative knows the arrays' shapes
(issue 16), ``unbroadcast(g, m)`` is gone before this pass runs when ``m``
has the result's shape, and a sum over named axes replaces it otherwise;
the pass then fires where shapes are not known: a product of arrays whose
rank changes in a loop or differs between branches, or made by functions
the shape analysis does not follow.
"""
import gast

from pullback.code.astutil import make_name, names, stores, walk, walk_statements
from pullback.optimize.facts import name_counts, nested_blocks


def fuse_product_sums(fn, facts):
    """Hand ``g`` itself to the product's adjoint helpers, not ``unbroadcast(g, m)``."""
    if facts.shapes is None:
        return fn
    fuse = _Fusion(fn, facts.shapes)
    fn.body = fuse.block(fn.body)
    return fn


def _products(fn):
    """The names the forward sweep assigns once, to ``a @ b``: m -> (a, b)."""
    forward_stores, products = {}, {}
    for stmt in walk_statements(fn.body):
        if getattr(stmt, "pb_sweep", None) != "forward":
            continue
        match stmt:
            case gast.Assign(value=gast.Constant(value=None)):
                continue                # ``m = None``: before a loop that assigns m
            case gast.Assign(targets=targets):
                pass
            case gast.For(target=target):
                targets = [target]
            case _:
                continue
        for name in (n.id for t in targets for n in names(t)):
            forward_stores[name] = forward_stores.get(name, 0) + 1
        match stmt:
            case gast.Assign(targets=[gast.Name(id=m)],
                             value=gast.BinOp(op=gast.MatMult(), left=gast.Name(id=a),
                                              right=gast.Name(id=b))):
                products[m] = (a, b)
    return {m: operands for m, operands in products.items() if forward_stores[m] == 1}


class _Fusion:
    def __init__(self, fn, shapes):
        self.shapes = shapes
        self.products = _products(fn)
        self.load_count, self.store_count = name_counts(fn)

    def summed_product(self, node):
        """``unbroadcast(g, m)`` for a product ``m``: m, else None."""
        match node:
            case gast.Call(func=gast.Name(id="unbroadcast"), args=[_, gast.Name(id=m)],
                           keywords=[]) if m in self.products:
                return m
        return None

    def adjoint_of(self, node, m):
        """Is ``node`` a helper call taking the adjoint of ``m`` (its operands' shapes)?"""
        a, b = self.products[m]
        match node:
            case gast.Call(func=gast.Name(id="matmul_grad_lhs" | "matmul_grad_rhs"),
                           args=[_, gast.Name(id=left), gast.Name(id=right)]):
                return self.shapes.same_shape(left, a) and self.shapes.same_shape(right, b)
        return False

    def adjoint_calls(self, stmt, d, m):
        """The helper calls in ``stmt`` taking ``d`` as the adjoint of ``m``."""
        return [node for node in walk(stmt) if self.adjoint_of(node, m)
                and isinstance(node.args[0], gast.Name) and node.args[0].id == d]

    def fuse_nested(self, stmt):
        """``matmul_grad_lhs(unbroadcast(g, m), a, b)`` -> ``matmul_grad_lhs(g, a, b)``."""
        for node in walk(stmt):
            m = isinstance(node, gast.Call) and node.args and self.summed_product(node.args[0])
            if m and self.adjoint_of(node, m):
                node.args[0] = node.args[0].args[0]

    def fused_definition(self, stmts, k):
        """``dm = unbroadcast(g, m)`` at ``stmts[k]`` whose every read is by a
        product's adjoint helper before ``g`` changes: they read ``g``; True."""
        stmt = stmts[k]
        match stmt:
            case gast.Assign(targets=[gast.Name(id=d)],
                             value=gast.Call(args=[gast.Name(id=g), gast.Name(id=m), *_]) as value) \
                    if getattr(stmt, "pb_sweep", None) == "reverse" and self.summed_product(value):
                pass
            case _:
                return False
        wanted = self.load_count.get(d, 0)
        calls, j = [], k + 1
        while j < len(stmts) and len(calls) < wanted:
            if g in stores(stmts[j]) or any(hasattr(stmts[j], f) for f in ("body", "orelse")):
                break
            calls += self.adjoint_calls(stmts[j], d, m)
            j += 1
        if self.store_count.get(d) == 1 and calls and len(calls) == wanted:
            for call in calls:
                call.args[0] = make_name(g)
            return True
        return False

    def block(self, stmts):
        out = []
        for k, stmt in enumerate(stmts):
            for field in nested_blocks(stmt):
                setattr(stmt, field, self.block(getattr(stmt, field)))
            self.fuse_nested(stmt)
            if not self.fused_definition(stmts, k):
                out.append(stmt)
        return out
