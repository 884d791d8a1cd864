"""Stage 7: clean-up passes on tiny functions, shown as before/after source."""
import textwrap

import astor
import gast

from pullback.optimize import (OptimizerFacts, eliminate_dead_code, fold_constants,
                               own_in_place_buffers, propagate_copies, skip_zero_first_step)


def run(source, passes):
    tree = gast.parse(textwrap.dedent(source)).body[0]
    facts = OptimizerFacts()
    for p in passes:
        tree = p(tree, facts)
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
    out = astor.to_source(gast.gast_to_ast(gast.Module(body=[eliminate_dead_code(tree, OptimizerFacts())], type_ignores=[])))
    assert "check = seed(x)" in out and "print(x)" in out and "y = x" not in out


def test_a_reverse_loop_skips_the_zeros_it_adds_on_its_first_step():
    # dr is 0.0 on the first step: the terms it scales add nothing then
    assert run("""
        def f(dx, n, r, x, e, E, stack):
            da = 0.0
            dr = 0.0
            for _ in range(n):
                t = -dr
                da -= t * e
                dx = dx + dr * x * math.cos(E)
                dr = -dx / x
                x, E = stack.pop()
            da -= dr
            return da
        """, [skip_zero_first_step]) == expect("""
        def f(dx, n, r, x, e, E, stack):
            da = 0.0
            dr = 0.0
            for step in range(n):
                if step:
                    t = -dr
                    da -= t * e
                    dx = dx + dr * x * math.cos(E)
                dr = -dx / x
                x, E = stack.pop()
            da -= dr
            return da
        """)


def test_the_first_step_keeps_what_is_not_a_multiple_of_a_zero():
    cases = [
        # dr is read before the loop assigns it anew: its value carries over
        """
        def f(dx, n, x):
            dr = 0.0
            for _ in range(n):
                dx = dx + dr * x
                dx = dx * dr
                dr = -dx / x
            return dx
        """,
        # t is read after the prefix: skipping would leave it stale
        """
        def f(dx, n, x):
            dr = 0.0
            for _ in range(n):
                t = dr * x
                dx = dx + t
                dr = -dx / x + t
            return dx
        """,
        # dx + 1.0 is not 0 when dr is
        """
        def f(dx, n, x):
            dr = 0.0
            for _ in range(n):
                dx = dx + (dr * x + 1.0)
                dr = -dx / x
            return dx
        """,
        # a call pullback does not know may have an effect
        """
        def f(dx, n, x):
            dr = 0.0
            for _ in range(n):
                dx = dx + dr * log(x)
                dr = -dx / x
            return dx
        """,
        # the loop reads its counter; and a zero from a helper may be an array
        """
        def f(dx, n, x, r):
            dr = 0.0
            for i in range(n):
                dx = dx + dr * i
                dr = -dx / x
            dq = zeros_adjoint(r)
            for _ in range(n):
                dx = dx + dq * x
                dq = -dx / x
            return dx
        """,
        # the zero is assigned again before the loop
        """
        def f(dx, n, x, g):
            dr = 0.0
            dr = g
            for _ in range(n):
                dx = dx + dr * x
                dr = -dx / x
            return dx
        """,
    ]
    for source in cases:
        assert_unchanged(source, [skip_zero_first_step])


# -- own_in_place_buffers: an in-place accumulation writes only its own array --

def test_an_add_at_into_an_array_another_live_name_holds_works_on_a_copy():
    # unbroadcast may hand back dd itself: da and db are then one array, and
    # adding into db in place would change da, which is read afterwards
    assert run("""
        def f(de, a, b, dc):
            dd = unbroadcast(de, a)
            da = unbroadcast(dd, a)
            db = unbroadcast(dd, a)
            db = add_at(db, b, 0, dc)
            da = da + db
            return da
    """, [own_in_place_buffers]) == expect("""
        def f(de, a, b, dc):
            dd = unbroadcast(de, a)
            da = unbroadcast(dd, a)
            db = unbroadcast(dd, a)
            db = add_at(fresh_copy(db), b, 0, dc)
            da = da + db
            return da
    """)


def test_an_augmented_addition_into_a_shared_array_is_undone():
    assert run("""
        def f(g, x):
            dy = g * 2.0
            dx = dy
            dx += x
            return dx + dy
    """, [own_in_place_buffers]) == expect("""
        def f(g, x):
            dy = g * 2.0
            dx = dy
            dx = dx + x
            return dx + dy
    """)


def test_add_to_into_the_caller_s_cotangent_is_undone():
    assert run("""
        def backward(g, a, y):
            dx = unbroadcast(g, a)
            dx = extreme_grad(g, a, y, 1, True, add_to=dx)
            return dx
    """, [own_in_place_buffers]) == expect("""
        def backward(g, a, y):
            dx = unbroadcast(g, a)
            dx = dx + extreme_grad(g, a, y, 1, True)
            return dx
    """)


def test_an_array_only_one_name_holds_is_still_written_in_place():
    # a new array, the same one handed back by add_at in a loop, a name that
    # shared it once but is rebound before it is read again
    assert_unchanged("""
        def f(g, u, n):
            du = g * u
            for t in reversed(range(n)):
                dm = unbroadcast(du, u)
                dalpha += np.vdot(dm, u)
                du = du * 2.0
                du = add_at(du, u, slice(None, 1, None), dm[0])
                du = add_at(du, u, slice(1, None, None), dm[1])
            return du, dalpha
    """, [own_in_place_buffers])
    assert_unchanged("""
        def f(g, x, items, n):
            dx = np.broadcast_to(unbroadcast(g, x), np.shape(x))
            dsquares = unsum(g, items)
            ditems = dsquares
            for i in reversed(range(n)):
                ditems, ditems_last = pop_last(ditems)
                dx = add_at(dx, x, i, ditems_last * 2.0)
            return dx
    """, [own_in_place_buffers])


def test_a_list_popped_in_a_loop_while_another_name_holds_it_is_copied():
    assert run("""
        def f(g, items, n):
            ditems = unsum(g, items)
            dkept = ditems
            for i in reversed(range(n)):
                ditems, last = pop_last(ditems)
            return dkept
    """, [own_in_place_buffers]) == expect("""
        def f(g, items, n):
            ditems = unsum(g, items)
            dkept = ditems
            for i in reversed(range(n)):
                ditems, last = pop_last(fresh_copy(ditems))
            return dkept
    """)


def test_the_copy_made_for_one_write_is_written_in_place_afterwards():
    # dy is the caller's cotangent: the first write works on a copy, the
    # second on that copy, in place
    assert run("""
        def backward(dy, y, x, dv):
            dy, dy_part = take_at(dy, y, slice(1, None, None))
            dx = scatter(x, slice(None, 2, None), dy_part * x)
            dy = add_at(dy, y, slice(1, None, None), dv)
            return dx + dy
    """, [own_in_place_buffers]) == expect("""
        def backward(dy, y, x, dv):
            dy, dy_part = take_at(fresh_copy(dy), y, slice(1, None, None))
            dx = scatter(x, slice(None, 2, None), dy_part * x)
            dy = add_at(dy, y, slice(1, None, None), dv)
            return dx + dy
    """)
