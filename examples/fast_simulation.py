"""Fitting an ODE model with a gradient compiled by Numba (compile="numba").

Run with `.venv/bin/python examples/fast_simulation.py` (it needs Numba:
`pip install "pullback[numba]"`). The Lotka-Volterra predator-prey equations

    x' = a * x - b * x * y        (prey)
    y' = c * x * y - d * y        (predators)

are integrated with fourth-order Runge-Kutta steps written as a plain Python
loop over floats, the way one writes a simulation before thinking of speed.
The loss is the squared distance between the simulated populations and
noisy observations. ``pullback.value_and_grad(loss, compile="numba")``
differentiates it through the whole loop and has Numba compile the
derivative, so each gradient runs as machine code; the plain derivative (the
same generated Python, interpreted) is timed beside it.
``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` fits the four
parameters; without SciPy, gradient descent with a backtracking line search
does. docs/compiling.md says what Numba accepts and how the cache works.
"""
import time

import numpy as np

import pullback
from timing import check_line

TRUE_PARAMETERS = np.array([1.0, 0.1, 0.075, 1.5])      # a, b, c, d
START = np.array([0.8, 0.08, 0.09, 1.3])                  # the initial guess
BOUNDS = [(0.01, 5.0)] * 4
PREY, PREDATORS = 10.0, 5.0                               # the populations at time 0
DT, EVERY = 0.025, 20                                     # an observation every 0.5 time units
CALLS = 300                                               # gradient calls timed of each kind


# --------------------------------------------------------------------------- the model

def loss(p, observed, x, y, dt, every):
    """Sum of squared differences between the populations, from (x, y) at time 0,
    and ``observed`` (one row per observation, ``every`` RK4 steps apart)."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    total = 0.0
    for k in range(len(observed)):
        total = total + (x - observed[k, 0]) ** 2 + (y - observed[k, 1]) ** 2
        for step in range(every):
            # one fourth-order Runge-Kutta step, written out
            k1x = a * x - b * x * y
            k1y = c * x * y - d * y
            x2, y2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y
            k2x = a * x2 - b * x2 * y2
            k2y = c * x2 * y2 - d * y2
            x3, y3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y
            k3x = a * x3 - b * x3 * y3
            k3y = c * x3 * y3 - d * y3
            x4, y4 = x + dt * k3x, y + dt * k3y
            k4x = a * x4 - b * x4 * y4
            k4y = c * x4 * y4 - d * y4
            x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    return total


def rk4_step(x, y, a, b, c, d, dt):
    """The populations ``dt`` later (the step of ``loss``, for the observations)."""
    def rates(x, y):
        return a * x - b * x * y, c * x * y - d * y
    k1x, k1y = rates(x, y)
    k2x, k2y = rates(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y)
    k3x, k3y = rates(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y)
    k4x, k4y = rates(x + dt * k3x, y + dt * k3y)
    return (x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
            y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y))


def observations(seed=0, samples=31, noise=0.05):
    """The exact populations every ``EVERY`` steps, with 5% multiplicative noise."""
    a, b, c, d = TRUE_PARAMETERS
    x, y, rows = PREY, PREDATORS, []
    for _ in range(samples):
        rows.append((x, y))
        for _ in range(EVERY):
            x, y = rk4_step(x, y, a, b, c, d, DT)
    exact = np.array(rows)
    rng = np.random.default_rng(seed)
    return exact * (1.0 + noise * rng.standard_normal(exact.shape))


# --------------------------------------------------------------------------- fitting

def fit(value_and_gradient, observed):
    """The fitted parameters, and how: L-BFGS-B with SciPy, else gradient descent."""
    arguments = (observed, PREY, PREDATORS, DT, EVERY)
    try:
        from scipy.optimize import minimize
    except ImportError:
        return descend(value_and_gradient, arguments), "gradient descent (SciPy is not installed)"
    # value_and_grad returns (loss, gradient): jac=True tells SciPy so
    result = minimize(value_and_gradient, START, args=arguments, method="L-BFGS-B",
                      jac=True, bounds=BOUNDS)
    return result.x, f"L-BFGS-B, {result.nit} iterations, {result.nfev} gradients"


def descend(value_and_gradient, arguments, steps=300):
    """Gradient descent with a backtracking line search (the fallback without SciPy)."""
    p, rate = START.copy(), 1e-5
    value, gradient = value_and_gradient(p, *arguments)
    for _ in range(steps):
        while rate > 1e-14:
            candidate = np.clip(p - rate * gradient, 0.01, 5.0)
            new_value, new_gradient = value_and_gradient(candidate, *arguments)
            if new_value < value:
                p, value, gradient, rate = candidate, new_value, new_gradient, rate * 2.0
                break
            rate *= 0.5
    return p


# --------------------------------------------------------------------------- checking and timing

def central_difference_gradient(p, observed, eps=1e-6):
    """The loss's gradient by central differences: 2 * len(p) simulations."""
    gradient = np.empty_like(p)
    for i in range(p.size):
        step = np.zeros_like(p)
        step[i] = eps * max(1.0, abs(p[i]))
        up = loss(p + step, observed, PREY, PREDATORS, DT, EVERY)
        down = loss(p - step, observed, PREY, PREDATORS, DT, EVERY)
        gradient[i] = (up - down) / (2 * step[i])
    return gradient


def seconds_per_call(function, p, observed, calls=CALLS):
    """The mean time of ``calls`` calls, after one warm-up call."""
    function(p, observed, PREY, PREDATORS, DT, EVERY)
    start = time.perf_counter()
    for _ in range(calls):
        function(p, observed, PREY, PREDATORS, DT, EVERY)
    return (time.perf_counter() - start) / calls


# --------------------------------------------------------------------------- the demo

def show(label, p, observed):
    values = ", ".join(f"{name} {value:.4f}" for name, value in zip("abcd", p))
    print(f"{label:<17} {values}   loss {loss(p, observed, PREY, PREDATORS, DT, EVERY):.2f}")


def main():
    observed = observations()
    print(f"Lotka-Volterra: {len(observed)} noisy observations of (prey, predators), "
          f"{(len(observed) - 1) * EVERY} RK4 steps in a Python loop over floats")
    compiled = pullback.value_and_grad(loss, compile="numba")
    plain = pullback.value_and_grad(loss)
    start = time.perf_counter()
    compiled(START, observed, PREY, PREDATORS, DT, EVERY)
    first_call = time.perf_counter() - start
    print(f"first compiled call (transform, Numba compile or its cache, run): {first_call:.2f} s")

    value, gradient = compiled(START, observed, PREY, PREDATORS, DT, EVERY)
    reference = central_difference_gradient(START, observed)
    error = np.linalg.norm(gradient - reference) / np.linalg.norm(reference)
    print(check_line(error))

    show("true parameters:", TRUE_PARAMETERS, observed)
    show("initial guess:", START, observed)
    start = time.perf_counter()
    fitted, how = fit(compiled, observed)
    show("fitted:", fitted, observed)
    print(f"{'':<17} {how}, {time.perf_counter() - start:.2f} s")

    compiled_time = seconds_per_call(compiled, START, observed)
    plain_time = seconds_per_call(plain, START, observed)
    print(f"one gradient, mean of {CALLS} calls: compiled {compiled_time * 1e6:.1f} us, "
          f"plain {plain_time * 1e6:.1f} us: the compiled one is "
          f"{plain_time / compiled_time:.0f}x faster")
    return {"fitted": fitted, "gradient_error": error, "first_call": first_call,
            "compiled_time": compiled_time, "plain_time": plain_time, "observed": observed}


if __name__ == "__main__":
    main()
