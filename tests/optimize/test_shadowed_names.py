"""A user's name that is also a name of the generated code (``np``, a runtime
helper): the passes know NumPy and the helpers by their spelling, so on a
function that calls the user's object under such a name none of them runs.

Found by a review of write_indexes_in_place: a user's function named
``scatter_basic`` was rewritten into zeros, and a user's global ``np = 4``
met ``np.zeros``. Each program here is checked against central differences.
"""
import importlib.util
import textwrap

import numpy as np
import pytest

import pullback
from pullback.backend import cache
from test_general_passes import check_gradient

PROGRAMS = '''
import numpy
import numpy as onp


def scatter_basic(x, i, g):
    """The user's own function, with the name of pullback's helper."""
    return x * g + i


def add_at_basic(t, x, i, g):
    return t * 0.5 + x * g + i


def uses_scatter_name(x, w):
    v = scatter_basic(w, 1, 2.0)
    return onp.sum(x[1:] * v[:-1])


def uses_add_at_name_in_a_loop(x, w):
    t = w * 3.0
    for k in range(2):
        t = add_at_basic(t, w, 1, 2.0)
    return onp.sum(x[1:] * t[:-1])


def a_local_named_like_a_helper(x):
    direction = x[1:] - x[:-1]      # pullback.runtime has a helper named direction
    return onp.sum(direction ** 2)


np = 4      # a number of points, not NumPy


def numpy_spelled_out(x):
    return numpy.sum((x[1:] - x[:-1]) ** 2) * np
'''


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shadowed")
    path = folder / "shadowing_programs.py"
    path.write_text(textwrap.dedent(PROGRAMS))
    spec = importlib.util.spec_from_file_location("shadowing_programs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RNG = np.random.default_rng(33)


@pytest.mark.parametrize("name, args, wrt", [
    ("uses_scatter_name", (RNG.standard_normal(5), RNG.standard_normal(5)), 0),
    ("uses_scatter_name", (RNG.standard_normal(5), RNG.standard_normal(5)), (0, 1)),
    ("uses_add_at_name_in_a_loop", (RNG.standard_normal(5), RNG.standard_normal(5)), 0),
    ("uses_add_at_name_in_a_loop", (RNG.standard_normal(5), RNG.standard_normal(5)), (0, 1)),
    ("numpy_spelled_out", (RNG.standard_normal(6),), 0),
], ids=["scatter_basic", "scatter_basic-both", "add_at_basic", "add_at_basic-both", "np"])
def test_a_user_s_object_under_a_generated_name_is_not_taken_for_it(programs, name, args, wrt,
                                                                       tmp_path, monkeypatch):
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(tmp_path))
    function = getattr(programs, name)
    cache.memory_forget(function)
    gradient = pullback.grad(function, wrt=wrt)
    check_gradient(function, args, wrt, gradient(*args))


def test_a_local_value_named_like_a_helper_keeps_the_passes(programs, tmp_path, monkeypatch):
    """Only calls of (and attributes of) such a name stop the passes: a value the
    user names ``direction`` does not."""
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(tmp_path))
    function = programs.a_local_named_like_a_helper
    cache.memory_forget(function)
    gradient = pullback.grad(function)
    x = RNG.standard_normal(6)
    check_gradient(function, (x,), 0, gradient(x))
    assert "dx[1:] += ddirection" in pullback.source(gradient), pullback.source(gradient)
