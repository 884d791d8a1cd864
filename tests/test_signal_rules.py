"""templates/signal.py beyond the generated rule tests: programs combining the
rules, derivatives written out by hand, and the refusals (complex input,
np.interp's period, np.gradient's coordinates differentiated).

References are central differences in float64 (tests/reference.py) or formulas
computed directly with NumPy, never pullback.
"""
import numpy as np
import pytest

import pullback
from pullback.runtime import NotDifferentiable
from reference import central_difference, directional_difference, import_module_from_text

SOURCE = '''
import numpy as np


def arc_energy(y, x):
    """Bending and length of a sampled curve: differences, then an integral."""
    slope = np.diff(y) / np.diff(x)
    curvature = np.diff(slope, prepend=0.0)
    return np.trapezoid(curvature ** 2 + np.sqrt(1.0 + slope ** 2), x[1:])


def smoothed_fit(signal, kernel, knots, values):
    """Convolve, resample with np.interp, compare with a polynomial."""
    smooth = np.convolve(signal, kernel, mode="same")
    grid = np.linspace(-1.0, 1.0, smooth.size)
    resampled = np.interp(grid, knots, values) * smooth
    return np.sum((resampled - np.polyval(values[:3], grid)) ** 2)


def correlation_loss(data, other):
    c = np.corrcoef(data, other)
    return np.sum(np.cov(data, other, ddof=0) * c) + np.sum(np.gradient(data, 0.5, axis=1) ** 2)


def interp_periodic(x, xp, fp):
    return np.sum(np.interp(x, xp, fp, period=2.0))


def gradient_on_grid(f, coordinates):
    return np.sum(np.gradient(f, coordinates) ** 2)


def angle_of(z):
    return np.sum(np.angle(z) * np.abs(z))


def angle_of_rotated(x, rotation):
    return np.sum(np.angle(x * rotation))
'''


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    return import_module_from_text(SOURCE, tmp_path_factory.mktemp("signal_programs"),
                                   filename="signal_programs.py", prefix="signal_programs")


def _check(function, args, wrt):
    gradients = pullback.grad(function, wrt=wrt)(*args)
    gradients = gradients if isinstance(wrt, tuple) else (gradients,)
    for i, gradient in zip(wrt if isinstance(wrt, tuple) else (wrt,), gradients):
        np.testing.assert_allclose(gradient, central_difference(function, args, i),
                                   rtol=1e-6, atol=1e-7, err_msg=f"argument {i}")


def test_differences_and_an_integral(programs):
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.uniform(0.3, 1.0, 8))
    y = rng.standard_normal(8)
    _check(programs.arc_energy, [y, x], (0, 1))


def test_convolution_interpolation_and_a_polynomial(programs):
    rng = np.random.default_rng(2)
    args = [rng.standard_normal(9), rng.standard_normal(4), np.array([-1.3, -0.45, 0.35, 1.2]),
            rng.standard_normal(4)]
    _check(programs.smoothed_fit, args, (0, 1, 2, 3))


def test_covariance_correlation_and_gradient(programs):
    rng = np.random.default_rng(3)
    _check(programs.correlation_loss, [rng.standard_normal((2, 7)), rng.standard_normal(7)], (0, 1))


def test_jvp_of_a_program(programs):
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.uniform(0.3, 1.0, 8))
    args = [rng.standard_normal(8), x]
    tangents = [rng.standard_normal(8), rng.standard_normal(8)]
    _, tangent = pullback.jvp(programs.arc_energy, tuple(args), tuple(tangents))
    np.testing.assert_allclose(tangent, directional_difference(programs.arc_energy, args, tangents),
                               rtol=1e-6, atol=1e-7)


# -- by hand --------------------------------------------------------------------------------

def test_diff_gradient_is_minus_the_difference_of_the_padded_cotangent(tmp_path):
    module = import_module_from_text("import numpy as np\n\ndef f(a, c):\n"
                                     "    return np.sum(np.diff(a) * c)\n", tmp_path,
                                     filename="hand_diff.py", prefix="hand_diff")
    a, c = np.arange(5.0) ** 2, np.array([1.0, -2.0, 0.5, 3.0])
    # d/da_i sum_k (a_{k+1} - a_k) c_k = c_{i-1} - c_i
    np.testing.assert_allclose(pullback.grad(module.f)(a, c), [-1.0, 3.0, -2.5, -2.5, 3.0],
                               rtol=0, atol=1e-15)


def test_interp_weights_by_hand(tmp_path):
    module = import_module_from_text("import numpy as np\n\ndef f(x, xp, fp):\n"
                                     "    return np.interp(x, xp, fp)\n", tmp_path,
                                     filename="hand_interp.py", prefix="hand_interp")
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([2.0, 4.0, 0.0])
    dx, dxp, dfp = pullback.grad(module.f, wrt=(0, 1, 2))(2.5, xp, fp)
    # on [1, 3] at t = 3/4: y = fp1 + (fp2 - fp1) (x - xp1) / (xp2 - xp1), slope -2
    assert dx == pytest.approx(-2.0)
    np.testing.assert_allclose(dfp, [0.0, 0.25, 0.75], atol=1e-15)
    np.testing.assert_allclose(dxp, [0.0, 2.0 * 0.25, 2.0 * 0.75], atol=1e-15)


def test_polyval_gradient_in_the_coefficients_is_the_powers(tmp_path):
    module = import_module_from_text("import numpy as np\n\ndef f(p, x):\n"
                                     "    return np.sum(np.polyval(p, x))\n", tmp_path,
                                     filename="hand_polyval.py", prefix="hand_polyval")
    p, x = np.array([2.0, -1.0, 0.5]), np.array([1.5, -2.0])
    dp, dx = pullback.grad(module.f, wrt=(0, 1))(p, x)
    np.testing.assert_allclose(dp, [np.sum(x ** 2), np.sum(x), 2.0], rtol=1e-15)
    np.testing.assert_allclose(dx, 4.0 * x - 1.0, rtol=1e-15)


# -- refusals -------------------------------------------------------------------------------

def test_angle_of_complex_input_is_refused(programs):
    x, rotation = np.array([1.0, -2.0]), np.array([1.0 + 1.0j, 0.5j])
    with pytest.raises(NotDifferentiable, match="np.angle of real input only"):
        pullback.grad(programs.angle_of_rotated)(x, rotation)


def test_angle_of_real_input_has_a_zero_derivative(programs):
    x = np.array([1.5, -0.5, 2.0])
    np.testing.assert_allclose(pullback.grad(programs.angle_of)(x), np.angle(x) * np.sign(x),
                               atol=1e-15)


def test_interp_with_a_period_is_refused(programs):
    with pytest.raises(NotDifferentiable, match="period"):
        pullback.grad(programs.interp_periodic, wrt=(0, 2))(
            np.array([0.3, 1.7]), np.array([0.0, 0.5, 1.5]), np.array([1.0, 2.0, 0.0]))


def test_gradient_with_respect_to_coordinates_is_refused(programs):
    f, coordinates = np.sin(np.arange(5.0)), np.array([0.0, 0.4, 1.1, 1.5, 2.3])
    with pytest.raises(NotDifferentiable, match="coordinate"):
        pullback.grad(programs.gradient_on_grid, wrt=1)(f, coordinates)
    gradient = pullback.grad(programs.gradient_on_grid, wrt=0)(f, coordinates)
    np.testing.assert_allclose(gradient, central_difference(programs.gradient_on_grid,
                                                            [f, coordinates], 0),
                               rtol=1e-6, atol=1e-7)
