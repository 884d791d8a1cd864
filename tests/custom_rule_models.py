"""User code for tests/test_custom_rules.py: functions without Python source
(stand-ins for C extensions) and the rules a user registers for them."""
import math

import numpy as np

import pullback
from pullback import d
from pullback.rules import rank

# A "C function": np.vectorize objects have no Python source pullback can read.
erf = np.vectorize(math.erf, otypes=[float])
clipped_log = np.vectorize(lambda v: math.log(max(v, 1e-12)), otypes=[float])
index_of = np.vectorize(lambda v: float(int(abs(v) * 4)), otypes=[float])


@pullback.register_adjoint(erf)
def erf_rule(y, x):
    d[x] = d[y] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@pullback.register_adjoint(clipped_log)
def clipped_log_rule(y, x):
    d[x] = d[y] / x


pullback.nondifferentiable(index_of)


def erf_loss(x):
    return np.sum(erf(2.0 * x) ** 2)


def uses_both(x, w):
    return np.sum(clipped_log(x * x + 1.0) * w + erf(w))


def weights_from_index(x):
    return np.sum(x * index_of(x))


def with_stop_gradient(x):
    scale = pullback.stop_gradient(np.sum(x * x))
    return np.sum(np.sin(x)) * scale


slow_erf = np.frompyfunc(math.erf, 1, 1)     # no rule registered for this one


def unknown_c_function(x):
    return np.sum(slow_erf(x))


# A "C function" summing the last axis; its rule has one branch per known rank.
last_axis_sum = np.vectorize(lambda v: float(np.sum(v)), signature="(n)->()", otypes=[float])


@pullback.register_adjoint(last_axis_sum)
def last_axis_sum_rule(y, a):
    if rank(a) == 1:
        d[a] = np.full(np.shape(a), d[y])           # a vector: its sum's adjoint everywhere
    else:
        d[a] = np.broadcast_to(np.expand_dims(d[y], -1), np.shape(a)).copy()


def summed_rows(a):
    return np.sum(np.sin(last_axis_sum(a * a)))
