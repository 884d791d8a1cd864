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
