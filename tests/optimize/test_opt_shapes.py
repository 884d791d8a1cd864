"""share_shape_references and fuse_product_sums on tiny functions (they need shape facts)."""
from optkit import expect, run

from pullback.analysis.shape_classes import ShapeFacts
from pullback.optimize import fuse_product_sums, share_shape_references

LAYER = """
    def f(x, W, b):
        add = x @ W + b
        h1 = np.tanh(add)
        dh1 = g * h1{times_add}
        dadd = unbroadcast(dh1, add)
        dmul = unbroadcast(dh1, {other})
        return dadd
"""
LAYER_SWEEPS = ["forward", "forward", "reverse", "reverse", "reverse", "return"]
SHAPES = ShapeFacts({"h1": "add", "mul": "x"})     # h1 has add's shape, mul has x's


def test_share_shape_references_reads_a_kept_value_of_the_same_shape():
    assert run(share_shape_references, LAYER.format(times_add="", other="mul"),
               sweeps=LAYER_SWEEPS, shapes=SHAPES) == expect("""
        def f(x, W, b):
            add = x @ W + b
            h1 = np.tanh(add)
            dh1 = g * h1
            dadd = unbroadcast(dh1, h1)
            dmul = unbroadcast(dh1, x)
            return dadd
    """)


def test_share_shape_references_keeps_a_value_read_anyway_or_of_unknown_shape():
    source = LAYER.format(times_add=" * add", other="z")
    assert run(share_shape_references, source, sweeps=LAYER_SWEEPS, shapes=SHAPES) == expect(source)
    source = LAYER.format(times_add="", other="mul")
    assert run(share_shape_references, source, sweeps=LAYER_SWEEPS) == expect(source)  # no facts


PRODUCT = """
    def f(a, b, g):
        m = a @ b
        dm = unbroadcast(g, m)
        da = matmul_grad_lhs(dm, a, b)
        {last} = {last_value}
        return da, {last}
"""
PRODUCT_SWEEPS = ["forward", "reverse", "reverse", "reverse", "return"]


def test_fuse_product_sums_hands_the_helpers_the_unsummed_adjoint():
    assert run(fuse_product_sums, PRODUCT.format(last="db", last_value="matmul_grad_rhs(dm, a, b)"),
               sweeps=PRODUCT_SWEEPS, shapes=ShapeFacts()) == expect("""
        def f(a, b, g):
            m = a @ b
            da = matmul_grad_lhs(g, a, b)
            db = matmul_grad_rhs(g, a, b)
            return da, db
    """)


def test_fuse_product_sums_keeps_the_sum_another_statement_reads_and_needs_shape_facts():
    source = PRODUCT.format(last="dc", last_value="dm * 2.0")
    assert run(fuse_product_sums, source, sweeps=PRODUCT_SWEEPS, shapes=ShapeFacts()) == expect(source)
    source = PRODUCT.format(last="db", last_value="matmul_grad_rhs(dm, a, b)")
    assert run(fuse_product_sums, source, sweeps=PRODUCT_SWEEPS) == expect(source)
