"""resugar_while and skip_zero_first_step on tiny functions."""
from optkit import expect, run

from pullback.optimize import resugar_while, skip_zero_first_step


def test_resugar_while_gives_back_the_user_s_test_and_counts_body_runs():
    assert run(resugar_while, """
        def f(x):
            n_iter = 0
            while True:
                n_iter = n_iter + 1
                c = x < 10.0
                if c:
                    x = x * 2.0
                else:
                    break
            for i in range(n_iter - 1):
                dx = dx * 2.0
            return dx
    """) == expect("""
        def f(x):
            n_iter = 0
            while x < 10.0:
                n_iter = n_iter + 1
                x = x * 2.0
            for i in range(n_iter):
                dx = dx * 2.0
            return dx
    """)


def test_resugar_while_leaves_a_loop_with_another_break_or_a_test_read_elsewhere():
    source = """
        def f(x):
            n_iter = 0
            while True:
                n_iter = n_iter + 1
                c = x < 10.0
                if c:
                    x = x * 2.0
                    if x > 5.0:
                        break
                else:
                    break
            for i in range(n_iter - 1):
                dx = dx * 2.0
            return dx
    """
    assert run(resugar_while, source) == expect(source)
    test_read_after = """
        def f(x):
            n_iter = 0
            while True:
                n_iter = n_iter + 1
                c = x < 10.0
                if c:
                    x = x * 2.0
                else:
                    break
            for i in range(n_iter - 1):
                dx = dx * 2.0
            return dx, c
    """
    assert run(resugar_while, test_read_after) == expect(test_read_after)


def test_skip_zero_first_step_guards_the_terms_that_add_zeros_on_the_first_step():
    assert run(skip_zero_first_step, """
        def f(c, n):
            dv = 0.0
            for _ in range(n):
                dE = dE + dv * math.cos(c)
                dv = dE * 2.0
            return dE
    """) == expect("""
        def f(c, n):
            dv = 0.0
            for step in range(n):
                if step:
                    dE = dE + dv * math.cos(c)
                dv = dE * 2.0
            return dE
    """)


def test_skip_zero_first_step_leaves_a_term_not_proportional_to_zero_or_a_nonzero_start():
    source = """
        def f(c, n):
            dv = 0.0
            for _ in range(n):
                dE = dE + dv * c + c
                dv = dE * 2.0
            dw = 1.0
            for _ in range(n):
                dE = dE + dw * c
                dw = dE * 2.0
            return dE
    """
    assert run(skip_zero_first_step, source) == expect(source)
