"""User-style functions with control flow for the end-to-end corpus
(tests/test_corpus_control.py).

Each entry of CASES: (function, argument factory, wrt). The factories take a
NumPy random generator; inputs are chosen away from kinks and branch
boundaries so that central differences are a valid reference. Written the way
users write numerical code: branches on the values being differentiated,
loops over ranges, arrays, lists, zip and enumerate, while loops that iterate
to a tolerance, break/continue/return inside loops, and loop-carried state.
"""
import math

import numpy as np

W_RNN = np.linspace(-0.5, 0.5, 9).reshape(3, 3)
COEFFS = [0.5, -1.0, 2.0, 0.25, -0.75]


# =============================================================================
# Branches: if/elif/else, nested ifs, conditional expressions, and/or/not,
# comparisons and chained comparisons
# =============================================================================

def piecewise(x):
    if x < -1.0:
        y = -x * x
    elif x < 1.0:
        y = 2.0 * x - 1.0 + x ** 3
    else:
        y = math.log(x) + 3.0 * x
    return y


def relu_square(x):
    if x > 0:
        return x ** 2
    else:
        return 0.1 * x


def nested_branches(x, y):
    if x > 0.0:
        if y > 0.0:
            z = x * y
        else:
            z = x - y * y
    else:
        if y > x:
            z = math.sin(x) * y
        else:
            z = math.exp(x + y)
    return z + x


def conditional_expression(x):
    y = x * x if x > 0.5 else math.sin(x)
    return y * 3.0 + x


def nested_conditional_expression(x, y):
    z = x * y if x > y else (x + y if x > 0 else x - y)
    return z * z


def and_or_conditions(x, y):
    if x > 0 and y > 0:
        out = x * y
    elif x < 0 or y < -0.5:
        out = x + 2.0 * y
    else:
        out = x ** 2 - y
    return out


def not_condition(x, y):
    if not x > 1.0:
        r = x * y
    else:
        r = x / y
    if not (x > 0.0 and y > 0.0):
        r = r * 2.0
    return r


def chained_comparison(x):
    if 0 < x < 1:
        return math.sqrt(x) * 4.0
    return x * x


def chained_comparison_two_values(x, y):
    if -1.0 < x <= y < 2.0:
        return x * y + y
    else:
        return x - y


def branch_on_array_sum(x):
    if np.sum(x) > 0:
        return np.sum(x ** 2)
    else:
        return np.sum(np.exp(x))


def branch_on_elements(x):
    if x[0] > x[1]:
        d = x[0] - x[1]
    else:
        d = x[1] * x[2]
    return d * np.sum(x)


def branches_assign_different_variables(x, y):
    if x > y:
        a = x * 2.0
        b = y
    else:
        a = y
        b = x * 3.0
    return a * b + a


def one_sided_branch(x):
    y = x
    if x > 0.5:
        y = y * y
    return y + x


def long_elif_chain(x):
    if x < -2.0:
        k = 1.0
        v = x
    elif x < -1.0:
        k = 2.0
        v = x * x
    elif x < 0.0:
        k = 3.0
        v = math.sin(x)
    elif x < 1.0:
        k = 4.0
        v = math.exp(x)
    else:
        k = 5.0
        v = math.sqrt(x)
    return k * v


def or_value(x, y):
    scale = y or 1.0
    return x * scale + scale


def branchy_layer(w, x):
    if np.mean(x) > 0:
        h = np.tanh(x @ w)
    else:
        h = np.sin(x @ w)
    return np.sum(h * h)


def early_returns(x):
    if x > 2.0:
        return x * 10.0
    if x > 1.0:
        return x ** 3
    y = math.exp(x)
    if y < 0.5:
        return -y
    return y * x


def max_by_conditional(x, y):
    m = x if x > y else y
    return m * 2.0 + x * y


def branch_on_difference(x, y):
    d = x - y
    if abs(d) < 0.5:
        return d * d * 0.5
    else:
        return abs(d) - 0.25


def branch_on_length(x):
    if len(x) > 3:
        return np.sum(x[:3] ** 2)
    return np.sum(x)


def huber_sum(x):
    total = 0.0
    for v in x:
        if abs(v) <= 1.0:
            total = total + 0.5 * v * v
        else:
            total = total + abs(v) - 0.5
    return total


def clip_scalar(x, lo, hi):
    if x < lo:
        y = lo
    elif x > hi:
        y = hi
    else:
        y = x
    return y * x


# =============================================================================
# for loops over ranges, arrays, lists, tuples; enumerate, zip, reversed
# =============================================================================

def power_loop(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


def range_start_stop(x):
    s = 0.0
    for i in range(2, 6):
        s = s + x ** i / i
    return s


def range_with_step(x):
    s = 0.0
    for k in range(1, 10, 3):
        s = s + math.sin(k * x)
    return s


def range_negative_step(x):
    acc = 0.0
    for i in range(5, 0, -1):
        acc = acc * x + i
    return acc


def range_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * (i + 1)
    return s * s


def range_int_half(x, n):
    s = x
    for i in range(int(n) // 2):
        s = s * 0.5 + x * i
    return s


def reverse_index_loop(x):
    s = 0.0
    for i in range(len(x) - 1, -1, -1):
        s = s * 0.7 + x[i] ** 2
    return s


def rows_of_matrix(a, w):
    s = 0.0
    for row in a:
        s = s + np.tanh(np.dot(row, w))
    return s


def list_of_arrays(x, y):
    total = 0.0
    for a in [x, y, x * y]:
        total = total + np.sum(a ** 2)
    return total


def tuple_of_floats(a, b, c):
    s = 1.0
    for v in (a, b, c, 2.0):
        s = s * (1.0 + v)
    return s


def enumerate_array(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * i
    return s * np.sum(x)


def enumerate_with_start(x):
    s = 0.0
    for k, v in enumerate(x, 1):
        s = s + v ** k
    return s


def enumerate_float_list(a, b):
    s = 0.0
    for i, v in enumerate([a, b, a * b]):
        s = s + (i + 1.0) * math.cos(v)
    return s


def zip_two(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b + a
    return s


def zip_three(x, y, z):
    s = 0.0
    for a, b, c in zip(x, y, z):
        s = s + a * math.exp(b) - c * a
    return s


def reversed_array(x):
    s = 0.0
    for v in reversed(x):
        s = s * 0.5 + v
    return s * s


def reversed_range(x, n):
    s = 0.0
    for i in reversed(range(n)):
        s = s + x ** (i + 1) / (i + 1.0)
    return s


def parameters_in_a_list(p, q, r):
    s = 0.0
    for w in [p, q, r]:
        s = s + w * w
    return math.sqrt(s)


def zip_rows(a, b):
    s = 0.0
    for ra, rb in zip(a, b):
        s = s + np.dot(ra, rb) ** 2
    return s


def enumerate_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s = s + (i + 1) * a * b
    return s


def loop_variable_after_loop(x):
    y = 0.0
    for i in range(4):
        y = x * i
    return y + i * x


def matrix_power_loop(a, n):
    m = a
    for _ in range(n - 1):
        m = m @ a
    return np.sum(m)


def row_loop_with_index(a):
    s = 0.0
    for i in range(a.shape[0]):
        s = s + np.sum(a[i] * (i + 1.0)) ** 2
    return s


def nested_for_sum(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s = s + x[i] * x[j]
    return s


def slice_loop(x):
    s = 0.0
    for i in range(1, len(x)):
        s = s + np.sum(x[:i]) * x[i]
    return s


# =============================================================================
# while loops: Newton, halving, fixed points with a tolerance, while/else
# =============================================================================

def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def newton_cube_root(a):
    x = 1.0
    while abs(x ** 3 - a) > 1e-13:
        x = x - (x ** 3 - a) / (3.0 * x ** 2)
    return x


def halving(x):
    while x > 1.0:
        x = x / 2.0
    return x


def fixed_point_cos(a):
    y = 0.0
    y_new = a * math.cos(y)
    while abs(y_new - y) > 1e-14:
        y = y_new
        y_new = a * math.cos(y)
    return y_new


def counter_while(x, n):
    i = 0
    s = 0.0
    while i < n:
        s = s + x * i
        i = i + 1
    return s


def while_else(x):
    s = x
    k = 0
    while k < 3:
        s = s * x
        k = k + 1
    else:
        s = s + 1.0
    return s


def while_break(x):
    s = 0.0
    i = 0
    while i < 100:
        s = s + x / (i + 1.0)
        if s > 3.0:
            break
        i = i + 1
    return s * x


def while_data_dependent_count(x):
    s = 0.0
    while s < 10.0:
        s = s + x
    return s * x


def exp_series(x):
    term = 1.0
    total = 1.0
    k = 1
    while abs(term) > 1e-16:
        term = term * x / k
        total = total + term
        k = k + 1
    return total


def newton_solve_cubic(a):
    y = 1.0
    for _ in range(100):
        f = y ** 3 + y - a
        if abs(f) < 1e-14:
            break
        y = y - f / (3.0 * y * y + 1.0)
    return y


def while_true_break(x):
    y = x
    while True:
        y = y * 1.5
        if y > 4.0:
            break
    return y


def while_else_with_break(x):
    s = x
    while s < 50.0:
        s = s * 2.0
        if s > 80.0:
            break
    else:
        s = s - x
    return s


# =============================================================================
# break, continue and return inside loops; nested loops; for/else
# =============================================================================

def break_on_threshold(x, v):
    s = 0.0
    for i in range(len(v)):
        s = s + x * v[i]
        if s > 1.5:
            break
    return s * x


def continue_even(x):
    s = 0.0
    for i in range(10):
        if i % 2 == 0:
            continue
        s = s + x ** i / (i + 1.0)
    return s


def return_inside_loop(x):
    for v in x:
        if v > 0.5:
            return v * 2.0 + np.sum(x)
    return np.sum(x ** 2)


def return_in_nested_if(x, t):
    acc = 0.0
    for i in range(len(x)):
        if x[i] > 0.0:
            acc = acc + x[i] * t
            if acc > 1.0:
                return acc * t
        else:
            acc = acc - x[i]
    return acc


def early_return_before_loop(x, n):
    if x < 0.0:
        return x * x
    s = x
    for _ in range(n):
        s = math.sin(s) + x
    return s


def nested_break(x):
    s = 0.0
    for i in range(4):
        for j in range(5):
            if j > i:
                break
            s = s + x[i] * x[j]
    return s


def triple_nested_break(x):
    s = 0.0
    for i in range(3):
        for j in range(3):
            for k in range(4):
                if k + j > i + 1:
                    break
                s = s + x[i] * x[j] * (k + 1.0)
    return s


def data_dependent_inner_break(a):
    total = 0.0
    for row in a:
        acc = 0.0
        for v in row:
            acc = acc + v * v
            if acc > 0.6:
                break
        total = total + acc
    return total


def for_else_found(x, t):
    s = 0.0
    for v in x:
        if v > t:
            s = v * t
            break
    else:
        s = np.sum(x) * t
    return s + t


def for_else_not_found(x, t):
    s = 0.0
    for v in x:
        s = s + v * t
        if v > 10.0:
            break
    else:
        s = s * s
    return s


def continue_and_break(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0.0:
            continue
        if s > 2.0:
            break
        s = s + x[i] * x[i]
    return s


def first_exceeding(x):
    for i in range(len(x)):
        if x[i] > 0.8:
            return x[i] ** 2 + i
    return 0.0 + np.sum(x)


def return_from_while(x):
    y = x
    k = 0
    while k < 10:
        y = y * 1.3 + 0.1
        if y > 5.0:
            return y * k
        k = k + 1
    return y


def break_after_update(x, y):
    s = y
    for i in range(20):
        s = s * x
        if abs(s) < 0.1:
            break
        s = s + 0.01 * y
    return s


# =============================================================================
# Loop-carried state
# =============================================================================

def rnn(w, u, b, xs):
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + u @ x + b)
    return np.sum(h ** 2)


def rnn_global_weights(xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W_RNN @ h + xs[t])
    return np.dot(h, h)


def euler_decay(k, y0, n):
    dt = 0.01
    y = y0
    for _ in range(n):
        y = y + dt * (-k * y)
    return y


def euler_oscillator(omega, x0, v0):
    dt = 0.05
    x = x0
    v = v0
    for _ in range(40):
        a = -omega * omega * x
        x = x + dt * v
        v = v + dt * a
    return x * x + v


def rk2_logistic(r, y0):
    dt = 0.1
    y = y0
    for _ in range(20):
        k1 = r * y * (1.0 - y)
        y_mid = y + 0.5 * dt * k1
        k2 = r * y_mid * (1.0 - y_mid)
        y = y + dt * k2
    return y


def gradient_descent_inner(a, x0):
    x = x0
    lr = 0.1
    for _ in range(25):
        g = 2.0 * (x - a) + 0.4 * x ** 3
        x = x - lr * g
    return x * x


def momentum_descent(target, w0):
    w = w0
    v = np.zeros_like(w0)
    for step in range(15):
        g = w - target
        v = 0.9 * v + g
        w = w - 0.05 * v
    return np.sum(w ** 2)


def cumulative_sum_by_hand(x):
    partial = []
    s = 0.0
    for v in x:
        s = s + v
        partial.append(s)
    c = np.array(partial)
    return np.sum(c * c)


def cumulative_product_by_hand(x):
    p = 1.0
    total = 0.0
    for v in x:
        p = p * v
        total = total + p
    return total


def horner(coeffs, x):
    y = 0.0
    for c in reversed(coeffs):
        y = y * x + c
    return y


def horner_indices(c, x):
    y = c[len(c) - 1]
    for i in range(len(c) - 2, -1, -1):
        y = y * x + c[i]
    return y


def horner_global_coefficients(x):
    y = 0.0
    for c in COEFFS[::-1]:
        y = y * x + c
    return y


def softmax_by_loops(x, w):
    m = x[0]
    for v in x:
        if v > m:
            m = v
    total = 0.0
    for v in x:
        total = total + math.exp(v - m)
    out = 0.0
    for i in range(len(x)):
        out = out + w[i] * math.exp(x[i] - m) / total
    return out


def logsumexp_by_loops(x):
    m = -1e300
    for v in x:
        m = v if v > m else m
    s = 0.0
    for v in x:
        s = s + np.exp(v - m)
    return m + np.log(s)


def power_iteration(a):
    s = a + a.T
    v = np.ones(s.shape[0])
    for _ in range(60):
        v = s @ v
        v = v / np.sqrt(np.sum(v * v))
    return v @ s @ v


def overwritten_many_times(x):
    y = x
    for i in range(5):
        y = y * 1.1
        y = np.sin(y) + x
        y = y - 0.1 * i
    return np.sum(y * y)


def running_max(x):
    m = x[0]
    for v in x:
        if v > m:
            m = v
    return m * m + np.sum(x)


def setitem_in_loop(x):
    out = np.zeros(len(x))
    for i in range(1, len(x)):
        out[i] = x[i] * x[i - 1]
    return np.sum(out * out)


def prefix_sums_setitem(x):
    c = np.copy(x)
    for i in range(1, len(c)):
        c[i] = c[i - 1] + c[i]
    return np.sum(c ** 2)


def moving_average(x, alpha):
    ema = x[0]
    for v in x[1:]:
        ema = alpha * v + (1.0 - alpha) * ema
    return ema


def fibonacci_like(x, y):
    a = x
    b = y
    for _ in range(6):
        a, b = b, a + b * 0.5
    return a * b


def chebyshev(x, n):
    t_prev = 1.0
    t = x
    for _ in range(n - 1):
        t_prev, t = t, 2.0 * x * t - t_prev
    return t


def stack_built_in_loop(x):
    rows = []
    for k in range(3):
        rows.append(x * (k + 1.0))
    m = np.stack(rows)
    return np.sum(m ** 2 * np.arange(1.0, 4.0).reshape(3, 1))


def append_then_sum(x):
    values = []
    for v in x:
        values.append(v * v)
    return sum(values)


def normalize_loop(x):
    v = x
    for _ in range(3):
        v = v / np.sqrt(np.sum(v * v)) + 0.1 * x
    return np.sum(v * np.arange(1.0, len(x) + 1.0))


def augmented_accumulators(x):
    s = 0.0
    p = 1.0
    for v in x:
        s += v
        p *= 1.0 + v * v
    return s * p


def product_of_list(values):
    p = 1.0
    for v in values:
        p = p * v
    return p


def list_argument_product(a, b):
    return product_of_list([a, b, a + b])


# =============================================================================
# Loops where some iterations skip the computation, loops that run zero times
# =============================================================================

def skip_some_iterations(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 0:
            s = s + x * i
    return s + x


def zero_trip_constant_range(x):
    s = x
    for i in range(0):
        s = s * x
    return s * 2.0


def zero_trip_argument(x, n):
    s = x * x
    for _ in range(n):
        s = s * x
    return s


def while_never_runs(x):
    y = x
    while y > 100.0:
        y = y / 2.0
    return y * y


def empty_slice_loop(x):
    s = np.sum(x)
    for v in x[2:2]:
        s = s * v
    return s


def skip_negative_elements(x):
    s = 0.0
    for v in x:
        if v > 0.0:
            s = s + v * v
    return s


def update_on_last_iteration(x, n):
    y = 1.0
    for i in range(n):
        if i == n - 1:
            y = y * math.exp(x)
    return y


def zero_trip_zip(x, y):
    s = 0.0
    for a, b in zip(x[:0], y):
        s = s + a * b
    return s + np.sum(x * y)


# =============================================================================
# Mixed: loops in branches, branches in loops, while in for, recursion,
# element updates, generator expressions
# =============================================================================

def loop_inside_branch(x, n):
    if x > 0.0:
        s = 0.0
        for i in range(n):
            s = s + x ** (i + 1)
    else:
        s = x
        for i in range(n):
            s = math.sin(s)
    return s


def variable_defined_in_branch_used_later(x):
    for i in range(3):
        if i == 1:
            t = x * 3.0
    return t * x


def while_inside_for(x):
    total = 0.0
    for v in x:
        y = abs(v) + 1.0
        while y > 0.3:
            y = y * 0.6
        total = total + y
    return total


def continue_in_while(x):
    s = 0.0
    i = 0
    while i < 8:
        i = i + 1
        if i % 3 == 0:
            continue
        s = s + math.cos(x * i)
    return s


def return_inside_nested_loops(a, t):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] > t:
                return a[i, j] * t + i + j
    return np.sum(a) * t


def argument_overwritten_in_loop(x, n):
    for _ in range(n):
        x = x * 0.5 + np.sin(x)
    return np.sum(x)


def break_inside_while_inside_for(x):
    s = 0.0
    for v in x:
        k = 0
        while True:
            k = k + 1
            s = s + v / k
            if k >= 3:
                break
    return s


def conditional_expression_in_loop(x):
    s = 0.0
    for v in x:
        s = s + (v * v if v > 0 else 0.1 * v)
    return s


def pairs_from_list(x, y):
    s = 0.0
    for a, b in [(x, y), (y, x), (x, x)]:
        s = s + a * b ** 2
    return s


def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)


def recursive_sum_halves(x):
    if len(x) == 1:
        return x[0] ** 2
    half = len(x) // 2
    return recursive_sum_halves(x[:half]) * recursive_sum_halves(x[half:]) + x[0]


def helper_step(h, x):
    return np.tanh(0.5 * h + x)


def calls_helper_in_loop(xs):
    h = np.zeros(xs.shape[1])
    for x in xs:
        h = helper_step(h, x)
    return np.sum(h)


def prefix_products_setitem(x):
    c = np.copy(x)
    for i in range(1, len(c)):
        c[i] = c[i] * c[i - 1]
    return np.sum(c)


def setitem_matrix(x):
    m = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            m[i, j] = x[i] * x[j] + i
    return np.sum(m @ m)


def augmented_setitem(x):
    c = np.zeros(len(x))
    for i in range(len(x)):
        c[i] += x[i] * 2.0
        c[i] *= x[i]
    return np.sum(c)


def list_of_states(x):
    hs = [x]
    for t in range(4):
        hs.append(np.tanh(hs[t] * 1.5 + 0.1))
    return np.sum(hs[-1]) + np.sum(hs[2])


def where_in_loop(x):
    y = x
    for _ in range(3):
        y = np.where(y > 0.0, y * 0.9, y * 1.1) + 0.05
    return np.sum(y * y)


def columns_of_transpose(a):
    s = 0.0
    for col in a.T:
        s = s + np.dot(col, col) * np.sum(col)
    return s


def sliding_window(x):
    s = 0.0
    for i in range(len(x) - 1):
        w = x[i:i + 2]
        s = s + w[0] * w[1]
    return s


def generator_sum(x):
    return sum(v * v for v in x) + sum([math.sin(v) for v in x])


def comprehension_with_condition(x):
    squares = [v ** 2 for v in x if v > 0.0]
    return sum(squares) + np.sum(x)


def float_of_index(x):
    s = 0.0
    for i in range(4):
        s = s + x * float(i) ** 2
    return s


def and_or_values(x, y):
    a = x > 0 and x or y
    b = not (y > 1.0) and y * 2.0
    return a * y + b


def max_of_three(a, b, c):
    m = a
    if b > m:
        m = b
    if c > m:
        m = c
    return m * (a + b + c)


def sign_dependent_loop(x):
    s = 0.0
    for i in range(1, 6):
        if x * i > 2.0:
            s = s + x * i
        elif x * i < -2.0:
            s = s - x * i
        else:
            s = s + (x * i) ** 2
    return s


def nested_while(x):
    total = 0.0
    i = 0
    while i < 3:
        j = 0
        y = x * (i + 1)
        while j < i + 1:
            y = y * 0.5 + 0.1
            j = j + 1
        total = total + y * y
        i = i + 1
    return total


def many_exits(x, v):
    acc = 0.0
    for i in range(len(v)):
        if v[i] < -0.9:
            continue
        acc = acc + x * v[i]
        if acc > 3.0:
            return acc * 2.0
        elif acc < -3.0:
            break
    else:
        return acc + x
    return acc - x


def for_else_continue(x):
    s = 0.0
    for i in range(6):
        if i == 2:
            continue
        s = s + x * i
    else:
        s = s * x
    return s


def range_from_value(x):
    s = 0.0
    for i in range(int(x * 3.0)):
        s = s + x / (i + 1.0)
    return s


def matrix_rows_update(a):
    b = np.copy(a)
    for i in range(1, b.shape[0]):
        b[i] = b[i] - 0.5 * b[i - 1]
    return np.sum(b ** 2)


def loop_over_scaled_copy(x):
    xs = x * 2.0
    total = 0.0
    for v in xs:
        total = total + math.exp(-v * v)
    return total


def gram_schmidt_like(a):
    q0 = a[0] / np.sqrt(np.sum(a[0] ** 2))
    basis = [q0]
    for k in range(1, a.shape[0]):
        v = a[k]
        for q in basis:
            v = v - np.dot(q, v) * q
        basis.append(v / np.sqrt(np.sum(v * v)))
    out = 0.0
    for i, q in enumerate(basis):
        out = out + (i + 1.0) * q[0]
    return out


def inner_with_return(x, n):
    s = 0.0
    for i in range(n):
        if s > 1.0:
            return s * x
        s = s + x
    return s


def calls_function_with_loop(x):
    t = 0.0
    for k in range(1, 4):
        t = t + inner_with_return(x, k * 2)
    return t


def while_continue_else(x):
    i = 0
    s = 0.0
    while i < 5:
        i = i + 1
        if i == 2:
            continue
        s = s + x ** i
    else:
        s = s * 2.0
    return s


def list_indexed_from_end(x):
    hs = [x]
    for t in range(3):
        hs.append(np.sin(hs[-1]) + hs[0])
    return np.sum(hs[-1] * hs[1])


def branch_then_loop(x, n):
    if x > 0:
        y = x
    else:
        y = -x
    for i in range(n):
        y = y * 0.5 + x
    return y


def minimum_with_none(x):
    best = None
    for v in x:
        if best is None or v < best:
            best = v
    return best * best


def count_then_scale(x):
    count = 0
    for v in x:
        if v > 0:
            count += 1
    return np.sum(x) * count


def helper_branch(x):
    if x > 0:
        return x * x
    return x


def helpers_with_branches(x):
    return helper_branch(x) + helper_branch(-x)


def last_positive_square(x):
    for v in x:
        if v > 0.0:
            last = v * v
    return last


def find_or_default(x, t):
    for v in x:
        if v > t:
            break
    else:
        return t * t
    return v * t


def smooth(s):
    return 0.5 * s + 0.25 * s * s


def smooth_repeatedly(x):
    s = x
    for _ in range(3):
        s = smooth(s)
    return s


def shrink_each_pass(x):
    total = 0.0
    for v in x:
        total = total + v * v
        x = x * 0.5          # rebinding x: the loop still walks the original array
    return total + np.sum(x)


def countdown_weights(x, n):
    s = 0.0
    for i in range(n):
        n = n - 1            # rebinding n: range(n) was evaluated once
        s = s + x * n
    return s


def pairs_below_threshold(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            if x[i] * x[j] > 0.5:
                break
        else:
            s = s + x[i]
            continue
        s = s + x[j] * 2.0
    return s


def first_row_without_large_entry(a):
    s = 0.0
    for row in a:
        for v in row:
            if v > 0.8:
                break
        else:
            s = s + np.sum(row * row)
            break
        s = s + row[0]
    return s


# =============================================================================
# The table
# =============================================================================

def rng():
    return np.random.default_rng(2024)


def arr(*shape, low=-1.0, high=1.0):
    return lambda r: r.uniform(low, high, size=shape)


def scal(low=-1.0, high=1.0):
    return lambda r: float(r.uniform(low, high))


def const(value):
    """A fixed argument (a trip count, or a value chosen away from a branch boundary)."""
    return lambda r: value() if callable(value) else value


def fixed_array(values):
    return lambda r: np.array(values, dtype=np.float64)


CASES = [
    # branches
    (piecewise, [const(-1.7)], (0,)),
    (piecewise, [const(0.3)], (0,)),
    (piecewise, [const(2.5)], (0,)),
    (relu_square, [const(0.7)], (0,)),
    (relu_square, [const(-0.7)], (0,)),
    (nested_branches, [const(0.6), const(0.4)], (0, 1)),
    (nested_branches, [const(0.6), const(-0.4)], (0, 1)),
    (nested_branches, [const(-0.6), const(0.4)], (0, 1)),
    (nested_branches, [const(-0.3), const(-0.9)], (0, 1)),
    (conditional_expression, [const(0.9)], (0,)),
    (conditional_expression, [const(0.1)], (0,)),
    (nested_conditional_expression, [const(0.8), const(0.3)], (0, 1)),
    (nested_conditional_expression, [const(0.2), const(0.5)], (0, 1)),
    (nested_conditional_expression, [const(-0.4), const(0.5)], (0, 1)),
    (and_or_conditions, [const(0.5), const(0.7)], (0, 1)),
    (and_or_conditions, [const(-0.5), const(0.7)], (0, 1)),
    (and_or_conditions, [const(0.5), const(-0.3)], (0, 1)),
    (not_condition, [const(0.5), const(0.7)], (0, 1)),
    (not_condition, [const(1.5), const(-0.7)], (0, 1)),
    (chained_comparison, [const(0.4)], (0,)),
    (chained_comparison, [const(1.6)], (0,)),
    (chained_comparison_two_values, [const(0.2), const(0.9)], (0, 1)),
    (chained_comparison_two_values, [const(0.9), const(0.2)], (0, 1)),
    (branch_on_array_sum, [fixed_array([0.5, -0.2, 0.4])], (0,)),
    (branch_on_array_sum, [fixed_array([-0.5, -0.2, 0.4])], (0,)),
    (branch_on_elements, [fixed_array([0.9, 0.1, -0.4])], (0,)),
    (branch_on_elements, [fixed_array([0.1, 0.9, -0.4])], (0,)),
    (branches_assign_different_variables, [const(1.2), const(0.3)], (0, 1)),
    (branches_assign_different_variables, [const(0.3), const(1.2)], (0, 1)),
    (one_sided_branch, [const(0.9)], (0,)),
    (one_sided_branch, [const(0.2)], (0,)),
    (long_elif_chain, [const(-2.5)], (0,)),
    (long_elif_chain, [const(-1.5)], (0,)),
    (long_elif_chain, [const(-0.5)], (0,)),
    (long_elif_chain, [const(0.5)], (0,)),
    (long_elif_chain, [const(1.5)], (0,)),
    (or_value, [const(0.7), const(1.3)], (0, 1)),
    (branchy_layer, [arr(3, 2), arr(4, 3, low=0.1, high=1.0)], (0, 1)),
    (branchy_layer, [arr(3, 2), arr(4, 3, low=-1.0, high=-0.1)], (0, 1)),
    (early_returns, [const(2.5)], (0,)),
    (early_returns, [const(1.5)], (0,)),
    (early_returns, [const(0.5)], (0,)),
    (early_returns, [const(-1.5)], (0,)),
    (max_by_conditional, [const(0.8), const(0.3)], (0, 1)),
    (max_by_conditional, [const(0.3), const(0.8)], (0, 1)),
    (branch_on_difference, [const(0.8), const(0.6)], (0, 1)),
    (branch_on_difference, [const(0.8), const(-0.6)], (0, 1)),
    (branch_on_length, [arr(5)], (0,)),
    (branch_on_length, [arr(2)], (0,)),
    (huber_sum, [fixed_array([0.3, -2.0, 1.5, -0.4])], (0,)),
    (clip_scalar, [const(-0.5), const(0.0), const(1.0)], (0, 1, 2)),
    (clip_scalar, [const(0.5), const(0.0), const(1.0)], (0, 1, 2)),
    (clip_scalar, [const(1.5), const(0.0), const(1.0)], (0, 1, 2)),
    # for loops
    (power_loop, [scal(0.5, 1.5), const(5)], (0,)),
    (range_start_stop, [scal(0.5, 1.5)], (0,)),
    (range_with_step, [scal()], (0,)),
    (range_negative_step, [scal()], (0,)),
    (range_len, [arr(5)], (0,)),
    (range_int_half, [scal(), const(7.0)], (0,)),
    (reverse_index_loop, [arr(4)], (0,)),
    (rows_of_matrix, [arr(4, 3), arr(3)], (0, 1)),
    (list_of_arrays, [arr(3), arr(3)], (0, 1)),
    (tuple_of_floats, [scal(), scal(), scal()], (0, 1, 2)),
    (enumerate_array, [arr(5)], (0,)),
    (enumerate_with_start, [arr(4, low=0.2, high=1.2)], (0,)),
    (enumerate_float_list, [scal(), scal()], (0, 1)),
    (zip_two, [arr(4), arr(4)], (0, 1)),
    (zip_three, [arr(3), arr(3), arr(3)], (0, 1, 2)),
    (reversed_array, [arr(5)], (0,)),
    (reversed_range, [scal(0.2, 0.9), const(6)], (0,)),
    (parameters_in_a_list, [scal(0.5, 1.0), scal(), scal()], (0, 1, 2)),
    (zip_rows, [arr(3, 2), arr(3, 2)], (0, 1)),
    (enumerate_zip, [arr(4), arr(4)], (0, 1)),
    (loop_variable_after_loop, [scal()], (0,)),
    (matrix_power_loop, [arr(3, 3, low=-0.5, high=0.5), const(4)], (0,)),
    (row_loop_with_index, [arr(3, 2)], (0,)),
    (nested_for_sum, [arr(5)], (0,)),
    (slice_loop, [arr(5)], (0,)),
    # while loops
    (newton_sqrt, [scal(0.5, 4.0)], (0,)),
    (newton_cube_root, [scal(0.5, 4.0)], (0,)),
    (halving, [const(13.0)], (0,)),
    (fixed_point_cos, [scal(0.2, 0.8)], (0,)),
    (counter_while, [scal(), const(6)], (0,)),
    (while_else, [scal(0.5, 1.5)], (0,)),
    (while_break, [const(0.9)], (0,)),
    (while_data_dependent_count, [const(0.7)], (0,)),
    (exp_series, [scal()], (0,)),
    (newton_solve_cubic, [scal(0.5, 3.0)], (0,)),
    (while_true_break, [const(0.3)], (0,)),
    (while_else_with_break, [const(0.7)], (0,)),
    (while_else_with_break, [const(30.0)], (0,)),
    # break / continue / return in loops
    (break_on_threshold, [const(0.8), fixed_array([0.5, 0.7, 0.9, 1.1, 1.3])], (0, 1)),
    (continue_even, [scal(0.5, 1.2)], (0,)),
    (return_inside_loop, [fixed_array([0.1, -0.3, 0.7, 0.9])], (0,)),
    (return_inside_loop, [fixed_array([0.1, -0.3, 0.2])], (0,)),
    (return_in_nested_if, [fixed_array([0.4, -0.2, 0.5, 0.6, 0.7]), const(1.1)], (0, 1)),
    (return_in_nested_if, [fixed_array([0.1, -0.2, 0.2]), const(1.1)], (0, 1)),
    (early_return_before_loop, [const(-0.5), const(5)], (0,)),
    (early_return_before_loop, [const(0.5), const(5)], (0,)),
    (nested_break, [arr(4)], (0,)),
    (triple_nested_break, [arr(3)], (0,)),
    (data_dependent_inner_break, [fixed_array([[0.5, 0.7, 0.3], [0.2, 0.1, 0.9], [0.1, 0.2, 0.3]])], (0,)),
    (for_else_found, [fixed_array([0.1, 0.9, 0.3]), const(0.5)], (0, 1)),
    (for_else_found, [fixed_array([0.1, 0.2, 0.3]), const(0.5)], (0, 1)),
    (for_else_not_found, [arr(4), scal()], (0, 1)),
    (continue_and_break, [fixed_array([0.9, -0.5, 1.0, 0.2, 1.3, 0.8])], (0,)),
    (first_exceeding, [fixed_array([0.2, 0.5, 0.9, 0.95])], (0,)),
    (first_exceeding, [fixed_array([0.2, 0.5, 0.3])], (0,)),
    (return_from_while, [const(0.7)], (0,)),
    (return_from_while, [const(-3.0)], (0,)),
    (break_after_update, [const(0.5), const(1.0)], (0, 1)),
    # loop-carried state
    (rnn, [arr(3, 3, low=-0.5, high=0.5), arr(3, 2), arr(3), arr(5, 2)], (0, 1, 2, 3)),
    (rnn_global_weights, [arr(4, 3), arr(3)], (0, 1)),
    (euler_decay, [scal(0.5, 2.0), scal(0.5, 2.0), const(50)], (0, 1)),
    (euler_oscillator, [scal(1.0, 2.0), scal(), scal()], (0, 1, 2)),
    (rk2_logistic, [scal(0.5, 1.5), scal(0.1, 0.5)], (0, 1)),
    (gradient_descent_inner, [scal(), scal()], (0, 1)),
    (momentum_descent, [arr(3), arr(3)], (0, 1)),
    (cumulative_sum_by_hand, [arr(5)], (0,)),
    (cumulative_product_by_hand, [arr(5, low=0.5, high=1.5)], (0,)),
    (horner, [arr(5), scal()], (0, 1)),
    (horner_indices, [arr(5), scal()], (0, 1)),
    (horner_global_coefficients, [scal()], (0,)),
    (softmax_by_loops, [fixed_array([0.3, -0.5, 1.2, 0.1]), arr(4)], (0, 1)),
    (logsumexp_by_loops, [fixed_array([0.3, -0.5, 1.2, 0.1])], (0,)),
    (power_iteration, [fixed_array([[2.0, 0.3, 0.1], [0.2, 1.0, 0.4], [0.0, 0.3, 0.5]])], (0,)),
    (overwritten_many_times, [arr(4)], (0,)),
    (running_max, [fixed_array([0.3, -0.5, 1.2, 0.1])], (0,)),
    (setitem_in_loop, [arr(5)], (0,)),
    (prefix_sums_setitem, [arr(5)], (0,)),
    (moving_average, [arr(6), scal(0.2, 0.8)], (0, 1)),
    (fibonacci_like, [scal(), scal()], (0, 1)),
    (chebyshev, [scal(), const(5)], (0,)),
    (stack_built_in_loop, [arr(4)], (0,)),
    (append_then_sum, [arr(5)], (0,)),
    (normalize_loop, [arr(4, low=0.5, high=1.0)], (0,)),
    (augmented_accumulators, [arr(4)], (0,)),
    (list_argument_product, [scal(), scal()], (0, 1)),
    # skipped iterations and zero-trip loops
    (skip_some_iterations, [scal(), const(10)], (0,)),
    (zero_trip_constant_range, [scal()], (0,)),
    (zero_trip_argument, [scal(), const(0)], (0,)),
    (zero_trip_argument, [scal(), const(3)], (0,)),
    (while_never_runs, [scal()], (0,)),
    (empty_slice_loop, [arr(4)], (0,)),
    (skip_negative_elements, [fixed_array([0.5, -0.3, 0.8, -0.1, 0.2])], (0,)),
    (update_on_last_iteration, [scal(), const(4)], (0,)),
    (update_on_last_iteration, [scal(), const(0)], (0,)),
    (zero_trip_zip, [arr(3), arr(3)], (0, 1)),
    # mixed
    (loop_inside_branch, [const(0.6), const(4)], (0,)),
    (loop_inside_branch, [const(-0.6), const(4)], (0,)),
    (variable_defined_in_branch_used_later, [scal()], (0,)),
    (while_inside_for, [fixed_array([0.3, -1.4, 2.2])], (0,)),
    (continue_in_while, [scal()], (0,)),
    (return_inside_nested_loops, [fixed_array([[0.1, 0.2], [0.9, 0.3], [0.95, 0.1]]), const(0.5)], (0, 1)),
    (return_inside_nested_loops, [fixed_array([[0.1, 0.2], [0.3, 0.3]]), const(0.5)], (0, 1)),
    (argument_overwritten_in_loop, [arr(3), const(4)], (0,)),
    (break_inside_while_inside_for, [arr(3)], (0,)),
    (conditional_expression_in_loop, [fixed_array([0.5, -0.3, 0.8, -0.9])], (0,)),
    (pairs_from_list, [scal(), scal()], (0, 1)),
    (recursive_power, [scal(), const(4)], (0,)),
    (recursive_sum_halves, [arr(4)], (0,)),
    (calls_helper_in_loop, [arr(4, 3)], (0,)),
    (prefix_products_setitem, [arr(5, low=0.5, high=1.5)], (0,)),
    (setitem_matrix, [arr(3)], (0,)),
    (augmented_setitem, [arr(4)], (0,)),
    (list_of_states, [arr(3)], (0,)),
    (where_in_loop, [fixed_array([0.5, -0.4, 0.9, -1.2])], (0,)),
    (columns_of_transpose, [arr(3, 2)], (0,)),
    (sliding_window, [arr(5)], (0,)),
    (generator_sum, [arr(4)], (0,)),
    (comprehension_with_condition, [fixed_array([0.5, -0.3, 0.8, -0.1])], (0,)),
    (float_of_index, [scal()], (0,)),
    (and_or_values, [const(0.6), const(0.4)], (0, 1)),
    (and_or_values, [const(-0.6), const(1.4)], (0, 1)),
    (max_of_three, [const(0.2), const(0.7), const(0.5)], (0, 1, 2)),
    (max_of_three, [const(0.2), const(0.1), const(0.5)], (0, 1, 2)),
    (sign_dependent_loop, [const(0.7)], (0,)),
    (sign_dependent_loop, [const(-0.9)], (0,)),
    (nested_while, [scal()], (0,)),
    (many_exits, [const(1.2), fixed_array([0.5, 0.9, -1.0, 1.3, 0.8])], (0, 1)),
    (many_exits, [const(-1.2), fixed_array([0.5, 0.9, -1.0, 1.3, 0.8])], (0, 1)),
    (many_exits, [const(0.3), fixed_array([0.5, 0.9, -1.0, 1.3, 0.8])], (0, 1)),
    (for_else_continue, [scal()], (0,)),
    (range_from_value, [const(1.5)], (0,)),
    (matrix_rows_update, [arr(3, 2)], (0,)),
    (loop_over_scaled_copy, [arr(4)], (0,)),
    (gram_schmidt_like, [arr(3, 3)], (0,)),

    (calls_function_with_loop, [scal(0.4, 0.9)], (0,)),
    (while_continue_else, [scal()], (0,)),
    (list_indexed_from_end, [arr(3)], (0,)),
    (branch_then_loop, [const(0.7), const(3)], (0,)),
    (branch_then_loop, [const(-0.7), const(3)], (0,)),
    (minimum_with_none, [fixed_array([0.3, -0.4, 0.5, -0.1])], (0,)),
    (count_then_scale, [arr(5)], (0,)),
    (helpers_with_branches, [scal(0.2, 1.0)], (0,)),
    (last_positive_square, [fixed_array([0.3, 0.6, -0.4, -0.2])], (0,)),
    (find_or_default, [fixed_array([0.1, 0.9, 0.3]), const(0.5)], (0, 1)),
    (find_or_default, [fixed_array([0.1, 0.2, 0.3]), const(0.5)], (0, 1)),
    (smooth_repeatedly, [scal()], (0,)),
    (shrink_each_pass, [arr(4)], (0,)),
    (countdown_weights, [scal(), const(4)], (0,)),

    (pairs_below_threshold, [fixed_array([0.8, 0.2, 0.9])], (0,)),
    (first_row_without_large_entry, [fixed_array([[0.9, 0.1], [0.3, 0.95], [0.2, 0.4], [0.5, 0.6]])], (0,)),
]

FUNCTIONS = sorted({case[0] for case in CASES}, key=lambda f: f.__name__)


# =============================================================================
# Loops whose trip count is an argument (the generated code must not grow with it)
# =============================================================================

def trip_count_for(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * (i % 5 + 1)) / n
    return s


def trip_count_while(x, n):
    y = x
    i = 0
    while i < n:
        y = y * (1.0 + 1.0 / n)
        i = i + 1
    return y * y
