"""norm_grad's quick answer for np.linalg.norm(x) of a float64 array against
the definition, g * x / |x| (zero where x is zero), and the general way."""
import numpy as np
import pytest

from pullback.runtime.reductions import norm_grad


@pytest.mark.parametrize("x", [np.array([3.0, -4.0]), np.zeros(3), np.arange(6.0).reshape(2, 3),
                               np.array(2.5), np.array([1.0, np.nan])])
@pytest.mark.parametrize("g", [0.5, np.float64(-2.0)])
def test_the_gradient_of_a_2_norm(x, g):
    y = np.linalg.norm(x)
    got = norm_grad(g, x, y)
    expected = g * x / y if y != 0 else np.zeros_like(x)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)
    general = norm_grad(g, x.reshape(x.shape), np.array(y).reshape(()), None, None, True)
    np.testing.assert_array_equal(got, np.broadcast_to(general, x.shape))
