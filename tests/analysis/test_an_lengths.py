"""Symbolic lengths (analysis/lengths.py) against NumPy, and what they give:
stencils on slices of a padded copy with no ``unbroadcast``, each gradient
checked against central differences.

The rules are checked by brute force: a symbol stands for every length of
at least 2, so each answer is compared with ``len(range(n + offset)[a:b])``
(what NumPy's basic slicing gives) for n from 2 to 9.
"""
import itertools

import numpy as np
import pytest

import pullback
from pullback.analysis import lengths as L
from reference import central_difference, checked_source

BOUNDS = (None, -3, -2, -1, 0, 1, 2, 3)


def _value(length, n):
    symbol, offset = length
    return offset + (n if symbol is not None else 0)


@pytest.mark.parametrize("offset", [0, 1, 2, -1])
def test_every_known_slice_length_is_numpys_for_every_length_the_symbol_stands_for(offset):
    answered = 0
    for lower, upper, step in itertools.product(BOUNDS, BOUNDS, (None, 1, 2)):
        got = L.sliced(("n", offset), lower, upper, step)
        if got is None:
            continue
        answered += 1
        for n in range(L.LEAST, 10):
            if n + offset < 0:
                continue
            expected = len(range(n + offset)[slice(lower, upper, step)])
            assert _value(got, n) == expected, (offset, lower, upper, step, n, got)
    assert answered > 20            # the rules know the usual slices (v[1:-1], v[:-2], v[:1])


def test_literal_lengths_slice_as_numpy_slices():
    for size, lower, upper in itertools.product(range(5), BOUNDS, BOUNDS):
        got = L.sliced((None, size), lower, upper, None)
        assert got == (None, len(range(size)[lower:upper])), (size, lower, upper)


def test_the_padded_copy_and_its_inner_slices():
    padded = L.added([(None, 1), ("u.0", 0), (None, 1)])
    assert padded == ("u.0", 2)
    for lower, upper in ((None, -2), (2, None), (1, -1)):
        assert L.sliced(padded, lower, upper, None) == ("u.0", 0)
    assert L.sliced(("u.0", 0), None, 1, None) == (None, 1)     # u[:1] of a length >= 2
    assert L.sliced(("u.0", 0), -1, None, None) == (None, 1)
    assert L.sliced(("u.0", 0), 1, None, None) == ("u.0", -1)   # n - 1: may be 1
    assert L.dim_of(("u.0", -1), L.MANY) == L.MANY and L.dim_of(("u.0", -1), L.ANY) == L.ANY
    assert L.sliced(("u.0", 0), 3, None, None) is None          # n - 3 may be below 0


def test_lengths_of_two_symbols_or_unknown_are_not_added():
    assert L.added([("a.0", 0), ("b.0", 0)]) is None
    assert L.added([("a.0", 0), None]) is None


def test_broadcasting_keeps_a_common_length_and_drops_ones():
    assert L.broadcast_length([("u.0", 0), (None, 1)]) == ("u.0", 0)
    assert L.broadcast_length([(None, 1), (None, 1)]) == (None, 1)
    assert L.broadcast_length([("u.0", -1), ("u.0", -1)]) == ("u.0", -1)
    # two lengths NumPy requires to be equal (or raises): the result is each of them
    assert L.broadcast_length([("u.0", 0), ("v.0", 0)]) == ("u.0", 0)
    assert L.broadcast_length([None, ("v.0", 0)]) == ("v.0", 0)
    assert L.broadcast_length([None, (None, 1)]) is None
    # a length that may be 1 (u.0 - 1 for u.0 = 2) may be stretched: not the result
    assert L.broadcast_length([("u.0", -1), ("u.0", 0)]) == ("u.0", 0)
    assert L.broadcast_length([("u.0", -1), ("v.0", -1)]) is None
    assert L.broadcast_length([("u.0", -1), (None, 3)]) == (None, 3)


def test_dims_follow_lengths():
    assert L.dim_of(("u.0", 0), L.ANY) == L.MANY
    assert L.dim_of(("u.0", -1), L.ANY) == L.ANY         # n - 1 may be 1
    assert L.dim_of((None, 1), L.ANY) == L.ONE
    assert L.dim_of((None, 0), L.ANY) == L.ZERO


# -- what they give ------------------------------------------------------------------------

def stencil_steps(u, k):
    """Explicit diffusion steps on a copy padded by repeating the edges, the
    padded copy rebuilt under one name per axis (the name reassigned)."""
    for _ in range(3):
        v = np.concatenate((u[:1], u, u[-1:]), axis=0)
        v = np.concatenate((v[:, :1], v, v[:, -1:]), axis=1)
        lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u
        u = u + k * lap * u
    return np.sum(u ** 2)


def stacked_stencil_steps(u, k):
    """The same stencil, the copy padded with np.vstack and np.hstack."""
    for _ in range(3):
        v = np.vstack((u[:1], u, u[-1:]))
        v = np.hstack((v[:, :1], v, v[:, -1:]))
        lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u
        u = u + k * lap * u
    return np.sum(u ** 2)


def rows_of_vectors(x, w):
    """np.vstack of 1-D arrays: each a row of a (3, n) array."""
    m = np.vstack((x, w * x, x * x))
    return np.sum(m[1:] * m[:-1])


def differences(x, w):
    """Forward differences of a padded vector, weighted."""
    padded = np.concatenate((x[:1], x, x[-1:]))
    slopes = padded[2:] - padded[:-2]
    return np.sum(w * slopes ** 2)


def ragged_join(a, b):
    """Two arrays of unrelated lengths joined: the result's length is not known."""
    c = np.concatenate((a, b))
    return np.sum(np.sin(c[1:]) * c[:-1])


def stretched_slice(y):
    """``y[1:]`` has one row when y has two: broadcast with y, it is stretched,
    and the sum has y's length, not the slice's (found by the fuzzer, seed
    2026, when broadcasting took the first length that was not a literal 1)."""
    v = y[1:] * 2.0
    t = np.where(y[0, 0] > 5.0, v, y) + v
    return np.sum(t * t)


def unequal_arguments(pos, vel):
    """Two arguments' lengths that NumPy makes agree: the loop keeps pos's."""
    for _ in range(3):
        vel = vel + 0.1 * pos
        pos = pos + 0.1 * vel
    return np.sum(pos * pos)


RNG = np.random.default_rng(3)


@pytest.mark.parametrize("shape", [(2, 3), (2, 1), (2, 5)])
def test_a_slice_that_may_have_one_row_is_stretched(shape):
    y = RNG.standard_normal(shape)
    checked_source(stretched_slice, (y,), 0)


def test_lengths_of_two_arguments_broadcast_together_stay_known_in_a_loop():
    text = checked_source(unequal_arguments, (RNG.standard_normal((3, 2)),
                                              RNG.standard_normal((3, 2))), (0, 1))
    assert "unbroadcast" not in text, text


def test_a_stencil_on_a_padded_copy_sums_nothing():
    u = 0.5 + 0.2 * RNG.standard_normal((5, 4))
    source = checked_source(stencil_steps, (u, 0.1), (0, 1))
    reverse = source[source.index("# reverse sweep"):]
    assert "unbroadcast" not in reverse, source


def test_a_stencil_on_a_copy_padded_by_hstack_and_vstack_sums_nothing():
    u = 0.5 + 0.2 * RNG.standard_normal((5, 4))
    source = checked_source(stacked_stencil_steps, (u, 0.1), (0, 1))
    reverse = source[source.index("# reverse sweep"):]
    assert "unbroadcast" not in reverse and "add_at(" not in reverse, source


def test_rows_stacked_from_vectors_have_known_shapes():
    x, w = RNG.standard_normal(5), RNG.standard_normal(5)
    source = checked_source(rows_of_vectors, (x, w), (0, 1))
    assert "unbroadcast" not in source[source.index("# reverse sweep"):], source


def test_differences_of_a_padded_vector():
    x, w = RNG.standard_normal(6), RNG.random(6)
    source = checked_source(differences, (x, w), (0, 1))
    assert "unbroadcast" not in source[source.index("# reverse sweep"):], source


@pytest.mark.parametrize("n", [2, 3, 7])
def test_one_derivative_for_every_length(n):
    """The kinds say only "n" (2 or more): the same derivative serves each length."""
    grad = pullback.grad(differences, wrt=(0, 1))
    x, w = RNG.standard_normal(n), RNG.random(n)
    for got, index in zip(grad(x, w), (0, 1)):
        np.testing.assert_allclose(got, central_difference(differences, (x, w), index),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shapes", [(1, 1), (1, 4), (3, 2), (0, 3)])
def test_joins_of_unrelated_lengths(shapes):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    if a.size + b.size < 2:
        return
    checked_source(ragged_join, (a, b), (0, 1))


@pytest.mark.parametrize("shape", [(1, 3), (2, 1), (1, 1)])
def test_a_stencil_with_axes_of_length_one(shape):
    u = 0.5 + 0.2 * RNG.standard_normal(shape)
    checked_source(stencil_steps, (u, 0.1), (0, 1))


def periodic_heat(u, k):
    """A periodic stencil with np.roll, an edge stencil on np.pad's copy."""
    for _ in range(3):
        lap = np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) - 2.0 * u
        padded = np.pad(u, ((0, 0), (1, 1)), mode="edge")
        u = u + k * (lap + padded[:, 2:] - 2.0 * padded[:, 1:-1] + padded[:, :-2]) * u
    return np.sum(np.flip(u, 0) * u)


@pytest.mark.parametrize("shape", [(4, 5), (1, 3), (3, 1), (2, 2)])
def test_roll_pad_and_flip_keep_what_the_analysis_knows(shape):
    u = 0.5 + 0.2 * RNG.standard_normal(shape)
    source = checked_source(periodic_heat, (u, 0.1), (0, 1))
    if 1 not in shape:
        assert "unbroadcast" not in source[source.index("# reverse sweep"):], source


@pytest.mark.parametrize("widths, ndim, expected", [
    (1, 2, [(1, 1), (1, 1)]), ((1, 2), 2, [(1, 2), (1, 2)]), (((1, 2),), 1, [(1, 2)]),
    (((0, 0), (1, 1)), 2, [(0, 0), (1, 1)]), ((2,), 1, [(2, 2)]), (((1, 2), (3, 4), (5, 6)), 2, None),
    ("edge", 1, None)])
def test_pad_widths_read_as_numpy_reads_them(widths, ndim, expected):
    assert L.pad_widths(widths, ndim) == expected
    if expected is not None:
        a = np.ones((3,) * ndim)
        assert np.pad(a, widths).shape == tuple(3 + b + e for b, e in expected)


def test_an_empty_array_has_its_own_kind():
    """A length 0 is a kind of its own ("0"): ``x[:1]`` of it is empty, of a
    length of 2 or more has length 1."""
    def first_and_all(x):
        return np.sum(x[:1] * 2.0) + np.sum(x)

    grad = pullback.grad(first_and_all, wrt=0)
    np.testing.assert_array_equal(grad(np.zeros(0)), np.zeros(0))
    assert "(0,)" in pullback.source(grad, args=(np.zeros(0),))
    np.testing.assert_array_equal(grad(np.array([1.0, 2.0])), [3.0, 1.0])
    assert "(n,)" in pullback.source(grad, args=(np.array([1.0, 2.0]),))
