"""Attacks on the derivatives specialized to their arrays' shapes (issue 16).

A derivative is made for each array argument's rank, length-1 axes and dtype
(analysis/array_shapes.py): an operand that keeps the result's shape loses its
``unbroadcast``, one that was broadcast gets ``g.sum(axis=...)``, ``x[None]``'s
gradient is ``g[0]``, a basic index adds with ``add_at_basic``, and a user
function's derivative is made for what its call site knows. These tests go
after the places that reasoning can get wrong: length-1 axes against longer
ones in every position and order, 0-length axes, 0-d arrays, NumPy scalars,
other dtypes, loops and branches that change a name's shape, helpers called
with other shapes, indexing, in-place updates, and one derivative called with
many kinds in turn. Every gradient is checked against float64 central
differences (tests/reference.py), in reverse and forward mode.
"""
import numpy as np
import pytest

import pullback
from pullback import InvalidArgument
from reference import central_difference, directional_difference

RNG = np.random.default_rng(1616)


def rand(shape, dtype=np.float64):
    """Values in [0.5, 1.5) of ``shape`` (a 0-d array for ``()``)."""
    return np.asarray(RNG.uniform(0.5, 1.5, shape)).astype(dtype)


def as_tuple(value, wrt):
    return value if isinstance(wrt, tuple) else (value,)


def positions(wrt):
    return wrt if isinstance(wrt, tuple) else (wrt,)


def check_gradients(got, f, args, wrt, rtol=1e-6, atol=1e-9):
    """Each gradient has its argument's shape (and an array's dtype) and
    matches central differences."""
    for g, i in zip(as_tuple(got, wrt), positions(wrt)):
        assert np.shape(g) == np.shape(args[i]), (np.shape(g), np.shape(args[i]))
        if isinstance(args[i], np.ndarray):
            assert isinstance(g, np.ndarray) and g.dtype == args[i].dtype, (type(g), args[i].dtype)
        expected = central_difference(f, args, i)
        tolerance = dict(rtol=1e-4, atol=1e-5) if getattr(args[i], "dtype", None) == np.float32 \
            else dict(rtol=rtol, atol=atol)
        np.testing.assert_allclose(g, expected, **tolerance)


def check_grad(f, args, wrt=0, **tolerance):
    """grad(f) at ``args`` against central differences; returns the source of
    the derivative it ran (specialized for the arrays among ``args``)."""
    df = pullback.grad(f, wrt=wrt)
    check_gradients(df(*args), f, args, wrt, **tolerance)
    text = pullback.source(df, args=args)
    if any(type(a) is np.ndarray for a in args):
        assert "Specialized for arrays" in text, text
    return text


# -- broadcasting: length-1 axes against longer ones, in every position and order -------------

def product_and_quotient(x, y):
    return np.sum(np.sin(x * y) + x / (1.0 + y) - y ** 2 * x)


PAIRS = [((3,), (1,)), ((1,), (3,)), ((3, 1), (1, 4)), ((1, 4), (3, 1)), ((3, 4), (4,)),
         ((4,), (3, 4)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((1, 1), (3,)), ((3,), (1, 1)),
         ((), (3,)), ((3,), ()), ((1,), (1,)), ((2, 1, 3), (4, 1)), ((1,), (3, 1)),
         ((3, 1), (1,)), ((1, 3, 1), (2, 1, 4)), ((3, 3), (3, 3))]


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_a_broadcast_product_sums_each_gradient_over_its_broadcast_axes(shapes):
    args = tuple(rand(s) for s in shapes)
    text = check_grad(product_and_quotient, args, (0, 1))
    assert "unbroadcast" not in text, text      # every sum is written out
    if shapes[0] != shapes[1]:
        assert ".sum(" in text, text


def centered_rows(x, y):
    return np.sum((x - np.mean(x, axis=0, keepdims=True)) ** 2 * y)


def centered_last(x, y):
    return np.sum((x - np.sum(x, axis=-1, keepdims=True)) * y + np.max(x, axis=-1, keepdims=True))


def centered_both(x, y):
    return np.sum(np.sin(x - np.mean(x, axis=(0, -1), keepdims=True)) * y)


def centered_all(x, y):
    return np.sum(np.sin(x * np.sum(x * y, keepdims=True)))


@pytest.mark.parametrize("f", [centered_rows, centered_last, centered_both, centered_all])
@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((1, 4), (3, 4)), ((3, 1), (1,)),
                                    ((1, 1), (1, 1)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1))],
                         ids=str)
def test_keepdims_reductions_with_negative_and_tuple_axes(f, shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(f, args, (0, 1))


def reduced_then_broadcast(x, y):
    return np.sum(np.sum(x ** 2, axis=(0, -1)) * y) + np.sum(np.sin(np.sum(x, axis=-2)))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (3,)), ((1, 3, 1), (1,)), ((2, 1, 4), (5,)),
                                    ((1, 1, 1), (1,))], ids=str)
def test_reductions_over_negative_and_tuple_axes(shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(reduced_then_broadcast, args, (0, 1))


def where_three(x, y):
    return np.sum(np.where(x > 1.0, x * y, y ** 2) + np.where(y > x, 0.5, x))


def where_one(x):
    return np.sum(x[np.where(x > 1.0)] ** 2) + np.sum(x[np.where(x < 1.0)[0]])


def clipped(x, y):
    return np.sum(np.clip(x * y, 0.8, 1.2) ** 2 + np.clip(x, y, None) * y)


def compared(x, y):
    return np.sum((x > y) * x * y + (x <= 1.0) * y)


@pytest.mark.parametrize("f", [where_three, clipped, compared])
@pytest.mark.parametrize("shapes", [((4,), (4,)), ((4,), (1,)), ((1,), (4,)), ((3, 1), (1, 4)),
                                    ((), (4,)), ((4, 1), (4,))], ids=str)
def test_where_clip_and_comparisons_against_length_one_axes(f, shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(f, args, (0, 1))


@pytest.mark.parametrize("shape", [(6,), (1,), (2, 3), (1, 3), (3, 1)], ids=str)
def test_where_with_one_argument_indexes(shape):
    x = np.linspace(0.6, 1.4, int(np.prod(shape))).reshape(shape) + 0.013
    check_grad(where_one, (x,))


def products(a, b):
    return np.sum(np.sin(a @ b)) + np.sum(np.cos(np.dot(a, b)))


def transposed(a, b):
    return np.sum(np.sin(a.T * b)) + np.sum(a.T @ a)


def products_in_a_loop(a, b):
    y = b
    for i in range(3):
        y = np.tanh(a @ y) + y
    return np.sum(y)


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((4,), (4, 3)), ((4,), (4,)), ((3, 4), (4, 2)),
                                    ((1, 4), (4, 1)), ((3, 1), (1, 4)), ((1,), (1, 3)),
                                    ((1, 1), (1,)), ((1, 1), (1, 1))], ids=str)
def test_matmul_and_dot_of_one_and_two_dimensional_arrays(shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(products, args, (0, 1))


@pytest.mark.parametrize("shapes", [((3, 4), (3,)), ((3, 4), (4, 1)), ((1, 4), (1,)),
                                    ((3, 1), (3,)), ((4,), (4,))], ids=str)
def test_a_transpose_broadcast_against_the_other_operand(shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(transposed, args, (0, 1))


@pytest.mark.parametrize("shapes", [((3, 3), (3,)), ((1, 1), (1,)), ((3, 3), (3, 2)),
                                    ((3, 3), (3, 1)), ((1, 1), (1, 4))], ids=str)
def test_matmul_inside_a_loop(shapes):
    args = tuple(rand(s) / 2 for s in shapes)
    check_grad(products_in_a_loop, args, (0, 1))


# -- sizes and kinds of values ------------------------------------------------------------------

def summed_product(x, y):
    return np.sum(np.sin(x * y)) + np.sum(x * 2.0, axis=0, keepdims=True).sum()


@pytest.mark.parametrize("shapes", [((0,), (1,)), ((0,), (0,)), ((3, 0), (1,)), ((3, 0), (0,)),
                                    ((0, 1), (1, 4)), ((0, 3), (3,))], ids=str)
def test_zero_length_axes(shapes):
    args = tuple(rand(s) for s in shapes)
    got = pullback.grad(summed_product, wrt=(0, 1))(*args)
    for g, a in zip(got, args):
        assert np.shape(g) == a.shape and g.dtype == a.dtype
    check_gradients(got, summed_product, args, (0, 1))


def row_means(x):
    return np.sum(np.mean(x, axis=1))


def test_the_mean_over_an_axis_of_an_array_with_no_rows():
    # FAILS: the mean template divides by np.size(x) / np.size(mean), 0 / 0 in
    # Python ints here (ZeroDivisionError), though the function is defined at
    # a (0, 3) array (its value is 0.0, no warning): the gradient is (0, 3) zeros
    x = np.ones((0, 3))
    assert row_means(x) == 0.0
    g = pullback.grad(row_means)(x)
    assert g.shape == (0, 3) and g.dtype == np.float64


def mixed_numbers(x, y):
    return np.sum(np.sin(x * y) + x * np.sum(y) + np.max(y) * x)


@pytest.mark.parametrize("x, y", [
    (np.float64(1.2), rand((3,))), (1.2, rand((3,))), (rand((3,)), np.float64(1.3)),
    (np.array(1.2), rand((1,))), (rand((1,)), np.array(1.3)), (np.array(1.2), np.array(0.7)),
    (np.float32(1.2), rand((3,))), (rand((2, 1)), 0.7)], ids=lambda v: f"{type(v).__name__}{np.shape(v)}")
def test_zero_dimensional_arrays_numpy_scalars_and_python_floats(x, y):
    check_gradients(pullback.grad(mixed_numbers, wrt=(0, 1))(x, y), mixed_numbers, (x, y), (0, 1))


def whole_of_a_product(x, w):
    y = x * w
    return y[...] * 2.0


def test_the_whole_of_a_product_of_zero_dimensional_arrays():
    # FAILS: x * w of two 0-d arrays is a NumPy scalar, array_shapes says a 0-d
    # array (broadcast() of 0-d operands), so y[...]'s gradient is
    # scatter_basic(y, ..., g), whose zeros_adjoint(y) is a NumPy scalar it
    # cannot write into (TypeError). The general derivative's scatter works.
    args = (np.array(1.2), np.array(0.7))
    check_gradients(pullback.grad(whole_of_a_product, wrt=(0, 1))(*args), whole_of_a_product,
                    args, (0, 1))


def test_float32_arrays_keep_their_dtype_through_broadcasting():
    for shapes in [((3,), (1,)), ((1,), (3,)), ((3, 1), (1, 4))]:
        args = tuple(rand(s, np.float32) for s in shapes)
        check_grad(product_and_quotient, args, (0, 1))
        mixed = (rand(shapes[0], np.float32), rand(shapes[1]))
        check_grad(product_and_quotient, mixed, (0, 1))


def scaled_by_ints(x, k, mask):
    return np.sum(np.sin(x * k) * mask + x[k[0] % x.shape[0]] * mask)


@pytest.mark.parametrize("shapes", [((3,), (3,), (1,)), ((3,), (1,), (3,)), ((1,), (3,), (3,)),
                                    ((2, 3), (3,), (2, 1))], ids=str)
def test_integer_and_boolean_arrays_beside_the_differentiated_one(shapes):
    x = rand(shapes[0])
    k = np.arange(1, 1 + int(np.prod(shapes[1]))).reshape(shapes[1])
    mask = (np.arange(int(np.prod(shapes[2]))) % 2 == 0).reshape(shapes[2])
    check_grad(scaled_by_ints, (x, k, mask))


def weighted_by_label(x, labels):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 2 * (labels[i] == labels[0])
    return s


@pytest.mark.parametrize("labels", [np.array(["a", "b", "a"]), np.array([b"a", b"b", b"a"])],
                         ids=lambda v: v.dtype.name)
def test_string_labels_beside_the_differentiated_array(labels):
    # FAILS (TypeError: data type 'str32' not understood): array_shapes.numeric
    # reads a Shape's dtype with np.dtype(name), and 'str32', 'bytes8' and
    # 'void64' (structured) are names NumPy does not parse back. Right before issue 16.
    x = np.array([0.5, 1.5, 2.0])
    got = pullback.grad(weighted_by_label)(x, labels)
    np.testing.assert_allclose(got, [1.0, 0.0, 4.0])
    check_gradients(got, weighted_by_label, (x, labels), 0)


def plain_sum(x, y):
    return np.sum(np.sin(x * y))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")     # np.matrix
def test_complex_object_and_subclassed_arrays_are_refused_not_specialized():
    x = rand((2, 2))
    for other in (np.matrix(rand((2, 2))), np.ma.masked_array(rand((2, 2)), mask=[[0, 1], [0, 0]])):
        for args in ((x, other), (other, x)):
            with pytest.raises(InvalidArgument):
                pullback.grad(plain_sum)(*args)
    with pytest.raises(InvalidArgument):
        pullback.grad(plain_sum)(x.astype(complex), x)
    with pytest.raises(InvalidArgument):
        pullback.grad(plain_sum)(x.astype(object), x)


def test_non_contiguous_and_read_only_arrays():
    base = rand((4, 6))
    strided, transposed_view = base[:, ::2], base.T
    frozen = rand((4, 1))
    frozen.flags.writeable = False
    for x, y in [(strided, rand((1, 3))), (transposed_view, rand((4,))), (frozen, strided),
                 (strided, frozen[:, 0][::-1].reshape(4, 1))]:
        before = (x.copy(), y.copy())
        check_grad(product_and_quotient, (x, y), (0, 1))
        np.testing.assert_array_equal(x, before[0])
        np.testing.assert_array_equal(y, before[1])


KINDS = [((3,), (1,)), ((1,), (3,)), ((3,), (3,)), ((3, 1), (1, 2)), ((1, 2), (3, 1)),
         ((1,), (1,)), ((2,), ()), ((3, 2), (2,)), ((4,), (1,)), ((1, 1), (3, 1))]


def test_one_derivative_called_with_many_kinds_in_turn():
    """Each kind gets its own derivative from the same grad object; going back
    to an earlier kind gives its derivative again, not the last one made."""
    df = pullback.grad(centered_last, wrt=(0, 1))
    vg = pullback.value_and_grad(centered_last, wrt=(0, 1))
    for shapes in KINDS + KINDS[::-1]:
        args = (rand(shapes[0]), rand(shapes[1]))
        check_gradients(df(*args), centered_last, args, (0, 1))
        value, grads = vg(*args)
        assert value == pytest.approx(centered_last(*args), rel=1e-12)
        check_gradients(grads, centered_last, args, (0, 1))
    args = (rand((3,), np.float32), rand((1,)))
    check_gradients(df(*args), centered_last, args, (0, 1))
    args = (rand((3,)), rand((1,)))
    check_gradients(df(*args), centered_last, args, (0, 1))


# -- loops, branches and functions that change a name's shape ------------------------------------

def axes_added_in_a_loop(x):
    for i in range(2):
        x = x[:, None] * 1.5
    return np.sum(np.sin(x))


def summed_in_a_loop(x):
    y = x
    for i in range(2):
        y = np.sum(y, axis=0) * 1.5
    return np.sum(np.sin(y))


def grown_in_a_loop(x, w):
    y = x
    for i in range(3):
        y = np.tanh(y * w + y[0])
    return np.sum(y)


def branch_shapes(x, flag):
    if flag:
        y = x[:, None] * x
    else:
        y = x * 2.0
    return np.sum(np.sin(y))


@pytest.mark.parametrize("shape", [(3,), (1,), (2, 3)], ids=str)
def test_a_loop_adding_axes_or_summing_them_away(shape):
    check_grad(axes_added_in_a_loop, (rand(shape),))
    check_grad(summed_in_a_loop, (rand(shape + (2,)),))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (1,)), ((1,), (3,)), ((3, 2), (2,)),
                                    ((3, 1), (1, 4)), ((1, 4), (3, 1))], ids=str)
def test_a_loop_variable_widened_by_broadcasting(shapes):
    args = tuple(rand(s) / 2 for s in shapes)
    check_grad(grown_in_a_loop, args, (0, 1))


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("shape", [(3,), (1,)], ids=str)
def test_branches_giving_different_shapes(shape, flag):
    check_grad(branch_shapes, (rand(shape), flag))


def helper(a, b):
    c = a * b
    return c - np.mean(c, axis=-1, keepdims=True) + a[0]


def three_call_sites(x, y):
    u = helper(x, y)
    v = helper(y, x)
    w = helper(x[:, None], y)
    return np.sum(u ** 2) + np.sum(np.sin(v)) + np.sum(w ** 2)


def helper_in_a_loop(x, y):
    z = x
    for i in range(3):
        z = helper(z, y) * 0.5
    return np.sum(z ** 2)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (1,)), ((1,), (3,)), ((1,), (1,))], ids=str)
def test_a_helper_called_with_other_shapes_at_each_site(shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(three_call_sites, args, (0, 1))
    check_grad(helper_in_a_loop, args, (0, 1))


def recursive(a, n):
    if n == 0:
        return np.sum(a * a)
    if a.ndim < 2:
        return recursive(a[:, None] * a, n - 1)
    return recursive(np.sin(a), n - 1)


def recursion(x):
    return recursive(x, 3) + recursive(x[0] * x, 1)


def closure(x, y):
    def scaled(z):
        return z * y
    return np.sum(np.sin(scaled(x)) + scaled(x[0]))


@pytest.mark.parametrize("shape", [(3,), (1,)], ids=str)
def test_recursion_that_changes_the_rank(shape):
    check_grad(recursion, (rand(shape),))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((1,), (3,)), ((3,), (1,)), ((3, 2), (2,))], ids=str)
def test_a_closure_called_with_other_shapes(shapes):
    args = tuple(rand(s) for s in shapes)
    check_grad(closure, args, (0, 1))


def shrunk_in_a_loop(x, w):
    y = x
    s = 0.0
    for i in range(3):
        y = y[1:] * w[0] + y[:-1]
        s = s + np.sum(y * y[0])
    return s


def alternating_in_a_loop(x, w):
    y = x
    s = 0.0
    for i in range(4):
        if i % 2 == 0:
            y = np.sum(y * w, axis=0, keepdims=True)
        else:
            y = y * x
        s = s + np.sum(np.sin(y))
    return s


@pytest.mark.parametrize("f, shapes", [
    (shrunk_in_a_loop, ((5,), (1,))), (shrunk_in_a_loop, ((5, 2), (2,))),
    (shrunk_in_a_loop, ((5, 1), (1, 3))), (alternating_in_a_loop, ((3,), (1,))),
    (alternating_in_a_loop, ((3, 2), (2,))), (alternating_in_a_loop, ((3, 2), (3, 1))),
    (alternating_in_a_loop, ((1, 2), (3, 1)))], ids=lambda v: getattr(v, "__name__", str(v)))
def test_a_loop_variable_whose_length_changes_each_step(f, shapes):
    args = tuple(rand(s) / 2 for s in shapes)
    check_grad(f, args, (0, 1))


SCALES = np.array([0.5, 1.0, 1.5])


def scaled_by_a_global(x, w):
    p = x * 2.0
    for i in range(2):
        p = SCALES * p
    return np.sum(np.sin(p * w))


def test_a_loop_variable_scaled_by_a_global_array():
    # FAILS (a wrong gradient, no error): array_shapes takes SCALES, never
    # assigned in the function, for "not known yet" (None, which join()
    # ignores), so p keeps x * 2.0's (1,) though SCALES * p is (3,); p's
    # gradient is then summed to (1,): dp = (dmul * w).sum(axis=0, keepdims=True).
    # Right before issue 16, and right for x of shape (3,).
    args = (np.array([0.7]), np.array([0.3, 0.5, 0.9]))
    check_grad(scaled_by_a_global, args, (0, 1))


# -- indexing -------------------------------------------------------------------------------------

def first(x):
    return np.sum(x[0] * x)


def last(x):
    return np.sum(x[-1] * x ** 2)


def counted(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i - 1]
    return np.sum(s)


def pairs(x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + x[i, j] * x[j % x.shape[0], i % x.shape[1]]
    return s


def sliced(x):
    return np.sum(x[1:] * x[:-1]) + np.sum(x[::2] ** 3)


def new_axes(x):
    return np.sum(np.sin(x[:, None] * x[None])) + np.sum(x[None, ...] * x)


def ellipsis_first(x):
    return np.sum(x[..., 0] ** 3) + np.sum(x[True] ** 2)


def repeated_array(x):
    return np.sum(x[np.array([0, 0])] ** 2)


def repeated_list(x):
    return np.sum(x[[0, 0, -1]] ** 2)


def numpy_integers(x):
    i = np.int64(1)
    return np.sum(x[i] * x[np.int32(0)])


INDEXED = [(first, [(3,), (1,), (3, 2), (1, 2), (3, 1)]), (last, [(3,), (1,), (3, 2)]),
           (counted, [(3,), (1,), (3, 2), (1, 2)]), (pairs, [(3, 3), (1, 1), (2, 3)]),
           (sliced, [(5,), (1,), (5, 2)]), (new_axes, [(3,), (1,)]),
           (ellipsis_first, [(3, 2), (3, 1), (1, 2), (2,)]), (repeated_array, [(3,), (1,), (3, 2)]),
           (repeated_list, [(3,), (3, 2), (1, 2)]), (numpy_integers, [(3,), (3, 2), (3, 1)])]


@pytest.mark.parametrize("f, shape", [(f, s) for f, shapes in INDEXED for s in shapes],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_indexing(f, shape):
    check_grad(f, (rand(shape),))


def test_repeated_positions_add_up():
    x = np.array([0.5, 1.5, 2.0])
    np.testing.assert_allclose(pullback.grad(repeated_array)(x), [4 * 0.5, 0.0, 0.0])
    np.testing.assert_allclose(pullback.grad(repeated_list)(x), [4 * 0.5, 0.0, 2 * 2.0])


def float_index(x):
    k = x.shape[0] / 2
    return np.sum(x[k] * x)


def test_a_float_index_is_an_error_not_an_index():
    with pytest.raises(IndexError):
        pullback.grad(float_index)(rand((4,)))


# -- in-place updates -----------------------------------------------------------------------------

def set_items(x):
    y = np.zeros(x.shape)
    for i in range(x.shape[0]):
        y[i] = x[i] * x[0]
    return np.sum(y ** 2)


def add_to_rows(x, w):
    y = x * 1.0
    y[0] += x[-1] * 2.0
    y += w
    for i in range(1, x.shape[0]):
        y[i] += y[i - 1] * w[0]
    return np.sum(y ** 2)


@pytest.mark.parametrize("shape", [(3,), (1,), (3, 2)], ids=str)
def test_item_assignment(shape):
    check_grad(set_items, (rand(shape),))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (1,)), ((3, 2), (2,)), ((3, 1), (1,)),
                                    ((3, 2), (1, 2))], ids=str)
def test_augmented_assignment_of_rows_and_of_the_whole(shapes):
    args = tuple(rand(s) / 2 for s in shapes)
    check_grad(add_to_rows, args, (0, 1))


def grown_in_place(x, w):
    t = x * 1.0
    t *= w
    return np.sum(t)


def test_an_in_place_update_that_would_grow_the_array_is_an_error():
    # FAILS (before issue 16 too): NumPy refuses t *= w for t of shape (1,) and
    # w of shape (3,) (the result would not fit t); the derivative computes
    # t * w instead and returns gradients of a function that has no value there
    x, w = np.array([0.5]), np.array([0.3, 0.5, 0.9])
    with pytest.raises(ValueError):
        grown_in_place(x, w)
    with pytest.raises(ValueError):
        pullback.grad(grown_in_place, wrt=(0, 1))(x, w)


# -- small models with a batch (or another axis) of one --------------------------------------------

def softmax_cross_entropy(logits, labels):
    z = logits - np.max(logits, axis=-1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return -np.sum(labels * logp) / logits.shape[0]


def layer_norm(x, gamma, beta):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(y ** 2)


def mlp(x, w1, b1, w2, b2):
    h = np.tanh(x @ w1 + b1)
    return np.sum((h @ w2 + b2) ** 2)


def rnn(xs, h0, wx, wh, b):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ wx + h @ wh + b)
    return np.sum(h ** 2)


def attention(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[-1])
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return np.sum((p @ v) ** 2)


def normal(*shape):
    return RNG.standard_normal(shape) * 0.5


MODELS = [
    (softmax_cross_entropy, [(1, 4), (1, 4)], 0), (softmax_cross_entropy, [(3, 1), (3, 1)], 0),
    (layer_norm, [(1, 4), (4,), (4,)], (0, 1, 2)), (layer_norm, [(3, 1), (1, 1), (1,)], (0, 1, 2)),
    (layer_norm, [(2, 3), (), (3,)], (0, 1, 2)),
    (mlp, [(1, 3), (3, 4), (1, 4), (4, 1), (1,)], (0, 1, 2, 3, 4)),
    (mlp, [(2, 1), (1, 3), (3,), (3, 2), (2,)], (0, 1, 2, 3, 4)),
    (rnn, [(3, 1, 2), (1, 4), (2, 4), (4, 4), (4,)], (0, 1, 2, 3, 4)),
    (rnn, [(3, 2, 1), (3,), (1, 3), (3, 3), (3,)], (0, 1, 2, 3, 4)),
    (attention, [(1, 2), (3, 2), (3, 2)], (0, 1, 2)), (attention, [(3, 2), (1, 2), (1, 2)], (0, 1, 2)),
    (attention, [(1, 1), (1, 1), (1, 1)], (0, 1, 2))]


@pytest.mark.parametrize("f, shapes, wrt", MODELS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_small_models_with_length_one_axes(f, shapes, wrt):
    args = tuple(normal(*s) if s else np.array(1.3) for s in shapes)
    if f is softmax_cross_entropy:
        args = (args[0], np.eye(shapes[0][1])[RNG.integers(0, shapes[0][1], shapes[0][0])])
    check_grad(f, args, wrt)


# -- vjp, jvp, hvp --------------------------------------------------------------------------------

def vector_out(x, y):
    return np.sin(x * y) * x[0] + (x - np.mean(x, axis=-1, keepdims=True))


MODES = [((3,), (1,)), ((1,), (3,)), ((3, 1), (1, 4)), ((1, 4), (3, 1)), ((3, 2), (2,)), ((1,), (1,))]


@pytest.mark.parametrize("shapes", MODES, ids=str)
def test_vjp_with_broadcast_arguments(shapes):
    args = tuple(rand(s) for s in shapes)
    value, back = pullback.vjp(vector_out, *args)
    np.testing.assert_allclose(value, vector_out(*args))
    cotangent = RNG.uniform(-1.0, 1.0, np.shape(value))
    for g, i in zip(back(cotangent), (0, 1)):
        assert g.shape == args[i].shape
        np.testing.assert_allclose(g, central_difference(vector_out, args, i, cotangent=cotangent),
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shapes", MODES, ids=str)
def test_jvp_with_broadcast_arguments(shapes):
    args = tuple(rand(s) for s in shapes)
    tangents = tuple(RNG.uniform(-1.0, 1.0, a.shape) for a in args)
    value, tangent = pullback.jvp(vector_out, args, tangents)
    np.testing.assert_allclose(value, vector_out(*args))
    np.testing.assert_allclose(tangent, directional_difference(vector_out, args, tangents),
                               rtol=1e-6, atol=1e-9)


def scalar_out(x, y):
    return np.sum(np.sin(x * y) * (x - np.mean(x, axis=-1, keepdims=True))) + np.sum(x[0] * y)


def gradient_by_differences(f, args, i):
    return central_difference(f, args, i, eps=1e-5)


@pytest.mark.parametrize("shapes", MODES, ids=str)
def test_hvp_with_broadcast_arguments(shapes):
    """Forward over reverse: against central differences (step 1e-4) of the
    central-difference gradient."""
    args = tuple(rand(s) for s in shapes)
    tangents = tuple(RNG.uniform(-1.0, 1.0, a.shape) for a in args)
    products = pullback.hvp(scalar_out, args, tangents)
    step = 1e-4
    ahead = tuple(a + step * t for a, t in zip(args, tangents))
    behind = tuple(a - step * t for a, t in zip(args, tangents))
    for i, got in enumerate(products):
        expected = (gradient_by_differences(scalar_out, ahead, i)
                    - gradient_by_differences(scalar_out, behind, i)) / (2 * step)
        assert got.shape == args[i].shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def inner_sine(x, y):
    return np.sum(np.sin(x * y))


INNER_GRADIENT = pullback.grad(inner_sine, wrt=0)


def gradient_norm(x, y):
    g = INNER_GRADIENT(x, y)
    return np.sum(g ** 2 * x)


def summed_to(g, shape):
    """``g`` summed over the axes broadcasting added to ``shape``."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def gradient_norm_by_hand(x, y):
    g = summed_to(np.cos(x * y) * y, np.shape(x))
    return np.sum(g ** 2 * x)


@pytest.mark.parametrize("shapes", [((3,), (1,)), ((1,), (3,)), ((3, 1), (1, 4)), ((1, 4), (3, 1))],
                         ids=str)
def test_the_gradient_of_a_specialized_gradient(shapes):
    """grad of a function calling grad: against central differences of the
    inner gradient written by hand."""
    args = tuple(rand(s) for s in shapes)
    np.testing.assert_allclose(gradient_norm(*args), gradient_norm_by_hand(*args), rtol=1e-12)
    got = pullback.grad(gradient_norm, wrt=(0, 1))(*args)
    for g, i in zip(got, (0, 1)):
        assert g.shape == args[i].shape
        np.testing.assert_allclose(g, central_difference(gradient_norm_by_hand, args, i),
                                   rtol=1e-6, atol=1e-9)
