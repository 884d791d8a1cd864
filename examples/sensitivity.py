"""Sensitivity analysis of a heat-equation model: every input's effect from one gradient.

Run with `.venv/bin/python examples/sensitivity.py`. A rod of eight segments,
each with its own thermal conductivity, starts at a uniform temperature; its
ends are held at fixed temperatures and a heater warms it near the left end.
An explicit finite-volume scheme (a time-stepping loop in NumPy) computes the
temperature a sensor reads at the end of the run. How does that reading
change with each of the twelve inputs?

One call of ``pullback.grad`` answers it for all of them at once: the
gradient comes back as a dict shaped like the inputs. The script prints it
as a table of d(reading)/d(input) and of elasticities, (input / reading) *
d(reading)/d(input): the percent change of the reading for a one-percent
change of the input. Then it checks the table against central finite
differences, which need two simulations per input, and times both.
"""

import numpy as np

import pullback
from timing import best_time, check_line, speed_up

CELLS = 64              # finite volumes along the rod (8 per segment)
LENGTH = 1.0            # m
DURATION = 0.08         # s (the model's time is scaled so diffusion is fast)
SENSOR = 0.7            # the sensor's position, m
HEATER = 0.25           # the heater's centre, m


# --------------------------------------------------------------------------- the model

def inputs():
    """The model's inputs: conductivities of the eight segments and four numbers."""
    return {"conductivity": np.array([1.0, 1.2, 0.8, 1.5, 0.6, 1.1, 0.9, 1.3]),
            "heater_power": 400.0,
            "left_temperature": 20.0,
            "right_temperature": 60.0,
            "initial_temperature": 15.0}


def sensor_reading(params, cells=CELLS, duration=DURATION):
    """The temperature at the sensor after ``duration``, from explicit time steps."""
    dx = LENGTH / cells
    k = np.repeat(params["conductivity"], cells // len(params["conductivity"]))
    k_face = 2.0 * k[:-1] * k[1:] / (k[:-1] + k[1:])      # harmonic mean between cells
    centres = (np.arange(cells) + 0.5) * dx
    heating = params["heater_power"] * np.exp(-((centres - HEATER) / 0.05) ** 2)
    dt = 0.4 * dx * dx / np.max(k)                          # inside the stability limit
    steps = int(np.ceil(duration / dt))
    dt = duration / steps
    u = np.full(cells, params["initial_temperature"])
    for _ in range(steps):
        inner = k_face * (u[1:] - u[:-1]) / dx
        left = k[0] * (u[0] - params["left_temperature"]) / (0.5 * dx)
        right = k[-1] * (params["right_temperature"] - u[-1]) / (0.5 * dx)
        flux = np.concatenate([[left], inner, [right]])     # heat flow across each face
        u = u + dt * ((flux[1:] - flux[:-1]) / dx + heating)
    return np.interp(SENSOR, centres, u)


# --------------------------------------------------------------------------- the table

def rows(params, gradient):
    """(name, value, derivative) for every scalar input, conductivities one by one."""
    table = []
    for name, value in params.items():
        if np.ndim(value) == 0:
            table.append((name, float(value), float(gradient[name])))
        else:
            for i, (v, g) in enumerate(zip(value, gradient[name])):
                table.append((f"{name}[{i}]", float(v), float(g)))
    return table


def print_table(params, gradient, reading):
    print(f"{'input':<22}{'value':>10}{'d(reading)/d(input)':>22}{'elasticity':>12}")
    for name, value, derivative in rows(params, gradient):
        print(f"{name:<22}{value:>10.4g}{derivative:>22.5g}{value / reading * derivative:>12.4f}")


# --------------------------------------------------------------------------- finite differences, for comparison

def finite_difference_gradient(params, eps=1e-6):
    """Central differences of the reading: two simulations per scalar input."""
    gradient = {}
    for name, value in params.items():
        if np.ndim(value) == 0:
            step = eps * max(1.0, abs(value))
            up = sensor_reading({**params, name: value + step})
            down = sensor_reading({**params, name: value - step})
            gradient[name] = (up - down) / (2 * step)
        else:
            g = np.empty_like(value)
            for i in range(value.size):
                shifted = value.copy()
                step = eps * max(1.0, abs(value[i]))
                shifted[i] = value[i] + step
                up = sensor_reading({**params, name: shifted.copy()})
                shifted[i] = value[i] - step
                down = sensor_reading({**params, name: shifted})
                g[i] = (up - down) / (2 * step)
            gradient[name] = g
    return gradient


# --------------------------------------------------------------------------- the demo

def main():
    params = inputs()
    reading, gradient = pullback.value_and_grad(sensor_reading)(params)
    count = len(rows(params, gradient))
    print(f"heat equation on a rod: {CELLS} cells, sensor at {SENSOR} m, "
          f"reading {reading:.3f} degrees after {DURATION} s")
    print(f"sensitivities of the reading to its {count} inputs (one pullback.grad call):\n")
    print_table(params, gradient, reading)

    fd = finite_difference_gradient(params)
    ours = np.array([derivative for _, _, derivative in rows(params, gradient)])
    theirs = np.array([derivative for _, _, derivative in rows(params, fd)])
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    dreading = pullback.grad(sensor_reading)
    pullback_time = best_time(lambda: dreading(params))
    fd_time = best_time(lambda: finite_difference_gradient(params))
    print("\n" + check_line(error))
    print(f"all sensitivities: pullback {pullback_time * 1e3:.1f} ms, finite differences "
          f"{fd_time * 1e3:.0f} ms ({2 * count} simulations): {speed_up(pullback_time, fd_time)}")
    return {"reading": reading, "gradient": gradient, "gradient_error": error, "params": params}


if __name__ == "__main__":
    main()
