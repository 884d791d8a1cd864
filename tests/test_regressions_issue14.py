"""Silently wrong gradients found while building issue 14, reduced by hand;
each against float64 central differences, in reverse and forward mode."""
import numpy as np
import pytest

import pullback
from reference import central_difference


def square_a_parameter_in_a_branch(x, c):
    # A parameter reassigned from itself in a branch was not saved (only names
    # assigned twice in the body were): the reverse sweep read the new x.
    if c > 0:
        x = x * x
    return np.sum(x)


def copy_a_parameter_in_a_branch(x, c):
    # x = np.copy(x) in a branch: the adjoint of the copy was added to itself (dx += dx).
    if c > 0:
        x = np.copy(x)
    return np.sum(x * 2.0)


def sine_of_a_number_parameter_in_a_branch(x, c):
    if c > 0:
        x = np.sin(x)
    return x * 3.0


def copy_then_write_in_a_branch(x, y, c):
    if c > 0:
        x = x.copy()
    x[0] = x[1] * y[0]
    return np.sum(x * x)


@pytest.mark.parametrize("f, args", [
    (square_a_parameter_in_a_branch, (np.array([1.0, 2.0, 3.0]), 1.0)),
    (square_a_parameter_in_a_branch, (np.array([1.0, 2.0, 3.0]), -1.0)),
    (copy_a_parameter_in_a_branch, (np.array([1.0, 2.0, 3.0]), 1.0)),
    (sine_of_a_number_parameter_in_a_branch, (0.7, 1.0)),
    (copy_then_write_in_a_branch, (np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.5]), 1.0)),
], ids=["square", "square-not-taken", "copy", "sine-number", "copy-then-write"])
def test_a_parameter_reassigned_in_a_branch(f, args):
    def fresh(*values):         # f may write into its argument: each call gets its own
        return f(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in values])
    expected = central_difference(fresh, args, 0)
    np.testing.assert_allclose(pullback.grad(f)(*args), expected, rtol=1e-6)
    direction = np.ones_like(args[0]) if np.ndim(args[0]) else 1.0
    _, tangent = pullback.jvp(f, args, (direction,) + (None,) * (len(args) - 1))
    assert tangent == pytest.approx(np.sum(expected), rel=1e-6)
