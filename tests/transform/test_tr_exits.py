"""Stage 5 on loops that may leave early (transform/exits.py).

Only the last iteration of a ``while`` can reach its ``break`` (or its early
``return``, or fail its test): the reverse sweep undoes that iteration with
the branch tests it left in place, then ``n_iter - 1`` full iterations that
read no test. No test is pushed. Every gradient is checked against central
differences, over inputs that leave at the test, at a break or a return, in
the first iteration or later.
"""
import re

import numpy as np
import pytest

import pullback
from reference import central_difference, checked_source


def returns_early(x):
    y = x
    while y < 10.0:
        y = 1.5 * y + x
        if y > 8.0:
            return y * x
    return y


def breaks_and_continues(x):
    s = 0.0
    i = 0
    while i < 20:
        i = i + 1
        if i % 3 == 0:
            continue
        s = s + x * np.sin(s + i)
        if s > 2.0:
            break
        s = s * 1.1
    return s * x


def returns_in_nested_ifs(x, k):
    y = x
    while y < 50.0:
        if y > 3.0:
            z = y * y
            if z > k:
                return z * x
            y = y + z * 0.01
        else:
            y = y * 1.7
    return y + x


def exit_test_changes_last(x):
    y = x
    t = 0.0
    while t < 3.0:
        t = t + y
        y = y * 1.2 + 0.1
        if y > 2.5:
            t = t * y
    return t * y


def breaks_in_the_middle(x):
    y = x
    while True:
        y = np.tanh(y) + x
        if y > 1.4:
            break
        y = y * 1.3
    return y * y


def returns_from_a_for(x):
    s = x
    for i in range(8):
        s = s * 1.2 + np.sin(s)
        if s > 3.0:
            return s * x
    return s


def early_exit_inside_a_for(x):
    total = 0.0
    for k in range(3):
        y = x + k
        while y < 6.0:
            y = y * 1.4 + x
            if y > 4.0 + k:
                break
        total = total + y * y
    return total


def inner_loop_in_an_early_exit(x):
    y = x
    while y < 20.0:
        for j in range(3):
            y = y + 0.1 * np.sin(y) + x
        if y > 9.0:
            return y * x
        y = y * 1.1
    return y


def writes_into_an_array(x):
    a = x * 1.0
    i = 0
    while i < 4:
        a[i] = a[i] * a[(i + 1) % 4] + 1.0
        if np.sum(a) > 6.0:
            return np.sum(a * a)
        i = i + 1
    return np.sum(a)


def arrays_return_early(x):
    y = x
    while np.sum(y) < 10.0:
        y = 1.5 * y + x
        if np.sum(y) > 8.0:
            return np.sum(y * x)
    return np.sum(y)


@pytest.mark.parametrize("function, args, wrt", [
    (returns_early, (0.9,), 0),         # returns after some iterations
    (returns_early, (7.0,), 0),         # returns in the first iteration
    (returns_early, (12.0,), 0),        # the test fails at once: the body never runs
    (breaks_and_continues, (0.3,), 0),
    (breaks_and_continues, (0.05,), 0),    # never breaks: the test ends it
    (returns_in_nested_ifs, (0.5, 30.0), (0, 1)),
    (returns_in_nested_ifs, (3.5, 10.0), (0, 1)),
    (returns_in_nested_ifs, (60.0, 10.0), (0, 1)),
    (exit_test_changes_last, (0.4,), 0),
    (exit_test_changes_last, (1.5,), 0),
    (breaks_in_the_middle, (0.5,), 0),
    (breaks_in_the_middle, (1.2,), 0),
    (returns_from_a_for, (0.2,), 0),
    (returns_from_a_for, (-2.0,), 0),
    (early_exit_inside_a_for, (0.7,), 0),
    (early_exit_inside_a_for, (7.0,), 0),
    (inner_loop_in_an_early_exit, (0.8,), 0),
    (inner_loop_in_an_early_exit, (2.5,), 0),
    (writes_into_an_array, (np.array([0.5, 0.6, 0.7, 0.8]),), 0),
    (writes_into_an_array, (np.array([0.1, 0.2, 0.1, 0.2]),), 0),
    (arrays_return_early, (np.array([0.7, 0.4]),), 0),
    (arrays_return_early, (np.array([2.0, 3.0]),), 0),
    (arrays_return_early, (np.array([9.0, 3.0]),), 0),
])
def test_loops_that_leave_early_match_central_differences(function, args, wrt):
    checked_source(function, args, wrt)


def test_the_last_iteration_is_undone_with_its_own_tests_then_full_ones_read_none():
    text = checked_source(returns_early, (0.9,))
    assert "cond_stack" not in text and "= None" not in text
    assert "_stack" not in text           # nothing is kept: y's earlier values are not read
    reverse = text.split("# reverse sweep")[1]
    full = reverse.split("for _ in range(n_iter - 1):")[1].split("# grad of")[0]
    assert "if" not in full                 # a full iteration reads no test
    assert re.search(r"^    if cond:$", reverse, re.M)     # the last one reads its own


def test_a_value_saved_in_every_iteration_is_pushed_once_and_popped_by_either_step():
    text = checked_source(breaks_and_continues, (0.3,))
    forward = text.split("# forward sweep")[1].split("# reverse sweep")[0]
    for stack in set(re.findall(r"(\w+_stack)\.append", forward)):
        assert forward.count(stack + ".append") == 1
    assert "cond_stack" not in text


def test_an_early_return_under_vjp_gives_the_same_gradient_when_its_backward_runs_twice():
    for function, x in ((arrays_return_early, np.array([0.7, 0.4])),
                        (writes_into_an_array, np.array([0.5, 0.6, 0.7, 0.8]))):
        value, back = pullback.vjp(function, x * 1.0)
        (first,), (second,) = back(1.0), back(1.0)
        np.testing.assert_array_equal(first, second)
        np.testing.assert_allclose(first, central_difference(function, (x * 1.0,), 0),
                                   rtol=1e-5, atol=1e-7)
