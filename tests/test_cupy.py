"""Derivatives on CuPy arrays, on a GPU (issue 18, docs/scaling.md).

The generated derivative is the one Dask arrays get (tests/test_dask.py): no
writes in place, runtime helpers that keep each array's type. Here the
gradients must come back as ``cupy.ndarray`` (never copied to the host by
pullback) and equal central differences of the NumPy function. CuPy arrays
have views as NumPy's do, so writes into part of an array are differentiated.
Skipped, with the reason, where CuPy or a CUDA device is missing.
"""
import numpy as np
import pytest

import pullback
from pullback.runtime.arrays import UnsupportedArrayType
from reference import central_difference

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install pullback[cupy])")
try:
    DEVICES = cupy.cuda.runtime.getDeviceCount()
except Exception as error:          # CuPy without a driver raises its own CUDA errors
    DEVICES, WHY = 0, f"no CUDA device: {error}"
else:
    WHY = "no CUDA device"
pytestmark = pytest.mark.skipif(DEVICES == 0, reason=WHY)


def least_squares(w, X, y):
    r = X @ w - y
    return np.mean(r * r)


def relaxation(u, k):
    for t in range(6):
        u = u + 0.1 * (k * np.tanh(u) - u * u)
    return np.sum(u ** 2)


def smoothed(x):
    y = x * 2.0
    y[1:] = y[1:] + 0.5 * y[:-1]
    return np.sum(np.sin(y))


def gathers(x, index):
    return np.sum(x[index] ** 2)


RNG = np.random.default_rng(18)
CASES = [
    (least_squares, (RNG.standard_normal(4), RNG.standard_normal((40, 4)), RNG.standard_normal(40)),
     (0, 1)),
    (relaxation, (0.5 * RNG.standard_normal(30), 0.7), (0, 1)),
    (smoothed, (RNG.standard_normal(7),), (0,)),
]


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_stay_on_the_device_and_equal_finite_differences(f, args, wrt):
    on_device = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    gradients = pullback.grad(f, wrt=wrt)(*on_device)
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
    for i, g in zip(wrt, gradients):
        if isinstance(args[i], np.ndarray):
            assert isinstance(g, cupy.ndarray), f"argument {i}'s gradient is a {type(g).__name__}"
        np.testing.assert_allclose(cupy.asnumpy(cupy.asarray(g)), central_difference(f, args, i),
                                   rtol=1e-6, atol=1e-8)


def test_a_repeated_integer_index_adds_up_or_is_refused_by_name():
    x, index = np.arange(5.0), np.array([0, 0, 3])
    try:
        g = pullback.grad(gathers)(cupy.asarray(x), cupy.asarray(index))
    except UnsupportedArrayType as error:
        assert "cupy.ndarray" in str(error)
    else:
        np.testing.assert_allclose(cupy.asnumpy(g), [0.0, 0.0, 0.0, 6.0, 0.0])  # 2x[0] twice: 0
