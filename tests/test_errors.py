"""Refusals: every unsupported construct gives a pullback error that names the
construct, points at this file and the offending line (with a caret), and
says what to do. Plus the call-time errors, and checks that a derivative is
never silently wrong.

Offending lines carry a marker comment ``# refused: <tag>``; the expected line
number is found by searching this file for the marker, never hard-coded.
"""
import math
import os
import re

import numpy as np
import pytest

import pullback
from pullback.checking import numerical_gradient

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
    r"make|convert|avoid|change|delete|differentiate a)\b", re.IGNORECASE)


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


# --------------------------------------------------------------------------
# User functions, one refused construct each
# --------------------------------------------------------------------------

def branch(x):
    y = x * 2.0
    if y > 1.0:  # refused: if
        y = y * y
    return y


def loop_for(x):
    y = x
    for k in range(3):  # refused: for
        y = y * x
    return y


def loop_while(x):
    y = x
    while y < 10.0:  # refused: while
        y = y * 2.0
    return y


def try_block(x):
    try:  # refused: try
        y = np.log(x)
    except FloatingPointError:
        y = x
    return y


def with_block(x):
    with np.errstate(all="ignore"):  # refused: with
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


def lambda_inside(x):
    square = lambda t: t * t  # refused: lambda
    return square(x)


def list_comprehension(x):
    terms = [x * k for k in (1.0, 2.0, 3.0)]  # refused: listcomp
    return np.sum(terms)


def generator_expression(x):
    terms = (x * k for k in (1.0, 2.0, 3.0))  # refused: genexp
    return np.sum(np.array(list(terms)))


def set_comprehension(x):
    terms = {x * k for k in (1.0, 2.0, 3.0)}  # refused: setcomp
    return np.sum(np.array(list(terms)))


def dict_comprehension(x):
    terms = {k: x * k for k in (1.0, 2.0, 3.0)}  # refused: dictcomp
    return np.sum(np.array(list(terms.values())))


def subscript(x):
    first = x[0]  # refused: subscript
    return first * 2.0


def subscript_on_second_line(x):
    total = np.sum(
        x[1] * 2.0)  # refused: subscript-continued
    return total


def helper_function(t):
    return t * t


def calls_helper(x):
    y = helper_function(x)  # refused: helper
    return np.sum(y)


def calls_det(x):
    d = np.linalg.det(x)  # refused: det
    return d


def calls_fft(x):
    spectrum = np.fft.fft(x)  # refused: fft
    return np.sum(np.abs(spectrum))


SUM_OPTIONS = {"axis": 0}


def kwargs_call(x):
    y = np.sum(x, **SUM_OPTIONS)  # refused: kwargs
    return np.sum(y)


def out_keyword(x):
    buffer = np.zeros_like(x)
    np.sin(x, out=buffer)  # refused: out
    return np.sum(buffer)


def out_keyword_assigned(x):
    buffer = np.zeros_like(x)
    y = np.exp(x, out=buffer)  # refused: out-assigned
    return np.sum(y)


def code_after_return(x):
    y = x * 2.0
    return np.sum(y)
    y = y + 1.0  # refused: after-return


def no_return(x):  # refused: no-return
    y = x * 2.0


@pullback.grad
def decorated_with_subscript(x):
    return np.sum(x[0] * x)  # refused: decorated-subscript


def signature_on_several_lines(
        x,
        y=2.0):
    return np.sum(x[1:] * y)  # refused: multiline-signature


X = np.array([[0.5, 1.5], [2.0, -0.5]])

CASES = [
    # function, tag, error class, words naming the construct, underlined text
    (branch, "if", pullback.UnsupportedSyntax, ["'if'", "yet"], "if"),
    (loop_for, "for", pullback.UnsupportedSyntax, ["'for'", "yet"], "for"),
    (loop_while, "while", pullback.UnsupportedSyntax, ["'while'", "yet"], "while"),
    (try_block, "try", pullback.UnsupportedSyntax, ["'try'"], "try"),
    (with_block, "with", pullback.UnsupportedSyntax, ["'with'"], "with"),
    (generator, "yield", pullback.UnsupportedSyntax, ["yield"], "yield"),
    (coroutine, "async", pullback.UnsupportedSyntax, ["async def"], "async def"),
    (uses_global, "global", pullback.UnsupportedSyntax, ["global"], "global"),
    (uses_nonlocal, "nonlocal", pullback.UnsupportedSyntax, ["nonlocal"], "nonlocal"),
    (lambda_inside, "lambda", pullback.UnsupportedSyntax, ["lambda"], "lambda"),
    (list_comprehension, "listcomp", pullback.UnsupportedSyntax, ["comprehension"], "["),
    (generator_expression, "genexp", pullback.UnsupportedSyntax, ["generator expression"], "("),
    (set_comprehension, "setcomp", pullback.UnsupportedSyntax, ["comprehension"], "{"),
    (dict_comprehension, "dictcomp", pullback.UnsupportedSyntax, ["comprehension"], "{"),
    (subscript, "subscript", pullback.UnsupportedSyntax, ["subscript"], "x[0]"),
    (calls_helper, "helper", pullback.NoDerivativeRule, ["helper_function", "Python function"],
     "helper_function(x)"),
    (calls_det, "det", pullback.NoDerivativeRule, ["det", "no derivative rule"], "np.linalg.det(x)"),
    (calls_fft, "fft", pullback.NoDerivativeRule, ["fft", "no derivative rule"], "np.fft.fft(x)"),
    (kwargs_call, "kwargs", pullback.UnsupportedSyntax, ["**kwargs"], "np.sum(x, **SUM_OPTIONS)"),
    (out_keyword, "out", pullback.UnsupportedSyntax, ["'out'"], "np.sin(x, out=buffer)"),
    (out_keyword_assigned, "out-assigned", pullback.UnsupportedSyntax, ["'out'"],
     "np.exp(x, out=buffer)"),
    (code_after_return, "after-return", pullback.UnsupportedSyntax, ["after 'return'"], "y = y + 1.0"),
    (no_return, "no-return", pullback.UnsupportedSyntax, ["returns no value"], "def"),
]
IDS = [case[1] for case in CASES]

# Cases about where the caret lands, beyond the constructs above.
LOCATION_CASES = CASES + [
    (subscript_on_second_line, "subscript-continued", pullback.UnsupportedSyntax,
     ["subscript"], "x[1]"),
    (signature_on_several_lines, "multiline-signature", pullback.UnsupportedSyntax,
     ["subscript"], "x[1:]"),
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


@pytest.mark.parametrize("function, tag, error_class, words, underlined", CASES, ids=IDS)
def test_refusal_says_what_to_do(function, tag, error_class, words, underlined):
    with pytest.raises(error_class) as info:
        pullback.grad(function)(X)
    _, advice = check_location(info.value, tag, function.__name__)
    check_advice(advice, str(info.value))


@pytest.mark.parametrize("function, tag, error_class, words, underlined", CASES, ids=IDS)
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
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        decorated_with_subscript(X)
    shown, _ = check_location(info.value, "decorated-subscript", "decorated_with_subscript")
    check_underlined(shown, "x[0]")


def test_refusal_in_a_function_nested_in_a_test_points_at_the_right_line():
    def inner(x):
        y = x * 2.0
        if np.sum(y) > 1.0:  # refused: nested-if
            y = y * y
        return np.sum(y)

    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(inner)(X)
    shown, _ = check_location(info.value, "nested-if", "inner")
    check_underlined(shown, "if")


def test_refusal_in_a_method_of_a_class_defined_in_a_test_points_at_the_right_line():
    class Model:
        scale = 3.0

        def loss(self, x):
            scaled = x * self.scale
            return np.sum(scaled[0])  # refused: method-subscript

        def calls(self, x):
            return np.sum(helper_function(x) * self.scale)  # refused: method-helper

    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(Model.loss, wrt=1)(Model(), X)
    shown, _ = check_location(info.value, "method-subscript", "loss")
    check_underlined(shown, "scaled[0]")

    with pytest.raises(pullback.NoDerivativeRule) as info:
        pullback.grad(Model.calls, wrt=1)(Model(), X)
    shown, _ = check_location(info.value, "method-helper", "calls")
    check_underlined(shown, "helper_function(x)")


def test_refusal_in_a_doubly_nested_function_points_at_the_right_line():
    def factory():
        def deep(x):
            z = np.sin(x)
            w = lambda t: t  # refused: deep-lambda
            return np.sum(z)
        return deep

    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(factory())(X)
    shown, _ = check_location(info.value, "deep-lambda", "deep")
    check_underlined(shown, "lambda")


def test_subscript_assignment_is_refused():
    def assigns_into(x):
        y = np.zeros_like(x)
        y[0] = x  # refused: subscript-store
        return np.sum(y)

    with pytest.raises(pullback.UnsupportedSyntax) as info:
        pullback.grad(assigns_into)(np.array([0.5, 1.0]))
    assert "assign" in str(info.value)
    shown, advice = check_location(info.value, "subscript-store", "assigns_into")
    check_underlined(shown, "y[0] = x")
    check_advice(advice, str(info.value))


def test_advice_refers_only_to_documents_that_exist():
    messages = []
    for function in (calls_helper, calls_det, try_block, lambda_inside):
        with pytest.raises(pullback.PullbackError) as info:
            pullback.grad(function)(X)
        messages.append(str(info.value))
    for message in messages:
        for document in re.findall(r"\b(docs/[\w./-]+\.md)\b", message):
            assert os.path.exists(os.path.join(REPO, document)), \
                f"the advice points at {document}, which does not exist:\n{message}"


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


def test_lambda_given_to_grad_is_refused_with_a_pullback_error():
    df = pullback.grad(lambda x: x * x)
    with pytest.raises(pullback.UnsupportedSyntax) as info:
        df(1.0)
    assert "lambda" in str(info.value)
    assert f'File "{THIS_FILE}"' in str(info.value)


def test_lambda_on_a_continuation_line_is_refused_with_a_pullback_error():
    df = pullback.grad(
        lambda x: x * x)
    with pytest.raises(pullback.PullbackError) as info:
        df(1.0)
    assert "lambda" in str(info.value)


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


@pytest.mark.parametrize("wrt", ["x", 1.5, True, (0, "y"), None])
def test_wrt_of_the_wrong_type_is_refused(wrt):
    with pytest.raises(pullback.InvalidArgument):
        pullback.grad(two_args, wrt=wrt)


def test_wrt_cannot_name_a_keyword_only_parameter():
    with pytest.raises(pullback.InvalidArgument):
        pullback.grad(keyword_only, wrt=1)


@pytest.mark.parametrize("value, kind", [
    (3, "integer"), (True, "bool"), (1.0 + 2.0j, "complex"), ([1.0, 2.0], "list"),
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
    weight = np.linalg.det(a)
    return np.sum(x * x) * weight


def fft_of_constant(x, signal):
    power = np.sum(np.abs(np.fft.fft(signal)) ** 2)
    return np.sum(np.sin(x)) * power


def unknown_call_unused(x):
    ignored = np.linalg.det(x)
    return np.sum(x * x)


def method_on_varied(x):
    return x.sum()


def transpose_attribute(x):
    return np.sum(x.T * x)


def floor_into_output(x):
    y = x * 1.0
    np.floor(x, out=y)
    return np.sum(y * x)


def aliased_augmented_assignment(x):
    y = x
    y += 1.0
    return np.sum(x * y)


def test_unknown_c_function_on_a_constant_value_is_not_refused():
    x = np.array([0.5, -1.0, 2.0])
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    g = pullback.grad(det_of_constant)(x, a)
    np.testing.assert_allclose(g, 2.0 * x * np.linalg.det(a), rtol=1e-12, equal_nan=False)
    with pytest.raises(pullback.NoDerivativeRule):
        pullback.grad(det_of_constant, wrt=1)(x, a)      # now a derivative flows through det


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


@pytest.mark.parametrize("function", [method_on_varied, transpose_attribute])
def test_methods_and_attributes_on_differentiated_values_are_refused(function):
    with pytest.raises(pullback.PullbackError):
        pullback.grad(function)(X)


def _refused_or_correct(function, x):
    """Either pullback refuses the function, or its gradient and value are right."""
    try:
        value, g = pullback.value_and_grad(function)(x.copy())
    except pullback.PullbackError:
        return
    expected_value = function(x.copy())
    expected = numerical_gradient(lambda t: function(t.copy()), (x,), 0)
    if not (np.allclose(value, expected_value, rtol=1e-12)
            and np.allclose(g, expected, rtol=1e-5, atol=1e-6)):
        pytest.fail(f"{function.__name__}: pullback neither refused nor got it right:\n"
                    f"value    {value!r} (function gives {expected_value!r})\n"
                    f"gradient {g!r} (central differences give {expected!r})")


def test_out_keyword_on_a_function_without_derivative_is_not_silently_wrong():
    _refused_or_correct(floor_into_output, np.array([0.3, 1.7, 2.2]))


def test_augmented_assignment_through_an_alias_is_not_silently_wrong():
    _refused_or_correct(aliased_augmented_assignment, np.array([0.3, 1.7]))


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
