"""Refusals: every unsupported construct gives a pullback error that names the
construct, points at this file and the offending line (with a caret), and
says what to do. Plus the call-time errors, and checks that a derivative is
never silently wrong.

Constructs pullback used to refuse and now differentiates (control flow,
comprehensions, subscripts, tuple unpacking, list appends, ndarray methods
with rules) have positive tests here instead: their gradient must match
central differences (``reference.central_difference``), never another
pullback gradient.

Offending lines carry a marker comment ``# refused: <tag>``; the expected line
number is found by searching this file for the marker, never hard-coded.
"""
import copy
import math
import os
import re

import numpy as np
import pytest

import pullback
from pullback.checking import numerical_gradient
from reference import central_difference

THIS_FILE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(THIS_FILE))


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def marker_line(tag):
    """The 1-based line of this file ending with ``# refused: <tag>``."""
    with open(THIS_FILE, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(f"# refused: {tag}")]
    assert len(hits) == 1, f"marker {tag!r} must occur exactly once, found {hits}"
    return hits[0], lines[hits[0] - 1]


# Words that start an instruction: the advice must tell the user what to do.
_ADVICE = re.compile(
    r"\b(use|move|define|pass|remove|rewrite|inline|register|call|compute|return|assign|"
    r"write|replace|name|import|drop|keep|wrap|split|unroll|vectori[sz]e|express|put|"
    r"make|convert|avoid|change|delete|differentiate a|work on)\b", re.IGNORECASE)


def check_location(error, tag, function_name):
    """The message points at this file, the marked line, and shows it with a caret.

    Returns (the underlined text, the advice text after the caret line).
    """
    message = str(error)
    line, text = marker_line(tag)
    header = f'File "{THIS_FILE}", line {line}'
    assert header in message, f"expected {header!r} in:\n{message}"
    assert f"in {function_name}" in message, message
    stripped = text.strip()
    lines = message.splitlines()
    shown = [i for i, m in enumerate(lines) if m.strip() == stripped]
    assert shown, f"the offending line {stripped!r} is not shown in:\n{message}"
    i = shown[0]
    assert i + 1 < len(lines) and re.fullmatch(r"\s*\^+", lines[i + 1]), \
        f"no caret line under the offending line in:\n{message}"
    start = lines[i].index(stripped)
    col = lines[i + 1].index("^") - start
    width = lines[i + 1].count("^")
    assert 0 <= col < len(stripped), f"the caret is outside the line in:\n{message}"
    underlined = stripped[col:col + width]
    advice = "\n".join(lines[i + 2:]).strip()
    return underlined, advice


def check_underlined(underlined, expected):
    assert underlined.startswith(expected) or expected.startswith(underlined), \
        f"the caret underlines {underlined!r}, expected it under {expected!r}"


def check_advice(advice, message):
    assert advice, f"no advice after the caret in:\n{message}"
    assert _ADVICE.search(advice), f"the advice does not say what to do: {advice!r}"


def check_gradient(function, *args):
    """pullback's gradient of ``function`` at ``args`` with respect to ``args[0]``
    matches central differences, and the caller's arguments are left as they were."""
    saved = copy.deepcopy(args)
    g = pullback.grad(function)(*args)
    for arg, before in zip(args, saved):
        np.testing.assert_array_equal(arg, before, err_msg="pullback changed the caller's argument")
    assert np.shape(g) == np.shape(args[0])
    np.testing.assert_allclose(g, central_difference(function, args, 0), rtol=1e-6, atol=1e-8,
                               equal_nan=False)


def check_value_and_gradient(function, *args):
    """``value_and_grad`` gives the function's own value, and the gradient that
    matches central differences."""
    value, g = pullback.value_and_grad(function)(*copy.deepcopy(args))
    expected_value = function(*copy.deepcopy(args))
    assert value is not None, f"value_and_grad returned None; {function.__name__} gives " \
                              f"{expected_value!r}"
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, equal_nan=False)
    np.testing.assert_allclose(g, central_difference(function, args, 0), rtol=1e-6, atol=1e-8,
                               equal_nan=False)


# --------------------------------------------------------------------------
# User functions, one refused construct each
# --------------------------------------------------------------------------

def try_block(x):
    try:  # refused: try
        y = np.log(x)
    except FloatingPointError:
        y = x
    return y


def with_block(x):
    with open(os.devnull):  # refused: with
        y = np.log(x)
    return y


def generator(x):
    yield x * 2.0  # refused: yield
    return x


async def coroutine(x):  # refused: async
    return x * 2.0


COUNTER = 1.0


def uses_global(x):
    global COUNTER  # refused: global
    return x * COUNTER


def _make_nonlocal():
    total = 1.0

    def uses_nonlocal(x):
        nonlocal total  # refused: nonlocal
        return x * total

    return uses_nonlocal


uses_nonlocal = _make_nonlocal()


def sum_of(function, x):
    return np.sum(function(x))


def lambda_inside(x):
    # a lambda given to one of your functions is named and differentiated
    # (tests/test_python_scopes.py); given to NumPy, it stays refused
    return np.sum(np.apply_along_axis(lambda t: t * t, 0, x))  # refused: lambda


def nested_def(x):
    scale = np.sum(x)

    def square(t):
        return t * t * scale
    # given to sum_of directly it is differentiated (tests/test_python_scopes.py)
    kept = square  # refused: nested-def
    return sum_of(kept, x)


def set_comprehension(x):
    terms = {x * k for k in (1.0, 2.0, 3.0)}  # refused: setcomp
    return np.sum(np.array(list(terms)))


def dict_literal(x):
    scaled = {**BASE, "value": x * 2.0}  # refused: dict-literal
    return np.sum(scaled["value"])


BASE = {"offset": 1.0}


def set_literal(x):
    totals = {np.sum(x), np.sum(x * x)}  # refused: set-literal
    return min(totals)


def helper_function(t):
    return t * t


def spectrum_helper(t):
    return np.abs(np.fft.fft(t))  # refused: in-helper


def calls_a_helper_that_calls_fft(x):
    return np.sum(spectrum_helper(x * 2.0))


def calls_det(x):
    d = np.i0(x)  # refused: det
    return d


def calls_fft(x):
    spectrum = np.fft.fft(x)  # refused: fft
    return np.sum(np.abs(spectrum))


def method_cumsum(x):
    return np.sum(np.array(x.tolist()) * x)  # refused: cumsum


SUM_OPTIONS = {"axis": 0}


def kwargs_call(x):
    y = np.sum(x, **SUM_OPTIONS)  # refused: kwargs
    return np.sum(y)


def out_keyword(x):
    buffer = np.zeros_like(x)
    np.sin(x, out=buffer[:2])  # refused: out
    return np.sum(buffer)


def out_keyword_assigned(x):
    buffer = np.zeros_like(x)
    y = np.exp(x, out=buffer, where=x > 0)  # refused: out-assigned
    return np.sum(y)


def no_return(x):  # refused: no-return
    y = x * 2.0


def bare_return(x):  # refused: bare-return
    y = x * 2.0
    return


def fft_on_second_line(x):
    total = np.sum(
        np.abs(np.fft.fft(x)) * 2.0)  # refused: fft-continued
    return total


@pullback.grad
def decorated_with_fft(x):
    return np.sum(np.abs(np.fft.fft(x)))  # refused: decorated-fft


def signature_on_several_lines(
        x,
        y=2.0):
    spectrum = np.fft.fft(x * y)  # refused: multiline-signature
    return np.sum(np.abs(spectrum))


X = np.array([[0.5, 1.5], [2.0, -0.5]])

CASES = [
    # function, tag, error class, words naming the construct, underlined text
    (try_block, "try", pullback.UnsupportedSyntax, ["'try'"], "try"),
    (with_block, "with", pullback.UnsupportedSyntax, ["'with'"], "with"),
    (generator, "yield", pullback.UnsupportedSyntax, ["yield"], "yield"),
    (coroutine, "async", pullback.UnsupportedSyntax, ["async def"], "async def"),
    (uses_global, "global", pullback.UnsupportedSyntax, ["global"], "global"),
    (uses_nonlocal, "nonlocal", pullback.UnsupportedSyntax, ["nonlocal"], "nonlocal"),
    (lambda_inside, "lambda", pullback.UnsupportedSyntax, ["lambda"], "lambda t: t * t"),
    (nested_def, "nested-def", pullback.UnsupportedSyntax, ["nested function"], "square"),
    (set_comprehension, "setcomp", pullback.UnsupportedSyntax, ["comprehension"], "{"),
    (dict_literal, "dict-literal", pullback.UnsupportedSyntax, ["dict literal", "{**d}"],
     '{**BASE, "value": x * 2.0}'),
    (set_literal, "set-literal", pullback.UnsupportedSyntax, ["set literal"],
     "{np.sum(x), np.sum(x * x)}"),
    (calls_det, "det", pullback.NoDerivativeRule, ["i0", "no derivative rule"], "np.i0(x)"),
    (calls_fft, "fft", pullback.NoDerivativeRule, ["fft", "no derivative rule"], "np.fft.fft(x)"),
    (method_cumsum, "cumsum", pullback.UnsupportedSyntax, [".tolist()"], "x.tolist()"),
    (kwargs_call, "kwargs", pullback.UnsupportedSyntax, ["**kwargs"], "np.sum(x, **SUM_OPTIONS)"),
    (out_keyword, "out", pullback.UnsupportedSyntax, ["'out'"], "np.sin(x, out=buffer[:2])"),
    (out_keyword_assigned, "out-assigned", pullback.UnsupportedSyntax, ["'out'"],
     "np.exp(x, out=buffer, where=x > 0)"),
    (no_return, "no-return", pullback.UnsupportedSyntax, ["returns no value"], "def"),
    (bare_return, "bare-return", pullback.UnsupportedSyntax, ["returns no value"], "def"),
]
IDS = [case[1] for case in CASES]

# Cases about where the caret lands, beyond the constructs above.
LOCATION_CASES = CASES + [
    (fft_on_second_line, "fft-continued", pullback.NoDerivativeRule, ["fft"], "np.fft.fft(x)"),
    (signature_on_several_lines, "multiline-signature", pullback.NoDerivativeRule,
     ["fft"], "np.fft.fft(x * y)"),
]
LOCATION_IDS = [case[1] for case in LOCATION_CASES]


@pytest.mark.parametrize("function, tag, error_class, words, underlined", LOCATION_CASES,
                         ids=LOCATION_IDS)
def test_refusal_names_the_construct_and_points_at_the_line(function, tag, error_class, words,
                                                            underlined):
    df = pullback.grad(function)                    # building the derivative does not refuse
    with pytest.raises(error_class) as info:
        df(X)                                       # the first call transforms and refuses
    error = info.value
    assert isinstance(error, pullback.PullbackError)
    message = str(error)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"
    shown, _ = check_location(error, tag, function.__name__)
    check_underlined(shown, underlined)


@pytest.mark.parametrize("function, tag, error_class, words, underlined", LOCATION_CASES,
                         ids=LOCATION_IDS)
def test_refusal_says_what_to_do(function, tag, error_class, words, underlined):
    with pytest.raises(error_class) as info:
        pullback.grad(function)(X)
    _, advice = check_location(info.value, tag, function.__name__)
    check_advice(advice, str(info.value))


@pytest.mark.parametrize("function, tag, error_class, words, underlined", LOCATION_CASES,
                         ids=LOCATION_IDS)
def test_refusal_happens_at_transformation_time_for_every_entry_point(function, tag, error_class,
                                                                      words, underlined):
    with pytest.raises(error_class) as from_source:
        pullback.source(pullback.grad(function))
    with pytest.raises(error_class) as from_value_and_grad:
        pullback.value_and_grad(function)(X)
    with pytest.raises(error_class) as from_vjp:
        pullback.vjp(function, X)
    line, _ = marker_line(tag)
    for info in (from_source, from_value_and_grad, from_vjp):
        assert f'File "{THIS_FILE}", line {line}' in str(info.value)
    # A refusal is not cached as a success: asking again refuses again.
    df = pullback.grad(function)
    for _ in range(2):
        with pytest.raises(error_class):
            df(X)


def test_refusal_in_a_decorated_function_points_at_the_right_line():
    with pytest.raises(pullback.NoDerivativeRule) as info:
        decorated_with_fft(X)
    shown, advice = check_location(info.value, "decorated-fft", "decorated_with_fft")
    check_underlined(shown, "np.fft.fft(x)")
    check_advice(advice, str(info.value))


def test_refusal_in_a_function_nested_in_a_test_points_at_the_right_line():
    def inner(x):
        y = x * 2.0
        try:  # refused: nested-try
            y = y * y
        except ValueError:
            pass
        return np.sum(y)

    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(inner)(X)
    assert "'try'" in str(info.value)
    shown, advice = check_location(info.value, "nested-try", "inner")
    check_underlined(shown, "try")
    check_advice(advice, str(info.value))


def test_refusal_in_a_method_of_a_class_defined_in_a_test_points_at_the_right_line():
    class Model:
        scale = 3.0

        def loss(self, x):
            scaled = x * self.scale
            return np.sum(np.abs(np.fft.fft(scaled)))  # refused: method-fft

        def determinant(self, x):
            return np.sum(np.i0(x)) * self.scale  # refused: method-det

    with pytest.raises(pullback.NoDerivativeRule) as info:
        pullback.grad(Model.loss, wrt=1)(Model(), X)
    assert "fft" in str(info.value)
    shown, advice = check_location(info.value, "method-fft", "loss")
    check_underlined(shown, "np.fft.fft(scaled)")
    check_advice(advice, str(info.value))

    with pytest.raises(pullback.NoDerivativeRule) as info:
        pullback.grad(Model.determinant, wrt=1)(Model(), X)
    shown, advice = check_location(info.value, "method-det", "determinant")
    check_underlined(shown, "np.i0(x)")
    check_advice(advice, str(info.value))


def test_refusal_in_a_doubly_nested_function_points_at_the_right_line():
    def factory():
        def deep(x):
            z = np.sin(x)
            w = [lambda t: t]  # refused: deep-lambda
            return np.sum(z) + len(w)
        return deep

    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(factory())(X)
    shown, _ = check_location(info.value, "deep-lambda", "deep")
    check_underlined(shown, "lambda")


def test_refusal_inside_a_called_helper_points_at_the_helper_line():
    with pytest.raises(pullback.NoDerivativeRule) as info:
        pullback.grad(calls_a_helper_that_calls_fft)(X)
    assert "fft" in str(info.value)
    shown, advice = check_location(info.value, "in-helper", "spectrum_helper")
    check_underlined(shown, "np.fft.fft(t)")
    check_advice(advice, str(info.value))


def test_advice_refers_only_to_documents_that_exist():
    messages = []
    for function in (calls_fft, calls_det, try_block, method_cumsum,
                     sets_item_through_an_alias, no_return):
        with pytest.raises(pullback.PullbackError) as info:
            pullback.grad(function)(X.copy())
        messages.append(str(info.value))
    for message in messages:
        for document in re.findall(r"\b(docs/[\w./-]+\.md)\b", message):
            assert os.path.exists(os.path.join(REPO, document)), \
                f"the advice points at {document}, which does not exist:\n{message}"


# --------------------------------------------------------------------------
# Writing into an argument works on a private copy (the caller's array never
# changes); a write another name of it would see, then read, is refused
# --------------------------------------------------------------------------

def sets_item_of_argument(x):
    x[0] = 1.0
    return np.sum(x * x)


def sets_item_through_an_alias(x):
    y = x
    y[0] = 2.0  # refused: mutate-alias
    return np.sum(y * x)


def sets_item_of_a_view(x):
    y = x[1:]
    y[0] = 2.0  # refused: mutate-view
    return np.sum(x * x)


def sets_item_of_a_reshaped_view(x):
    y = x.reshape(2, 2)
    y[0, 0] = 1.0  # refused: mutate-reshape
    return np.sum(x * x)


def appends_to_a_list_argument(xs, v):
    xs.append(v)
    return v * v


def adds_into_an_item_of_argument(x):
    x[0] += 1.0
    return np.sum(x * x)


def sets_item_of_a_loop_row(x):
    for row in x:
        row[0] = 0.0  # refused: mutate-loop-row
    return np.sum(x * x)


def sets_item_through_a_tuple_alias(x):
    y, scale = x, 2.0
    y[0] = 0.0  # refused: mutate-tuple-alias
    return np.sum(x * x) * scale


def sets_item_through_a_conditional_alias(x):
    y = x if np.sum(x) > 0.0 else -x
    y[0] = 0.0  # refused: mutate-conditional-alias
    return np.sum(x * x)


MUTATION_CASES = [
    # function, tag, arguments, wrt, underlined text
    pytest.param(sets_item_through_an_alias, "mutate-alias", (X,), 0, "y[0] = 2.0", id="alias"),
    pytest.param(sets_item_of_a_view, "mutate-view", (X,), 0, "y[0] = 2.0", id="view"),
    pytest.param(sets_item_of_a_reshaped_view, "mutate-reshape", (X,), 0, "y[0, 0] = 1.0",
                 id="reshape"),
    pytest.param(sets_item_of_a_loop_row, "mutate-loop-row", (X,), 0, "row[0] = 0.0",
                 id="loop-row"),
    pytest.param(sets_item_through_a_tuple_alias, "mutate-tuple-alias", (X,), 0, "y[0] = 0.0",
                 id="tuple-alias"),
    pytest.param(sets_item_through_a_conditional_alias, "mutate-conditional-alias", (X,), 0,
                 "y[0] = 0.0", id="conditional-alias"),
]


@pytest.mark.parametrize("function, tag, args, wrt, underlined", MUTATION_CASES)
def test_a_write_through_another_name_of_an_argument_then_read_is_refused(
        function, tag, args, wrt, underlined):
    # writing into x through y, then reading x: Python sees the write in x; pullback refuses
    args = copy.deepcopy(args)
    saved = copy.deepcopy(args)
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(function, wrt=wrt)(*args)
    message = str(info.value)
    assert "in place" in message and "share its memory" in message, message
    shown, advice = check_location(info.value, tag, function.__name__)
    check_underlined(shown, underlined)
    check_advice(advice, message)
    for arg, before in zip(args, saved):
        np.testing.assert_array_equal(arg, before, err_msg="the caller's argument was changed")
    with pytest.raises(pullback.UnsupportedSyntax):
        pullback.vjp(function, *args, wrt=wrt)
    for arg, before in zip(args, saved):
        np.testing.assert_array_equal(arg, before, err_msg="the caller's argument was changed")


@pytest.mark.parametrize("function, args, wrt", [
    (sets_item_of_argument, (X,), 0),
    (appends_to_a_list_argument, ([1.0, 2.0], 0.5), 1),
    (adds_into_an_item_of_argument, (X,), 0),
], ids=["argument", "append", "augmented"])
def test_a_write_into_an_argument_is_differentiated_on_a_private_copy(function, args, wrt):
    from reference import central_difference
    args = copy.deepcopy(args)
    saved = copy.deepcopy(args)
    g = pullback.grad(function, wrt=wrt)(*args)
    expected = central_difference(lambda *values: function(*copy.deepcopy(values)),
                                  copy.deepcopy(saved), wrt)
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-9)
    for arg, before in zip(args, saved):
        np.testing.assert_array_equal(arg, before, err_msg="the caller's argument was changed")


def sets_item_of_a_copy(x):
    y = np.copy(x)
    y[0] = 2.0 * x[1]
    return np.sum(y * y * x)


def adds_into_a_slice_of_a_copy(x):
    y = x.copy()
    y[1:] += x[:-1]
    return np.sum(y * y * x)


@pytest.mark.parametrize("function", [sets_item_of_a_copy, adds_into_a_slice_of_a_copy],
                         ids=["np.copy", "method-copy"])
def test_mutating_a_copy_of_an_argument_is_differentiated(function):
    x = np.array([0.5, -1.2, 2.0, 0.7])
    before = x.copy()
    check_gradient(function, x)
    check_value_and_gradient(function, x)
    np.testing.assert_array_equal(x, before)


# --------------------------------------------------------------------------
# Constructs pullback used to refuse and now differentiates
# --------------------------------------------------------------------------

def if_elif_else(x):
    y = x * 2.0
    if y > 1.0:
        y = y * y
    elif y > 0.0:
        y = y * 3.0
    else:
        y = -np.sin(y)
    return y


def for_over_range(x):
    y = x
    for k in range(3):
        y = y * x + k
    return y


def for_over_a_list(x):
    total = 0.0
    for weight in [1.0, 2.0, 3.0]:
        total = total + weight * np.sin(x)
    return np.sum(total)


def for_over_array_rows(x):
    total = 0.0
    for row in x:
        total = total + np.sum(row * row) * row[0]
    return total


def for_over_enumerate(x):
    total = 0.0
    for i, v in enumerate(x):
        total = total + (i + 1.0) * v * v
    return total


def for_over_zip(x, w):
    total = 0.0
    for a, b in zip(x, w):
        total = total + a * b * a
    return total


def for_over_reversed(x):
    total = 0.0
    for v in reversed(x):
        total = total * np.cos(v) + v
    return total


def for_over_indices(x):
    total = 0.0
    for i in range(len(x)):
        total = total + x[i] * x[i - 1]
    return total


def while_loop(x):
    y = x
    while y < 10.0:
        y = y * 2.0
    return y


def loop_with_break(x):
    total = 0.0
    for v in x:
        if v < 0.0:
            break
        total = total + v * v
    return total


def loop_with_continue(x):
    total = 0.0
    for v in x:
        if v < 0.0:
            continue
        total = total + v * np.exp(v)
    return total


def early_return(x):
    if x > 1.0:
        return x * x
    return 3.0 * x


def return_inside_a_loop(x):
    y = x
    for k in range(10):
        y = y * 1.5
        if y > 4.0:
            return y * x
    return y


def code_after_return(x):
    y = x * 2.0
    return np.sum(y * y)
    y = y + 1.0


def list_comprehension(x):
    terms = [np.sin(x) * k for k in (1.0, 2.0, 3.0)]
    return np.sum(terms[0] * terms[2] + terms[1])


def list_comprehension_with_condition(x):
    squares = [v * v for v in x if v > 0.0]
    total = 0.0
    for s in squares:
        total = total + s
    return total


def list_comprehension_summed(x):
    terms = [x * k for k in (1.0, 2.0, 3.0)]
    return np.sum(terms)


def generator_expression(x):
    terms = (np.sin(v) * v for v in x)
    total = 0.0
    for t in terms:
        total = total + t * t
    return total


def conditional_expression(x):
    return np.sum(x * x if np.sum(x) > 0.0 else 3.0 * x)


def and_or_in_a_condition(x):
    if x > 0.0 and x < 2.0 or x < -3.0:
        return x * x
    return 3.0 * x


def and_or_as_values(x):
    y = (x > 1.0 and x * x) or np.sin(x)
    return y * x


def subscript(x):
    return x[0] * x[1] * 2.0


def slices(x):
    return np.sum(x[1:-1] * x[:-2])


def column(x):
    return np.sum(x[:, 0] * x[:, 1])


def tuple_unpacking(x):
    a, b = np.sin(x), np.cos(x)
    a, b = b, a * 2.0
    return np.sum(a * b * x)


def unpacking_an_array(x):
    a, b = x
    return a * b * b


def subscript_assignment(x):
    y = np.zeros(3)
    y[0] = x
    y[2] = x * x
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


def slice_assignment(x):
    y = np.zeros(5)
    y[1:3] = x * 2.0
    y[4] = x[0] * x[1]
    return np.sum(y * y)


def append_to_a_local_list(x):
    ys = []
    for k in range(3):
        ys.append(x * k)
    total = 0.0
    for y in ys:
        total = total + y * y
    return total


def append_then_sum(x):
    ys = []
    ys.append(x * 2.0)
    ys.append(np.sin(x))
    return np.sum(ys)


def calls_helper(x):
    y = helper_function(x)
    return np.sum(y * np.sin(x))


def method_sum(x):
    return x.sum() * x.sum()


def method_mean(x):
    return x.mean() ** 2


def method_dot(x, y):
    return x.dot(y) ** 2


def attribute_transpose(x):
    return np.sum(x.T * x)


def method_reshape(x):
    return np.sum(x.reshape(2, 2) @ x.reshape(2, 2))


def method_copy(x):
    return np.sum(x.copy() * x)


def method_ravel(x):
    return np.sum(x.ravel() * np.arange(4.0))


V = np.array([0.5, -1.2, 2.0, 0.7])

SUPPORTED = [
    pytest.param(if_elif_else, (0.8,), id="if"),
    pytest.param(if_elif_else, (0.3,), id="elif"),
    pytest.param(if_elif_else, (-0.3,), id="else"),
    pytest.param(for_over_range, (0.7,), id="for-range"),
    pytest.param(for_over_a_list, (V,), id="for-list"),
    pytest.param(for_over_array_rows, (X,), id="for-array"),
    pytest.param(for_over_enumerate, (V,), id="for-enumerate"),
    pytest.param(for_over_zip, (V, np.array([1.5, 0.5, -2.0, 3.0])), id="for-zip"),
    pytest.param(for_over_reversed, (V,), id="for-reversed"),
    pytest.param(for_over_indices, (V,), id="for-indices"),
    pytest.param(while_loop, (0.7,), id="while"),
    pytest.param(loop_with_break, (np.array([0.5, 2.0, -1.0, 3.0]),), id="break"),
    pytest.param(loop_with_continue, (V,), id="continue"),
    pytest.param(early_return, (1.5,), id="early-return-taken"),
    pytest.param(early_return, (0.5,), id="early-return-not-taken"),
    pytest.param(return_inside_a_loop, (0.7,), id="return-in-loop-taken"),
    pytest.param(return_inside_a_loop, (0.01,), id="return-in-loop-not-taken"),
    pytest.param(code_after_return, (V,), id="after-return"),
    pytest.param(list_comprehension, (V,), id="listcomp"),
    pytest.param(list_comprehension_with_condition, (V,), id="listcomp-if"),
    pytest.param(list_comprehension_summed, (V,), id="listcomp-np.sum"),
    pytest.param(generator_expression, (V,), id="genexp"),
    pytest.param(conditional_expression, (V,), id="ifexp-true"),
    pytest.param(conditional_expression, (-V,), id="ifexp-false"),
    pytest.param(and_or_in_a_condition, (1.0,), id="and"),
    pytest.param(and_or_in_a_condition, (-4.0,), id="or"),
    pytest.param(and_or_in_a_condition, (3.0,), id="and-or-false"),
    pytest.param(and_or_as_values, (1.5,), id="and-value"),
    pytest.param(and_or_as_values, (0.5,), id="or-value"),
    pytest.param(subscript, (V,), id="subscript"),
    pytest.param(slices, (V,), id="slices"),
    pytest.param(column, (X,), id="column"),
    pytest.param(tuple_unpacking, (V,), id="tuple-unpacking"),
    pytest.param(unpacking_an_array, (np.array([0.5, -1.2]),), id="array-unpacking"),
    pytest.param(subscript_assignment, (0.7,), id="subscript-assignment"),
    pytest.param(slice_assignment, (np.array([0.5, -1.2]),), id="slice-assignment"),
    pytest.param(append_to_a_local_list, (0.7,), id="append"),
    pytest.param(append_then_sum, (V,), id="append-np.sum"),
    pytest.param(calls_helper, (V,), id="python-helper"),
    pytest.param(method_sum, (V,), id="x.sum()"),
    pytest.param(method_mean, (X,), id="x.mean()"),
    pytest.param(method_dot, (V, np.array([1.5, 0.5, -2.0, 3.0])), id="x.dot(y)"),
    pytest.param(attribute_transpose, (X,), id="x.T"),
    pytest.param(method_reshape, (V,), id="x.reshape()"),
    pytest.param(method_copy, (V,), id="x.copy()"),
    pytest.param(method_ravel, (X,), id="x.ravel()"),
]


@pytest.mark.parametrize("function, args", SUPPORTED)
def test_supported_construct_matches_central_differences(function, args):
    check_gradient(function, *copy.deepcopy(args))


@pytest.mark.parametrize("function, args", SUPPORTED)
def test_value_and_grad_of_supported_construct_gives_the_value(function, args):
    check_value_and_gradient(function, *args)


# --------------------------------------------------------------------------
# Functions pullback cannot read
# --------------------------------------------------------------------------

def test_function_without_source_is_refused():
    namespace = {}
    exec("def made_by_exec(x):\n    return x * x\n", namespace)
    df = pullback.grad(namespace["made_by_exec"])
    with pytest.raises(pullback.SourceUnavailable) as info:
        df(1.0)
    assert "made_by_exec" in str(info.value) and "source" in str(info.value)


@pytest.mark.parametrize("builtin", [np.sin, math.sin], ids=["ufunc", "math"])
def test_builtin_function_is_refused(builtin):
    with pytest.raises(pullback.PullbackError) as info:
        pullback.grad(builtin)(1.0)
    assert isinstance(info.value, pullback.SourceUnavailable)
    assert "def" in str(info.value)          # tells the user to wrap it in a def


def test_lambda_given_to_grad_is_differentiated():
    df = pullback.grad(lambda x: x * x * 3.0)
    assert df(2.0) == pytest.approx(12.0)


def test_lambda_on_a_continuation_line_is_differentiated():
    df = pullback.grad(
        lambda x: np.sin(x) * x)
    assert df(0.5) == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))


def test_two_lambdas_with_the_same_parameters_on_one_line_are_refused():
    first, second = (lambda x: x * 2.0), (lambda x: x * 3.0)  # refused: lambda-pair
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(second)(1.0)
    assert "lambda" in str(info.value) and f'File "{THIS_FILE}"' in str(info.value)


# --------------------------------------------------------------------------
# Call-time errors: wrt, argument values, non-scalar outputs
# --------------------------------------------------------------------------

def two_args(x, y):
    return np.sum(x * y)


def keyword_only(x, *, k=1.0):
    return np.sum(x * k)


def vector_output(x):
    return np.sin(x)


@pytest.mark.parametrize("wrt", [2, -3, (0, 2), (0, -3), 10])
def test_wrt_naming_a_missing_parameter_is_refused(wrt):
    with pytest.raises(pullback.InvalidArgument) as info:
        pullback.grad(two_args, wrt=wrt)
    assert "wrt" in str(info.value)
    assert isinstance(info.value, pullback.PullbackError)
    with pytest.raises(pullback.InvalidArgument):
        pullback.value_and_grad(two_args, wrt=wrt)
    with pytest.raises(pullback.InvalidArgument):
        pullback.vjp(two_args, 1.0, 2.0, wrt=wrt)


@pytest.mark.parametrize("wrt", ["z", 1.5, True, (0, "z"), None, (0, 1.0)])
def test_wrt_of_the_wrong_type_is_refused(wrt):
    with pytest.raises(pullback.InvalidArgument):
        pullback.grad(two_args, wrt=wrt)


def test_wrt_cannot_name_a_keyword_only_parameter():
    with pytest.raises(pullback.InvalidArgument):
        pullback.grad(keyword_only, wrt=1)


@pytest.mark.parametrize("value, kind", [
    (3, "integer"), (True, "bool"), (1.0 + 2.0j, "complex"), ([1, 2], "list"),
    (np.array([1, 2]), "integer"), (np.array([True, False]), "bool"),
    (np.array([1.0 + 1.0j]), "complex"), (np.int64(4), "integer"), (None, "NoneType"),
    ("1.0", "str"),
], ids=["int", "bool", "complex", "list", "int-array", "bool-array", "complex-array",
        "np.int64", "None", "str"])
def test_non_float_differentiated_argument_is_refused(value, kind):
    with pytest.raises(pullback.InvalidArgument) as info:
        pullback.grad(two_args)(value, 2.0)
    message = str(info.value)
    assert "'x'" in message and kind in message and "float" in message
    with pytest.raises(pullback.InvalidArgument):
        pullback.grad(two_args, wrt=1)(2.0, value)
    with pytest.raises(pullback.InvalidArgument):
        pullback.value_and_grad(two_args)(value, 2.0)
    with pytest.raises(pullback.InvalidArgument):
        pullback.vjp(two_args, value, 2.0)


def test_non_scalar_output_is_refused_by_grad():
    with pytest.raises(pullback.NonScalarOutput) as info:
        pullback.grad(vector_output)(np.array([0.1, 0.2, 0.3]))
    message = str(info.value)
    assert "scalar" in message and "(3,)" in message and "vjp" in message
    with pytest.raises(pullback.NonScalarOutput):
        pullback.value_and_grad(vector_output)(np.array([0.1, 0.2, 0.3]))
    with pytest.raises(pullback.NonScalarOutput):
        pullback.grad(vector_output)(np.array([0.1]))        # shape (1,) is not a scalar


def test_non_scalar_output_advice_names_only_existing_functions():
    with pytest.raises(pullback.NonScalarOutput) as info:
        pullback.grad(vector_output)(np.array([0.1, 0.2, 0.3]))
    for name in re.findall(r"pullback\.(\w+)", str(info.value)):
        assert hasattr(pullback, name), \
            f"the message recommends pullback.{name}, which does not exist: {info.value}"


def test_scalar_output_from_python_float_input_is_fine():
    assert pullback.grad(vector_output)(0.25) == pytest.approx(math.cos(0.25), rel=1e-14)


# --------------------------------------------------------------------------
# Never silently wrong
# --------------------------------------------------------------------------

def det_of_constant(x, a):
    weight = np.sum(np.i0(a))
    return np.sum(x * x) * weight


def fft_of_constant(x, signal):
    power = np.sum(np.abs(np.fft.fft(signal)) ** 2)
    return np.sum(np.sin(x)) * power


def unknown_call_unused(x):
    ignored = np.i0(x)
    return np.sum(x * x)


def cumsum_of_constant(x, a):
    return np.sum(x * np.array(a.tolist()))


def floor_into_output(x):
    y = x * 1.0
    np.floor(x, out=y)
    return np.sum(y * x)


def aliased_augmented_assignment(x):
    y = x
    y += 1.0
    return np.sum(x * y)


def augmented_assignment_through_a_view(x):
    y = x[1:]
    y += 1.0                 # in Python this changes x[1:] too
    return np.sum(x * x)


def sort_whose_result_is_assigned(x):
    y = x * 1.0
    ignored = y.sort()       # sorts y in place; the result is None
    return np.sum(y * np.arange(4.0))


def test_unknown_c_function_on_a_constant_value_is_not_refused():
    x = np.array([0.5, -1.0, 2.0])
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    g = pullback.grad(det_of_constant)(x, a)
    np.testing.assert_allclose(g, 2.0 * x * np.sum(np.i0(a)), rtol=1e-12, equal_nan=False)
    with pytest.raises(pullback.NoDerivativeRule):
        pullback.grad(det_of_constant, wrt=1)(x, a)      # now a derivative flows through i0


def test_fft_on_a_constant_value_is_not_refused():
    x = np.array([0.5, -1.0])
    signal = np.array([1.0, 2.0, 0.0, -1.0])
    power = np.sum(np.abs(np.fft.fft(signal)) ** 2)
    g = pullback.grad(fft_of_constant)(x, signal)
    np.testing.assert_allclose(g, np.cos(x) * power, rtol=1e-12, equal_nan=False)


def test_unknown_c_function_whose_result_is_unused_is_not_refused():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    g = pullback.grad(unknown_call_unused)(x)
    np.testing.assert_allclose(g, 2.0 * x, rtol=1e-14, equal_nan=False)


def test_method_without_rule_on_a_constant_value_is_not_refused():
    x = np.array([0.5, -1.0])
    a = np.array([3.0, 4.0])
    check_gradient(cumsum_of_constant, x, a)


def _refused_or_correct(function, x):
    """Either pullback refuses the function, or its gradient and value are right."""
    try:
        value, g = pullback.value_and_grad(function)(x.copy())
    except pullback.PullbackError:
        return
    expected_value = function(x.copy())
    expected = central_difference(function, (x,), 0)
    if not (np.allclose(value, expected_value, rtol=1e-12)
            and np.allclose(g, expected, rtol=1e-5, atol=1e-6)):
        pytest.fail(f"{function.__name__}: pullback neither refused nor got it right:\n"
                    f"value    {value!r} (function gives {expected_value!r})\n"
                    f"gradient {g!r} (central differences give {expected!r})")


def test_out_keyword_on_a_function_without_derivative_is_not_silently_wrong():
    _refused_or_correct(floor_into_output, np.array([0.3, 1.7, 2.2]))


def test_augmented_assignment_through_an_alias_is_not_silently_wrong():
    _refused_or_correct(aliased_augmented_assignment, np.array([0.3, 1.7]))


def test_augmented_assignment_through_a_view_is_not_silently_wrong():
    _refused_or_correct(augmented_assignment_through_a_view, np.array([0.3, 1.7, -0.4]))


def test_in_place_method_whose_result_is_assigned_is_not_silently_wrong():
    _refused_or_correct(sort_whose_result_is_assigned, np.array([0.5, -1.2, 2.0, 0.7]))


# --------------------------------------------------------------------------
# checking: numerical_gradient and check_grads
# --------------------------------------------------------------------------

def cubic_sum(x):
    return np.sum(x ** 3)


def scaled_product(x, y):
    return x * y * 2.0


def sin_sum(x):
    return np.sum(np.sin(x))


def test_numerical_gradient_matches_a_hand_formula():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(numerical_gradient(cubic_sum, (x,), 0), 3 * x ** 2,
                               rtol=1e-7, equal_nan=False)


def test_numerical_gradient_of_a_python_float_and_a_chosen_argument():
    g = numerical_gradient(lambda a, b: math.exp(a) * b, (0.3, 2.0), 0)
    assert g.shape == () and float(g) == pytest.approx(2.0 * math.exp(0.3), rel=1e-8)
    g = numerical_gradient(lambda a, b: math.exp(a) * b, (0.3, 2.0), 1)
    assert float(g) == pytest.approx(math.exp(0.3), rel=1e-8)


def test_numerical_gradient_with_a_cotangent_is_a_vector_jacobian_product():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    cotangent = np.array([0.5, 4.0])
    np.testing.assert_allclose(numerical_gradient(scaled_product, (x, y), 1, cotangent=cotangent),
                               2.0 * x * cotangent, rtol=1e-7, equal_nan=False)


def test_numerical_gradient_of_float32_input_is_computed_in_float64():
    x = np.array([0.1, 0.2], dtype=np.float32)
    g = numerical_gradient(sin_sum, (x,), 0)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, np.cos(x.astype(np.float64)), rtol=1e-6, equal_nan=False)


def test_numerical_gradient_does_not_modify_its_arguments():
    x = np.array([0.5, 1.5])
    before = x.copy()
    numerical_gradient(cubic_sum, (x,), 0)
    np.testing.assert_array_equal(x, before)


def test_check_grads_accepts_correct_gradients():
    assert pullback.check_grads(cubic_sum, np.array([0.5, -1.0, 2.0])) is True
    assert pullback.check_grads(scaled_product, np.array([1.0, 2.0]), np.array([3.0, -1.0])) is True
    assert pullback.check_grads(scaled_product, 1.5, 0.5, wrt=1) is True


def test_check_grads_raises_assertion_error_when_the_reference_disagrees():
    # A huge finite-difference step makes the reference wrong, not pullback:
    # check_grads must report the mismatch rather than pass.
    with pytest.raises(AssertionError) as info:
        pullback.check_grads(sin_sum, np.array([0.3, 1.0, 2.0]), eps=0.5)
    assert "sin_sum" in str(info.value)


class _Model:
    """A user's model whose loss calls another of its methods through self."""

    def __init__(self, k):
        self.k = k

    def predict(self, w, x):
        return np.tanh(x @ w) * self.k

    def loss_through_self(self, w, x):
        return np.sum(self.predict(w, x) ** 2)

    def loss_through_class(self, w, x):
        return np.sum(_Model.predict(self, w, x) ** 2)


def _kwargs_library(x, **options):
    return x * options.get("scale", 1.0)


def _calls_a_kwargs_function(x):
    return np.sum(_kwargs_library(x, scale=2.0))


def test_a_method_called_through_self_is_refused_with_advice_that_works():
    model, w, x = _Model(2.0), np.array([0.3, -0.2]), np.array([[1.0, 0.5], [0.2, -1.0]])
    with pytest.raises(pullback.UnsupportedSyntax) as refused:
        pullback.grad(model.loss_through_self)(w, x)
    message = str(refused.value)
    assert "self.predict() calls a method of an object" in message
    assert "ClassName.predict(self, ...)" in message and "line" in message
    # the advice works: through the class, the gradient is right
    np.testing.assert_allclose(pullback.grad(model.loss_through_class)(w, x),
                               central_difference(model.loss_through_class, [w, x], 0), rtol=1e-7)


def test_a_function_taking_kwargs_is_refused_with_what_to_do_for_a_library_one():
    with pytest.raises(pullback.UnsupportedSyntax) as refused:
        pullback.grad(_calls_a_kwargs_function)(np.ones(2))
    message = str(refused.value)
    assert "_kwargs_library (from test_errors)" in message and "register_adjoint" in message


def dict_loss(params, x):
    return np.sum(np.sin(params["w"] * x) + params["b"] ** 2) * params["scale"]


def split_output(x):
    return {"sin": np.sin(x), "sq": (x ** 2, np.sum(x))}


def test_check_grads_takes_container_arguments_and_outputs():
    params = {"w": np.array([0.3, -0.4]), "b": 0.7, "scale": 2, "name": "layer"}
    assert pullback.check_grads(dict_loss, params, np.array([1.0, 2.0]), wrt=0) is True
    assert pullback.check_grads(split_output, np.array([0.2, -1.1])) is True


def test_check_grads_reports_a_container_leaf_that_disagrees():
    params = {"w": np.array([0.3, -0.4]), "b": 0.7, "scale": 2}
    with pytest.raises(AssertionError) as info:     # a huge step makes the reference wrong
        pullback.check_grads(dict_loss, params, np.array([1.0, 2.0]), wrt=0, eps=0.5)
    assert "argument 0, ['w']" in str(info.value)
