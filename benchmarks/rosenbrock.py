"""The Hessian workload of make bench: the Rosenbrock function of n variables.

Written as plain user code with the name ``np`` only, like workloads.py:
the benchmark loads this file again with ``np`` bound to ``autograd.numpy``
or ``jax.numpy`` so every tool differentiates the same source.
"""
import numpy as np

N = 100


def rosenbrock(x):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    """The Hessian of ``rosenbrock``, derived by hand (the benchmark's reference).

    Term i, t = 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, has
    d2t/dx[i]2 = 1200 x[i]^2 - 400 x[i+1] + 2, d2t/dx[i]dx[i+1] = -400 x[i]
    and d2t/dx[i+1]2 = 200: the Hessian is tridiagonal.
    """
    x = np.asarray(x, dtype=float)
    head, tail = x[:-1], x[1:]
    diagonal = np.zeros_like(x)
    diagonal[:-1] += 1200.0 * head ** 2 - 400.0 * tail + 2.0
    diagonal[1:] += 200.0
    off = -400.0 * head
    return np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)


def inputs(seed=0):
    """The point the Hessian is taken at: n = 100 values in [-1.5, 1.5]."""
    return np.random.default_rng(seed).uniform(-1.5, 1.5, N)
