"""The entry points never let an internal exception reach a user (issue 11).

What a function returns is checked (None from falling off its end, a string),
gradients of the wrong shape or type are InternalErrors (never broadcast or
cast), arrays whose semantics the rules do not describe are refused, and the
callables people pass (partials, methods, callable objects, NumPy functions,
derivatives) either work, checked against central differences, or are
refused with a pullback error saying what to do.
"""
import functools
import inspect
import math

import numpy as np
import pytest

import pullback
from pullback import d
from pullback.arguments import fit_gradient
from pullback.errors import InternalError, InvalidOutput
from reference import central_difference


# --- return values -------------------------------------------------------------

def falls_off(x):
    if x > 0:
        return x * 2.0


def returns_text(x):
    y = x * 2.0
    return "done"


def returns_in_loop(x):
    for i in range(3):
        if x > 10.0:
            return x * 2.0


def while_falls(x):
    while x < 10.0:
        x = x * 2.0
        if x > 5.0:
            return x


def early_exit(x, n):
    total = x * 0.0
    for i in range(n):
        total = total + x
        if i > 5:
            return total


FALL_LINE = falls_off.__code__.co_firstlineno + 2
TEXT_LINE = returns_text.__code__.co_firstlineno + 2


def _vjp(f):
    return lambda x: pullback.vjp(f, x)


def _jacobian(f):
    return lambda x: pullback.jacobian(f)(x)


def _check(f):
    return lambda x: pullback.check_grads(f, x)


ENTRY_POINTS = [pullback.grad, pullback.value_and_grad, _vjp, _jacobian, _check]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("x", [-1.0, np.array(-1.0)])
def test_falling_off_the_end_is_refused_in_every_entry_point(entry, x):
    with pytest.raises(InvalidOutput) as info:
        entry(falls_off)(x)
    message = str(info.value)
    assert f"fell off the end of falls_off at line {FALL_LINE} (returned None)" in message
    assert __file__ in message


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_string_output_names_its_return_statement(entry):
    with pytest.raises(InvalidOutput) as info:
        entry(returns_text)(np.array(1.0))
    message = str(info.value)
    assert "returned a str" in message
    assert f"line {TEXT_LINE}" in message and 'return "done"' in message


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_loops_that_may_fall_off_the_end(entry):
    with pytest.raises(InvalidOutput, match="fell off the end of while_falls .* no return"):
        entry(while_falls)(np.array(12.0))
    with pytest.raises(InvalidOutput, match="fell off the end of early_exit"):
        entry(functools.partial(early_exit, n=3))(np.array(1.0))


def test_loops_that_return_are_still_differentiated():
    # while_falls(1.0): 2, 4, 8 -> 8 x
    assert pullback.grad(while_falls)(1.0) == pytest.approx(8.0)
    assert pullback.grad(early_exit)(2.0, 10) == pytest.approx(7.0)     # returned at i = 6
    x = np.array([0.5, 1.5])
    value, back = pullback.vjp(early_exit, x, 9, wrt=0)
    np.testing.assert_allclose(back(np.ones(2))[0], [7.0, 7.0])


def test_a_loop_that_may_not_return():
    with pytest.raises(InvalidOutput, match="returned None"):
        pullback.grad(returns_in_loop)(1.0)
    # the path that returns still differentiates: d/dx (x * 2) at the third pass
    assert pullback.grad(returns_in_loop)(11.0) == pytest.approx(2.0)


def test_the_path_that_returns_is_still_differentiated():
    assert pullback.grad(falls_off)(3.0) == pytest.approx(central_difference(falls_off, [3.0], 0))
    value, grad = pullback.value_and_grad(falls_off)(np.array(3.0))
    assert value == 6.0 and grad == pytest.approx(2.0)


def test_the_generated_code_checks_once_and_reads_naturally():
    source = pullback.source(pullback.grad(falls_off))
    assert source.count("scalar_seed(") == 1
    assert "else:\n        falls_off = None" in source


def test_a_complex_output_is_refused():
    from pullback.runtime import scalar_seed
    with pytest.raises(InvalidOutput):
        scalar_seed(np.complex128(1j))
    with pytest.raises(InvalidOutput):
        scalar_seed(None)
    assert scalar_seed(np.float32(2.0)) == 1.0 and scalar_seed(np.array(3.0)) == 1.0


# --- gradients of the wrong shape or type --------------------------------------

def test_a_gradient_of_the_wrong_shape_is_an_internal_error():
    with pytest.raises(InternalError) as info:
        fit_gradient(np.float64(6.0), np.zeros(3), name="x")     # never [6, 6, 6]
    assert "shape (), not the shape (3,)" in str(info.value) and "report" in str(info.value)
    with pytest.raises(InternalError, match="shape"):
        fit_gradient(np.ones((1,)), np.zeros(3))
    with pytest.raises(InternalError, match="is a number"):
        fit_gradient(np.ones(2), 1.0)


def test_a_complex_gradient_for_a_real_argument_is_refused():
    with pytest.raises(pullback.NotDifferentiable, match="came out complex"):
        fit_gradient(np.ones(3, dtype=complex), np.zeros(3))
    with pytest.raises(pullback.NotDifferentiable, match="came out complex"):
        fit_gradient(1j, 1.0)


COMPLEX_WEIGHTS = np.array([1j, 2.0])


def through_complex_global(x):
    return np.sum(np.abs(x * COMPLEX_WEIGHTS) ** 2)


def test_a_complex_global_is_refused_not_dropped():
    # the transformation cannot see that the global is complex; the gradient
    # comes out complex and is refused (it was cast to real: wrong sign)
    with pytest.raises(pullback.NotDifferentiable, match="complex global"):
        pullback.grad(through_complex_global)(np.array([1.0, 2.0]))


def test_an_lru_cache_wrapper_is_refused_with_what_to_do():
    cached = functools.lru_cache(sum_squares)
    with pytest.raises(pullback.SourceUnavailable, match="__wrapped__ if the decorator"):
        pullback.grad(cached)


def test_an_exact_zero_is_the_gradient_no_derivative_reached():
    g = fit_gradient(0.0, np.ones((2, 3), dtype=np.float32))
    assert g.shape == (2, 3) and g.dtype == np.float32 and not g.any()
    g[0, 0] = 1.0           # writable, not a broadcast view


def ignores_y(x, y):
    return np.sum(x * x)


def test_an_unused_array_argument_gets_zeros():
    gx, gy = pullback.grad(ignores_y, wrt=(0, 1))(np.ones(3), np.ones((2, 2)))
    assert np.array_equal(gx, 2 * np.ones(3)) and np.array_equal(gy, np.zeros((2, 2)))


# --- arrays whose semantics the rules do not describe -------------------------

def sum_squares(x):
    return np.sum(x * x)


class Tagged(np.ndarray):
    pass


@pytest.mark.parametrize("value, fragment", [
    (np.ma.array([1.0, 2.0], mask=[0, 1]), "x.filled("),
    (np.matrix([[1.0, 2.0]]), "np.matrix"),
    (np.array([1.0, 2.0]).view(Tagged), "Tagged, a subclass of np.ndarray"),
    (np.array([1.0, 2.0], dtype=object), "dtype object"),
])
def test_array_subclasses_and_object_arrays_are_refused(value, fragment):
    with pytest.raises(pullback.InvalidArgument) as info:
        pullback.grad(sum_squares)(value)
    assert fragment in str(info.value) and "'x'" in str(info.value)
    assert "np.asarray(x" in str(info.value)


# --- callables ------------------------------------------------------------------

def product(x, y):
    return np.sin(x) * y * y


class Scaled:
    def __init__(self, scale):
        self.scale = scale

    def __call__(self, x):
        return self.scale * x * x

    def energy(self, x):
        return self.scale * np.sum(x ** 3)


def test_a_partial_fixes_arguments_and_wrt_counts_the_rest():
    f = functools.partial(product, 0.5)
    expected = central_difference(lambda y: product(0.5, y), [1.5], 0)
    assert pullback.grad(f)(1.5) == pytest.approx(expected)
    g = functools.partial(product, y=2.0)
    assert pullback.grad(g)(0.3) == pytest.approx(central_difference(g, [0.3], 0))


def test_a_partial_of_a_partial_and_a_callable_instance():
    f = functools.partial(functools.partial(product), 0.5)
    assert pullback.grad(f)(2.0) == pytest.approx(2 * math.sin(0.5) * 2.0)
    model = Scaled(3.0)
    assert pullback.grad(model)(2.0) == pytest.approx(central_difference(model, [2.0], 0))


def test_a_bound_method():
    model = Scaled(2.0)
    x = np.array([0.5, -1.0])
    expected = central_difference(model.energy, [x], 0)
    np.testing.assert_allclose(pullback.grad(model.energy)(x), expected, rtol=1e-6)


def loss(model, x):
    return model.scale * x * x


class Model:
    scale = 2.0
    dloss = pullback.grad(loss, wrt=1)


def test_a_derivative_used_as_a_method_binds_the_instance():
    assert Model().dloss(3.0) == pytest.approx(central_difference(lambda x: loss(Model(), x), [3.0], 0))
    assert Model.dloss(Model(), 3.0) == pytest.approx(12.0)


@pytest.mark.parametrize("function, fragment", [
    (np.sum, "np.sum has a rule but no Python source"),
    (math.sin, "math.sin has a rule but no Python source"),
    (sorted, "sorted"),
    (Scaled, "is a class"),
])
def test_callables_without_source_are_refused(function, fragment):
    with pytest.raises(pullback.PullbackError) as info:
        pullback.grad(function)(np.ones(2))
    assert fragment in str(info.value)
    assert "def f(x)" in str(info.value)


def squares_for_second_order(x):
    return np.sum(x * x)


def test_a_gradient_of_a_gradient_is_a_second_derivative():
    """Once refused (issue 13 made it work): d2/dx2 x^2 = 2, and for the bound
    method d/dx (2 * scale * x) = 2 * scale = 4."""
    assert pullback.grad(pullback.grad(squares_for_second_order))(1.0) == 2.0
    assert pullback.grad(Model().dloss)(3.0) == 4.0


def test_a_match_statement_is_refused_at_its_line(tmp_path, monkeypatch):
    from reference import import_module_from_text
    module = import_module_from_text('''
def with_match(x):
    y = x * 2.0
    match {"a": 1}:
        case {"a": v}:
            return y * v
    return y
''', tmp_path, monkeypatch, filename="matchmod.py")
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(module.with_match)(1.0)
    message = str(info.value)
    assert "mapping patterns in a match statement are not supported" in message
    assert "line 5" in message and 'case {"a": v}:' in message


# --- __wrapped__, signatures, recursion ---------------------------------------

def unsupported(x):
    return {x: 1}[x]


def test_hasattr_and_signature_never_raise():
    df = pullback.grad(unsupported)
    assert not hasattr(df, "__wrapped__")       # its generation fails: no wrapped function
    assert str(inspect.signature(df)) == "(x)"
    assert str(inspect.signature(pullback.grad(functools.partial(product, 1.0)))) == "(y)"
    df = pullback.grad(sum_squares)
    assert str(inspect.signature(df)) == "(x)"
    assert not hasattr(df, "__wrapped__")       # nothing generated by probing
    df(np.array([1.0, 2.0]))
    assert inspect.getsource(df).lstrip().startswith("def dsum_squares_dx(x):")


@pullback.grad
def power(x, n):
    if n <= 1:
        return x
    return x * power(x, n - 1)


def test_a_recursive_function_decorated_with_grad():
    # power is now its derivative; the recursion is the original function's
    assert power(2.0, 3) == pytest.approx(3 * 2.0 ** 2)
    assert power(1.5, 4) == pytest.approx(4 * 1.5 ** 3)
    assert hasattr(power, "__wrapped__")


# --- register_adjoint(f) is what grad(f) uses --------------------------------

opaque = np.vectorize(lambda v: math.exp(v) - 1.0, otypes=[float])


@pullback.register_adjoint(opaque)
def opaque_rule(y, x):
    d[x] = d[y] * (y + 1.0)


def python_cube(x):
    return x ** 3


@pullback.register_adjoint(python_cube)
def cube_rule(y, x):
    d[x] = d[y] * 3.0 * x * x + 0.0 * y


def test_grad_of_a_function_with_a_registered_rule_uses_the_rule():
    x = np.array([0.2, -0.4])
    back = pullback.vjp(opaque, x)[1]
    np.testing.assert_allclose(back(np.ones(2))[0], np.exp(x), rtol=1e-12)
    assert pullback.grad(opaque)(np.array(0.3)) == pytest.approx(math.exp(0.3))
    source = pullback.source(pullback.grad(python_cube))
    assert "3.0 * x * x" in source
    assert pullback.grad(python_cube)(2.0) == pytest.approx(12.0)


# --- tuples and lists of differently shaped arrays ----------------------------

def pair(x):
    return tuple((x, np.sum(x)))


def pair_list(x):
    return list([x * 2.0, np.sum(x)])


@pytest.mark.parametrize("f, scale", [(pair, 1.0), (pair_list, 2.0)])
def test_tuples_of_differently_shaped_arrays(f, scale):
    x = np.array([1.0, 2.0, 3.0])
    value, back = pullback.vjp(f, x)
    ct = np.array([0.5, -1.0, 2.0])
    (g,) = back(type(value)((ct, 3.0)))
    np.testing.assert_allclose(g, scale * ct + 3.0)


def test_check_grads_takes_tuple_outputs_and_partials():
    assert pullback.check_grads(pair, np.array([0.3, -1.2]))
    assert pullback.check_grads(functools.partial(product, 0.7), 1.3)
    with pytest.raises(AssertionError, match=r"functools.partial\(product"):
        pullback.check_grads(functools.partial(product, 0.7), 1.3, rtol=0.0, atol=0.0, eps=1e-2)


def negate(x):
    return -x


@pytest.mark.parametrize("function, cotangent", [
    (sum_squares, None), (sum_squares, "1"), (sum_squares, 1j),
    (negate, np.ones(2, dtype=complex)), (pair, (np.ones(2), None)),
])
def test_a_cotangent_that_is_not_real_numbers_is_refused(function, cotangent):
    value, back = pullback.vjp(function, np.ones(2))
    with pytest.raises(pullback.InvalidArgument, match="cotangent must be real numbers"):
        back(cotangent)


def test_source_of_a_recursive_decorated_function():
    assert "def dpower_dx(x, n):" in pullback.source(power)


def star_args(*xs):
    return xs[0] * 2.0


def test_every_error_of_the_entry_points_is_a_pullback_error():
    for error in (pullback.NonScalarOutput, pullback.NotDifferentiable, pullback.InvalidOutput,
                  pullback.InternalError, pullback.InvalidArgument):
        assert issubclass(error, pullback.PullbackError)
    with pytest.raises(pullback.NonScalarOutput):
        pullback.grad(negate)(np.ones(2))
    assert pullback.grad(star_args)(1.0) == 2.0          # an item of *args, by position
    with pytest.raises(pullback.InvalidArgument, match=r"item 1 of \*xs"):
        pullback.grad(star_args, wrt=1)(1.0)


def test_a_match_statement_in_a_callee_is_refused_at_its_line(tmp_path, monkeypatch):
    from reference import import_module_from_text
    module = import_module_from_text('''
def helper(x):
    match {"a": 1}:
        case {"a": v}:
            return x * 3.0
    return x


def outer(x):
    return helper(x) + x
''', tmp_path, monkeypatch, filename="matchcallee.py")
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(module.outer)(1.0)
    message = str(info.value)
    assert "mapping patterns in a match statement are not supported" in message
    assert "line 4, in helper" in message and 'case {"a": v}:' in message


def test_a_construct_the_pipeline_cannot_write_is_refused_not_crashed(tmp_path, monkeypatch):
    """The safety net behind check_supported: astor's 'No defined handler'."""
    from reference import import_module_from_text
    from pullback.outputs import unparsable
    module = import_module_from_text('''
def with_match(x):
    match 1:
        case 1:
            return x
''', tmp_path, monkeypatch, filename="matchnet.py")
    error = unparsable(module.with_match, AttributeError("No defined handler for node of type Match"))
    assert isinstance(error, pullback.UnsupportedSyntax)
    assert "Match statements are not supported" in str(error) and "line 3" in str(error)


def weighted(x, w):
    return np.sum(x * w)


def test_an_array_subclass_is_refused_even_when_only_read():
    # np.sum of a masked product skips the masked entry; a gradient would not
    w = np.ma.array([1.0, 2.0], mask=[0, 1])
    with pytest.raises(pullback.InvalidArgument, match="the value of 'w' is a masked array"):
        pullback.grad(weighted)(np.ones(2), w)
    with pytest.raises(pullback.InvalidArgument, match="'w' is an np.matrix"):
        pullback.vjp(weighted, np.ones((1, 2)), np.matrix([[1.0, 2.0]]), wrt=0)
    np.testing.assert_allclose(pullback.grad(weighted)(np.ones(2), np.array([1.0, 2.0])), [1.0, 2.0])


class Kernels:
    @staticmethod
    def cube(x):
        return x ** 3


def test_a_static_method_and_its_raw_descriptor():
    assert pullback.grad(Kernels.cube)(2.0) == pytest.approx(12.0)
    assert pullback.grad(Kernels.__dict__["cube"])(2.0) == pytest.approx(12.0)


def cube_of(x):
    return x ** 3


dcube_of = pullback.grad(cube_of)


def twice_the_slope(x):
    return dcube_of(x) * 2.0


def test_a_derivative_called_inside_a_differentiated_function_is_differentiated():
    """Once refused (issue 13): d/dx (2 * 3 x^2) = 12 x."""
    assert pullback.grad(twice_the_slope)(1.0) == 12.0
    assert pullback.grad(twice_the_slope)(-0.5) == -6.0


def norm_with_order(order):
    def norm(x):
        return np.linalg.norm(x, ord=order)
    return norm


def norm_named_ord(ord):            # a closure value named like a builtin
    def norm(x):
        return np.linalg.norm(x, ord=ord)
    return norm


@pytest.mark.parametrize("make", [norm_with_order, norm_named_ord])
def test_a_closure_value_that_is_none_is_linked(make):
    # None was taken for "not linked yet", so the generated code raised
    # NameError, or with the name ord silently read the builtin.
    x = np.array([3.0, -4.0, 1.0])
    expected = central_difference(lambda v: np.linalg.norm(v), (x,), 0)
    np.testing.assert_allclose(pullback.grad(make(None))(x), expected, rtol=1e-6)
    np.testing.assert_allclose(pullback.grad(make(1))(x), np.sign(x), rtol=1e-6)
