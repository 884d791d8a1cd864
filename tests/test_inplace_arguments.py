"""In-place updates of arguments (issue 14): ``x[0] = ...``, ``x[i] *= ...``,
``np.add(a, b, out=a)``, ``a.fill(v)``, ``a.sort()`` on arguments and locals.

Every program's derivative is checked against central differences in
float64 of the function as Python runs it (reference.central_difference,
which hands it fresh copies), in reverse mode (grad, value_and_grad, vjp)
and forward mode (jvp), and its Hessian against central differences of
the gradient; the caller's arrays keep their bytes through every call.
Refusals are checked for their message and the line marked ``# refused: <tag>``.
"""
import copy
import os

import numpy as np
import pytest

import pullback
from reference import central_difference, marker_line

THIS_FILE = os.path.abspath(__file__)
X = np.array([0.5, -1.0, 2.0])
Y = np.array([1.5, 0.25, -0.75])


# -- programs ------------------------------------------------------------------

def writes_an_entry(x, y):
    x[0] = x[1] * y[2]
    return np.sum(x * x * y)


def scales_entries_in_a_loop(x, y):
    for i in range(3):
        x[i] *= np.sin(y[i]) + x[2 - i]
    return np.sum(x * y)


def adds_into_itself(x, y):
    np.add(x, y * x, out=x)
    return np.sum(np.sin(x) * y)


def multiplies_into_a_tuple_out(x, y):
    z = np.multiply(x, np.tanh(y), out=(x,))
    return np.sum(z * y) + np.sum(x)


def clips_in_place(x, y):
    np.clip(x * y, -0.6, 0.9, out=x)
    return np.sum(x * x * y)


def fills_then_writes(x, y):
    x.fill(np.sum(x * y))
    x[1] = y[0] * x[1]
    return np.sum(x * y)


def sorts_in_place(x, y):
    x.sort()
    return np.sum(x * y)


def sorts_a_local_along_an_axis(x, y):
    grid = np.outer(x, y)
    grid.sort(axis=0)
    return np.sum(grid * np.arange(9.0).reshape(3, 3))


def writes_through_a_view(x, y):
    head = x[:2]
    head[1] = head[0] * y[1]
    return np.sum(head * y[:2])


def adds_to_itself(x, y):
    x += y * x
    return np.sum(x * x)


def writes_an_item_of_a_list(xs, y):
    first = xs[0]
    first[2] = np.sum(y * first)
    return np.sum(first * y)


def appends_to_a_list(xs, y):
    xs.append(y * 2.0)
    return np.sum(xs[0] * xs[-1])


PROGRAMS = [writes_an_entry, scales_entries_in_a_loop, adds_into_itself,
            multiplies_into_a_tuple_out, clips_in_place, fills_then_writes, sorts_in_place,
            sorts_a_local_along_an_axis, writes_through_a_view, adds_to_itself]


def arrays():
    return X.copy(), Y.copy()


def assert_untouched(args, saved):
    for arg, before in zip(args, saved):
        if isinstance(arg, list):
            assert len(arg) == len(before), "pullback changed the caller's list"
            assert_untouched(arg, before)
        else:
            assert arg.tobytes() == before.tobytes(), "pullback changed the caller's array"


@pytest.mark.parametrize("function", PROGRAMS)
@pytest.mark.parametrize("wrt", [0, 1])
def test_reverse_mode_works_on_private_copies(function, wrt):
    args = arrays()
    saved = copy.deepcopy(args)
    expected = central_difference(function, args, wrt)
    gradient = pullback.grad(function, wrt=wrt)(*args)
    assert_untouched(args, saved)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    value, gradient = pullback.value_and_grad(function, wrt=wrt)(*args)
    assert_untouched(args, saved)
    assert value == function(*copy.deepcopy(saved))
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    value, back = pullback.vjp(function, *args, wrt=wrt)
    assert_untouched(args, saved)
    (gradient,) = back(np.float64(1.0))
    assert_untouched(args, saved)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", PROGRAMS)
@pytest.mark.parametrize("wrt", [0, 1])
def test_forward_mode_works_on_private_copies(function, wrt):
    args = arrays()
    saved = copy.deepcopy(args)
    direction = np.array([0.3, -0.7, 1.1])
    expected = np.dot(central_difference(function, args, wrt), direction)
    tangents = (direction, None) if wrt == 0 else (None, direction)
    value, tangent = pullback.jvp(function, args, tangents, wrt=wrt)
    assert_untouched(args, saved)
    assert value == function(*copy.deepcopy(saved))
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", [writes_an_entry, scales_entries_in_a_loop,
                                      adds_into_itself, fills_then_writes, adds_to_itself])
def test_the_hessian_works_on_private_copies(function):
    args = arrays()
    saved = copy.deepcopy(args)
    hessian = pullback.hessian(function)(*args)
    assert_untouched(args, saved)

    def gradient(x, y):
        return pullback.grad(function)(x, y)
    expected = np.stack([central_difference(lambda x, y: gradient(x, y)[k], args, 0)
                         for k in range(3)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("function", [writes_an_item_of_a_list, appends_to_a_list])
def test_list_arguments_are_copied_as_deep_as_they_are_written(function):
    xs = [X.copy(), Y * 3.0]
    saved = copy.deepcopy(xs)
    y = Y.copy()
    expected = central_difference(lambda xs, y: function(copy.deepcopy(xs), y), (xs, Y), 1)
    gradient = pullback.grad(function, wrt=1)(xs, y)
    assert_untouched([xs, y], [saved, Y])
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    value, back = pullback.vjp(function, xs, y, wrt=1)
    (again,) = back(1.0)
    assert_untouched([xs, y], [saved, Y])
    np.testing.assert_allclose(again, gradient, rtol=1e-12)


def test_the_generated_code_copies_the_argument_once():
    text = pullback.source(pullback.grad(writes_an_entry))
    assert text.count("x.copy()") == 1, text


# -- what Python computes through another name ----------------------------------------

def another_name_sees_the_update(x, y):
    v = x
    x += y
    return np.sum(v * y)  # refused: other-name


def test_an_update_another_name_would_see_is_refused():
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(another_name_sees_the_update)(*arrays())
    message = str(info.value)
    assert f"line {marker_line(THIS_FILE, 'other-name') - 1}" in message, message
    assert "'v'" in message and "in-place update" in message, message


def test_one_array_passed_as_two_arguments_is_refused_at_the_call():
    x = X.copy()
    for derive in (lambda: pullback.grad(writes_an_entry)(x, x),
                   lambda: pullback.jvp(writes_an_entry, (x, x), (Y, None))):
        with pytest.raises(ValueError, match="shares memory with another argument"):
            derive()
    np.testing.assert_array_equal(x, X)
    xs = [x, Y.copy()]
    with pytest.raises(ValueError, match="'xs'"):
        pullback.grad(writes_an_item_of_a_list, wrt=1)(xs, x)
    np.testing.assert_array_equal(x, X)


# -- what stays refused -------------------------------------------------------------

def out_names_a_view(x, y):
    np.add(x[:2], y[:2], out=x[:2])  # refused: out-view
    return np.sum(x)


def fill(buffer, value):
    buffer[0] = value


def callee_writes_its_parameter(x, y):
    fill(x, y[0])  # refused: callee
    return np.sum(x * y)


def writes_two_levels_down(xss, y):
    row = xss[0]
    first = row[0]
    first[0] = y[0]  # refused: deep
    return np.sum(first * y)


@pytest.mark.parametrize("function, tag, words, args", [
    (out_names_a_view, "out-view", ("'out'",), None),
    (callee_writes_its_parameter, "callee", ("fill", "'buffer'"), None),
    (writes_two_levels_down, "deep", ("item of an item", "xss"), ([[X.copy()]], Y.copy())),
])
def test_what_cannot_be_owned_is_refused(function, tag, words, args):
    args = args or arrays()
    saved = copy.deepcopy(args)
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(function, wrt=1)(*args)
    message = str(info.value)
    assert f'File "{THIS_FILE}", line {marker_line(THIS_FILE, tag)}' in message, message
    for word in words:
        assert word in message, message
    assert_untouched(args, saved)
