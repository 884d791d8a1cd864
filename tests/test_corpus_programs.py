"""End to end: user-style programs (calls, arguments, containers, indexing,
element assignment, methods); every gradient against central differences."""
import copy

import numpy as np
import pytest

import corpus_programs as programs
import pullback
from corpus_programs import CASES, VJP_CASES, rng
from reference import central_difference

RTOL, ATOL = 1e-5, 1e-6


def case_id(case, i):
    return f"{i:03d}-{case.function.__name__}"


def make_arguments(case, r=None):
    r = rng() if r is None else r
    return [make(r) for make in case.factories], dict(case.kwargs or {})


def same_value(a, b):
    """Deep equality for the argument kinds the corpus passes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and not hasattr(a, "_fields"):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_value, a, b))
    return a == b


def check_gradient_type(gradient, argument):
    if isinstance(argument, np.ndarray):
        assert isinstance(gradient, np.ndarray), type(gradient)
        assert gradient.shape == argument.shape
        assert gradient.dtype == argument.dtype
        assert not np.shares_memory(gradient, argument)
    else:
        assert type(gradient) is type(argument), (type(gradient), type(argument))


CASE_IDS = [case_id(c, i) for i, c in enumerate(CASES)]
VJP_IDS = [case_id(c, i) for i, c in enumerate(VJP_CASES)]


def test_the_corpus_is_large_enough():
    functions = {c.function for c in CASES} | {c.function for c in VJP_CASES}
    assert len(functions) >= 80
    assert all(isinstance(c.wrt, tuple) and c.wrt for c in CASES + VJP_CASES)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradient_matches_central_differences(case):
    args, kwargs = make_arguments(case)
    before_args, before_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    gradients = pullback.grad(case.function, wrt=case.wrt)(*args, **kwargs)
    assert isinstance(gradients, tuple) and len(gradients) == len(case.wrt)
    for a, b in zip(args, before_args):
        assert same_value(a, b), "the caller's positional argument changed"
    assert same_value(kwargs, before_kwargs), "the caller's keyword arguments changed"
    for index, gradient in zip(case.wrt, gradients):
        check_gradient_type(gradient, args[index])
        expected = central_difference(case.function, args, index, kwargs=kwargs)
        np.testing.assert_allclose(gradient, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient w.r.t. argument {index}")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_value_and_grad_returns_the_functions_value(case):
    args, kwargs = make_arguments(case)
    before_args = copy.deepcopy(args)
    value, gradients = pullback.value_and_grad(case.function, wrt=case.wrt)(*args, **kwargs)
    for a, b in zip(args, before_args):
        assert same_value(a, b)
    expected = case.function(*copy.deepcopy(args), **kwargs)
    assert np.shape(value) == np.shape(expected) == ()
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    assert len(gradients) == len(case.wrt)
    for index, gradient in zip(case.wrt, gradients):
        check_gradient_type(gradient, args[index])


def cotangent_for(case, args, seed):
    value = case.function(*copy.deepcopy(args))
    return np.random.default_rng(seed).standard_normal(np.shape(value))


@pytest.mark.parametrize("case", VJP_CASES, ids=VJP_IDS)
def test_vjp_with_a_random_cotangent_matches_central_differences(case):
    args, kwargs = make_arguments(case)
    assert not kwargs
    before_args = copy.deepcopy(args)
    cotangent = cotangent_for(case, args, 7)
    expected = [central_difference(case.function, args, index, cotangent=cotangent.copy())
                for index in case.wrt]
    value, back = pullback.vjp(case.function, *args, wrt=case.wrt)
    np.testing.assert_allclose(value, case.function(*copy.deepcopy(args)), rtol=1e-12, atol=1e-12)
    gradients = back(cotangent.copy())
    assert isinstance(gradients, tuple) and len(gradients) == len(case.wrt)
    for index, gradient, reference in zip(case.wrt, gradients, expected):
        check_gradient_type(gradient, args[index])
        np.testing.assert_allclose(gradient, reference, rtol=RTOL, atol=ATOL)
    for a, b in zip(args, before_args):
        assert same_value(a, b)


@pytest.mark.parametrize("case", VJP_CASES, ids=VJP_IDS)
def test_vjp_back_leaves_the_cotangent_and_the_value_untouched(case):
    args, _ = make_arguments(case)
    value, back = pullback.vjp(case.function, *args, wrt=case.wrt)
    value_before = np.copy(value)
    cotangent = cotangent_for(case, args, 8)
    cotangent_before = cotangent.copy()
    back(cotangent)
    np.testing.assert_array_equal(cotangent, cotangent_before,
                                  err_msg="back() changed the caller's cotangent")
    np.testing.assert_array_equal(value, value_before,
                                  err_msg="back() changed the value vjp returned")


@pytest.mark.parametrize("case", VJP_CASES, ids=VJP_IDS)
def test_vjp_back_can_be_called_with_several_cotangents(case):
    args, _ = make_arguments(case)
    value, back = pullback.vjp(case.function, *args, wrt=case.wrt)
    for seed in (11, 12):
        cotangent = cotangent_for(case, args, seed)
        expected = [central_difference(case.function, args, index, cotangent=cotangent.copy())
                    for index in case.wrt]
        gradients = back(cotangent.copy())
        for gradient, reference in zip(gradients, expected):
            np.testing.assert_allclose(gradient, reference, rtol=RTOL, atol=ATOL)


FLOAT32_CASES = [programs.calls_local_helper, programs.calls_tuple_helper,
                 programs.list_append_stack, programs.index_array_repeated,
                 programs.setitem_loop, programs.method_reshape]


@pytest.mark.parametrize("function", FLOAT32_CASES, ids=lambda f: f.__name__)
def test_float32_arguments_get_float32_gradients(function):
    (case,) = [c for c in CASES if c.function is function]
    args, kwargs = make_arguments(case)
    args = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args]
    before = copy.deepcopy(args)
    gradients = pullback.grad(function, wrt=case.wrt)(*args, **kwargs)
    for index, gradient in zip(case.wrt, gradients):
        check_gradient_type(gradient, args[index])
        expected = central_difference(function, args, index, kwargs=kwargs)
        np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(args, before):
        assert same_value(a, b)


# --------------------------------------------------------------------------
# Helpers get derivatives of their own
# --------------------------------------------------------------------------

@pytest.mark.parametrize("function, helper_names", [
    (programs.calls_local_helper, ["sq_sum"]),
    (programs.calls_chain_local, ["level1", "level2", "level3"]),
    (programs.calls_module_attribute_helper, ["softplus"]),
    (programs.calls_imported_helper, ["softplus", "scaled_tanh"]),
    (programs.calls_tuple_helper, ["mean_and_var"]),
], ids=lambda v: v.__name__ if callable(v) else "-".join(v))
def test_source_shows_each_helper_as_forward_and_backward_functions(function, helper_names):
    text = pullback.source(pullback.grad(function))
    for name in helper_names:
        assert f"def {name}_forward(" in text, name
        assert f"def {name}_backward(" in text, name
    # the source is real, importable Python
    compile(text, "<generated>", "exec")


def test_the_same_helper_called_several_times_has_one_derivative():
    text = pullback.source(pullback.grad(programs.calls_helper_several_times, wrt=(0, 1)))
    assert text.count("def sq_sum_forward(") == 1
    assert text.count("def sq_sum_backward(") == 1
    assert text.count("sq_sum_backward(") >= 5      # the definition and four calls


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------

@pytest.mark.parametrize("function, args, wrt", [
    (programs.int_argument, (np.array([0.5, 1.0]), 3), 1),
    (programs.index_int, (np.array([0.5, 1.0, 2.0, 3.0]), 2), (0, 1)),
    (programs.int_argument_loop, (np.array([0.5, 1.0]), 2), 1),
], ids=["int_argument", "index_int", "int_argument_loop"])
def test_wrt_naming_an_int_argument_is_refused(function, args, wrt):
    before = copy.deepcopy(list(args))
    with pytest.raises(pullback.InvalidArgument) as info:
        pullback.grad(function, wrt=wrt)(*args)
    assert "integer" in str(info.value)
    for a, b in zip(args, before):
        assert same_value(a, b)


def test_keyword_arguments_at_the_call_of_the_derivative_are_used():
    x, y = np.array([0.3, -0.2]), np.array([1.5, 0.5])
    df = pullback.grad(programs.default_and_keyword_call, wrt=(0, 1))
    gx1, gy1 = df(x, y)
    gx2, gy2 = df(x, y, scale=2.0)
    gx3, gy3 = df(x, y=y, scale=-1.0)
    np.testing.assert_allclose(gx1, y, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gy1, x + 1.0, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx2, 2.0 * y, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gy2, 2.0 * x + 1.0, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx3, -y, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gy3, 1.0 - x, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------
# Writing into an argument works on a private copy (the caller's array never
# changes); a helper writing into its parameter is refused
# --------------------------------------------------------------------------

@pytest.mark.parametrize("function", [
    programs.mutates_argument,
    programs.mutates_argument_augmented,
], ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "vjp"])
def test_writing_into_an_argument_works_on_a_private_copy(function, mode):
    x = np.array([0.5, -1.5, 2.0])
    before = x.copy()
    expected = central_difference(lambda v: function(v.copy()), (x,), 0)
    if mode == "vjp":
        value, back = pullback.vjp(function, x)
        (g,) = back(1.0)
    else:
        make = pullback.grad if mode == "grad" else pullback.value_and_grad
        g = make(function)(x)
        if mode == "value_and_grad":
            value, g = g
            assert value == pytest.approx(function(before.copy()))
    np.testing.assert_allclose(g, expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(x, before)


def test_a_helper_writing_into_its_parameter_is_refused():
    x = np.array([0.5, -1.5, 2.0])
    before = x.copy()
    for make in (pullback.grad, pullback.value_and_grad):
        with pytest.raises(pullback.UnsupportedSyntax):
            make(programs.mutates_argument_through_helper)(x)
    with pytest.raises(pullback.UnsupportedSyntax):
        pullback.vjp(programs.mutates_argument_through_helper, x)
    np.testing.assert_array_equal(x, before)


def test_a_function_passed_in_at_call_time_gets_a_derivative_made_for_it():
    x = np.array([0.3, -0.6, 1.2])
    for f, expected in ((np.tanh, (1 - np.tanh(x) ** 2) * x + np.tanh(x)),
                        (np.sin, np.cos(x) * x + np.sin(x))):
        g = pullback.grad(programs.takes_function_argument, wrt=1)(f, x)
        np.testing.assert_allclose(g, expected, rtol=RTOL, atol=ATOL)


def test_star_args_forwarded_to_a_helper():
    x = np.ones(3)
    expected = central_difference(lambda v: programs.varargs_to_helper(v, 3.0, -1.0), (x,), 0)
    np.testing.assert_allclose(pullback.grad(programs.varargs_to_helper)(x, 3.0, -1.0), expected,
                               rtol=RTOL, atol=ATOL)
