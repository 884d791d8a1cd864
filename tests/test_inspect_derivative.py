"""inspect on the derivative itself: getsourcefile, getfile and getsource work
on what pullback.grad returns, before its first call as well as after, and
pullback.source(df, args=...) shows the code made for given arguments."""
import inspect
import types
from pathlib import Path

import numpy as np

import pullback
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
