"""Silently wrong gradients found while building issue 14, reduced by hand;
each against float64 central differences, in reverse and forward mode."""
import numpy as np
import pytest

import pullback
from reference import central_difference


def square_a_parameter_in_a_branch(x, c):
    # A parameter reassigned from itself in a branch was not saved (only names
    # assigned twice in the body were): the reverse sweep read the new x.
    if c > 0:
        x = x * x
    return np.sum(x)


def copy_a_parameter_in_a_branch(x, c):
    # x = np.copy(x) in a branch: the adjoint of the copy was added to itself (dx += dx).
    if c > 0:
        x = np.copy(x)
    return np.sum(x * 2.0)


def sine_of_a_number_parameter_in_a_branch(x, c):
    if c > 0:
        x = np.sin(x)
    return x * 3.0


def copy_then_write_in_a_branch(x, y, c):
    if c > 0:
        x = x.copy()
    x[0] = x[1] * y[0]
    return np.sum(x * x)


@pytest.mark.parametrize("f, args", [
    (square_a_parameter_in_a_branch, (np.array([1.0, 2.0, 3.0]), 1.0)),
    (square_a_parameter_in_a_branch, (np.array([1.0, 2.0, 3.0]), -1.0)),
    (copy_a_parameter_in_a_branch, (np.array([1.0, 2.0, 3.0]), 1.0)),
    (sine_of_a_number_parameter_in_a_branch, (0.7, 1.0)),
    (copy_then_write_in_a_branch, (np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.5]), 1.0)),
], ids=["square", "square-not-taken", "copy", "sine-number", "copy-then-write"])
def test_a_parameter_reassigned_in_a_branch(f, args):
    def fresh(*values):         # f may write into its argument: each call gets its own
        return f(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in values])
    expected = central_difference(fresh, args, 0)
    np.testing.assert_allclose(pullback.grad(f)(*args), expected, rtol=1e-6)
    direction = np.ones_like(args[0]) if np.ndim(args[0]) else 1.0
    _, tangent = pullback.jvp(f, args, (direction,) + (None,) * (len(args) - 1))
    assert tangent == pytest.approx(np.sum(expected), rel=1e-6)


def union_of_parameter_dicts(p, q):
    # p | q was read as an integer operator: no derivative, all-zero gradients
    c = p | q
    return np.sum(c["a"] * c["b"])


def union_and_masks(x):
    mask = (x > 0.5) | (x < -0.5)           # masks: | carries no derivative
    d = {"a": x} | {"b": x * 2.0, "a": x ** 2}
    return np.sum(np.where(mask, d["a"], 0.0)) + np.sum(d["b"])


def test_a_dict_union_is_differentiated():
    x, y = np.array([0.3, 1.0]), np.array([2.0, -1.0])
    gp, gq = pullback.grad(union_of_parameter_dicts, wrt=(0, 1))({"a": x}, {"b": y})
    np.testing.assert_allclose(gp["a"], y)
    np.testing.assert_allclose(gq["b"], x)
    for tangents, expected in ((({"a": np.ones(2)}, None), np.sum(y)),
                               ((None, {"b": np.ones(2)}), np.sum(x)),
                               (({"a": np.ones(2)}, {"b": np.ones(2)}), np.sum(x + y))):
        _, tangent = pullback.jvp(union_of_parameter_dicts, ({"a": x}, {"b": y}), tangents)
        assert tangent == pytest.approx(expected)
    z = np.array([0.2, 0.7, -0.9])
    expected = central_difference(union_and_masks, (z,), 0)
    np.testing.assert_allclose(pullback.grad(union_and_masks)(z), expected, rtol=1e-6)
    assert pullback.jvp(union_and_masks, (z,), (np.ones(3),))[1] == pytest.approx(np.sum(expected))


def write_through_an_item_of_a_dict(x):
    # h *= 3.0 changes the array the dict holds; it was read as h = h * 3.0, leaving
    # cache["h"] as it was: a wrong value and gradient, silently
    cache = {"h": x * 2.0}
    h = cache["h"]
    h *= 3.0  # refused: dict-item
    return np.sum(cache["h"] ** 2)


def write_into_a_field_of_an_argument(p):
    w = p.w
    w[0] = 5.0  # refused: field
    return np.sum(w) + p.b


def test_a_write_through_what_a_container_holds_is_refused():
    import collections
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(pullback.UnsupportedSyntax, match="in-place update of 'h'"):
        pullback.grad(write_through_an_item_of_a_dict)(x)
    pair = collections.namedtuple("Pair", "w b")(np.array([1.0, 2.0]), 0.5)
    with pytest.raises(pullback.UnsupportedSyntax, match="changes w in place"):
        pullback.grad(write_into_a_field_of_an_argument)(pair)
    np.testing.assert_array_equal(pair.w, [1.0, 2.0])       # the caller's array


def covariance_in_a_loop(m):
    # cov_grads declared it read m only for its shape, so a loop's overwritten m
    # would have been saved without its data
    total = 0.0
    for step in range(2):
        m = np.tanh(m) * 1.5
        total = total + np.sum(np.cov(m) ** 2) + np.sum(np.corrcoef(m))
    return total


def test_covariance_of_a_value_a_loop_overwrites():
    m = np.array([[0.2, -0.5, 0.9, 0.1], [0.4, 0.3, -0.7, 0.6], [0.0, 0.8, 0.5, -0.2]])
    np.testing.assert_allclose(pullback.grad(covariance_in_a_loop)(m),
                               central_difference(covariance_in_a_loop, (m,), 0), rtol=1e-5,
                               atol=1e-8)


def new_keys_in_a_loop(x):
    # d[name] = ... of a key the dict does not have yet, in a loop (KeyError before)
    d = {}
    for name in ["a", "b"]:
        d[name] = x * 2.0
    new = {}
    for k, v in d.items():
        new[k] = v * v
    return np.sum(new["a"] + new["b"])


def test_new_keys_written_in_a_loop():
    x = np.array([0.5, 1.5])
    expected = central_difference(new_keys_in_a_loop, (x,), 0)
    np.testing.assert_allclose(pullback.grad(new_keys_in_a_loop)(x), expected, rtol=1e-6)
    assert pullback.jvp(new_keys_in_a_loop, (x,), (np.ones(2),))[1] == pytest.approx(np.sum(expected))
