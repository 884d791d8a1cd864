"""Stage 2b, loops: desugar_comprehensions, desugar_for and desugar_while on
tiny functions, the source before and after (frontend/desugar_loops.py)."""
from fekit import expect, run, unchanged


# -- desugar_comprehensions ------------------------------------------------------

def test_a_list_comprehension_becomes_a_loop_appending_to_a_fresh_list():
    assert run("desugar_comprehensions", """
        def f(xs):
            ys = [np.sin(v) for v in xs if v > 0.0]
            return ys
        """) == expect("""
        def f(xs):
            items = []
            for v_1 in xs:
                if v_1 > 0.0:
                    items.append(np.sin(v_1))
            ys = items
            return ys
        """)


def test_a_generator_with_two_for_clauses_becomes_two_nested_loops():
    assert run("desugar_comprehensions", """
        def f(xs):
            return sum(v * w for v in xs for w in [v, 2.0 * v])
        """) == expect("""
        def f(xs):
            items = []
            for v_1 in xs:
                for w_1 in [v_1, 2.0 * v_1]:
                    items.append(v_1 * w_1)
            return sum(items)
        """)


def test_a_comprehension_in_the_element_is_hoisted_inside_the_loop():
    assert run("desugar_comprehensions", """
        def f(rows):
            return [[c * c for c in row] for row in rows]
        """) == expect("""
        def f(rows):
            items = []
            for row_1 in rows:
                items_1 = []
                for c_1 in row_1:
                    items_1.append(c_1 * c_1)
                items.append(items_1)
            return items
        """)


def test_code_without_comprehensions_is_left_alone():
    assert unchanged("desugar_comprehensions", """
        def f(xs):
            ys = [xs[0], xs[1]]
            for v in xs:
                ys.append(v * 2.0)
            return ys
        """)


# -- desugar_for -------------------------------------------------------------------

def test_a_loop_over_a_sequence_walks_its_indices():
    assert run("desugar_for", """
        def f(xs):
            s = 0.0
            for v in xs:
                s = s + v
            return s
        """) == expect("""
        def f(xs):
            s = 0.0
            for i in range(loop_length(xs)):
                v = xs[i]
                s = s + v
            return s
        """)


def test_enumerate_and_zip_become_index_arithmetic():
    assert run("desugar_for", """
        def f(xs, ws):
            s = 0.0
            for k, (v, w) in enumerate(zip(xs, ws), 1):
                s = s + k * v * w
            return s
        """) == expect("""
        def f(xs, ws):
            s = 0.0
            n_items = min(loop_length(xs), loop_length(ws))
            for i in range(n_items):
                k, (v, w) = (i + 1, (xs[i], ws[i]))
                s = s + k * v * w
            return s
        """)


def test_reversed_counts_down_from_the_last_index():
    assert run("desugar_for", """
        def f(xs):
            s = 0.0
            for v in reversed(xs):
                s = s * v
            return s
        """) == expect("""
        def f(xs):
            s = 0.0
            last = loop_length(xs) - 1
            for i in range(loop_length(xs)):
                v = xs[last - i]
                s = s * v
            return s
        """)


def test_a_range_bound_the_body_rebinds_is_kept_as_it_was_at_the_start():
    assert run("desugar_for", """
        def f(x, n):
            for i in range(n):
                n = n + 1
                x = x * 2.0
            return x
        """) == expect("""
        def f(x, n):
            n_at_start = n
            for i in range(n_at_start):
                n = n + 1
                x = x * 2.0
            return x
        """)


def test_a_loop_over_range_is_left_alone():
    assert unchanged("desugar_for", """
        def f(x, n):
            for i in range(1, n, 2):
                x = x * 2.0
            return x
        """)


# -- desugar_while -----------------------------------------------------------------

def test_a_while_loop_tests_once_per_iteration_and_breaks_in_tail_position():
    assert run("desugar_while", """
        def f(x):
            while x > 1.0:
                x = x / 2.0
            else:
                x = x + 1.0
            return x
        """) == expect("""
        def f(x):
            while True:
                cond = x > 1.0
                if cond:
                    x = x / 2.0
                else:
                    x = x + 1.0
                    break
            return x
        """)


def test_while_true_is_left_alone():
    assert unchanged("desugar_while", """
        def f(x):
            while True:
                x = x / 2.0
                if x < 1.0:
                    break
            return x
        """)
