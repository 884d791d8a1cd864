"""drop_unread_restores on writes into part of an array just made blank
(``lap = np.zeros_like(T); lap[1:-1, 1:-1] = ...``): the part the write
overwrote is neither saved nor put back, as no adjoint reads it. Where
something reads the array before the write, or it was made by arithmetic,
the save and restore stay. Each gradient against central differences.
"""
import numpy as np
import pytest

from reference import central_difference, checked_source


def grid(T, alpha):
    for t in range(4):
        lap = np.zeros_like(T)
        lap[1:-1, 1:-1] = T[:-2, 1:-1] + T[2:, 1:-1] + T[1:-1, :-2] + T[1:-1, 2:] - 4 * T[1:-1, 1:-1]
        T = T + alpha * lap
    return np.sum(T ** 2)


def ones_then_squares(x):
    total = 0.0
    for k in range(3):
        m = np.ones(x.shape[0])
        m[1:] = x[1:] ** 2
        total = total + np.sum(m * x)
    return total


def read_before_the_write(T, alpha):
    s = 0.0
    for t in range(3):
        lap = np.ones_like(T)
        s = s + np.sum(lap * T)
        lap[1:-1, 1:-1] = T[1:-1, 1:-1] ** 2
        T = T + alpha * lap
    return np.sum(T ** 2) + s


def made_by_arithmetic(x, y):
    total = 0.0
    for k in range(3):
        w = np.exp(x)
        w[0] = y[0] * 2.0
        total = total + np.sum(w * w)
        x = x * 0.5
    return total


def read_through_another_name(T, alpha):
    for t in range(3):
        lap = np.zeros_like(T)
        view = lap[1:]                      # pullback refuses or keeps the restore
        lap[1:-1, 1:-1] = T[1:-1, 1:-1] ** 2
        T = T + alpha * lap + view[0, 0]
    return np.sum(T ** 2)


T0 = np.linspace(0.1, 1.2, 30).reshape(5, 6)


@pytest.mark.parametrize("f, args, wrt, dropped", [
    (grid, (T0, 0.1), 0, True),
    (grid, (T0, 0.1), 1, True),
    (ones_then_squares, (np.linspace(0.3, 1.1, 5),), 0, True),
    (read_before_the_write, (T0, 0.1), 0, False),
    (made_by_arithmetic, (np.linspace(-0.5, 0.5, 4), np.linspace(0.2, 0.8, 4)), 0, False),
    (made_by_arithmetic, (np.linspace(-0.5, 0.5, 4), np.linspace(0.2, 0.8, 4)), 1, False),
])
def test_a_blank_arrays_overwritten_part_is_not_saved(f, args, wrt, dropped):
    source = checked_source(f, args, wrt)           # against central differences
    assert ("copy_of(" not in source) == dropped, source


def test_an_array_read_through_a_view_before_the_write():
    import pullback
    try:
        got = pullback.grad(read_through_another_name)(T0, 0.1)
    except pullback.PullbackError:
        return                              # refused: never a wrong gradient
    np.testing.assert_allclose(got, central_difference(read_through_another_name, (T0, 0.1), 0),
                               rtol=1e-6, atol=1e-8)
