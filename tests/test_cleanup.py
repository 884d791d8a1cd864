"""Stage 7: clean-up passes on tiny functions, shown as before/after source."""
import textwrap

import astor
import gast

from pullback.cleanup import eliminate_dead_code, fold_constants, propagate_copies


def run(source, passes):
    tree = gast.parse(textwrap.dedent(source)).body[0]
    for p in passes:
        tree = p(tree)
    return astor.to_source(gast.gast_to_ast(gast.Module(body=[tree], type_ignores=[]))).strip()


def expect(text):
    return textwrap.dedent(text).strip()


def assert_unchanged(source, passes):
    """The passes leave ``source`` as it is."""
    assert run(source, passes) == expect(source)


def test_fold_decides_branches_on_literals():
    assert run("""
        def f(g, x):
            if None is None and not False:
                dx = g * (2 - 1) * x ** 1
            else:
                dx = g
            return dx
        """, [fold_constants]) == expect("""
        def f(g, x):
            dx = g * 1 * x
            return dx
        """)


def test_fold_keeps_runtime_branches_and_never_folds_away_shapes():
    # 0 * x must stay an array operation: folding it to 0 loses the shape.
    assert_unchanged("""
        def f(x, axis):
            if axis is None:
                y = 0 * x
            else:
                y = x
            return y
        """, [fold_constants])


def test_copy_propagation_and_dead_code():
    assert run("""
        def f(x, dy):
            unused = np.sin(x)
            a = dy
            b = a * x
            c = b
            dx = c
            return dx
        """, [propagate_copies, eliminate_dead_code]) == expect("""
        def f(x, dy):
            b = dy * x
            dx = b
            return dx
        """)


def test_copy_propagation_respects_reassignment():
    # ``dx`` is reassigned (accumulation), so ``g = dx`` must not be forwarded.
    assert_unchanged("""
        def f(x, dz):
            dx = dz
            g = dx
            dx = dx + 1.0
            return g, dx
        """, [propagate_copies])


def test_dead_code_keeps_marked_statements_and_side_effects():
    tree = gast.parse("def f(x):\n    check = seed(x)\n    print(x)\n    y = x\n    return x\n").body[0]
    tree.body[0].pb_keep = True
    out = astor.to_source(gast.gast_to_ast(gast.Module(body=[eliminate_dead_code(tree)], type_ignores=[])))
    assert "check = seed(x)" in out and "print(x)" in out and "y = x" not in out
