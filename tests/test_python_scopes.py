"""Functions passed to functions, nonlocal and match (issue 14) end to end:
nested defs and lambdas given to the user's functions (transform/calls.py,
frontend/captured_arguments.py, lambda_arguments.py), ``nonlocal`` in a nested
def (frontend/nonlocal_names.py), ``match`` (frontend/desugar_match.py).

Every gradient, jvp and Hessian-vector product is checked against float64
central differences (reference.central_difference), never against pullback;
refusals name the construct and point at the line marked ``# refused: <tag>``.
"""
import enum
import os

import numpy as np
import pytest

import pullback
from reference import central_difference, marker_line

THIS_FILE = os.path.abspath(__file__)


def apply(g, v):
    return np.sum(g(v))


def apply_twice(v, g=None, scale=2.0):
    return scale * np.sum(g(g(v)) * v)


def apply_on(g, v):
    return apply(g, v) * v[0]


class Mode(enum.Enum):
    A = 1
    B = 2


# -- functions given to functions ------------------------------------------------

def named_lambda_given(x):
    square = lambda v: v * v  # noqa: E731
    return apply(square, x)


def nested_def_given(x):
    def cube(v):
        return v * v * v
    return apply(cube, x) + apply_on(cube, x)


def capturing_def_given(x):
    w = np.sin(x[0])

    def scaled(v):
        return v * w
    w = w * 3.0           # read when the call runs, as Python does
    return apply(scaled, x) * x[1]


def lambda_argument(x):
    return apply(lambda v: np.exp(v) * v, x)


def capturing_lambda_arguments(x):
    w = np.cos(x[1])
    return apply(lambda v: v * w, x) + apply_twice(x, g=lambda t: t * w * x[2])


def lambda_in_a_loop(x):
    total = 0.0
    for k in range(3):
        total = total + apply(lambda v: v ** 2 * x[k], x[1:])
    return total


def map_and_sorted_kept(x):
    ys = sorted(x, key=lambda v: -v)
    return ys[0] * 2.0 + sum(map(lambda v: v * v, x))


# -- nonlocal ------------------------------------------------------------------------

def accumulates(x):
    s = 0.0

    def acc(v):
        nonlocal s
        s = s + v * v
    acc(x[0])
    acc(2.0 * x[1])
    return s


def nonlocal_with_result(x):
    s = x[0]
    t = 1.0

    def step(v, scale=2.0):
        nonlocal s, t
        if v > 0.0:
            s = s * v
            return np.sin(s)
        t = t * v * scale
        return t
    total = 0.0
    for v in x:
        r = step(v)
        total = total + r
    s = step(x[2])      # the result wins over the nonlocal write, as in Python
    return total + s * t


def nonlocal_array_and_capture(x):
    s = np.zeros(3)
    w = x[1]

    def add(v):
        nonlocal s, w
        s = s + v * w
    for i in range(2):
        add(x * i)
    return np.sum(s ** 2)


# -- match ---------------------------------------------------------------------------

def matches(x, mode=Mode.A, k=0):
    match mode:
        case Mode.A:
            y = np.sin(x)
        case Mode.B | None:
            y = x * x
        case _:
            y = x
    match k:
        case 0 | 1:
            z = y * 2.0
        case 2 if x[0] > 0.0:
            z = y * 3.0
        case other:
            z = y * other
    return np.sum(z)


def matches_sequence(x):
    pair = (x[0] * 2.0, x[1])
    match pair:
        case [a, b] if a > b:
            return a * b * x[2]
        case (a, 0.0):
            return a
        case (a, b) as both:
            return a + b * both[0]
    return 0.0


def matches_array(x):
    # an array is a sequence to a sequence pattern where NumPy sets the type's sequence
    # flag (NumPy 2.5 does, 2.4 does not): the derivative follows what Python does
    match x:
        case [a, b, c]:
            return a
        case _:
            return np.sum(x ** 3)


PROGRAMS = [
    (named_lambda_given, ()), (nested_def_given, ()), (capturing_def_given, ()),
    (lambda_argument, ()), (capturing_lambda_arguments, ()), (lambda_in_a_loop, ()),
    (map_and_sorted_kept, ()), (accumulates, ()), (nonlocal_with_result, ()),
    (nonlocal_array_and_capture, ()), (matches, (Mode.A, 0)), (matches, (Mode.B, 2)),
    (matches, (None, 5)), (matches, (3, 1)), (matches, (Mode.A, 2)), (matches_sequence, ()),
    (matches_array, ()),
]
IDS = [f"{f.__name__}-{i}" for i, (f, _) in enumerate(PROGRAMS)]

X = np.array([0.7, -1.3, 2.1])
X_OTHER = np.array([-0.6, -1.4, 1.9])       # the other branches of the match tests
DIRECTION = np.array([0.5, -1.0, 0.25])


@pytest.mark.parametrize("x", [X, X_OTHER], ids=["x", "x_other"])
@pytest.mark.parametrize("function, extra", PROGRAMS, ids=IDS)
def test_gradient_matches_central_differences(function, extra, x):
    expected = central_difference(function, (x.copy(),) + extra, 0)
    np.testing.assert_allclose(pullback.grad(function)(x.copy(), *extra), expected,
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function, extra", PROGRAMS, ids=IDS)
def test_jvp_matches_central_differences(function, extra):
    value, tangent = pullback.jvp(function, (X.copy(),) + extra,
                                  (DIRECTION,) + (None,) * len(extra))
    np.testing.assert_allclose(value, function(X.copy(), *extra), rtol=1e-12)
    expected = central_difference(function, (X.copy(),) + extra, 0) @ DIRECTION
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", [named_lambda_given, capturing_def_given,
                                      capturing_lambda_arguments, nonlocal_with_result,
                                      nonlocal_array_and_capture, matches_sequence],
                         ids=lambda f: f.__name__)
def test_hvp_matches_central_differences_of_the_gradient(function):
    step = 1e-4
    gradient = lambda x: central_difference(function, (x,), 0)  # noqa: E731
    expected = (gradient(X + step * DIRECTION) - gradient(X - step * DIRECTION)) / (2 * step)
    np.testing.assert_allclose(pullback.hvp(function, (X.copy(),), (DIRECTION,)), expected,
                               rtol=1e-4, atol=1e-5)


def test_the_generated_call_passes_what_the_function_captures():
    # the nested function exists only as its derivatives: None in its place, then w's value
    # at the call (after w = w * 3.0)
    text = pullback.source(pullback.grad(capturing_def_given))
    assert "w_1 = w * 3.0" in text and "apply_forward(None, x, w_1)" in text
    assert "def scaled_forward(v, w)" in text


# -- refusals ------------------------------------------------------------------------

def apply_stored(g, v):
    kept = [g]  # refused: passed-on
    return np.sum(kept[0](v))


def capturing_passed_on(x):
    w = x[0]
    return apply_stored(lambda v: v * w, x)


def nonlocal_in_expression(x):
    s = 0.0

    def acc(v):
        nonlocal s
        s = s + v
        return v
    return acc(x[0]) * 2.0 + s  # refused: nonlocal-expression


def nonlocal_def_as_value(x):
    s = 0.0

    def acc(v):
        nonlocal s
        s = s + v
    return apply(acc, x)  # refused: nonlocal-value


def nonlocal_two_deep(x):
    s = 0.0

    def outer(v):
        def inner(u):
            nonlocal v  # refused: nonlocal-deep
            v = v + u
        inner(v)
        return v
    return outer(x[0]) + s


def class_pattern(x):
    match x:
        case np.ndarray(ndim=1):  # refused: class-pattern
            return np.sum(x)
    return 0.0


def star_pattern(x):
    match list(x):
        case [a, *rest]:  # refused: star-pattern
            return a
    return 0.0


def or_pattern_binding(x):
    match (x[0], x[1]):
        case (a, 0.0) | (0.0, a):  # refused: or-binding
            return a
    return 0.0


@pytest.mark.parametrize("function, tag, words", [
    (capturing_passed_on, "passed-on", "may only call it here"),
    (nonlocal_in_expression, "nonlocal-expression", "assigns s of the enclosing function"),
    (nonlocal_def_as_value, "nonlocal-value", "on a line of its own"),
    (nonlocal_two_deep, "nonlocal-deep", "nested in a nested def"),
    (class_pattern, "class-pattern", "class patterns"),
    (star_pattern, "star-pattern", "star patterns"),
    (or_pattern_binding, "or-binding", "or-pattern that binds names"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_refusals_name_the_construct_and_line(function, tag, words):
    with pytest.raises(pullback.UnsupportedSyntax) as error:
        pullback.grad(function)(X.copy())
    message = str(error.value)
    assert words in message
    assert f'"{THIS_FILE}", line {marker_line(THIS_FILE, tag)}' in message


def nested_def_given_a_constant(x):
    square = lambda v: v * v  # noqa: E731
    c = apply(square, np.ones(2) * 1.5)      # no derivative flows: still only generated code runs it
    return np.sum(x) * c


def test_a_call_given_a_nested_function_without_a_derivative_runs_in_forward_mode():
    # reverse mode still emits the plain call here (NameError), see transform/reverse.py
    value, tangent = pullback.jvp(nested_def_given_a_constant, (X.copy(),), (DIRECTION,))
    expected = central_difference(nested_def_given_a_constant, (X.copy(),), 0) @ DIRECTION
    np.testing.assert_allclose(value, nested_def_given_a_constant(X.copy()), rtol=1e-12)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)
