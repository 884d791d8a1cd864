"""What is differentiated is what runs (issue 11, classes 5, 6 and 7).

5. A derivative is tied to the code of the function and of every function
   differentiated into it, and to what their calls resolve through: after a
   module reload, a monkeypatched module attribute or global, a swapped
   ``__code__`` or a changed closure cell, the next call regenerates.
6. A file edited on disk but not reloaded: its new text is not the code that
   runs, and pullback refuses instead of differentiating the new text.
7. Decorators: a functools.wraps wrapper is differentiated as the code that
   runs (never replaced by ``__wrapped__``); what cannot be followed (a
   ``*args`` wrapper, functools.lru_cache, a callable object) is refused.

Every gradient is checked against a formula worked out by hand or against
central differences of the function as it runs now, never against pullback.
Modules are real files in tmp_path, imported (and reloaded) by importlib.
"""
import importlib
import itertools
import sys
import textwrap

import numpy as np
import pytest

import pullback
import pullback.backend.cache
import pullback.pipeline
from pullback.errors import PullbackError, SourceChanged, SourceUnavailable, UnsupportedSyntax
from pullback.frontend.parsing import check_function
from reference import central_difference

_numbers = itertools.count()


class Modules:
    """Write, import and reload modules in a folder on sys.path."""

    def __init__(self, folder, monkeypatch):
        self.folder, self.monkeypatch = folder, monkeypatch
        folder.mkdir()
        monkeypatch.syspath_prepend(str(folder))
        # No .pyc: a file rewritten within the same second is read again.
        monkeypatch.setattr(sys, "dont_write_bytecode", True)
        self.tag = f"{next(_numbers)}"

    def name(self, base):
        return f"stale_{base}_{self.tag}"

    def write(self, base, text, **names):
        text = textwrap.dedent(text).format(**{k: self.name(v) for k, v in names.items()})
        (self.folder / f"{self.name(base)}.py").write_text(text)

    def load(self, base, text=None, **names):
        if text is not None:
            self.write(base, text, **names)
        name = self.name(base)
        self.monkeypatch.delitem(sys.modules, name, raising=False)   # removed again after the test
        importlib.invalidate_caches()
        return importlib.import_module(name)

    def reload(self, module, base, text, **names):
        self.write(base, text, **names)
        importlib.invalidate_caches()
        return importlib.reload(module)


@pytest.fixture
def modules(tmp_path, monkeypatch, fresh_cache):
    return Modules(tmp_path / "mods", monkeypatch)


def agrees_with_central_differences(function, x):
    """pullback's gradient of ``function`` at ``x`` against central
    differences of ``function`` as it runs now (and check_grads, which uses
    the same machinery as grad)."""
    expected = central_difference(function, (x,), 0)
    np.testing.assert_allclose(pullback.grad(function)(x), expected, rtol=1e-6, atol=1e-8)
    assert pullback.check_grads(function, x)


SQUARE = """
def helper(x):
    return x * x
"""

CUBE = """
def helper(x):
    return x * x * x
"""

CALLER = """
import numpy as np

import {h}


def f(x):
    return np.sum({h}.helper(x) * 2.0)
"""


# --- 5. stale derivatives -----------------------------------------------------

def test_reload_of_a_helper_module_with_changed_source(modules):
    hmod = modules.load("helpers", SQUARE)
    main = modules.load("main", CALLER, h="helpers")
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(4.0 * 3.0, rel=1e-12)          # d/dx 2 x^2
    np.testing.assert_allclose(df(np.array([1.0, -2.0])), [4.0, -8.0], rtol=1e-12)

    modules.reload(hmod, "helpers", CUBE)
    assert df(3.0) == pytest.approx(6.0 * 9.0, rel=1e-12)           # d/dx 2 x^3
    np.testing.assert_allclose(df(np.array([1.0, -2.0])), [6.0, 24.0], rtol=1e-12)
    assert pullback.grad(main.f)(3.0) == pytest.approx(54.0, rel=1e-12)
    agrees_with_central_differences(main.f, 0.7)
    agrees_with_central_differences(main.f, np.array([0.5, -1.5]))

    # The key on disk follows the helper's source: the old module is not reused.
    options = ("grad", (0,), (0,))
    after = pullback.backend.cache.disk_key(main.f, pullback.pipeline.raw_source(main.f), options)
    modules.reload(hmod, "helpers", SQUARE)
    before = pullback.backend.cache.disk_key(main.f, pullback.pipeline.raw_source(main.f), options)
    assert after != before
    assert df(3.0) == pytest.approx(12.0, rel=1e-12)


def test_reload_does_not_change_a_function_imported_by_name(modules):
    """``from helpers import helper`` keeps the old helper after a reload:
    the derivative must keep following the old one (what f still runs)."""
    hmod = modules.load("helpers", SQUARE)
    main = modules.load("main", """
        from {h} import helper


        def f(x):
            return helper(x) * 2.0
        """, h="helpers")
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(12.0, rel=1e-12)
    modules.reload(hmod, "helpers", CUBE)
    assert main.f(3.0) == 18.0                                      # still x * x
    assert df(3.0) == pytest.approx(12.0, rel=1e-12)


def test_monkeypatching_a_module_attribute(modules, monkeypatch):
    hmod = modules.load("helpers", SQUARE)
    other = modules.load("other", """
        import numpy as np


        def helper(x):
            return np.sin(x)
        """)
    main = modules.load("main", CALLER, h="helpers")
    df = pullback.grad(main.f)
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(df(x), 4.0 * x, rtol=1e-12)
    monkeypatch.setattr(hmod, "helper", other.helper)
    np.testing.assert_allclose(df(x), 2.0 * np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(pullback.grad(main.f)(x), 2.0 * np.cos(x), rtol=1e-12)
    agrees_with_central_differences(main.f, x)
    monkeypatch.undo()
    np.testing.assert_allclose(df(x), 4.0 * x, rtol=1e-12)


def test_monkeypatching_a_module_attribute_two_levels_down(modules, monkeypatch):
    """main.f calls helpers.g, which calls helpers.h: rebinding helpers.h
    changes the derivative of main.f."""
    hmod = modules.load("helpers", """
        def h(x):
            return x * x


        def g(x):
            return h(x) + x
        """)
    main = modules.load("main", """
        import {h}


        def f(x):
            return {h}.g(x) * 3.0
        """, h="helpers")
    df = pullback.grad(main.f)
    assert df(2.0) == pytest.approx(3.0 * (2.0 * 2.0 + 1.0), rel=1e-12)
    monkeypatch.setattr(hmod, "h", lambda x: x * x * x)
    assert df(2.0) == pytest.approx(3.0 * (3.0 * 4.0 + 1.0), rel=1e-12)
    agrees_with_central_differences(main.f, 2.0)


def test_monkeypatching_a_global_name(modules, monkeypatch):
    main = modules.load("main", """
        import numpy as np


        def square(x):
            return x * x


        def cube(x):
            return x * x * x


        helper = square


        def f(x):
            return np.sum(helper(x) * 2.0)
        """)
    x = np.array([0.3, -1.2, 2.0])
    df = pullback.grad(main.f)
    np.testing.assert_allclose(df(x), 4.0 * x, rtol=1e-12)
    monkeypatch.setattr(main, "helper", main.cube)
    np.testing.assert_allclose(df(x), 6.0 * x * x, rtol=1e-12)
    np.testing.assert_allclose(pullback.grad(main.f)(x), 6.0 * x * x, rtol=1e-12)
    agrees_with_central_differences(main.f, x)


def test_monkeypatching_a_method_of_a_class(modules, monkeypatch):
    """f calls Helpers.g: rebinding the class attribute changes f's derivative."""
    main = modules.load("main", """
        class Helpers:
            @staticmethod
            def g(x):
                return x * x


        def cube(x):
            return x * x * x


        def f(x):
            return Helpers.g(x) * 2.0
        """)
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(12.0, rel=1e-12)
    monkeypatch.setattr(main.Helpers, "g", staticmethod(main.cube))
    assert main.f(3.0) == 54.0
    assert df(3.0) == pytest.approx(54.0, rel=1e-12)
    agrees_with_central_differences(main.f, 1.3)


def test_shadowing_a_builtin_with_a_global(modules):
    """f calls the builtin abs; a global named abs defined later is what runs."""
    main = modules.load("main", """
        def f(x):
            return abs(x) * 3.0
        """)
    df = pullback.grad(main.f)
    assert df(-2.0) == pytest.approx(-3.0, rel=1e-12)
    main.abs = lambda x: x * x
    assert main.f(-2.0) == 12.0
    assert df(-2.0) == pytest.approx(3.0 * 2.0 * -2.0, rel=1e-12)
    del main.abs
    assert df(-2.0) == pytest.approx(-3.0, rel=1e-12)


def test_swapping_the_code_of_the_function(modules):
    """What IPython's autoreload does: the same function object, new code."""
    main = modules.load("main", """
        import numpy as np


        def f(x):
            return x ** 2


        def g(x):
            return np.sin(x) * x ** 3
        """)
    f = main.f
    df = pullback.grad(f)
    assert df(2.0) == pytest.approx(4.0, rel=1e-12)
    f.__code__ = main.g.__code__
    x = 0.8
    expected = np.cos(x) * x ** 3 + 3.0 * np.sin(x) * x ** 2
    assert df(x) == pytest.approx(expected, rel=1e-12)
    assert pullback.grad(f)(x) == pytest.approx(expected, rel=1e-12)
    agrees_with_central_differences(f, x)


def test_swapping_the_code_of_a_callee(modules):
    main = modules.load("main", """
        def helper(x):
            return x * x


        def other(x):
            return x * x * x * x


        def f(x):
            return helper(x) * 2.0
        """)
    df = pullback.grad(main.f)
    assert df(1.5) == pytest.approx(4.0 * 1.5, rel=1e-12)
    main.helper.__code__ = main.other.__code__
    assert df(1.5) == pytest.approx(8.0 * 1.5 ** 3, rel=1e-12)
    agrees_with_central_differences(main.f, 1.5)


def test_swapping_the_code_of_a_callee_in_another_module(modules):
    hmod = modules.load("helpers", SQUARE)
    other = modules.load("other", CUBE)
    main = modules.load("main", CALLER, h="helpers")
    df = pullback.grad(main.f)
    assert df(2.0) == pytest.approx(8.0, rel=1e-12)
    hmod.helper.__code__ = other.helper.__code__
    assert df(2.0) == pytest.approx(24.0, rel=1e-12)
    agrees_with_central_differences(main.f, 2.0)


def test_changing_a_closure_cell(modules):
    main = modules.load("main", """
        import numpy as np


        def make(fn):
            def f(x):
                return np.sum(fn(x) * x)
            return f


        def rebind(k):
            scale = k

            def f(x):
                return scale(x) * 2.0

            def set_scale(new):
                nonlocal scale
                scale = new
            return f, set_scale
        """)
    f = main.make(np.sin)
    x = np.array([0.4, -0.9])
    df = pullback.grad(f)
    np.testing.assert_allclose(df(x), np.cos(x) * x + np.sin(x), rtol=1e-12)
    f.__closure__[0].cell_contents = np.exp
    np.testing.assert_allclose(df(x), np.exp(x) * x + np.exp(x), rtol=1e-12)
    agrees_with_central_differences(f, x)

    g, set_scale = main.rebind(np.tanh)
    dg = pullback.grad(g)
    assert dg(0.5) == pytest.approx(2.0 * (1.0 - np.tanh(0.5) ** 2), rel=1e-12)
    set_scale(np.sinh)
    assert dg(0.5) == pytest.approx(2.0 * np.cosh(0.5), rel=1e-12)
    agrees_with_central_differences(g, 0.5)


def test_a_nested_function_follows_its_calls(modules, monkeypatch):
    """A def inside f (lifted into the derivative) calls helpers.helper."""
    hmod = modules.load("helpers", SQUARE)
    main = modules.load("main", """
        import {h}


        def f(x):
            def inner(y):
                return {h}.helper(y) + y
            return inner(x) * 2.0
        """, h="helpers")
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(2.0 * (6.0 + 1.0), rel=1e-12)
    modules.reload(hmod, "helpers", CUBE)
    assert df(3.0) == pytest.approx(2.0 * (27.0 + 1.0), rel=1e-12)
    agrees_with_central_differences(main.f, 3.0)


def test_a_memory_hit_does_not_read_the_source(modules, monkeypatch):
    """The checks on a call are identity checks: no source is read."""
    main = modules.load("main", CALLER.replace("{h}.helper(x)", "x * x").replace("import {h}", ""))
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(12.0)

    def no_source(*args, **kwargs):
        raise AssertionError("the source was read on a memory hit")

    monkeypatch.setattr(pullback.pipeline, "raw_source", no_source)
    monkeypatch.setattr(pullback.frontend.parsing, "code_source", no_source)
    monkeypatch.setattr(pullback.frontend.source, "code_source", no_source)
    assert df(3.0) == pytest.approx(12.0)
    assert pullback.grad(main.f)(5.0) == pytest.approx(20.0)


# --- 6. source drift -----------------------------------------------------------

def test_editing_the_file_of_the_function_without_reloading(modules):
    main = modules.load("main", """
        def f(x):
            return x * x
        """)
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(6.0)
    modules.write("main", """
        def f(x):
            return x * x * x * 10.0
        """)
    # What is in memory was made from the code that still runs: still right.
    assert df(3.0) == pytest.approx(6.0)
    agrees_reference = central_difference(main.f, (3.0,), 0)
    assert df(3.0) == pytest.approx(float(agrees_reference), rel=1e-6)
    # Anything new would have to read the file: refused.
    with pytest.raises(SourceChanged) as info:
        pullback.value_and_grad(main.f)(3.0)
    message = str(info.value)
    assert "the source of f in" in message and main.__file__ in message
    assert "no longer matches the code that runs" in message and "eload" in message
    assert isinstance(info.value, SourceUnavailable)
    # Reloaded, the new code is what runs and is differentiated.
    main = modules.reload(main, "main", """
        def f(x):
            return x * x * x * 10.0
        """)
    assert pullback.value_and_grad(main.f)(3.0)[1] == pytest.approx(270.0)


def test_editing_a_helper_module_without_reloading(modules):
    modules.load("helpers", SQUARE)
    main = modules.load("main", CALLER, h="helpers")
    df = pullback.grad(main.f)
    assert df(3.0) == pytest.approx(12.0)
    modules.write("helpers", CUBE + "\n# edited\n")
    assert df(3.0) == pytest.approx(12.0)            # made from the code that runs
    with pytest.raises(SourceChanged) as info:
        df(np.array([3.0]))                          # a new derivative: the helper is read
    message = str(info.value)
    assert "the source of helper in" in message
    assert modules.name("helpers") + ".py" in message


def test_editing_a_helper_module_with_a_disk_module_for_the_new_text(modules, monkeypatch):
    """A derivative generated (in memory of another session) for the new text
    is not reused while the old code runs: the code is part of the key."""
    hmod = modules.load("helpers", SQUARE)
    main = modules.load("main", CALLER, h="helpers")
    modules.reload(hmod, "helpers", CUBE)
    assert pullback.grad(main.f)(np.array([1.0]))[0] == pytest.approx(6.0)   # on disk now
    pullback.backend.cache.memory_clear()
    # Back to the square in memory (as a process that imported it earlier),
    # with the cube's text in the file.
    modules.reload(hmod, "helpers", SQUARE)
    modules.write("helpers", CUBE)
    with pytest.raises(SourceChanged):
        pullback.grad(main.f)(np.array([1.0]))


def test_a_disk_hit_skips_the_compile_check_but_never_serves_another_text(modules, monkeypatch):
    """On a disk hit the function's text is not compiled to check it (its key
    holds a text checked when the module was stored, with the running code's
    digest); a text edited under running code misses and is checked: refused."""
    square, cube = """
        def f(x):
            return x * x
        """, """
        def f(x):
            return x * x * x
        """
    main = modules.load("main", square)
    assert pullback.grad(main.f)(3.0) == pytest.approx(6.0)          # on disk: (square, its code)
    main = modules.reload(main, "main", cube)
    assert pullback.grad(main.f)(3.0) == pytest.approx(27.0)         # on disk: (cube, its code)
    pullback.backend.cache.memory_clear()
    checks = []
    real = pullback.frontend.source.text_matches
    monkeypatch.setattr(pullback.frontend.source, "text_matches",
                        lambda *args, **kw: checks.append(args[0]) or real(*args, **kw))
    assert pullback.grad(main.f)(3.0) == pytest.approx(27.0)
    assert checks == []                                              # a hit: nothing compiled
    # The square's code runs again, and the file holds the cube's text,
    # for which a module exists: the pair (text, code) was never checked.
    main = modules.reload(main, "main", square)
    modules.write("main", cube)
    pullback.backend.cache.memory_clear()
    with pytest.raises(SourceChanged):
        pullback.grad(main.f)(3.0)
    assert checks                                                    # a miss: checked


def test_an_edit_after_the_function_is_no_reason_to_refuse(modules):
    main = modules.load("main", """
        def f(x):
            return x * x
        """)
    modules.write("main", """
        def f(x):
            return x * x


        def added_later(x):
            return x
        """)
    assert pullback.grad(main.f)(3.0) == pytest.approx(6.0)


def test_editing_a_lambda_and_a_closure_without_reloading(modules):
    text = """
        import numpy as np

        square = lambda x: x * x * 3.0


        def make(k):
            def f(x):
                return np.sin(x) * k
            return f
        """
    main = modules.load("main", text)
    f = main.make(2.0)
    assert pullback.grad(main.square)(1.0) == pytest.approx(6.0)
    assert pullback.grad(f)(0.5) == pytest.approx(2.0 * np.cos(0.5))
    modules.write("main", text.replace("x * x * 3.0", "x * x * 5.0").replace("np.sin(x)", "np.cos(x)"))
    with pytest.raises(SourceChanged):
        pullback.value_and_grad(main.square)(1.0)
    with pytest.raises(SourceChanged):
        pullback.value_and_grad(f)(0.5)


def test_two_lambdas_on_a_line_edited(modules):
    """Which lambda is meant cannot be told on such a line; once the line
    no longer holds the code that runs, that is what is said."""
    text = """
        pair = (lambda x: x * 2.0, lambda x: x * 5.0)
        """
    main = modules.load("main", text)
    with pytest.raises(UnsupportedSyntax, match="cannot tell which lambda"):
        pullback.grad(main.pair[0])(1.0)
    modules.write("main", text.replace("x * 2.0", "x * 7.0"))
    with pytest.raises(SourceChanged):
        pullback.grad(main.pair[0])(1.0)


# --- 7. decorators ---------------------------------------------------------------

DECORATORS = """
import functools

import numpy as np


def double(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


def shift(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return fn(x + 1.0)
    return wrapper


def star(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


class Twice:
    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, x):
        return 2.0 * self.fn(x)


@double
def f(x):
    return x ** 2


@double
@shift
def stacked(x):
    return x ** 3


@star
def starred(x):
    return x ** 2


@functools.lru_cache(maxsize=None)
def cached(x):
    return x ** 2


@Twice
def instance(x):
    return x ** 2


@double
def helper(x):
    return np.sin(x)


def calls_decorated(x):
    return np.sum(helper(x) * x)


def calls_cached(x):
    return cached(x) * x


def first_of_two(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return fn(x, 1.0)
    return wrapper


@first_of_two
def two(x, y):
    return x * y
"""


def test_a_functools_wraps_decorator_is_differentiated(modules):
    mod = modules.load("deco", DECORATORS)
    assert mod.f(1.0) == 2.0
    assert pullback.grad(mod.f)(1.0) == pytest.approx(4.0, rel=1e-12)      # d/dx 2 x^2 = 4x
    for x in (0.5, -2.0):
        assert pullback.grad(mod.f)(x) == pytest.approx(4.0 * x, rel=1e-12)
    value, gradient = pullback.value_and_grad(mod.f)(3.0)
    assert (value, gradient) == (pytest.approx(18.0), pytest.approx(12.0))
    agrees_with_central_differences(mod.f, 0.7)


def test_stacked_decorators(modules):
    mod = modules.load("deco", DECORATORS)
    # stacked(x) = 2 (x + 1)^3: derivative 6 (x + 1)^2
    assert mod.stacked(1.0) == 16.0
    assert pullback.grad(mod.stacked)(1.0) == pytest.approx(24.0, rel=1e-12)
    agrees_with_central_differences(mod.stacked, -0.7)


def test_a_decorated_callee(modules):
    mod = modules.load("deco", DECORATORS)
    x = np.array([0.3, 1.1])
    # calls_decorated(x) = 2 sin(x) x
    np.testing.assert_allclose(pullback.grad(mod.calls_decorated)(x),
                               2.0 * (np.cos(x) * x + np.sin(x)), rtol=1e-12)
    agrees_with_central_differences(mod.calls_decorated, x)


def test_a_star_args_wrapper_is_refused(modules):
    mod = modules.load("deco", DECORATORS)
    with pytest.raises(UnsupportedSyntax) as info:
        pullback.grad(mod.starred)(1.0)
    message = str(info.value)
    assert "*args" in message and "starred.__wrapped__" in message
    assert "if the decorator does not change the value" in message
    if sys.version_info >= (3, 11):
        assert "decorated with star" in message


def test_a_wrapper_that_takes_other_parameters_is_refused(modules):
    mod = modules.load("deco", DECORATORS)
    with pytest.raises(PullbackError) as info:
        pullback.grad(mod.two)(1.0, 2.0)
    assert "two.__wrapped__" in str(info.value)


def test_lru_cache_is_refused(modules):
    mod = modules.load("deco", DECORATORS)
    with pytest.raises(PullbackError) as info:
        pullback.grad(mod.cached)(1.0)
    assert "cached" in str(info.value)
    with pytest.raises(PullbackError) as info:
        pullback.grad(mod.calls_cached)(1.0)
    assert "cached" in str(info.value)
    with pytest.raises(SourceUnavailable) as info:
        check_function(mod.cached)
    message = str(info.value)
    assert "functools._lru_cache_wrapper" in message and "cached.__wrapped__" in message


def test_a_decorator_class_is_refused(modules):
    mod = modules.load("deco", DECORATORS)
    with pytest.raises(PullbackError):
        pullback.grad(mod.instance)(1.0)
    with pytest.raises(SourceUnavailable) as info:
        check_function(mod.instance)
    assert "instance.__wrapped__" in str(info.value)


def test_a_decorator_returning_a_non_function_is_refused(modules):
    mod = modules.load("deco", DECORATORS + """

def vectorized(fn):
    return np.vectorize(fn)


@vectorized
def vec(x):
    return x ** 2
""")
    with pytest.raises(PullbackError):
        pullback.grad(mod.vec)(np.array([1.0]))
    with pytest.raises(SourceUnavailable):
        check_function(mod.vec)


# --- the source check itself: no false refusals, every edit noticed ------------

SHAPES = """
import functools
import math
import math as m
from math import sin
from pathlib import Path

import numpy as np

alias = np          # a module bound without import: calls compile in the method form


def plain(x):
    return np.sin(x) + m.cos(x) + sin(x) + alias.tanh(x) + len(Path.home().name) * 0.0


def wrap_comp(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return sum([fn(v) for v in (x, x)])
    return wrapper


@wrap_comp
def decorated(x):
    return x * 2.0


def make(k):
    def inner(x):
        def innermost(y):
            return y * k
        return innermost(x) + k
    return inner


class Base:
    def f(self, x):
        return x


class Child(Base):
    __scale = 3.0

    def method(self, x):
        return super().f(x) * self.__scale

    @staticmethod
    def static(x):
        __local = x * 2
        return __local + m.tan(x)


def local_class():
    class Local:
        def m(self, x):
            return [x * k for k in range(2)]
    return Local


square = lambda x: x * x * 3.0 + m.sin(x)
"""


def shape_functions(mod):
    return [mod.plain, mod.decorated, mod.decorated.__wrapped__, mod.make(2.0),
            mod.Child.method, mod.Child.static, mod.local_class().m, mod.local_class, mod.make]


def test_the_source_check_accepts_what_was_imported(modules):
    from pullback.frontend.source import code_source
    mod = modules.load("shapes", SHAPES)
    for function in shape_functions(mod):
        text, _ = code_source(function)
        assert f"def {function.__code__.co_name}(" in text
    # Through the pipeline, where a lambda is checked too.
    assert pullback.grad(mod.square)(0.5) == pytest.approx(6.0 * 0.5 + np.cos(0.5), rel=1e-12)
    assert pullback.grad(mod.make(2.0))(1.5) == pytest.approx(2.0, rel=1e-12)
    assert pullback.grad(mod.decorated)(1.5) == pytest.approx(4.0, rel=1e-12)
    expected = np.cos(0.3) - np.sin(0.3) + np.cos(0.3) + 1.0 - np.tanh(0.3) ** 2
    assert pullback.grad(mod.plain)(0.3) == pytest.approx(expected, rel=1e-12)


def test_the_source_check_notices_every_edit(modules):
    from pullback.frontend.source import code_source
    mod = modules.load("shapes", SHAPES)
    functions = shape_functions(mod)
    edits = [("np.sin(x) + m.cos(x)", "np.sin(x) - m.cos(x)"), ("for v in (x, x)", "for v in (x, x, x)"),
             ("return x * 2.0", "return x * 2.5"), ("return y * k", "return y + k"),
             ("super().f(x) * self.__scale", "super().f(x) / self.__scale"),
             ("__local = x * 2", "__local = x * 3"), ("[x * k for", "[x + k for"),
             ("class Local:", "class Local(object):"), ("+ k\n", "- k\n")]
    for (old, new), function in zip(edits, functions):
        assert old in SHAPES
        modules.write("shapes", SHAPES.replace(old, new))
        with pytest.raises(SourceChanged):
            code_source(function)
        modules.write("shapes", SHAPES + "\n\n")            # restored (another size: re-read)
        code_source(function)


def test_the_source_check_accepts_the_test_corpus():
    """Every function of the corpus modules is verified against its file."""
    import inspect
    import corpus_control
    import corpus_helpers
    import corpus_programs
    import corpus_straight
    import models
    from pullback.frontend.source import code_source
    count = 0
    for module in (models, corpus_control, corpus_helpers, corpus_programs, corpus_straight):
        for value in vars(module).values():
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                code_source(value)
                count += 1
    assert count > 100


def checked_square(x):
    """Defined in this test file, whose asserts pytest rewrote on import."""
    assert x > -100.0, "x out of range"
    return x * x * 3.0


def test_a_function_whose_asserts_pytest_rewrote():
    assert pullback.grad(checked_square)(2.0) == pytest.approx(12.0, rel=1e-12)
