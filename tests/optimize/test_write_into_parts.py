"""write_into_parts as a general rule: the gradient of one piece of
``np.concatenate`` (``np.hstack``, ``np.vstack``) is written in place when
nothing else can read its memory, instead of being copied first.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
The near misses run the pass on small functions: a piece read twice, the
whole gradient read after the split, a negative index, a parameter's array.
"""
import numpy as np
import pytest

from optkit import expect, run
from pullback.optimize import write_into_parts
from pullback.runtime.basic_indexing import add_at_part
from test_general_passes import body, both


def periodic(x):
    """A ring: the last value before the first, the first after the last."""
    y = np.tanh(x)
    w = np.concatenate((y[-1:], y, y[:1]))
    return np.sum(w[:-2] * w[2:] + w[1:-1] ** 2)


def side_padded(A):
    """Columns wrapped round with np.hstack."""
    B = np.sin(A)
    C = np.hstack((B[:, -1:], B, B[:, :1]))
    return np.sum(C[:, 2:] * C[:, :-2])


def row_padded(A):
    """Rows wrapped round with np.vstack."""
    B = np.exp(0.1 * A)
    C = np.vstack((B[-1:], B, B[:1]))
    return np.sum(C[1:] * C[:-1])


def smoothed(u, k):
    """A loop: a 2-D field with its edges repeated on every side, smoothed."""
    for t in range(4):
        v = np.concatenate((u[:1], u, u[-1:]), axis=0)
        v = np.concatenate((v[:, :1], v, v[:, -1:]), axis=1)
        u = u + k * (v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u)
    return np.sum(u * u * u)


RNG = np.random.default_rng(31)


@pytest.mark.parametrize("function, args, wrt", [
    (periodic, (RNG.standard_normal(6),), 0),
    (side_padded, (RNG.standard_normal((3, 4)),), 0),
    (row_padded, (RNG.standard_normal((4, 3)),), 0),
    (smoothed, (RNG.random((5, 4)), 0.1), (0, 1)),
], ids=["periodic", "hstack", "vstack", "loop"])
def test_a_piece_nothing_else_reads_is_written_in_place(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, write_into_parts)
    assert "add_at_part(" in body(source) and "fresh_copy(" not in body(source), body(source)
    assert "fresh_copy(" in body(without), body(without)


def test_the_caller_s_arrays_stay_as_they_were(tmp_path):
    x = RNG.standard_normal(5)
    kept = x.copy()
    both(periodic, (x,), 0, tmp_path, write_into_parts)
    np.testing.assert_array_equal(x, kept)


# -- the pass on small functions: where it must not fire ----------------------------------

def test_the_rewrite_and_the_writes_that_follow():
    assert run(write_into_parts, """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            dx = add_at_basic(dx, x, k, parts[0])
            total = np.sum(dx)
            dx = add_at_basic(dx, x, m, dy)
            return dx, total
    """) == expect("""
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dx = add_at_part(parts[1], x, j, parts[2])
            dx = add_at_part(dx, x, k, parts[0])
            total = np.sum(dx)
            dx = add_at_basic(dx, x, m, dy)
            return dx, total
    """)


@pytest.mark.parametrize("why, source", [
    ("the piece is read twice", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            return dx, parts[1]
    """),
    ("the whole gradient is read after the split", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            return dx, dv
    """),
    ("the list of pieces is read whole", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            return dx, parts
    """),
    ("a negative index may name the same piece", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[-1])
            return dx
    """),
    ("the split array is a parameter's", """
        def f(dv, value):
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            return dx
    """),
    ("the split array may be another name's", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            kept = dv
            parts = unconcatenate(dv, value, 1)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            return dx, kept
    """),
    ("a helper whose pieces may overlap", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unstack(dv, value, 0)
            dx = add_at_basic(fresh_copy(parts[1]), x, j, parts[2])
            return dx
    """),
    ("the piece's name is read again", """
        def f(dy, value, w):
            dv = scatter_basic(w, i, dy)
            parts = unconcatenate(dv, value, 1)
            dp = parts[1]
            dx = add_at_basic(fresh_copy(dp), x, j, parts[2])
            return dx, dp
    """),
], ids=["read-twice", "whole-read", "list-read", "negative-index", "parameter", "aliased", "unstack",
        "name-read"])
def test_a_piece_something_else_may_read_is_still_copied(why, source):
    assert "fresh_copy(" in run(write_into_parts, source), why


def test_add_at_part_writes_into_a_view_and_copies_what_it_cannot_write():
    whole = np.zeros((2, 5))
    piece = whole[:, 1:4]
    x = np.ones((2, 3))
    assert add_at_part(piece, x, (slice(None), slice(0, 1)), 2.0) is piece
    np.testing.assert_array_equal(whole[:, 1], [2.0, 2.0])
    read_only = np.broadcast_to(np.zeros(3), (2, 3))
    written = add_at_part(read_only, x, (slice(None), slice(0, 1)), 1.0)
    assert written is not read_only and written[0, 0] == 1.0 and read_only[0, 0] == 0.0
    wrong_shape = np.zeros(3)
    assert add_at_part(wrong_shape, x, 0, 1.0).shape == (2, 3) and not wrong_shape.any()
    assert add_at_part(0.0, x, (0, 1), 3.0)[0, 1] == 3.0
