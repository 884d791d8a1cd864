"""Shapes of new arrays and rearranged ones (analysis/constructed.py): np.zeros,
np.ones, np.empty and their ``_like``s, np.eye, np.identity; np.transpose
(``x.T``), np.outer, np.array of a literal list, a tuple or an array.

Each claim is held to the values the normalized function takes when it runs
(test_an_array_shapes.run_normalized): its rank, its axes of length 1, its
literal lengths, the lengths one symbol stands for, and a float64 dtype.
The gradients of programs that build their state this way are checked
against central differences, with the helpers the shapes make unneeded gone.
"""
import gast
import numpy as np
import pytest

import pullback
from pullback.analysis.shape_values import ONE, UNKNOWN
from reference import central_difference, checked_source
from test_an_array_shapes import dims, run_normalized, shapes, wrong_rank_or_length


def built(x, n):
    a = np.zeros(3)
    b = np.ones((2, x.shape[0]))
    c = np.empty((len(x), 1))
    d = np.zeros(x.shape) + x
    e = np.ones_like(x) * 2.0
    f = np.zeros_like(b, dtype="float64")
    g = np.eye(2)
    h = np.eye(2, 3)
    i = np.identity(1)
    j = np.zeros(n)
    k = np.zeros((n, 2), dtype=np.int64)
    c[:] = 1.0
    return a, b, c, d, e, f, g, h, i, j, k


def rearranged(x, y):
    t = x.T
    u = np.transpose(y, (1, 0, 2)) if y.ndim == 3 else y.T
    v = np.outer(x, 2.0)
    w = np.outer(x[0], x)
    m = np.array([[1.0, 2.0], [3.0, -4.0]])
    k = np.array([1, 2, 3])
    p = np.array([x[0], 2.0 * x[-1]])
    q = np.asarray((t, t))
    r = np.array(x)
    s = np.array(x, dtype=np.float32)
    return t, u, v, w, m, k, p, q, r, s


def running(x, y):
    c = np.cumsum(x)
    d = np.cumsum(x, axis=0)
    e = np.cumprod(y, axis=-1)
    f = np.diff(x)
    g = np.diff(y, n=2, axis=0)
    h = np.diff(x, n=5)
    return c, d, e, f, g, h


def _check(f, args):
    claims, values = run_normalized(f, args)
    symbols = {}
    for name, shape in claims.items():
        for value in values.get(name, []):
            problem = wrong_rank_or_length(shape, value)
            assert problem is None, (f.__name__, name, shape.describe(), problem)
            if shape.number:
                continue
            if shape.dtype == "float64":
                assert value.dtype == np.float64, (name, value.dtype)
            for axis in range(shape.ndim):
                length = shape.length(axis)
                if length is None:
                    continue
                symbol, offset = length
                if symbol is None:
                    assert value.shape[axis] == offset, (name, axis, length, value.shape)
                else:                               # one symbol: one length, wherever it is
                    seen = symbols.setdefault(symbol, value.shape[axis] - offset)
                    assert seen == value.shape[axis] - offset, (name, axis, length, value.shape)
    return claims


@pytest.mark.parametrize("shape", [(1,), (2,), (3,), (1, 1), (3, 1), (1, 4), (2, 3)])
def test_constructors_claim_what_numpy_builds(shape):
    x = np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)
    claims = _check(built, (x, 2))
    for name in "abdefghi":
        assert name in claims, (name, sorted(claims))
    assert claims["a"].lengths == ((None, 3),) and claims["a"].dtype == "float64"
    assert claims["g"].lengths == ((None, 2), (None, 2)) and claims["i"].dims == (ONE, ONE)
    assert claims["f"].dtype == "float64" and claims["k"].dtype is None      # np.int64: not read
    assert claims["j"].ndim == 1                                            # np.zeros(n): 1-D


@pytest.mark.parametrize("sx, sy", [((3, 2), (2, 3)), ((1, 3), (2, 1, 3)), ((2, 2), (1, 2)),
                                    ((4, 1), (3, 4, 1))])
def test_transposes_outer_products_and_literal_arrays(sx, sy):
    claims = _claims_of_two(rearranged, sx, sy, "tvwmkpqr")
    assert claims["m"].lengths == ((None, 2), (None, 2)) and claims["m"].dtype == "float64"
    assert claims["k"].dtype == "int64" and claims["s"].dtype is None
    assert claims["q"].ndim == 3


@pytest.mark.parametrize("sx, sy", [((4,), (3, 2)), ((2,), (2, 3)), ((1,), (4, 1)),
                                    ((6,), (1, 5)), ((3,), (5, 3))])
def test_running_sums_and_differences(sx, sy):
    _claims_of_two(running, sx, sy, "cdefgh")


def _claims_of_two(f, sx, sy, known):
    """f's claims for arrays of shapes ``sx`` and ``sy``, held to run time; each
    name of ``known`` claimed."""
    x = np.linspace(0.5, 1.5, int(np.prod(sx))).reshape(sx)
    y = np.linspace(0.2, 0.9, int(np.prod(sy))).reshape(sy)
    claims = _check(f, (x, y))
    for name in known:
        assert name in claims, (name, sorted(claims))
    return claims


def appended(a, b, c):
    xs = [a, b]
    xs.append(c)                        # three items, not two
    return np.array(xs)


def replaced(a, b, c):
    ys = [a, b]
    ys[0] = np.ones(2) * c              # an item replaced: a ragged list
    return np.array([b, c]), len(ys)


def nested(a, b, c):
    ws = [a, b]
    vs = [ws, ws]                       # an item of a list that is not sealed
    vs.append([c, c])
    return np.array(vs), np.array(ws)


def grown(a, b, c):
    sizes = [2, 3]
    sizes.append(1)                     # np.zeros of it: 3-D
    return np.zeros(sizes) + a


@pytest.mark.parametrize("f", [appended, replaced, nested, grown])
def test_a_list_something_may_change_is_not_read(f):
    _check(f, (1.0, 2.0, 3.0))          # a list's length claimed is its length when read


def spliced(a, b, c):
    ys = [a, b]
    ys[1:] = [c, c]                     # three items now
    zs = [a, [b, c]]                    # not a list of numbers: read, never claimed
    return np.array(ys), np.array([a, b]), len(zs)


def test_only_lists_nothing_but_np_array_reads_are_sealed():
    from pullback.analysis.constructed import sealed_lists
    from pullback.analysis.operation import single_definitions
    from test_an_array_shapes import analysed
    tree, facts, _ = analysed(spliced, 1.0, 2.0, 3.0)
    lists = {stmt.targets[0].id: stmt.value for stmt in tree.body
             if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.List)
             and isinstance(stmt.targets[0], gast.Name)}
    sealed = sealed_lists(tree, facts.operations, single_definitions(tree))
    plain = {name for name, value in lists.items() if name != "ys"
             and [getattr(e, "id", None) for e in value.elts] == ["a", "b"]}
    assert len(plain) == 1 and "ys" in lists and "zs" in lists
    assert {name for name, value in lists.items() if id(value) in sealed} == plain, lists
    _check(spliced, (1.0, 2.0, 3.0))


def test_what_is_not_known_stays_unknown():
    def unknowable(x, n):
        a = np.zeros(())                # 0-d: left alone
        b = np.zeros(x)                 # sizes from an array's values
        c = np.zeros((2, 3), like=x)    # another array type may answer
        d = np.transpose(x, (0, 0))     # not a permutation (NumPy refuses)
        e = np.zeros(-1 + n + 1)        # an int of an expression: 1-D, of a length not known
        return a, b, c, d, e
    known = dims(unknowable, np.ones(2, dtype=int), 3)
    for name in "abcd":
        assert name not in known, (name, known)
    assert known["e"] == "?"
    assert UNKNOWN.dims == ("unknown",)


# -- gradients -------------------------------------------------------------------------------

def kalman(q, zs):
    x = np.zeros(2)
    P = np.eye(2)
    F = np.array([[1.0, 0.1], [0.0, 1.0]])
    total = 0.0
    for k in range(zs.shape[0]):
        x = F @ x
        P = F @ P @ F.T + q * np.eye(2)
        r = zs[k] - x[0]
        s = P[0, 0] + 0.5
        gain = P[:, 0] / s
        x = x + gain * r
        P = P - np.outer(gain, P[0, :])
        total = total + r * r / s + np.log(s)
    return total


def vector_of_parameters(a, b, w):
    p = np.array([a, 2.0 * b, a * b])
    h = np.zeros((w.shape[0], 3))
    for k in range(3):
        h = np.tanh(h * p + w[:, None])
    return np.sum(h ** 2) + np.sum(np.outer(p, w.T) ** 2)


def thin(u, v):
    # length-1 literal axes beside arguments' axes: broadcasting must be summed back
    e = np.ones((1, u.shape[0]))
    o = np.outer(v, 1.0)
    z = np.zeros((u.shape[0], 1))
    return np.sum((e * u + z) ** 2 * o.T[0, 0] + np.transpose(u[:, None] * e, (1, 0)) ** 2)


CASES = [
    (kalman, (0.05, np.linspace(-1.0, 1.0, 12)), 0),
    (vector_of_parameters, (0.3, -0.7, np.array([0.2, -0.1, 0.4, 0.3])), 0),
    (vector_of_parameters, (0.3, -0.7, np.array([0.2, -0.1, 0.4, 0.3])), 1),
    (vector_of_parameters, (0.3, -0.7, np.array([0.2, -0.1, 0.4, 0.3])), 2),
    (vector_of_parameters, (0.3, -0.7, np.array([0.5])), 2),
    (thin, (np.array([0.3, -0.2, 0.5]), np.array([0.7])), 0),
    (thin, (np.array([0.3]), np.array([0.7])), 0),
    (thin, (np.array([0.3, -0.2, 0.5]), np.array([0.7])), 1),
]


@pytest.mark.parametrize("f, args, wrt", CASES)
def test_gradients_of_programs_that_build_their_arrays(f, args, wrt):
    got = pullback.grad(f, wrt=wrt)(*args)
    expected = central_difference(f, args, wrt)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_a_kalman_filter_of_two_states_has_none_of_the_general_helpers():
    source = checked_source(kalman, (0.05, np.linspace(-1.0, 1.0, 12)), 0)
    for helper in ("unbroadcast(", "zeros_adjoint(", "scalar_seed(", "matmul_grad"):
        assert helper not in source, (helper, source)
    assert shapes(kalman, 0.05, np.ones(3))["P"] == "2-D float64 (n, n)"


# -- found by review ---------------------------------------------------------------------------

def resized(w, x):
    v = np.ones((1, 3))
    np.ndarray.resize(v, (2, 3), refcheck=False)    # a call changes v's shape in place
    z = v * w
    return np.sum(np.sin(z * x))


def negative_axes(x, w):
    t = np.transpose(x, (-1, 0))
    return np.sum(t * w) + np.sum(np.transpose(x[None], (0, -1, -2)) ** 2)


def observed(x):
    repr(x)
    return np.sum(x * 2.0)


def test_an_array_a_call_may_change_in_place_is_not_known():
    # before, v was claimed (1, n) and the gradient for w came out (2, 3): an InternalError
    w, x = np.array([[0.5, -1.0, 2.0]]), np.linspace(0.1, 0.6, 6).reshape(2, 3)
    assert "v" not in dims(resized, w, x)
    np.testing.assert_allclose(pullback.grad(resized)(w, x), central_difference(resized, (w, x), 0),
                               rtol=1e-6, atol=1e-9)
    assert "x" in dims(observed, x)                     # repr(x), print(x): they only look


def test_a_transpose_by_negative_axes():
    # np.argsort of (-1, 0) is (0, 1): the gradient came out w, not w.T, silently
    x, w = np.arange(4.0).reshape(2, 2) + 1.0, np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(pullback.grad(negative_axes)(x, w),
                               central_difference(negative_axes, (x, w), 0), rtol=1e-6, atol=1e-9)
