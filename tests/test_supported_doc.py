"""docs/supported.md says what is refused; each row of its "Refused" table is
held to it here with a program of that kind (refused, with the user's line),
and the rows added for issue 11 with a program that works, against central
differences. A row without a program here fails the first test."""
import functools
import re
from pathlib import Path

import os

import numpy as np
import pytest

import pullback
from pullback.errors import PullbackError
from reference import central_difference

DOC = Path(__file__).resolve().parents[1] / "docs" / "supported.md"


def refused_rows():
    text = DOC.read_text()
    table = text[text.index("## Refused"):]
    return [line for line in table.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| construct")]


def apply(fn, v):
    return fn(v)


def fill(buf, v):
    buf[0] = v[0] * 3.0


def changes_argument(x):
    y = np.ravel(x)
    y[0] = 5.0
    return np.sum(x)


def write_another_name_sees(x):
    a = np.zeros(3)
    v = a[:2]
    v[0] = x[0]
    return np.sum(a * x)


def helper_writes_parameter(x):
    a = np.zeros(3)
    fill(a, x)
    return np.sum(a * x)


def with_block(x):
    with open(os.devnull):
        return np.sum(x * 2.0)


def match_statement(x):
    # literal, value, capture, or- and sequence patterns are rewritten (tests/test_python_scopes.py)
    match x:
        case {"a": 1}:
            return np.sum(x)
    return np.sum(x * 2.0)


def comprehension_maybe_skipped(x):
    return np.sum(np.array([1.0 / v for v in x]) if np.all(x != 0.0) else x)


def unnamed_lambda(x):
    # a lambda given to one of your functions is named (tests/test_python_scopes.py)
    return np.sum(np.apply_along_axis(lambda v: v * v, 0, x))


def dict_literal(x):
    return {**BASE, "a": np.sum(x)}["a"]


BASE = {"b": 1.0}


def in_place_put(x):
    y = np.copy(x)
    y.put([0], 1.0)
    return np.sum(y * np.arange(3.0))


def complex_value(x):
    z = x * 1j
    return np.sum(np.abs(z) ** 2)


def unknown_dtype(x):
    return np.sum(x.astype(x.dtype))


def cube(x):
    return np.sum(x ** 3)


dcube = pullback.grad(cube)


def calls_a_derivative(x):
    return np.sum(dcube(x))


def star_wrapper(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@star_wrapper
def wrapped_by_star_wrapper(x):
    return np.sum(x * x)


@functools.lru_cache(maxsize=None)
def cached_square(v):
    return v * v


def cached(x):
    return cached_square(float(x[0])) + np.sum(x)


def no_source_call(x):
    return np.sum(np.add.outer(x, x))


class _Scaler:
    def scale(self, x):
        return 2.0 * x


_scaler = _Scaler()


def method_through_object(x):
    return np.sum(_scaler.scale(x))


def _library_like(x, **options):
    return x * options.get("factor", 1.0)


def kwargs_function_call(x):
    return np.sum(_library_like(x, factor=2.0))


# A program for each row, found by a phrase of the row's first cell.
REFUSED = {
    "changing a global array in place": changes_argument,
    "a write that another name would see": write_another_name_sees,
    "calling your function that writes into a parameter": helper_writes_parameter,
    "`try`, `with`": with_block,
    "a `lambda` or nested `def` given to anything but": unnamed_lambda,
    "a comprehension on a side of": comprehension_maybe_skipped,
    "set literals and comprehensions": dict_literal,
    "other in-place methods": in_place_put,
    "complex values a derivative flows through": complex_value,
    "a cast to an unknown dtype": unknown_dtype,
    "`functools.lru_cache`": cached,
    "a function without a rule and without Python source": no_source_call,
    "a method of your own object called through it": method_through_object,
    "a library's function that takes `**kwargs`": kwargs_function_call,
}


def test_every_refused_row_has_a_program():
    rows = refused_rows()
    assert rows, "docs/supported.md has no Refused table"
    for row in rows:
        cell = row.split("|")[1]
        assert any(phrase in cell for phrase in REFUSED), f"no program holds this row: {row}"
    for phrase in REFUSED:
        assert any(phrase in row.split("|")[1] for row in rows), f"{phrase!r} left the doc"


@pytest.mark.parametrize("phrase", sorted(REFUSED))
def test_a_refused_row_is_refused(phrase):
    f = REFUSED[phrase]
    x = np.array([0.5, -1.0, 2.0])
    before = x.copy()
    with pytest.raises(PullbackError) as info:
        pullback.grad(f)(x)
    np.testing.assert_array_equal(x, before)        # never modified
    if f is not wrapped_by_star_wrapper:
        assert "test_supported_doc.py" in str(info.value), str(info.value)


def test_a_call_to_a_derivative_is_differentiated():
    """Once refused, now the derivatives-of-derivatives row: d/dx sum(3 x^2) = 6 x."""
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(pullback.grad(calls_a_derivative)(x), 6.0 * x, rtol=1e-14)


def test_match_is_refused_at_its_line():
    with pytest.raises(pullback.UnsupportedSyntax, match="mapping patterns in a match statement"):
        pullback.grad(match_statement)(np.ones(2))


# --- rows of the supported table added with issue 11 --------------------------

def with_module_parameter(x, xp=np):
    return xp.mean(x * x)


def where_of_sqrt(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def doubling(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


@doubling
def doubled_square(x):
    return np.sum(x ** 2)


def scaled(x, w):
    return np.sum(w * x ** 2)


@pytest.mark.parametrize("f, reference", [
    (with_module_parameter, lambda x: np.mean(x * x)),
    (doubled_square, lambda x: 2.0 * np.sum(x ** 2)),
    (functools.partial(scaled, w=3.0), lambda x: np.sum(3.0 * x ** 2)),
])
def test_supported_rows_against_central_differences(f, reference):
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(pullback.grad(f)(x), central_difference(reference, (x,), 0),
                               rtol=1e-6)


def test_where_row_gives_no_nan():
    x = np.array([0.0, -1.0, 4.0])
    with np.errstate(all="ignore"):
        g = pullback.grad(where_of_sqrt)(x)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.25])
    assert re.search(r"never NaN", DOC.read_text())


def test_a_wrapper_taking_star_args_is_differentiated_for_the_arguments_passed():
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(pullback.grad(wrapped_by_star_wrapper)(x), 2.0 * x)
