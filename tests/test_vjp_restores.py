"""vjp's backward function restores overwritten parts of arrays into copies
(so ``back`` can run again); values saved as views of those arrays must see
the restored values, as they do in a gradient function (issue 11: the fuzzer
found ``y = x.copy(); y[1:] *= x[:2]`` wrong under vjp, right under grad).
Every case against float64 central differences, ``back`` called twice, and
the Jacobian (one backward call per output element)."""
import numpy as np
import pytest

import pullback
from pullback.runtime import fresh_copies
from reference import central_difference


def scaled_tail(x):
    y = x.copy()
    y[1:] *= x[:2]
    return y


def strided_update(x):
    y = x.copy()
    y[::2] *= 0.25 * x[:2]
    return y * x[2]


def running_product(x):
    y = np.ones(4)
    for i in range(1, 4):
        y[i] = y[i - 1] * x[i - 1]
        y[i - 1:i + 1] *= 1.5 + x[i - 1]
    return y


def reshaped_rows(x):
    y = np.zeros((2, 2))
    y[0] = x[:2]
    row = y[0]
    y[0] = row * x[2:]
    return np.sin(y)


def two_writes(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    head = y[:2]
    s = np.sum(head ** 3)
    y[1] = s + x[2]
    y[2] = y[1] * x[0]
    return y * x[1]


CASES = [scaled_tail, strided_update, running_product, reshaped_rows, two_writes]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_backward_sees_restored_values_through_views(f):
    x = np.array([0.3, -0.5, 0.8, 0.45])
    if f is scaled_tail or f is strided_update or f is two_writes:
        x = x[:3]
    value, back = pullback.vjp(f, x)
    np.testing.assert_allclose(value, f(x.copy()), rtol=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(2):                       # back runs again on the same saved values
        cotangent = rng.normal(size=np.shape(value))
        expected = central_difference(f, (x,), 0, cotangent=cotangent)
        (g,) = back(cotangent)
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(value, f(x.copy()), rtol=1e-12)   # the value is not changed


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_jacobian_through_restores(f):
    x = np.array([0.3, -0.5, 0.8, 0.45])
    if f is scaled_tail or f is strided_update or f is two_writes:
        x = x[:3]
    J = pullback.jacobian(f)(x)
    out = np.shape(f(x.copy()))
    for k in range(int(np.prod(out))):
        cotangent = np.zeros(out)
        cotangent.flat[k] = 1.0
        np.testing.assert_allclose(J.reshape(-1, x.size)[k],
                                   central_difference(f, (x,), 0, cotangent=cotangent),
                                   rtol=1e-6, atol=1e-8)


def test_fresh_copies_maps_views_and_stacks_onto_the_copy():
    y = np.arange(6.0)
    part, other = y[1:4], np.arange(3.0)
    stack = [(y[::2], 1.0)]
    y2, stack2, part2, other2 = fresh_copies(y, stack, views=(part, other))
    assert y2 is not y and not np.shares_memory(y2, y)
    y2[2] = 100.0
    assert part2[1] == 100.0 and stack2[0][0][1] == 100.0   # views of the copy
    assert y[2] == 2.0 and part[1] == 2.0                   # the saved values untouched
    assert other2 is other                                  # unrelated memory kept
    assert stack2 is not stack and stack2[0][1] == 1.0
