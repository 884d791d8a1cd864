"""End to end: user-style functions with branches and loops (tests/corpus_control.py).

Every gradient is checked against float64 central differences (tests/reference.py)
or against a formula derived by hand; never against another pullback gradient.
"""
import math
import re

import numpy as np
import pytest

import pullback
import corpus_control as cc
from corpus_control import CASES, FUNCTIONS, rng
from reference import central_difference

RTOL, ATOL = 1e-5, 1e-6


def _ids(cases):
    return [f"{case[0].__name__}-{i}" for i, case in enumerate(cases)]


def _check_like(gradient, argument):
    """The gradient has the type (float -> float), shape and dtype of its argument."""
    if isinstance(argument, np.ndarray):
        assert isinstance(gradient, np.ndarray), type(gradient)
        assert gradient.shape == argument.shape
        assert gradient.dtype == argument.dtype
    else:
        assert type(gradient) is float, type(gradient)


def _snapshot(args):
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def _assert_untouched(args, before):
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_the_corpus_is_large_enough():
    assert len(FUNCTIONS) >= 80
    assert len(CASES) >= 120


# -----------------------------------------------------------------------------
# 1. Every function, every differentiable argument, against central differences
# -----------------------------------------------------------------------------

@pytest.mark.parametrize("function, factories, wrt", CASES, ids=_ids(CASES))
def test_gradient_matches_central_differences(function, factories, wrt):
    args = [make(rng()) for make in factories]
    before = _snapshot(args)
    gradients = pullback.grad(function, wrt=wrt)(*args)
    _assert_untouched(args, before)
    assert isinstance(gradients, tuple) and len(gradients) == len(wrt)
    for index, gradient in zip(wrt, gradients):
        _check_like(gradient, args[index])
        expected = central_difference(function, args, index)
        np.testing.assert_allclose(gradient, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"d{function.__name__}/d(arg {index})")
    _assert_untouched(args, before)


@pytest.mark.parametrize("function, factories, wrt", CASES, ids=_ids(CASES))
def test_each_argument_alone(function, factories, wrt):
    """wrt=<int> gives the bare gradient of that one argument."""
    args = [make(rng()) for make in factories]
    before = _snapshot(args)
    index = wrt[-1]
    gradient = pullback.grad(function, wrt=index)(*args)
    _assert_untouched(args, before)
    _check_like(gradient, args[index])
    np.testing.assert_allclose(gradient, central_difference(function, args, index),
                               rtol=RTOL, atol=ATOL)


# -----------------------------------------------------------------------------
# 2. value_and_grad returns the function's value
# -----------------------------------------------------------------------------

@pytest.mark.parametrize("function, factories, wrt", CASES, ids=_ids(CASES))
def test_value_and_grad_returns_the_functions_value(function, factories, wrt):
    args = [make(rng()) for make in factories]
    before = _snapshot(args)
    value, gradients = pullback.value_and_grad(function, wrt=wrt)(*args)
    _assert_untouched(args, before)
    expected = function(*args)
    assert np.shape(value) == ()
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    for index, gradient in zip(wrt, gradients):
        _check_like(gradient, args[index])
        np.testing.assert_allclose(gradient, central_difference(function, args, index),
                                   rtol=RTOL, atol=ATOL)


# -----------------------------------------------------------------------------
# float32 arrays: float32 gradients, close to the float64 reference
# -----------------------------------------------------------------------------

FLOAT32_CASES = [
    (cc.rnn, [(3, 3), (3, 2), (3,), (5, 2)], (0, 1, 2, 3)),
    (cc.rows_of_matrix, [(4, 3), (3,)], (0, 1)),
    (cc.zip_two, [(4,), (4,)], (0, 1)),
    (cc.cumulative_sum_by_hand, [(5,)], (0,)),
    (cc.reversed_array, [(5,)], (0,)),
    (cc.momentum_descent, [(3,), (3,)], (0, 1)),
    (cc.branch_on_array_sum, [(4,)], (0,)),
]


@pytest.mark.parametrize("function, shapes, wrt", FLOAT32_CASES,
                         ids=[c[0].__name__ for c in FLOAT32_CASES])
def test_float32_arrays(function, shapes, wrt):
    r = np.random.default_rng(7)
    args = [r.uniform(-0.5, 0.5, size=shape).astype(np.float32) for shape in shapes]
    before = _snapshot(args)
    gradients = pullback.grad(function, wrt=wrt)(*args)
    _assert_untouched(args, before)
    for index, gradient in zip(wrt, gradients):
        assert isinstance(gradient, np.ndarray)
        assert gradient.dtype == np.float32
        assert gradient.shape == args[index].shape
        expected = central_difference(function, args, index)    # float64 reference
        np.testing.assert_allclose(gradient, expected, rtol=1e-3, atol=1e-4)


# -----------------------------------------------------------------------------
# 3. One derivative, inputs that take different branches
# -----------------------------------------------------------------------------

BRANCH_PAIRS = [
    # function, inputs per branch, hand-derived gradient for each input
    (cc.piecewise, [(-1.7,), (0.3,), (3.5,)],
     lambda x: -2.0 * x if x < -1 else (2.0 + 3.0 * x * x if x < 1 else 1.0 / x + 3.0)),
    (cc.relu_square, [(0.7,), (-0.7,)], lambda x: 2.0 * x if x > 0 else 0.1),
    (cc.chained_comparison, [(0.4,), (1.6,)],
     lambda x: 2.0 / math.sqrt(x) if 0 < x < 1 else 2.0 * x),
    (cc.conditional_expression, [(0.9,), (0.1,)],
     lambda x: 6.0 * x + 1.0 if x > 0.5 else 3.0 * math.cos(x) + 1.0),
    (cc.long_elif_chain, [(-2.5,), (-1.5,), (-0.5,), (0.5,), (1.5,)],
     lambda x: (1.0 if x < -2 else 4.0 * x if x < -1 else 3.0 * math.cos(x) if x < 0
                else 4.0 * math.exp(x) if x < 1 else 5.0 / (2.0 * math.sqrt(x)))),
    (cc.early_returns, [(2.5,), (1.5,), (0.5,), (-1.5,)],
     lambda x: (10.0 if x > 2 else 3.0 * x * x if x > 1 else
                -math.exp(x) if math.exp(x) < 0.5 else math.exp(x) * (1.0 + x))),
    (cc.halving, [(0.5,), (3.0,), (13.0,)],
     lambda x: 1.0 if x <= 1 else (0.25 if x <= 4 else 1.0 / 16.0)),
    (cc.while_else_with_break, [(0.7,), (30.0,)],
     lambda x: 128.0 if x < 1 else 1.0),
]


@pytest.mark.parametrize("function, inputs, formula", BRANCH_PAIRS,
                         ids=[c[0].__name__ for c in BRANCH_PAIRS])
def test_one_derivative_takes_every_branch(function, inputs, formula):
    df = pullback.grad(function)
    vg = pullback.value_and_grad(function)
    gradients = []
    for args in inputs:
        g = df(*args)
        assert type(g) is float
        np.testing.assert_allclose(g, central_difference(function, list(args), 0),
                                   rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(g, formula(*args), rtol=1e-9, atol=1e-12)
        value, g2 = vg(*args)
        np.testing.assert_allclose(value, function(*args), rtol=1e-12)
        np.testing.assert_allclose(g2, formula(*args), rtol=1e-9, atol=1e-12)
        gradients.append(g)
    assert len(set(np.round(gradients, 9))) == len(gradients)    # the branches differ


def test_nested_branches_all_four_ways():
    df = pullback.grad(cc.nested_branches, wrt=(0, 1))
    hand = {
        (0.6, 0.4): (0.4 + 1.0, 0.6),                                   # x*y + x
        (0.6, -0.4): (1.0 + 1.0, 0.8),                                  # x - y*y + x
        (-0.6, 0.4): (math.cos(-0.6) * 0.4 + 1.0, math.sin(-0.6)),     # sin(x)*y + x
        (-0.3, -0.9): (math.exp(-1.2) + 1.0, math.exp(-1.2)),          # exp(x+y) + x
    }
    for (x, y), expected in hand.items():
        gx, gy = df(x, y)
        np.testing.assert_allclose([gx, gy], expected, rtol=1e-12)
        for index, g in ((0, gx), (1, gy)):
            np.testing.assert_allclose(g, central_difference(cc.nested_branches, [x, y], index),
                                       rtol=RTOL, atol=ATOL)


def test_array_branch_both_ways():
    df = pullback.grad(cc.branch_on_array_sum)
    positive = np.array([0.5, -0.2, 0.4])
    negative = np.array([-0.5, -0.2, 0.4])
    np.testing.assert_allclose(df(positive), 2.0 * positive, rtol=1e-12)
    np.testing.assert_allclose(df(negative), np.exp(negative), rtol=1e-12)


def test_return_inside_loop_both_ways():
    df = pullback.grad(cc.return_inside_loop)
    found = np.array([0.1, -0.3, 0.7, 0.9])           # returns 2 * x[2] + sum(x)
    np.testing.assert_allclose(df(found), [1.0, 1.0, 3.0, 1.0], rtol=1e-12)
    not_found = np.array([0.1, -0.3, 0.2])             # returns sum(x ** 2)
    np.testing.assert_allclose(df(not_found), 2.0 * not_found, rtol=1e-12)


# -----------------------------------------------------------------------------
# 4. The generated code does not grow with the trip count
# -----------------------------------------------------------------------------

def _loop_lines(text):
    return [line for line in text.splitlines() if re.match(r"\s*(for|while)\b", line)]


def _trip_for_formula(x, n):
    return sum(math.cos(x * (i % 5 + 1)) * (i % 5 + 1) for i in range(n)) / n


def _trip_while_formula(x, n):
    growth = (1.0 + 1.0 / n) ** n
    return 2.0 * x * growth * growth


@pytest.mark.parametrize("function, formula", [(cc.trip_count_for, _trip_for_formula),
                                                (cc.trip_count_while, _trip_while_formula)],
                         ids=["for", "while"])
def test_generated_code_does_not_depend_on_trip_count(function, formula):
    df = pullback.grad(function, wrt=0)
    x = 0.37
    g10 = df(x, 10)
    text10 = pullback.source(df)
    g10000 = df(x, 10000)
    text10000 = pullback.source(df)
    assert text10 == text10000
    fresh = pullback.grad(function, wrt=0)
    fresh(x, 3)                 # the same kinds of arguments: the same derivative
    assert pullback.source(fresh) == text10
    assert len(text10.splitlines()) < 200
    assert _loop_lines(text10), text10          # the loop is still a loop
    for n, g in ((10, g10), (10000, g10000)):
        assert type(g) is float
        np.testing.assert_allclose(g, formula(x, n), rtol=1e-9)
        np.testing.assert_allclose(g, central_difference(function, [x, n], 0), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("function", [cc.rnn, cc.newton_sqrt, cc.nested_break, cc.euler_decay,
                                      cc.while_else],
                         ids=lambda f: f.__name__)
def test_loops_stay_loops_in_the_generated_code(function):
    case = next(c for c in CASES if c[0] is function)
    call_args = [make(rng()) for make in case[1]]
    df = pullback.grad(function, wrt=case[2])
    df(*call_args)
    text = pullback.source(df)
    assert _loop_lines(text), text
    assert len(text.splitlines()) < 200


# -----------------------------------------------------------------------------
# 5. Hand-derived formulas
# -----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_power_by_loop(n):
    x = 1.3
    g = pullback.grad(cc.power_loop)(x, n)
    assert type(g) is float
    np.testing.assert_allclose(g, n * x ** (n - 1) if n else 0.0, rtol=1e-12, atol=0)


@pytest.mark.parametrize("a", [0.25, 2.0, 9.0, 30.0])
def test_newton_sqrt_converges_with_its_gradient(a):
    value, g = pullback.value_and_grad(cc.newton_sqrt)(a)
    np.testing.assert_allclose(value, math.sqrt(a), rtol=1e-12)
    np.testing.assert_allclose(g, 1.0 / (2.0 * math.sqrt(a)), rtol=1e-8)


@pytest.mark.parametrize("a", [0.5, 2.0, 3.5])
def test_newton_cube_root(a):
    value, g = pullback.value_and_grad(cc.newton_cube_root)(a)
    np.testing.assert_allclose(value, a ** (1.0 / 3.0), rtol=1e-12)
    np.testing.assert_allclose(g, a ** (-2.0 / 3.0) / 3.0, rtol=1e-8)


@pytest.mark.parametrize("a", [0.5, 3.0, 10.0])
def test_newton_solve_cubic_implicit_gradient(a):
    value, g = pullback.value_and_grad(cc.newton_solve_cubic)(a)
    np.testing.assert_allclose(value ** 3 + value, a, rtol=1e-12)
    np.testing.assert_allclose(g, 1.0 / (3.0 * value * value + 1.0), rtol=1e-8)


@pytest.mark.parametrize("a", [0.3, 0.7])
def test_fixed_point_implicit_gradient(a):
    y, g = pullback.value_and_grad(cc.fixed_point_cos)(a)
    np.testing.assert_allclose(y, a * math.cos(y), rtol=1e-12)
    # y = a cos y  =>  dy/da = cos y / (1 + a sin y)
    np.testing.assert_allclose(g, math.cos(y) / (1.0 + a * math.sin(y)), rtol=1e-8)


@pytest.mark.parametrize("x", [-1.5, 0.0, 0.4, 2.0])
def test_exp_series_gradient_is_exp(x):
    value, g = pullback.value_and_grad(cc.exp_series)(x)
    np.testing.assert_allclose(value, math.exp(x), rtol=1e-13)
    np.testing.assert_allclose(g, math.exp(x), rtol=1e-12)


def test_euler_decay_closed_form():
    k, y0, n, dt = 1.3, 0.8, 50, 0.01
    gk, gy0 = pullback.grad(cc.euler_decay, wrt=(0, 1))(k, y0, n)
    np.testing.assert_allclose(gk, -n * dt * y0 * (1.0 - k * dt) ** (n - 1), rtol=1e-12)
    np.testing.assert_allclose(gy0, (1.0 - k * dt) ** n, rtol=1e-12)


def test_horner_derivatives():
    c = np.array([0.5, -1.0, 2.0, 0.25, -0.75])
    x = 0.7
    gc, gx = pullback.grad(cc.horner, wrt=(0, 1))(c, x)
    np.testing.assert_allclose(gc, x ** np.arange(5.0), rtol=1e-12)
    np.testing.assert_allclose(gx, sum(i * c[i] * x ** (i - 1) for i in range(1, 5)), rtol=1e-12)
    gx2 = pullback.grad(cc.horner_indices, wrt=1)(c, x)
    np.testing.assert_allclose(gx2, sum(i * c[i] * x ** (i - 1) for i in range(1, 5)), rtol=1e-12)
    g_global = pullback.grad(cc.horner_global_coefficients)(x)
    np.testing.assert_allclose(g_global, sum(i * cc.COEFFS[i] * x ** (i - 1) for i in range(1, 5)),
                               rtol=1e-12)


@pytest.mark.parametrize("n", [2, 5, 8])
def test_chebyshev_recurrence(n):
    x = 0.3
    theta = math.acos(x)
    g = pullback.grad(cc.chebyshev)(x, n)
    # T_n(cos t) = cos(n t)  =>  T_n'(x) = n sin(n t) / sin t
    np.testing.assert_allclose(g, n * math.sin(n * theta) / math.sin(theta), rtol=1e-10)


def test_halving_gradient_is_a_power_of_one_half():
    df = pullback.grad(cc.halving)
    for x, k in ((0.9, 0), (1.5, 1), (3.9, 2), (100.0, 7)):
        np.testing.assert_allclose(df(x), 0.5 ** k, rtol=1e-15)


def test_softmax_by_loops_formula():
    x = np.array([0.3, -0.5, 1.2, 0.1])
    w = np.array([0.2, -0.4, 0.9, 0.5])
    gx, gw = pullback.grad(cc.softmax_by_loops, wrt=(0, 1))(x, w)
    p = np.exp(x) / np.sum(np.exp(x))
    np.testing.assert_allclose(gw, p, rtol=1e-12)
    np.testing.assert_allclose(gx, p * (w - np.dot(p, w)), rtol=1e-10, atol=1e-15)


def test_logsumexp_gradient_is_softmax():
    x = np.array([0.3, -0.5, 1.2, 0.1])
    g = pullback.grad(cc.logsumexp_by_loops)(x)
    np.testing.assert_allclose(g, np.exp(x) / np.sum(np.exp(x)), rtol=1e-12)


def test_cumulative_sum_formula():
    x = np.array([0.3, -0.5, 1.2, 0.1, 0.7])
    g = pullback.grad(cc.cumulative_sum_by_hand)(x)
    c = np.cumsum(x)
    expected = 2.0 * np.cumsum(c[::-1])[::-1]      # d/dx_i sum_j c_j^2 = 2 sum_{j>=i} c_j
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_power_iteration_gradient_is_outer_of_eigenvector():
    a = np.array([[2.0, 0.3, 0.1], [0.2, 1.0, 0.4], [0.0, 0.3, 0.5]])
    value, g = pullback.value_and_grad(cc.power_iteration)(a)
    eigenvalues, eigenvectors = np.linalg.eigh(a + a.T)
    v = eigenvectors[:, -1]
    np.testing.assert_allclose(value, eigenvalues[-1], rtol=1e-12)
    # lambda(a + a^T): d lambda / d a = 2 v v^T (v the unit eigenvector)
    np.testing.assert_allclose(g, 2.0 * np.outer(v, v), rtol=1e-6, atol=1e-8)


def test_zero_trip_loops_leave_the_straight_line_gradient():
    x = 0.7
    np.testing.assert_allclose(pullback.grad(cc.zero_trip_constant_range)(x), 2.0, rtol=1e-15)
    np.testing.assert_allclose(pullback.grad(cc.zero_trip_argument)(x, 0), 2.0 * x, rtol=1e-15)
    np.testing.assert_allclose(pullback.grad(cc.zero_trip_argument)(x, 3), 5.0 * x ** 4, rtol=1e-12)
    np.testing.assert_allclose(pullback.grad(cc.while_never_runs)(x), 2.0 * x, rtol=1e-15)
    g = pullback.grad(cc.update_on_last_iteration)(x, 0)
    assert type(g) is float and g == 0.0
    np.testing.assert_allclose(pullback.grad(cc.update_on_last_iteration)(x, 4), math.exp(x),
                               rtol=1e-14)


# -----------------------------------------------------------------------------
# vjp on loops and branches: back(c) is c times the gradient
# -----------------------------------------------------------------------------

VJP_CASES = [c for c in CASES if c[0] in (cc.rnn, cc.newton_sqrt, cc.nested_break, cc.early_returns,
                                          cc.softmax_by_loops, cc.while_break, cc.zip_three)]


@pytest.mark.parametrize("function, factories, wrt", VJP_CASES, ids=_ids(VJP_CASES))
def test_vjp_scales_the_gradient(function, factories, wrt):
    args = [make(rng()) for make in factories]
    before = _snapshot(args)
    value, back = pullback.vjp(function, *args, wrt=wrt)
    np.testing.assert_allclose(value, function(*args), rtol=1e-12)
    for cotangent in (1.0, -2.5):
        gradients = back(cotangent)
        assert len(gradients) == len(wrt)
        for index, gradient in zip(wrt, gradients):
            _check_like(gradient, args[index])
            expected = cotangent * central_difference(function, args, index)
            np.testing.assert_allclose(gradient, expected, rtol=RTOL, atol=ATOL)
    _assert_untouched(args, before)
