"""reuse_dead_arrays as a general rule: ``t = a op e`` is written into ``a``'s
array where only ``a`` holds it, nothing reads it afterwards, and the result
has ``a``'s shape and float64 dtype; the near misses keep a new array.

Each program's derivative is generated with the pass and without it
(test_general_passes.generated); every gradient is checked against central
differences, and the caller's arrays against a copy.
"""
import operator
import re

import gast
import numpy as np
import pytest

import pullback
from pullback.analysis.dtypes import _dtype_of, reduced_dtype
from pullback import pipeline
from pullback.optimize import divide_after_sums, reuse_dead_arrays
from test_general_passes import body, both, unchanged

RNG = np.random.default_rng(23)


def stencil_steps(u, k):
    """A 5-point Laplacian of the interior in a loop, padded back with zeros
    (the user's one line is split into temporaries, which become one array
    updated in place)."""
    for step in range(3):
        lap = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4.0 * u[1:-1, 1:-1]
        u = u + k * np.pad(lap, 1)
    return np.sum(u * u)


def scaled_adjoint(means, scales, X):
    """A quotient broadcast over points: the adjoint of the numerator, made
    for the division alone, is divided in place."""
    z = (X[:, None, :] - means[None, :, :]) / np.exp(scales)[None, :, :]
    return np.sum(np.log1p(np.sum(z * z, axis=2)))


def still_read(x, y):
    """``a`` is read after ``a / y``: it keeps its array."""
    a = np.sin(x) * 2.0
    b = a / y
    return np.sum(a * b)


def grows(x, M):
    """``a`` (n,) plus M (m, n) is larger than ``a``: never written into ``a``."""
    a = np.cos(x) * 2.0
    t = a + M
    return np.sum(t * t)


def viewed(x):
    """A view of ``a`` is read after ``a / 3``: ``a``'s array is not only ``a``'s."""
    a = np.exp(x) * 1.5
    v = a[1:]
    t = a / 3.0
    return np.sum(t * t) + np.sum(v * v)


def sum_plus_old(x, w, steps):
    """``x = total + x`` in a loop: the sum's array may not become ``x``'s, as
    ``total += x`` would then read the sum (found when np.sum's float64 dtype
    became known to the analysis)."""
    for _ in range(steps):
        column = x[:, None]
        x = np.sum(column * w, axis=1) + x
    return np.sum(x ** 2)


def test_a_sum_added_to_the_name_it_is_assigned_to(tmp_path):
    without, source = both(sum_plus_old, (RNG.standard_normal(3), 0.3 * RNG.standard_normal((1, 4)),
                                          3), (0, 1), tmp_path, reuse_dead_arrays)
    assert "x += x" not in body(source), body(source)


def test_a_stencil_on_slices_is_summed_in_place(tmp_path):
    without, source = both(stencil_steps, (RNG.standard_normal((6, 5)), 0.1), (0, 1), tmp_path,
                           reuse_dead_arrays)
    assert not re.search(r"lap [-+]= ", body(without)), body(without)
    assert re.search(r"lap = u\[:-2, 1:-1\] \+ u\[2:, 1:-1\]\n(\s+lap \+= .*\n)+\s+lap -= ",
                     body(source)), body(source)


def test_an_adjoint_is_divided_in_place(tmp_path):
    args = (RNG.standard_normal((3, 2)), 0.1 * RNG.standard_normal((3, 2)),
            RNG.standard_normal((50, 2)))
    # (divide_after_sums, next in line, would then divide the two sums of dz instead)
    index = pipeline.OPTIMIZER.index(divide_after_sums)
    pipeline.OPTIMIZER[index] = unchanged
    try:
        without, source = both(scaled_adjoint, args, (0, 1), tmp_path, reuse_dead_arrays)
    finally:
        pipeline.OPTIMIZER[index] = divide_after_sums
    assert "dz /= " not in body(without) and "dz /= " in body(source), body(source)


@pytest.mark.parametrize("function, args, kept", [
    (still_read, (RNG.standard_normal(6), RNG.uniform(1.0, 2.0, 6)), "b = a / y"),
    (grows, (RNG.standard_normal(4), RNG.standard_normal((3, 4))), "t = a + M"),
    (viewed, (RNG.standard_normal(5),), "t = a / 3.0"),
])
def test_the_near_misses_keep_a_new_array(function, args, kept, tmp_path):
    without, source = both(function, args, 0, tmp_path, reuse_dead_arrays)
    assert kept in body(without) and kept in body(source), body(source)


def test_float32_arrays_are_not_written_into(tmp_path):
    """The dtype is not known to be float64: ``a op e`` may be wider than ``a``."""
    u = RNG.standard_normal((6, 5)).astype(np.float32)
    gradient = pullback.grad(stencil_steps, wrt=0)
    gradient(u, 0.1)
    assert not re.search(r"\w+ [-+*/]= ", body(pullback.source(gradient)).split("# reverse")[0])


def test_the_callers_arrays_are_left_alone():
    x, means = RNG.standard_normal((6, 5)), RNG.standard_normal((3, 2))
    scales, X = 0.1 * RNG.standard_normal((3, 2)), RNG.standard_normal((40, 2))
    kept = [a.copy() for a in (x, means, scales, X)]
    pullback.grad(stencil_steps, wrt=(0, 1))(x, 0.1)
    pullback.grad(scaled_adjoint, wrt=(0, 1))(means, scales, X)
    for before, after in zip(kept, (x, means, scales, X)):
        np.testing.assert_array_equal(before, after)


# ------------------------------------------------------------------ the dtypes it relies on

def test_an_operation_s_dtype_is_what_numpy_gives():
    assert _dtype_of(operator.add, ("float64", None)) == "float64"
    assert _dtype_of(np.exp, ("float64",)) == "float64"
    assert _dtype_of(np.exp, ("int64",)) == "float64"
    assert _dtype_of(np.greater, ("float64", None)) == "bool"
    assert _dtype_of(operator.truediv, ("int64", "int64")) == "float64"


def test_a_dtype_a_number_may_change_is_not_known():
    # float32 and a Python float: float32; and a NumPy float64: float64 (NumPy 2)
    found = _dtype_of(operator.mul, ("float32", None))
    assert found is None or np.__version__.startswith("1.")
    assert _dtype_of(operator.add, ("numeric", None)) is None
    assert _dtype_of(np.modf, ("float64",)) is None         # a tuple


def test_a_reduction_keeps_a_float_dtype():
    assert reduced_dtype("float64", {}) == "float64"
    assert reduced_dtype("float32", {}) == "float32"
    assert reduced_dtype("int64", {}) == "numeric"
    given = gast.Attribute(value=gast.Name(id="np", ctx=gast.Load(), annotation=None,
                                           type_comment=None), attr="float32", ctx=gast.Load())
    assert reduced_dtype("float64", {"dtype": given}) == "numeric"
    # the rule binds an argument not given to its default: not a dtype asked for
    assert reduced_dtype("float64", {"dtype": gast.Constant(value=None, kind=None)}) == "float64"
