"""Classes of values known to have one shape (analysis/shape_classes.py), and
what the specialized derivative does with them.

Where the array kinds show that an elementwise operation left its operands'
shape as it was, the operands and the result are one class: the reverse
sweep reads any member, kept anyway, for the shape of another. Each test
checks the gradient against central differences (reference.checked_source)
and then what the source no longer needs (pushes of shapes, broadcasts,
helper calls). Two loops have values whose length changes from one step to
the next: slices of unknown length form no class, and their derivative must
stay right through the per-step shape sources of the general code.
"""
import numpy as np
import pytest

from pullback.runtime import matmul_grad_lhs, matmul_grad_rhs
from reference import central_difference, checked_source


def cross_entropy_batches(w, X, y):
    """Logistic regression over the batches of X (a loop of 1-D values of one shape)."""
    total = 0.0
    for k in range(X.shape[0]):
        p = 1.0 / (1.0 + np.exp(-(X[k] @ w)))
        total = total - np.mean(y[k] * np.log(p) + (1.0 - y[k]) * np.log(1.0 - p))
    return total


def test_a_loop_reads_the_shape_from_a_value_it_keeps_anyway():
    rng = np.random.default_rng(0)
    args = (0.3 * rng.standard_normal(4), rng.standard_normal((3, 6, 4)),
            (rng.random((3, 6)) < 0.5).astype(float))
    text = checked_source(cross_entropy_batches, args, 0)
    assert "shape_only" not in text, text
    assert "broadcast_to" not in text, text         # the mean's adjoint stays a number


def growing_prefixes(x):
    """Each step's values have the step's own length (k + 1)."""
    total = 0.0
    for k in range(x.shape[0]):
        part = x[:k + 1]
        square = part * part
        total = total + np.mean(square * np.sin(part))
    return total


def shrinking_tails(x, w):
    """The class's first member (``tail``) is made before the values read for
    their shape, the others after; lengths change every step."""
    total = 0.0
    for k in range(x.shape[0] - 1):
        tail = x[k:]
        scaled = tail * w
        total = total + np.mean(np.tanh(scaled) * tail)
    return total


@pytest.mark.parametrize("function, args", [
    (growing_prefixes, (np.linspace(0.2, 1.4, 6),)),
    (shrinking_tails, (np.linspace(-0.7, 0.9, 5), 0.8)),
])
def test_members_are_read_at_the_step_that_made_them(function, args):
    text = checked_source(function, args, 0)
    assert "shape_only" not in text, text


def scaled_densities(means, X):
    """np.pi is a number: the chain after ``np.log(2.0 * np.pi)`` keeps its shapes."""
    z = X[:, None, :] - means[None, :, :]
    log_comp = -0.5 * np.sum(z * z, axis=2) - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    top = np.max(log_comp, axis=1, keepdims=True)
    return np.mean(top + np.log(np.sum(np.exp(log_comp - top), axis=1, keepdims=True)))


def test_module_constants_are_numbers():
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((3, 2)), rng.standard_normal((7, 2)))
    text = checked_source(scaled_densities, args, 0)
    assert "unbroadcast" not in text and "unreduce" not in text, text


def pair_forces(pos, mass):
    """Reductions over one axis of 3-D values: their adjoints index the axis back."""
    diff = pos[None, :, :] - pos[:, None, :]
    dist = np.sum(diff * diff, axis=-1, keepdims=False) + 0.5
    force = np.sum(diff * (mass[None, :] / dist)[:, :, None], axis=1)
    spread = np.sum(diff, axis=(0, 2))
    return np.sum(force * force) + np.sum(np.mean(diff * diff, axis=0) * 0.1) + np.sum(spread ** 2)


def test_reductions_over_literal_axes_put_the_axes_back_by_indexing():
    rng = np.random.default_rng(2)
    args = (rng.standard_normal((4, 3)), rng.random(4) + 0.5)
    text = checked_source(pair_forces, args, (0, 1))
    assert "unreduce" not in text, text
    assert "[:, None]" in text or "[None]" in text, text


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)),
                                              ((4,), (4,)), ((2, 3, 4), (4,))])
def test_matmul_adjoints_match_differences(a_shape, b_shape):
    """The helpers' quick paths (matrix-vector, vector-matrix) and the general one."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    g = rng.standard_normal(np.shape(a @ b))

    def f(a, b):
        return np.sum(g * (a @ b))

    np.testing.assert_allclose(matmul_grad_lhs(g, a, b), central_difference(f, (a, b), 0), atol=1e-7)
    np.testing.assert_allclose(matmul_grad_rhs(g, a, b), central_difference(f, (a, b), 1), atol=1e-7)
