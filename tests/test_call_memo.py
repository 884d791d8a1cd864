"""The per-call fast path (src/pullback/call_memo.py): a call whose arguments
match an earlier call's in type, shape and dtype takes that call's kinds, and
everything that may have changed in between still reaches the derivative.
Gradients are checked against formulas derived by hand."""
import numpy as np
import pytest

import pullback
from pullback import d
from pullback.errors import InvalidArgument

SCALE = 2.0


def scaled_square(x):
    return SCALE * np.sum(x * x)


def test_a_rebound_global_is_seen_by_the_next_call():
    global SCALE
    g = pullback.grad(scaled_square)
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(g(x), 4.0 * x)
    np.testing.assert_allclose(g(x), 4.0 * x)      # the remembered kinds
    SCALE = 3.0
    try:
        np.testing.assert_allclose(g(x), 6.0 * x)
    finally:
        SCALE = 2.0


def cube_sum(x):
    return np.sum(x ** 3)


def test_new_code_is_differentiated_after_a_remembered_call():
    def f(x):
        return np.sum(x ** 2)

    g = pullback.grad(f)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(g(x), 2.0 * x)
    f.__code__ = cube_sum.__code__
    np.testing.assert_allclose(g(x), 3.0 * x ** 2)


def test_shapes_dtypes_and_numbers_each_get_their_own_kinds():
    def f(x, c):
        return np.sum(np.sin(x) * c)

    g = pullback.grad(f, wrt=(0, 1))
    for x in (np.array([0.1, 0.2]), np.array([[0.3], [0.4]]), np.array([0.5], dtype=np.float32),
              np.float64(0.6), 0.7):
        for c in (2.0, np.array([1.5])):
            dx, dc = g(x, c)
            np.testing.assert_allclose(dx, np.cos(x) * c * np.ones_like(x), rtol=1e-6)
            np.testing.assert_allclose(dc, np.sum(np.sin(x)) * np.ones_like(c), rtol=1e-6)
            assert np.shape(dx) == np.shape(x) and np.shape(dc) == np.shape(c)
            assert getattr(dx, "dtype", np.dtype(float)) == getattr(x, "dtype", np.dtype(float))


def test_an_argument_refused_after_a_remembered_call_is_still_refused():
    g = pullback.grad(cube_sum)
    g(np.array([1.0, 2.0]))
    with pytest.raises(InvalidArgument):
        g(np.array([1, 2]))         # integers have no gradient
    with pytest.raises(InvalidArgument):
        g(np.ma.masked_array([1.0, 2.0], mask=[False, True]))


def soft(x):
    return np.log1p(np.exp(x))


def soft_model(x):
    return np.sum(soft(x))


def half_rule(y, x):
    d[x] = d[y] * 0.5       # deliberately not soft's derivative: visible when it applies


def test_a_rule_registered_after_a_remembered_call_applies():
    g = pullback.grad(soft_model)
    x = np.array([0.0, 1.0])
    np.testing.assert_allclose(g(x), 1.0 / (1.0 + np.exp(-x)))
    np.testing.assert_allclose(g(x), 1.0 / (1.0 + np.exp(-x)))
    pullback.register_adjoint(soft)(half_rule)
    np.testing.assert_allclose(g(x), [0.5, 0.5])


def test_a_cleared_cache_regenerates():
    g = pullback.grad(cube_sum)
    x = np.array([1.0, 3.0])
    np.testing.assert_allclose(g(x), 3.0 * x ** 2)
    pullback.clear_cache()
    np.testing.assert_allclose(g(x), 3.0 * x ** 2)


def power(x, n):
    if n <= 1:
        return x
    return x * power(x, n - 1)


def test_a_function_decorated_later_differentiates_its_recursion():
    global power
    original = power
    g = pullback.grad(power)
    assert g(2.0, 3) == pytest.approx(12.0)     # 3 x^2
    power = g                                   # the name now means the derivative
    try:
        assert g(2.0, 3) == pytest.approx(12.0)
        assert g(1.5, 4) == pytest.approx(4 * 1.5 ** 3)
    finally:
        power = original


def layered(Ws, x):
    h = x
    for W in Ws:
        h = h @ W
    return np.sum(h)


def test_containers_of_arrays_take_the_remembered_kinds_by_structure():
    g = pullback.grad(layered)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3))
    for Ws in ([rng.normal(size=(3, 3)), rng.normal(size=(3, 3))],
               [rng.normal(size=(3, 3)), rng.normal(size=(3, 3))],         # remembered
               [rng.normal(size=(3, 4)), rng.normal(size=(4, 1))],         # other shapes
               (rng.normal(size=(3, 3)),),                                 # a tuple of one
               [rng.normal(size=(3, 3)).astype(np.float32), rng.normal(size=(3, 3))]):
        dWs = g(Ws, x)
        # d/dW1 sum(x W1 W2) = x^T 1 W2^T; d/dW2 = (x W1)^T 1
        ones = np.ones((2, Ws[-1].shape[1]))
        expected = [x.T @ ones] if len(Ws) == 1 else [x.T @ ones @ Ws[1].T, (x @ Ws[0]).T @ ones]
        assert type(dWs) is type(Ws) and len(dWs) == len(Ws)
        for got, want, W in zip(dWs, expected, Ws):
            assert got.dtype == W.dtype and got.shape == W.shape
            np.testing.assert_allclose(got, want, rtol=1e-5)
    assert sum(key[0][0] is list for key in g._memo.entries) == 3     # the lists' structures


def weighted(p, x):
    return np.sum(p["w"] * x) + p["b"] * 2.0


def test_a_dict_whose_leaf_changes_kind_or_key_is_looked_at_again():
    g = pullback.grad(weighted)
    x = np.array([1.0, 2.0])
    for p in ({"w": np.array([0.5, 0.5]), "b": 1.0}, {"w": np.array([0.1, 0.2]), "b": 3.0},
              {"w": np.array([0.1, 0.2]), "b": np.float32(3.0)}, {"b": 1.0, "w": np.zeros(2)}):
        dp = g(p, x)
        np.testing.assert_allclose(dp["w"], x)
        assert dp["b"] == pytest.approx(2.0) and type(dp["b"]) is type(p["b"])
    with pytest.raises(InvalidArgument):        # integers only: no gradient, remembered or not
        g({"w": np.array([1, 2]), "b": 1}, x)


def test_the_memo_key_of_a_container():
    from pullback.call_memo import _key
    a = np.zeros((2, 3))
    assert _key(([a, 1.0],)) == _key(([np.ones((2, 3)), 2.0],))
    assert _key(([a, 1.0],)) != _key(([a, 1],)) != _key(((a, 1),))
    assert _key(({"w": a, "b": 1.0},)) != _key(({"b": 1.0, "w": a},))
    assert _key(({1: a},)) != _key(({1.0: a},))
    assert _key(([a, [a, {"k": a}]],)) is not None
    for plain_path_only in ([a, "relu"], [a, None], [a, np.ma.masked_array(a)], [np.sin],
                            [1.0] * 65, [[1.0] * 40, [1.0] * 40]):
        assert _key((plain_path_only,)) is None, plain_path_only
