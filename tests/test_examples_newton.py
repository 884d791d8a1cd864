"""examples/newton.py runs and its three minimizers converge."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "newton.py"


@pytest.fixture(scope="module")
def newton():
    spec = importlib.util.spec_from_file_location("newton_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_converges(newton, capsys):
    results = newton.main()
    out = capsys.readouterr().out
    assert "Newton (pullback.hessian)" in out and "trust-region CG" in out
    assert np.allclose(results["Rosenbrock, 6 variables", "newton"], 1.0, atol=1e-8)
    assert np.allclose(results["Rosenbrock, 6 variables", "trust-region"], 1.0, atol=1e-8)
    weights = [results["logistic regression, 10 weights", method] for method in ("newton", "trust-region")]
    np.testing.assert_allclose(weights[0], weights[1], atol=1e-8)
    if ("logistic regression, 10 weights", "scipy") in results:
        np.testing.assert_allclose(results["logistic regression, 10 weights", "scipy"], weights[0], atol=1e-7)


def test_logistic_minimum_is_stationary(newton):
    """The weights found zero the gradient derived by hand (not by pullback)."""
    (_, _, _, _), (_, f, start, (X, y)) = newton.problems()
    w, _ = newton.newton(f, start, (X, y))
    margins = y * (X @ w)
    gradient = -(X.T @ (y / (1.0 + np.exp(margins)))) / len(y) + 0.05 * w
    assert np.linalg.norm(gradient) < 1e-8


def test_steihaug_cg_solves_a_positive_definite_model(newton):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5))
    H = A @ A.T + 5 * np.eye(5)
    g = rng.standard_normal(5)
    step = newton.steihaug_cg(g, lambda v: H @ v, radius=1e6, tolerance=1e-12)
    np.testing.assert_allclose(step, -np.linalg.solve(H, g), rtol=1e-8)
    short = newton.steihaug_cg(g, lambda v: H @ v, radius=1e-3, tolerance=1e-12)
    assert np.linalg.norm(short) == pytest.approx(1e-3)


def test_without_scipy_the_comparison_is_skipped(newton, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)      # its import now fails
    assert newton.scipy_trust_ncg(newton.rosenbrock, np.zeros(3)) is None
    results = newton.main()
    assert "SciPy is not installed" in capsys.readouterr().out
    assert not any(method == "scipy" for _, method in results)
