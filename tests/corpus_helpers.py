"""Helper functions "in another module" for the call-heavy corpus (tests/corpus_programs.py).

The corpus uses them both as ``helpers.name(x)`` (module imported) and through
``from corpus_helpers import name``.
"""
import math

import numpy as np

OFFSET = 0.25


def softplus(x):
    return np.log1p(np.exp(x))


def scaled_tanh(x, scale=2.0):
    return scale * np.tanh(x / scale)


def weighted_norm_sq(x, *, weight=1.0, shift=0.0):
    d = x - shift
    return weight * np.sum(d * d)


def stats(x):
    mu = np.mean(x)
    centred = x - mu
    return mu, np.mean(centred * centred)


def inner(x):
    return np.sin(x) + OFFSET


def middle(x):
    return inner(x) * inner(2.0 * x)


def outer(x):
    return np.sum(middle(x) ** 2)


def scalar_bump(t):
    return math.exp(-t * t) + math.sin(t)


def apply_twice(f, x):
    return f(f(x))
