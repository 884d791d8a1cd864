"""Derivatives on Dask arrays (issue 18, docs/scaling.md).

The same generated derivative runs on ``dask.array`` inputs: the gradient is a
lazy Dask array, nothing is computed until the test asks (a scheduler that
raises stands guard during every derivative call), and the computed values
equal finite differences of the NumPy function (or a formula derived by hand),
never another pullback gradient. One test computes on a ``dask.distributed``
LocalCluster of 2 worker processes, which it starts and closes. What cannot
run on Dask arrays is refused by name: writes into part of an array, an
integer-array index's gradient (``np.add.at``), a boolean selection's
gradient, what Dask raises for inside a runtime helper, a function Dask
runs with another meaning (np.linalg.cholesky), compile="numba", and the
dense jacobian and hessian.
"""
import warnings

import numpy as np
import pytest

import pullback
from pullback.errors import CompileError, CompileWarning, InvalidArgument, UnsupportedSyntax
from pullback.runtime.arrays import UnsupportedArrayType
from pullback.runtime.shape import undelete
from reference import central_difference

da = pytest.importorskip("dask.array", reason="Dask is not installed (pip install pullback[dask])")
dask = pytest.importorskip("dask")


class HiddenCompute(AssertionError):
    """The derivative computed a Dask graph nobody asked for."""


def _refuse_compute(*args, **kwargs):
    raise HiddenCompute("a Dask graph was computed inside the derivative")


def lazily(call, *args, **kwargs):
    """``call(*args, **kwargs)`` with every Dask computation refused."""
    with dask.config.set(scheduler=_refuse_compute), warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)     # Dask falling back to NumPy
        return call(*args, **kwargs)


def chunked(array, pieces=2):
    return da.from_array(array, chunks=tuple(max(1, n // pieces) for n in array.shape))


def computed(value):
    return np.asarray(dask.compute(value)[0])


# --- the functions differentiated: NumPy code, not written for Dask --------------------

def least_squares(w, X, y):
    r = X @ w - y
    return np.mean(r * r)


def logistic(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def relaxation(u, k):
    for t in range(6):
        u = u + 0.1 * (k * np.tanh(u) - u * u)
    return np.sum(u ** 2)


def softmax_entropy(logits, labels):
    z = logits - np.max(logits, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(labels * logp) / logits.shape[0]


def two_layers(W1, b1, W2, X, Y):
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ W2 - Y) ** 2)


def writes_a_part(x):
    y = x * 2.0
    y[0] = 1.0
    return np.sum(y)


def gathers(x, index):
    return np.sum(x[index] ** 2)


def total(a):
    return np.sum(a) + 2.0 * np.mean(a)


def halves(a, c):
    return np.sum(np.split(a, 2) * c)


RNG = np.random.default_rng(18)
X = RNG.standard_normal((40, 4))
LABELS = np.eye(5)[RNG.integers(0, 5, 12)]
CASES = {
    "least_squares": (least_squares, (RNG.standard_normal(4), X, RNG.standard_normal(40)), (0, 1)),
    "logistic": (logistic, (RNG.standard_normal(4), 0.1, X, (RNG.random(40) > 0.5) * 1.0), (0, 1)),
    "relaxation": (relaxation, (0.5 * RNG.standard_normal(30), 0.7), (0, 1)),
    "softmax_entropy": (softmax_entropy, (RNG.standard_normal((12, 5)), LABELS), 0),
    "two_layers": (two_layers, (RNG.standard_normal((4, 8)), RNG.standard_normal(8),
                                RNG.standard_normal((8, 2)), X, RNG.standard_normal((40, 2))),
                   (0, 1, 2)),
}


def _dask_args(args):
    return [chunked(a) if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_is_lazy_and_equals_finite_differences(name):
    f, args, wrt = CASES[name]
    gradients = lazily(pullback.grad(f, wrt=wrt), *_dask_args(args))
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), gradients):
        assert isinstance(g, da.Array), f"the gradient for argument {i} is a {type(g).__name__}"
        np.testing.assert_allclose(computed(g), central_difference(f, args, i), rtol=1e-6, atol=1e-8)


def test_value_and_grad_and_vjp_stay_lazy():
    f, args, wrt = CASES["relaxation"]
    value, (du, dk) = lazily(pullback.value_and_grad(f, wrt=wrt), *_dask_args(args))
    assert isinstance(value, da.Array) and isinstance(du, da.Array) and isinstance(dk, da.Array)
    assert np.isclose(computed(value), f(*args))
    np.testing.assert_allclose(computed(du), central_difference(f, args, 0), rtol=1e-6, atol=1e-8)
    value, back = lazily(pullback.vjp, f, *_dask_args(args), wrt=0)
    (du,) = lazily(back, 1.0)
    np.testing.assert_allclose(computed(du), central_difference(f, args, 0), rtol=1e-6, atol=1e-8)


def test_the_stacks_of_a_loop_hold_lazy_arrays():
    """The reverse sweep pops what the forward sweep pushed: lazy arrays, never
    computed (the guard would raise), in the generated code's own stack."""
    f, args, wrt = CASES["relaxation"]
    dloss = pullback.grad(f, wrt=0)
    lazily(dloss, *_dask_args(args))
    source = pullback.source(dloss)
    assert "stack.append(" in source and "dask.array.Array" in source
    assert "+=" not in source           # Dask arrays are written out of place


def test_jvp_and_hvp_stay_lazy():
    f, args, _ = CASES["relaxation"]
    u, k = args
    direction = RNG.standard_normal(u.shape)
    value, slope = lazily(pullback.jvp, f, (chunked(u), k), (chunked(direction), None))
    assert isinstance(slope, da.Array)
    expected = (f(u + 1e-6 * direction, k) - f(u - 1e-6 * direction, k)) / 2e-6
    assert np.isclose(computed(slope), expected, rtol=1e-6)
    hv = lazily(pullback.hvp, f, (chunked(u), k), (chunked(direction), None))
    assert isinstance(hv, da.Array)
    gradient = lambda x: central_difference(f, (x, k), 0, eps=1e-5)    # noqa: E731
    expected = (gradient(u + 1e-4 * direction) - gradient(u - 1e-4 * direction)) / 2e-4
    np.testing.assert_allclose(computed(hv), expected, rtol=1e-4, atol=1e-5)


def test_numpy_and_dask_arguments_mix():
    """A NumPy weight vector with Dask data: every gradient is lazy (the data are)."""
    w, X_, y = CASES["least_squares"][1]
    dw, dX = lazily(pullback.grad(least_squares, wrt=(0, 1)), w, chunked(X_), chunked(y))
    assert isinstance(dw, da.Array) and isinstance(dX, da.Array)
    r = X_ @ w - y
    np.testing.assert_allclose(computed(dw), 2.0 * X_.T @ r / len(y), rtol=1e-12)   # by hand
    np.testing.assert_allclose(computed(dX), 2.0 * np.outer(r, w) / len(y), rtol=1e-12)


def test_writes_into_part_of_a_dask_array_are_refused_by_name():
    with pytest.raises(UnsupportedSyntax) as raised:
        pullback.grad(writes_a_part)(chunked(np.ones(4)))
    message = str(raised.value)
    assert "dask.array.Array" in message and "subscript assignment" in message
    assert "test_dask.py" in message and "y[0] = 1.0" in message
    assert pullback.grad(writes_a_part)(np.ones(4))[0] == 0.0     # NumPy: differentiated


def test_an_integer_array_index_adds_up_with_bincount_and_is_refused_beyond_1d():
    """Repeated entries of ``x[index]`` add up (NumPy's np.add.at, which Dask lacks):
    for a 1-D x through np.bincount, lazily; for more dimensions, refused by name."""
    x = np.arange(5.0)
    g = lazily(pullback.grad(gathers), chunked(x), np.array([0, 0, 3, 4, 4]))
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(computed(g), [0.0, 0.0, 0.0, 6.0, 16.0])    # 2 x per use, by hand
    with pytest.raises(UnsupportedArrayType) as raised:
        lazily(pullback.grad(gathers), chunked(np.ones((3, 2))), np.array([0, 0, 2]))
    message = "\n".join([str(raised.value)] + getattr(raised.value, "__notes__", []))
    assert "dask.array.Array" in message and "np.add.at" in message
    assert "test_dask.py" in message and "x[index]" in message    # the user's line, from the entry point


def test_the_gradient_of_a_sum_is_a_dask_array_of_the_arguments_chunks():
    a = np.arange(24.0).reshape(4, 6)
    g = lazily(pullback.grad(total), chunked(a))
    assert isinstance(g, da.Array) and g.chunks == chunked(a).chunks
    np.testing.assert_allclose(computed(g), np.full(a.shape, 1.0 + 2.0 / a.size))   # by hand


def test_numpy_functions_dask_lacks_are_refused_not_computed():
    """Dask computes its arrays into NumPy (with a FutureWarning) for a NumPy
    function it does not implement; the derivative raises instead, naming it."""
    with pytest.raises(UnsupportedArrayType) as raised:
        pullback.grad(halves)(chunked(np.arange(6.0)), chunked(np.ones((2, 3))))
    message = "\n".join([str(raised.value)] + getattr(raised.value, "__notes__", []))
    assert "np.split" in message and "dask.array.Array" in message and "test_dask.py" in message
    g = pullback.grad(halves)(np.arange(6.0), np.ones((2, 3)))      # NumPy: differentiated
    np.testing.assert_allclose(g, np.ones(6))


def outer_square(x):
    return np.sum(x[:, None] * x[None, :] * x[:, None])


def positives(x):
    return np.sum(x[x > 0.0] ** 2)


def extracted(x):
    return np.sum(np.extract(x > 0.0, x) ** 2)


def test_a_new_axis_in_an_index_gets_its_gradient_lazily():
    """x[:, None]: the new axis is taken out of the gradient's index (Dask assigns
    through none); the gradient, by hand: 2 x_i (sum x) + (sum x^2)."""
    x = np.array([0.5, -1.0, 2.0, 0.25])
    g = lazily(pullback.grad(outer_square), chunked(x))
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(computed(g), 2.0 * x * x.sum() + np.sum(x * x), rtol=1e-12)


@pytest.mark.parametrize("f, construct", [(positives, "x[mask] with a boolean mask"),
                                          (extracted, "np.extract")])
def test_a_boolean_selections_gradient_is_refused_by_name(f, construct):
    """Dask knows how many entries x[x > 0] selects only once computed, so its
    gradient cannot be placed back lazily: refused, naming the construct and line."""
    x = np.array([1.0, -2.0, 3.0, -0.5])
    with pytest.raises(UnsupportedArrayType) as raised:
        lazily(pullback.grad(f), chunked(x))
    message = "\n".join([str(raised.value)] + getattr(raised.value, "__notes__", []))
    assert construct in message and "dask.array.Array" in message and "np.where" in message
    assert "test_dask.py" in message and "x > 0.0" in message       # the user's line
    np.testing.assert_allclose(pullback.grad(f)(x), np.where(x > 0, 2.0 * x, 0.0))   # NumPy


def undeleted(g, x):
    return np.sum(undelete(g, x, [1, 3], None) ** 2)    # np.delete's gradient, called by hand


def test_what_dask_raises_in_a_helper_is_refused_naming_it_and_the_line():
    """Where Dask lacks what a runtime helper asks of it (here np.delete without
    an axis), the error is UnsupportedArrayType naming the helper, the NumPy
    function, Dask's own message and the user's line, not Dask's bare error."""
    with pytest.raises(UnsupportedArrayType) as raised:
        lazily(pullback.grad(undeleted), chunked(np.ones(4)), chunked(np.ones(6)))
    message = "\n".join([str(raised.value)] + getattr(raised.value, "__notes__", []))
    assert "dask.array.Array" in message and "np.delete" in message
    assert "Axis value must be an integer" in message      # Dask's words, kept
    assert "test_dask.py" in message and "undelete(g, x, [1, 3], None)" in message
    assert isinstance(raised.value.__cause__, TypeError)


def mismatched(x, y):
    return np.sum(x + y)


def test_a_mistake_in_the_users_own_code_keeps_dasks_error():
    """Shapes that do not broadcast are the user's mistake, not something Dask
    lacks: Dask's ValueError comes through as it is, with the user's line."""
    with pytest.raises(ValueError) as raised:
        lazily(pullback.grad(mismatched), chunked(np.ones(4)), chunked(np.ones(3)))
    assert not isinstance(raised.value, UnsupportedArrayType)
    assert any("x + y" in note for note in getattr(raised.value, "__notes__", []))


def test_cholesky_on_dask_is_refused_because_it_means_another_factor():
    """Dask's np.linalg.cholesky returns the upper factor where NumPy's returns the
    lower: the same code computes another value, so its derivative is refused."""
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    with pytest.raises(UnsupportedArrayType, match="upper triangular factor"):
        lazily(pullback.grad(cholesky_sum), da.from_array(a, chunks=-1))
    assert np.isfinite(pullback.grad(cholesky_sum)(a)).all()         # NumPy: differentiated


def cholesky_sum(a):
    return np.sum(np.linalg.cholesky(a) ** 2)


def test_compile_refuses_dask_arrays():
    f, args, wrt = CASES["least_squares"]
    with pytest.raises(CompileError, match="dask.array.Array"):
        pullback.grad(f, wrt=wrt, compile="numba")(*_dask_args(args))
    with pytest.warns(CompileWarning, match="dask.array.Array"):
        gradients = lazily(pullback.grad(f, wrt=wrt, compile="auto"), *_dask_args(args))
    np.testing.assert_allclose(computed(gradients[0]), central_difference(f, args, 0), rtol=1e-6)


def test_dense_jacobian_and_hessian_refuse_dask_arrays():
    f, (u, k), _ = CASES["relaxation"]
    with pytest.raises(InvalidArgument, match="dask.array.Array"):
        pullback.hessian(f)(chunked(u), k)
    with pytest.raises(InvalidArgument, match="dask.array.Array"):
        pullback.jacobian(softmax_entropy)(chunked(LABELS), LABELS)


class Lookalike:
    """Has NumPy's dispatch protocols but is no library pullback knows."""
    __array_ufunc__ = None
    shape, dtype = (3,), np.dtype(np.float64)

    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented


def flattened(M, weights):
    return np.sum(np.sin(M.reshape(-1)) * weights) + np.sum(M.ravel() ** 2)


def test_reshape_and_ravel_stay_lazy():
    M, weights = np.linspace(-1.0, 1.0, 6).reshape(2, 3), np.arange(6.0)
    g = lazily(pullback.grad(flattened), chunked(M), weights)
    assert isinstance(g, da.Array)
    by_hand = np.cos(M) * weights.reshape(2, 3) + 2.0 * M
    np.testing.assert_allclose(computed(g), by_hand, rtol=1e-12)


def dict_loss(params, X):
    return np.sum((X @ params["w"] + params["b"]) ** 2)


def test_dask_arrays_inside_containers_are_refused_by_their_path():
    """The derivative for Dask arrays is chosen by the top-level arguments; a
    Dask array in a dict (differentiated or only read) or in *args is refused."""
    w, b = np.ones(4), 0.5
    with pytest.raises(InvalidArgument, match=r"params\['w'\].*dask.array.Array"):
        pullback.grad(dict_loss)({"w": chunked(w), "b": b}, X)
    with pytest.raises(InvalidArgument, match=r"X\[0\].*dask.array.Array"):
        pullback.grad(least_squares, wrt=0)(w, [chunked(X)], np.ones(40))
    g = pullback.grad(dict_loss)({"w": w, "b": b}, chunked(X))     # as an argument: lazy
    r = X @ w + b
    np.testing.assert_allclose(computed(g["w"]), 2.0 * X.T @ r)     # by hand
    assert np.isclose(computed(g["b"]), 2.0 * np.sum(r))


def test_arrays_of_unknown_libraries_are_refused():
    with pytest.raises(InvalidArgument, match="Lookalike"):
        pullback.grad(least_squares)(Lookalike(), X, np.ones(40))
    with pytest.raises(InvalidArgument, match="Lookalike"):
        pullback.grad(least_squares)(np.ones(4), Lookalike(), np.ones(40))


def test_on_a_local_cluster_of_two_workers():
    distributed = pytest.importorskip("dask.distributed")
    f, args, wrt = CASES["two_layers"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        data = [chunked(a, 4) if isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[0] == 40
                else a for a in args]
        gradients = pullback.grad(f, wrt=wrt)(*data)
        assert all(isinstance(g, da.Array) for g in gradients)
        values = client.compute(list(gradients), sync=True)      # on the workers
    for i, value in zip(wrt, values):
        np.testing.assert_allclose(value, central_difference(f, args, i), rtol=1e-6, atol=1e-8)


def test_the_scaling_example_on_a_small_array(capsys):
    """examples/scaling_dask.py (docs/scaling.md's measurement) on 20,000 rows: it
    checks both of its gradients against the one derived by hand itself; here the
    result is checked against central differences of the loss on the same data."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "scaling_dask.py"
    spec = importlib.util.spec_from_file_location("scaling_dask_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    gradient = example.main(rows=20_000, chunk_rows=5_000, memory_limit="1GiB")
    out = capsys.readouterr().out
    assert "dask.array.core.Array" in out and "streamed: computed in" in out
    assert "persisted: computed in" in out and "peak memory per worker" in out
    rng = da.random.default_rng(0)          # the example's data, made again
    X = rng.standard_normal((20_000, example.FEATURES), chunks=(5_000, example.FEATURES))
    y = X @ np.linspace(-1.0, 1.0, example.FEATURES) + 0.1 * rng.standard_normal(20_000, chunks=5_000)
    X, y = dask.compute(X, y)
    reference = central_difference(example.loss, (np.zeros(example.FEATURES), X, y), 0)
    np.testing.assert_allclose(gradient, reference, rtol=1e-6, atol=1e-9)


def test_the_fuzzers_programs_on_dask_arrays(tmp_path, monkeypatch):
    """tests/fuzz_dask.py on 60 random programs: every program that pullback
    differentiates correctly on NumPy arrays is, on Dask arrays, right (against
    central differences), refused by name, or computes in its own statements
    (a branch on a value); never wrong, never computed or made NumPy by pullback."""
    import fuzz_dask
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(tmp_path / "cache"))
    counts, problems = fuzz_dask.run(60, seed=18, folder=str(tmp_path))
    assert not problems, "\n\n".join(f"# {status}: {reason}\n{source}"
                                     for status, reason, source in problems)
    assert counts["ok"] >= 15, counts
