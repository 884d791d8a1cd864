"""The examples a user would write (examples/*.py) run, report what they found,
and pass their own finite-difference check; each gradient they rely on is
checked here once more against tests/reference.py's central differences or a
formula derived by hand, never against pullback."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import pullback
from reference import central_difference

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    """examples/<name>.py as a module (the examples folder is not a package)."""
    if str(EXAMPLES) not in sys.path:           # as when run as a script: examples/timing.py
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report_lines(capsys):
    out = capsys.readouterr().out
    assert "gradient check: relative error" in out and "(passed)" in out and "FAILED" not in out
    assert "finite differences" in out and " ms" in out and "x faster" in out
    return out


def relative_error(got, expected):
    return np.linalg.norm(np.ravel(got) - np.ravel(expected)) / np.linalg.norm(expected)


# --------------------------------------------------------------------------- logistic regression

def test_logistic_regression_trains(capsys):
    example = load("logistic_regression")
    result = example.main()
    out = report_lines(capsys)
    assert "loss before training" in out and "accuracy" in out
    assert result["loss_before"] == pytest.approx(np.log(2.0))       # zero weights: p = 1/2
    assert result["loss_after"] < 0.45 and result["accuracy"] > 0.78
    assert result["gradient_error"] < 1e-6


def test_logistic_regression_gradient_is_the_hand_derived_one():
    """d(loss)/dw = X^T (sigmoid(z) - y) / n + l2 w and d(loss)/db = mean(sigmoid(z) - y),
    also where the margins are large (the stable log-sigmoid must not overflow)."""
    example = load("logistic_regression")
    X, y = example.synthetic_data(n=300, features=6, seed=3)
    rng = np.random.default_rng(4)
    for scale in (0.5, 40.0):
        w, b = scale * rng.standard_normal(6), 0.3
        dw, db = pullback.grad(example.loss, wrt=(0, 1))(w, b, X, y)
        residual = 0.5 * (1.0 + np.tanh(0.5 * (X @ w + b))) - y      # sigmoid(z) - y
        np.testing.assert_allclose(dw, X.T @ residual / len(y) + 1e-3 * w, rtol=1e-10, atol=1e-12)
        assert db == pytest.approx(np.mean(residual), rel=1e-10, abs=1e-12)
    w = 0.5 * rng.standard_normal(6)
    np.testing.assert_allclose(pullback.grad(example.loss)(w, b, X, y),
                               central_difference(example.loss, [w, b, X, y], 0), rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- neural network

def test_neural_network_trains(capsys):
    example = load("neural_network")
    result = example.main()
    out = report_lines(capsys)
    assert "W1 (2, 32)" in out and "1251 parameters" in out and "Adam" in out
    assert result["loss_after"] < 0.2 * result["loss_before"] and result["accuracy"] > 0.95
    assert result["gradient_error"] < 1e-6


def test_neural_network_gradient_dict_matches_central_differences():
    example = load("neural_network")
    X, labels = example.spirals(points_per_class=10)
    params = example.init_params([2, 5, 4, 3], np.random.default_rng(2))
    grads = pullback.grad(example.loss)(params, X, labels)
    assert set(grads) == set(params)
    for name in ("W1", "b2", "W3", "b3"):
        assert grads[name].shape == params[name].shape

        def loss_in(value, name=name):
            return example.loss({**params, name: value}, X, labels)

        expected = central_difference(loss_in, [params[name]], 0)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- ODE fit

def test_ode_fit_recovers_the_parameters(capsys):
    example = load("ode_fit")
    result = example.main()
    out = report_lines(capsys)
    if importlib.util.find_spec("scipy") is not None:
        assert "L-BFGS-B, pullback jac" in out and "L-BFGS-B, no jac" in out
        np.testing.assert_allclose(result["fitted"], example.TRUE_PARAMETERS, rtol=0.02)
        np.testing.assert_allclose(result["fitted"], result["fitted_without_jac"], rtol=1e-3)
    assert result["gradient_error"] < 1e-6


def test_ode_fit_without_scipy_takes_gradient_steps(monkeypatch, capsys):
    example = load("ode_fit")
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)          # its import now fails
    result = example.main()
    out = report_lines(capsys)
    assert "SciPy is not installed" in out and "L-BFGS-B" not in out
    initial_state, observed = result["data"]
    assert (example.loss(result["fitted"], initial_state, observed)
            < 0.2 * example.loss(example.START, initial_state, observed))


def test_ode_loss_gradient_matches_central_differences():
    example = load("ode_fit")
    initial_state, observed = example.observations(samples=11)
    for theta in (example.START, example.TRUE_PARAMETERS * 1.1):
        got = pullback.grad(example.loss)(theta, initial_state, observed)
        expected = central_difference(example.loss, [theta, initial_state, observed], 0)
        assert relative_error(got, expected) < 1e-6


# --------------------------------------------------------------------------- projectile

def test_projectile_hits_the_target(capsys):
    example = load("projectile")
    result = example.main()
    out = report_lines(capsys)
    assert "Newton's method with pullback.jacobian" in out
    distance, time_of_flight = example.flight(*result["launch"])
    assert distance == pytest.approx(example.TARGET_DISTANCE, abs=1e-6)
    assert time_of_flight == pytest.approx(example.TARGET_TIME, abs=1e-6)
    assert result["iterations"] < 10 and result["gradient_error"] < 1e-6


def test_projectile_derivatives_through_the_loop_match_central_differences():
    example = load("projectile")
    launch = np.array([np.radians(50.0), 25.0])
    got = pullback.grad(example.squared_miss)(launch)
    expected = central_difference(example.squared_miss, [launch], 0)
    assert relative_error(got, expected) < 1e-6
    jacobian = pullback.jacobian(example.miss)(launch)
    for row in range(2):
        cotangent = np.eye(2)[row]
        expected = central_difference(example.miss, [launch], 0, cotangent=cotangent)
        assert relative_error(jacobian[row], expected) < 1e-6


# --------------------------------------------------------------------------- sensitivity analysis

def test_sensitivity_table(capsys):
    example = load("sensitivity")
    result = example.main()
    out = report_lines(capsys)
    assert "d(reading)/d(input)" in out and "elasticity" in out
    for name in ("conductivity[7]", "heater_power", "right_temperature", "initial_temperature"):
        assert name in out
    assert result["gradient_error"] < 1e-6


def test_sensitivities_match_the_linear_model_and_central_differences():
    """The heat equation is linear in the heater's power and the temperatures:
    shifting every temperature by t shifts the reading by t (their derivatives sum
    to 1), and the reading is affine in the power. The conductivities are checked
    against central differences."""
    example = load("sensitivity")
    params = example.inputs()
    gradient = pullback.grad(example.sensor_reading)(params, cells=16, duration=0.02)

    def reading(**changes):
        return example.sensor_reading({**params, **changes}, cells=16, duration=0.02)

    temperatures = ("left_temperature", "right_temperature", "initial_temperature")
    assert sum(gradient[name] for name in temperatures) == pytest.approx(1.0, rel=1e-10)
    slope = (reading() - reading(heater_power=0.0)) / params["heater_power"]
    assert gradient["heater_power"] == pytest.approx(slope, rel=1e-8)
    for name in temperatures:
        slope = reading(**{name: params[name] + 1.0}) - reading()
        assert gradient[name] == pytest.approx(slope, rel=1e-8, abs=1e-12)
    expected = central_difference(lambda k: reading(conductivity=k), [params["conductivity"]], 0)
    assert relative_error(gradient["conductivity"], expected) < 1e-6
