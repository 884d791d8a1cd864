"""recompute_cheap_values as a general rule: an array one arithmetic
operation makes from values saved anyway is recomputed after the pop.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
The near misses: an operand the push does not hold, numbers, a forward sweep
that writes into an array in place; on small functions, two operations, a
call, an operand assigned between, and a value computed from another one
recomputed.
"""
import numpy as np
import pytest

from optkit import expect, run
from pullback.analysis.array_shapes import Shape
from pullback.analysis.shape_classes import ShapeFacts
from pullback.optimize import recompute_cheap_values
from test_general_passes import body, both


def logistic_map(u, r):
    """Both factors of r u (1 - u) are one operation on the saved u."""
    for t in range(6):
        u = r * u * (1.0 - u)
    return np.sum(u)


def recurrent(h, W, b):
    """A matrix product is saved; 1 + h is recomputed."""
    for t in range(4):
        z = h @ W + b
        h = np.tanh(z) * (1.0 + h)
    return np.sum(h ** 2)


def ratio(p, q):
    """A quotient by a parameter that no step changes."""
    for t in range(4):
        s = p / q
        p = np.sin(s) + p * (s - 1.0)
    return np.sum(p)


def reversed_growth(u, k):
    """u itself was saved only for its shape (the reversed slice's gradient):
    saving u instead of 0.1 u and 1 - u keeps one array, not two."""
    for t in range(5):
        u = k * np.tanh(u[::-1]) + 0.1 * u * (1.0 - u)
    return np.sum(u * u)


def damped(x, v, c):
    """Near miss: 2 - v uses the v of after the push, which the push does not hold."""
    for t in range(5):
        a = -x - c * v
        v = v + 0.1 * a
        x = x + 0.1 * v * (2.0 - v)
    return np.sum(x * x) + np.sum(v)


def numbers(x, r):
    """Near miss: numbers cost nothing to keep."""
    for t in range(6):
        x = r * x * (1.0 - x)
    return x


def written_in_place(u, r):
    """Near miss: the forward sweep writes into an array in place."""
    u = u + 0.0
    for t in range(4):
        u = r * u * (1.0 - u)
        u[0] = 0.5 * u[0]
    return np.sum(u)


RNG = np.random.default_rng(32)


@pytest.mark.parametrize("function, args, wrt, shown", [
    (logistic_map, (RNG.random((4, 3)), 3.1), (0, 1), ["mul = r * u", "sub = 1.0 - u"]),
    (recurrent, (RNG.standard_normal((2, 3)), 0.3 * RNG.standard_normal((3, 3)), RNG.standard_normal(3)),
     (0, 1, 2), ["add = 1.0 + h"]),
    (ratio, (RNG.random(5) + 1.0, RNG.random(5) + 1.0), (0, 1), ["s = p / q"]),
    (reversed_growth, (RNG.random(6), 0.7), (0, 1), ["mul_1 = 0.1 * u", "sub = 1.0 - u"]),
], ids=["logistic-map", "recurrent", "ratio", "stand-in"])
def test_one_operation_on_saved_values_is_recomputed_after_the_pop(function, args, wrt, shown, tmp_path):
    without, source = both(function, args, wrt, tmp_path, recompute_cheap_values)
    for line in shown:      # in the reverse sweep's loop now, and not before
        assert line in body(source).split(".pop()")[1], body(source)
        assert line not in body(without).split(".pop()")[1], body(without)
    saved = body(source).split(".append(")[1].split("\n")[0]
    assert len(saved) < len(body(without).split(".append(")[1].split("\n")[0]), (saved, body(without))


def test_a_stand_in_gives_way_to_its_array_only_for_two_values_or_more():
    assert _run("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 1.0 - u
                b = 2.0 * u
                stack.append((a, b, shape_only(u)))
                u = a * b
            du = g
            for t in reversed(range(3)):
                a, b, u = stack.pop()
                du = du * a + du * b + zeros_like(u)
            return du
    """).count("stack.append(u)") == 1
    one = _run("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 1.0 - u
                stack.append((a, shape_only(u)))
                u = a * np.exp(u)
            du = g
            for t in reversed(range(3)):
                a, u = stack.pop()
                du = du * a + zeros_like(u)
            return du
    """)
    assert "stack.append((a, shape_only(u)))" in one, one


@pytest.mark.parametrize("function, args, wrt", [
    (damped, (RNG.standard_normal(5), RNG.standard_normal(5), 0.3), (0, 1, 2)),
    (numbers, (0.3, 3.1), (0, 1)),
    (written_in_place, (RNG.random(5), 2.9), (0, 1)),
], ids=["operand-not-saved", "numbers", "written-in-place"])
def test_a_value_it_cannot_recompute_the_same_stays_saved(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, recompute_cheap_values)
    assert ".pop()" in body(source)
    assert without == source


# -- the pass on small functions ------------------------------------------------------------

ARRAYS = ShapeFacts(arrays={name: Shape(("n",), "float64") for name in
                            ("u", "a", "b", "c", "e", "w")})


def _run(source):
    fn_sweeps = ["forward", "forward", "reverse", "reverse", "reverse"]
    return run(recompute_cheap_values, source, sweeps=fn_sweeps, shapes=ARRAYS)


def test_the_rewrite_on_a_small_function():
    assert _run("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 1.0 - u
                stack.append((a, u))
                u = u * a
            du = g
            for t in reversed(range(3)):
                a, u = stack.pop()
                du = du * a - du * u
            return du
    """) == expect("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 1.0 - u
                stack.append(u)
                u = u * a
            du = g
            for t in reversed(range(3)):
                u = stack.pop()
                a = 1.0 - u
                du = du * a - du * u
            return du
    """)


@pytest.mark.parametrize("why, definition", [
    ("two operations", "a = 1.0 - u * 2.0"),
    ("a call", "a = np.exp(u)"),
    ("an operand assigned between", "a = 1.0 - w\n                w = u * 2.0"),
    ("an operand nobody saved", "a = 1.0 - e"),
], ids=["two-operations", "call", "assigned-between", "not-saved"])
def test_what_stays_saved(why, definition):
    source = f"""
        def f(u, g):
            stack = []
            for t in range(3):
                e = u * 2.0
                w = u + 1.0
                {definition}
                stack.append((a, u, w))
                u = u * a
            du = g
            for t in reversed(range(3)):
                a, u, w = stack.pop()
                du = du * a - du * u * w
            return du
    """
    assert "a, u" in _run(source), why


def test_a_value_is_recomputed_from_popped_values_only():
    """b = 1 - a and a = 2 * u: recomputing both would need a before b in
    the pop's order; one of them stays saved."""
    result = _run("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 2.0 * u
                b = 1.0 - a
                stack.append((b, a, u))
                u = u * b
            du = g
            for t in reversed(range(3)):
                b, a, u = stack.pop()
                du = du * b + du * a
            return du
    """)
    popped = result.split(".pop()")[0].split("\n")[-1]
    assert popped.strip() in ("a, u = stack", "b, u = stack"), result


def test_the_order_holds_where_the_pop_renames_the_values():
    """Pushed as (b, a, u), popped as (b_1, a_1, u_1): b = 1 - a and a = 2 u
    are not both recomputed (b_1 would read a_1 before it is made)."""
    result = _run("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 2.0 * u
                b = 1.0 - a
                stack.append((b, a, u))
                u = u * b
            du = g
            for t in reversed(range(3)):
                b_1, a_1, u_1 = stack.pop()
                du = du * b_1 + du * a_1 + u_1
            return du
    """)
    popped = result.split(".pop()")[0].split("\n")[-1].strip()
    assert popped in ("a_1, u_1 = stack", "b_1, u_1 = stack"), result


def test_nothing_left_to_save_leaves_no_push_and_no_pop():
    assert _run("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 2.0 * u
                stack.append((a,))
                g = g * a
            du = g
            for t in reversed(range(3)):
                a, = stack.pop()
                du = du * a
            return du
    """) == expect("""
        def f(u, g):
            stack = []
            for t in range(3):
                a = 2.0 * u
                g = g * a
            du = g
            for t in reversed(range(3)):
                a = 2.0 * u
                du = du * a
            return du
    """)
