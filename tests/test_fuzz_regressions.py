"""Programs the fuzzer (make fuzz N=100000 SEED=11) found silently wrong,
reduced by hand; each against float64 central differences."""
import numpy as np
import pytest

import pullback
from reference import central_difference

B = np.array([[0.75], [1.5]])
A = np.array([[0.5, 1.25, 2.0], [-1.0, 0.25, 1.75]])


def square_then_double(z):
    # The reverse of v1 += v1 reads no old value; clean-up dropped its pop,
    # so the pop for v1 *= v1 got the squared value (index 92776).
    v1 = z * B + 0 * A
    for i in range(2):
        v1 = v1 * 1.5
    v1 *= v1
    v1 += v1
    return np.sum(v1)


def grow_square_double(z):
    v1 = z * B + 0 * A
    for i in range(2):
        v1 += v1 * v1[1]
    v1 *= v1
    v1 += v1
    return np.sum(v1)


def scalar_square_then_double(z):
    v = z * 1.5
    v *= v
    v += v
    return v


def read_before_a_restore(x):
    # sum(y3 * v1[-1])'s adjoint of v1[-1] reads y3; inlining moved it after
    # the restore y3[::2] = y3_stack.pop(), which changes y3 (index 72182).
    v1 = x[0] * 1.0
    v1 *= 2.0
    y3 = x[0] * 1.0
    y3[::2] *= v1[1:]
    return np.sum(y3 * v1[-1])


def list_read_twice(x):
    # Found reading issue 14: two rules reading one list (np.split's pieces) gave
    # dparts = dparts + unstack(...), which joins the two lists of gradients.
    parts = np.split(x, 2)
    return np.sum(np.stack(parts) ** 2) + np.sum(np.concatenate(parts) * 3.0)


@pytest.mark.parametrize("f, x", [
    (list_read_twice, np.array([0.5, -1.0, 2.0, 0.25])),
    (square_then_double, 0.9248946548867683),
    (grow_square_double, 0.9248946548867683),
    (scalar_square_then_double, 0.7),
    (read_before_a_restore, np.array([[0.4, -0.3, 0.8]])),
], ids=lambda v: getattr(v, "__name__", ""))
def test_against_central_differences(f, x):
    g = pullback.grad(f)(x)
    np.testing.assert_allclose(g, central_difference(f, (x,), 0), rtol=1e-6)
