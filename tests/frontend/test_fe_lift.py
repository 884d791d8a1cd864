"""Stage 2a: lift_nested_functions on tiny functions, the source before and
after (frontend/lift.py): a nested def becomes a function of its own that
takes what it captures as parameters."""
import numpy as np
import pytest

from fekit import show
from pullback.errors import UnsupportedSyntax
from pullback.frontend.lift import lift_nested_functions
from pullback.frontend.parsing import parse_function


def lifted(function):
    parsed = parse_function(function)
    functions = lift_nested_functions(parsed, parsed.location)
    return show(parsed.tree), {name: (f.captured, show(f.tree)) for name, f in functions.items()}


def outer(x, a):
    def scaled(y):
        return y * a
    square = lambda v: v * v      # noqa: E731
    return scaled(x) + square(x)


def test_a_nested_def_and_a_named_lambda_become_functions_taking_what_they_capture():
    tree, functions = lifted(outer)
    assert tree == "def outer(x, a):\n    return scaled(x, a) + square(x)"
    assert functions == {
        "scaled": (["a"], "def scaled(y, a):\n    return y * a"),
        "square": ([], "def square(v):\n    return v * v"),
    }


def siblings(x, a, b):
    def first(y):
        return y * a

    def second(y):
        return first(y) + b
    return second(x)


def test_calling_a_sibling_passes_on_what_the_sibling_captures():
    tree, functions = lifted(siblings)
    assert tree == "def siblings(x, a, b):\n    return second(x, a, b)"
    assert functions["first"] == (["a"], "def first(y, a):\n    return y * a")
    assert functions["second"] == (["a", "b"], "def second(y, a, b):\n    return first(y, a) + b")


def flat(x):
    y = np.sin(x)
    return y * x


def test_a_function_without_nested_defs_is_left_alone():
    assert lifted(flat) == ("def flat(x):\n    y = np.sin(x)\n    return y * x", {})


def apply(function, x):
    return function(x)


def passes_a_closure_around(x, a):
    def scaled(y):
        return y * a
    kept = scaled       # given to apply directly, it goes with a (captured_arguments.py)
    return apply(kept, x)


def test_a_nested_function_that_captures_cannot_be_passed_around():
    with pytest.raises(UnsupportedSyntax, match="can only be called here, not passed around"):
        lifted(passes_a_closure_around)
