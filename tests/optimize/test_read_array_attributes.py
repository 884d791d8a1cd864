"""read_array_attributes as a general rule: ``np.shape(x)``, ``np.size(x)`` of
a value known to be an array read its attribute, on programs outside the
benchmark; a value that may be a list or a number keeps the function.

Each program's derivative is generated with the pass and without it
(test_general_passes.generated); every gradient is checked against central
differences.
"""
import re

import numpy as np

from pullback.optimize import read_array_attributes
from test_general_passes import body, both


def mean_energy(x, k):
    """A mean (its adjoint divides by ``np.size``) in a loop that starts its
    adjoint from zeros of x's shape."""
    total = 0.0
    for i in range(3):
        total = total + np.mean(k * x ** 2) * (i + 1)
    return total


def row_means(A):
    """A mean over an axis: its adjoint puts the axis back for A's shape."""
    return np.sum(np.sin(np.mean(A, axis=1)))


def scaled_list(values, s):
    """The near miss: ``values`` arrives as a list, which has no ``.size``."""
    return np.mean(np.asarray(values) * s)


RNG = np.random.default_rng(11)


def test_known_arrays_read_their_attributes(tmp_path):
    without, source = both(mean_energy, (RNG.standard_normal(5), 0.7), (0, 1), tmp_path,
                           read_array_attributes)
    assert re.search(r"np\.(size|shape)\(x\)", body(without)), body(without)
    assert not re.search(r"np\.(size|shape)\(x\)", body(source)), body(source)
    assert re.search(r"\bx\.(size|shape)\b", body(source)), body(source)


def test_a_reduction_over_an_axis(tmp_path):
    without, source = both(row_means, (RNG.standard_normal((4, 3)),), 0, tmp_path,
                           read_array_attributes)
    assert "np.shape(A)" in body(without) and "A.shape" in body(source), body(source)


def test_a_list_keeps_the_function(tmp_path):
    without, source = both(scaled_list, ([0.5, -1.0, 2.0], 1.5), 1, tmp_path, read_array_attributes)
    assert without == source and "np.size(asarray)" in body(source), body(source)


def batch_means(w, X):
    """A mean of a value computed in each iteration of a loop: the reverse
    step pops it and divides by its size (an array: it was computed before
    being pushed). The function's own loop-carried value, pushed before it
    is assigned, may be None on the first step and keeps ``np.shape``."""
    total, last = 0.0, None
    for k in range(X.shape[0]):
        e = np.exp(X[k] @ w)
        total = total + np.mean(e)
        last = e if last is None else last * 0.5 + e
    return total + np.sum(last)


def test_a_value_computed_before_its_push_reads_its_attribute(tmp_path):
    args = (0.3 * RNG.standard_normal(3), RNG.standard_normal((4, 5, 3)))
    without, source = both(batch_means, args, 0, tmp_path, read_array_attributes)
    assert re.search(r"np\.size\(e\)", body(without)), body(without)
    assert re.search(r"\be\.size\b", body(source)) and "np.shape(last)" in body(source), \
        body(source)
