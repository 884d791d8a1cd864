"""Forward mode and second order over the user-style corpora (tests/corpus_*.py).

Every program there gets a jvp along a random direction (and every other
one a batch of two directions) against float64 directional central
differences; the caller's arrays must come back untouched. Every program
also gets a Hessian-vector product, checked as ``u . (H v)`` against the
four-point central difference of the function itself,

    (f(x + h u + h v) - f(x + h u - h v) - f(x - h u + h v) + f(x - h u - h v)) / 4h^2,

an independent reference (never pullback's own gradient).
"""
import functools

import numpy as np
import pytest

import corpus_control
import corpus_programs
import corpus_straight
import pullback
from reference import directional_difference
from test_corpus_programs import same_value

CASES = ([(c.function, c.factories, c.wrt, c.kwargs or {}) for c in corpus_programs.CASES]
         + [(f, fs, wrt, {}) for f, fs, wrt in corpus_control.CASES]
         + [(f, fs, wrt, {}) for f, fs, wrt in corpus_straight.CASES])


def _ids():
    return [f"{i:03d}-{case[0].__name__}" for i, case in enumerate(CASES)]


def _arguments(i):
    r = np.random.default_rng(1000 + i)
    function, factories, wrt, kwargs = CASES[i]
    args = [make(r) for make in factories]
    target = functools.partial(function, **kwargs) if kwargs else function
    return target, args, ((wrt,) if isinstance(wrt, int) else tuple(wrt)), r


def _direction(r, value, batch=0):
    shape = ((batch,) if batch else ()) + np.shape(value)
    if isinstance(value, np.ndarray) or batch:
        return r.standard_normal(shape)
    return float(r.standard_normal())


def _close(got, expected, what, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        for g, e in zip(got, expected):
            _close(g, e, what, rtol, atol)
        return
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=rtol, atol=atol,
                               err_msg=what)


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_jvp_matches_directional_differences(index):
    f, args, wrt, r = _arguments(index)
    tangents = [(_direction(r, a) if i in wrt else None) for i, a in enumerate(args)]
    before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    value, tangent = pullback.jvp(f, tuple(args), tuple(tangents))
    assert all(same_value(a, b) for a, b in zip(args, before)), "jvp changed an argument"
    _close(value, np.asarray(f(*args), dtype=np.float64), "value", 1e-12, 1e-12)
    _close(tangent, directional_difference(f, args, tangents), f"{f} tangent")
    if index % 2 == 0:
        batch = [(_direction(r, a, 2) if i in wrt else None) for i, a in enumerate(args)]
        _, tangents_out = pullback.jvp(f, tuple(args), tuple(batch))
        for k in range(2):
            one = [None if t is None else (t[k] if isinstance(a, np.ndarray) else float(t[k]))
                   for t, a in zip(batch, args)]
            _close(tangents_out[k], directional_difference(f, args, one), f"direction {k}")


def mixed_difference(f, args, u, v, h=1e-4):
    """u . H v by the four-point central difference of ``f`` (float64)."""
    def at(a, b):
        moved = [x if du is None else
                 (np.asarray(x, np.float64) + a * h * du + b * h * dv if isinstance(x, np.ndarray)
                  else float(x) + a * h * du + b * h * dv)
                 for x, du, dv in zip(args, u, v)]
        return float(f(*moved))
    return (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_hvp_matches_mixed_differences(index):
    f, args, wrt, r = _arguments(index)
    u = [(_direction(r, a) if i in wrt else None) for i, a in enumerate(args)]
    v = [(_direction(r, a) if i in wrt else None) for i, a in enumerate(args)]
    products = pullback.hvp(f, tuple(args), tuple(v))
    products = products if len(wrt) > 1 else (products,)
    got = sum(float(np.sum(np.asarray(p, np.float64) * u[i])) for p, i in zip(products, wrt))
    expected = mixed_difference(f, args, u, v)
    scale = 1.0 + abs(expected) + sum(float(np.sum(np.abs(np.asarray(p)))) for p in products)
    assert abs(got - expected) <= 2e-4 * scale, (got, expected)


def _scalar_cases():
    """The programs of one differentiated number: their third derivative is cheap."""
    out = []
    for i, (function, factories, wrt, kwargs) in enumerate(CASES):
        _, args, positions, _ = _arguments(i)
        if len(positions) == 1 and not isinstance(args[positions[0]], np.ndarray):
            out.append(i)
    return out


@pytest.mark.parametrize("index", _scalar_cases(), ids=[_ids()[i] for i in _scalar_cases()])
def test_third_derivative_matches_differences(index):
    """f''' by jvp of grad of grad (forward over reverse over reverse) against
    the five-point central stencil of f itself (error O(h^2), h = 1e-3)."""
    f, args, (i,), _ = _arguments(index)

    def along(t):
        moved = list(args)
        moved[i] = float(args[i]) + t
        return float(f(*moved))
    h = 1e-3
    expected = (along(2 * h) - 2 * along(h) + 2 * along(-h) - along(-2 * h)) / (2 * h ** 3)
    second = pullback.grad(pullback.grad(f, wrt=i), wrt=i)
    _, got = pullback.jvp(second, tuple(args), tuple(1.0 if k == i else None
                                                     for k in range(len(args))))
    assert abs(got - expected) <= 1e-3 * (1.0 + abs(expected)), (got, expected)
