"""Constructors and index-valued functions inside differentiated code.

Arrays built from shapes (np.zeros, np.eye, np.arange...) are constants, and
index-valued functions (np.nonzero, np.searchsorted, bit operations...)
carry no derivative; the values around them still do, and so do the unique
values np.unique returns with its indices and counts. Every gradient is
checked against central finite differences (tests/reference.py), never
against pullback. The last section checks that the indexing, sorting and
grid rules keep float32 gradients float32.
"""
import numpy as np
import pytest

import pullback
from reference import central_difference

# --------------------------------------------------------------------------
# Constructors: their values are constants, whatever they are combined with.
# --------------------------------------------------------------------------


def zeros_plus(x):
    y = np.zeros(3) + x
    return np.sum(y * y)


def linspace_times(x):
    return np.sum(np.linspace(0, 1, 5) * x ** 2)


def eye_matmul(x):
    return np.sum(np.tanh(np.eye(3) @ x))


def identity_and_tri(m):
    lower = np.tri(3) * m
    return np.sum((np.identity(3) + lower) ** 2)


def empty_filled(x):
    out = np.empty(3)
    out[:] = x * 2.0
    out[1] = out[1] * out[0]
    return np.sum(out ** 2)


def empty_built_in_a_loop(x):
    out = np.empty((3,))
    for i in range(3):
        out[i] = np.sin(x[i]) * (i + 1)
    return np.sum(out * x)


def ones_full_broadcast(x):
    scale = np.ones((2, 3)) * 0.5 + np.full(3, 2.0)
    return np.sum(scale * x)


def arange_weights(x):
    weights = np.arange(len(x)) + 1.0
    return np.sum(weights * np.exp(x)) / np.sum(np.arange(4.0))


def arange_of_a_float(x):
    k = float(x[0])
    return np.sum(np.arange(k) * x[1])      # the count moves with x[0]; the values do not


def logspace_and_geomspace(x):
    return np.sum(np.logspace(0, 1, 3) * x + np.geomspace(1.0, 8.0, 3) * x ** 2)


def indices_grid(m):
    rows, cols = np.indices(m.shape)
    return np.sum(m * rows - m ** 2 * cols)


def lower_triangle(m):
    return np.sum(m[np.tril_indices(3)] ** 2) - np.sum(m[np.triu_indices(3, 1)])


def triangles_from(m):
    return np.sum(np.exp(m[np.triu_indices_from(m, 1)])) + np.sum(m[np.tril_indices_from(m)])


def diagonal_by_indices(m):
    return np.sum(m[np.diag_indices(3)] ** 3) + np.sum(m[np.diag_indices_from(m)])


def grid_from_the_input(x):
    # linspace and geomspace are differentiable in their end points.
    t = np.linspace(x[0], x[1], 7)
    g = np.geomspace(x[2] ** 2 + 1.0, 4.0, 5)
    return np.sum(np.sin(t)) + np.sum(np.log(g) * g)


def grid_in_a_loop(x):
    total = 0.0
    for t in np.linspace(0.0, 1.0, 4):
        total = total + t * np.sum(x ** 2)
    return total


def sorted_quantiles(x):
    s = np.sort(x)
    q = np.quantile(x, [0.2, 0.7])
    return np.sum(s * np.arange(5.0)) + np.sum(q ** 2) + np.percentile(x, 40.0)


def gathers(m):
    picked = np.take(m, [0, 0, 2], axis=1)
    along = np.take_along_axis(m, np.argsort(m, axis=0), axis=0)
    kept = np.compress([True, False, True], m, axis=0)
    return np.sum(picked ** 2) + np.sum(along * np.arange(4.0)) + np.sum(np.sin(kept))


def unique_with_counts(x):
    values, counts = np.unique(np.take(x, [0, 0, 1, 2, 1]), return_counts=True)
    return np.sum(values ** 2 * counts)


def unique_everything(x):
    values, index, inverse, counts = np.unique(np.take(x, [3, 0, 3, 1]), True, True, True)
    return np.sum(np.sin(values) * index) + np.sum(values[inverse] * counts[inverse] * x)


def unique_counts_only(x):
    counts = np.unique(x, return_counts=True)[1]
    return np.sum(counts * x)


def unique_rows(m):
    rows, inverse = np.unique(np.take(m, [1, 0, 1], axis=0), return_inverse=True, axis=0)
    return np.sum(rows ** 3) + np.sum(rows[inverse] * m[:1])


# --------------------------------------------------------------------------
# Index-valued and boolean functions: no derivative flows through them.
# --------------------------------------------------------------------------

def positive_part(x):
    return np.sum(x[np.nonzero(x > 0.0)] ** 2) + np.sum(x[np.flatnonzero(x < 0.0)])


def argwhere_pick(x):
    return np.sum(np.take(x, np.argwhere(x > 0.0)[:, 0]) ** 3)


def smallest_two(x):
    return np.sum(x[np.argpartition(x, 2)[:2]] ** 2)


def lexsorted(x):
    return np.sum(x[np.lexsort((x,))] * np.arange(5.0))


def bins_as_weights(x):
    weights = np.array([0.5, 1.5, 3.0])
    bucket = np.digitize(x, np.array([-0.5, 0.5]))
    position = np.searchsorted(np.array([-1.0, 0.0, 1.0]), x)
    return np.sum(weights[bucket] * x ** 2) + np.sum(position * x)


def nan_argextremes(x):
    return x[np.nanargmax(x)] ** 2 - 3.0 * x[np.nanargmin(x)]


def flat_positions(m):
    biggest = m[np.unravel_index(np.argmax(m), m.shape)]
    picked = np.ravel(m)[np.ravel_multi_index((np.array([0, 1]), np.array([2, 0])), m.shape)]
    return biggest ** 2 + np.sum(picked * 3.0)


def predicates(x):
    flags = (np.allclose(x, 0.0) + np.array_equal(x, x) + np.array_equiv(x, x[0])
             + np.isrealobj(x) + np.iscomplexobj(x))
    masks = np.isreal(x) + np.iscomplex(x) + np.isclose(x, 0.3) + np.isin(x, x[:1])
    return flags * np.sum(x ** 2) + np.sum(masks * x)


def bit_operations(x):
    k = x.astype(np.int64)
    bits = np.bitwise_and(k, 1) + np.bitwise_or(k, 2) + np.bitwise_xor(k, 3)
    shifted = np.left_shift(k, 1) + np.right_shift(k, 1) + np.invert(k)
    return np.sum(bits * x) + np.sum(shifted * x ** 2)


CASES = [
    (zeros_plus, (3,)), (linspace_times, (5,)), (eye_matmul, (3,)), (identity_and_tri, (3, 3)),
    (empty_filled, (3,)), (empty_built_in_a_loop, (3,)), (ones_full_broadcast, (2, 3)),
    (arange_weights, (4,)), (logspace_and_geomspace, (3,)), (indices_grid, (2, 3)),
    (lower_triangle, (3, 3)), (triangles_from, (3, 3)), (diagonal_by_indices, (3, 3)),
    (grid_from_the_input, (3,)), (grid_in_a_loop, (4,)), (sorted_quantiles, (5,)),
    (gathers, (3, 4)), (unique_with_counts, (3,)), (unique_everything, (4,)),
    (unique_counts_only, (4,)), (unique_rows, (2, 3)), (positive_part, (6,)),
    (argwhere_pick, (6,)), (smallest_two, (5,)),
    (lexsorted, (5,)), (bins_as_weights, (6,)), (nan_argextremes, (5,)), (flat_positions, (2, 3)),
    (predicates, (4,)), (bit_operations, (5,)),
]


def _input(shape, seed):
    """Values apart from each other and from the kinks the cases use
    (0, ±0.5, ±1, integers for astype), so finite differences see one branch."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.uniform(-2.5, 2.5, shape)
        values = np.sort(x.ravel())
        apart = values.size < 2 or np.min(np.diff(values)) > 0.05
        kinks = np.array([-1.0, -0.5, 0.0, 0.3, 0.5, 1.0, -2.0, 2.0])
        if apart and np.all(np.abs(np.subtract.outer(x.ravel(), kinks)) > 0.05):
            return x


@pytest.mark.parametrize("function, shape", CASES, ids=[f.__name__ for f, _ in CASES])
def test_gradient_matches_central_differences(function, shape):
    x = _input(shape, len(function.__name__))
    gradient = pullback.grad(function)(x)
    assert isinstance(gradient, np.ndarray) and gradient.shape == x.shape
    assert gradient.dtype == np.float64
    np.testing.assert_allclose(gradient, central_difference(function, [x], 0),
                               rtol=1e-6, atol=1e-7)


def test_count_of_an_arange_moves_no_values():
    x = np.array([3.6, 0.7])
    gradient = pullback.grad(arange_of_a_float)(x)
    np.testing.assert_allclose(gradient, central_difference(arange_of_a_float, [x], 0),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(gradient, [0.0, 0.0 + 1.0 + 2.0 + 3.0])


def test_constant_grids_are_not_differentiated():
    """With constant end points, no rule of the grid shows in the derivative."""
    source = pullback.source(pullback.grad(linspace_times))
    assert "linspace_grad" not in source
    source = pullback.source(pullback.grad(grid_from_the_input))
    assert "linspace_grad" in source and "geomspace_grad" in source


def test_nondifferentiable_results_reach_no_adjoint():
    source = pullback.source(pullback.grad(bins_as_weights))
    assert "dbucket" not in source and "dposition" not in source


# --------------------------------------------------------------------------
# float32 in, float32 gradients out: the indexing, sorting and grid rules.
# --------------------------------------------------------------------------

def take_f(x):
    return np.sum(np.take(x, [[0, 3], [3, 3]], axis=1) ** 2)


def take_along_f(x):
    return np.sum(np.take_along_axis(x, np.array([[0], [2], [2]]), axis=0) ** 2)


def compress_extract_f(x):
    return np.sum(np.compress([1, 0, 1], x, axis=0) ** 2) + np.sum(np.extract(x > 0.0, x) ** 3)


def choose_f(x):
    return np.sum(np.choose(np.array([[0, 1, 1, 0]]), [x, x * x]))


def sort_partition_f(x):
    return np.sum(np.sort(x, axis=0) * np.arange(3.0)[:, None]) + np.sum(
        np.partition(x, 1, axis=1)[:, :1] ** 2)


def quantile_f(x):
    return np.sum(np.quantile(x, [0.3, 0.8], axis=1) ** 2) + np.percentile(x, 35.0)


def grids_f(x):
    return np.sum(np.linspace(x[0], x[1], 4) ** 2) + np.sum(np.logspace(x[0, :2], 1.0, 3)) \
        + np.sum(np.geomspace(x[1] ** 2 + 1.0, 3.0, 3, axis=-1))


FLOAT32_CASES = [take_f, take_along_f, compress_extract_f, choose_f, sort_partition_f,
                 quantile_f, grids_f]


@pytest.mark.parametrize("function", FLOAT32_CASES, ids=[f.__name__ for f in FLOAT32_CASES])
def test_float32_gradient(function):
    x = _input((3, 4), 32).astype(np.float32) * np.float32(0.4)
    gradient = pullback.grad(function)(x)
    assert gradient.dtype == np.float32 and gradient.shape == x.shape
    np.testing.assert_allclose(gradient, central_difference(function, [x], 0),
                               rtol=2e-3, atol=2e-4)
