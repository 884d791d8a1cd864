"""Fitting the parameters of an ODE to noisy observations, through an RK4 loop.

Run with `.venv/bin/python examples/ode_fit.py`. The Lotka-Volterra
predator-prey equations

    prey'     = alpha * prey - beta * prey * predator
    predator' = delta * prey * predator - gamma * predator

are integrated with a hand-written fourth-order Runge-Kutta loop in NumPy.
The loss is the squared distance between the simulated populations and noisy
observations; pullback differentiates it through the whole loop with respect
to (alpha, beta, delta, gamma). ``scipy.optimize.minimize(method="L-BFGS-B")``
fits the four parameters with pullback's gradient as ``jac``, and again
without it (SciPy then estimates the gradient by finite differences), for
comparison. Without SciPy the script says so and takes a few gradient steps
written by hand instead.
"""
import time

import numpy as np

import pullback
from timing import best_time, check_line, speed_up

TRUE_PARAMETERS = np.array([1.0, 0.1, 0.075, 1.5])     # alpha, beta, delta, gamma
START = np.array([0.7, 0.07, 0.1, 1.2])                  # the initial guess
BOUNDS = [(0.01, 5.0)] * 4


# --------------------------------------------------------------------------- the model

def lotka_volterra(state, theta):
    """The time derivative of (prey, predator)."""
    alpha, beta, delta, gamma = theta
    prey, predator = state
    return np.array([alpha * prey - beta * prey * predator,
                     delta * prey * predator - gamma * predator])


def simulate(theta, state, dt, steps):
    """RK4 from ``state``: the states at times 0, dt, ..., steps * dt, one per row."""
    trajectory = [state]
    for _ in range(steps):
        k1 = lotka_volterra(state, theta)
        k2 = lotka_volterra(state + 0.5 * dt * k1, theta)
        k3 = lotka_volterra(state + 0.5 * dt * k2, theta)
        k4 = lotka_volterra(state + dt * k3, theta)
        state = state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        trajectory.append(state)
    return np.stack(trajectory)


def loss(theta, initial_state, observed, dt=0.1, every=5):
    """Sum of squared differences between the simulation, sampled every
    ``every`` steps, and the observations."""
    steps = (len(observed) - 1) * every
    simulated = simulate(theta, initial_state, dt, steps)[::every]
    return np.sum((simulated - observed) ** 2)


def observations(seed=0, samples=31, noise=0.05):
    """The true trajectory every 0.5 time units, with 5% multiplicative noise."""
    rng = np.random.default_rng(seed)
    initial_state = np.array([10.0, 5.0])
    exact = simulate(TRUE_PARAMETERS, initial_state, 0.1, (samples - 1) * 5)[::5]
    return initial_state, exact * (1.0 + noise * rng.standard_normal(exact.shape))


# --------------------------------------------------------------------------- fitting

def fit_with_scipy(initial_state, observed, use_gradient=True):
    """L-BFGS-B with pullback's gradient (or SciPy's finite differences):
    (result, seconds), or None when SciPy is not installed."""
    try:
        from scipy.optimize import minimize
    except ImportError:
        return None
    if use_gradient:
        # value_and_grad returns (loss, gradient): jac=True tells SciPy so
        function, jac = pullback.value_and_grad(loss), True
        function(START, initial_state, observed)      # generate the code before timing
    else:
        function, jac = loss, None
    start = time.perf_counter()
    result = minimize(function, START, args=(initial_state, observed), method="L-BFGS-B",
                      jac=jac, bounds=BOUNDS)
    return result, time.perf_counter() - start


def fit_by_gradient_descent(initial_state, observed, steps=40):
    """Gradient descent with a backtracking line search (the fallback without SciPy)."""
    dloss = pullback.grad(loss)
    theta, rate = START.copy(), 1e-4
    value = loss(theta, initial_state, observed)
    for _ in range(steps):
        g = dloss(theta, initial_state, observed)
        while rate > 1e-12:
            candidate = np.clip(theta - rate * g, 0.01, 5.0)
            new_value = loss(candidate, initial_state, observed)
            if new_value < value:
                theta, value, rate = candidate, new_value, rate * 2.0
                break
            rate *= 0.5
    return theta


# --------------------------------------------------------------------------- finite differences, for comparison

def finite_difference_gradient(theta, initial_state, observed, eps=1e-6):
    """Central differences of the loss: 2 * len(theta) simulations."""
    gradient = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps * max(1.0, abs(theta[i]))
        up = loss(theta + step, initial_state, observed)
        down = loss(theta - step, initial_state, observed)
        gradient[i] = (up - down) / (2 * step[i])
    return gradient


def compare_with_finite_differences(theta, initial_state, observed):
    """pullback's gradient against central differences: (relative error, pullback s, fd s)."""
    dloss = pullback.grad(loss)
    ours = dloss(theta, initial_state, observed)
    theirs = finite_difference_gradient(theta, initial_state, observed)
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    pullback_time = best_time(lambda: dloss(theta, initial_state, observed))
    fd_time = best_time(lambda: finite_difference_gradient(theta, initial_state, observed))
    return error, pullback_time, fd_time


# --------------------------------------------------------------------------- the demo

def show(label, theta, initial_state, observed):
    values = ", ".join(f"{name} {value:.4f}" for name, value in zip(("alpha", "beta", "delta", "gamma"), theta))
    print(f"{label:<26} {values}   loss {loss(theta, initial_state, observed):.2f}")


def main():
    initial_state, observed = observations()
    print(f"Lotka-Volterra: {len(observed)} noisy observations of (prey, predator), "
          f"RK4 with {(len(observed) - 1) * 5} steps")
    show("true parameters:", TRUE_PARAMETERS, initial_state, observed)
    show("initial guess:", START, initial_state, observed)
    results = {}
    with_gradient = fit_with_scipy(initial_state, observed, use_gradient=True)
    if with_gradient is None:
        print("SciPy is not installed: 40 steps of gradient descent with pullback's gradient instead.")
        results["fitted"] = fit_by_gradient_descent(initial_state, observed)
        show("gradient descent:", results["fitted"], initial_state, observed)
    else:
        (fit, seconds), (fd_fit, fd_seconds) = with_gradient, fit_with_scipy(initial_state, observed, False)
        results["fitted"], results["fitted_without_jac"] = fit.x, fd_fit.x
        show("L-BFGS-B, pullback jac:", fit.x, initial_state, observed)
        print(f"{'':<26} {fit.nit} iterations, {fit.nfev} loss+gradient evaluations, {seconds:.2f} s")
        show("L-BFGS-B, no jac:", fd_fit.x, initial_state, observed)
        print(f"{'':<26} {fd_fit.nit} iterations, {fd_fit.nfev} loss evaluations "
              f"(finite differences), {fd_seconds:.2f} s")

    error, pullback_time, fd_time = compare_with_finite_differences(START, initial_state, observed)
    results["gradient_error"] = error
    print(check_line(error))
    print(f"one gradient: pullback {pullback_time * 1e3:.1f} ms, finite differences "
          f"{fd_time * 1e3:.1f} ms ({2 * START.size} simulations): {speed_up(pullback_time, fd_time)}")
    print("(finite differences cost two simulations per parameter; with only four parameters\n"
          " they are cheap, while the reverse sweep's cost does not grow with their number)")
    results["data"] = (initial_state, observed)
    return results


if __name__ == "__main__":
    main()
