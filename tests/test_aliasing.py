"""Aliasing (issue 11, classes 1 and 2): a write through one name into memory
another name shares is either differentiated right or refused, and no path
changes the caller's arrays.

pullback treats ``v = a[:2]`` as a new value; NumPy makes ``v`` a view of
``a``. Every program here either has a gradient equal to central
differences of the function as Python runs it (``reference.central_difference``)
with the caller's arrays left as they were, or is refused with an
UnsupportedSyntax error that points at the marked line of this file
(``# refused: <tag>``) and says what to do.
"""
import copy
import os
import re

import numpy as np
import numpy as xp
import pytest
from numpy import ravel as flatten_view

import pullback
from reference import central_difference, marker_line

THIS_FILE = os.path.abspath(__file__)
X = np.array([0.5, -1.0, 2.0])


def check_refused(function, tag, *args, words=(), wrt=0):
    """pullback refuses ``function`` at the marked line, with advice, for grad
    and vjp, and leaves the caller's arguments as they were."""
    args = args or (X.copy(),)
    saved = copy.deepcopy(args)
    for derive in (lambda: pullback.grad(function, wrt=wrt)(*args),
                   lambda: pullback.vjp(function, *args, wrt=wrt)):
        with pytest.raises(pullback.UnsupportedSyntax) as info:
            derive()
        message = str(info.value)
        header = f'File "{THIS_FILE}", line {marker_line(THIS_FILE, tag)}, in {function.__name__}'
        assert header in message, f"expected {header!r} in:\n{message}"
        assert "^" in message, message
        advice = message.rsplit("\n", 1)[-1]
        assert re.search(r"\b(write|work on|make|assign|use)\b", advice, re.IGNORECASE), message
        for word in words:
            assert word in message, f"{word!r} is not in:\n{message}"
        for arg, before in zip(args, saved):
            np.testing.assert_array_equal(arg, before, err_msg="the caller's argument changed")


def check_gradient(function, *args):
    args = args or (X.copy(),)
    saved = copy.deepcopy(args)
    gradient = pullback.grad(function)(*args)
    for arg, before in zip(args, saved):
        np.testing.assert_array_equal(arg, before, err_msg="pullback changed the caller's argument")
    np.testing.assert_allclose(gradient, central_difference(function, args, 0), rtol=1e-6,
                               atol=1e-8)


# --------------------------------------------------------------------------
# Class 1: writes through a view or another name of an array the function made
# --------------------------------------------------------------------------

def write_through_a_slice(x):
    a = np.zeros(3)
    v = a[:2]
    v[0] = x[0]  # refused: slice-view
    return np.sum(a * x)


def write_through_another_name(x):
    a = np.zeros(3)
    b = a
    a[1] = x[1]  # refused: same-array
    return np.sum(b * x)


def write_through_a_row(x):
    a = np.zeros((2, 3))
    r = a[0]
    r[:] = x  # refused: row-view
    return np.sum(a * x)


def write_through_a_transpose(x):
    a = np.zeros((3, 1))
    t = a.T
    t[0, 1] = x[1]  # refused: transpose-view
    return np.sum(a[:, 0] * x)


def write_through_a_reshape(x):
    a = np.zeros((3, 1))
    flat = a.reshape(3)
    flat[2] = x[2] * x[0]  # refused: reshape-view
    return np.sum(a[:, 0] * x)


def write_through_ravel_in_a_loop(x):
    a = np.zeros((1, 3))
    for i in range(3):
        flat = a.ravel()
        flat[i] = x[i] * 2.0  # refused: ravel-loop
    return np.sum(a * x)


def write_through_a_view_in_a_branch(x):
    a = np.ones(3)
    v = a[1:] if x[0] > 0.0 else a[:2]
    v[0] = np.sin(x[2])  # refused: branch-view
    return np.sum(a * x)


def write_through_an_item_of_a_list(x):
    a = np.zeros(3)
    held = [a]
    first = held[0]
    first[1] = x[1]  # refused: list-item
    return np.sum(a * x)


def write_into_an_array_a_list_holds(x):
    a = np.zeros(3)
    held = [a, x]
    a[0] = x[2]  # refused: held-in-list
    return np.sum(held[0] * x)


def write_into_an_array_a_tuple_holds(x):
    a = np.zeros(3)
    pair = (a, 2.0)
    a[2] = x[0]  # refused: held-in-tuple
    return np.sum(pair[0] * x) * pair[1]


def list_changed_through_another_name(x):
    values = []
    same = values
    values.append(x[0])  # refused: list-alias
    return same[0] * x[1]


def in_place_method_on_a_shared_array(x):
    a = np.ones(3)
    b = a[:]
    b.fill(2.0)  # refused: fill-view
    return np.sum(a * x)


def copyto_a_view(x):
    a = np.zeros(3)
    v = a[1:]
    np.copyto(v, x[:2])  # refused: copyto-view
    return np.sum(a * x)


def write_into_a_nested_list_item(x):
    a = np.zeros(3)
    held = [a]
    held[0][1] = x[1]  # refused: nested-subscript
    return np.sum(a * x)


@pytest.mark.parametrize("function, tag", [
    (write_through_a_slice, "slice-view"),
    (write_through_another_name, "same-array"),
    (write_through_a_row, "row-view"),
    (write_through_a_transpose, "transpose-view"),
    (write_through_a_reshape, "reshape-view"),
    (write_through_ravel_in_a_loop, "ravel-loop"),
    (write_through_a_view_in_a_branch, "branch-view"),
    (write_through_an_item_of_a_list, "list-item"),
    (write_into_an_array_a_list_holds, "held-in-list"),
    (write_into_an_array_a_tuple_holds, "held-in-tuple"),
    (list_changed_through_another_name, "list-alias"),
    (in_place_method_on_a_shared_array, "fill-view"),
    (copyto_a_view, "copyto-view"),
    (write_into_a_nested_list_item, "nested-subscript"),
])
def test_a_write_another_name_would_see_is_refused(function, tag):
    check_refused(function, tag)


def test_the_issue_example_is_refused_not_wrong():
    # pullback used to give [0.5, 0, 0]; the gradient is [1, 0, 0]
    check_refused(write_through_a_slice, "slice-view", words=("'a'", "in place"))


# -- writes that no other name sees stay differentiated ---------------------

def write_into_a_fresh_array(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = np.sin(x[i]) * x[2 - i]
    return np.sum(y * y)


def add_into_a_slice_of_a_copy(x):
    y = x.copy()
    y[1:] += x[:-1] * x[0]
    return np.sum(y * y)


def view_taken_after_the_writes(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[2] = x[2]
    v = y[:2]
    return np.sum(v * x[1:])


def view_read_before_a_later_write(x):
    y = np.zeros(3)
    y[0] = x[0]
    v = y[:2]
    s = np.sum(v * x[:2])
    y[1] = x[1] * 3.0
    return s + np.sum(y * x)


def rows_taken_each_iteration(x):
    h = np.zeros((4, 3))
    h[0] = x
    for t in range(3):
        previous = h[t]
        h[t + 1] = np.tanh(previous * x[t])
    return np.sum(h)


def same_row_rewritten_through_a_view(x):
    h = np.zeros((2, 3))
    h[0] = x
    for i in range(3):
        r = h[0]
        h[0] = np.sin(r) * r
    return np.sum(h)


def fresh_array_per_iteration_in_a_list(x):
    rows = []
    for i in range(3):
        row = np.zeros(3)
        row[i] = x[i] * x[2 - i]
        rows.append(row)
    return np.sum(np.stack(rows) * x)


def loop_rows_copied_into_a_fresh_array(x):
    X2 = np.stack([x, x * 2.0])
    out = np.zeros((2, 3))
    i = 0
    for row in X2:
        out[i] = row * row
        i = i + 1
    return np.sum(out)


def show(value):
    print("value:", np.shape(value))


def observes_through_a_helper(x):
    a = np.zeros(3)
    a[1] = x[1]
    show(a)
    return np.sum(a * x)


@pytest.mark.parametrize("function", [
    write_into_a_fresh_array, add_into_a_slice_of_a_copy, view_taken_after_the_writes,
    view_read_before_a_later_write, rows_taken_each_iteration, same_row_rewritten_through_a_view,
    fresh_array_per_iteration_in_a_list, loop_rows_copied_into_a_fresh_array,
    observes_through_a_helper,
])
def test_a_write_no_other_name_sees_is_differentiated(function):
    check_gradient(function)


# -- helpers that write into what they are passed --------------------------

def fill(buf, x):
    buf[0] = x[0] * 3.0


def fill_and_return(buf, x):
    buf[1] = x[1]
    return np.sum(buf)


def fill_through_a_view(buf, x):
    head = buf[:2]
    head[:] = x[:2]
    return 0.0


def calls_fill(buf, x):
    fill(buf, x)
    return buf


def same(value):
    return value


def bare_call_to_a_filling_helper(x):
    a = np.zeros(3)
    fill(a, x)  # refused: helper-bare
    return np.sum(a * x)


def filling_helper_that_returns(x):
    a = np.zeros(3)
    s = fill_and_return(a, x)  # refused: helper-returns
    return np.sum(a * x) + s


def helper_fills_through_a_view(x):
    a = np.zeros(3)
    fill_through_a_view(a, x)  # refused: helper-view
    return np.sum(a * x)


def helper_calls_a_filling_helper(x):
    a = np.zeros(3)
    b = calls_fill(a, x)  # refused: helper-nested
    return np.sum(b * x)


def nested_def_fills(x):
    a = np.zeros(3)

    def put_first(target):
        target[0] = x[0] * x[1]
    put_first(a)  # refused: nested-def
    return np.sum(a * x)


def nested_def_fills_what_it_captures(x):
    a = np.zeros(3)

    def put_first():
        a[0] = x[0] * x[1]
    put_first()  # refused: nested-capture
    return np.sum(a * x)


def helper_returns_its_argument(x):
    a = np.zeros(3)
    b = same(a)
    b[0] = x[0]  # refused: helper-alias
    return np.sum(a * x)


@pytest.mark.parametrize("function, tag", [
    (bare_call_to_a_filling_helper, "helper-bare"),
    (filling_helper_that_returns, "helper-returns"),
    (helper_fills_through_a_view, "helper-view"),
    (helper_calls_a_filling_helper, "helper-nested"),
    (nested_def_fills, "nested-def"),
    (nested_def_fills_what_it_captures, "nested-capture"),
    (helper_returns_its_argument, "helper-alias"),
])
def test_a_helper_that_writes_into_what_it_is_passed_is_refused(function, tag):
    check_refused(function, tag)


def test_the_refusal_of_a_helper_names_it_and_its_parameter():
    check_refused(bare_call_to_a_filling_helper, "helper-bare", words=("fill", "'buf'"))


def scale(v, k):
    return v * k


def helper_that_only_reads(x):
    a = np.zeros(3)
    a[0] = x[0]
    b = scale(a, x[1])
    a[1] = x[2]
    return np.sum(a * b * x)


def test_a_helper_that_only_reads_is_differentiated():
    check_gradient(helper_that_only_reads)


# --------------------------------------------------------------------------
# Class 2: views of an argument, by method or by function, never written
# --------------------------------------------------------------------------

def ravel_then_write(x):
    y = np.ravel(x)
    y[0] = 5.0  # refused: ravel
    return np.sum(x)


def asarray_then_write(x):
    y = np.asarray(x)
    y[1] = 5.0  # refused: asarray
    return np.sum(x * x)


def reshape_function_then_write(x):
    y = np.reshape(x, (3, 1))
    y[0, 0] = 5.0  # refused: reshape
    return np.sum(x * x)


def atleast_2d_then_write(x):
    y = np.atleast_2d(x)
    y[0, 1] = 0.0  # refused: atleast
    return np.sum(x * x)


def expand_dims_then_write(x):
    y = np.expand_dims(x, 0)
    y[0, 2] += 1.0  # refused: expand-dims
    return np.sum(x * x)


def astype_without_copy_then_write(x):
    y = x.astype(np.float64, copy=False)
    y[0] = 1.0  # refused: astype
    return np.sum(x * x)


def broadcast_to_then_write(x):
    y = np.broadcast_to(x, (2, 3))
    y[0, 0] = 1.0  # refused: broadcast-to
    return np.sum(x * x)


def view_method_then_write(x):
    y = x.view()
    y[2] = 1.0  # refused: view-method
    return np.sum(x * x)


def ellipsis_then_write(x):
    y = x[...]
    y[2] = 1.0  # refused: ellipsis
    return np.sum(x * x)


def flip_then_write(x):
    y = np.flip(x)
    y[0] = 1.0  # refused: flip
    return np.sum(x * x)


def unbound_method_then_write(x):
    y = np.ndarray.reshape(x, (3,))
    y[0] = 1.0  # refused: unbound-reshape
    return np.sum(x * x)


def other_module_name_then_write(x):
    y = xp.squeeze(x)
    y[0] = 1.0  # refused: module-alias
    return np.sum(x * x)


def imported_function_then_write(x):
    y = flatten_view(x)
    y[0] = 1.0  # refused: from-import
    return np.sum(x * x)


def view_of_an_argument_in_a_loop(x):
    total = 0.0
    for k in range(2):
        y = np.squeeze(x)
        y[k] = total  # refused: loop-squeeze
        total = total + np.sum(x * x)
    return total


def view_of_an_argument_in_a_branch(x):
    if x[0] > 0.0:
        y = np.transpose(x)
    else:
        y = x * 2.0
    y[0] = 1.0  # refused: branch-transpose
    return np.sum(x * x)


def item_of_a_list_argument(xs, x):
    first = xs[0]
    first[0] = x[0]
    return np.sum(first * x)


def helper_view_of_an_argument(x):
    y = same(x)
    y[0] = 1.0  # refused: helper-returns-argument
    return np.sum(y * x)


def argument_filled_by_a_helper(x):
    fill(x, x * 2.0)  # refused: helper-argument
    return np.sum(x * x)


def double_in_place(v):
    v *= 2.0
    return v


def argument_doubled_in_place_by_a_helper(x, data):
    s = double_in_place(data)  # refused: helper-augmented-argument
    return np.sum(x * s)


def test_a_helper_that_updates_an_argument_in_place_is_refused():
    data = np.array([1.0, 2.0, 3.0])
    check_refused(argument_doubled_in_place_by_a_helper, "helper-augmented-argument", X.copy(),
                  data, words=("data", "double_in_place", "caller's"))
    np.testing.assert_array_equal(data, [1.0, 2.0, 3.0])


def local_doubled_in_place_then_read(x):
    a = x * 1.0
    b = double_in_place(a)  # refused: helper-augmented-local
    return np.sum(a * b)


def local_doubled_in_place_then_dropped(x):
    a = x * 1.0
    a = double_in_place(a)
    return np.sum(a * x)


def test_a_helper_s_update_in_place_is_refused_where_the_caller_reads_the_old_name():
    check_refused(local_doubled_in_place_then_read, "helper-augmented-local")
    check_gradient(local_doubled_in_place_then_dropped)


BUFFER = np.zeros(3)


def fill_the_global_buffer(x):
    BUFFER[0] = x[0]


def calls_a_helper_that_fills_a_global(x):
    fill_the_global_buffer(x)  # refused: helper-global
    return np.sum(BUFFER * x)


def writes_a_global(x):
    BUFFER[1] = x[1]  # refused: global-write
    return np.sum(BUFFER * x)


def test_a_write_into_a_global_array_is_refused():
    check_refused(calls_a_helper_that_fills_a_global, "helper-global",
                  words=("BUFFER", "fill_the_global_buffer"))
    check_refused(writes_a_global, "global-write", words=("BUFFER",))
    np.testing.assert_array_equal(BUFFER, 0.0)


@pytest.mark.parametrize("function, tag", [
    (ravel_then_write, "ravel"),
    (asarray_then_write, "asarray"),
    (reshape_function_then_write, "reshape"),
    (atleast_2d_then_write, "atleast"),
    (expand_dims_then_write, "expand-dims"),
    (astype_without_copy_then_write, "astype"),
    (broadcast_to_then_write, "broadcast-to"),
    (view_method_then_write, "view-method"),
    (ellipsis_then_write, "ellipsis"),
    (flip_then_write, "flip"),
    (unbound_method_then_write, "unbound-reshape"),
    (other_module_name_then_write, "module-alias"),
    (imported_function_then_write, "from-import"),
    (view_of_an_argument_in_a_loop, "loop-squeeze"),
    (view_of_an_argument_in_a_branch, "branch-transpose"),
    (helper_view_of_an_argument, "helper-returns-argument"),
    (argument_filled_by_a_helper, "helper-argument"),
])
def test_a_write_into_a_view_of_an_argument_is_refused(function, tag):
    check_refused(function, tag)


def test_the_caller_s_array_is_left_alone():
    # x is written through its view y (into pullback's private copy of x), then
    # read: the write another name would see is refused, not missed
    x = X.copy()
    check_refused(ravel_then_write, "ravel", x, words=("'x'", "in place"))
    np.testing.assert_array_equal(x, X)


def test_an_item_of_a_list_argument_is_written_into_a_private_copy():
    # (tests/test_inplace_arguments.py checks the copies in every mode)
    xs = [np.zeros(3), np.ones(3)]
    saved = copy.deepcopy(xs)
    gradient = pullback.grad(item_of_a_list_argument, wrt=1)(xs, X.copy())
    for item, before in zip(xs, saved):
        np.testing.assert_array_equal(item, before)
    np.testing.assert_allclose(gradient, central_difference(           # Python writes into saved
        item_of_a_list_argument, (saved, X.copy()), 1), rtol=1e-6, atol=1e-8)


# -- copies of an argument may be written ----------------------------------

def copy_then_write(x):
    y = np.array(x)
    y[0] = 5.0 * x[1]
    return np.sum(y * x)


def astype_copy_then_write(x):
    y = x.astype(np.float64)
    y[1] = x[0] * x[2]
    return np.sum(y * x)


def reshape_of_a_copy_then_write(x):
    y = np.copy(x).reshape(3, 1)
    y[2, 0] = x[0] * 2.0
    return np.sum(y[:, 0] * x)


@pytest.mark.parametrize("function", [copy_then_write, astype_copy_then_write,
                                      reshape_of_a_copy_then_write])
def test_a_write_into_a_copy_of_an_argument_is_differentiated(function):
    check_gradient(function)


# --------------------------------------------------------------------------
# Class 11: two adjoints that are one array, and an accumulation in place
# --------------------------------------------------------------------------

def shared_adjoints(a):
    b = a + 1.0
    c = b[0] + 1.5
    d = a + b
    e = d + c
    return e


def shared_adjoints_summed(a):
    b = a + 1.0
    c = b[0] + 1.5
    d = a + b
    e = d + c
    return np.sum(np.sin(e))


def shared_adjoints_reshaped(a):
    b = np.reshape(a, (2, 2)) * 1.0
    c = b[0, 1] * 3.0
    d = np.reshape(a, (2, 2)) + b
    return np.sum(np.cos(d + c))


def shared_adjoints_broadcast(a):
    row = a + 0.5
    grid = row + np.zeros((2, 1))
    first = row[1] * 2.0
    both = a + row
    return np.sum(np.sin(grid)) + np.sum(np.tanh(both + first))


def shared_adjoints_in_a_loop(a):
    total = 0.0
    for k in range(3):
        b = a * 1.0
        c = b[k] * 2.0
        d = a + b
        total = total + np.sum(np.sin(d + c))
    return total


def test_the_issue_vjp_example_with_its_cotangent():
    a = np.array([0.3, -0.2, 0.5])
    cotangent = np.array([1.0, 10.0, 100.0])
    saved = cotangent.copy()
    value, backward = pullback.vjp(shared_adjoints, a)
    (gradient,) = backward(cotangent)
    np.testing.assert_allclose(gradient, [113.0, 20.0, 200.0], rtol=1e-12)   # by hand
    np.testing.assert_allclose(
        gradient, central_difference(shared_adjoints, (a,), 0, cotangent=cotangent), rtol=1e-6)
    np.testing.assert_array_equal(cotangent, saved, err_msg="the caller's cotangent changed")
    (again,) = backward(cotangent)            # a second call gives the same answer
    np.testing.assert_allclose(again, gradient, rtol=1e-12)


@pytest.mark.parametrize("function", [shared_adjoints_summed, shared_adjoints_reshaped,
                                      shared_adjoints_broadcast, shared_adjoints_in_a_loop])
def test_shared_adjoints_give_the_gradient(function):
    a = np.array([0.3, -0.2, 0.5, 0.9]) if function is shared_adjoints_reshaped \
        else np.array([0.3, -0.2, 0.5])
    check_gradient(function, a)


@pytest.mark.parametrize("function", [shared_adjoints_summed, shared_adjoints_reshaped,
                                      shared_adjoints_broadcast])
def test_shared_adjoints_leave_the_cotangent_alone(function):
    a = np.array([0.3, -0.2, 0.5, 0.9]) if function is shared_adjoints_reshaped \
        else np.array([0.3, -0.2, 0.5])
    cotangent = np.array(0.7)
    _, backward = pullback.vjp(function, a)
    (gradient,) = backward(cotangent)
    np.testing.assert_allclose(gradient, central_difference(function, (a,), 0, cotangent=0.7),
                               rtol=1e-6, atol=1e-9)
    assert float(cotangent) == 0.7


# --------------------------------------------------------------------------
# Arguments that may be lists: xs + ys holds the caller's arrays
# --------------------------------------------------------------------------

def write_into_an_item_of_joined_lists(w, xs, ys):
    m = (xs + ys)[0]
    m[0] = 5.0  # refused: joined-lists
    return np.sum(xs[0] * w)


def test_a_write_into_an_item_of_joined_argument_lists_read_again_is_refused():
    xs, ys = [np.array([1.0, 2.0])], [np.array([3.0, 4.0])]
    check_refused(write_into_an_item_of_joined_lists, "joined-lists", 2.0, xs, ys,
                  words=("'xs'",))
    assert xs[0][0] == 1.0


def write_into_a_sum_of_arguments(x, y):
    z = x + y
    z[0] = 1.0
    w = x * 2.0
    w[1:] = 0.0
    return np.sum(z * x + w * y)


def test_writes_into_a_new_sum_of_arguments_still_work():
    check_gradient(write_into_a_sum_of_arguments, X.copy(), X.copy() * 0.5)
