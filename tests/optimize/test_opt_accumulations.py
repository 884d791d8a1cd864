"""combine_accumulations, accumulate_in_place, propagate_negations and
own_in_place_buffers on tiny functions."""
from optkit import expect, run

from pullback.optimize import (accumulate_in_place, combine_accumulations, own_in_place_buffers,
                               propagate_negations)


def test_combine_accumulations_doubles_the_two_halves_of_x_times_x():
    assert run(combine_accumulations, """
        def f(g, x):
            dx = dx + g * x
            dx = dx + g * x
            dy = g * x
            dy = dy + g * x
            return dx, dy
    """) == expect("""
        def f(g, x):
            dx = dx + 2.0 * (g * x)
            dy = 2.0 * (g * x)
            return dx, dy
    """)


def test_combine_accumulations_joins_only_equal_neighbours_once_and_not_self_reads():
    assert run(combine_accumulations, """
        def f(g, x):
            dx = dx + g * x
            dx = dx + g * y
            dx = dx + g * y
            dx = dx + g * y
            dy = g * dy
            dy = dy + g * dy
            return dx, dy
    """) == expect("""
        def f(g, x):
            dx = dx + g * x
            dx = dx + 2.0 * (g * y)
            dx = dx + g * y
            dy = g * dy
            dy = dy + g * dy
            return dx, dy
    """)


def test_accumulate_in_place_where_the_array_is_the_adjoint_s_own():
    assert run(accumulate_in_place, """
        def f(g, x, y):
            dx = g * y
            dx = dx + g * x
            dx = dx + extreme_grad(g, x)
            return dx
    """) == expect("""
        def f(g, x, y):
            dx = g * y
            dx += g * x
            dx = extreme_grad(g, x, add_to=dx)
            return dx
    """)


def test_accumulate_in_place_not_into_a_parameter_s_array_nor_one_a_list_holds():
    source = """
        def f(g, x, y):
            dx = g
            dx = dx + g * x
            dy = g * y
            lst = [dy]
            dy = dy + g
            return dx, lst, dy
    """
    assert run(accumulate_in_place, source) == expect(source)


def test_accumulate_in_place_after_a_helper_wrote_into_the_adjoint_s_own_array():
    """``du = add_at_basic(du, ...)`` hands back du's own array (or a new one of
    its own), so du still owns it: the next ``du = du + e`` adds in place."""
    assert run(accumulate_in_place, """
        def f(g, u, e):
            du = g * u
            du = add_at_basic(du, u, slice(None, 1, None), g)
            du = du + e[1]
            return du
    """) == expect("""
        def f(g, u, e):
            du = g * u
            du = add_at_basic(du, u, slice(None, 1, None), g)
            du += e[1]
            return du
    """)


def test_accumulate_in_place_not_after_a_helper_wrote_into_another_name_s_array():
    source = """
        def f(g, u, e):
            du = g * u
            dv = add_at_basic(du, u, slice(None, 1, None), g)
            du = du + e[1]
            return du, dv
    """
    assert run(accumulate_in_place, source) == expect(source)


def test_propagate_negations_subtracts_instead_of_adding_a_negation():
    assert run(propagate_negations, """
        def f(ddecline, predator, prey):
            dmul_5 = -ddecline
            dgamma += dmul_5 * predator
            ddelta = ddelta + dmul_5 * prey / 2.0
            dalpha += -ddecline * prey
            return dgamma, ddelta, dalpha
    """) == expect("""
        def f(ddecline, predator, prey):
            dgamma -= ddecline * predator
            ddelta = ddelta - ddecline * prey / 2.0
            dalpha -= ddecline * prey
            return dgamma, ddelta, dalpha
    """)


def test_propagate_negations_keeps_a_negation_when_its_operand_changes_or_a_use_is_no_sum():
    source = """
        def f(ddecline, predator, prey):
            dmul_5 = -ddecline
            dgamma += dmul_5 * predator
            ddecline = ddecline * 2.0
            ddelta = ddelta + dmul_5 * prey
            dm = -ddecline
            dbeta = dm * prey
            dn = -ddecline
            dc += dn * prey
            return dgamma, ddelta, dbeta, dc
    """
    assert run(propagate_negations, source, named={"dn"}) == expect(source)


def test_propagate_negations_subtracts_a_negation_from_what_is_then_added():
    assert run(propagate_negations, """
        def f(g, n, s, s1, y, p):
            dp = -(g / n * s / s1)
            dp += g / n * y / p
            return dp
    """) == expect("""
        def f(g, n, s, s1, y, p):
            dp = g / n * y / p - g / n * s / s1
            return dp
    """)


def test_propagate_negations_keeps_a_negation_then_added_to_by_itself_or_a_call():
    source = """
        def f(g, s, y):
            dp = -(g * s)
            dp += dp * y
            dq = -(g * s)
            dq += user(y)
            return dp, dq
    """
    assert run(propagate_negations, source) == expect(source)


def test_own_in_place_buffers_copies_where_another_live_name_holds_the_array():
    assert run(own_in_place_buffers, """
        def f(g, x):
            da = g * x
            db = da
            da += g
            dc = add_at(db, x, 0, g)
            return da, db, dc
    """) == expect("""
        def f(g, x):
            da = g * x
            db = da
            da = da + g
            dc = add_at(fresh_copy(db), x, 0, g)
            return da, db, dc
    """)


def test_own_in_place_buffers_leaves_an_array_only_one_name_holds():
    source = """
        def f(g, x):
            da = g * x
            da += g
            dc = add_at(da, x, 0, g)
            return dc
    """
    assert run(own_in_place_buffers, source) == expect(source)


def test_own_in_place_buffers_never_writes_into_a_parameter_s_array():
    assert run(own_in_place_buffers, """
        def f(g, x):
            g += x
            return g
    """) == expect("""
        def f(g, x):
            g = g + x
            return g
    """)


def test_own_in_place_buffers_copies_an_expression_that_may_be_a_live_array():
    # found by the fuzzer (seed 7, program 1419): unbroadcast(g, y) hands back g
    # itself when no axis was broadcast, and add_at then wrote into dsub's array
    assert run(own_in_place_buffers, """
        def f(g, x, y):
            dsub = unbroadcast(g, x)
            dy = add_at(unbroadcast(g, y), y, 0, dsub)
            dz = grad_max(dsub, x, add_to=unbroadcast(g, x))
            return dy + dsub + dz
    """) == expect("""
        def f(g, x, y):
            dsub = unbroadcast(g, x)
            dy = add_at(fresh_copy(unbroadcast(g, y)), y, 0, dsub)
            dz = grad_max(dsub, x, add_to=fresh_copy(unbroadcast(g, x)))
            return dy + dsub + dz
    """)


def test_own_in_place_buffers_leaves_an_expression_that_makes_a_new_array():
    source = """
        def f(g, x):
            dy = add_at(g * x, x, 0, g)
            return dy + g
    """
    assert run(own_in_place_buffers, source) == expect(source)


def test_own_in_place_buffers_follows_an_array_a_loop_body_remakes():
    """Each step ends by giving dx a new array: the next step's ``dx += g``
    writes into an array only dx holds (the first step's is made before the loop)."""
    source = """
        def f(g, x, n):
            dx = g * x
            for i in range(n):
                dx += g
                dx = dx * x
            return dx
    """
    assert run(own_in_place_buffers, source) == expect(source)


def test_own_in_place_buffers_copies_what_a_loop_body_keeps_after_remaking_it():
    """The new array is pushed after it is made: the next step's write would change the stack's."""
    assert run(own_in_place_buffers, """
        def f(g, x, n, stack):
            dx = g * x
            for i in range(n):
                dx += g
                dx = dx * x
                stack.append(dx)
            return dx
    """) == expect("""
        def f(g, x, n, stack):
            dx = g * x
            for i in range(n):
                dx = dx + g
                dx = dx * x
                stack.append(dx)
            return dx
    """)


def test_own_in_place_buffers_copies_where_a_continue_skips_the_remaking():
    """On the ``continue`` path dx is pushed and not remade: the next step's
    write would change the stack's array."""
    shown = run(own_in_place_buffers, """
        def f(g, x, n, stack):
            dx = g * x
            for i in range(n):
                dx += g
                if i > 2:
                    stack.append(dx)
                    continue
                dx = dx * x
            return dx
    """)
    assert "dx = dx + g" in shown, shown
