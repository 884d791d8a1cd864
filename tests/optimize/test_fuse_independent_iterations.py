"""fuse_independent_iterations as a general rule: a loop whose iterations share
nothing runs its forward and reverse steps together, with no stack.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
The near misses carry a value from one step to the next, or read the last
step's value after the loop: the pass must leave them alone.
"""
import re

import numpy as np
import pytest

from pullback.optimize import fuse_independent_iterations
from test_general_passes import body, both

FUSED = "forward and reverse sweeps in one loop"


def batch_losses(w, X, y):
    """Squared error of tanh units summed over mini-batches."""
    total = 0.0
    for k in range(X.shape[0]):
        r = np.tanh(X[k] @ w) - y[k]
        total = total + 0.5 * np.sum(r * r)
    return total


def ensemble(a, x):
    """A sum over members, each reading its own rate a[j]: a's gradient is added
    into one array, an element per step."""
    total = 0.0
    for j in range(a.shape[0]):
        total = total + np.mean(np.exp(a[j] * x) * np.cos(x))
    return total


def row_energies(W, v):
    """Rows of a matrix against one vector, a log of each row's energy."""
    total = 0.0
    for k in range(W.shape[0]):
        total = total + np.log(1.0 + np.sum(np.tanh(W[k] * v) ** 2))
    return total


def weighted_terms(x, c):
    """A fixed count of terms with the step number in them, and a scale after the loop."""
    total = 0.0
    for k in range(4):
        total = total + np.sum(np.sin(x * (k + 1.0)) * c)
    return 3.0 * total


def recurrence(x, w):
    """Near miss: each step reads the state the step before left."""
    h = x
    for k in range(3):
        h = np.tanh(h * w + 0.1 * k)
    return np.sum(h * h)


def last_step_read(x):
    """Near miss: the last step's value is read after the loop, so its adjoint
    enters the reverse loop's first step."""
    total = 0.0
    for k in range(4):
        z = np.sin(x * (k + 1.0))
        total = total + np.sum(z * z)
    return total + np.sum(z)


RNG = np.random.default_rng(5)


@pytest.mark.parametrize("function, args, wrt", [
    (batch_losses, (0.3 * RNG.standard_normal(4), RNG.standard_normal((3, 6, 4)),
                    RNG.standard_normal((3, 6))), 0),
    (batch_losses, (0.3 * RNG.standard_normal(4), RNG.standard_normal((3, 6, 4)),
                    RNG.standard_normal((3, 6))), (0, 1, 2)),
    (ensemble, (0.5 * RNG.standard_normal(3), RNG.standard_normal(5)), (0, 1)),
    (row_energies, (RNG.standard_normal((4, 3)), RNG.standard_normal(3)), (0, 1)),
    (weighted_terms, (RNG.standard_normal(5), 0.7), (0, 1)),
], ids=["batches", "batches-all-arguments", "ensemble", "row-energies", "weighted-terms"])
def test_independent_iterations_are_one_loop_without_a_stack(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, fuse_independent_iterations)
    assert FUSED in source and ".pop()" not in body(source) and ".append(" not in body(source)
    assert FUSED not in without and ".pop()" in body(without)
    assert len(re.findall(r"^\s*for ", body(source), re.M)) == 1, body(source)


@pytest.mark.parametrize("function, args, wrt", [
    (recurrence, (RNG.standard_normal(4), 0.8), (0, 1)),
    (last_step_read, (RNG.standard_normal(4),), 0),
], ids=["recurrence", "last-step-read"])
def test_iterations_that_share_a_value_keep_their_two_loops(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, fuse_independent_iterations)
    assert without == source and FUSED not in source
