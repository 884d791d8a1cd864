"""scale_smaller_factors as a general rule: a number multiplies the factor
that adds axes, a sign leaves a sum, on programs outside the benchmark.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
"""
import re

import numpy as np
import pytest

from pullback.optimize import scale_smaller_factors
from test_general_passes import body, both


def pairwise_energy(points, charges):
    """Squared distances of every pair, weighted by one charge: a literal
    (2.0 from the square) times a product with a factor indexed ``[:, :, None]``."""
    diff = points[:, None, :] - points[None, :, :]
    r2 = np.sum(diff * diff, axis=2)
    return np.sum(charges[None, :] * np.sqrt(r2 + 1.0))


def gaussian_scores(x, centres, widths):
    """A quotient summed over the points: its adjoint negates a product of two
    arrays of the data's size inside a sum over axis 0."""
    z = (x[:, None, :] - centres[None, :, :]) / widths[None, :, :]
    return np.sum(np.exp(-0.5 * np.sum(z * z, axis=2)))


def scaled_rows(A, v):
    """The near miss: ``3.0 * (A * v)`` has no factor indexed with None, so
    neither factor is known to be the smaller one."""
    return np.sum(np.sin(3.0 * (A * v)))


RNG = np.random.default_rng(7)


@pytest.mark.parametrize("function, args, wrt, shown", [
    (pairwise_energy, (RNG.standard_normal((5, 3)), RNG.random(5) + 0.5), (0, 1),
     r"2\.0 \* d\w+\[:, :, None\] \* diff"),
    (gaussian_scores, (RNG.standard_normal((6, 2)), RNG.standard_normal((3, 2)), RNG.random((3, 2)) + 0.5),
     (0, 1, 2), r"-\(\w+ \* z\)\.sum\(axis=0"),
], ids=["pairwise", "gaussian"])
def test_the_small_operand_takes_the_number_or_the_sign(function, args, wrt, shown, tmp_path):
    without, source = both(function, args, wrt, tmp_path, scale_smaller_factors)
    assert re.search(shown, body(source)), body(source)
    assert not re.search(shown, body(without)), body(without)


def test_no_factor_known_smaller_leaves_the_product(tmp_path):
    args = (RNG.standard_normal((4, 3)), RNG.standard_normal(3))
    without, source = both(scaled_rows, args, (0, 1), tmp_path, scale_smaller_factors)
    assert without == source
