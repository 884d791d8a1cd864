"""Small arrays of literal lengths updated in long loops (issue 16): where every
length of a value is known (analysis/lengths.py), the reverse sweep asks a
value kept for the whole call for its shape (analysis/shape_classes.py:
_join_known_lengths) and keeps none for it per step; the basic-index
gradients are written into the adjoint in place; the zero adjoints are
``np.zeros(2)``. Each gradient against central differences."""
import os
import sys

import numpy as np
import pytest

import pullback
from reference import central_difference, checked_source

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "analysis"))
from test_an_constructed import kalman  # noqa: E402  (the 2-state filter, written once)
from test_an_array_shapes import analysed  # noqa: E402


def rotating(theta, v0):
    v = np.zeros(3)
    v[:] = v0
    c, s = np.cos(theta), np.sin(theta)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    out = 0.0
    for k in range(20):
        v = R @ v * 0.99
        v[2] = v[2] + 0.1 * v[0] * v[1]
        out = out + v[0] ** 2 - v[2]
    return out


def matrix_walk(M, a):
    # A's columns: 3 (np.tanh(A @ M) + a * np.eye(3) broadcasts M's columns against 3)
    A = np.eye(3)
    total = 0.0
    for k in range(10):
        A = np.tanh(A @ M) + a * np.eye(3)
        total = total + A[1, 2] * A[0, 0] - np.sum(A[2, :] ** 2)
    return total


ZS = np.sin(np.linspace(0.0, 3.0, 40))
CASES = [
    (kalman, (0.05, ZS), 0),
    (rotating, (0.3, np.array([1.0, -0.5, 0.2])), (0, 1)),
    (matrix_walk, (0.3 * np.arange(9.0).reshape(3, 3) / 9.0 - 0.1, 0.2), (0, 1)),
]


def _reverse(source):
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    return code


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_no_value_is_kept_for_its_shape(f, args, wrt):
    code = _reverse(checked_source(f, args, wrt))
    assert "shape_only" not in code, code


def test_the_kalman_reverse_step_writes_into_its_adjoints():
    code = _reverse(checked_source(kalman, (0.05, ZS), 0))
    for line in ("dP = np.zeros((2, 2))", "dx = np.zeros(2)", "dP[0, :] +=", "dP[:, 0] +=",
                 "dP[0, 0] +=", "dx[0] +="):
        assert line in code, (line, code)
    assert "x_stack" not in code and "P_stack" not in code, code


def test_lengths_from_the_arguments_keep_the_general_helpers_apart():
    """A state whose length comes from an argument ("n": any) has no literal
    zeros; its gradient is right for other lengths too (one derivative)."""
    def walk(v, c):
        for k in range(5):
            v = np.tanh(v * c) + v[0]
        return np.sum(v ** 2)

    grad = pullback.grad(walk)
    for v in (np.linspace(0.1, 0.5, 3), np.linspace(-0.4, 0.6, 7)):
        np.testing.assert_allclose(grad(v, 0.7), central_difference(walk, (v, 0.7), 0),
                                   rtol=1e-6, atol=1e-9)
    assert "np.zeros(3)" not in pullback.source(grad)


def test_a_loop_that_runs_no_step_gives_zeros_of_the_shape():
    grad = pullback.grad(kalman)
    assert grad(0.05, np.zeros(0)) == 0.0
    np.testing.assert_allclose(grad(0.05, ZS[:3]), central_difference(kalman, (0.05, ZS[:3]), 0),
                               rtol=1e-6)


def test_values_of_known_lengths_join_the_class_of_one_kept_for_the_call():
    shapes = analysed(kalman, 0.05, ZS)[1].shapes
    for name in ("P", "outer", "eye", "T"):     # 2 by 2, assigned in the loop
        if name in shapes.arrays:
            assert shapes.shape_of(name) == "F", name
    assert shapes.shape_of("x") == "x"          # no 2-vector is assigned once: none to ask
    assert shapes.shape_of("zs") == "zs"
