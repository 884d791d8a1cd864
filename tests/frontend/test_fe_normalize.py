"""Stage 2: check_supported, desugar_augassign, to_anf and ssa_rename on tiny
functions, the source before and after (frontend/normalize.py). More cases
of each in tests/test_normalize.py."""
import pytest

from fekit import LOCATION, expect, parse, run, show, unchanged
from pullback.errors import UnsupportedSyntax
from pullback.frontend.normalize import check_supported


# -- check_supported -------------------------------------------------------------------

@pytest.mark.parametrize("source, construct", [
    ("def f(x):\n    y = np.sin(x, out=x)\n    return y", "the 'out' argument"),
    ("def f(x, d):\n    return np.sum(x, **d)", "calls with **kwargs"),
    ("def f(x):\n    g = [lambda v: v * x]\n    return x", "must be assigned to a name"),
    ("def f(x):\n    x.attr = 2.0\n    return x", "assignment to a attribute target"),
    ("def f(x):\n    for x[0] in range(3):\n        pass\n    return x", "assignment to a subscript target"),
    ("def f(x):\n    if (n := len(x)) > 2:\n        return x\n    return n", "assignment expressions"),
    ("def f(x):\n    import math\n    return math.sin(x)", "imports inside"),
])
def test_check_supported_refuses_with_the_construct_named(source, construct):
    with pytest.raises(UnsupportedSyntax, match="(?s)" + construct.replace("*", r"\*").replace("(", r"\(")):
        check_supported(parse(source), LOCATION)


def test_check_supported_leaves_what_the_transformer_handles_alone():
    source = """
        def f(x, ys, n=3):
            square = lambda v: v * v
            a, b = x, ys[0]
            ys[1] = a * b
            for i in range(n):
                x = square(x) if x < 1.0 else x / 2.0
            return [np.sum(y) for y in ys]
        """
    tree = parse(source)
    assert check_supported(tree, LOCATION) is tree
    assert show(tree) == expect(source)


# -- desugar_augassign -------------------------------------------------------------------

def test_an_augmented_assignment_to_a_subscript_reads_and_writes_it():
    assert run("desugar_augassign", """
        def f(x, y):
            y[0] *= x
            z: float = x
            return z
        """) == expect("""
        def f(x, y):
            y[0] = y[0] * x
            z = x
            return z
        """)


def test_plain_assignments_are_left_alone():
    assert unchanged("desugar_augassign", """
        def f(x):
            y = x + 1.0
            x = y * y
            return x
        """)


# -- to_anf ----------------------------------------------------------------------------

def test_anf_names_temporaries_after_their_operation_and_keeps_negative_literals():
    assert run("to_anf", """
        def f(x, y):
            if np.sum(x) > y:
                x = x * y
            return x[1:n - 1] * -2.0
        """) == expect("""
        def f(x, y):
            total = np.sum(x)
            cond = total > y
            if cond:
                x = x * y
            sub = n - 1
            x_part = x[1:sub]
            f = x_part * -2.0
            return f
        """)


def test_anf_flattens_the_index_and_the_value_of_a_subscript_assignment():
    assert run("to_anf", """
        def f(x, y):
            y[i + 1] = x.sum() * 2.0
            return y
        """) == expect("""
        def f(x, y):
            add = i + 1
            total = x.sum()
            mul = total * 2.0
            y[add] = mul
            return y
        """)


def test_anf_copies_a_test_the_branch_changes():
    assert run("to_anf", """
        def f(x, flag):
            if flag:
                flag = x > 0.0
            return x
        """) == expect("""
        def f(x, flag):
            flag_was = flag
            if flag_was:
                flag = x > 0.0
            return x
        """)


def test_anf_leaves_statements_of_one_operation_alone():
    assert unchanged("to_anf", """
        def f(x, y):
            mul = x * y
            total = np.sum(mul)
            return total
        """)


# -- ssa_rename ----------------------------------------------------------------------------

def test_ssa_renames_a_reassigned_parameter_in_straight_line_code():
    assert run("ssa_rename", """
        def f(x):
            x = x * 2.0
            y = x + 1.0
            y = y * x
            return y
        """) == expect("""
        def f(x):
            x_1 = x * 2.0
            y = x_1 + 1.0
            y_1 = y * x_1
            return y_1
        """)


def test_ssa_leaves_names_assigned_in_a_branch_or_loop_alone():
    assert unchanged("ssa_rename", """
        def f(x):
            y = x * 2.0
            y = y + x
            if y > 0.0:
                y = y * y
            return y
        """)
