"""Stages 5 and 6 on the warts of issue 12: the seed of a scalar output.

The seed of a number output is the literal ``1.0`` (stage 6,
transform/seed.py), and a reduction's adjoint that broadcasts a value to its
operand's shape is multiplied by that value alone where the other factors
have the shape already (stage 5, transform/broadcasts.py): a person writes
``dh = 2.0 * h``, not ``np.broadcast_to(dloss, np.shape(h)) * 2 * h``. Every
gradient is checked against central differences, on shapes that broadcast
and in float32.
"""
import numpy as np
import pytest

import pullback
from reference import central_difference


def gradients(function, args, wrt=0):
    """The gradients of ``function`` (checked) and its generated source."""
    derivative = pullback.grad(function, wrt=wrt)
    got = derivative(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for value, index in zip(got, wrt if isinstance(wrt, tuple) else (wrt,)):
        argument = args[index]
        expected = central_difference(function, args, index)
        narrow = getattr(argument, "dtype", None) == np.float32
        np.testing.assert_allclose(value, expected, rtol=1e-4 if narrow else 1e-6,
                                   atol=1e-4 if narrow else 1e-8)
        if isinstance(argument, np.ndarray):
            assert value.shape == argument.shape and value.dtype == argument.dtype
    return got, pullback.source(derivative)


def reverse_sweep(text):
    return text.split("# reverse sweep")[-1]


def squared_norm(h):
    return np.sum(h ** 2)


def squared_norm_of_layer(w, x):
    h = np.tanh(x @ w)
    return np.sum(h ** 2)


def mean_square(x, y):
    return np.mean((x - y) ** 2)


def squared_product(x, w):
    return np.sum((x * w) ** 2)


def scaled_sum(x, w):
    return np.sum(x ** 2 * w)


def times_three(x):
    return np.sum(x * 3.0)


def square_of_a_sum(x):
    s = np.sum(x)
    return s * s


def sums_in_a_loop(x, steps):
    total = 0.0
    for _ in range(steps):
        total = total + np.sum(np.sin(x) ** 2)
        x = x * 0.9 + 0.1
    return total + np.sum(x ** 2)


def sum_in_a_branch(x):
    if np.sum(x) > 0.0:
        y = np.sum(np.cos(x) * x)
    else:
        y = np.sum(x ** 2)
    return y


def energy(pos, vel, masses):
    kinetic = 0.5 * np.sum(masses[:, None] * vel ** 2)
    return kinetic + np.sum(pos ** 2)


RNG = np.random.default_rng(12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_seed_of_a_squared_norm_folds_into_two_times_the_value(dtype):
    h = RNG.standard_normal((3, 2)).astype(dtype)
    (g,), text = gradients(squared_norm, (h,))
    assert "dh = 2.0 * h" in text, text
    assert "broadcast_to" not in text and "dsquared_norm = " not in text, text
    # the dtype NumPy gives the user's values: 2.0 * h in h's dtype, exactly
    np.testing.assert_array_equal(g, 2.0 * h)


def test_the_unfolded_seed_of_issue_12_is_gone():
    w, x = RNG.standard_normal((3, 2)), RNG.standard_normal((4, 3))
    _, text = gradients(squared_norm_of_layer, (w, x))
    assert "dh = 2.0 * h" in text and "broadcast_to" not in text, text


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_mean_divides_by_the_size_without_broadcasting(dtype):
    x = RNG.standard_normal((2, 3)).astype(dtype)
    y = RNG.standard_normal((2, 3)).astype(dtype)
    _, text = gradients(mean_square, (x, y), (0, 1))
    assert "broadcast_to" not in text, text


@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((3, 4), (4,)), ((2, 3), ())])
def test_a_broadcast_product_squared(shapes):
    x = RNG.standard_normal(shapes[0])
    w = RNG.standard_normal(shapes[1]) if shapes[1] else 0.7
    _, text = gradients(squared_product, (x, w), (0, 1))
    assert "broadcast_to" not in text, text


@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((3, 4), (4,)), ((4,), (3, 4))])
def test_a_factor_without_the_sums_shape_keeps_the_broadcast(shapes):
    # d[power] = unbroadcast(d[mul] * w, power): w alone has not mul's shape
    x, w = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    _, text = gradients(scaled_sum, (x, w), (0, 1))
    assert "broadcast_to" in text, text


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_number_factor_keeps_the_broadcast(dtype):
    # d[x] = d[mul] * 3.0: without the broadcast it would be a number
    x = RNG.standard_normal(4).astype(dtype)
    (g,), _ = gradients(times_three, (x,))
    np.testing.assert_array_equal(g, np.full(4, 3.0, dtype))


def test_a_scalar_output_read_twice():
    gradients(square_of_a_sum, (RNG.standard_normal(5),))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sums_in_a_loop(dtype):
    _, text = gradients(sums_in_a_loop, (RNG.standard_normal(3).astype(dtype), 3))
    assert "dx = 2.0 * x" in reverse_sweep(text), text


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_sums_in_branches(sign):
    gradients(sum_in_a_branch, (sign * (RNG.random(3) + 0.1),))


def test_the_n_body_energy_seed():
    pos, vel, masses = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2)), RNG.random(3) + 1
    _, text = gradients(energy, (pos, vel, masses), (0, 1))
    assert "dpos = 2.0 * pos" in text, text


def test_a_vjp_keeps_its_cotangent():
    x = RNG.standard_normal(3)
    value, back = pullback.vjp(squared_norm, x)
    (g,) = back(2.5)
    np.testing.assert_allclose(g, 5.0 * x)
    (g,) = back(np.float32(-1.0))
    np.testing.assert_allclose(g, -2.0 * x)


def test_value_and_grad_of_a_squared_norm():
    x = RNG.standard_normal(3)
    value, g = pullback.value_and_grad(squared_norm)(x)
    np.testing.assert_allclose(value, np.sum(x ** 2))
    np.testing.assert_allclose(g, 2.0 * x)


def test_a_function_returning_its_argument():
    def identity(x):
        return x
    assert pullback.grad(identity)(0.5) == 1.0


def sum_before_its_operand_is_assigned(x, steps):
    total = 0.0
    a = x * 1.0
    for _ in range(steps):
        t = np.sum(a)
        total = total + t * t
        a = np.sin(x) ** 2 * t
    return total + np.sum(a)


def test_a_sum_of_the_value_the_last_step_assigned():
    # the reverse step meets a's assignment before the sum of a: the
    # broadcast it knows of belongs to another step
    for steps in (1, 2, 4):
        gradients(sum_before_its_operand_is_assigned, (RNG.standard_normal(3), steps))


def sum_then_branch(x, flag):
    y = x * 1.0
    if flag > 0:
        y = np.sin(x)
    s = np.sum(y)
    if flag > 1:
        y = y ** 2
    return s + np.sum(y ** 2)


@pytest.mark.parametrize("flag", [0, 1, 2])
def test_sums_around_branches(flag):
    gradients(sum_then_branch, (RNG.standard_normal(3), flag))
