"""frontend/loop_renaming.py: a name reassigned in a loop's body gets a name
per value where no value crosses a step; where one may, it keeps its name.
Every gradient is checked against central differences."""
import numpy as np
import pytest

import pullback
from reference import central_difference, checked_source


def padded_twice(u):
    """``v`` assigned twice per step, first met as an assignment: renamed."""
    for _ in range(2):
        v = np.concatenate((u[:1], u, u[-1:]))
        v = np.concatenate((v, v[-1:]))
        u = u * 0.5 + v[1:-2] * v[2:-1]
    return np.sum(u)


def carried(x):
    """``s`` read before its first assignment in the body: its value comes from
    the step before, so it keeps one name."""
    s = x * 0.0
    for _ in range(3):
        t = s * 0.5 + x
        s = np.sin(t)
        s = s * x
    return np.sum(s)


def read_after_the_loop(x):
    """``y`` reassigned in the body and read after the loop: the last value."""
    y = x
    for k in range(3):
        y = x * (k + 1.0)
        y = np.cos(y) + x
    return np.sum(y * y)


def also_in_a_branch(x, flag):
    """``z`` also assigned inside an ``if`` in the body: not renamed."""
    total = 0.0
    for k in range(3):
        z = x * 2.0
        if flag and k == 1:
            z = z * z
        z = np.exp(-z)
        total = total + np.sum(z)
    return total


def while_test_reads_it(x):
    """A ``while`` whose test reads the reassigned name."""
    r = 1.0
    n = 0
    while r > 0.1 and n < 20:
        r = r * 0.5
        r = r + 0.01 * x
        n = n + 1
    return r * x


def gradient_is_right(function, args, wrt):
    grad = pullback.grad(function, wrt=wrt)
    got = grad(*args)
    for value, index in zip(got if isinstance(wrt, tuple) else (got,),
                            wrt if isinstance(wrt, tuple) else (wrt,)):
        np.testing.assert_allclose(value, central_difference(function, args, index),
                                   rtol=1e-6, atol=1e-8)
    return pullback.source(grad)


RNG = np.random.default_rng(5)


def test_a_value_that_does_not_outlive_its_step_gets_a_name_of_its_own():
    source = checked_source(padded_twice, (RNG.random(4) + 0.5,))
    assert "v_1 = np.concatenate(" in source, source


@pytest.mark.parametrize("function, args, wrt", [
    (carried, (RNG.random(3),), 0),
    (read_after_the_loop, (RNG.random(3),), 0),
    (also_in_a_branch, (RNG.random(3), True), 0),
    (also_in_a_branch, (RNG.random(3), False), 0),
    (while_test_reads_it, (0.3,), 0),
], ids=["carried", "read-after", "branch-true", "branch-false", "while-test"])
def test_values_that_may_cross_a_step_keep_their_name(function, args, wrt):
    gradient_is_right(function, args, wrt)


def test_a_carried_name_is_not_renamed():
    source = gradient_is_right(carried, (RNG.random(3),), 0)
    assert "s_1 = np.sin" not in source, source
