"""inspect on the derivative itself: getsourcefile, getfile and getsource work
on what pullback.grad returns, before its first call as well as after, and
pullback.source(df, args=...) shows the code made for given arguments."""
import inspect
import types
from pathlib import Path

import numpy as np

import pullback
from pullback import d
from pullback.api import Derivative
from reference import central_difference, import_module_from_text

MODEL = """
import numpy as np


def loss(w, x):
    z = np.tanh(x * w)
    return np.sum(z * z)
"""


def model(tmp_path, monkeypatch):
    return import_module_from_text(MODEL, tmp_path / "user", monkeypatch, prefix="inspect_user")


def test_getsourcefile_before_the_first_call_is_the_generated_module(tmp_path, monkeypatch, fresh_cache):
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    assert not hasattr(df, "__wrapped__")       # probing __wrapped__ still generates nothing
    path = inspect.getsourcefile(df)             # this generates the derivative (for arrays)
    assert Path(path) == Path(df.path) and Path(path).parent == fresh_cache
    assert inspect.getfile(df) == path
    source = inspect.getsource(df)
    assert source.startswith("def dloss_dw(w, x):") and source in Path(path).read_text()
    w, x = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    np.testing.assert_allclose(df(w, x), central_difference(mod.loss, [w, x], 0), rtol=1e-7)


def test_inspect_follows_the_kinds_of_the_last_call(tmp_path, monkeypatch, fresh_cache):
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    for_arrays = inspect.getsourcefile(df)
    g = df(0.4, 2.0)                             # numbers: a specialization of its own
    assert np.isclose(g, central_difference(mod.loss, [0.4, 2.0], 0), rtol=1e-7)
    assert inspect.getsourcefile(df) != for_arrays
    assert "Specialized for numbers" in Path(inspect.getsourcefile(df)).read_text()
    assert inspect.getsource(df) in pullback.source(df)


def test_the_derivative_looks_like_a_function_to_inspect_only_by_isinstance(tmp_path, monkeypatch,
                                                                            fresh_cache):
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    assert inspect.isfunction(df) and isinstance(df, types.FunctionType)
    assert type(df) is Derivative and isinstance(df, Derivative)
    assert str(inspect.signature(df)) == "(w, x)"        # the user's, not the generated one
    assert df.__code__.co_filename == str(df.path)
    assert df.__globals__["np"] is np


def test_source_with_args_shows_their_specialization(tmp_path, monkeypatch, fresh_cache):
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    numbers = pullback.source(df, args=(0.5, 2.0))
    arrays = pullback.source(df, args=(np.ones(3), np.ones(3)))
    assert "Specialized for numbers (not arrays) as w, x." in numbers
    assert "Specialized for numbers" not in arrays
    keywords = pullback.source(df, args=(0.5,), kwargs={"x": 2.0})
    assert keywords == numbers
    jvp_numbers = pullback.source(mod.loss, mode="jvp", args=(0.5, 2.0))
    assert "Specialized for numbers" in jvp_numbers and "def loss_jvp" in jvp_numbers


def test_value_and_grad_is_inspectable_too(tmp_path, monkeypatch, fresh_cache):
    mod = model(tmp_path, monkeypatch)
    vg = pullback.value_and_grad(mod.loss, wrt=(0, 1))
    assert inspect.getsource(vg).startswith("def value_and_dloss_dw_dx(w, x):")
    value, (gw, gx) = vg(0.2, 1.0)
    assert np.isclose(value, mod.loss(0.2, 1.0))
    assert np.isclose(gx, central_difference(mod.loss, [0.2, 1.0], 1), rtol=1e-7)


REFUSED = """
import numpy as np


def refused(x):
    try:
        return np.sum(x)
    except ValueError:
        return 0.0


def fine(x):
    return np.sum(x * x)


dfine = __import__("pullback").grad(fine)
drefused = __import__("pullback").grad(refused)
"""


def test_probing_a_refused_derivative_raises_nothing(tmp_path, monkeypatch, fresh_cache):
    import doctest
    mod = import_module_from_text(REFUSED, tmp_path / "user", monkeypatch, prefix="inspect_refused")
    assert hasattr(mod.drefused, "__code__") and mod.drefused.__globals__ is mod.__dict__
    assert doctest.DocTestFinder().find(mod) is not None      # collecting doctests works
    try:
        mod.drefused(np.ones(2))
    except pullback.UnsupportedSyntax as error:               # calling it says why
        assert "'try'" in str(error)
    else:
        raise AssertionError("a function with try was differentiated")


def test_a_derivative_pickles_and_copies(tmp_path, monkeypatch, fresh_cache):
    import copy
    import pickle
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    w, x = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    expected = central_difference(mod.loss, [w, x], 0)
    for other in (pickle.loads(pickle.dumps(df)), copy.copy(df), copy.deepcopy(df)):
        assert type(other) is Derivative
        np.testing.assert_allclose(other(w, x), expected, rtol=1e-7)


def test_a_rule_registered_after_the_derivative_was_made_applies_to_it(tmp_path, monkeypatch,
                                                                       fresh_cache):
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    w, x = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    np.testing.assert_allclose(df(w, x), central_difference(mod.loss, [w, x], 0), rtol=1e-7)
    try:
        @pullback.register_adjoint(mod.loss)
        def constant_gradient(result, w, x):        # a deliberately different rule: 3 everywhere
            d[w] = d[result] * 3.0 * np.ones_like(w)
        np.testing.assert_allclose(df(w, x), [3.0, 3.0])        # the derivative made before
        np.testing.assert_allclose(pullback.grad(mod.loss)(w, x), [3.0, 3.0])
    finally:
        pullback.rules.user_rules.adjoints.pop(mod.loss, None)
        pullback.rules.user_rules.sources.append("test: rule removed")
    np.testing.assert_allclose(df(w, x), central_difference(mod.loss, [w, x], 0), rtol=1e-7)


def test_a_module_pruned_while_in_use_still_shows_its_code(tmp_path, monkeypatch, fresh_cache):
    mod = model(tmp_path, monkeypatch)
    df = pullback.grad(mod.loss)
    w, x = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    df(w, x)
    text = Path(df.path).read_text()
    Path(df.path).unlink()                          # another process pruned it
    assert inspect.getsource(df) in text and "def dloss_dw" in pullback.source(df)
    np.testing.assert_allclose(df(w, x), central_difference(mod.loss, [w, x], 0), rtol=1e-7)
