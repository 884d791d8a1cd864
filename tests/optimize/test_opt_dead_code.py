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
