"""Stage 2b, values chosen by a test and tuple targets: desugar_conditionals
and desugar_tuple_targets on tiny functions, the source before and after
(frontend/desugar_branches.py)."""
from fekit import expect, run, unchanged


# -- desugar_conditionals ------------------------------------------------------------

def test_a_conditional_expression_becomes_an_if_statement():
    assert run("desugar_conditionals", """
        def f(x, y):
            z = x if x > y else y * 2.0
            return z
        """) == expect("""
        def f(x, y):
            if x > y:
                choice = x
            else:
                choice = y * 2.0
            z = choice
            return z
        """)


def test_or_evaluates_each_operand_only_while_the_result_is_false():
    assert run("desugar_conditionals", """
        def f(x, y, z):
            w = x or y or z
            return w
        """) == expect("""
        def f(x, y, z):
            either = x
            if not either:
                either = y
            if not either:
                either = z
            w = either
            return w
        """)


def test_and_in_an_if_test_is_hoisted_before_the_if():
    assert run("desugar_conditionals", """
        def f(x, y):
            if x > 0.0 and y > 0.0:
                x = x * y
            return x
        """) == expect("""
        def f(x, y):
            both = x > 0.0
            if both:
                both = y > 0.0
            if both:
                x = x * y
            return x
        """)


def test_code_without_conditional_expressions_is_left_alone():
    assert unchanged("desugar_conditionals", """
        def f(x, y):
            if x > y:
                x = np.maximum(x, y)
            return x
        """)


# -- desugar_tuple_targets -----------------------------------------------------------

def test_a_nested_tuple_target_unpacks_by_subscripts():
    assert run("desugar_tuple_targets", """
        def f(t):
            a, (b, c) = t
            return a * b * c
        """) == expect("""
        def f(t):
            a = t[0]
            packed = t[1]
            b = packed[0]
            c = packed[1]
            return a * b * c
        """)


def test_a_swap_packs_the_values_before_either_name_is_rebound():
    assert run("desugar_tuple_targets", """
        def f(x, y):
            x, y = y, x
            return x - y
        """) == expect("""
        def f(x, y):
            packed = (y, x)
            x = packed[0]
            y = packed[1]
            return x - y
        """)


def test_names_and_literals_no_target_rebinds_are_assigned_one_by_one():
    assert run("desugar_tuple_targets", """
        def f(x, y):
            a, b = x, 1.0
            return a * b
        """) == expect("""
        def f(x, y):
            a = x
            b = 1.0
            return a * b
        """)


def test_a_chained_assignment_computes_its_value_once():
    assert run("desugar_tuple_targets", """
        def f(x):
            a = b = x * 2.0
            return a * b
        """) == expect("""
        def f(x):
            value = x * 2.0
            a = value
            b = value
            return a * b
        """)


def test_single_targets_are_left_alone():
    assert unchanged("desugar_tuple_targets", """
        def f(x):
            y = (x, 2.0 * x)
            y[0] = x
            return y
        """)
