"""scatter_basic copies the gradient in where it has the zeros' dtype, adds it
(NumPy's casting rules for +=) otherwise: the same zeros-with-g either way,
checked against np.add.at on zeros, the definition."""
import numpy as np
import pytest

from pullback.runtime import shape_only
from pullback.runtime.basic_indexing import scatter_basic


def _reference(x, index, g):
    total = np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
    np.add.at(total, index, np.broadcast_to(g, total[index].shape))
    return total


@pytest.mark.parametrize("x, index, g", [
    (np.ones((4, 3)), (slice(1, 3), slice(None)), np.arange(6.0).reshape(2, 3)),     # copied in
    (np.ones((4, 3)), (slice(1, 3), 0), np.array(2.5)),                              # broadcast
    (np.ones((4, 3)), 2, np.arange(3, dtype=np.float32)),                            # another dtype
    (np.ones((5,)), slice(None, None, -2), np.array([1.0, 2.0, 3.0])),              # a step
    (np.ones((5,)), 3, 4.0),                                                         # a number
    (np.ones((2, 3), dtype=np.float32), (0, slice(1, None)), np.array([1.0, 2.0])),  # float64 g
    (np.ones((3,)), (None, slice(1, None)), np.array([[5.0, 6.0]])),                 # a new axis
])
def test_scatter_basic_gives_zeros_with_the_gradient_at_the_index(x, index, g):
    got = scatter_basic(shape_only(x), index, g)
    expected = _reference(x, index, g)
    assert got.dtype == expected.dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, expected)


def test_a_complex_gradient_into_real_zeros_raises_as_numpy_does():
    with pytest.raises(TypeError):
        scatter_basic(shape_only(np.ones(3)), slice(1, None), np.array([1j, 2j]))
