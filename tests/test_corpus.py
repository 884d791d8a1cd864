"""End to end: user-style functions, every gradient against central differences."""
import numpy as np
import pytest

import pullback
from corpus_straight import CASES, rng
from reference import central_difference


@pytest.mark.parametrize("function, factories, wrt", CASES, ids=[c[0].__qualname__ + str(i) for i, c in enumerate(CASES)])
def test_gradient_matches_central_differences(function, factories, wrt):
    r = rng()
    args = [make(r) for make in factories]
    before = [np.copy(a) for a in args]
    gradients = pullback.grad(function, wrt=wrt)(*args)
    for index, gradient in zip(wrt, gradients):
        expected = central_difference(function, args, index)
        assert np.shape(gradient) == np.shape(args[index])
        assert type(gradient) is type(args[index])
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-6)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)     # the caller's values are untouched


@pytest.mark.parametrize("function, factories, wrt", CASES, ids=[c[0].__qualname__ + str(i) for i, c in enumerate(CASES)])
def test_value_and_grad_returns_the_functions_value(function, factories, wrt):
    args = [make(rng()) for make in factories]
    value, _ = pullback.value_and_grad(function, wrt=wrt)(*args)
    np.testing.assert_allclose(value, function(*args), rtol=1e-12)
