"""divide_after_sums as a general rule: a factor constant along the summed
axes is applied to the sums, not to the whole adjoint.

Each program's derivative is generated with the pass and with a pass that
changes nothing in its place (test_general_passes.generated): the difference
shows the rewrite; every gradient is checked against central differences.
The near misses divide by a factor that varies along the summed axis, or read
the divided adjoint outside a sum.
"""
import re

import numpy as np
import pytest

from pullback.optimize import divide_after_sums
from test_general_passes import body, both


def standardized(X, mu, log_sigma):
    """A robust loss of standardized columns: the scale is one row, summed over rows."""
    z = (X - mu[None, :]) / np.exp(log_sigma)[None, :]
    return np.sum(np.log(1.0 + z * z))


def per_channel(A, m, s):
    """Batches of channels, the scale constant along the middle axis."""
    z = (A - m[:, None, :]) / s[:, None, :]
    return np.mean(np.cos(z) * z)


def full_scale(X, mu, S):
    """Near miss: the scale varies along the rows the mean's adjoint sums."""
    z = (X - mu[None, :]) / S
    return np.sum(z ** 4)


def read_whole(X, mu, s):
    """Near miss: X's gradient reads the divided adjoint itself, not a sum of it."""
    z = (X - mu[None, :]) / s[None, :]
    return np.sum(z * z * z)


RNG = np.random.default_rng(8)


@pytest.mark.parametrize("function, args, wrt, shown", [
    (standardized, (RNG.standard_normal((7, 3)), RNG.standard_normal(3), 0.3 * RNG.standard_normal(3)),
     (1, 2), r"dmu_part = -\(dz\.sum\(axis=0, keepdims=True\) / exp_part\)"),
    (per_channel, (RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 3)), 1.0 + RNG.random((2, 3))),
     (1, 2), r"ds_part = -\(\(dz \* z\)\.sum\(axis=1, keepdims=True\) / s_part\)"),
], ids=["standardized", "per-channel"])
def test_a_factor_constant_along_the_summed_axes_divides_the_sums(function, args, wrt, shown, tmp_path):
    without, source = both(function, args, wrt, tmp_path, divide_after_sums)
    assert re.search(shown, body(source)), body(source)
    assert re.search(r"dz /= \w+_part", body(without)) and "dz /=" not in body(source), body(without)


@pytest.mark.parametrize("function, args, wrt", [
    (full_scale, (RNG.standard_normal((7, 3)), RNG.standard_normal(3), 1.0 + RNG.random((7, 3))), (1, 2)),
    (read_whole, (RNG.standard_normal((7, 3)), RNG.standard_normal(3), 1.0 + RNG.random(3)), (0, 1, 2)),
], ids=["full-scale", "read-whole"])
def test_a_factor_the_sums_cannot_take_stays(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, divide_after_sums)
    assert "dz /= " in body(source), body(source)       # the candidate is there, and stays
    assert without == source


def divided_0(A, m, s):
    z = (A - m[None, :, :]) / np.exp(s)[None, :, :]
    return np.sum(np.tanh(z) * z)


def divided_1(A, m, s):
    z = (A - m[:, None, :]) / np.exp(s)[:, None, :]
    return np.sum(np.tanh(z) * z)


def divided_2(A, m, s):
    z = (A - m[:, :, None]) / np.exp(s)[:, :, None]
    return np.sum(np.tanh(z) * z)


def multiplied_0(A, m, s):
    z = (A - m[None, :, :]) * np.exp(s)[None, :, :]
    return np.sum(np.sin(z) * z)


def multiplied_1(A, m, s):
    z = (A - m[:, None, :]) * np.exp(s)[:, None, :]
    return np.sum(np.sin(z) * z)


def multiplied_2(A, m, s):
    z = (A - m[:, :, None]) * np.exp(s)[:, :, None]
    return np.sum(np.sin(z) * z)


@pytest.mark.parametrize("axis, function", [
    (0, divided_0), (1, divided_1), (2, divided_2), (0, multiplied_0), (1, multiplied_1),
    (2, multiplied_2)], ids=["divided-0", "divided-1", "divided-2", "multiplied-0", "multiplied-1",
                              "multiplied-2"])
def test_every_axis_and_both_factors_against_central_differences(axis, function, tmp_path):
    """z = (A - m) / s and (A - m) * s, m and s constant along one axis of A (3-D)."""
    shape = (4, 3, 5)
    small = tuple(n for k, n in enumerate(shape) if k != axis)
    args = (RNG.standard_normal(shape), RNG.standard_normal(small), 0.3 * RNG.standard_normal(small))
    without, source = both(function, args, (1, 2), tmp_path, divide_after_sums)   # checks the gradient
    shown = rf"dm_part = -\(dz\.sum\(axis={axis}, keepdims=True\) [/*] \w+_part\)"
    assert re.search(shown, body(source)) and not re.search(shown, body(without)), body(source)


# --- on hand-written statements, with the shapes given: run before and after ---------

def run_pass(text, shapes):
    """(result before, result after, new text) of ``f`` in ``text`` with the
    arguments' shapes ``{name: numpy shape}`` as the shape facts."""
    import astor
    import gast
    from pullback.analysis.array_shapes import MANY, ONE, Shape
    from pullback.analysis.shape_classes import ShapeFacts
    from pullback.optimize import OptimizerFacts
    fn = gast.parse(text).body[0]
    values = {name: RNG.standard_normal(shape) + 2.0 for name, shape in shapes.items()
              if name in {a.id for a in fn.args.args}}
    arrays = {name: Shape(tuple(ONE if n == 1 else MANY for n in shape), "float64")
              for name, shape in shapes.items()}
    for stmt in fn.body:
        stmt.pb_sweep = "reverse"
    before, after = {"np": np}, {"np": np}
    exec(text, before)
    fn = divide_after_sums(fn, OptimizerFacts(shapes=ShapeFacts(arrays=arrays)))
    new = astor.to_source(gast.gast_to_ast(gast.Module(body=[fn], type_ignores=[])))
    exec(new, after)
    copies = {name: value.copy() for name, value in values.items()}
    return before["f"](**values), after["f"](**copies), new


def test_hand_written_sums_take_the_factor_and_compute_the_same():
    text = """
def f(g, z, s, c):
    d = g * 1.0
    d /= s
    a = -(d * z).sum(axis=1, keepdims=True)
    b = d.sum(axis=(0, 1), keepdims=True)
    e = (c * z * s).sum(axis=1, keepdims=True)
    return a, b, e
"""
    before, after, new = run_pass(text, {"g": (4, 3, 5), "d": (4, 3, 5), "z": (4, 3, 5), "s": (1, 1, 5),
                                         "c": (4, 3, 5)})
    assert "d /=" not in new and "sum(axis=1, keepdims=True) * s" in new, new
    for one, other in zip(before, after):
        np.testing.assert_allclose(one, other, rtol=1e-13)


@pytest.mark.parametrize("text", ["""
def f(g, z, s, c):
    d = g * 1.0
    d /= s
    r = (d * c).sum(axis=1, keepdims=True)
    return r
""", """
def f(g, z, s, c):
    d = g * 1.0
    d /= s
    r = (d * z).sum(axis=1), d.sum(axis=1, keepdims=True)
    return r
""", """
def f(g, z, s, c):
    r = (z * s).sum(axis=2, keepdims=True)
    return r
"""], ids=["a-factor-with-more-dimensions", "keepdims-false", "varies-along-the-axis"])
def test_hand_written_sums_that_cannot_take_the_factor(text):
    """s (4, 1, 5) is constant along d's axis 1 only: c (2, 4, 3, 5) shifts the
    product's axes against d (4, 3, 5), so its axis 1 is d's axis 0; without
    keepdims the factor no longer lines up; s varies along axis 2."""
    before, after, new = run_pass(text, {"g": (4, 3, 5), "d": (4, 3, 5), "z": (4, 3, 5), "s": (4, 1, 5),
                                         "c": (2, 4, 3, 5)})
    assert ("d /= s" in new) == ("d /= s" in text) and "* s" not in new.replace("z * s", ""), new
    for one, other in zip(np.atleast_1d(before) if not isinstance(before, tuple) else before,
                          np.atleast_1d(after) if not isinstance(after, tuple) else after):
        np.testing.assert_allclose(one, other, rtol=1e-13)
