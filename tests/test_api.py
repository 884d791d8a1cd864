"""The public API: grad, value_and_grad, vjp, source.

Every gradient here is checked against float64 central differences
(``central_difference`` from tests/reference.py, independent of
pullback.check_grads) or a hand-derived formula, never against another
gradient pullback computed.
"""
import doctest
import inspect
import math
import re
import warnings

import numpy as np
import pytest

import pullback
import pullback.api
import pullback.checking
from reference import central_difference


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def assert_gradient(got, expected, like, rtol=1e-5, atol=1e-6):
    """``got`` has the type/shape/dtype of argument ``like`` and matches ``expected``."""
    if isinstance(like, np.ndarray):
        assert isinstance(got, np.ndarray), f"expected an ndarray gradient, got {type(got)}"
        assert got.shape == like.shape, f"gradient shape {got.shape} != argument shape {like.shape}"
        assert got.dtype == like.dtype, f"gradient dtype {got.dtype} != argument dtype {like.dtype}"
    elif isinstance(like, np.generic):
        assert type(got) is type(like), f"expected {type(like)}, got {type(got)}"
    else:
        assert type(got) is float, f"a Python float argument needs a Python float gradient, got {type(got)}"
    assert np.all(np.isfinite(got)), f"gradient is not finite: {got!r}"
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected,
                               rtol=rtol, atol=atol, equal_nan=False)


def rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------
# User functions (module level: pullback reads their source)
# --------------------------------------------------------------------------

def two_args(x, y):
    return np.sum(np.sin(x) * y ** 2 + np.exp(0.3 * x))


def three_args(a, b, c):
    return np.sum(a * b + np.tanh(b) * c ** 2) + np.mean(c)


def vector_valued(x, y):
    z = np.sin(x) * y
    return z * x + 2.0


def scalar_valued(x, y):
    return np.sum(x * x * y)


def with_defaults(x, y=2.0, *, scale=3.0, offset=0.5):
    return np.sum(scale * np.sin(x) * y + offset * x * x)


def readable(w, x):
    hidden = np.tanh(w * x)
    return np.sum(hidden * hidden)


def python_scalars(x, y):
    u = math.sin(x) * y
    v = math.exp(-x * y) + math.sqrt(y * y + 1.0)
    return u * v + x ** 3


def elementwise_mix(x):
    return np.sum(np.sin(x) * np.cos(x) + np.exp(0.1 * x) * np.log(x + 3.0))


def partly_unused(x, y):
    waste = np.sin(y) * 3.0
    return np.sum(x ** 2)


def only_compared(x, y):
    mask = y > 0.0
    return np.sum(np.where(mask, x * x, 0.5 * x))


def dead_branch_uses_y(x, y):
    unused = np.exp(y) * x
    total = np.sum(np.cos(x))
    return total


def sum_all(x):
    return np.sum(x)


def identity(x):
    return x


def plus_constant(x):
    return x + 1.0


def sum_pair(a, b):
    return np.sum(a + b)


def add_pair(a, b):
    return a + b


def pass_through(x, y):
    return x * 1.0 + y


def mutating_looking(x):
    x += 1.0
    x *= 2.0
    x -= np.sin(x)
    return np.sum(x * x)


def squares(x):
    return np.sum(x * x)


def cubes(x):
    return np.sum(x * x * x)


def product(a, b):
    return np.sum(a * b + a)


def used_many_times(x):
    y = np.sin(x)
    return np.sum(y * y + y + np.exp(y) * x + y / (1.0 + y * y) + y * x * y)


def reassigned(x):
    x = x * 2.0
    x = np.sin(x)
    return np.sum(x)


def reassigned_more(x, y):
    z = x * y
    z = z + x
    z = np.tanh(z)
    x = z * x
    x += z
    x *= 1.5
    x /= 2.0
    x -= y
    x **= 2
    z = x + z
    return np.sum(z)


def reassigned_scalar(x):
    x = x * 2.0
    x = math.sin(x)
    x += x * x
    return x


def broadcast_three(s, col, row):
    grid = s * col + col * row - np.sin(row) * s
    return np.sum(grid * grid) + np.mean(col / (2.0 + row))


def broadcast_rows(a, b):
    return np.sum(np.maximum(a * b, 0.1 * b) + np.minimum(a, b))


def float32_fn(x, y):
    return np.sum(np.tanh(x) * y + x * x)


SCALE = 2.0


def uses_global(x):
    return np.sum(SCALE * x * x)


def scalar_seed_named(x):
    scalar_seed = x * 2.0
    return np.sum(scalar_seed)


def helper_named(x):
    unbroadcast = x * 3.0
    return np.sum(unbroadcast * x)


# --------------------------------------------------------------------------
# grad: wrt forms
# --------------------------------------------------------------------------

X3 = np.array([0.3, -1.2, 2.0])
Y3 = np.array([1.5, 0.7, -0.4])


def test_grad_wrt_int_defaults_to_first_argument():
    g = pullback.grad(two_args)(X3, Y3)
    assert_gradient(g, central_difference(two_args, (X3, Y3), 0), X3)


def test_grad_wrt_int_second_argument():
    g = pullback.grad(two_args, wrt=1)(X3, Y3)
    assert_gradient(g, central_difference(two_args, (X3, Y3), 1), Y3)


def test_grad_wrt_tuple_returns_tuple_in_wrt_order():
    a, b, c = rng().standard_normal(4), rng(1).standard_normal(4), rng(2).standard_normal(4)
    args = (a, b, c)
    result = pullback.grad(three_args, wrt=(2, 0))(*args)
    assert isinstance(result, tuple) and len(result) == 2
    assert_gradient(result[0], central_difference(three_args, args, 2), c)
    assert_gradient(result[1], central_difference(three_args, args, 0), a)


def test_grad_wrt_one_element_tuple_returns_one_element_tuple():
    result = pullback.grad(two_args, wrt=(1,))(X3, Y3)
    assert isinstance(result, tuple) and len(result) == 1
    assert_gradient(result[0], central_difference(two_args, (X3, Y3), 1), Y3)


def test_grad_negative_wrt_index():
    g = pullback.grad(two_args, wrt=-1)(X3, Y3)
    assert_gradient(g, central_difference(two_args, (X3, Y3), 1), Y3)
    gx, gy = pullback.grad(two_args, wrt=(-2, -1))(X3, Y3)
    assert_gradient(gx, central_difference(two_args, (X3, Y3), 0), X3)
    assert_gradient(gy, central_difference(two_args, (X3, Y3), 1), Y3)


@pullback.grad
def decorated(x):
    return np.sum(np.tanh(x) * x)


def test_bare_decorator_differentiates_first_argument():
    x = np.array([-0.5, 0.1, 1.3])
    t = np.tanh(x)
    expected = t + x * (1.0 - t * t)            # d/dx sum(tanh(x) * x)
    assert_gradient(decorated(x), expected, x)


@pullback.grad(wrt=1)
def decorated_wrt_1(x, y):
    return np.sum(x * np.exp(y))


def test_decorator_factory_with_wrt():
    x, y = np.array([1.0, 2.0]), np.array([0.5, -0.25])
    assert_gradient(decorated_wrt_1(x, y), x * np.exp(y), y)


@pullback.value_and_grad
def decorated_value_and_grad(x):
    return x ** 3 - 2.0 * x


def test_value_and_grad_bare_decorator():
    value, g = decorated_value_and_grad(1.5)
    assert value == pytest.approx(1.5 ** 3 - 3.0, rel=1e-14)
    assert_gradient(g, 3 * 1.5 ** 2 - 2.0, 1.5)


def test_grad_of_a_method_like_function_defined_in_a_test():
    class Model:
        def __init__(self, scale):
            self.scale = scale

        def loss(self, x):
            y = x * self.scale
            return np.sum(np.sin(y))

    model = Model(3.0)
    x = np.array([0.2, -0.4])
    g = pullback.grad(Model.loss, wrt=1)(model, x)
    assert_gradient(g, 3.0 * np.cos(3.0 * x), x)


# --------------------------------------------------------------------------
# value_and_grad
# --------------------------------------------------------------------------

def test_value_and_grad_returns_value_and_gradient():
    value, g = pullback.value_and_grad(two_args)(X3, Y3)
    np.testing.assert_allclose(value, two_args(X3, Y3), rtol=1e-13)
    assert_gradient(g, central_difference(two_args, (X3, Y3), 0), X3)


def test_value_and_grad_with_tuple_wrt():
    value, (gx, gy) = pullback.value_and_grad(two_args, wrt=(0, 1))(X3, Y3)
    np.testing.assert_allclose(value, two_args(X3, Y3), rtol=1e-13)
    assert_gradient(gx, central_difference(two_args, (X3, Y3), 0), X3)
    assert_gradient(gy, central_difference(two_args, (X3, Y3), 1), Y3)


def test_value_and_grad_python_scalars():
    value, (gx, gy) = pullback.value_and_grad(python_scalars, wrt=(0, 1))(0.7, 1.3)
    assert value == pytest.approx(python_scalars(0.7, 1.3), rel=1e-14)
    assert_gradient(gx, central_difference(python_scalars, (0.7, 1.3), 0), 0.7)
    assert_gradient(gy, central_difference(python_scalars, (0.7, 1.3), 1), 1.3)


# --------------------------------------------------------------------------
# vjp
# --------------------------------------------------------------------------

def test_vjp_value_and_back_default_wrt_is_every_positional_argument():
    x, y = np.array([0.1, 0.9, -2.0]), np.array([1.0, -0.5, 0.25])
    value, back = pullback.vjp(vector_valued, x, y)
    np.testing.assert_allclose(value, vector_valued(x, y), rtol=1e-14)
    cotangent = np.array([1.0, -2.0, 0.5])
    result = back(cotangent)
    assert isinstance(result, tuple) and len(result) == 2
    assert_gradient(result[0], central_difference(vector_valued, (x, y), 0, cotangent=cotangent), x)
    assert_gradient(result[1], central_difference(vector_valued, (x, y), 1, cotangent=cotangent), y)


def test_vjp_wrt_int_returns_a_one_element_tuple():
    x, y = np.array([0.1, 0.9]), np.array([1.0, -0.5])
    _, back = pullback.vjp(vector_valued, x, y, wrt=1)
    cotangent = np.array([0.3, 2.0])
    result = back(cotangent)
    assert isinstance(result, tuple) and len(result) == 1
    assert_gradient(result[0], central_difference(vector_valued, (x, y), 1, cotangent=cotangent), y)


def test_vjp_wrt_subset_and_order():
    x, y = np.array([0.1, 0.9]), np.array([1.0, -0.5])
    _, back = pullback.vjp(vector_valued, x, y, wrt=(1, 0))
    cotangent = np.array([0.3, 2.0])
    gy, gx = back(cotangent)
    assert_gradient(gy, central_difference(vector_valued, (x, y), 1, cotangent=cotangent), y)
    assert_gradient(gx, central_difference(vector_valued, (x, y), 0, cotangent=cotangent), x)


def test_vjp_back_can_be_called_repeatedly_with_different_cotangents():
    x, y = np.array([0.1, 0.9]), np.array([1.0, -0.5])
    _, back = pullback.vjp(vector_valued, x, y)
    for cotangent in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([-3.0, 0.5])):
        gx, gy = back(cotangent)
        assert_gradient(gx, central_difference(vector_valued, (x, y), 0, cotangent=cotangent), x)
        assert_gradient(gy, central_difference(vector_valued, (x, y), 1, cotangent=cotangent), y)


def test_vjp_of_scalar_output_scales_the_gradient():
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    value, back = pullback.vjp(scalar_valued, x, y)
    np.testing.assert_allclose(value, scalar_valued(x, y), rtol=1e-14)
    gx, gy = back(2.5)
    assert_gradient(gx, 2.5 * central_difference(scalar_valued, (x, y), 0), x)
    assert_gradient(gy, 2.5 * central_difference(scalar_valued, (x, y), 1), y)


@pytest.mark.parametrize("bad", [np.ones(4), np.ones((3, 1)), np.ones((1, 3)), np.float64(1.0), 1.0])
def test_vjp_cotangent_of_the_wrong_shape_is_refused(bad):
    x, y = np.array([0.1, 0.9, 0.3]), np.array([1.0, -0.5, 0.2])
    _, back = pullback.vjp(vector_valued, x, y)
    with pytest.raises(pullback.InvalidArgument) as info:
        back(bad)
    assert "(3,)" in str(info.value)


def test_vjp_scalar_output_refuses_an_array_cotangent():
    _, back = pullback.vjp(scalar_valued, np.ones(2), np.ones(2))
    with pytest.raises(pullback.InvalidArgument):
        back(np.ones(1))


def test_vjp_uses_defaults_of_the_function():
    x = np.array([0.4, -0.3])
    value, back = pullback.vjp(with_defaults, x)
    np.testing.assert_allclose(value, with_defaults(x), rtol=1e-14)
    (g,) = back(1.0)
    assert_gradient(g, central_difference(with_defaults, (x,), 0), x)


# --------------------------------------------------------------------------
# source
# --------------------------------------------------------------------------

def test_source_is_readable():
    df = pullback.grad(readable)
    text = pullback.source(df)
    assert "def dreadable_dw(" in text
    assert re.search(r"\bdw\b", text) and re.search(r"\bdhidden\b", text)
    assert "# grad of: hidden = np.tanh(w * x)" in text
    assert "# grad of: return np.sum(hidden * hidden)" in text
    assert not re.search(r"\b_?t\d+\b", text), "temporaries should be named after their operation"
    assert "_t0" not in text
    compile(text, "<generated>", "exec")            # the source is valid Python


def test_source_names_follow_the_wrt_arguments():
    text = pullback.source(pullback.grad(readable, wrt=(0, 1)))
    assert "def dreadable_dw_dx(" in text
    assert re.search(r"\bdx\b", text)


def test_source_of_value_and_grad():
    text = pullback.source(pullback.value_and_grad(readable))
    assert "def value_and_dreadable_dw(" in text
    assert "# grad of:" in text


def test_source_can_be_read_before_the_first_call_and_derivative_still_works():
    df = pullback.grad(readable)
    pullback.source(df)
    w, x = np.array([0.3, -0.2]), np.array([1.5, 2.0])
    assert_gradient(df(w, x), central_difference(readable, (w, x), 0), w)


def test_inspect_getsource_sees_the_generated_function():
    df = pullback.grad(readable)
    pullback.source(df)         # generated now (reading __wrapped__ never generates)
    assert "def dreadable_dw(" in inspect.getsource(df)


def mean_over_axis_tuple(x):
    return np.mean(x * x, axis=(0, 1)) + np.sum(np.sin(x), axis=(0, 1))


def test_generated_code_compiles_without_warnings():
    # A tuple axis must not leave `if (0, 1) is None:` in the generated code.
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = pullback.source(pullback.grad(mean_over_axis_tuple))
        g = pullback.grad(mean_over_axis_tuple)(x)
    assert_gradient(g, x / 2.0 + np.cos(x), x)
    syntax = [w for w in caught if issubclass(w.category, SyntaxWarning)]
    assert not syntax, f"generated code warns: {[str(w.message) for w in syntax]}\n{text}"


def test_source_refuses_something_that_is_not_a_derivative():
    with pytest.raises(pullback.InvalidArgument):
        pullback.source(readable)


# --------------------------------------------------------------------------
# Call signature: defaults, keyword arguments, keyword-only parameters
# --------------------------------------------------------------------------

XD = np.array([0.3, -0.8, 1.1])


def test_defaults_are_applied():
    g = pullback.grad(with_defaults)(XD)
    assert_gradient(g, central_difference(with_defaults, (XD,), 0), XD)


def test_keyword_only_parameters_are_passed_through():
    kwargs = {"scale": 0.5, "offset": -2.0}
    g = pullback.grad(with_defaults)(XD, **kwargs)
    assert_gradient(g, central_difference(with_defaults, (XD,), 0, kwargs=kwargs), XD)


def test_differentiated_argument_given_by_keyword():
    g = pullback.grad(with_defaults)(y=1.5, x=XD, offset=0.25)
    expected = central_difference(with_defaults, (XD, 1.5), 0, kwargs={"offset": 0.25})
    assert_gradient(g, expected, XD)


def test_gradient_with_respect_to_a_defaulted_parameter_given_by_keyword():
    g = pullback.grad(with_defaults, wrt=1)(XD, y=1.5, scale=2.0)
    expected = central_difference(with_defaults, (XD, 1.5), 1, kwargs={"scale": 2.0})
    assert_gradient(g, expected, 1.5)


def test_gradient_with_respect_to_a_parameter_left_at_its_default():
    g = pullback.grad(with_defaults, wrt=1)(XD)
    assert_gradient(g, central_difference(with_defaults, (XD, 2.0), 1), 2.0)


def test_bad_call_raises_type_error_like_the_function():
    df = pullback.grad(with_defaults)
    with pytest.raises(TypeError):
        df()                        # missing x
    with pytest.raises(TypeError):
        df(XD, 1.0, 2.0)            # scale is keyword-only
    with pytest.raises(TypeError):
        df(XD, nonsense=1.0)


def test_non_differentiated_argument_may_be_an_int():
    def power_sum(x, n):
        return np.sum(x ** n)

    x = np.array([0.5, 1.5])
    g = pullback.grad(power_sum)(x, 3)
    assert_gradient(g, 3 * x ** 2, x)


# --------------------------------------------------------------------------
# Types, shapes and dtypes of gradients
# --------------------------------------------------------------------------

def test_python_float_inputs_give_python_float_gradients():
    gx, gy = pullback.grad(python_scalars, wrt=(0, 1))(0.4, -1.1)
    assert type(gx) is float and type(gy) is float
    assert_gradient(gx, central_difference(python_scalars, (0.4, -1.1), 0), 0.4)
    assert_gradient(gy, central_difference(python_scalars, (0.4, -1.1), 1), -1.1)


def test_python_float_through_numpy_functions_gives_python_float():
    g = pullback.grad(elementwise_mix)(0.8)
    assert type(g) is float
    assert_gradient(g, central_difference(elementwise_mix, (0.8,), 0), 0.8)


def test_python_float_identity_gradient_is_one():
    g = pullback.grad(identity)(3.0)
    assert type(g) is float and g == 1.0


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 2)])
def test_float64_arrays_give_float64_gradients(shape):
    r = rng(3)
    x = r.standard_normal(shape)
    y = r.standard_normal(shape)
    g = pullback.grad(float32_fn, wrt=(0, 1))(x, y)
    assert_gradient(g[0], central_difference(float32_fn, (x, y), 0), x)
    assert_gradient(g[1], central_difference(float32_fn, (x, y), 1), y)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 2)])
def test_float32_arrays_give_float32_gradients(shape):
    r = rng(4)
    x = r.standard_normal(shape).astype(np.float32)
    y = r.standard_normal(shape).astype(np.float32)
    gx, gy = pullback.grad(float32_fn, wrt=(0, 1))(x, y)
    assert_gradient(gx, central_difference(float32_fn, (x, y), 0), x, rtol=1e-4, atol=1e-5)
    assert_gradient(gy, central_difference(float32_fn, (x, y), 1), y, rtol=1e-4, atol=1e-5)


def test_float32_mixed_with_float64_keeps_each_arguments_dtype():
    x = np.array([0.1, 0.5, -0.7], dtype=np.float32)
    y = np.array([1.0, 2.0, 3.0], dtype=np.float64)
    gx, gy = pullback.grad(float32_fn, wrt=(0, 1))(x, y)
    assert_gradient(gx, central_difference(float32_fn, (x, y), 0), x, rtol=1e-4, atol=1e-5)
    assert_gradient(gy, central_difference(float32_fn, (x, y), 1), y, rtol=1e-4, atol=1e-5)


def test_numpy_scalar_inputs_keep_their_type():
    x32, x64 = np.float32(0.6), np.float64(0.6)
    g32 = pullback.grad(elementwise_mix)(x32)
    g64 = pullback.grad(elementwise_mix)(x64)
    expected = central_difference(elementwise_mix, (0.6,), 0)
    assert_gradient(g32, expected, x32, rtol=1e-4, atol=1e-5)
    assert_gradient(g64, expected, x64)


@pytest.mark.parametrize("y", [
    np.ones((2, 3), dtype=np.float32), np.ones((3,)), np.float32(2.0), 2.0, np.array(2.0),
], ids=["f32-2x3", "f64-3", "np.float32", "float", "0d"])
@pytest.mark.parametrize("function", [partly_unused, only_compared, dead_branch_uses_y])
def test_gradient_of_an_unused_argument_is_zeros_of_the_right_shape_and_dtype(function, y):
    x = np.array([0.5, -1.5, 2.0])
    gx, gy = pullback.grad(function, wrt=(0, 1))(x, y)
    assert_gradient(gy, np.zeros(np.shape(y)), y)
    assert np.all(np.asarray(gy) == 0)
    assert_gradient(gx, central_difference(function, (x, y), 0), x)


def test_gradient_through_comparison_mask():
    x = np.array([0.5, -1.5, 2.0])
    y = np.array([1.0, 1.0, -1.0])
    g = pullback.grad(only_compared)(x, y)
    assert_gradient(g, np.where(y > 0, 2 * x, 0.5), x)


# --------------------------------------------------------------------------
# The caller's values are never modified; gradients never alias inputs
# --------------------------------------------------------------------------

def _no_alias(gradient, inputs):
    for value in inputs:
        if isinstance(value, np.ndarray):
            assert gradient is not value, "a gradient is one of the caller's arrays"
            assert not np.shares_memory(gradient, value), "a gradient is a view of a caller's array"


@pytest.mark.parametrize("function, shapes, wrt", [
    (sum_all, [(3,)], (0,)),
    (sum_pair, [(3,), (3,)], (0, 1)),
    (squares, [(2, 2)], (0,)),
    (mutating_looking, [(4,)], (0,)),
    (reassigned_more, [(3,), (3,)], (0, 1)),
    (broadcast_three, [(), (3, 1), (4,)], (0, 1, 2)),
    (with_defaults, [(3,)], (0,)),
])
def test_grad_leaves_inputs_untouched_and_returns_fresh_arrays(function, shapes, wrt):
    r = rng(5)
    args = [r.standard_normal(s) for s in shapes]
    before = [a.copy() for a in args]
    gradients = pullback.grad(function, wrt=wrt)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    for g, i in zip(gradients, wrt):
        assert_gradient(g, central_difference(function, args, i), args[i])
        _no_alias(g, args)
    # Writing into a gradient changes neither an input nor another gradient.
    snapshots = [np.array(g, copy=True) for g in gradients]
    for g in gradients:
        if isinstance(g, np.ndarray) and g.ndim:
            g[...] = 1234.5
            break
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    changed = [not np.array_equal(g, s) for g, s in zip(gradients, snapshots)]
    assert sum(changed) <= 1, "two gradients share memory"


def test_grad_of_augmented_assignment_does_not_mutate_the_callers_array():
    x = np.array([0.5, 1.0, -2.0])
    before = x.copy()
    g = pullback.grad(mutating_looking)(x)
    np.testing.assert_array_equal(x, before)
    assert_gradient(g, central_difference(mutating_looking, (before,), 0), before)


@pytest.mark.parametrize("function, shapes", [
    (identity, [(3,)]),
    (plus_constant, [(3,)]),
    (add_pair, [(3,), (3,)]),
    (pass_through, [(2, 3), (3,)]),
    (vector_valued, [(3,), (3,)]),
])
def test_vjp_leaves_inputs_and_cotangent_untouched_and_returns_fresh_arrays(function, shapes):
    r = rng(6)
    args = [r.standard_normal(s) for s in shapes]
    before = [a.copy() for a in args]
    value, back = pullback.vjp(function, *args)
    cotangent = r.standard_normal(np.shape(value))
    cotangent_before = cotangent.copy()
    gradients = back(cotangent)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(cotangent, cotangent_before)
    for i, g in enumerate(gradients):
        assert_gradient(g, central_difference(function, before, i, cotangent=cotangent_before), args[i])
        _no_alias(g, args + [cotangent, value])
        g[...] = -7.0
    np.testing.assert_array_equal(cotangent, cotangent_before)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


def test_value_and_grad_of_identity_does_not_return_the_input():
    x = np.array([1.0, 2.0])
    value, g = pullback.value_and_grad(sum_all)(x)
    _no_alias(g, [x])
    np.testing.assert_array_equal(g, np.ones(2))


# --------------------------------------------------------------------------
# Repeated uses and reassignment
# --------------------------------------------------------------------------

def test_same_array_passed_twice():
    x = np.array([0.5, -1.0, 2.0])
    ga, gb = pullback.grad(product, wrt=(0, 1))(x, x)
    assert_gradient(ga, x + 1.0, x)          # d/da sum(a*b + a) = b + 1
    assert_gradient(gb, x, x)                # d/db = a


def test_a_variable_multiplied_by_itself():
    x = np.array([0.5, -1.0, 2.0])
    assert_gradient(pullback.grad(squares)(x), 2 * x, x)
    assert_gradient(pullback.grad(cubes)(x), 3 * x * x, x)


def test_a_variable_used_many_times_accumulates():
    x = np.array([0.5, -1.0, 2.0, 0.0])
    g = pullback.grad(used_many_times)(x)
    assert_gradient(g, central_difference(used_many_times, (x,), 0), x)


def test_reassigned_parameter():
    x = np.array([0.1, 0.7, -1.2])
    assert_gradient(pullback.grad(reassigned)(x), 2.0 * np.cos(2.0 * x), x)


def test_many_reassignments_and_augmented_assignments():
    x, y = np.array([0.1, 0.7, -1.2]), np.array([0.3, -0.2, 0.9])
    gx, gy = pullback.grad(reassigned_more, wrt=(0, 1))(x, y)
    assert_gradient(gx, central_difference(reassigned_more, (x, y), 0), x)
    assert_gradient(gy, central_difference(reassigned_more, (x, y), 1), y)


def test_reassigned_python_scalar():
    g = pullback.grad(reassigned_scalar)(0.3)
    s = math.sin(0.6)
    assert_gradient(g, 2.0 * math.cos(0.6) * (1.0 + 2.0 * s), 0.3)


# --------------------------------------------------------------------------
# Broadcasting
# --------------------------------------------------------------------------

@pytest.mark.parametrize("scalar", [0.7, np.float64(0.7), np.array(0.7)], ids=["float", "np.float64", "0d"])
def test_broadcasting_scalar_column_and_row(scalar):
    col = np.array([[0.5], [-1.0], [2.0]])
    row = np.array([0.1, 0.2, -0.3, 1.4])
    args = (scalar, col, row)
    gs, gc, gr = pullback.grad(broadcast_three, wrt=(0, 1, 2))(*args)
    assert_gradient(gs, central_difference(broadcast_three, args, 0), scalar)
    assert_gradient(gc, central_difference(broadcast_three, args, 1), col)
    assert_gradient(gr, central_difference(broadcast_three, args, 2), row)


def test_broadcasting_float32_column_against_float64_row():
    col = np.array([[0.5], [-1.0], [2.0]], dtype=np.float32)
    row = np.array([0.1, 0.2, -0.3, 1.4])
    gs, gc, gr = pullback.grad(broadcast_three, wrt=(0, 1, 2))(1.5, col, row)
    args = (1.5, col, row)
    assert_gradient(gs, central_difference(broadcast_three, args, 0), 1.5, rtol=1e-4, atol=1e-4)
    assert_gradient(gc, central_difference(broadcast_three, args, 1), col, rtol=1e-4, atol=1e-4)
    assert_gradient(gr, central_difference(broadcast_three, args, 2), row, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape_a, shape_b", [((1, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (2, 3, 4))])
def test_broadcasting_size_one_axes(shape_a, shape_b):
    r = rng(7)
    a, b = r.standard_normal(shape_a), r.standard_normal(shape_b)
    ga, gb = pullback.grad(broadcast_rows, wrt=(0, 1))(a, b)
    assert_gradient(ga, central_difference(broadcast_rows, (a, b), 0), a)
    assert_gradient(gb, central_difference(broadcast_rows, (a, b), 1), b)


# --------------------------------------------------------------------------
# The supported operations, each against central differences
# --------------------------------------------------------------------------

def op_arith(x, y):
    return np.sum((x + y) * (x - y) / (1.5 + y * y) - (-x) ** 2 + x ** 3 * y)


def op_power_of_array(x, y):
    return np.sum(x ** y)


def op_math(x, y):
    a = math.sin(x) + math.cos(y) * math.tan(x / 4.0)
    b = math.exp(x / 3.0) * math.log(y) + math.sqrt(x * y) + math.tanh(x)
    c = math.atan2(y, x) + math.hypot(x, y) + math.pow(y, x) + math.atan(x) + math.log1p(y)
    return a * b + c + abs(x - 2.0 * y)


def op_elementwise(x):
    a = np.sin(x) + np.cos(x) * np.tan(x / 4.0) + np.arctan(x) + np.tanh(x)
    b = np.exp(x / 3.0) * np.log(x + 3.0) + np.sqrt(x + 3.0) + np.abs(x - 0.25)
    c = np.maximum(x, 0.3) + np.minimum(x * x, 1.0) + np.where(x > 0.0, x * x, -x)
    return np.sum(a * b + c + np.square(x) + np.log1p(x + 2.0) + np.expm1(x))


def op_reductions(x):
    a = np.sum(x, axis=0)
    b = np.mean(x, axis=1, keepdims=True)
    c = np.sum(x * x, axis=-1, keepdims=True)
    d = np.mean(np.sin(x))
    return np.sum(a * a) + np.sum(b * c) + d + np.mean(x * x, axis=(0, 1))


def op_products(a, b, v):
    m = a @ b
    w = np.dot(m, v)
    o = np.outer(v, w)
    return np.sum(np.matmul(o, m) * 0.1) + np.dot(w, w) + np.sum(np.dot(a, b) * m)


def op_comparisons(x, y):
    bigger = x > y
    close = np.abs(x - y) < 0.5
    return np.sum(x * bigger + y * close + x * y * (x <= y))


OPERATION_CASES = [
    (op_arith, lambda r: [r.standard_normal(4), r.standard_normal(4)], (0, 1)),
    (op_power_of_array, lambda r: [r.uniform(0.5, 2.0, 4), r.standard_normal(4)], (0, 1)),
    (op_math, lambda r: [0.8, 1.7], (0, 1)),
    (op_elementwise, lambda r: [np.array([-0.9, -0.2, 0.4, 1.1])], (0,)),
    (op_reductions, lambda r: [r.standard_normal((3, 4))], (0,)),
    (op_products, lambda r: [r.standard_normal((2, 3)), r.standard_normal((3, 3)),
                             r.standard_normal(3)], (0, 1, 2)),
    (op_comparisons, lambda r: [np.array([0.1, 1.0, -2.0, 0.3]),
                                np.array([0.5, 0.2, -2.2, 1.3])], (0, 1)),
]


@pytest.mark.parametrize("function, make, wrt", OPERATION_CASES,
                         ids=[c[0].__name__ for c in OPERATION_CASES])
def test_supported_operations_match_central_differences(function, make, wrt):
    args = make(rng(8))
    value, gradients = pullback.value_and_grad(function, wrt=wrt)(*args)
    np.testing.assert_allclose(value, function(*args), rtol=1e-12)
    for g, i in zip(gradients, wrt):
        assert_gradient(g, central_difference(function, args, i), args[i], rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------
# Globals, names and caching
# --------------------------------------------------------------------------

def test_derivative_sees_the_current_value_of_a_global():
    global SCALE
    x = np.array([1.0, -2.0])
    df = pullback.grad(uses_global)
    old = SCALE
    try:
        assert_gradient(df(x), 2 * old * x, x)
        SCALE = 5.0
        assert_gradient(df(x), 10.0 * x, x)
        assert_gradient(pullback.grad(uses_global)(x), 10.0 * x, x)
    finally:
        SCALE = old


def test_the_same_derivative_called_twice_gives_the_same_answer():
    df = pullback.grad(two_args, wrt=(0, 1))
    first = df(X3, Y3)
    second = df(X3, Y3)
    expected = [central_difference(two_args, (X3, Y3), i) for i in (0, 1)]
    for g_first, g_second, e, like in zip(first, second, expected, (X3, Y3)):
        assert_gradient(g_first, e, like)
        assert_gradient(g_second, e, like)


def test_user_variable_named_like_the_scalar_seed_helper():
    # A user's name must not collide with a helper the generated code calls.
    x = np.array([0.5, -1.0])
    g = pullback.grad(scalar_seed_named)(x)
    assert_gradient(g, np.full(2, 2.0), x)


def test_user_variable_named_like_a_template_helper():
    x = np.array([0.5, -1.0])
    g = pullback.grad(helper_named)(x)
    assert_gradient(g, 6.0 * x, x)


def test_nested_function_with_an_unindented_multiline_string():
    def weighted(x):
        note = """first line
second line, not indented"""
        return np.sum(x * x * 3.0)

    x = np.array([1.0, -0.5])
    assert_gradient(pullback.grad(weighted)(x), 6.0 * x, x)


# --------------------------------------------------------------------------
# Docstring examples
# --------------------------------------------------------------------------

@pytest.mark.parametrize("module", [pullback.api, pullback.checking, pullback],
                         ids=["api", "checking", "package"])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, verbose=False, report=True,
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"no examples found in {module.__name__}"
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module.__name__}"
