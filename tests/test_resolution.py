"""Resolution (issue 11): which rule a statement gets must never be a guess.

Each class of statement that used to be differentiated silently wrong is
checked here on several variants: the gradient must match float64 central
differences (``reference.central_difference``, never pullback itself), or the
call must be refused with a pullback error naming the construct, pointing at
the marked line of this file (``# refused: <tag>``).

* NumPy reached under another name: module aliases, ``from numpy import``,
  a parameter defaulting to a module (``xp=np``) or a function, a local bound
  to a module; ufunc objects and their methods (``np.add.reduce``).
* Operations that are not copies: ``x.item(i)`` (indexing), ``x.astype(int)``
  (a constant), ``x.astype(float32)`` (a cast), ``dtype=`` arguments.
* Subscripts of objects that are not local values: ``np.r_[a, b]``, ``np.c_``,
  a global table indexed here; einsum's sublist form.
* Builtins: ``max(x)`` and ``min(x)`` of one iterable.
"""
import math
import os

import numpy as np
import numpy as onp
import numpy.linalg as la
import pytest
from numpy import mean, sin
from numpy.linalg import norm

import pullback
from reference import central_difference, marker_line

THIS_FILE = os.path.abspath(__file__)
m = np                      # a module under a global alias


class Backend:
    xp = np                 # a module reached through a class


backend = Backend()         # ... and through an object
TABLE = np.array([0.5, -1.0, 2.0, 3.0])
WEIGHTS = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])


def check_refused(function, args, error, fragment, tag):
    """Differentiating ``function`` raises ``error`` saying ``fragment``, at the marked line."""
    with pytest.raises(error) as caught:
        pullback.grad(function)(*args)
    message = str(caught.value)
    assert fragment in message, message
    assert f'File "{THIS_FILE}", line {marker_line(THIS_FILE, tag)}' in message, message
    assert "^" in message, message
    assert "pullback's rule" not in message and "is missing the argument" not in message, message


def check_gradient(function, *args, wrt=0):
    gradient = pullback.grad(function, wrt=wrt)(*args)
    expected = central_difference(function, list(args), wrt)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-7)
    assert np.any(expected != 0.0)        # a zero gradient would not test the resolution
    return gradient


X = np.array([0.3, -1.2, 2.0, 0.7])


# --------------------------------------------------------------------------
# Class 3: NumPy under another name
# --------------------------------------------------------------------------

def through_parameter_default(x, xp=np):
    return xp.mean(x * x) + xp.sum(xp.sin(x))


def through_keyword_only_default(x, *, xp=np):
    return xp.linalg.norm(x) * xp.max(x)


def through_function_default(x, act=np.tanh):
    return np.sum(act(x) * x)


def through_local_module(x):
    xp = np
    return xp.mean(x * x) + xp.prod(xp.cos(x))


def through_local_function(x):
    act = np.sin
    return np.sum(act(x) ** 2)


def through_global_alias(x):
    return m.mean(x * x) * m.sum(x)


def through_import_as(x):
    return onp.sum(onp.exp(x) * x)


def through_submodule_alias(x):
    return la.norm(x) + norm(x * 2.0)


def through_imported_names(x):
    return mean(sin(x) * x)


def through_class_and_object(x):
    return Backend.xp.mean(x * x) + backend.xp.sum(backend.xp.tanh(x))


@pytest.mark.parametrize("function", [
    through_parameter_default, through_keyword_only_default, through_function_default,
    through_local_module, through_local_function, through_global_alias, through_import_as,
    through_submodule_alias,
    through_imported_names, through_class_and_object])
def test_numpy_under_another_name(function):
    check_gradient(function, X)


def test_a_parameter_default_is_the_only_value_the_derivative_accepts():
    gradient = pullback.grad(through_parameter_default)
    check_gradient(through_parameter_default, X)
    np.testing.assert_allclose(gradient(X, np), gradient(X))     # the default, passed: fine
    with pytest.raises(TypeError, match="differentiated for xp=np, its default"):
        gradient(X, math)
    # another function passed: the derivative is made for it (passed_functions.py)
    np.testing.assert_allclose(pullback.grad(through_function_default)(X, np.sin),
                               np.cos(X) * X + np.sin(X))


def through_parameter(x, xp):
    return xp.mean(x * x) + xp.max(x)


def method_of_a_constant_parameter(x, table, n):
    return np.sum(table.reshape(n) * x) + np.sum(table.take(np.argsort(x)) * x)


def test_a_parameter_without_default_must_be_an_array_to_own_a_method():
    with pytest.raises(TypeError, match="reads xp.<method>.. as the method of an array, but xp "
                                        "is not an array"):
        pullback.grad(through_parameter)(X, np)
    check_gradient(method_of_a_constant_parameter, X, np.array([[1.0, 2.0], [-3.0, 0.5]]), 4)


MODULES = [np, math]


class Settings:
    def __init__(self):
        self.xp = np
        self.weights = np.arange(6.0)
        self.shape = (2, 2)


def module_from_a_global_list(x):
    mod = MODULES[0]
    return mod.mean(x * x)  # refused: module-from-list


def module_from_an_attribute(x, settings):
    return settings.xp.sum(x * x)  # refused: module-from-attribute


def array_from_an_attribute(x, settings):
    return np.sum(settings.weights[:4].reshape(settings.shape) * x.reshape(2, 2)) \
        + np.sum(settings.weights.take(np.argsort(x)) * x)


def method_of_a_global_array(x):
    return np.sum(WEIGHTS.dot(x[:2]) ** 2) + np.sum(WEIGHTS.T.dot(x[1:]) * x[:2])


def test_a_method_of_a_global_array():
    check_gradient(method_of_a_global_array, X)


def test_a_value_read_out_of_an_object_is_not_taken_for_an_array():
    check_refused(module_from_a_global_list, (X,), pullback.UnsupportedSyntax,
                  "cannot tell that mod is an array", "module-from-list")
    check_refused(module_from_an_attribute, (X, Settings()), pullback.UnsupportedSyntax,
                  "cannot tell that xp is an array", "module-from-attribute")
    check_gradient(array_from_an_attribute, X, Settings())


def module_in_a_branch(x, flag):
    xp = np
    if flag:
        xp = onp
    return xp.sum(x * x)  # refused: module-in-branch


def test_a_name_that_may_hold_a_module_is_not_taken_for_an_array():
    check_refused(module_in_a_branch, (X, True), pullback.UnsupportedSyntax,
                  "xp may hold a module or a function here", "module-in-branch")


def ufunc_calls(x):
    return np.sum(np.add(x, x) * np.multiply(x, 0.5) + np.maximum(x, 0.1) - np.subtract(x, 1.0))


def ufunc_reduce_sum(x):
    return np.add.reduce(x * x) + np.multiply.reduce(x)


def ufunc_reduce_axis(x):
    a = x.reshape(2, 2)
    return np.sum(np.add.reduce(a, axis=1) ** 2) + np.sum(np.add.reduce(a) * np.array([1.0, 3.0]))


def ufunc_reduce_max_min(x):
    a = x.reshape(2, 2)
    return np.sum(np.maximum.reduce(a, 1) * np.array([1.0, 2.0])) + np.minimum.reduce(x)


def ufunc_accumulate(x):
    return np.sum(np.add.accumulate(x) ** 2) + np.sum(np.multiply.accumulate(x) * x)


def ufunc_accumulate_2d(x):
    a = x.reshape(2, 2)
    return np.sum(np.add.accumulate(a) * WEIGHTS[:2]) + np.sum(np.multiply.accumulate(a, axis=1))


def ufunc_outer(x):
    return np.sum(np.multiply.outer(x, x[:2]) * np.arange(8.0).reshape(4, 2))


def ufunc_reduce_keepdims(x):
    return np.sum(np.add.reduce(x.reshape(2, 2), axis=0, keepdims=True) * np.array([[1.0, -2.0]]))


@pytest.mark.parametrize("function", [ufunc_calls, ufunc_reduce_sum, ufunc_reduce_axis,
                                      ufunc_reduce_max_min, ufunc_accumulate, ufunc_accumulate_2d,
                                      ufunc_outer, ufunc_reduce_keepdims])
def test_ufuncs_and_their_methods(function):
    check_gradient(function, X)


def ufunc_method_without_rule(x):
    return np.sum(np.subtract.accumulate(x))  # refused: subtract-accumulate


def ufunc_add_outer(x):
    return np.sum(np.add.outer(x, x) ** 2)  # refused: add-outer


def ufunc_reduce_initial(x):
    return np.add.reduce(x, initial=1.0, where=x > 0.0)


def test_ufunc_methods_without_a_rule_are_refused():
    check_refused(ufunc_method_without_rule, (X,), pullback.NoDerivativeRule,
                  "no derivative rule for np.subtract.accumulate()", "subtract-accumulate")
    check_refused(ufunc_add_outer, (X,), pullback.NoDerivativeRule,
                  "no derivative rule for np.add.outer()", "add-outer")
    check_gradient(ufunc_reduce_initial, X)        # initial= and where= go to np.sum's rule


# --------------------------------------------------------------------------
# Class 4: operations that are not copies
# --------------------------------------------------------------------------

def item_flat(x):
    return x.item(2) ** 2 + x.item(0) * x.item(3)


def item_of_matrix(x):
    a = x.reshape(2, 2)
    return a.item(2) ** 3 + a.item(3) * 2.0


def item_computed_index(x):
    n = x.size - 1
    return np.sin(x.item(n)) + x.item(n - 2)


def item_of_size_one(x):
    return x[1:2].item() ** 2 + np.sum(x)


@pytest.mark.parametrize("function", [item_flat, item_of_matrix, item_computed_index,
                                      item_of_size_one])
def test_item_is_indexing(function):
    check_gradient(function, X)


def test_item_two_reads_one_element():
    np.testing.assert_allclose(pullback.grad(lambda_free_item)(np.array([1.0, 2.0, 3.0])),
                               [0.0, 0.0, 6.0])


def lambda_free_item(x):
    return x.item(2) ** 2


def item_of_parameter_index(x, i):
    return x.item(i) ** 2  # refused: item-parameter


def item_of_two_indices(x):
    a = x.reshape(2, 2)
    return a.item(1, 0) ** 3  # refused: item-two


def test_item_of_an_index_that_may_be_a_tuple_is_refused():
    check_refused(item_of_parameter_index, (X, 1), pullback.UnsupportedSyntax,
                  ".item() of an index", "item-parameter")
    check_refused(item_of_two_indices, (X,), pullback.UnsupportedSyntax,
                  ".item() of several indices", "item-two")


def cast_to_integer(x):
    return np.sum(x.astype(int) * x) + np.sum(x.astype(np.int32) * x.astype("bool") * x)


def cast_to_float(x):
    return np.sum(x.astype(np.float64) * x) + np.sum(x.astype(float) ** 2) + np.sum(x.astype("f8"))


def cast_to_float_by_name(x):
    kind = np.float64
    return np.sum(x.astype(kind) ** 3) + np.sum(x.astype(dtype="float64") * x)


def dtype_argument_integer(x):
    return np.sum(np.asarray(x * 3.0, dtype=int) * x) + np.sum(x, dtype=np.float64)


@pytest.mark.parametrize("function", [cast_to_integer, cast_to_float, cast_to_float_by_name,
                                      dtype_argument_integer])
def test_casts(function):
    check_gradient(function, np.array([0.3, -1.2, 2.6, 1.7]))


def cast_to_float32(x):
    return np.sum(x.astype(np.float32) * 3.0)


def test_a_cast_to_float32_passes_the_derivative_through():
    gradient = pullback.grad(cast_to_float32)(X)
    assert gradient.dtype == X.dtype
    np.testing.assert_allclose(gradient, np.full(X.shape, 3.0))


def test_a_cast_to_integers_carries_no_derivative():
    x = np.array([1.5, 2.5, 3.5])
    np.testing.assert_allclose(pullback.grad(cast_to_integer)(x),
                               x.astype(int) + x.astype(np.int32) * x.astype(bool))


def cast_to_complex(x):
    return np.sum(np.real(x.astype(complex)))  # refused: complex-cast


def cast_to_unknown(x, y):
    return np.sum(x.astype(y.dtype) * x)  # refused: unknown-cast


def sum_with_unknown_dtype(x, kind):
    return np.sum(x * x, dtype=kind)  # refused: unknown-dtype


def test_casts_pullback_cannot_follow_are_refused():
    check_refused(cast_to_complex, (X,), pullback.UnsupportedSyntax,
                  ".astype(complex) is not differentiable", "complex-cast")
    check_refused(cast_to_unknown, (X, X), pullback.UnsupportedSyntax,
                  ".astype(", "unknown-cast")
    check_refused(sum_with_unknown_dtype, (X, np.float64), pullback.UnsupportedSyntax,
                  "with dtype=kind is not differentiable", "unknown-dtype")


def remainder_operator(x):
    return np.sum((x * 3.0) % 1.7 * x) + np.sum(x // 0.5)


def test_remainder_is_not_a_constant():
    check_gradient(remainder_operator, np.array([0.3, -1.2, 2.6, 1.1]))


# --------------------------------------------------------------------------
# Class 12: subscripts and calls of objects that are not local values
# --------------------------------------------------------------------------

def r_of_vectors(x):
    return np.sum(np.r_[x, x] * 2.0) + np.sum(np.r_[x, 3.0, x * x] ** 2)


def r_of_matrices(x):
    a = x.reshape(2, 2)
    return np.sum(np.r_[a, np.cos(a), a * a] * np.arange(12.0).reshape(6, 2))


def c_of_vectors(x):
    return np.sum(np.c_[x, np.sin(x), x * x] * np.arange(12.0).reshape(4, 3))


def c_of_matrix_and_vector(x):
    a = x.reshape(2, 2)
    return np.sum(np.c_[a, x[:2]] ** 2 * np.arange(6.0).reshape(2, 3))


def global_table_indexed_here(x):
    i = int(np.argmax(x))
    return TABLE[i] * np.sum(x * x) + np.sum(x[np.r_[0, 2]] ** 2) + np.sum(x[np.s_[1:3]])


@pytest.mark.parametrize("function", [r_of_vectors, r_of_matrices, c_of_vectors,
                                      c_of_matrix_and_vector, global_table_indexed_here])
def test_index_tricks(function):
    check_gradient(function, X)


def test_r_of_two_copies_is_twice_the_sum():
    np.testing.assert_allclose(pullback.grad(r_twice)(np.array([1.0, 2.0])), [4.0, 4.0])


def r_twice(x):
    return np.sum(np.r_[x, x] * 2.0)


def r_with_slice(x):
    # a slice is the array it stands for (frontend/index_tricks.py)
    return np.sum(np.r_[0:3, x] * x[0]) + np.sum(np.r_[x, 0:1:4j] ** 2) + np.sum(np.c_[x, 0:4])


def r_with_directive(x):
    return np.sum(np.r_["0,2", x, x])  # refused: r-directive


def mgrid_with_value(x):
    return np.sum(np.mgrid[0.0:x[0]:5j])  # refused: mgrid


def test_index_tricks_pullback_cannot_follow_are_refused():
    check_gradient(r_with_slice, X)
    check_refused(r_with_directive, (X,), pullback.UnsupportedSyntax,
                  "np.r_[...] with a slice or a directive string", "r-directive")
    check_refused(mgrid_with_value, (X,), pullback.NoDerivativeRule,
                  "no derivative rule for subscripting np.mgrid", "mgrid")


def einsum_sublists_transpose(x):
    a = x.reshape(2, 2)
    return np.sum(np.einsum(a, (0, 1), (1, 0)) * np.arange(4.0).reshape(2, 2))


def einsum_sublists_product(x):
    a = x.reshape(2, 2)
    return np.sum(np.einsum(a, [0, 1], WEIGHTS[:2], [1, 2], [0, 2]) ** 2)


def einsum_sublists_implicit(x):
    a = x.reshape(2, 2)
    return np.einsum(a, (0, 1), a, (0, 1)) + np.einsum(a, (Ellipsis, 0), (Ellipsis,)).sum()


@pytest.mark.parametrize("function", [einsum_sublists_transpose, einsum_sublists_product,
                                      einsum_sublists_implicit])
def test_einsum_sublist_form(function):
    check_gradient(function, X)


def einsum_computed_sublist(x, axes):
    return np.sum(np.einsum(x, axes))  # refused: einsum-sublist


def test_einsum_sublists_computed_at_run_time_are_refused():
    check_refused(einsum_computed_sublist, (X, (0,)), pullback.UnsupportedSyntax,
                  "np.einsum with subscripts given as lists", "einsum-sublist")


# --------------------------------------------------------------------------
# Builtins of one iterable, and the wording of a call that does not fit
# --------------------------------------------------------------------------

def builtin_max_of_vector(x):
    return max(x) * 2.0 + min(x * x)


def builtin_max_of_list(x):
    return max([x[0] * 2.0, x[1], x[2] ** 2]) + min([x[3], 5.0])


def builtin_max_of_two(x):
    return max(x[0], x[1] * 3.0) + min(x[2], 0.0)


@pytest.mark.parametrize("function", [builtin_max_of_vector, builtin_max_of_list,
                                      builtin_max_of_two])
def test_builtin_max_min(function):
    check_gradient(function, X)


def builtin_max_with_key(x):
    return max(x, 0.0, default=1.0)  # refused: max-key


def reshape_with_too_many(x):
    return np.sum(np.reshape(x, (2, 2), "C", 1))  # refused: too-many


def test_a_call_that_does_not_fit_the_rule_speaks_of_the_call():
    check_refused(builtin_max_with_key, (X,), pullback.UnsupportedSyntax,
                  "max() called with the argument default= is not differentiable yet",
                  "max-key")
    check_refused(reshape_with_too_many, (X,), pullback.UnsupportedSyntax,
                  "called with 4 positional arguments is not differentiable yet", "too-many")
