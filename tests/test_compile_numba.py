"""compile="numba" and compile="auto" on grad and value_and_grad (issue 17):
compiled gradients checked against central differences, the refusals
(pullback's and Numba's) with the user's file and line, and Numba's disk
cache seen from a second process.

Numba compiles each derivative once per argument types (0.3-2 s); a
derivative made again for the same function and kinds reuses the compiled
one from pullback's memory cache, so the tests share them.
"""
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

numba = pytest.importorskip(
    "numba", reason="compile=\"numba\" needs Numba (pip install pullback[numba])")

import pullback  # noqa: E402
from pullback.errors import CompileError, CompileWarning, InvalidArgument  # noqa: E402
from reference import central_difference, child_env, marker_line  # noqa: E402

RATE = 0.3          # read by reads_global: Numba would freeze it, so pullback refuses


# -- user functions, each Numba-compatible unless its name says otherwise ------------

def scalar_loop(x, n):
    s = x
    for i in range(n):
        s = s + 0.01 * np.sin(s * x + i)
    return s * s


def lotka_volterra(a, b, c, d, steps):
    x, y = 1.0, 0.5
    for _ in range(steps):
        x, y = x + 0.01 * (a * x - b * x * y), y + 0.01 * (d * x * y - c * y)
    return x * x + y


def lotka_volterra_vector(p, steps):
    a, b = p[0], p[1]
    x, y = 1.0, 0.5
    for _ in range(steps):
        x, y = x + 0.01 * (a * x - b * x * y), y + 0.01 * (p[3] * x * y - p[2] * y)
    return x * x + y


def newton_sqrt_cubed(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:       # how many steps depends on a
        x = 0.5 * (x + a / x)
    return x * x * x                        # a ** 1.5


def small_arrays(w, x):
    h = w
    for _ in range(3):
        h = np.tanh(h * x + w)
    return np.sum(h.sum(axis=0) ** 2) + np.sum(np.sum(h, axis=1) * x[:, 0]) + np.mean(h * w)


def _relax(x, k):
    return x + 0.1 * np.sin(2.0 * x) * k


def calls_user_function(x, k):
    for _ in range(5):
        x = _relax(x, k)
    return x * x


def sums_user_function(x, k):
    for _ in range(5):
        x = _relax(x, k)
    return np.sum(x * x)


# Each refusal test has functions of its own: pullback remembers a refusal per
# function (compiling.py), so a second test on the same function would see no warning.

def reads_global(x):
    y = x * x
    return RATE * y


def reads_global_strict(x):
    return RATE * x * x


def reads_global_then_strict(x):
    return x * RATE * x


def builds_dict(x):
    d = {"a": x, "b": 2.0 * x}
    return d["a"] * d["b"]                  # refused: dict


def builds_dict_strict(x):
    d = {"a": x, "b": 2.0 * x}
    return d["b"] * d["a"]                  # refused: dict-strict


def builds_dict_then_strict(x):
    d = {"a": 2.0 * x, "b": x}
    return d["a"] * d["b"]                  # refused: dict-then-strict


_RNG = np.random.default_rng(17)
W, X = _RNG.standard_normal((4, 2)), _RNG.standard_normal((4, 2))


def assert_compiled(df):
    """``df`` ran the Numba variant: a dispatcher, and the source says so."""
    assert type(df.__wrapped__).__module__.startswith("numba"), type(df.__wrapped__)
    assert "@numba.njit(cache=True)" in pullback.source(df)


# -- compiled gradients against central differences ----------------------------------

def test_scalar_loop():
    df = pullback.grad(scalar_loop, compile="numba")
    g = df(0.7, 40)
    assert isinstance(g, float)
    np.testing.assert_allclose(g, central_difference(scalar_loop, (0.7, 40), 0), rtol=1e-7)
    assert_compiled(df)


def test_lotka_volterra_from_separate_floats():
    args = (1.0, 0.5, 0.7, 0.3, 200)
    df = pullback.grad(lotka_volterra, wrt=(0, 1, 2, 3), compile="numba")
    grads = df(*args)
    assert len(grads) == 4
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, central_difference(lotka_volterra, args, i), rtol=1e-6)
    assert_compiled(df)


def test_lotka_volterra_from_a_parameter_vector():
    p = np.array([1.0, 0.5, 0.7, 0.3])
    df = pullback.grad(lotka_volterra_vector, compile="numba")
    g = df(p, 200)
    assert g.shape == p.shape
    np.testing.assert_allclose(g, central_difference(lotka_volterra_vector, (p, 200), 0),
                               rtol=1e-6)
    # the same dynamics as the separate floats, so the same gradient
    np.testing.assert_allclose(g, pullback.grad(lotka_volterra, wrt=(0, 1, 2, 3),
                                                compile="numba")(*p, 200), rtol=1e-12)
    assert_compiled(df)


@pytest.mark.parametrize("a", [0.3, 2.0, 50.0])
def test_newton_while_with_a_data_dependent_test(a):
    df = pullback.grad(newton_sqrt_cubed, compile="numba")
    g = df(a)
    np.testing.assert_allclose(g, 1.5 * np.sqrt(a), rtol=1e-9)          # d/da a^1.5
    np.testing.assert_allclose(g, central_difference(newton_sqrt_cubed, (a,), 0), rtol=1e-6)
    assert_compiled(df)


def test_small_array_loop_with_axis_reductions():
    df = pullback.grad(small_arrays, wrt=(0, 1), compile="numba")
    dw, dx = df(W, X)
    assert dw.shape == dx.shape == (4, 2)
    np.testing.assert_allclose(dw, central_difference(small_arrays, (W, X), 0), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(dx, central_difference(small_arrays, (W, X), 1), rtol=1e-6,
                               atol=1e-9)
    assert_compiled(df)


def test_a_call_to_another_user_function():
    df = pullback.grad(calls_user_function, compile="numba")
    g = df(0.7, 1.3)
    np.testing.assert_allclose(g, central_difference(calls_user_function, (0.7, 1.3), 0),
                               rtol=1e-7)
    assert_compiled(df)
    assert "def _relax_backward(" in pullback.source(df)      # differentiated into the module
    vector = np.array([0.7, -0.2, 1.1])
    dx, dk = pullback.grad(sums_user_function, wrt=(0, 1), compile="numba")(vector, 1.3)
    np.testing.assert_allclose(dx, central_difference(sums_user_function, (vector, 1.3), 0),
                               rtol=1e-7)
    np.testing.assert_allclose(dk, central_difference(sums_user_function, (vector, 1.3), 1),
                               rtol=1e-7)


def test_value_and_grad():
    vg = pullback.value_and_grad(small_arrays, compile="numba")
    value, dw = vg(W, X)
    np.testing.assert_allclose(value, small_arrays(W, X), rtol=1e-13)
    np.testing.assert_allclose(dw, central_difference(small_arrays, (W, X), 0), rtol=1e-6,
                               atol=1e-9)
    assert_compiled(vg)


# -- refusals: compile="auto" warns once and runs plain Python, "numba" raises ------------

def compile_warnings(caught):
    return [w for w in caught if issubclass(w.category, CompileWarning)]


def check_auto_falls_back(function, args, expected, where):
    """One CompileWarning naming ``where``, the right gradient, then no more warnings."""
    df = pullback.grad(function, compile="auto")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = df(*args)
    found = compile_warnings(caught)
    assert len(found) == 1, [str(w.message) for w in found]
    message = str(found[0].message)
    assert where in message, message
    np.testing.assert_allclose(g, expected, rtol=1e-12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.testing.assert_allclose(df(*args), expected, rtol=1e-12)
    assert compile_warnings(caught) == []
    return message


def test_auto_on_a_global_read():
    where = f"{__file__}:{reads_global.__code__.co_firstlineno}"
    message = check_auto_falls_back(reads_global, (2.0,), 2 * RATE * 2.0, where)
    assert "RATE" in message and "globals" in message


def test_numba_on_a_global_read():
    with pytest.raises(CompileError, match="RATE") as raised:
        pullback.grad(reads_global_strict, compile="numba")(2.0)
    assert f"{__file__}:{reads_global_strict.__code__.co_firstlineno}" in str(raised.value)


def test_auto_on_what_numba_typing_refuses():
    # pullback differentiates the dict; Numba's typing refuses it at the first call
    np.testing.assert_allclose(pullback.grad(builds_dict)(1.5), 4 * 1.5)
    where = f"{__file__}:{marker_line(__file__, 'dict')}"
    message = check_auto_falls_back(builds_dict, (1.5,), 4 * 1.5, where)
    assert "Numba cannot compile the derivative" in message


def test_numba_on_what_numba_typing_refuses():
    with pytest.raises(CompileError, match="Numba cannot compile the derivative") as raised:
        pullback.grad(builds_dict_strict, compile="numba")(1.5)
    assert f"{__file__}:{marker_line(__file__, 'dict-strict')}" in str(raised.value)


@pytest.mark.parametrize("function,line", [
    (reads_global_then_strict, lambda: reads_global_then_strict.__code__.co_firstlineno),
    (builds_dict_then_strict, lambda: marker_line(__file__, "dict-then-strict")),
], ids=["global", "numba-typing"])
def test_numba_still_raises_after_auto_fell_back(function, line):
    with pytest.warns(CompileWarning):
        pullback.grad(function, compile="auto")(1.5)
    try:
        pullback.grad(function, compile="numba")(1.5)
    except CompileError as error:
        assert f"{__file__}:{line()}" in str(error)
    else:
        raise AssertionError('compile="numba" ran plain Python after an "auto" refusal')


def test_bogus_compiler():
    with pytest.raises(InvalidArgument, match="bogus"):
        pullback.grad(scalar_loop, compile="bogus")
    with pytest.raises(InvalidArgument, match="bogus"):
        pullback.value_and_grad(scalar_loop, compile="bogus")


# -- Numba's disk cache: a second process compiles nothing ---------------------------

CACHED_SCRIPT = '''
import json
import numpy as np
import pullback


def damped(x, n):
    s = x
    for i in range(n):
        s = s - 0.1 * s * s + x
    return s


df = pullback.grad(damped, compile="numba")
g = df(0.3, 30)
stats = df.__wrapped__.stats
print(json.dumps({"grad": g, "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()), "path": stats.cache_path}))
'''


def test_a_second_process_loads_the_machine_code(tmp_path):
    script, cache = tmp_path / "cached_model.py", tmp_path / "cache"
    script.write_text(CACHED_SCRIPT)
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120, env=child_env(cache), cwd=str(tmp_path))
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert (first["hits"], first["misses"]) == (0, 1), first
    assert (second["hits"], second["misses"]) == (1, 0), second
    assert first["path"].startswith(str(cache))
    namespace = {}
    exec(compile(CACHED_SCRIPT.split("\n\n\ndf =")[0], str(script), "exec"), namespace)
    expected = central_difference(namespace["damped"], (0.3, 30), 0)
    np.testing.assert_allclose([first["grad"], second["grad"]], [expected, expected], rtol=1e-7)


# -- found while writing these tests (fixed since) ----------------------------------------

def gathers_repeated(x, idx):
    return np.sum(x[idx] ** 2)


def test_repeated_indices_add_up():
    x, idx = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 2])
    g = pullback.grad(gathers_repeated, compile="numba")(x, idx)
    np.testing.assert_allclose(g, central_difference(gathers_repeated, (x, idx), 0), rtol=1e-7)


def test_a_call_to_another_user_function_with_respect_to_both_numbers():
    args = (0.7, 1.3)
    dx, dk = pullback.grad(calls_user_function, wrt=(0, 1), compile="numba")(*args)
    np.testing.assert_allclose(dx, central_difference(calls_user_function, args, 0), rtol=1e-7)
    np.testing.assert_allclose(dk, central_difference(calls_user_function, args, 1), rtol=1e-7)


def _scaled_sine(x, k):
    return x + 0.1 * np.sin(k * x)


def calls_product_of_arguments(x, k):
    for _ in range(5):
        x = _scaled_sine(x, k)
    return x * x


def test_a_call_to_a_function_multiplying_its_arguments():
    g = pullback.grad(calls_product_of_arguments, compile="numba")(0.7, 1.3)
    np.testing.assert_allclose(g, central_difference(calls_product_of_arguments, (0.7, 1.3), 0),
                               rtol=1e-7)


def squares(x):
    return x * x


def test_an_array_output_is_refused_as_in_plain_python():
    from pullback.runtime import NonScalarOutput
    with pytest.raises(NonScalarOutput, match="output is a scalar"):
        pullback.grad(squares, compile="numba")(np.ones(3))


def reads_global_for_the_warning(x):
    return x * RATE


def test_the_auto_warning_points_at_the_users_call():
    with pytest.warns(CompileWarning) as caught:
        pullback.grad(reads_global_for_the_warning, compile="auto")(2.0)
    assert [w.filename for w in caught] == [__file__]


def smallest_squared(x):
    best = None                             # None, then a float: Numba's types are not Python's
    for v in x:
        if best is None or v < best:
            best = v
    return best * best


def test_a_type_error_of_the_compiled_code_falls_back_under_auto():
    x = np.array([0.5, -0.3, 0.8])
    with pytest.warns(CompileWarning, match="raised TypeError"):
        gradient = pullback.grad(smallest_squared, compile="auto")(x)
    np.testing.assert_allclose(gradient, central_difference(smallest_squared, (x,), 0), atol=1e-8)
