"""sink_pops, merge_stacks and drop_unread_restores on tiny functions."""
from optkit import expect, parse, run, show

from pullback.analysis.shape_classes import ShapeFacts
from pullback.optimize import OptimizerFacts, drop_unread_restores, merge_stacks, sink_pops


def test_sink_pops_moves_a_pop_down_to_just_before_its_first_use():
    assert run(sink_pops, """
        def f(dy, n):
            for i in range(n):
                x = x_stack.pop()
                dt = dy * 2.0
                dx = dt * x
            return dx
    """) == expect("""
        def f(dy, n):
            for i in range(n):
                dt = dy * 2.0
                x = x_stack.pop()
                dx = dt * x
            return dx
    """)


def test_sink_pops_stops_at_a_read_of_the_stack_and_leaves_the_forward_sweep():
    source = """
        def f(dy, n):
            for i in range(n):
                y = y_stack.pop()
                dy = dy * y_stack[-1]
                dy = dy * y
            return dy
    """
    assert run(sink_pops, source) == expect(source)
    assert run(sink_pops, """
        def f(dy, n):
            x = x_stack.pop()
            dt = dy * 2.0
            return dt * x
    """, sweep="forward") == expect("""
        def f(dy, n):
            x = x_stack.pop()
            dt = dy * 2.0
            return dt * x
    """)


LOOP = """
    def f(x, n):
        a_stack = []
        b_stack = []
        for i in range(n):
            {forward}
        for i in range(n):
            b = b_stack.pop()
            da = db * a
            a = a_stack.pop()
        return da
"""


BODY_JOIN = "\n" + " " * 12          # the forward loop's body in LOOP


def paired(forward, pushes):
    """LOOP with ``forward`` as the forward loop's body, ``pushes`` the
    positions of its pushes of a and b, paired with their pops."""
    fn = parse(LOOP.format(forward=BODY_JOIN.join(forward)),
               sweeps=["forward", "forward", "forward", "reverse", "return"])
    body, back = fn.body[2].body, fn.body[3].body
    body[pushes[0]].pb_pair, back[2].pb_pair = "a", "a"
    body[pushes[1]].pb_pair, back[0].pb_pair = "b", "b"
    return show(merge_stacks(fn, OptimizerFacts()))


def test_merge_stacks_pushes_one_tuple_per_iteration_and_restores_a_value_read_before_its_pop():
    assert paired(["a_stack.append(a)", "b_stack.append(b)", "a = a * x", "b = b + a"],
                  (0, 1)) == expect("""
        def f(x, n):
            iteration_stack = []
            for i in range(n):
                iteration_stack.append((b, a))
                a = a * x
                b = b + a
            for i in range(n):
                b, a_old = iteration_stack.pop()
                da = db * a
                a = a_old
            return da
    """)


def test_merge_stacks_pushes_a_value_the_block_changed_where_it_is_computed():
    # b is pushed after the block changed it (the value the iteration ends
    # with): never moved to the top of the block, the one push goes after it
    # (issue 12: a loop pushes what it computes after computing it); a keeps
    # the value the iteration started with, which the step reads before its
    # restore, so it is popped into a temporary
    forward = ["a_stack.append(a)", "b = b + a", "b_stack.append(b)", "a = a * x"]
    assert paired(forward, (0, 2)) == expect("""
        def f(x, n):
            iteration_stack = []
            for i in range(n):
                b = b + a
                iteration_stack.append((b, a))
                a = a * x
            for i in range(n):
                b, a_start = iteration_stack.pop()
                da = db * a
                a = a_start
            return da
    """)


RESTORED = """
    def f(a, b, n):
        m_stack = []
        for i in range(n):
            m_stack.append(m)
            m = a @ b
        for i in range(n):
            m = m_stack.pop()
            da = matmul_grad_lhs(g, {operand}, b)
        return da
"""
SWEEPS = ["forward", "forward", "reverse", "return"]


def test_drop_unread_restores_drops_the_push_and_pop_of_a_value_nothing_reads():
    assert run(drop_unread_restores, RESTORED.format(operand="a"), sweeps=SWEEPS,
               shapes=ShapeFacts()) == expect("""
        def f(a, b, n):
            for i in range(n):
                m = a @ b
            for i in range(n):
                da = matmul_grad_lhs(g, a, b)
            return da
    """)


def test_drop_unread_restores_keeps_a_restore_that_is_read_and_needs_shape_facts():
    read = RESTORED.format(operand="m")
    assert run(drop_unread_restores, read, sweeps=SWEEPS, shapes=ShapeFacts()) == expect(read)
    unread = RESTORED.format(operand="a")
    assert run(drop_unread_restores, unread, sweeps=SWEEPS) == expect(unread)
