"""Stage 2b, jumps: tailify_jumps on tiny functions, the source before and
after (frontend/jumps.py): break, continue and return only ever end a block."""
from fekit import expect, run, unchanged


def test_an_early_return_moves_what_follows_into_the_else_branch():
    assert run("tailify_jumps", """
        def f(x):
            if x > 0.0:
                return x
            y = x * x
            return y
        """) == expect("""
        def f(x):
            if x > 0.0:
                f = x
            else:
                y = x * x
                f = y
            return f
        """)


def test_continue_becomes_a_branch_the_rest_of_the_body_goes_into():
    assert run("tailify_jumps", """
        def f(xs):
            s = 0.0
            for i in range(3):
                if xs[i] < 0.0:
                    continue
                s = s + xs[i]
            return s
        """) == expect("""
        def f(xs):
            s = 0.0
            for i in range(3):
                if xs[i] < 0.0:
                    pass
                else:
                    s = s + xs[i]
            return s
        """)


def test_a_return_inside_a_loop_sets_a_flag_and_breaks():
    assert run("tailify_jumps", """
        def f(x):
            for i in range(10):
                if x > 5.0:
                    return x
                x = x * 2.0
            return -x
        """) == expect("""
        def f(x):
            returning = False
            for i in range(10):
                if x > 5.0:
                    f = x
                    returning = True
                    break
                else:
                    x = x * 2.0
            if returning:
                pass
            else:
                f = -x
            return f
        """)


def test_a_loop_else_runs_unless_a_break_set_the_flag():
    assert run("tailify_jumps", """
        def f(x):
            for i in range(10):
                if x > 5.0:
                    break
                x = x * 2.0
            else:
                x = -x
            return x
        """) == expect("""
        def f(x):
            broke = False
            for i in range(10):
                if x > 5.0:
                    broke = True
                    break
                else:
                    x = x * 2.0
            if not broke:
                x = -x
            return x
        """)


def test_falling_off_the_end_returns_none_on_that_path():
    assert run("tailify_jumps", """
        def f(x):
            if x > 0.0:
                return x
        """) == expect("""
        def f(x):
            if x > 0.0:
                f = x
            else:
                f = None
            return f
        """)


def test_straight_line_code_with_one_return_is_left_alone():
    assert unchanged("tailify_jumps", """
        def f(x):
            if x > 0.0:
                x = x * 2.0
            y = np.sin(x)
            return y
        """)


def test_a_loop_whose_break_already_ends_its_block_is_left_alone():
    assert unchanged("tailify_jumps", """
        def f(x):
            for i in range(10):
                x = x * 2.0
                if x > 5.0:
                    break
            return x
        """)
