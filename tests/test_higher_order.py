"""Hessians, Hessian-vector products and derivatives of any order, against
hand-derived formulas (quadratic forms, Rosenbrock, log-sum-exp, a small MLP
loss, polynomials and trigonometry) or high-order central differences of the
function itself, never pullback's own lower-order derivatives."""
import math

import numpy as np
import pytest

import pullback
from reference import directional_difference

RNG = np.random.default_rng(13)


# -- analytic Hessians -------------------------------------------------------------------

A = RNG.standard_normal((4, 4))


def quadratic(x):
    return x @ A @ x + np.sum(x)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        h[i + 1, i + 1] += 200.0
        h[i, i + 1] = h[i + 1, i] = -400.0 * x[i]
    return h


def log_sum_exp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def log_sum_exp_hessian(x):
    p = np.exp(x - np.max(x))
    p /= p.sum()
    return np.diag(p) - np.outer(p, p)


W1 = RNG.standard_normal((5, 3))
W2 = RNG.standard_normal((2, 5))
Y = RNG.standard_normal(2)


def mlp_loss(x):
    h = np.tanh(W1 @ x)
    r = W2 @ h - Y
    return np.sum(r * r)


def mlp_hessian(x):
    a = W1 @ x
    h = np.tanh(a)
    s = 1.0 - h * h                     # tanh'
    r = W2 @ h - Y
    back = 2.0 * (W2.T @ r)             # dL/dh
    inner = 2.0 * np.outer(s, s) * (W2.T @ W2) + np.diag(back * (-2.0 * h * s))
    return W1.T @ inner @ W1


HESSIANS = [
    (quadratic, lambda x: A + A.T, RNG.standard_normal(4)),
    (rosenbrock, rosenbrock_hessian, np.array([1.3, 0.7, -0.4, 0.9, 1.1])),
    (log_sum_exp, log_sum_exp_hessian, RNG.standard_normal(6)),
    (mlp_loss, mlp_hessian, RNG.standard_normal(3)),
]


@pytest.mark.parametrize("f, formula, x", HESSIANS, ids=[h[0].__name__ for h in HESSIANS])
def test_hessian_matches_the_formula(f, formula, x):
    before = x.copy()
    H = pullback.hessian(f)(x)
    np.testing.assert_array_equal(x, before)
    assert H.shape == x.shape + x.shape and H.dtype == np.float64
    np.testing.assert_allclose(H, formula(x), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("f, formula, x", HESSIANS, ids=[h[0].__name__ for h in HESSIANS])
def test_hvp_matches_the_formula(f, formula, x):
    v = RNG.standard_normal(x.shape)
    np.testing.assert_allclose(pullback.hvp(f, (x,), (v,)), formula(x) @ v, rtol=1e-10, atol=1e-10)


def test_hessian_keeps_float32():
    x = np.array([1.3, 0.7, -0.4], dtype=np.float32)
    H = pullback.hessian(rosenbrock)(x)
    assert H.dtype == np.float32
    np.testing.assert_allclose(H, rosenbrock_hessian(x.astype(np.float64)), rtol=1e-5)


def test_hvp_of_two_arguments():
    def f(x, y):
        return np.sum(x * x * y) + np.sum(y ** 3)
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    u, v = RNG.standard_normal(3), RNG.standard_normal(3)
    hx, hy = pullback.hvp(f, (x, y), (u, v))
    # d2f/dx2 = 2y, d2f/dxdy = 2x, d2f/dy2 = 6y (diagonal)
    np.testing.assert_allclose(hx, 2 * y * u + 2 * x * v, rtol=1e-12)
    np.testing.assert_allclose(hy, 2 * x * u + 6 * y * v, rtol=1e-12)
    only = pullback.hvp(f, (x, y), (None, v))       # x held constant
    np.testing.assert_allclose(only, 6 * y * v, rtol=1e-12)


# -- any order -----------------------------------------------------------------------------

def trig_poly(x):
    return math.sin(x) * x ** 3


def trig_poly_derivatives(x):
    """f, f', f'', f''' of sin(x) x^3, by hand."""
    s, c = math.sin(x), math.cos(x)
    return (s * x ** 3,
            c * x ** 3 + 3 * s * x ** 2,
            -s * x ** 3 + 6 * c * x ** 2 + 6 * s * x,
            -c * x ** 3 - 9 * s * x ** 2 + 18 * c * x + 6 * s)


def looped(x):
    s = 0.0
    for i in range(4):
        s = s * x + math.sin(s + x) + i
    return s


def third_difference(f, x, h=2e-3):
    """f''' by the five-point central stencil (error O(h^2))."""
    return (f(x + 2 * h) - 2 * f(x + h) + 2 * f(x - h) - f(x - 2 * h)) / (2 * h ** 3)


def second_difference(f, x, h=1e-4):
    return (f(x + h) - 2 * f(x) + f(x - h)) / (h * h)


@pytest.mark.parametrize("x", [0.4, 1.3, -0.8])
def test_third_order_of_straight_line_code(x):
    _, d1, d2, d3 = trig_poly_derivatives(x)
    g = pullback.grad(trig_poly)
    gg = pullback.grad(g)
    ggg = pullback.grad(gg)
    assert math.isclose(g(x), d1, rel_tol=1e-12)
    assert math.isclose(gg(x), d2, rel_tol=1e-12)
    assert math.isclose(ggg(x), d3, rel_tol=1e-12, abs_tol=1e-12)
    # forward over reverse, and forward over forward over reverse
    assert math.isclose(pullback.jvp(g, (x,), (1.0,))[1], d2, rel_tol=1e-12)
    assert math.isclose(pullback.jvp(gg, (x,), (1.0,))[1], d3, rel_tol=1e-12, abs_tol=1e-12)
    jf = pullback.jvp(trig_poly, wrt=0)
    assert math.isclose(jf(x, 1.0)[1], d1, rel_tol=1e-12)
    _, (value_tangent, tangent_tangent) = pullback.jvp(jf, (x, 1.0), (1.0, None))
    assert math.isclose(value_tangent, d1, rel_tol=1e-12)         # (f, f' . 1) moved along x
    assert math.isclose(tangent_tangent, d2, rel_tol=1e-12)


@pytest.mark.parametrize("x", [0.3, -0.6])
def test_third_order_of_looped_code(x):
    gg = pullback.grad(pullback.grad(looped))
    assert math.isclose(gg(x), second_difference(looped, x), rel_tol=1e-5)
    ggg = pullback.grad(gg)
    assert math.isclose(ggg(x), third_difference(looped, x), rel_tol=1e-4)
    forward = pullback.jvp(gg, (x,), (1.0,))[1]
    assert math.isclose(forward, ggg(x), rel_tol=1e-10)


def helper_loss(w):
    return np.sum(np.tanh(w) ** 2)


dhelper = pullback.grad(helper_loss)


def uses_a_gradient(w):
    g = dhelper(w)
    return np.sum(g * g)


def test_grad_of_a_function_calling_a_gradient():
    w = RNG.standard_normal(4)
    got = pullback.grad(uses_a_gradient)(w)
    t = RNG.standard_normal(4)
    expected = directional_difference(uses_a_gradient, [w], [t])
    np.testing.assert_allclose(got @ t, expected, rtol=1e-6)


def test_grad_of_a_jvp():
    def f(x, y):
        return np.sin(x) * y ** 2
    jf = pullback.jvp(f, wrt=0)

    def slope(x):
        return jf(x, 2.0, 1.0)[1]
    assert math.isclose(pullback.grad(slope)(0.3), -4.0 * math.sin(0.3), rel_tol=1e-12)


# -- the guarantees of reverse mode hold --------------------------------------------------

def test_jvp_refusal_names_the_line():
    def f(x):
        y = np.fft.fft(x)
        return np.sum(np.abs(y))
    with pytest.raises(pullback.PullbackError) as info:
        pullback.jvp(f, (np.ones(3),), (np.ones(3),))
    assert "test_higher_order.py" in str(info.value)


def filled(x):
    """A helper that writes into part of an array it made."""
    a = np.zeros(3)
    a[0] = x[0] * x[1]
    a[1:] = np.sin(x[1:])
    return a


def through_filled(x):
    return np.sum(filled(x) ** 2)


def filled_inline(x):
    a = np.zeros(3)
    a[0] = x[0] * x[1]
    a[1:] = np.sin(x[1:])
    return np.sum(a ** 2)


def test_second_order_through_a_called_function_writing_into_an_array_is_refused_by_name():
    """The writes inline are differentiated twice (against the Hessian by hand);
    through a call, the refusal names the user's function and what is missing,
    not the argument (it once said x was "a list of lists")."""
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3, -0.2])
    # sum a^2 with a = (x0 x1, sin x1, sin x2)
    p = x[0] * x[1]
    hessian = np.array([[2 * x[1] ** 2, 4 * p, 0.0],
                        [4 * p, 2 * x[0] ** 2 + 2 * np.cos(2 * x[1]), 0.0],
                        [0.0, 0.0, 2 * np.cos(2 * x[2])]])
    np.testing.assert_allclose(pullback.hvp(filled_inline, (x,), (v,)), hessian @ v, rtol=1e-12)
    for second_order in (lambda: pullback.hvp(through_filled, (x,), (v,)),
                         lambda: pullback.hessian(through_filled)(x)):
        with pytest.raises(pullback.UnsupportedSyntax) as info:
            second_order()
        message = str(info.value)
        assert "filled_backward, the backward sweep of your function filled" in message, message
        assert "list of lists" not in message


def test_jvp_keeps_float32_and_the_callers_arrays():
    def f(x):
        return np.tanh(x) * 2.0
    x = np.array([0.1, 0.2], dtype=np.float32)
    t = np.array([1.0, -1.0], dtype=np.float32)
    before = (x.copy(), t.copy())
    value, tangent = pullback.jvp(f, (x,), (t,))
    assert tangent.dtype == np.float32 and value.dtype == np.float32
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(t, before[1])
    batch = np.stack([t, 2 * t])
    _, tangents = pullback.jvp(f, (x,), (batch,))
    assert tangents.shape == (2, 2) and tangents.dtype == np.float32


def test_jvp_is_cached():
    from pullback.backend.cache import memory_get

    def f(x):
        return np.sin(x) * x
    pullback.jvp(f, (np.ones(2),), (np.ones(2),))
    # the key names the arrays' kinds: position 0, one axis not of length 1, float64
    key = ("jvp", (0,), (), (), (), ((0, "n", "float64"),))
    compiled = memory_get(f, key)
    assert compiled is not None
    pullback.jvp(f, (np.ones(5),), (np.ones(5),))      # another length: the same one
    assert memory_get(f, key) is compiled
    pullback.jvp(f, (np.ones((2, 3)),), (np.ones((2, 3)),))   # another rank: its own
    assert memory_get(f, key[:-1] + (((0, "nn", "float64"),),)) is not None


def test_jvp_checks_tangent_shapes():
    def f(x):
        return x * 2.0
    with pytest.raises(pullback.InvalidArgument, match="shape"):
        pullback.jvp(f, (np.ones(3),), (np.ones(4),))
    with pytest.raises(pullback.InvalidArgument, match="one tangent per primal"):
        pullback.jvp(f, (np.ones(3),), ())


def test_jacobian_chooses_the_mode():
    def wide(x):                        # 2 inputs, 5 outputs: forward
        return np.outer(np.arange(5.0), x).sum(axis=1) * x[0]

    x = np.array([0.5, -1.5])
    forward = pullback.jacobian(wide, mode="forward")(x)
    reverse = pullback.jacobian(wide, mode="reverse")(x)
    auto = pullback.jacobian(wide)(x)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12)
    np.testing.assert_allclose(auto, reverse, rtol=1e-12)
    assert auto.shape == (5, 2)
    for j in range(2):
        e = np.zeros(2)
        e[j] = 1.0
        np.testing.assert_allclose(forward[:, j], directional_difference(wide, [x], [e]), rtol=1e-6)
    with pytest.raises(pullback.InvalidArgument, match="mode"):
        pullback.jacobian(wide, mode="sideways")
