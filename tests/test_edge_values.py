"""Derivatives at edge values (issue 11): where a textbook formula gives NaN,
0 * inf or a ZeroDivisionError although the derivative exists, or where the
chosen value of a derivative that does not exist must be documented.

Every expected value is central differences in float64 at smooth points or a
formula derived by hand at edge points, never pullback itself.
"""
import math
import re
import warnings

import numpy as np
import pytest

import pullback
from reference import central_difference


def close(got, expected, dtype=np.float64):
    rtol = 1e-5 if dtype == np.float32 else 1e-7
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=rtol, atol=rtol)


def quiet(df, *args):
    """The gradient, without NumPy's warnings about the unselected side."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return df(*args)


# -- x ** k at x = 0 ---------------------------------------------------------------

def polynomial(x):
    c = [1.0, 2.0, 3.0]
    return sum(c[k] * x ** k for k in range(3))


def polynomial_sum(x):
    c = [1.0, 2.0, 3.0]
    return np.sum(sum(c[k] * x ** k for k in range(3)))


def power_0(x):
    return np.sum(x ** 0)


def power_1(x):
    return np.sum(x ** 1)


def power_2(x):
    return np.sum(x ** 2)


def power_float_0(x):
    return np.sum(x ** 0.0)


def power_float_1(x):
    return np.sum(x ** 1.0)


def np_power_0(x):
    return np.sum(np.power(x, 0.0))


def power_runtime(x, k):
    return np.sum(x ** k)


def float_power_runtime(x, k):
    return np.sum(np.float_power(x, k))


def math_pow(x, k):
    return math.pow(x, k)


def scalar_power_0(x):
    return x ** 0


def scalar_power_float_0(x):
    return np.power(x, 0.0)


def test_polynomial_features_at_zero_floats_and_arrays():
    # d/dx (1 + 2x + 3x^2) = 2 + 6x: 2 at 0
    assert pullback.grad(polynomial)(0.0) == 2.0
    for dtype in (np.float32, np.float64):
        x = np.array([0.0, 0.5, -1.0], dtype=dtype)
        got = pullback.grad(polynomial_sum)(x)
        assert got.dtype == dtype
        close(got, 2.0 + 6.0 * x.astype(np.float64), dtype)
    x = np.array([0.3, -0.7])
    close(pullback.grad(polynomial_sum)(x), central_difference(polynomial_sum, (x,), 0))


@pytest.mark.parametrize("f, slope_at_0", [
    (power_0, 0.0), (power_1, 1.0), (power_2, 0.0), (power_float_0, 0.0), (power_float_1, 1.0),
    (np_power_0, 0.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_literal_powers_at_zero(f, slope_at_0, dtype):
    x = np.array([0.0, 0.0], dtype=dtype)
    got = pullback.grad(f)(x)
    assert np.all(np.isfinite(got))
    close(got, [slope_at_0, slope_at_0], dtype)
    smooth = np.array([0.4, -1.3])
    close(pullback.grad(f)(smooth), central_difference(f, (smooth,), 0))


@pytest.mark.parametrize("f", [scalar_power_0, scalar_power_float_0])
def test_number_to_the_power_zero_at_zero(f):
    assert pullback.grad(f)(0.0) == 0.0
    assert pullback.grad(f)(2.0) == 0.0


@pytest.mark.parametrize("f", [power_runtime, float_power_runtime])
@pytest.mark.parametrize("k, slope_at_0", [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (0.0, 0.0),
                                            (1.0, 1.0), (2.5, 0.0)])
def test_runtime_exponents_at_zero(f, k, slope_at_0):
    x = np.array([0.0, 0.0])
    close(pullback.grad(f)(x, k), [slope_at_0, slope_at_0])
    smooth = np.array([0.4, 1.3])
    close(pullback.grad(f)(smooth, k), central_difference(f, (smooth, k), 0))


@pytest.mark.parametrize("k, slope_at_0", [(0, 0.0), (1, 1.0), (2, 0.0), (0.0, 0.0)])
def test_math_pow_at_zero(k, slope_at_0):
    assert pullback.grad(math_pow)(0.0, k) == slope_at_0
    assert math.isclose(pullback.grad(math_pow)(1.7, k), central_difference(math_pow, (1.7, k), 0),
                        rel_tol=1e-7, abs_tol=1e-9)


def root(x):
    return np.sum(x ** 0.5)


def scalar_root(x):
    return x ** 0.5


def test_square_root_power_is_infinite_at_zero():
    # d/dx x ** 0.5 = 0.5 / sqrt(x): +inf at 0 (the true value), not 0 or NaN
    got = quiet(pullback.grad(root), np.array([0.0, 4.0]))
    assert got[0] == np.inf
    close(got[1], 0.25)
    assert pullback.grad(scalar_root)(0.0) == math.inf
    close(pullback.grad(scalar_root)(4.0), 0.25)


def zero_base(x):
    return 0.0 ** x


def zero_base_sum(x):
    return np.sum(0.0 ** x)


def test_exponent_derivative_of_a_zero_base():
    # 0 ** x = 0 for x > 0: the derivative with respect to x is 0, not NaN
    assert pullback.grad(zero_base)(2.0) == 0.0
    close(pullback.grad(zero_base_sum)(np.array([1.0, 2.5])), [0.0, 0.0])


def test_literal_square_keeps_the_fast_form():
    text = pullback.source(pullback.grad(power_2))
    # (2 * x, or 2.0 * x where the seed 1.0 was folded into it)
    assert re.search(r"\b2(\.0)? \* x\b", text) and "power_slope" not in text, text
    # x ** 0 is decided constant when the derivative is written: no slope computed
    text = pullback.source(pullback.grad(power_0))
    # (the whole text where no reverse sweep is left: the seed went with the rest)
    assert "**" not in text.split("reverse sweep")[-1] and "power_slope" not in text, text


# -- np.where and np.select: the unselected side gets no NaN -----------------------------
#
# autograd and JAX give NaN here (0 * inf): the selected operand's rule multiplies
# the zero gradient of the unselected elements by an infinite or NaN derivative.

def where_sqrt(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def where_log(x):
    return np.sum(np.where(x > 1, np.log(x - 1), 0.0))


def where_division(x, d):
    return np.sum(np.where(d > 0, x / d, 0.0))


def where_arcsin(x):
    return np.sum(np.where(np.abs(x) < 1, np.arcsin(x), 0))


def where_root(x):
    return np.sum(np.where(x > 0, x ** 0.5, 0.0))


def where_nested(x):
    inner = np.where(x < 4, np.sqrt(x), np.log(x - 3))
    return np.sum(np.where(x > 0, inner, -x))


def where_in_loop(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.where(x > i, np.sqrt(x - i), 0.0))
    return s


def where_exp_overflow(x):
    return np.sum(np.where(x < 10, np.exp(100 * x), 0.0))


def selected(x):
    return np.array([-2.0, -0.5, 0.0, 0.25, 1.0, 2.5, 4.0, 9.0], dtype=x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_sqrt(dtype):
    x = selected(dtype)
    got = quiet(pullback.grad(where_sqrt), x)
    assert np.all(np.isfinite(got)) and got.dtype == dtype
    x64 = x.astype(np.float64)
    close(got, np.where(x64 > 0, 0.5 / np.sqrt(np.abs(x64) + (x64 <= 0)), 0.0), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_log(dtype):
    x = selected(dtype)
    got = quiet(pullback.grad(where_log), x)
    assert np.all(np.isfinite(got))
    x64 = x.astype(np.float64)
    close(got, np.where(x64 > 1, 1.0 / np.where(x64 > 1, x64 - 1, 1.0), 0.0), dtype)


def test_where_division_both_operands():
    x = np.array([1.0, 2.0, 3.0, -4.0])
    d = np.array([0.0, -1.0, 2.0, 0.5])
    dx, dd = quiet(pullback.grad(where_division, wrt=(0, 1)), x, d)
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(dd))
    close(dx, [0.0, 0.0, 1.0 / 2.0, 1.0 / 0.5])
    close(dd, [0.0, 0.0, -3.0 / 4.0, 4.0 / 0.25])


def test_where_arcsin_outside_its_domain():
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.6, 1.0, 2.0])
    got = quiet(pullback.grad(where_arcsin), x)
    assert np.all(np.isfinite(got))
    inside = np.abs(x) < 1
    close(got, np.where(inside, 1.0 / np.sqrt(np.where(inside, 1.0 - x * x, 1.0)), 0.0))


def test_where_root_power():
    x = selected(np.float64)
    got = quiet(pullback.grad(where_root), x)
    assert np.all(np.isfinite(got))
    close(got, np.where(x > 0, 0.5 / np.sqrt(np.where(x > 0, x, 1.0)), 0.0))


def test_where_nested_two_levels():
    x = np.array([-1.0, 0.0, 0.5, 2.0, 3.0, 5.0])
    got = quiet(pullback.grad(where_nested), x)
    assert np.all(np.isfinite(got))
    # 0 < x < 4: sqrt(x); x >= 4: log(x - 3); x <= 0: -x
    expected = np.where(x <= 0, -1.0, np.where(x < 4, 0.5 / np.sqrt(np.abs(x) + (x == 0)),
                                               1.0 / np.abs(x - 3)))
    close(got, expected)
    smooth = np.array([-1.0, 2.0, 5.0])
    close(quiet(pullback.grad(where_nested), smooth), central_difference(where_nested, (smooth,), 0))


def test_where_in_a_loop():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.5])
    got = quiet(pullback.grad(where_in_loop), x)
    assert np.all(np.isfinite(got))
    expected = sum(np.where(x > i, 0.5 / np.sqrt(np.where(x > i, x - i, 1.0)), 0.0) for i in range(3))
    close(got, expected)


def test_where_exp_overflow_on_the_unselected_side():
    # exp(100 x) is inf for x >= 10 (not selected): the rule's d * exp must not give NaN
    x = np.array([0.0, 0.05, 10.0, 20.0])
    got = quiet(pullback.grad(where_exp_overflow), x)
    assert np.all(np.isfinite(got))
    close(got, np.where(x < 10, 100 * np.exp(100 * np.where(x < 10, x, 0.0)), 0.0))


def where_sqrt_nonnegative(x):
    return np.sum(np.where(x >= 0, np.sqrt(x), 0.0))


def test_an_infinite_derivative_on_the_selected_side_stays_infinite():
    # sqrt at exactly 0, selected by x >= 0: the derivative is +inf there
    got = quiet(pullback.grad(where_sqrt_nonnegative), np.array([-1.0, 0.0, 4.0]))
    assert got[1] == np.inf
    close(got[[0, 2]], [0.0, 0.25])


def test_code_without_a_selection_is_unchanged():
    text = pullback.source(pullback.grad(root))
    assert "masked" not in text
    text = pullback.source(pullback.grad(where_sqrt))
    assert "masked_div(" in text, text


def select_branches(x):
    return np.sum(np.select([x < 0, x < 1], [np.sqrt(-x), np.log(x)], default=x ** 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_select_without_nan(dtype):
    x = np.array([-4.0, -1.0, 0.5, 1.0, 2.0, 3.0], dtype=dtype)
    got = quiet(pullback.grad(select_branches), x)
    assert np.all(np.isfinite(got)) and got.dtype == dtype
    x64 = x.astype(np.float64)
    close(got, np.select([x64 < 0, x64 < 1], [-0.5 / np.sqrt(np.abs(x64)), 1.0 / x64], 2.0 * x64),
          dtype)


# -- remainders, quotients, rounding -------------------------------------------------

def divmod_remainder(x):
    q, r = divmod(x, 1.5)
    return r * x


def divmod_quotient(x):
    q, r = divmod(x, 1.5)
    return q * x


def divmod_both(x, b):
    q, r = divmod(x, b)
    return r * x + q * b


def np_divmod(x, b):
    q, r = np.divmod(x, b)
    return np.sum(r * x + q)


def remainders(x, b):
    return (x % b) * x + np.mod(x, b) + np.remainder(b, x) + np.fmod(x, b) + math.fmod(b, x)


def roundings(x):
    return (x // 1.5 + np.floor_divide(x, 0.5) + math.floor(x) + np.floor(x) + np.ceil(x)
            + np.trunc(x) + np.rint(x) + round(x)) * x


def test_divmod_remainder_has_a_derivative():
    # r = x - 1.5 at x = 2: d(r x)/dx = 2x - 1.5
    assert pullback.grad(divmod_remainder)(2.0) == 2.5
    assert pullback.grad(divmod_quotient)(2.0) == 1.0            # q = 1, piecewise constant
    # q = 3, r = x - 3b at (5, 1.5): d/dx = r + x = 5.5; d/db = -3x + q = -12
    close(pullback.grad(divmod_both, wrt=(0, 1))(5.0, 1.5), (5.5, -12.0))
    x, b = np.array([2.0, 5.0, -1.2]), np.array([1.5, 2.0, 0.7])
    dx, db = pullback.grad(np_divmod, wrt=(0, 1))(x, b)
    close(dx, np.mod(x, b) + x)
    close(db, -np.floor_divide(x, b) * x)
    close(dx, central_difference(np_divmod, (x, b), 0))
    close(db, central_difference(np_divmod, (x, b), 1))


@pytest.mark.parametrize("x, b", [(2.3, 0.7), (-2.3, 0.7), (5.1, -1.3)])
def test_remainder_derivatives_against_central_differences(x, b):
    got = pullback.grad(remainders, wrt=(0, 1))(x, b)
    for i in (0, 1):
        close(got[i], central_difference(remainders, (x, b), i))


def test_rounding_is_piecewise_constant():
    x = 2.3
    total = x // 1.5 + np.floor_divide(x, 0.5) + math.floor(x) + np.floor(x) + np.ceil(x) \
        + np.trunc(x) + np.rint(x) + round(x)
    close(pullback.grad(roundings)(x), total)


# -- zero spread and zero norms --------------------------------------------------------
#
# std has a kink where the spread is 0 (std(c + t v) = |t| std(v)) and the norms one
# at x = 0: the subgradient 0 is taken there, never 0 * inf = NaN.

def std_all(x):
    return np.std(x)


def std_rows(x):
    return np.sum(np.std(x, axis=1) * np.array([1.0, 2.0]))


def std_columns_kept(x):
    return np.sum(np.std(x, axis=0, keepdims=True, ddof=1) * np.arange(1.0, 4.0))


def nanstd_all(x):
    return np.nanstd(x)


def var_all(x):
    return np.var(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x", [[3.0], [1.5, 1.5, 1.5], [0.1, 0.1, 0.1], [-7.25] * 5])
def test_std_of_equal_values_has_gradient_zero(x, dtype):
    x = np.array(x, dtype=dtype)
    for f in (std_all, nanstd_all, var_all):
        got = pullback.grad(f)(x)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, np.zeros_like(x))


def test_std_along_an_axis_with_a_constant_row_or_length_one():
    # row 0 constant (gradient 0), row 1 spread: (x - mean) / (n std), times its weight 2
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    row = x[1]
    expected = np.vstack([np.zeros(3), 2.0 * (row - row.mean()) / (3 * row.std())])
    close(pullback.grad(std_rows)(x), expected)
    close(pullback.grad(std_rows)(np.array([[1.0], [5.0]])), np.zeros((2, 1)))
    smooth = np.array([[0.3, -1.2, 2.0], [1.0, 2.0, 4.0]])
    close(pullback.grad(std_rows)(smooth), central_difference(std_rows, (smooth,), 0))
    # ddof=1 over an axis of length 2 with one equal pair
    x = np.array([[1.0, 2.0, 3.0], [1.0, 5.0, 3.0]])
    got = pullback.grad(std_columns_kept)(x)
    assert np.all(np.isfinite(got))
    close(got[:, [0, 2]], np.zeros((2, 2)))
    close(got[:, 1], [-2.0 / np.sqrt(2.0), 2.0 / np.sqrt(2.0)])


def nanstd_with_gaps(x):
    return np.nanstd(x)


def test_nanstd_of_equal_present_values():
    x = np.array([4.0, np.nan, 4.0, np.nan])
    np.testing.assert_array_equal(pullback.grad(nanstd_with_gaps)(x), np.zeros(4))


def norms(x):
    return (np.linalg.norm(x) + np.linalg.norm(x, 1) + np.linalg.norm(x, 2) + np.linalg.norm(x, 3)
            + np.linalg.norm(x, 0.5) + np.linalg.norm(x, -1) + np.linalg.norm(x, np.inf)
            + np.linalg.norm(x, -np.inf))


def norm_p(x, p):
    return np.linalg.norm(x, p)


def test_vector_norms_at_zero_take_the_subgradient_zero():
    np.testing.assert_array_equal(pullback.grad(norms)(np.zeros(3)), np.zeros(3))
    for p in (None, 1, 2, 3, 0.5, -1, np.inf, -np.inf):
        np.testing.assert_array_equal(pullback.grad(norm_p)(np.zeros(3), p), np.zeros(3))
    x = np.array([0.5, -1.5, 2.0])
    close(pullback.grad(norms)(x), central_difference(norms, (x,), 0))


def norm_rows(x):
    return np.sum(np.linalg.norm(x, axis=1))


def test_norm_of_a_zero_row():
    got = pullback.grad(norm_rows)(np.array([[0.0, 0.0], [3.0, 4.0]]))
    close(got, [[0.0, 0.0], [0.6, 0.8]])


# -- complex intermediates are refused ---------------------------------------------------

def complex_square(x):
    z = x * 1j
    return np.sum(np.abs(z) ** 2)


def complex_exponential(x):
    return np.sum(np.real(np.exp(1j * x)))


def complex_array_constant(x):
    w = np.array([1j, 2.0])
    return np.sum(np.abs(x * w))


def complex_number_constant(x):
    w = 2.0 + 0j
    v = w * 3.0
    return abs(x * v)


def complex_builtin(x):
    return abs(complex(x, 1.0))


def complex_cast(x):
    return np.sum(np.abs(x.astype(complex)))


def fourier(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


@pytest.mark.parametrize("f, shown, x", [
    (complex_square, "1j", np.ones(2)), (complex_exponential, "1j", np.ones(2)),
    (complex_array_constant, "w", np.ones(2)), (complex_number_constant, "v", 1.0)])
def test_complex_literals_in_differentiated_code_are_refused(f, shown, x):
    with pytest.raises(pullback.UnsupportedSyntax) as error:
        pullback.grad(f)(x)
    message = str(error.value)
    assert f"complex value ({shown})" in message and f.__name__ in message
    assert "^" in message       # points at the line


@pytest.mark.parametrize("f, x", [(complex_builtin, 1.0), (complex_cast, np.ones(2)),
                                  (fourier, np.ones(3))])
def test_complex_functions_are_refused(f, x):
    with pytest.raises(pullback.PullbackError):
        pullback.grad(f)(x)


def complex_kept_out_of_the_derivative(x):
    w = 3.0 + 4.0j
    return np.sum(x * np.abs(w)) + np.sum(np.real(x) * 2.0) + np.sum(np.conj(x) * x)


def test_complex_values_the_derivative_does_not_flow_through_are_fine():
    x = np.array([1.0, -2.0])
    close(pullback.grad(complex_kept_out_of_the_derivative)(x), 5.0 + 2.0 + 2.0 * x)


def mask_times_sqrt(x):
    return np.sum((x > 0) * np.sqrt(x))


def log_times_float_mask(x):
    mask = (x > 1) & (x < 5)
    return np.sum(np.log(x - 1) * mask.astype(float))


def test_a_mask_multiplying_a_branch_is_a_selection_too():
    x = np.array([-1.0, 0.0, 2.0, 4.0, 6.0])
    got = quiet(pullback.grad(mask_times_sqrt), x)
    assert np.all(np.isfinite(got))
    close(got, np.where(x > 0, 0.5 / np.sqrt(np.abs(x) + (x <= 0)), 0.0))
    got = quiet(pullback.grad(log_times_float_mask), x)
    assert np.all(np.isfinite(got))
    close(got, [0.0, 0.0, 1.0, 1.0 / 3.0, 0.0])


def sqrt_times_two(x):
    return np.sum(np.sqrt(x) * 2.0)


def test_a_product_with_a_number_is_not_a_mask():
    assert "masked" not in pullback.source(pullback.grad(sqrt_times_two))


def hypot_sum(x, y):
    return np.sum(np.hypot(x, y))


def math_hypot(x, y):
    return math.hypot(x, y)


def test_hypot_at_the_origin_takes_the_subgradient_zero():
    x, y = np.array([0.0, 3.0]), np.array([0.0, 4.0])
    dx, dy = pullback.grad(hypot_sum, wrt=(0, 1))(x, y)
    close(dx, [0.0, 0.6])
    close(dy, [0.0, 0.8])
    assert pullback.grad(math_hypot, wrt=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    close(pullback.grad(math_hypot, wrt=(0, 1))(3.0, -4.0), (0.6, -0.8))
    for dtype in (np.float32, np.float64):
        got = pullback.grad(hypot_sum)(np.zeros(2, dtype), np.zeros(2, dtype))
        assert got.dtype == dtype and not got.any()


def sqrt_of_relu(x):
    return np.sum(np.sqrt(np.maximum(x, 0.0)))


def sqrt_of_clip(x):
    return np.sum(np.sqrt(np.clip(x, 0.0, 4.0)))


def sqrt_of_selection(x):
    return np.sum(np.sqrt(np.where(x > 0, x, 0.0)))


@pytest.mark.parametrize("f", [sqrt_of_relu, sqrt_of_clip, sqrt_of_selection])
def test_a_singular_function_of_a_clipped_value(f):
    # sqrt(max(x, 0)) is the constant 0 for x < 0: slope 0 there (sqrt's slope at
    # the clipped value 0 is inf, the clip's 0); inf at x = 0 itself is not
    # asserted (a kink of the clip meets the pole of sqrt).
    x = np.array([-2.0, -0.5, 1.0, 2.25, 9.0])
    got = quiet(pullback.grad(f), x)
    assert np.all(np.isfinite(got))
    expected = np.where(x > 0, 0.5 / np.sqrt(np.abs(x)), 0.0)
    if f is sqrt_of_clip:
        expected[x > 4] = 0.0
    close(got, expected)


def test_maximum_splits_ties_and_keeps_the_dtype():
    for dtype in (np.float32, np.float64):
        x = np.array([-1.0, 0.0, 2.0], dtype=dtype)
        got = pullback.grad(relu_sum)(x)
        assert got.dtype == dtype
        close(got, [0.0, 0.5, 1.0], dtype)
    assert pullback.grad(relu_number)(0.0) == 0.5 and pullback.grad(relu_number)(3.0) == 1.0


def relu_sum(x):
    return np.sum(np.maximum(x, 0.0))


def relu_number(x):
    return np.maximum(x, 0.0)


# --- a selection from what a helper of yours returns --------------------------

def root_helper(v):
    return np.sqrt(v)


def log_twice(v):
    return np.log(v) * 2.0


def through_two_helpers(v):
    return log_twice(v) + 1.0


def where_of_helper(x):
    return np.sum(np.where(x > 0, root_helper(x), 0.0))


def where_of_nested_helpers(x):
    # the same helper also called outside the selection: two derivatives of it
    return np.sum(np.where(x > 0, through_two_helpers(x), 0.0) + root_helper(np.abs(x) + 1.0))


def test_where_of_a_helpers_result_has_no_nan():
    x = np.array([0.0, -1.0, 4.0])
    with np.errstate(all="ignore"):
        g = pullback.grad(where_of_helper)(x)
        h = pullback.grad(where_of_nested_helpers)(x)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.25])
    safe = np.where(x > 0, x, 1.0)
    expected = np.where(x > 0, 2.0 / safe, 0.0) + np.sign(x) * 0.5 / np.sqrt(np.abs(x) + 1.0)
    np.testing.assert_allclose(h, expected)


# --- negative constants as the base of ** (found by the fuzzer) ---------------

def negative_base_power(x):
    k = 2
    return np.sum(x * (-1.5) ** k)


def folded_negative_base(x):
    return x * ((-0.5) - 0.75) ** 2


def negative_base_odd(x):
    return x * (-2.0) ** 3 + (-0.0) ** 2 * x


def test_a_negative_constant_base_keeps_its_parentheses():
    # astor wrote (-1.5) ** k as -1.5 ** k, i.e. -(1.5 ** k): value and gradient negated
    value, g = pullback.value_and_grad(negative_base_power)(np.array([0.7]))
    assert value == pytest.approx(0.7 * 2.25) and g == pytest.approx([2.25])
    assert pullback.value_and_grad(folded_negative_base)(1.0) == pytest.approx((1.5625, 1.5625))
    assert pullback.value_and_grad(negative_base_odd)(1.0) == pytest.approx((-8.0, -8.0))
    assert "(-1.25) ** 2" in pullback.source(pullback.grad(folded_negative_base))
