"""extreme_grad's quick answer for np.max(x) of a float64 array (one largest
entry) against the definition: the gradient goes to the entries equal to the
result, split evenly among ties; none where the result is NaN."""
import numpy as np
import pytest

from pullback.runtime.reductions import extreme_grad


def _definition(g, a, y):
    hit = (a == y) & ~np.isnan(a)
    count = np.count_nonzero(hit)
    return np.where(hit, g / max(count, 1), 0.0)


@pytest.mark.parametrize("a", [
    np.array([0.5, 2.0, -1.0]),                 # one largest
    np.array([2.0, 0.5, 2.0]),                  # a tie: halves
    np.array([[1.0, 3.0], [3.0, 3.0]]),         # three, 2-D
    np.array([1.0, np.nan, 0.5]),               # np.max is NaN: no entry equals it
    np.array([-0.0, 0.0, -1.0]),                # -0.0 == 0.0: a tie
    np.array(4.0),                              # 0-d
    np.array([7.0]),
])
@pytest.mark.parametrize("g", [0.75, np.float64(-2.0)])
def test_the_gradient_of_a_largest_entry(a, g):
    for reduce in (np.max, np.min, np.nanmax):
        with np.errstate(invalid="ignore"):
            y = reduce(a)
        got = np.asarray(extreme_grad(g, a, y))
        expected = _definition(g, a, y)
        assert got.shape == a.shape and got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)


def test_other_kinds_take_the_general_way():
    a = np.array([1.0, 3.0, 2.0], dtype=np.float32)
    got = extreme_grad(np.float32(2.0), a, np.max(a))
    assert got.dtype == np.float32 and list(got) == [0.0, 2.0, 0.0]
    got = extreme_grad(np.ones(2), np.array([[1.0, 3.0], [4.0, 2.0]]),
                       np.max(np.array([[1.0, 3.0], [4.0, 2.0]]), axis=1), 1)
    np.testing.assert_array_equal(got, [[0.0, 1.0], [1.0, 0.0]])
