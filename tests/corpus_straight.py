"""User-style straight-line functions for the end-to-end corpus (tests/test_corpus.py).

Each entry of CASES: (function, argument factory, wrt). Written the way users
write code: temporaries, reassignment, augmented assignment, constants,
keyword arguments, math and NumPy mixed.
"""
import math

import numpy as np

W_GLOBAL = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def mse(w, x, y):
    pred = x @ w
    return np.mean((pred - y) ** 2)


def logistic_loss(w, b, x, y):
    z = x @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def softplus_sum(x):
    return np.sum(np.log1p(np.exp(x)))


def poly(x):
    y = 3.0 * x ** 3 - 2.0 * x ** 2 + x - 7.0
    return y


def reassigned(x):
    x = x * 2.0
    x = np.sin(x)
    x += x * x
    x -= 0.5
    x *= 3.0
    x /= 2.0
    return np.sum(x)


def scalar_physics(m, v, h):
    g = 9.81
    kinetic = 0.5 * m * v ** 2
    potential = m * g * h
    return math.sqrt(kinetic + potential)


def trig_mix(a, b):
    return math.sin(a) * math.cos(b) + math.tan(a * b) / (1.0 + math.exp(-a))


def uses_global(x):
    h = np.tanh(W_GLOBAL @ x)
    return np.sum(h * h)


def broadcast_bias(x, b):
    return np.sum(np.maximum(x + b, 0.0) ** 2)


def keepdims_normalize(x):
    mu = np.mean(x, axis=1, keepdims=True)
    centred = x - mu
    return np.sum(centred ** 2 * np.arange(1.0, 5.0))


def axis_reduction(x):
    s = np.sum(x, axis=0)
    return np.dot(s, s)


def where_clip(x):
    return np.sum(np.where(x > 0.2, x ** 2, -x))


def outer_product(a, b):
    return np.sum(np.outer(a, b) * np.arange(12.0).reshape(3, 4))


def matmul_chain(a, b, c):
    return np.sum(np.tanh(a @ b) @ c)


def power_of_variables(x, y):
    return np.sum(x ** y)


def division_broadcast(x, y):
    return np.sum(x / y)


def same_variable_many_times(x):
    y = x * x * x + x / (x + 3.0) - x
    return np.sum(y * x)


def unused_argument(x, y):
    return np.sum(x * 2.0)


def abs_and_sqrt(x):
    return np.sum(np.sqrt(np.abs(x) + 1.0))


def hyperbolic(x):
    return np.sum(np.sinh(x) * np.cosh(x) - np.arctan(x))


def vector_dot(x, y):
    return np.dot(x, y) + np.dot(x, x)


def matrix_vector(a, x):
    return np.sum(np.dot(a, x) ** 2)


def scalar_and_array(s, x):
    return np.sum(s * x + s ** 2) / s


def minimum_maximum(x, y):
    return np.sum(np.minimum(x, y) + np.maximum(x, 2.0 * y))


def float_builtins(x):
    return abs(x - 3.0) + pow(x, 3.0) + float(x)


def comparisons_are_constants(x):
    mask = x > 0.0
    return np.sum(x * mask)


def log_base(x):
    return math.log(x, 2.0) + math.log10(x) + math.log2(x)


def hypot_atan2(x, y):
    return math.hypot(x, y) + math.atan2(y, x)


def keyword_only(x, *, scale=2.0):
    return np.sum(scale * x ** 2)


def default_argument(x, shift=1.5):
    return np.sum(np.exp(-(x - shift) ** 2))


def make_closure(scale, activation):
    def closure(x):
        return np.sum(activation(x) * scale)
    return closure


closure_tanh = make_closure(2.0, np.tanh)
closure_sin = make_closure(3.0, np.sin)     # same code, another callee: another derivative


def rng():
    return np.random.default_rng(1234)


def arr(*shape, low=-1.0, high=1.0):
    return lambda r: r.uniform(low, high, size=shape)


def scal(low=-1.0, high=1.0):
    return lambda r: float(r.uniform(low, high))


CASES = [
    (mse, [arr(3), arr(5, 3), arr(5)], (0, 1, 2)),
    (logistic_loss, [arr(3), scal(), arr(6, 3), lambda r: (r.uniform(size=6) > 0.5) * 1.0], (0, 1, 2)),
    (softplus_sum, [arr(4, 2)], (0,)),
    (poly, [scal()], (0,)),
    (reassigned, [arr(5)], (0,)),
    (scalar_physics, [scal(1, 2), scal(1, 2), scal(1, 2)], (0, 1, 2)),
    (trig_mix, [scal(0.1, 0.9), scal(0.1, 0.9)], (0, 1)),
    (uses_global, [arr(4)], (0,)),
    (broadcast_bias, [arr(4, 3), arr(3)], (0, 1)),
    (keepdims_normalize, [arr(3, 4)], (0,)),
    (axis_reduction, [arr(3, 4)], (0,)),
    (where_clip, [arr(10)], (0,)),
    (outer_product, [arr(3), arr(4)], (0, 1)),
    (matmul_chain, [arr(2, 3), arr(3, 4), arr(4, 2)], (0, 1, 2)),
    (power_of_variables, [arr(4, low=0.5, high=2.0), arr(4)], (0, 1)),
    (division_broadcast, [arr(3, 1), arr(4, low=1.0, high=2.0)], (0, 1)),
    (same_variable_many_times, [arr(5, low=0.0, high=1.0)], (0,)),
    (unused_argument, [arr(3), arr(2)], (0, 1)),
    (abs_and_sqrt, [arr(6)], (0,)),
    (hyperbolic, [arr(5)], (0,)),
    (vector_dot, [arr(4), arr(4)], (0, 1)),
    (matrix_vector, [arr(3, 4), arr(4)], (0, 1)),
    (scalar_and_array, [scal(1, 2), arr(3)], (0, 1)),
    (minimum_maximum, [arr(6), arr(6)], (0, 1)),
    (float_builtins, [scal(0.5, 2.0)], (0,)),
    (comparisons_are_constants, [arr(7)], (0,)),
    (log_base, [scal(0.5, 3.0)], (0,)),
    (hypot_atan2, [scal(0.5, 1.0), scal(0.5, 1.0)], (0, 1)),
    (keyword_only, [arr(3)], (0,)),
    (default_argument, [arr(3)], (0,)),
    (closure_tanh, [arr(4)], (0,)),
    (closure_sin, [arr(4)], (0,)),
]
