"""eliminate_dead_stores and eliminate_dead_code on tiny functions."""
from optkit import expect, parse, run, show

from pullback.optimize import OptimizerFacts, eliminate_dead_code, eliminate_dead_stores


def test_eliminate_dead_stores_drops_an_accumulation_nothing_needs_inside_a_loop():
    assert run(eliminate_dead_stores, """
        def f(x, n):
            s = 0.0
            for i in range(n):
                s = s + x
                x = x * 2.0
            return x
    """) == expect("""
        def f(x, n):
            for i in range(n):
                x = x * 2.0
            return x
    """)


def test_eliminate_dead_stores_keeps_what_a_needed_value_reads_and_every_call():
    source = """
        def f(x, n):
            s = 0.0
            for i in range(n):
                s = s + x
                v = v_stack.pop()
                x = x * s
            return x
    """
    assert run(eliminate_dead_stores, source) == expect(source)


def test_eliminate_dead_code_drops_an_unread_value_but_never_a_pop():
    assert run(eliminate_dead_code, """
        def f(x):
            t = x * 2.0
            v = v_stack.pop()
            y = x + 1.0
            return y
    """) == expect("""
        def f(x):
            v = v_stack.pop()
            y = x + 1.0
            return y
    """)


def test_eliminate_dead_code_keeps_what_is_read_later_and_marked_statements():
    fn_source = """
        def f(x):
            t = x * 2.0
            k = x * 3.0
            y = t + 1.0
            return y
    """
    fn = parse(fn_source, sweep="reverse")
    fn.body[1].pb_keep = True
    assert show(eliminate_dead_code(fn, OptimizerFacts())) == expect(fn_source)


def test_a_value_computed_every_iteration_by_numpy_and_never_read_goes():
    # issue 12: ``total_1 = np.sum(power)`` computed every iteration and never read
    assert run(eliminate_dead_stores, """
        def f(x, n):
            for i in range(n):
                power = x ** 2
                total = np.sum(power)
                c = math.cos(total) + np.add(x, 1.0)
                x = np.sin(x) + 0.1 * power
            return x
    """) == expect("""
        def f(x, n):
            for i in range(n):
                power = x ** 2
                x = np.sin(x) + 0.1 * power
            return x
    """)


def test_a_call_that_may_have_an_effect_stays_even_when_its_value_is_unread():
    source = """
        def f(x, n, buffer):
            for i in range(n):
                a = np.sum(x, out=buffer)
                b = np.add(x, 1.0, buffer)
                c = np.sum(x, 0, None, buffer)
                d = helper(x)
                e = np.linalg.inv(x)
                x = x * 2.0
            return x
    """
    assert run(eliminate_dead_stores, source) == expect(source)


def test_a_branch_left_empty_goes_and_then_its_test_s_value():
    # issue 12: ``if cond: pass`` left in generated code
    assert run(eliminate_dead_stores, """
        def f(x, flag):
            cond = flag > 0
            for i in range(3):
                if cond:
                    t = x * 2.0
                else:
                    u = np.exp(x)
                x = x * 3.0
            return x
    """) == expect("""
        def f(x, flag):
            for i in range(3):
                x = x * 3.0
            return x
    """)


def test_an_empty_branch_whose_test_may_have_an_effect_or_a_kept_branch_stays():
    source = """
        def f(x, flag):
            cond = flag > 0
            if check(x):
                pass
            if cond:
                x = x * 2.0
            return x
    """
    assert run(eliminate_dead_stores, source) == expect(source)
