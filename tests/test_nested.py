"""Nested defs inside the differentiated function: each becomes a function of
its own (lifted, with the variables it reads passed in), checked end to end."""
import numpy as np
import pytest

import pullback
from reference import central_difference


def captures_a_local(x, a):
    b = a * 2.0

    def g(y):
        return np.sin(y) * b
    return np.sum(g(x) + g(x * x))


def siblings_and_defaults(x, a):
    b = a * 2.0

    def g(y):
        return np.sin(y) * b

    def h(y, k=3.0):
        return g(y) * k + y
    s = 0.0
    for i in range(3):
        s = s + h(x * i)
    return s + g(x)


def nested_in_a_loop_body(x):
    total = 0.0
    for v in x:
        def bump(t):
            return t * t + v
        total = total + bump(v)
    return total


def recursive_nested(x, n):
    def power(y, m):
        if m == 0:
            return 1.0
        return y * power(y, m - 1)
    return power(x, n)


def named_lambda_inside(x, a):
    scaled = lambda t: np.tanh(t) * a
    return np.sum(scaled(x) * scaled(2.0 * x))


def nested_returns_a_tuple(x):
    def split(y):
        return y * 2.0, np.exp(y)
    a, b = split(x)
    return np.sum(a * b)


CASES = [
    (captures_a_local, (np.array([0.3, -0.8]), 0.7), (0, 1)),
    (siblings_and_defaults, (0.4, 0.7), (0, 1)),
    (nested_in_a_loop_body, (np.array([0.5, -1.5, 2.0]),), (0,)),
    (recursive_nested, (1.3, 4), (0,)),
    (nested_returns_a_tuple, (np.array([0.1, 0.2, -0.3]),), (0,)),
    (named_lambda_inside, (np.array([0.1, 0.5]), 1.5), (0, 1)),
]


@pytest.mark.parametrize("function, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_nested_def_gradient_matches_central_differences(function, args, wrt):
    gradients = pullback.grad(function, wrt=wrt)(*args)
    for index, gradient in zip(wrt, gradients):
        np.testing.assert_allclose(gradient, central_difference(function, args, index),
                                   rtol=1e-5, atol=1e-6)


def test_each_nested_def_has_its_own_generated_functions():
    text = pullback.source(pullback.grad(siblings_and_defaults, wrt=(0, 1)))
    for name in ("def g_forward(", "def g_backward(", "def h_forward(", "def h_backward("):
        assert name in text
    assert "h_forward(mul, b, 3.0)" in text         # the captured b and the default are passed
