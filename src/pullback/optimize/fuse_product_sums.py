"""fuse_product_sums: ``matmul_grad_lhs(unbroadcast(g, m), a, b)`` -> ``matmul_grad_lhs(g, a, b)``.

    m = a @ b                           m = a @ b
    ...                         ->      ...
    dm = unbroadcast(g, m)              da = matmul_grad_lhs(g, a, b)
    da = matmul_grad_lhs(dm, a, b)

where the forward sweep computed ``m = a @ b`` once. The helpers sum ``g``
to the product's shape themselves, so ``m`` need not be kept for its shape
(for ``h = np.tanh(x @ W + b)`` the forward sweep keeps only ``h``). Only
with shape facts.
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
