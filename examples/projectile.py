"""Aiming a projectile with air drag: optimizing through a simulation loop.

Run with `.venv/bin/python examples/projectile.py`. A ball is thrown from
1.5 m above the ground with quadratic air drag (deceleration proportional to
|v| v). A time-stepping ``while`` loop integrates its flight until it lands;
the landing point and time are interpolated between the last two steps, so
they change smoothly with the launch. The goal: choose the launch angle and
speed so that the ball lands 40 m away exactly 2.5 s after the throw.

pullback differentiates through the loop: ``pullback.jacobian`` gives the
2x2 Jacobian of (distance, time) in (angle, speed) for Newton's method, and
``pullback.grad`` the gradient of the squared miss, which the script checks
and times against central finite differences.
"""

import numpy as np

import pullback
from timing import best_time, check_line, speed_up

TARGET_DISTANCE = 40.0     # m
TARGET_TIME = 2.5          # s


# --------------------------------------------------------------------------- the simulation

def flight(angle, speed, drag=0.02, height=1.5, dt=0.002, g=9.81):
    """Integrate the flight until the ball lands: (distance, time of flight)."""
    position = np.array([0.0, height])
    velocity = speed * np.array([np.cos(angle), np.sin(angle)])
    gravity = np.array([0.0, -g])
    steps = 0
    while position[1] >= 0.0:
        previous = position
        acceleration = gravity - drag * np.linalg.norm(velocity) * velocity
        position = position + dt * velocity
        velocity = velocity + dt * acceleration
        steps += 1
    # the ball crossed the ground during the last step: interpolate where and when
    fraction = previous[1] / (previous[1] - position[1])
    landing = previous + fraction * (position - previous)
    return landing[0], (steps - 1 + fraction) * dt


def miss(launch):
    """(distance - target distance, time - target time) for launch = (angle, speed)."""
    angle, speed = launch
    distance, time_of_flight = flight(angle, speed)
    return np.array([distance - TARGET_DISTANCE, time_of_flight - TARGET_TIME])


def squared_miss(launch):
    """The objective: the squared miss, distance in m and time scaled to 10 m per s."""
    error = miss(launch) * np.array([1.0, 10.0])
    return np.sum(error ** 2)


# --------------------------------------------------------------------------- aiming

def aim(launch, tolerance=1e-9, max_iterations=20):
    """Newton's method on miss(launch) = 0, with the Jacobian through the loop.
    Returns (launch, iterations)."""
    jacobian = pullback.jacobian(miss)
    for iteration in range(max_iterations):
        residual = miss(launch)
        if np.max(np.abs(residual)) < tolerance:
            return launch, iteration
        launch = launch - np.linalg.solve(jacobian(launch), residual)
    return launch, max_iterations


# --------------------------------------------------------------------------- finite differences, for comparison

def finite_difference_gradient(f, x, eps=1e-6):
    """Central differences of a scalar f: 2 * len(x) simulations."""
    gradient = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps * max(1.0, abs(x[i]))
        gradient[i] = (f(x + step) - f(x - step)) / (2 * step[i])
    return gradient


def compare_with_finite_differences(launch):
    """pullback's gradient of squared_miss against central differences:
    (relative error, pullback s, fd s)."""
    gradient = pullback.grad(squared_miss)
    ours = gradient(launch)
    theirs = finite_difference_gradient(squared_miss, launch)
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    pullback_time = best_time(lambda: gradient(launch))
    fd_time = best_time(lambda: finite_difference_gradient(squared_miss, launch))
    return error, pullback_time, fd_time


# --------------------------------------------------------------------------- the demo

def describe(label, launch):
    distance, time_of_flight = flight(*launch)
    print(f"{label:<12} angle {np.degrees(launch[0]):6.2f} deg, speed {launch[1]:6.3f} m/s: "
          f"lands at {distance:7.3f} m after {time_of_flight:.3f} s")


def main():
    print(f"target: land {TARGET_DISTANCE:.0f} m away, {TARGET_TIME} s after the throw "
          f"(quadratic drag, {round(TARGET_TIME / 0.002)} time steps of 2 ms)")
    start = np.array([np.radians(30.0), 20.0])
    describe("first guess:", start)
    launch, iterations = aim(start)
    describe("aimed:", launch)
    print(f"Newton's method with pullback.jacobian through the loop: {iterations} iterations, "
          f"miss {np.max(np.abs(miss(launch))):.1e}")

    error, pullback_time, fd_time = compare_with_finite_differences(start)
    print(check_line(error))
    print(f"one gradient: pullback {pullback_time * 1e3:.1f} ms, finite differences "
          f"{fd_time * 1e3:.1f} ms ({2 * start.size} simulations): {speed_up(pullback_time, fd_time)}")
    return {"start": start, "launch": launch, "iterations": iterations, "gradient_error": error}


if __name__ == "__main__":
    main()
