"""Derivatives specialized to what the arguments are (issue 16): each array
argument's number of dimensions, which of them have length 1, and its dtype.

Arrays that differ only in lengths other than 1 share one derivative; every
other kind gets its own, and each is checked against float64 central
differences or a hand-derived formula (never pullback itself).
"""
import numpy as np
import pytest

import pullback
from pullback.analysis.array_shapes import array_kind
from pullback.arguments import argument_kinds
from pullback.pipeline import options_of
from reference import central_difference, directional_difference, import_module_from_text, \
    module_files

RNG = np.random.default_rng(16)


def rand(shape, dtype=np.float64):
    return RNG.uniform(-1.0, 1.0, shape).astype(dtype)


# -- the kinds: what argument_kinds records --------------------------------------------------

KIND_EXAMPLES = [
    np.ones(5), np.ones(7), np.ones(1), np.ones((5, 1)), np.ones((1, 5)), np.ones((5, 5)),
    np.array(2.0), np.ones(0), np.ones((0, 1)), np.ones((1, 1, 3)), np.ones(4, dtype=np.float32),
    np.ones(3, dtype=np.float16), np.ones(3, dtype=np.longdouble), np.arange(3),
    np.arange(3, dtype=np.int32), np.ones(2, dtype=bool), np.ones(2, dtype=">f8"),
    np.ones(2, dtype=np.complex128), np.array(["a", "b"]), np.zeros(2, dtype="datetime64[s]"),
    np.zeros(2, dtype=[("a", "f8")]), np.ones((3, 4))[:, 1],
]


@pytest.mark.parametrize("value", KIND_EXAMPLES, ids=lambda v: f"{v.dtype}{v.shape}")
def test_an_arrays_kind_is_array_kind(value):
    """argument_kinds computes array_kind inline (it runs on every call): the same answer."""
    kinds = argument_kinds([1.0, value])
    assert kinds == ((0,), (), (), ((1,) + array_kind(value),))


def test_lengths_other_than_one_are_one_kind_and_one_changes_it():
    assert argument_kinds([np.ones(5)]) == argument_kinds([np.ones(7)])
    assert argument_kinds([np.ones((5, 1))]) == ((), (), (), ((0, "n1", "float64"),))
    assert argument_kinds([np.ones((1, 5))]) == ((), (), (), ((0, "1n", "float64"),))
    assert argument_kinds([np.array(1.0)]) == ((), (), (), ((0, "", "float64"),))
    assert argument_kinds([np.ones(3, dtype=np.float32)])[3] == ((0, "n", "float32"),)


def test_numbers_alone_keep_the_short_kinds_and_the_old_cache_key():
    assert argument_kinds([1.0, 2, np.float32(3.0)]) == ((0, 1, 2),)
    assert options_of("grad", (0,), (1,)) == ("grad", (0,), (1,))
    assert options_of("grad", (0,), (1,), (), (), ()) == ("grad", (0,), (1,))
    arrays = ((0, "n", "float64"),)
    assert options_of("grad", (0,), (), (), (), arrays) == ("grad", (0,), (), (), (), arrays)


def test_subclasses_and_arrays_in_containers_are_not_specialized():
    masked = np.ma.masked_array([1.0, 2.0])
    assert argument_kinds([masked]) == ((),)
    assert argument_kinds([[np.ones(2)], {"w": np.ones(2)}]) == ((), (0, 1), (), ())


# -- lengths share a derivative, every other kind gets its own -------------------------------

def scaled_sin(x, y):
    return np.sum(np.sin(x * y) + x ** 2 * y)


def check_gradients(derivative, function, args, wrt, rtol=1e-6, atol=1e-9):
    got = derivative(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, i in zip(got, wrt if isinstance(wrt, tuple) else (wrt,)):
        assert np.shape(g) == np.shape(args[i])
        if isinstance(args[i], np.ndarray):
            assert g.dtype == args[i].dtype
        np.testing.assert_allclose(g, central_difference(function, args, i), rtol=rtol, atol=atol)


def test_arrays_of_other_lengths_share_one_derivative(tmp_path, monkeypatch, fresh_cache):
    module = import_module_from_text("""
        import numpy as np

        def f(x, y):
            return np.sum(np.sin(x * y) + x ** 2 * y)
    """, tmp_path, monkeypatch)
    df = pullback.grad(module.f, wrt=(0, 1))
    check_gradients(df, module.f, (rand(5), rand(5)), (0, 1))
    path, text = df.path, pullback.source(df)
    check_gradients(df, module.f, (rand(7), rand(7)), (0, 1))
    assert df.path == path and pullback.source(df) == text
    assert module_files(fresh_cache) == [path]
    assert "Specialized for arrays: x (1-D float64 (n,)), y (1-D float64 (n,))." in text


SHAPES = [(1,), (5, 1), (1, 5), (5, 5), (), (5,)]


def test_each_kind_of_array_gets_a_derivative_of_its_own(tmp_path, monkeypatch, fresh_cache):
    """x of each shape (and float32) beside a 1-D y: broadcasting differs, so does the code."""
    module = import_module_from_text("""
        import numpy as np

        def f(x, y):
            return np.sum(np.sin(x * y) + x ** 2 * y)
    """, tmp_path, monkeypatch)
    df = pullback.grad(module.f, wrt=(0, 1))
    y = rand(5)
    paths = set()
    for shape in SHAPES:
        x = rand(shape)
        check_gradients(df, module.f, (x, y), (0, 1))
        paths.add(df.path)
    x32, y32 = rand(5, np.float32), y.astype(np.float32)
    check_gradients(df, module.f, (x32, y32), (0, 1), rtol=1e-4, atol=1e-5)
    paths.add(df.path)
    assert "x (1-D float32 (n,)), y (1-D float32 (n,))" in pullback.source(df)
    assert len(paths) == len(SHAPES) + 1
    assert len(module_files(fresh_cache)) == len(SHAPES) + 1


@pytest.mark.parametrize("x_shape, y_shape, described", [
    ((5, 1), (5,), "x (2-D float64 (n, 1)), y (1-D float64 (n,))"),
    ((1, 5), (5, 5), "x (2-D float64 (1, n)), y (2-D float64 (n, n))"),
    ((), (5,), "x (0-D float64 ()), y (1-D float64 (n,))"),
])
def test_the_header_states_the_specialization(x_shape, y_shape, described):
    df = pullback.grad(scaled_sin, wrt=(0, 1))
    check_gradients(df, scaled_sin, (rand(x_shape), rand(y_shape)), (0, 1))
    header = [line for line in pullback.source(df).splitlines() if line.startswith("#")]
    text = " ".join(line.lstrip("# ") for line in header)
    assert f"Specialized for arrays: {described}." in text


def test_a_number_then_an_array_as_one_parameter():
    """One parameter called with an array, a number, a 0-d array: each right."""
    df = pullback.grad(scaled_sin, wrt=(0, 1))
    y = rand(4)
    for x in (rand(4), 0.7, np.array(0.3), rand(4), -0.2, rand((4, 1))):
        check_gradients(df, scaled_sin, (x, y), (0, 1))
    header = pullback.source(df).split("import", 1)[0]
    assert "Specialized for numbers (not arrays) as x." not in header    # the last x: an array
    df(0.5, y)
    assert "Specialized for numbers (not arrays) as x." in pullback.source(df)


def test_before_any_call_the_derivative_is_the_general_one():
    df = pullback.grad(scaled_sin)
    assert "Specialized" not in pullback.source(df)
    assert df.__code__ is not None


def test_float32_and_float64_of_one_shape_are_two_derivatives():
    def f(x):
        return np.sum(np.tanh(x) * x)
    df = pullback.grad(f)
    x = rand(6)
    g64 = df(x)
    p64 = df.path
    g32 = df(x.astype(np.float32))
    assert df.path != p64 and g32.dtype == np.float32 and g64.dtype == np.float64
    expected = np.tanh(x) + x / np.cosh(x) ** 2
    np.testing.assert_allclose(g64, expected, rtol=1e-12)
    np.testing.assert_allclose(g32, np.tanh(x.astype(np.float32).astype(np.float64))
                               + x.astype(np.float32) / np.cosh(x.astype(np.float32)) ** 2,
                               rtol=1e-5)


# -- higher order and forward mode -----------------------------------------------------------

def weighted(s, w):
    return np.sum(np.sin(s * w) * w)


@pytest.mark.parametrize("w_shape", [(5,), (5, 1), (1,), ()])
def test_grad_of_grad_with_arrays(w_shape):
    """d/ds weighted = sum(cos(s w) w^2); its gradient in w and its derivative in s."""
    s, w = 0.4, rand(w_shape)
    ds = pullback.grad(weighted, wrt=0)
    np.testing.assert_allclose(ds(s, w), np.sum(np.cos(s * w) * w * w), rtol=1e-12)
    dsdw = pullback.grad(ds, wrt=1)
    expected = -np.sin(s * w) * s * w * w + 2 * w * np.cos(s * w)
    got = dsdw(s, w)
    assert np.shape(got) == w_shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, central_difference(
        lambda s, w: np.sum(np.cos(s * w) * w * w), (s, w), 1), rtol=1e-6, atol=1e-9)
    dsds = pullback.grad(ds, wrt=0)         # forward mode over the generated gradient
    np.testing.assert_allclose(dsds(s, w), -np.sum(np.sin(s * w) * w ** 3), rtol=1e-10,
                               atol=1e-12)


def elementwise(x, y):
    return np.sin(x) * x + y


@pytest.mark.parametrize("x_shape, y_shape", [((5,), (5,)), ((5, 1), (1, 4)), ((), (3,))])
def test_jvp_with_arrays(x_shape, y_shape):
    x, y = rand(x_shape), rand(y_shape)
    u, v = rand(x_shape), rand(y_shape)
    value, tangent = pullback.jvp(elementwise, (x, y), (u, v))
    np.testing.assert_allclose(value, elementwise(x, y), rtol=1e-12)
    np.testing.assert_allclose(tangent, (np.cos(x) * x + np.sin(x)) * u + v, rtol=1e-10,
                               atol=1e-12)
    expected = directional_difference(elementwise, [x, y], [u, v])
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-9)


def test_a_jvp_of_a_jvp_with_arrays():
    """pullback.jvp(f, wrt=0) takes (x, y, t): its jvp along x gives f''(x) t u."""
    x, y, t, u = rand(5), rand((1, 5)), rand(5), rand(5)
    jf = pullback.jvp(elementwise, wrt=0)
    value, first = jf(x, y, t)
    np.testing.assert_allclose(first, np.broadcast_to((np.cos(x) * x + np.sin(x)) * t,
                                                      first.shape), rtol=1e-12)
    _, (value_tangent, tangent_tangent) = pullback.jvp(jf, (x, y, t), (u, None, None))
    second = -np.sin(x) * x + 2 * np.cos(x)
    np.testing.assert_allclose(value_tangent, np.broadcast_to(
        (np.cos(x) * x + np.sin(x)) * u, value_tangent.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tangent_tangent, np.broadcast_to(second * t * u,
                                                                tangent_tangent.shape),
                               rtol=1e-10, atol=1e-12)


def quartic(x, a):
    return np.sum(a * x ** 4) + np.sum(x) ** 2


@pytest.mark.parametrize("a_shape", [(4,), (1,), ()])
def test_hvp_and_hessian_with_arrays(a_shape):
    x, a, v = rand(4), rand(a_shape), rand(4)
    hessian = np.diag(np.broadcast_to(12 * a * x ** 2, (4,))) + 2 * np.ones((4, 4))
    np.testing.assert_allclose(pullback.hvp(quartic, (x, a), (v, None)), hessian @ v,
                               rtol=1e-10)
    np.testing.assert_allclose(pullback.hessian(quartic)(x, a), hessian, rtol=1e-10)


# -- export: specialized to the example arguments, general without ---------------------------

def test_export_with_example_arrays_is_specialized_and_refuses_others(tmp_path, monkeypatch):
    module = import_module_from_text("""
        import numpy as np

        def f(p, X):
            return np.sum(np.sin(X * p) * X)
    """, tmp_path, monkeypatch, filename="userexport.py")
    df = pullback.grad(module.f, wrt=(0, 1))
    path = tmp_path / "grad_f_specialized.py"
    text = pullback.export(df, path, args=(rand(5), rand((5, 1))))
    assert "Made for arrays p (1-D float64 (n,)), X (2-D float64 (n, 1))" in text
    exported = import_module_from_text(path.read_text(), tmp_path, monkeypatch,
                                       filename="grad_f_specialized.py")
    p, X = rand(3), rand((3, 1))
    gp, gX = exported.grad_f(p, X)
    np.testing.assert_allclose(gp, central_difference(module.f, (p, X), 0), rtol=1e-6)
    np.testing.assert_allclose(gX, central_difference(module.f, (p, X), 1), rtol=1e-6)
    for p, X in [(rand(3), rand((3, 2))), (rand(3), rand(3)), (rand(3).astype(np.float32),
                                                                rand((3, 1)))]:
        with pytest.raises(TypeError, match="was exported for"):
            exported.grad_f(p, X)


def test_export_without_examples_stays_general(tmp_path, monkeypatch):
    module = import_module_from_text("""
        import numpy as np

        def f(p, X):
            return np.sum(np.sin(X * p) * X)
    """, tmp_path, monkeypatch, filename="usergeneral.py")
    df = pullback.grad(module.f, wrt=(0, 1))
    df(rand(5), rand((5, 1)))           # the last call's arrays are not what is exported for
    text = pullback.export(df)
    assert "Specialized for arrays" not in text and "Made for arrays or numbers of any shape" in text
    namespace = {}
    exec(compile(text, str(tmp_path / "general.py"), "exec"), namespace)
    for p, X in [(rand(3), rand((2, 3))), (rand((2, 1)), rand(4)), (0.3, rand(2))]:
        gp, gX = namespace["grad_f"](p, X)
        np.testing.assert_allclose(gp, central_difference(module.f, (p, X), 0), rtol=1e-6)
        np.testing.assert_allclose(gX, central_difference(module.f, (p, X), 1), rtol=1e-6)
