"""Stage 4, activity: varied (depends on a wrt argument) and useful (the
output depends on it); only active names, both, get adjoints.

Each test normalizes and resolves a tiny function (tests/analysis/ankit.py)
and asks which of its names are active.
"""
import numpy as np
import pytest

import pullback
from ankit import analyse
from pullback.analysis.activity import useful_names, varied_names
from pullback.errors import NoDerivativeRule

opaque = np.vectorize(lambda v: v * 2.0, otypes=[float])   # a function without a rule


def scaled(x, c):
    y = x * c
    z = c * 2.0
    return y + z


def test_a_value_of_the_wrt_argument_is_active_and_a_constant_is_not():
    active = analyse(scaled).active(["x"])
    assert {"x", "y"} <= active
    assert "c" not in active and "z" not in active


def test_differentiating_the_other_argument_swaps_the_roles():
    active = analyse(scaled, wrt=(1,)).active(["c"])
    assert {"c", "y", "z"} <= active and "x" not in active


def unused(x):
    t = np.sin(x)           # computed, never read
    return x * 3.0


def test_a_value_the_output_does_not_read_is_varied_but_not_active():
    tree = analyse(unused)
    assert "t" in varied_names(tree.tree.body, tree.operations, ["x"])
    assert "t" not in tree.active(["x"])


def carried(x):
    s = 0.0
    for i in range(3):
        s = s + x
    return s


def test_a_loop_carried_sum_is_active():
    active = analyse(carried).active(["x"])
    assert "s" in active
    assert "i" not in active


def read_before_written(x):
    a = 0.0
    b = 0.0
    for i in range(3):
        a = b * 2.0          # b's variation reaches a only on the next iteration
        b = x + 1.0
    return a


def test_variation_reaching_a_value_through_the_next_iteration_is_seen():
    assert {"a", "b"} <= analyse(read_before_written).active(["x"])


def comparisons(x):
    m = x > 0.0
    n = np.floor(x)
    k = x.shape[0]
    return np.sum(x * m) + np.sum(n) + k


def test_comparisons_floors_and_shapes_carry_no_derivative():
    active = analyse(comparisons).active(["x"])
    assert not {"m", "n", "k"} & active
    assert "x" in active


def held(x):
    c = pullback.stop_gradient(x * x)
    return c * x


def test_a_stopped_value_is_not_active():
    assert "c" not in analyse(held).active(["x"])


def appended(x, w):
    ys = []
    ys.append(x * 2.0)
    ys.append(w)
    return sum(ys)


def test_a_list_an_active_value_is_appended_to_is_active():
    assert "ys" in analyse(appended).active(["x"])


def test_useful_names_follow_the_output_back_through_the_list():
    tree = analyse(appended)
    assert {"x", "w"} <= useful_names(tree.tree.body, tree.operations, ["ys"])


def through_opaque(x):
    return np.sum(opaque(x))


def opaque_of_constant(x, c):
    k = opaque(c)
    return np.sum(x * k)


def test_a_derivative_through_a_function_without_a_rule_raises_its_refusal():
    with pytest.raises(NoDerivativeRule):
        analyse(through_opaque).active(["x"])


def test_a_function_without_a_rule_of_constants_is_no_obstacle():
    active = analyse(opaque_of_constant).active(["x"])
    assert "k" not in active and "x" in active
