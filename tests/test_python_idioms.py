"""Python idioms (frontend/desugar_python.py) end to end: map, filter, zip(*rows),
sorted and min/max with key=, list methods, warning contexts.

Each program's gradient (reverse mode) and its jvp (forward mode) are checked
against central differences in float64 (reference.central_difference), never
against pullback itself; refusals name the construct and point at the line
marked ``# refused: <tag>`` in this file.
"""
import os
import warnings

import numpy as np
import pytest

import pullback
from reference import central_difference, marker_line

THIS_FILE = os.path.abspath(__file__)


def square(v):
    return v * v


def positive(v):
    return v > 0.0


def by_map_lambda(x):
    return sum(map(lambda v: v * v * v, x))


def by_map_function(x):
    return sum(list(map(square, x))) * x[0]


def by_map_two(x):
    return sum(map(lambda a, b: a * b, x, x[::-1]))


def by_filter(x):
    total = 0.0
    for v in filter(lambda v: v > 0.0, x):
        total = total + np.sin(v) * v
    return total


def by_filter_function(x):
    return sum([v ** 3 for v in filter(positive, x)])


def by_sorted(x):
    ys = sorted([x[0] * x[1], x[2], x[3] ** 2])
    return ys[0] * 2.0 + ys[1] * ys[2] ** 2


def by_sorted_key(x):
    ys = sorted(x, key=lambda v: -abs(v), reverse=True)
    return ys[0] * 3.0 + ys[1] * ys[3] ** 2


def by_max_key(x):
    return max(x, key=abs) * np.exp(min(x, key=lambda v: (v - 1.0) ** 2))


def by_max_key_of_generator(x):
    return max((v * x[0] for v in x), key=square) ** 2


def by_zip_rows(x):
    rows = [[x[0], x[1], x[2]], [x[3], x[0] * x[1], x[2]]]
    total = 0.0
    for a, b in zip(*rows):
        total = total + a * b ** 2
    return total


def by_pop_index(x):
    xs = [x[0], x[1], x[2], x[3]]
    first = xs.pop(0)
    middle = xs.pop(-2)
    return first * xs[0] + middle * xs[1] ** 2


def by_pop_variable(x):
    xs = [x[0], x[1], x[2]]
    total = 0.0
    for i in range(2):
        v = xs.pop(len(xs) - 2)
        total = total + v * v * (i + 1)
    return total + xs[0]


def by_insert(x):
    xs = [x[0], x[1]]
    xs.insert(1, x[2] * 2.0)
    xs.insert(-1, np.tanh(x[3]))
    xs.insert(10, x[0] * x[3])
    return xs[0] * xs[1] ** 2 + xs[2] * xs[3] + xs[4] ** 3


def by_insert_in_loop(x):
    xs = []
    for v in x:
        xs.insert(0, v * v)
    return xs[0] * 2.0 + xs[1] * xs[2] - xs[3]


def by_extend(x):
    xs = [x[0]]
    xs.extend([x[1], x[2]])
    xs.extend(v * v for v in x)
    return xs[0] * xs[1] * xs[2] + xs[6] + np.sum(np.array(xs))


def by_reverse(x):
    xs = [x[0], x[1], x[2], x[3]]
    xs.reverse()
    return xs[0] * 2.0 + xs[3] ** 2 + xs[1] * xs[2]


def by_remove(x):
    xs = [x[0], x[1], x[2], x[1]]
    xs.remove(x[1])
    return xs[0] * 2.0 + xs[1] ** 2 + xs[2] ** 3


def by_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x * x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = np.sum(np.sqrt(x * x + 1.0))
    return np.sum(y) + z


PROGRAMS = [by_map_lambda, by_map_function, by_map_two, by_filter, by_filter_function,
            by_sorted, by_sorted_key, by_max_key, by_max_key_of_generator, by_zip_rows,
            by_pop_index, by_pop_variable, by_insert, by_insert_in_loop, by_extend, by_reverse,
            by_remove, by_errstate]

# apart from one another and from 0 and 1: orders and keys are the same within a step
X = np.array([0.7, -1.3, 2.1, -0.4])


@pytest.mark.parametrize("function", PROGRAMS, ids=lambda f: f.__name__)
def test_gradient_matches_central_differences(function):
    expected = central_difference(function, (X.copy(),), 0)
    np.testing.assert_allclose(pullback.grad(function)(X.copy()), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", PROGRAMS, ids=lambda f: f.__name__)
def test_jvp_matches_central_differences(function):
    direction = np.array([0.5, -1.0, 0.25, 2.0])
    value, tangent = pullback.jvp(function, (X.copy(),), (direction,))
    np.testing.assert_allclose(value, function(X.copy()), rtol=1e-12)
    expected = central_difference(function, (X.copy(),), 0) @ direction
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


def test_ties_pick_the_item_python_picks():
    # |x0| == |x1|: max(key=abs) returns the first, so only x0 gets a gradient
    x = np.array([1.5, -1.5, 0.2, 0.1])
    gradient = pullback.grad(lambda_free_max)(x)
    np.testing.assert_array_equal(gradient, [2.0 * 1.5, 0.0, 0.0, 0.0])


def lambda_free_max(x):
    return max(x, key=abs) ** 2


def kept_map(x):
    ys = map(square, x)  # refused: kept-map
    return sum(ys)


def list_shared(x):
    xs = [x[0], x[1]]
    ys = xs  # refused: shared-list
    ys.reverse()
    return xs[0] + ys[0]


def key_expression(x):
    return max(x, key=np.abs if x[0] > 0 else square)  # refused: key-expression


def sorted_in_while(x):
    t = x[0]
    while sorted([t, x[1]])[0] < 1.0:  # refused: while-sorted
        t = t * 2.0
    return t


def other_context(x):
    with open(os.devnull):  # refused: other-with
        y = x * 2.0
    return np.sum(y)


@pytest.mark.parametrize("function, tag, words", [
    (kept_map, "kept-map", "one-pass iterator"),
    (list_shared, "shared-list", "another name may share"),
    (key_expression, "key-expression", "must be a name or a lambda"),
    (sorted_in_while, "while-sorted", "while loop's test"),
    (other_context, "other-with", "'with' blocks"),
])
def test_refusals_name_the_construct_and_line(function, tag, words):
    with pytest.raises(pullback.UnsupportedSyntax) as error:
        pullback.grad(function)(X.copy())
    message = str(error.value)
    assert words in message
    assert f'"{THIS_FILE}", line {marker_line(THIS_FILE, tag)}' in message
