"""Stage 4b, shapes: which names hold numbers (``scalar_names``), which
values have another's shape or broadcast into it (``shape_representatives``),
and which never hold a list (``flat_names``).

Each test normalizes and resolves a tiny function (tests/analysis/ankit.py)
and asks what the analysis knows of its names.
"""
import math

import numpy as np

from ankit import analyse


def numbers(x, k):
    a = k * 2.0
    b = math.sin(k)
    c = x * k
    d = np.tanh(k)
    return c + a + b + d


def test_arithmetic_math_and_ufuncs_of_numbers_are_numbers():
    scalars = analyse(numbers).scalars(["k"])
    assert {"k", "a", "b", "d"} <= scalars
    assert "c" not in scalars and "x" not in scalars


def test_nothing_is_a_number_when_no_argument_is():
    scalars = analyse(numbers).scalars()
    assert not {"k", "a", "b", "c", "d"} & scalars


def reductions(x):
    total = np.sum(x)
    rows = np.sum(x, axis=0)
    kept = np.mean(x, keepdims=True)
    running = np.cumsum(x)
    return total + np.sum(rows) + np.sum(kept) + np.sum(running)


def test_a_full_reduction_is_a_number_and_a_partial_one_is_not():
    scalars = analyse(reductions).scalars()
    assert "total" in scalars
    assert not {"rows", "kept", "running"} & scalars


def counted(x):
    n = x.shape[0]
    m = len(x)
    s = 0.0
    for i in range(n):
        s = s + x[i] * i
    return s * m


def test_shapes_lengths_and_loop_counters_are_numbers():
    scalars = analyse(counted).scalars()
    assert {"n", "m", "i"} <= scalars
    assert "s" not in scalars       # x[i] of an array may be an array


def rebound(x, k):
    y = k * 2.0
    for i in range(2):
        y = y * x
    return y


def test_a_name_that_is_a_number_at_one_assignment_only_is_not_one():
    assert "y" not in analyse(rebound).scalars(["k"])


def squared_error(x, y):
    sub = x - y
    power = sub ** 2
    scaled = 3.0 * power
    return np.sum(scaled)


def test_elementwise_values_have_the_shape_of_their_operands():
    shapes = analyse(squared_error).shapes()
    assert shapes.same_shape("power", "sub") and shapes.same_shape("scaled", "sub")
    assert shapes.shape_key("sub") == ("x", "y")       # the broadcast of x and y
    assert not shapes.same_shape("sub", "x")


def log_softmax(z):
    e = np.exp(z)
    total = np.sum(e, axis=1, keepdims=True)
    log_total = np.log(total)
    logp = z - log_total
    return np.sum(logp)


def test_a_keepdims_reduction_fits_into_its_operands_shape():
    shapes = analyse(log_softmax).shapes()
    assert shapes.fits["total"] == shapes.shape_of("e")
    assert shapes.fits["log_total"] == shapes.fits["total"]
    assert shapes.same_shape("logp", "z")       # log_total broadcasts into z's shape


def branchy(x, c):
    a = np.sin(x)
    if c > 0.0:
        b = a * 2.0
    else:
        b = a
    return np.sum(b)


def test_values_assigned_in_branches_get_no_shape_fact():
    shapes = analyse(branchy).shapes()
    assert shapes.same_shape("a", "x")
    assert "b" not in shapes


def containers(x, w):
    pair = [x, w]
    reshaped = np.reshape(x, (2, 3))
    pieces = np.split(x, 2)
    product = np.dot(x, w)
    first = pieces[0]
    return np.sum(reshaped) + np.sum(product) + np.sum(first) + np.sum(pair[0])


def test_arrays_numpy_makes_are_flat_and_lists_are_not():
    flat = analyse(containers).flat()
    assert {"reshaped", "product"} <= flat
    assert not {"pair", "pieces"} & flat
