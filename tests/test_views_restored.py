"""A view of an array taken before part of the array is overwritten in place
sees the write, and the reverse sweep that reads the view needs the part put
back first (transform/views.py, stacks._needed_restores), whatever else it
reads of the array. ``y[1:] *= e`` reads such a view (the normalizer's
``y_part = y[1:]``); views the user's code reads after the write are refused
(analysis/in_place.py). Each gradient against central differences; the
arrays' adjoints start from literal zeros (np.zeros(3)), which read nothing
of them."""
import numpy as np
import pytest

import pullback
from pullback.errors import UnsupportedSyntax
from reference import checked_source


def scaled_part(x):
    y = np.copy(x)
    y[1:] *= np.tanh(np.mean(x)) - x[1:] * x[2]
    return np.sum(np.sin(y))


def constant_start(x):
    y = np.ones(3) * 2.0
    y[1:] *= np.tanh(x[1:]) - x[0]
    return np.sum(np.sin(y))


def two_copies(x):
    y = x.copy()
    y[::2] *= x[1:] + 0.5
    z = np.copy(x)
    z[1:] *= y[:-1]
    return np.sum(z * z)


def transposed_view(a):
    m = np.zeros((2, 2))
    m[:] = a
    t = m.T
    m[0, :] = np.sin(a[1, :])
    return np.sum(t * m) + np.sum(t ** 2)


def reshaped_view(x):
    y = np.ones(4)
    w = y.reshape(2, 2)
    v = w[0]
    y[:2] = np.exp(x[:2])
    return np.sum(v * x[2:]) + np.sum(w)


def looped_views(x):
    y = np.copy(x)
    total = 0.0
    for k in range(3):
        part = y[1:]
        y[1:] = part * np.cos(x[0] + k)
        total = total + np.sum(part * y[1:])
    return total


X = np.array([0.3, -0.7, 1.1, 0.4])


@pytest.mark.parametrize("f, args", [
    (scaled_part, (X[:3],)), (constant_start, (X[:3],)), (two_copies, (X[:3],)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_view_read_in_the_reverse_sweep_gets_its_part_back(f, args):
    checked_source(f, args, 0)


@pytest.mark.parametrize("f, args", [
    (transposed_view, (X.reshape(2, 2),)), (reshaped_view, (X,)), (looped_views, (X,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_view_of_the_users_read_after_a_write_is_refused(f, args):
    with pytest.raises(UnsupportedSyntax, match="may share its memory"):
        pullback.grad(f)(*args)
