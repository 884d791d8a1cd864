"""User-style programs for the end-to-end corpus (tests/test_corpus_programs.py).

Where tests/corpus_straight.py holds straight-line functions, these are
written the way programs are: calls into other user functions (same module,
another module, closures, lambdas, functions passed around, recursion),
non-differentiated arguments of every kind, containers, indexing, element
assignment into arrays the function made, array methods and attributes.

CASES: every entry is a Case(function, factories, wrt, kwargs): the
positional arguments are ``[make(rng) for make in factories]``, the keyword
arguments ``kwargs`` are passed at the call of the function and of its
derivative, ``wrt`` the indices differentiated. Every function returns a
scalar.

VJP_CASES: the same, for functions returning arrays (checked with
``pullback.vjp`` and a random cotangent).
"""
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import corpus_helpers as helpers
from corpus_helpers import outer, scaled_tanh, softplus, stats, weighted_norm_sq


# ==========================================================================
# Helpers in this module
# ==========================================================================

def sq_sum(v):
    return np.sum(v * v)


def affine(x, scale=2.0, shift=0.5):
    return scale * x + shift


def penalty(x, *, weight=1.0, power=2):
    return weight * np.sum(np.abs(x) ** power)


def mean_and_var(x):
    mu = np.mean(x)
    var = np.mean((x - mu) ** 2)
    return mu, var


def split_three(x):
    return x[0], (x[1] * 2.0, x[2] - 1.0)


def level3(x):
    return np.exp(-x * x)


def level2(x):
    return level3(x) + np.sin(x)


def level1(x):
    return np.sum(level2(x) * x)


def step(state, x, rate=0.5):
    return state + rate * np.tanh(x - state)


def polar(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


def identity(v):
    return v


def apply(f, x):
    return f(x)


def compose(f, g, x):
    return f(g(x))


# A factory and the functions it makes.
def make_scaler(factor, bias):
    def scaler(x):
        return factor * x + bias
    return scaler


def make_poly(a, b, c):
    def poly(x):
        return np.sum(a * x ** 2 + b * x + c)
    return poly


def make_weighted_loss(weights):
    def weighted_loss(x):
        return np.sum(weights * sq_helper_for_closure(x))
    return weighted_loss


def sq_helper_for_closure(v):
    return v * v


scaler = make_scaler(1.5, -0.25)
poly_made = make_poly(0.5, -1.0, 2.0)
weighted_loss_made = make_weighted_loss(np.array([1.0, 2.0, 3.0, 4.0]))

# Lambdas bound to module-level names.
square = lambda x: x * x  # noqa: E731
cube_plus = lambda x, c=1.0: x ** 3 + c  # noqa: E731
smooth_abs = lambda x: np.sqrt(x * x + 0.01)  # noqa: E731


# Recursion.
def rpow(x, n):
    if n == 0:
        return 1.0
    return x * rpow(x, n - 1)


def fast_pow(x, n):
    if n == 0:
        return 1.0
    half = fast_pow(x, n // 2)
    if n % 2 == 0:
        return half * half
    return half * half * x


def halve_until_small(x):
    """Recursion whose depth depends on the value of x."""
    if x < 1.0:
        return x * x
    return 2.0 * halve_until_small(x / 2.0)


def bisect_mass(x, lo, hi):
    """Sum of x over [lo, hi) by recursive bisection of the index range."""
    if hi - lo == 1:
        return x[lo] * x[lo]
    mid = (lo + hi) // 2
    return bisect_mass(x, lo, mid) + bisect_mass(x, mid, hi)


def recursive_sum(x, i):
    if i == len(x):
        return 0.0
    return np.sin(x[i]) + recursive_sum(x, i + 1)


def shrink(x, tol):
    """Stops when the (data-dependent) value is small enough."""
    if np.sum(np.abs(x)) < tol:
        return np.sum(x * x)
    return 1.5 * shrink(0.5 * x, tol)


@dataclass
class Config:
    scale: float = 2.0
    offset: float = 0.1
    power: float = 3.0


class Settings(NamedTuple):
    gain: float
    bias: float


# ==========================================================================
# 1. Calls into other user functions
# ==========================================================================

def calls_local_helper(x):
    return sq_sum(np.sin(x)) + 1.0


def calls_module_attribute_helper(x):
    return np.sum(helpers.softplus(x) * x)


def calls_imported_helper(x):
    return np.sum(softplus(x) + scaled_tanh(x))


def calls_imported_and_attribute(x, y):
    return np.sum(helpers.scaled_tanh(x, 3.0) * scaled_tanh(y, scale=0.5))


def calls_chain_local(x):
    return level1(x) + 0.5


def calls_chain_other_module(x):
    return outer(x) + helpers.outer(0.5 * x)


def calls_chain_attribute(x):
    return np.sum(helpers.middle(x))


def calls_helper_defaults(x):
    a = affine(x)
    b = affine(x, 3.0)
    c = affine(x, shift=-1.0)
    d = affine(x, scale=0.5, shift=2.0)
    return np.sum(a * b + c * d)


def calls_helper_kwonly(x, w):
    return penalty(x) + penalty(x, weight=w) + penalty(x, power=3, weight=2.0)


def calls_other_module_kwonly(x, s):
    return weighted_norm_sq(x, weight=2.0) + helpers.weighted_norm_sq(x, shift=s)


def calls_tuple_helper(x):
    mu, var = mean_and_var(x)
    return mu * mu + var


def calls_tuple_helper_other_module(x):
    mu, var = stats(x)
    m2, v2 = helpers.stats(x * x)
    return mu * v2 + var * m2


def calls_nested_tuple_helper(x):
    a, (b, c) = split_three(x)
    return a * b + b * c + np.sin(c)


def calls_tuple_helper_unused_part(x):
    _, var = mean_and_var(x)
    return var


def calls_tuple_helper_kept(x):
    moments = mean_and_var(x)
    return moments[0] + 2.0 * moments[1]


def calls_scalar_tuple_helper(r, theta):
    px, py = polar(r, theta)
    qx, qy = polar(2.0 * r, theta + 0.5)
    return px * qy - py * qx


def calls_helper_several_times(x, y):
    return sq_sum(x) + sq_sum(2.0 * x) + sq_sum(y) * sq_sum(x - y)


def calls_helper_in_loop(x):
    state = np.zeros_like(x)
    for _ in range(4):
        state = step(state, x)
    return np.sum(state * state)


def calls_helper_in_loop_with_kwarg(x, rate):
    s = 0.0
    for k in range(3):
        s = s + sq_sum(step(x, 0.1 * k, rate=rate))
    return s


def calls_scalar_helper_in_loop(t):
    total = 0.0
    for k in range(5):
        total += helpers.scalar_bump(t * k / 5.0)
    return total


def calls_factory_closure(x):
    return np.sum(scaler(x) ** 2)


def calls_closure_with_helper(x):
    return weighted_loss_made(x) + 1.0


def calls_module_lambda(x):
    return np.sum(square(x) + square(np.sin(x)))


def calls_module_lambda_with_default(x):
    return np.sum(cube_plus(x) + cube_plus(x, 2.0) + smooth_abs(x))


def calls_apply_numpy_function(x):
    return np.sum(apply(np.sin, x) * apply(np.exp, x))


def calls_apply_user_helper(x):
    return apply(sq_sum, x) + np.sum(apply(identity, x))


def calls_compose(x):
    return np.sum(compose(np.tanh, np.sin, x) + compose(square, np.cos, x))


def calls_apply_twice_other_module(x):
    return np.sum(helpers.apply_twice(np.sin, x))


def takes_function_argument(f, x):
    return np.sum(f(x) * x)


def passes_tanh_to_takes_function_argument(x):
    return takes_function_argument(np.tanh, x)


def passes_helper_to_takes_function_argument(x):
    return takes_function_argument(sq_helper_for_closure, x)


def calls_recursive_power(x):
    return rpow(x, 4) + rpow(2.0 * x, 1)


def calls_fast_pow(x):
    return fast_pow(x, 5)


def calls_data_dependent_recursion(x):
    return halve_until_small(x) + x


def calls_recursive_bisection(x):
    return bisect_mass(x, 0, len(x))


def calls_recursive_index(x):
    return recursive_sum(x, 0)


def calls_shrink(x):
    return shrink(x, 0.5)


# ==========================================================================
# 2. Arguments
# ==========================================================================

def default_float(x, scale=2.0, shift=-0.5):
    return np.sum(np.tanh(scale * x + shift))


def default_and_keyword_call(x, y, scale=1.0):
    return np.sum(scale * x * y + y)


def keyword_only_required(x, *, alpha, beta=0.5):
    return np.sum(alpha * x ** 2 + beta * x)


def keyword_only_differentiated_positional(x, y, *, mode="mul"):
    if mode == "mul":
        return np.sum(x * y)
    return np.sum(x + y)


def varargs_pass_through(x, *args):
    total = np.sum(x * x)
    for a in args:
        total = total * a
    return total


def varargs_to_helper(x, *args):
    return np.sum(affine(x, *args))


def int_argument(x, n):
    return np.sum(x ** n) / n


def int_argument_loop(x, n):
    s = 0.0
    for k in range(n):
        s = s + np.sum(np.sin(x * (k + 1)))
    return s


def bool_argument(x, use_sin):
    if use_sin:
        return np.sum(np.sin(x))
    return np.sum(np.cos(x))


def str_argument(x, mode):
    if mode == "square":
        y = x * x
    elif mode == "exp":
        y = np.exp(x)
    else:
        y = x
    return np.sum(y)


def none_argument(x, weights=None):
    if weights is None:
        return np.sum(x ** 2)
    return np.sum(weights * x ** 2)


def dict_argument(x, params):
    return np.sum(params["a"] * x ** 2 + params["b"] * x) + params["c"]


def config_argument(x, cfg):
    return np.sum(cfg.scale * np.tanh(x + cfg.offset) ** cfg.power)


def namedtuple_argument(x, settings):
    return np.sum(np.exp(settings.gain * x) + settings.bias)


def many_kinds_of_arguments(x, n, flag, name, extra, cfg, *, weight=1.0):
    y = x * cfg.scale
    if flag:
        y = y + n
    if name == "log":
        y = np.log1p(y * y)
    if extra is not None:
        y = y * extra["k"]
    return weight * np.sum(y)


# ==========================================================================
# 3. Containers
# ==========================================================================

def tuple_pack_unpack(x, y):
    pair = (x * 2.0, y + 1.0)
    a, b = pair
    b, a = a, b
    return np.sum(a * b)


def nested_tuple_unpack(x):
    a, (b, c) = x[0], (x[1], x[2] * x[0])
    return a * b + c


def nested_tuple_from_variable(x, y):
    t = (np.sum(x), (np.sum(y), np.sum(x * y)))
    a, (b, c) = t
    return a * b - c


def list_append_stack(x):
    rows = []
    for k in range(3):
        rows.append(np.sin(x * (k + 1)))
    m = np.stack(rows)
    return np.sum(m * m)


def list_append_array(x):
    values = []
    for i in range(len(x)):
        values.append(x[i] * x[i])
    v = np.array(values)
    return np.sum(v * np.arange(len(x)))


def list_builtin_sum(x):
    terms = []
    for k in range(4):
        terms.append(np.sum(x ** (k + 1)) / (k + 1))
    return sum(terms)


def list_indexing(x):
    items = []
    for k in range(4):
        items.append(np.exp(0.1 * k * x))
    return np.sum(items[0] * items[-1] + items[2])


def list_for_each(x):
    parts = [x, 2.0 * x, np.sin(x)]
    total = 0.0
    for p in parts:
        total = total + np.sum(p * p)
    return total


def list_comprehension(x):
    squares = [x[i] ** 2 for i in range(len(x))]
    return sum(squares)


def list_comprehension_condition(x):
    even = [x[i] * x[i] for i in range(len(x)) if i % 2 == 0]
    return sum(even) + len(even)


def list_comprehension_nested(x, y):
    table = [[x[i] * y[j] for j in range(len(y))] for i in range(len(x))]
    return np.sum(np.array(table) ** 2)


def list_comprehension_over_list(x):
    parts = [x, x * x, np.cos(x)]
    sums = [np.sum(p) for p in parts]
    return sums[0] * sums[1] + sums[2]


def list_len(x):
    parts = []
    for i in range(len(x)):
        if i % 3 != 0:
            parts.append(x[i])
    return sum(parts) / len(parts)


def list_of_tuples(x):
    pairs = []
    for i in range(len(x) - 1):
        pairs.append((x[i], x[i + 1]))
    total = 0.0
    for a, b in pairs:
        total = total + a * b
    return total


# ==========================================================================
# 4. Indexing reads
# ==========================================================================

def index_int(x, i):
    return x[i] * x[0] + np.sum(x)


def index_negative(x):
    return x[-1] ** 2 + x[-2] * x[0]


def index_2d(x, i, j):
    return x[i, j] * x[0, 1] + x[1, 2] ** 2


def index_slice(x):
    return np.sum(x[1:-1] * x[2:]) + np.sum(x[:2])


def index_step(x):
    return np.sum(x[::2] ** 2) - np.sum(x[1::2] * 3.0)


def index_column(x):
    return np.sum(x[:, 0] * x[:, -1]) + np.sum(x[1, :])


def index_array_repeated(x):
    idx = np.array([0, 2, 2, 3, 0, 0])
    return np.sum(x[idx] ** 2)


def index_list_repeated(x):
    picked = x[[1, 1, 4]]
    return np.sum(picked * np.array([1.0, 2.0, 3.0]))


def index_boolean_mask(x):
    return np.sum(x[x > 0] ** 2)


def index_mask_from_other(x, y):
    mask = y > 0.0
    return np.sum(np.exp(x[mask]))


def index_in_loop(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i - 1]
    return s


def index_rows_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(np.sin(x[i]) * x[i, 0])
    return s


def index_chained(x):
    row = x[1]
    return row[0] * row[-1] + x[0][2]


def index_edges_repeated(u, k):
    """A grid padded with its own edges (np.concatenate, np.hstack) in a loop:
    a piece of the padding's gradient is written in place, and 1 - u is
    recomputed rather than saved."""
    for t in range(3):
        v = np.concatenate((u[:1], u, u[-1:]), axis=0)
        v = np.hstack((v[:, :1], v, v[:, -1:]))
        lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u
        u = u + k * lap + 0.1 * u * (1.0 - u)
    return np.sum(u * u)


# ==========================================================================
# 5. Subscript assignment into arrays the function created
# ==========================================================================

def setitem_loop(x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i] * x[n - 1 - i]
    return np.sum(y * np.arange(1.0, n + 1.0))


def setitem_recurrence(x):
    y = np.zeros(len(x))
    y[0] = x[0]
    for i in range(1, len(x)):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y ** 2)


def setitem_copy_slice_add(x):
    y = x.copy()
    y[2:] += x[:-2] ** 2
    return np.sum(y * y)


def setitem_np_copy(x):
    y = np.copy(x)
    y[0] = 2 * y[1]
    return np.sum(y ** 3)


def setitem_rows(x):
    m = np.zeros((3, len(x)))
    for i in range(3):
        m[i, :] = np.cos(x * (i + 1))
    return np.sum(m * m)


def setitem_overwrite_same_slot(x):
    y = np.zeros(3)
    y[1] = x[0] * 2.0
    y[1] = y[1] * x[1]
    y[1] = np.sin(y[1]) + x[2]
    y[0] = x[1]
    return np.sum(y * y)


def setitem_mask(x):
    y = x.copy()
    y[x < 0] = 0.0
    return np.sum(y ** 2)


def setitem_column(x):
    y = np.ones_like(x)
    y[:, 1] = x[:, 0] * x[:, 2]
    return np.sum(y * x)


def setitem_from_scalar_argument(x, a):
    y = np.zeros(4)
    y[0] = a
    y[1:3] = x * a
    y[3] = a * a
    return np.sum(np.exp(y))


def setitem_accumulate(x):
    acc = np.zeros(2)
    for i in range(len(x)):
        acc[i % 2] += x[i] ** 2
    return acc[0] * acc[1]


# ==========================================================================
# 6. Array methods and attributes
# ==========================================================================

def method_sum_axis(x):
    return np.sum(x.sum(axis=0) ** 2) + x.sum()


def method_mean(x):
    return x.mean() * np.sum(x.mean(axis=1))


def method_transpose(x, w):
    return np.sum(x.T @ w)


def method_reshape(x):
    y = x.reshape(2, -1)
    return np.sum(y[0] * y[1])


def method_dot(x, y):
    return x.dot(y) + x.dot(x)


def method_copy(x):
    y = x.copy()
    return np.sum(y * x)


def method_ravel(x):
    flat = x.ravel()
    return np.sum(flat * np.arange(flat.size))


def attributes_normalize(x):
    return np.sum(x ** 2) / x.size + x.ndim + x.shape[0] * np.sum(x) / len(x)


def attributes_shape_loop(x):
    rows, cols = x.shape
    s = 0.0
    for i in range(rows):
        for j in range(cols):
            s = s + x[i, j] * (i + 1) / cols
    return s


def method_chain(x):
    return x.T.reshape(-1).dot(x.ravel()) / x.size


# ==========================================================================
# Functions returning arrays (checked with pullback.vjp)
# ==========================================================================

def vjp_helpers(x):
    return level2(x) * scaler(x)


def vjp_tuple_helper(x):
    mu, var = mean_and_var(x)
    return (x - mu) / np.sqrt(var + 1.0)


def vjp_setitem(x):
    y = np.zeros(len(x))
    for i in range(1, len(x)):
        y[i] = x[i] * x[i - 1]
    return y


def vjp_indexing(x):
    return x[np.array([0, 0, 2])] * x[1:4]


def vjp_stack(x, y):
    return np.stack([x * y, np.sin(x), y * y])


def vjp_methods(x):
    return x.T.reshape(2, -1).sum(axis=0)


# ==========================================================================
# 7. More combinations
# ==========================================================================

def helper_with_loop(v, n):
    acc = v
    for _ in range(n):
        acc = np.sin(acc) + v
    return acc


def helper_with_config(x, cfg):
    return cfg.scale * np.tanh(x) + cfg.offset


PARAMS = {"a": 2.0, "b": 1.0}


def helper_with_dict(x, params):
    return params["a"] * x * x + params["b"]


def helper_with_mode(x, mode):
    if mode == "exp":
        return np.exp(x)
    return x * x


def calls_helper_state_in_loop(x):
    """The helper's result is assigned to the name it reads (s = h(s))."""
    s = x
    for _ in range(3):
        s = helper_with_loop(s, 2)
    return np.sum(s)


def calls_local_helper_with_loop(x):
    return np.sum(helper_with_loop(x, 3) ** 2)


def calls_helper_with_non_float_arguments(x):
    cfg = Config(scale=0.5)
    a = helper_with_config(x, cfg)
    b = helper_with_dict(x, PARAMS)
    c = helper_with_mode(x, "exp") + helper_with_mode(x, "square")
    return np.sum(a * b + c)


def calls_helper_in_comprehension(x):
    rows = [x * (k + 1.0) for k in range(3)]
    return sum([sq_sum(np.sin(r)) for r in rows])


def calls_helper_into_setitem(x):
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = helpers.scalar_bump(x[i])
    return np.sum(y * y)


def make_chain(f, g):
    def chained(x):
        return f(g(x))
    return chained


doubler = make_scaler(2.0, 0.0)
tanh_of_scaler = make_chain(np.tanh, scaler)


def calls_closure_of_closure(x):
    return np.sum(doubler(scaler(x)) * tanh_of_scaler(doubler(x)))


def make_summed(f, weight):
    def summed(x):
        return weight * np.sum(f(x))
    return summed


summed_chain = make_summed(tanh_of_scaler, 0.5)


def calls_apply_with_module_lambda(x):
    return np.sum(apply(square, x) + apply(smooth_abs, x))


def apply_with_keywords(f, x, *, scale=1.0, shift=0.0):
    return f(scale * x + shift)


def calls_apply_with_keywords(x):
    return np.sum(apply_with_keywords(np.tanh, x, scale=2.0) + apply_with_keywords(np.exp, x, shift=-1.0))


def tuple_helper_chain(x):
    mu, var = mean_and_var(x)
    return mu, (var, mu * var)


def calls_nested_tuple_through_helpers(x):
    a, (b, c) = tuple_helper_chain(x)
    return a + b * c


def recursive_pair(x, n):
    if n == 0:
        return x, 1.0
    a, b = recursive_pair(x, n - 1)
    return a * x, b + a


def calls_recursive_tuple(x):
    a, b = recursive_pair(x, 3)
    return a + b


def count_down_product(x, y):
    """Recursion on a float value: the depth depends on y."""
    if y <= 0.0:
        return x
    return np.sin(count_down_product(x, y - 1.0)) + 0.1 * x


def calls_count_down_product(x, y):
    return count_down_product(x, y)


def varargs_arrays(x, *arrays):
    total = 0.0
    for a in arrays:
        total = total + np.sum(a * x ** 2)
    return total + len(arrays)


def config_to_helper(x, cfg):
    return np.sum(helper_with_config(x, cfg) ** 2)


def int_index_array_argument(x, idx):
    return np.sum(x[idx] ** 2)


def unpack_array(x):
    a, b, c = x
    return a * b + np.sin(c)


def unpack_rows(x):
    top, bottom = x
    return np.sum(top * bottom)


def swap_recurrence(x):
    a, b = 1.0, 0.0
    for k in range(4):
        a, b = b, a + b * x
    return a + b


def list_recurrence_last_item(x):
    vals = [x]
    for _ in range(3):
        vals.append(np.sin(vals[-1]) * x)
    return np.sum(vals[-1]) + np.sum(vals[1])


def list_len_in_loop(x):
    items = []
    for i in range(len(x)):
        items.append(x[i] * len(items))
    return sum(items)


def for_over_array_rows(x):
    s = 0.0
    for row in x:
        s = s + np.sum(row ** 2) * row[0]
    return s


def enumerate_and_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s = s + (i + 1) * a * b
    return s


def comprehension_over_zip(x, y):
    return sum([a * np.exp(b) for a, b in zip(x, y) if a > -2.0])


def tuple_indexing(x):
    t = (x, x * x, np.sin(x))
    return np.sum(t[1] - t[-1]) + np.sum(t[0])


def index_2d_slices(x):
    return np.sum(x[1:, ::2] * x[:-1, ::2]) + x[-1, -1]


def index_double_subscript(x, i, j):
    return x[i][j] * x[j][i]


def index_ellipsis_none(x):
    return np.sum(x[..., 0] ** 2) + np.sum(x[None, :, 1])


def index_logical_mask(x):
    mask = np.logical_and(x > -0.5, x < 0.5)
    return np.sum(np.cos(x[mask]))


def setitem_self_update_in_loop(x):
    y = np.ones(2)
    for k in range(len(x)):
        y[0] = y[0] * x[k] + y[1]
        y[1] = np.sin(y[0])
    return y[0] + y[1]


def setitem_fancy_repeated(x):
    y = np.zeros(3)
    y[np.array([0, 0, 2])] += x
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


def setitem_2d_element_loop(x):
    n = x.shape[0]
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            m[i, j] = x[i] * x[j] + i
    return np.sum(m @ m)


def setitem_shape_from_argument(x):
    y = np.zeros(x.shape)
    y[0] = x[0] ** 2
    y[1:] = x[1:] - x[:-1]
    return np.sum(y * y)


def setitem_zeros_like_slice(x):
    y = np.zeros_like(x)
    y[::2] = np.exp(x[::2])
    y[1::2] = x[1::2] * y[::2][: len(x) // 2]
    return np.sum(y)


def method_on_expression(x):
    return (x * 2.0).sum() + np.sin(x).mean() * (x - 1.0).dot(x)


def method_keepdims_axis(x):
    m = x.mean(axis=-1, keepdims=True)
    s = x.sum(axis=0, keepdims=True)
    return np.sum((x - m) * s)


def method_transpose_dot(x, w):
    return np.sum(x.T.dot(w) ** 2)


def method_reshape_tuple(x):
    y = x.reshape((x.shape[0] * x.shape[1],))
    z = x.reshape(x.shape[1], x.shape[0])
    return np.sum(y * np.arange(y.size)) + np.sum(z[0])


def method_squeeze_flatten(x):
    return np.sum(x.squeeze() ** 2) + np.sum(x.flatten() * 0.5)


def attributes_in_helper(x):
    return normalized_sq(x) + normalized_sq(x.T)


def normalized_sq(v):
    return np.sum(v * v) / v.size + v.shape[-1] * v.ndim


def vjp_helper_in_loop(x):
    s = x
    for _ in range(2):
        s = step(s, x)
    return s


def vjp_list_stack(x):
    rows = []
    for k in range(3):
        rows.append(np.exp(x * k))
    return np.stack(rows, axis=1)


def vjp_setitem_2d(x):
    m = np.zeros((2, len(x)))
    m[0, :] = np.sin(x)
    m[1] = m[0] * x
    return m


# ==========================================================================
# The case table
# ==========================================================================

class Case(NamedTuple):
    function: object
    factories: list
    wrt: tuple
    kwargs: dict = None


def arr(*shape, low=-1.0, high=1.0):
    return lambda r: r.uniform(low, high, size=shape)


def scal(low=-1.0, high=1.0):
    return lambda r: float(r.uniform(low, high))


def const(value):
    return lambda r: value


def rng():
    return np.random.default_rng(20240611)


def away_from_zero(*shape):
    """Values in ±[0.2, 1]: no kink of abs or of a mask lies near them."""
    def make(r):
        return r.uniform(0.2, 1.0, size=shape) * r.choice([-1.0, 1.0], size=shape)
    return make


CASES = [
    # 1. calls into other user functions
    Case(calls_local_helper, [arr(4)], (0,)),
    Case(calls_module_attribute_helper, [arr(5)], (0,)),
    Case(calls_imported_helper, [arr(5)], (0,)),
    Case(calls_imported_and_attribute, [arr(3), arr(3)], (0, 1)),
    Case(calls_chain_local, [arr(4)], (0,)),
    Case(calls_chain_other_module, [arr(4)], (0,)),
    Case(calls_chain_attribute, [arr(4)], (0,)),
    Case(calls_helper_defaults, [arr(4)], (0,)),
    Case(calls_helper_kwonly, [away_from_zero(4), scal(0.5, 2.0)], (0, 1)),
    Case(calls_other_module_kwonly, [arr(4), scal()], (0, 1)),
    Case(calls_tuple_helper, [arr(6)], (0,)),
    Case(calls_tuple_helper_other_module, [arr(5)], (0,)),
    Case(calls_nested_tuple_helper, [arr(3)], (0,)),
    Case(calls_tuple_helper_unused_part, [arr(5)], (0,)),
    Case(calls_tuple_helper_kept, [arr(5)], (0,)),
    Case(calls_scalar_tuple_helper, [scal(0.5, 2.0), scal(0.1, 1.0)], (0, 1)),
    Case(calls_helper_several_times, [arr(3), arr(3)], (0, 1)),
    Case(calls_helper_in_loop, [arr(4)], (0,)),
    Case(calls_helper_in_loop_with_kwarg, [arr(3), scal(0.1, 1.0)], (0, 1)),
    Case(calls_scalar_helper_in_loop, [scal(0.2, 1.5)], (0,)),
    Case(calls_factory_closure, [arr(4)], (0,)),
    Case(calls_closure_with_helper, [arr(4)], (0,)),
    Case(poly_made, [arr(5)], (0,)),
    Case(weighted_loss_made, [arr(4)], (0,)),
    Case(calls_module_lambda, [arr(4)], (0,)),
    Case(calls_module_lambda_with_default, [arr(4)], (0,)),
    Case(calls_apply_numpy_function, [arr(4)], (0,)),
    Case(calls_apply_user_helper, [arr(4)], (0,)),
    Case(calls_compose, [arr(4)], (0,)),
    Case(calls_apply_twice_other_module, [arr(4)], (0,)),
    Case(passes_tanh_to_takes_function_argument, [arr(4)], (0,)),
    Case(passes_helper_to_takes_function_argument, [arr(4)], (0,)),
    Case(calls_recursive_power, [scal(0.5, 1.5)], (0,)),
    Case(calls_fast_pow, [scal(0.5, 1.5)], (0,)),
    Case(calls_data_dependent_recursion, [scal(2.3, 3.7)], (0,)),
    Case(calls_recursive_bisection, [arr(5)], (0,)),
    Case(calls_recursive_index, [arr(4)], (0,)),
    Case(calls_shrink, [arr(4, low=0.5, high=1.0)], (0,)),
    # 2. arguments
    Case(default_float, [arr(4)], (0,)),
    Case(default_float, [arr(4), scal(0.5, 1.5)], (0, 1)),
    Case(default_and_keyword_call, [arr(3), arr(3)], (0, 1), {"scale": 2.0}),
    Case(keyword_only_required, [arr(4)], (0,), {"alpha": 1.5}),
    Case(keyword_only_required, [arr(4)], (0,), {"alpha": 0.5, "beta": -2.0}),
    Case(keyword_only_differentiated_positional, [arr(3), arr(3)], (0, 1), {"mode": "add"}),
    Case(keyword_only_differentiated_positional, [arr(3), arr(3)], (0, 1)),
    Case(varargs_pass_through, [arr(3), const(2), const(0.5)], (0,)),
    Case(varargs_pass_through, [arr(3)], (0,)),
    Case(int_argument, [arr(4, low=0.5, high=1.5), const(3)], (0,)),
    Case(int_argument_loop, [arr(3), const(4)], (0,)),
    Case(bool_argument, [arr(4), const(True)], (0,)),
    Case(bool_argument, [arr(4), const(False)], (0,)),
    Case(str_argument, [arr(4), const("square")], (0,)),
    Case(str_argument, [arr(4), const("exp")], (0,)),
    Case(str_argument, [arr(4), const("other")], (0,)),
    Case(none_argument, [arr(4)], (0,)),
    Case(none_argument, [arr(4), const(None)], (0,)),
    Case(none_argument, [arr(4), arr(4)], (0, 1)),
    Case(dict_argument, [arr(4), const({"a": 2.0, "b": -1.0, "c": 0.5})], (0,)),
    Case(config_argument, [arr(4), const(Config())], (0,)),
    Case(config_argument, [arr(4), const(Config(scale=0.5, offset=-0.3, power=2.0))], (0,)),
    Case(namedtuple_argument, [arr(4), const(Settings(gain=0.7, bias=2.0))], (0,)),
    Case(many_kinds_of_arguments,
         [arr(4), const(2), const(True), const("log"), const({"k": 3.0}), const(Config())],
         (0,), {"weight": 0.5}),
    Case(many_kinds_of_arguments,
         [arr(4), const(2), const(False), const("id"), const(None), const(Config(scale=1.5))],
         (0,)),
    # 3. containers
    Case(tuple_pack_unpack, [arr(3), arr(3)], (0, 1)),
    Case(nested_tuple_unpack, [arr(3)], (0,)),
    Case(nested_tuple_from_variable, [arr(3), arr(3)], (0, 1)),
    Case(list_append_stack, [arr(4)], (0,)),
    Case(list_append_array, [arr(5)], (0,)),
    Case(list_builtin_sum, [arr(3)], (0,)),
    Case(list_indexing, [arr(3)], (0,)),
    Case(list_for_each, [arr(4)], (0,)),
    Case(list_comprehension, [arr(5)], (0,)),
    Case(list_comprehension_condition, [arr(5)], (0,)),
    Case(list_comprehension_nested, [arr(2), arr(3)], (0, 1)),
    Case(list_comprehension_over_list, [arr(4)], (0,)),
    Case(list_len, [arr(7)], (0,)),
    Case(list_of_tuples, [arr(5)], (0,)),
    # 4. indexing reads
    Case(index_int, [arr(5), const(3)], (0,)),
    Case(index_negative, [arr(5)], (0,)),
    Case(index_2d, [arr(3, 4), const(2), const(1)], (0,)),
    Case(index_slice, [arr(6)], (0,)),
    Case(index_step, [arr(7)], (0,)),
    Case(index_column, [arr(3, 4)], (0,)),
    Case(index_array_repeated, [arr(5)], (0,)),
    Case(index_list_repeated, [arr(5)], (0,)),
    Case(index_boolean_mask, [away_from_zero(8)], (0,)),
    Case(index_mask_from_other, [arr(6), away_from_zero(6)], (0,)),
    Case(index_in_loop, [arr(5)], (0,)),
    Case(index_rows_in_loop, [arr(3, 2)], (0,)),
    Case(index_chained, [arr(3, 3)], (0,)),
    Case(index_edges_repeated, [arr(4, 3), scal(0.05, 0.2)], (0, 1)),
    # 5. element assignment into arrays the function made
    Case(setitem_loop, [arr(5)], (0,)),
    Case(setitem_recurrence, [arr(5)], (0,)),
    Case(setitem_copy_slice_add, [arr(6)], (0,)),
    Case(setitem_np_copy, [arr(4)], (0,)),
    Case(setitem_rows, [arr(4)], (0,)),
    Case(setitem_overwrite_same_slot, [arr(3)], (0,)),
    Case(setitem_mask, [away_from_zero(6)], (0,)),
    Case(setitem_column, [arr(3, 3)], (0,)),
    Case(setitem_from_scalar_argument, [arr(2), scal()], (0, 1)),
    Case(setitem_accumulate, [arr(5)], (0,)),
    # 6. methods and attributes
    Case(method_sum_axis, [arr(3, 4)], (0,)),
    Case(method_mean, [arr(3, 4)], (0,)),
    Case(method_transpose, [arr(3, 4), arr(3, 2)], (0, 1)),
    Case(method_reshape, [arr(6)], (0,)),
    Case(method_dot, [arr(4), arr(4)], (0, 1)),
    Case(method_copy, [arr(4)], (0,)),
    Case(method_ravel, [arr(2, 3)], (0,)),
    Case(attributes_normalize, [arr(4)], (0,)),
    Case(attributes_shape_loop, [arr(2, 3)], (0,)),
    Case(method_chain, [arr(3, 2)], (0,)),
    # 7. more combinations
    Case(calls_helper_state_in_loop, [arr(3)], (0,)),
    Case(calls_local_helper_with_loop, [arr(3)], (0,)),
    Case(calls_helper_with_non_float_arguments, [arr(3)], (0,)),
    Case(calls_helper_in_comprehension, [arr(3)], (0,)),
    Case(calls_helper_into_setitem, [arr(4)], (0,)),
    Case(calls_closure_of_closure, [arr(3)], (0,)),
    Case(summed_chain, [arr(3)], (0,)),
    Case(calls_apply_with_module_lambda, [arr(4)], (0,)),
    Case(calls_apply_with_keywords, [arr(4)], (0,)),
    Case(calls_nested_tuple_through_helpers, [arr(4)], (0,)),
    Case(calls_recursive_tuple, [scal(0.5, 1.5)], (0,)),
    Case(calls_count_down_product, [scal(), scal(1.2, 2.8)], (0,)),
    Case(varargs_arrays, [arr(3), arr(3), arr(3)], (0,)),
    Case(config_to_helper, [arr(3), const(Config(scale=1.5, offset=0.2))], (0,)),
    Case(int_index_array_argument, [arr(5), const(np.array([4, 1, 1, 0]))], (0,)),
    Case(unpack_array, [arr(3)], (0,)),
    Case(unpack_rows, [arr(2, 3)], (0,)),
    Case(swap_recurrence, [scal()], (0,)),
    Case(list_recurrence_last_item, [arr(3)], (0,)),
    Case(list_len_in_loop, [arr(4)], (0,)),
    Case(for_over_array_rows, [arr(3, 2)], (0,)),
    Case(enumerate_and_zip, [arr(4), arr(4)], (0, 1)),
    Case(comprehension_over_zip, [arr(4), arr(4)], (0, 1)),
    Case(tuple_indexing, [arr(3)], (0,)),
    Case(index_2d_slices, [arr(3, 4)], (0,)),
    Case(index_double_subscript, [arr(3, 3), const(0), const(2)], (0,)),
    Case(index_ellipsis_none, [arr(3, 2)], (0,)),
    Case(index_logical_mask, [away_from_zero(8)], (0,)),
    Case(setitem_self_update_in_loop, [arr(3)], (0,)),
    Case(setitem_fancy_repeated, [arr(3)], (0,)),
    Case(setitem_2d_element_loop, [arr(3)], (0,)),
    Case(setitem_shape_from_argument, [arr(4)], (0,)),
    Case(setitem_zeros_like_slice, [arr(6)], (0,)),
    Case(method_on_expression, [arr(4)], (0,)),
    Case(method_keepdims_axis, [arr(3, 4)], (0,)),
    Case(method_transpose_dot, [arr(3, 2), arr(3, 4)], (0, 1)),
    Case(method_reshape_tuple, [arr(2, 3)], (0,)),
    Case(method_squeeze_flatten, [arr(1, 3)], (0,)),
    Case(attributes_in_helper, [arr(2, 3)], (0,)),
]

VJP_CASES = [
    Case(vjp_helpers, [arr(4)], (0,)),
    Case(vjp_tuple_helper, [arr(5)], (0,)),
    Case(vjp_setitem, [arr(4)], (0,)),
    Case(vjp_indexing, [arr(5)], (0,)),
    Case(vjp_stack, [arr(3), arr(3)], (0, 1)),
    Case(vjp_methods, [arr(2, 3)], (0,)),
    Case(vjp_helper_in_loop, [arr(3)], (0,)),
    Case(vjp_list_stack, [arr(3)], (0,)),
    Case(vjp_setitem_2d, [arr(3)], (0,)),
]


# ==========================================================================
# Refused: mutating an argument in place
# ==========================================================================

def mutates_argument(x):
    x[0] = 1.0
    return np.sum(x * x)


def mutates_argument_augmented(x):
    x[1:] *= 2.0
    return np.sum(x)


def helper_mutating(v):
    v[0] = 0.0
    return np.sum(v)


def mutates_argument_through_helper(x):
    return helper_mutating(x) * 2.0
