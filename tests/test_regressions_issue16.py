"""Wrong gradients found while working on issue 16, each checked against
central differences (never pullback itself)."""
import numpy as np

import pullback
from reference import central_difference


def augmented_with_a_row(x, y):
    # y += ... reads y[0]: the optimizer put unbroadcast(dy, y) (which may be dy
    # itself) as add_at's first argument, and add_at wrote into an array the
    # next statement read (fuzzer, seed 7, program 1419)
    y = y * 2.0
    y += x[0] * y - y[0]
    return np.sum(y * np.array([-0.2, -0.7, 0.75]))


def test_add_at_never_writes_into_an_adjoint_another_name_still_reads():
    x = np.array([[0.28, -0.34, 0.54]])
    y = np.array([[-0.33, 0.53, -1.13]])
    gx, gy = pullback.grad(augmented_with_a_row, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, central_difference(augmented_with_a_row, (x, y), 0), atol=1e-7)
    np.testing.assert_allclose(gy, central_difference(augmented_with_a_row, (x, y), 1), atol=1e-7)


def sum_times_a_view(x, y, z):
    # the fuzzer (seed 21, program 461): y2_part = y2[:] is a view; the reverse sweep puts
    # y2[0] back, and inline_temporaries moved np.vdot(g, y2_part) past that restore (it
    # read the element put back, not the value returned)
    z = np.sin(z) + np.square(y)
    acc = np.zeros((1, 3))
    for _ in range(2):          # (its value is never read: the loop is what the fuzzer wrote)
        acc = acc * 0.5 + np.minimum(np.mean(z, axis=0, keepdims=True), y[0]) * (y[:, 2] @ z)
    y2 = np.zeros((3,))
    y2[1] = z[0, 1]
    y2[0] = 1.0
    return np.sum(z) * y2[:]


def test_no_read_of_a_view_moves_past_a_restored_element():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))
    cotangent = rng.standard_normal(3)
    _, back = pullback.vjp(sum_times_a_view, *args)
    gradients = back(cotangent)
    for index in (1, 2):
        np.testing.assert_allclose(
            gradients[index], central_difference(sum_times_a_view, args, index, cotangent=cotangent),
            atol=1e-7)


def last_row_in_a_loop(x, y):
    # the fuzzer (seed 78, program 2877; seed 2026, program 1011): v2 is assigned only in
    # the loop, so the generated code holds None for it before; the zero gradient of v2,
    # made at the start of the reverse sweep, read its shape as v2.shape (None has none)
    acc1 = 0.0
    for r1 in y:
        v2 = y[-1:]
        acc1 += y[0, 1]
    return np.sum(v2 * x[:1])


def test_a_value_assigned_only_in_a_loop_is_not_read_as_an_array_before_the_loop():
    x, y = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), np.arange(6.0).reshape(2, 3)
    for index in (0, 1):
        got = pullback.grad(last_row_in_a_loop, wrt=index)(x, y)
        np.testing.assert_allclose(got, central_difference(last_row_in_a_loop, (x, y), index),
                                   atol=1e-7)
    value, back = pullback.vjp(last_row_in_a_loop, x, y, wrt=(0, 1))
    gx, gy = back(1.0)
    np.testing.assert_allclose(gx, central_difference(last_row_in_a_loop, (x, y), 0), atol=1e-7)
    np.testing.assert_allclose(gy, central_difference(last_row_in_a_loop, (x, y), 1), atol=1e-7)
