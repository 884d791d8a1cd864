"""What the user-style corpus (tests/corpus_user*.py) is made of.

A Case is one program with the arguments to call it with:

- ``make(r)`` returns the positional arguments from a NumPy generator ``r``
  (inputs are drawn away from kinks, ties and branch boundaries, so that
  central differences are a valid reference);
- ``wrt`` is passed to pullback as it is (a position, a parameter name, or a
  tuple of them);
- ``aux``: the program returns ``(loss, aux)`` and is differentiated with
  ``has_aux=True``;
- ``jvp``: forward mode is checked too (the program takes no keyword arguments);
- ``kwargs``: keyword arguments passed at every call;
- ``hvp``: the Hessian-vector product is checked too (``wrt`` one argument);
- ``rtol``: the tolerance of the comparison (float32 arguments need more).

A VjpCase is a program returning a container (a dict, a tuple, a list, a
named tuple), checked with ``pullback.vjp`` and a cotangent of that structure.
"""
from typing import NamedTuple

import numpy as np


class Case(NamedTuple):
    function: object
    make: object
    wrt: object = 0
    aux: bool = False
    jvp: bool = False
    kwargs: dict = None
    hvp: bool = False
    rtol: float = 1e-5


class VjpCase(NamedTuple):
    function: object
    make: object
    wrt: object = 0


def rng(seed=20260611):
    return np.random.default_rng(seed)


def normal(r, *shape, scale=1.0):
    return scale * r.standard_normal(shape)


def uniform(r, *shape, low=-1.0, high=1.0):
    return r.uniform(low, high, size=shape)


def away(r, *shape, low=0.2, high=1.0):
    """Values in ±[low, high]: no kink of abs, sign or a mask lies near them."""
    return r.uniform(low, high, size=shape) * r.choice([-1.0, 1.0], size=shape)


def spread(r, n, low=-2.0, high=2.0, gap=0.15):
    """n distinct values in [low, high], at least ``gap`` apart (no ties for
    sort, max or a key function), in random order."""
    base = np.linspace(low, high, n)
    jitter = r.uniform(-gap, gap, size=n) * (base[1] - base[0] > 3 * gap)
    return r.permutation(base + jitter)


def spd(r, n, ridge=1.0):
    """A well-conditioned symmetric positive definite matrix."""
    a = r.standard_normal((n, n))
    return a @ a.T / n + ridge * np.eye(n)
