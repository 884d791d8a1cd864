"""Higher order through pullback's own runtime helpers (templates/runtime.py).

Generated gradients call runtime helpers (unbroadcast, add_at, scatter,
matmul_grad_rhs, power_slope, pop_last, ...); a Hessian (forward over
reverse) or a grad of a grad differentiates those calls with their rules.
Each program here makes its gradient call some of them, and each result is
checked against a formula derived by hand or against central differences of
the function itself in float64 (never against pullback).
"""
import math

import numpy as np
import pytest

import pullback


def _fd_hessian(f, x, eps=1e-4):
    """Second-order central differences of a scalar ``f`` at a float64 array ``x``."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            def at(si, sj):
                y = x.copy().reshape(-1)
                y[i] += si * eps
                y[j] += sj * eps
                return float(f(y.reshape(x.shape)))
            h[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * eps * eps)
    return h.reshape(x.shape + x.shape)


# -- programs whose gradients call the helpers ---------------------------------------

def rosenbrock(x):                  # slices: scatter, add_at
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def least_squares(w, X, y):         # matmul_grad_rhs / matmul_grad_lhs, unbroadcast
    r = X @ w - y
    return np.mean(r ** 2)


def log_sum_exp(x):                 # unbroadcast of a reduction's gradient
    return np.log(np.sum(np.exp(x)))


def powers(x, p):                   # power_slope: an exponent that is not written in the code
    return np.sum(x ** p)


def column_means(a):                # unreduce over an axis
    return np.sum(np.mean(a, axis=0) ** 2) + np.sum(np.sum(a, axis=1, keepdims=True) ** 3)


def hinge_squares(x):               # share (np.maximum's gradient)
    return np.sum(np.maximum(x, 0.25) ** 2 * x)


def rows_in_a_loop(x):              # loop_length, indexing in a loop: add_at
    total = 0.0
    for row in x:
        total = total + np.sum(row ** 3) * row[0]
    return total


def list_of_cubes(x):               # a list built in a loop: pop_last, unstack, accumulate
    items = []
    for i in range(x.shape[0]):
        items.append(x[i] ** 3)
    return sum(items)


def scalar_power(x, p):
    return x ** p


def scalar_chain(x):
    y = math.sin(x) * x
    for _ in range(3):
        y = y * x + 0.5
    return y


# -- Hessians -------------------------------------------------------------------------

def test_rosenbrock_hessian_is_the_formula():
    x = np.linspace(-1.2, 1.3, 7)
    n = x.size
    expected = np.zeros((n, n))
    for i in range(n - 1):
        expected[i, i] += 2.0 - 400.0 * (x[i + 1] - x[i] ** 2) + 800.0 * x[i] ** 2
        expected[i, i + 1] -= 400.0 * x[i]
        expected[i + 1, i] -= 400.0 * x[i]
        expected[i + 1, i + 1] += 200.0
    np.testing.assert_allclose(pullback.hessian(rosenbrock)(x), expected, rtol=1e-10, atol=1e-9)
    v = np.cos(np.arange(n))
    np.testing.assert_allclose(pullback.hvp(rosenbrock, (x,), (v,)), expected @ v,
                               rtol=1e-10, atol=1e-9)


def test_least_squares_hessians_are_the_formulas():
    rng = np.random.default_rng(0)
    w, X, y = rng.standard_normal(3), rng.standard_normal((5, 3)), rng.standard_normal(5)
    np.testing.assert_allclose(pullback.hessian(least_squares, wrt=0)(w, X, y),
                               2.0 / 5 * X.T @ X, rtol=1e-12, atol=1e-12)
    # d2/dX_ij dX_kl = 2/5 delta_ik w_j w_l
    expected = 2.0 / 5 * np.einsum("ik,j,l->ijkl", np.eye(5), w, w)
    np.testing.assert_allclose(pullback.hessian(least_squares, wrt=1)(w, X, y), expected,
                               rtol=1e-12, atol=1e-12)


def test_log_sum_exp_hessian_is_the_formula():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    p = np.exp(x) / np.sum(np.exp(x))
    np.testing.assert_allclose(pullback.hessian(log_sum_exp)(x), np.diag(p) - np.outer(p, p),
                               rtol=1e-10, atol=1e-12)


def test_hessians_of_a_power_with_a_variable_exponent():
    x = np.array([0.5, 1.5, 2.0])
    p = np.array([2.5, -1.3, 0.7])
    np.testing.assert_allclose(pullback.hessian(powers, wrt=0)(x, p),
                               np.diag(p * (p - 1.0) * x ** (p - 2.0)), rtol=1e-10)
    np.testing.assert_allclose(pullback.hessian(powers, wrt=1)(x, p),
                               np.diag(x ** p * np.log(x) ** 2), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("function, shape", [
    (column_means, (3, 4)),
    (hinge_squares, (6,)),
    (rows_in_a_loop, (3, 2)),
    (list_of_cubes, (4,)),
])
def test_hessian_matches_central_differences(function, shape):
    rng = np.random.default_rng(len(shape) + shape[0])
    x = rng.uniform(-1.0, 1.0, shape)
    if function is hinge_squares:       # away from the kink at 0.25
        x = np.where(np.abs(x - 0.25) < 0.1, x + 0.3, x)
    np.testing.assert_allclose(pullback.hessian(function)(x), _fd_hessian(function, x),
                               rtol=1e-5, atol=1e-5)


# -- grad of grad (of grad) -------------------------------------------------------------

def test_third_derivatives_of_a_power_with_a_variable_exponent():
    x, p = 1.7, 2.6
    d3x = pullback.grad(pullback.grad(pullback.grad(scalar_power, wrt=0), wrt=0), wrt=0)
    assert d3x(x, p) == pytest.approx(p * (p - 1) * (p - 2) * x ** (p - 3), rel=1e-12)
    d3p = pullback.grad(pullback.grad(pullback.grad(scalar_power, wrt=1), wrt=1), wrt=1)
    assert d3p(x, p) == pytest.approx(x ** p * math.log(x) ** 3, rel=1e-12)
    mixed = pullback.grad(pullback.grad(scalar_power, wrt=0), wrt=1)
    assert mixed(x, p) == pytest.approx(x ** (p - 1) * (1 + p * math.log(x)), rel=1e-12)


def test_third_derivative_of_a_loop():
    def exact(x, order):        # y = ((sin(x) x) x + .5) x + .5) x + .5, by the product rule
        terms = {0: x ** 4 * math.sin(x) + 0.5 * (x ** 2 + x + 1)}
        s, c = math.sin(x), math.cos(x)
        terms[1] = 4 * x ** 3 * s + x ** 4 * c + 0.5 * (2 * x + 1)
        terms[2] = 12 * x ** 2 * s + 8 * x ** 3 * c - x ** 4 * s + 1.0
        terms[3] = 24 * x * s + 36 * x ** 2 * c - 12 * x ** 3 * s - x ** 4 * c
        return terms[order]
    x = 0.8
    g1 = pullback.grad(scalar_chain)
    g2 = pullback.grad(g1)
    g3 = pullback.grad(g2)
    assert g1(x) == pytest.approx(exact(x, 1), rel=1e-12)
    assert g2(x) == pytest.approx(exact(x, 2), rel=1e-12)
    assert g3(x) == pytest.approx(exact(x, 3), rel=1e-12)


def test_hessian_of_a_gradient_with_a_list_keeps_the_arguments():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    before = x.copy()
    np.testing.assert_allclose(pullback.hessian(list_of_cubes)(x), np.diag(6.0 * x), rtol=1e-12)
    np.testing.assert_array_equal(x, before)
