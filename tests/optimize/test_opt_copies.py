"""fold_constants, propagate_copies, forward_substitute on tiny functions."""
from optkit import expect, run

from pullback.optimize import fold_constants, forward_substitute, propagate_copies


def test_fold_constants_folds_literals_and_decided_branches_of_the_forward_sweep():
    assert run(fold_constants, """
        def f(x):
            y = 2.0 * 3.0 * x
            if 1 < 2:
                z = y
            else:
                z = -y
            dz = 1.0 + 1.0
            return z
    """, sweeps=["forward", "forward", "reverse", "return"]) == expect("""
        def f(x):
            y = 6.0 * x
            z = y
            dz = 1.0 + 1.0
            return z
    """)


def test_fold_constants_does_not_reassociate_or_decide_a_runtime_test():
    source = """
        def f(x):
            y = x * 2.0 * 3.0
            if x < 2:
                z = y
            return z
    """
    assert run(fold_constants, source, sweep="forward") == expect(source)


def test_propagate_copies_uses_the_source_of_a_copy():
    assert run(propagate_copies, """
        def f(x):
            a = x
            b = a * 2.0
            c = b
            d = c + a
            return d
    """) == expect("""
        def f(x):
            b = x * 2.0
            d = b + x
            return d
    """)


def test_propagate_copies_keeps_a_copy_whose_source_or_alias_changes_or_is_returned():
    source = """
        def f(x):
            a = x
            x = x + 1.0
            b = a * 2.0
            c = b
            c = c + 1.0
            return b, c
    """
    assert run(propagate_copies, source) == expect(source)


def test_forward_substitute_inside_a_loop_both_ways():
    assert run(forward_substitute, """
        def f(x, n):
            for i in range(n):
                dmul = dadd
                dx = dmul * 1.1
                t = dx * x
                a = t
                b = t * 2.0
                c = c
            return a, b
    """) == expect("""
        def f(x, n):
            for i in range(n):
                dx = dadd * 1.1
                a = dx * x
                b = a * 2.0
            return a, b
    """)


def test_forward_substitute_stops_where_the_source_changes_and_at_named_adjoints():
    assert run(forward_substitute, """
        def f(x, n):
            for i in range(n):
                dmul = dadd
                dadd = dadd * 2.0
                dx = dmul * 1.1
                t = e * x
                a = t
                b = t * 2.0
            return a, b
    """, named={"t"}) == expect("""
        def f(x, n):
            for i in range(n):
                dmul = dadd
                dadd = dadd * 2.0
                dx = dmul * 1.1
                t = e * x
                a = t
                b = t * 2.0
            return a, b
    """)
