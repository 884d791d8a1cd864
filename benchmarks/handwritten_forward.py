"""Hand-written forward derivatives (jvps) of the scalar benchmark workloads.

What an expert writes by hand in plain NumPy: each tangent computed beside
its value in the same loop, nothing kept. Each function takes the workload's
arguments followed by one tangent per argument (all of them are
differentiated in the scalar workloads) and returns ``(value, tangent)``,
like ``pullback.jvp``. They use the same NumPy primitives as the workloads,
so a ratio against them measures the cost of differentiation.

The ratios "jvp within 1.5x of the hand-written forward derivative" of
make bench are measured against these.
"""
import numpy as np


def scalar_loop(x, dx):
    """jvp of ``scalar_loop`` along dx."""
    s = ds = 0.0
    for i in range(1000):
        x = np.tanh(1.1 * x + 0.1)
        dx = (1.0 - x * x) * 1.1 * dx           # tanh' = 1 - tanh^2
        s = s + x * x
        ds = ds + 2.0 * x * dx
    return s, ds


def lotka_volterra(alpha, beta, delta, gamma, dalpha, dbeta, ddelta, dgamma):
    """jvp of ``lotka_volterra`` along (dalpha, dbeta, ddelta, dgamma)."""
    prey, predator = 10.0, 5.0
    dprey = dpredator = 0.0                     # the initial state is constant
    dt = 0.001
    for i in range(2000):
        both = prey * predator
        dboth = dprey * predator + prey * dpredator
        growth = alpha * prey - beta * both
        dgrowth = dalpha * prey + alpha * dprey - dbeta * both - beta * dboth
        decline = delta * both - gamma * predator
        ddecline = ddelta * both + delta * dboth - dgamma * predator - gamma * dpredator
        prey = prey + dt * growth
        dprey = dprey + dt * dgrowth
        predator = predator + dt * decline
        dpredator = dpredator + dt * ddecline
    return prey + predator, dprey + dpredator


def kepler(e, de):
    """jvp of ``kepler`` along de, through every Newton step (as the program is written)."""
    total = dtotal = 0.0
    for k in range(100):
        m = 0.1 + 0.06 * k
        E, dE = m, 0.0
        sin, cos = np.sin(E), np.cos(E)
        residual = E - e * sin - m
        dresidual = -de * sin                   # dE = 0 at the start
        while abs(residual) > 1e-12:
            denominator = 1.0 - e * cos
            ddenominator = -de * cos + e * sin * dE
            E = E - residual / denominator
            dE = dE - (dresidual - residual * ddenominator / denominator) / denominator
            sin, cos = np.sin(E), np.cos(E)
            residual = E - e * sin - m
            dresidual = dE - de * sin - e * cos * dE
        total = total + E
        dtotal = dtotal + dE
    return total, dtotal


#: workload name -> hand-written forward derivative
JVPS = {
    "scalar_loop": scalar_loop,
    "lotka_volterra": lotka_volterra,
    "kepler": kepler,
}
