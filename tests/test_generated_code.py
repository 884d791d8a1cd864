"""What the generated code does to be cheap (issue 5), checked on the source,
and every gradient against central differences.

Each test names one property of the generated code: specialised for numbers,
nothing kept that the adjoint does not read, shapes instead of values, one
stack per loop body, no test results kept for a while loop, dot products for
a number times an array, in-place accumulation where no other name holds the
array, the user's own expressions in the forward sweep.
Timing lives in the benchmark (make bench), never here.
"""
import re

import numpy as np
import pytest

import pullback
from reference import central_difference, checked_general_source


def check(f, args, wrt):
    """The gradient of f at args against central differences; returns the source."""
    df = pullback.grad(f, wrt=wrt)
    got = df(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
        np.testing.assert_allclose(g, central_difference(f, args, i), rtol=1e-6, atol=1e-8)
    return pullback.source(df)


def scalar_loop(x):
    s = 0.0
    for i in range(50):
        x = np.tanh(1.1 * x + 0.1)
        s = s + x * x
    return s


def test_numbers_get_code_without_shape_bookkeeping():
    text = check(scalar_loop, (0.3,), 0)
    assert "Specialized for numbers (not arrays) as x." in text
    for helper in ("unbroadcast", "scalar_seed", "zeros_adjoint"):
        assert helper not in text, text
    assert "ds = 1.0" in text and "dx = 0.0" in text
    # the forward sweep reads as the user wrote it, and keeps only x
    assert "x = np.tanh(1.1 * x + 0.1)" in text
    assert re.findall(r"(\w+_stack) = \[\]", text) == ["x_stack"], text
    # s is not needed for the gradient: it is not computed
    assert "s = s +" not in text


def summed_loop(x):
    return np.sum(scalar_loop(x))


def test_arrays_get_the_general_code_and_the_same_function_serves_both():
    df = pullback.grad(summed_loop)
    x = np.array([0.3, -0.2])
    np.testing.assert_allclose(df(x), central_difference(summed_loop, (x,), 0), rtol=1e-6)
    assert "Specialized for numbers" not in pullback.source(df)
    np.testing.assert_allclose(df(0.3), central_difference(summed_loop, (0.3,), 0), rtol=1e-6)
    assert "Specialized for numbers" in pullback.source(df)


def heat(u, alpha):
    for t in range(4):
        left = np.concatenate((u[-1:], u[:-1]))
        u = u + alpha * (left - u)
    return np.sum(u * u)


def test_values_read_only_for_their_shape_are_kept_as_shape_only():
    u = np.sin(np.linspace(0.0, 3.0, 6))
    text = check(heat, (u, 0.3), (0, 1))
    # the pieces joined into left are read by unconcatenate for their lengths only: stand-ins
    # without data are kept; left itself, of u's length (analysis/lengths.py), not at all
    assert "shape_only(value)" in text, text
    assert "left" not in text[text.index("# reverse sweep"):], text


def lotka_volterra(alpha, beta):
    prey, predator = 10.0, 5.0
    for i in range(20):
        growth = alpha * prey - beta * prey * predator
        decline = 0.1 * prey * predator - 0.4 * predator
        prey = prey + 0.01 * growth
        predator = predator + 0.01 * decline
    return prey + predator


def test_one_stack_of_tuples_per_loop_body():
    text = check(lotka_volterra, (1.1, 0.4), (0, 1))
    assert text.count(".append(") == 1, text
    assert "iteration_stack.append((" in text
    assert re.search(r"\w+(, \w+)+ = iteration_stack\.pop\(\)", text), text


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = x - (x * x - a) / (2.0 * x)
    return x


def test_a_while_loop_keeps_no_test_results():
    text = check(newton_sqrt, (2.0,), 0)
    assert "cond_stack" not in text, text
    # the forward sweep keeps the user's loop; the counter counts its body's runs
    assert "    while abs(x * x - a) > 1e-12:\n" in text, text
    assert "for _ in range(n_iter):" in text, text
    assert "if step:" not in text, text         # nothing is scaled by a zero here
    np.testing.assert_allclose(pullback.grad(newton_sqrt)(9.0), 1.0 / 6.0, rtol=1e-9)


def damped(x):
    y = x
    while True:
        y = 1.5 * y + x
        if y > 10.0:
            break
    z = x
    while z < 50.0:
        if z > 30.0:
            z = z * 1.1
            break
        z = z * 1.5 + x
    else:
        z = z + 1.0
    return y * z


def test_a_while_loop_with_breaks_keeps_its_form():
    text = check(damped, (2.5,), 0)
    assert "while True:" in text, text          # the user's loop, which breaks
    assert "\n    while z < 50.0:" not in text, text     # it breaks: counted as before
    for x in (1.5, 11.0):                       # z exits by break, then by its test
        check(damped, (x,), 0)


def scaled(u, alpha):
    return np.sum(np.sin(alpha * u))


def test_a_number_times_an_array_has_a_dot_product_gradient():
    u = np.linspace(-1.0, 1.0, 7)
    text = check(scaled, (u, 0.7), (0, 1))
    assert "np.vdot(" in text, text
    assert "unbroadcast" not in text, text      # alpha * u has u's shape


def mean_square(out, y):
    return np.mean((out - y) ** 2)


def test_a_value_needed_only_for_its_shape_is_not_computed():
    out, y = np.linspace(0.0, 1.0, 6).reshape(2, 3), np.ones((2, 3))
    text = check(mean_square, (out, y), 0)
    # (out - y) ** 2 has the shape of out - y: the square is never computed
    assert "** 2\n" not in text and "power =" not in text, text


def cross_entropy(logits, labels):
    z = logits - np.max(logits, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(labels * logp) / logits.shape[0]


def test_shape_of_a_broadcast_comes_from_its_operands():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((3, 4)), np.eye(4)[[0, 2, 3]]
    # The general derivative (no array's shape known): logp has z's shape
    # (np.log(np.sum(..., keepdims=True)) broadcasts into it), and z has
    # logits' (so does the max with keepdims): neither logp nor the log is
    # computed for its shape alone
    text = checked_general_source(cross_entropy, (logits, labels), 0)
    assert "np.broadcast_shapes(np.shape(labels), np.shape(logits))" in text, text
    assert "\n    logp = " not in text and "= np.log(" not in text, text
    assert "dz = dlogp\n" in text and "dlogits = dz\n" in text, text     # no unbroadcast
    assert "scalar_seed" not in text            # x.shape[0] is a number: so is the output
    # dz's array is its own once dlogp is no longer read: added to in place,
    # by the max's adjoint too (no array of logits' size for its gradient)
    assert "dz += " in text and "add_to=dlogits)" in text, text
    # Specialized for two 2-D arrays: labels * logp has labels' shape, and
    # each keepdims operand's adjoint is the sum over its length-1 axis
    text = check(cross_entropy, (logits, labels), 0)
    assert "Specialized for arrays: logits (2-D float64 (n, n)), labels (2-D float64 (n, n))" \
        in text, text
    assert "unbroadcast" not in text and "np.broadcast_shapes" not in text, text
    assert "\n    logp = " not in text and "= np.log(" not in text, text
    assert "dz = dlogp\n" in text and "dlogits = dz\n" in text, text
    # (np.sum keeps float64: the log's adjoint, a new array, is divided in place)
    assert "dtotal = -dlogp.sum(axis=1, keepdims=True)\n    dtotal /= total\n" in text, text
    assert "dlargest = -dz.sum(axis=1, keepdims=True)\n" in text, text


def test_the_specialized_cross_entropy_adds_in_place():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((3, 4)), np.eye(4)[[0, 2, 3]]
    text = check(cross_entropy, (logits, labels), 0)
    assert "Specialized for arrays" in text, text
    assert "dz += " in text and "add_to=dlogits)" in text, text


def test_a_keepdims_reduction_broadcasts_into_its_operand():
    def normalize(x, w):
        centered = x - np.mean(x, axis=0, keepdims=True)
        scale = np.sqrt(np.sum(centered * centered, axis=0, keepdims=True) + 1.0)
        return np.sum(w * (centered / scale))

    def one_division(text):
        reverse = [line for line in text.split("# reverse sweep")[1].splitlines()
                   if not line.strip().startswith("#")]
        return sum(" / scale" in line for line in reverse) == 1

    rng = np.random.default_rng(1)
    args = (rng.standard_normal((5, 3)), rng.standard_normal((5, 3)))
    # The general derivative: centered / scale has centered's shape, so its
    # gradient is not summed; scale's is (unbroadcast), with the same division
    text = checked_general_source(normalize, args, 0)
    assert "dcentered = unbroadcast(dmul_1 * w, x) / scale\n" in text, text
    assert "dscale = unbroadcast(" in text, text
    assert one_division(text), text
    # Specialized for 2-D arrays: scale's gradient is the sum over its length-1 axis
    text = check(normalize, args, 0)
    assert "Specialized for arrays: x (2-D float64 (n, n)), w (2-D float64 (n, n))" in text, text
    assert "unbroadcast" not in text, text
    assert re.search(r"\n    dcentered = [^\n]*\bw / scale\n", text), text
    assert "dscale = -(dcentered * div).sum(axis=0, keepdims=True)\n" in text, text
    assert one_division(text), text


def test_the_max_adjoint_adds_in_place_and_splits_ties():
    def peak(x):
        y = 2.0 * x
        return np.sum(np.max(y, axis=1) * np.arange(1.0, 3.0)) + np.sum(y * y)

    x = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 0.5]])           # a tie in row 0
    before = x.copy()
    text = check(peak, (x,), 0)
    assert "add_to=dy" in text, text
    np.testing.assert_array_equal(x, before)
    want = 8.0 * x + 2.0 * np.array([[0.0, 0.5, 0.5], [2.0, 0.0, 0.0]])
    np.testing.assert_allclose(pullback.grad(peak)(x), want, rtol=1e-12)


def test_adjoints_of_the_users_variables_keep_their_lines():
    def loss(w, x):
        pred = np.tanh(x @ w)
        return np.sum(pred * pred)

    w, x = np.array([0.5, -0.3]), np.array([[1.0, 2.0], [0.5, -1.0]])
    text = check(loss, (w, x), 0)
    assert re.search(r"^\s*dpred = ", text, flags=re.M), text


def test_the_max_adjoint_adds_into_a_gradient_only_where_it_may():
    from pullback.runtime.reductions import extreme_grad

    a = np.array([[1.0, 3.0, 3.0], [2.0, np.nan, 0.5], [4.0, 1.0, 0.0]])
    y = np.max(a, axis=1, keepdims=True)            # row 1 is NaN: no entry gets its gradient
    g = np.array([[2.0], [5.0], [1.0]])
    want = np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(extreme_grad(g, a, y, 1, True), want)
    mine = np.ones((3, 3))
    assert extreme_grad(g, a, y, 1, True, add_to=mine) is mine          # its own array: in place
    np.testing.assert_array_equal(mine, 1.0 + want)
    narrow = np.ones((3, 3), dtype=np.float32)       # the float64 sum does not fit: a new array
    total = extreme_grad(g, a, y, 1, True, add_to=narrow)
    assert total is not narrow and total.dtype == np.float64
    np.testing.assert_array_equal(narrow, 1.0)
    np.testing.assert_array_equal(extreme_grad(g, a, y, 1, True, add_to=0.0), want)   # a number
    single = np.array([1.0, 5.0, 2.0])                 # no ties: every result has one entry
    np.testing.assert_array_equal(extreme_grad(3.0, single, np.max(single)), [0.0, 3.0, 0.0])


def newton_sum(a):
    total = 0.0
    for k in range(3):
        x = a + k
        r = x * x - a - k
        s = np.sin(x)
        while abs(r) > 1e-12:
            x = x - r / (2.0 * x)
            r = x * x - a - k
        total = total + x * s
    return total


def test_an_outer_loop_around_a_while_keeps_one_stack_of_tuples():
    text = check(newton_sum, (2.0,), 0)
    # x is assigned again inside the while, after the outer body pushed it:
    # the outer body still pushes one tuple, and the while body another; the
    # outer one at the end of the iteration, with the x the while computed
    # (issue 12: push after computing, pop at the start of the reverse step)
    assert text.count(".append(") == 2, text
    assert "iteration_stack.append((s, n_iter, x))" in text, text
    assert "s, n_iter, x = iteration_stack.pop()" in text, text
    assert "da -= dr\n" in text and "+= -" not in text, text      # a += -u -> a -= u


def cubic_roots(a):
    total = 0.0
    for k in range(1, 6):
        x = 1.0
        residual = x ** 3 + a * x - k
        while abs(residual) > 1e-12:
            x = x - residual / (3.0 * x * x + a)
            residual = x ** 3 + a * x - k
        total = total + x
    return total


def test_a_newton_loop_back_skips_the_zeros_of_its_first_step():
    text = check(cubic_roots, (0.7,), 0)
    # the last residual is computed only for the loop's test: its adjoint is
    # 0.0 on the first step back, and the terms it scales are skipped then
    # (after the step's values are popped, at its start: issue 12)
    assert ("dresidual = 0.0\n        for step in range(n_iter):\n"
            "            mul_1, add_1, div, x_start = iteration_stack_1.pop()\n"
            "            if step:\n") in text, text
    # x(a) solves x**3 + a x = k: dx/da = -x / (3 x**2 + a), at the real root
    a = 1.3
    expected = 0.0
    for k in range(1, 6):
        x = max(r.real for r in np.roots([1.0, 0.0, a, -k]) if abs(r.imag) < 1e-12)
        expected -= x / (3.0 * x * x + a)
    np.testing.assert_allclose(pullback.grad(cubic_roots)(a), expected, rtol=1e-9)


def mlp(W1, b1, W2, X, Y):
    h1 = np.tanh(X @ W1 + b1)
    out = h1 @ W2
    return np.mean((out - Y) ** 2)


def test_a_layer_keeps_only_its_activation():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal((4, 5)), rng.standard_normal(5), rng.standard_normal((5, 2)),
            rng.standard_normal((3, 4)), rng.standard_normal((3, 2)))
    text = check(mlp, args, (0, 1, 2))
    # the product and the sum are read only for their shapes: the forward
    # sweep keeps the user's expression, the reverse sweep asks h1 and the
    # product's operands
    assert "    h1 = np.tanh(X @ W1 + b1)\n" in text, text
    assert "matmul" not in text.replace("matmul_grad", ""), text
    assert "dh1 *= 1.0 - h1 * h1\n" in text and "dW1 = X.T @ dh1" in text, text


def broadcast_products(x, w, b, v, c):
    y = np.tanh(x @ w + b)           # x @ w is (3, 1): b (3, 4) widens it
    z = np.sin(v @ w + c)            # c (2, 3, 1) adds a leading axis
    return np.sum(y * y) + np.sum(z)


def test_a_product_widened_by_broadcasting_gets_its_adjoint_summed():
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((3, 2)), rng.standard_normal((2, 1)), rng.standard_normal((3, 4)),
            rng.standard_normal((3, 2)), rng.standard_normal((2, 3, 1)))
    wrt = (0, 1, 2, 3, 4)
    # The general derivative: matmul_grad_lhs sums the widened adjoint itself
    text = checked_general_source(broadcast_products, args, wrt)
    assert "matmul_grad_lhs(dadd, x, w)" in text, text
    assert "dc = unbroadcast(dadd_1, c)" in text, text
    # Specialized: w is (n, 1), so x @ w is too and b widens it: its adjoint
    # is summed over axis 1; c (n, n, 1) has the sum's shape, v @ w's is summed over axis 0
    text = check(broadcast_products, args, wrt)
    assert "w (2-D float64 (n, 1))" in text and "c (3-D float64 (n, n, 1))" in text, text
    assert "unbroadcast" not in text, text
    # (tanh's adjoint is written into dy's array: reuse_dead_arrays)
    assert "dy *= 1.0 - y * y\n" in text, text
    assert "dmatmul = dy.sum(axis=1, keepdims=True)\n" in text, text
    assert "dx = dmatmul @ w.T\n" in text, text
    assert "dmatmul_1 = dadd_1.sum(axis=0)\n" in text, text
    assert "dc = dadd_1\n" in text and "db = dy\n" in text, text


def rnn(Wx, Wh, xs, h):
    for t in range(4):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h * h)


def test_a_loop_keeps_no_product_for_its_shape():
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((3, 4)), 0.5 * rng.standard_normal((4, 4)),
            rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 4)))
    text = check(rnn, args, (0, 1, 2, 3))
    # the products' shapes come from their operands: neither is pushed,
    # restored or named, and the forward sweep reads as the user wrote it
    assert "matmul" not in text.replace("matmul_grad", ""), text
    assert "        h = np.tanh(xs_item @ Wx + h @ Wh)\n" in text, text
    assert "dh = dadd @ Wh.T" in text, text


def rnn_arguments():
    rng = np.random.default_rng(5)
    return (rng.standard_normal((3, 4)), 0.5 * rng.standard_normal((4, 4)),
            rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 4)))


def test_a_loop_adds_into_its_gradients_in_place():
    # the gradients start as new zeros no other name holds: each step adds in place
    text = checked_general_source(rnn, rnn_arguments(), (0, 1, 2, 3))
    assert "dWh = zeros_adjoint(Wh)\n" in text, text
    assert "dWh += matmul_grad_rhs(dadd, h, Wh)\n" in text, text
    assert "dWx += matmul_grad_rhs(dadd, xs_item, Wx)\n" in text, text


def test_the_specialized_loop_adds_into_its_gradients_in_place():
    text = check(rnn, rnn_arguments(), (0, 1, 2, 3))
    assert "Specialized for arrays" in text, text
    assert "dWh += h.T @ dadd\n" in text, text
    assert "dWx += xs_item.T @ dadd\n" in text, text


def widened_dot(a, b, c, M, v):
    s = np.sin(a @ b + c)            # a @ b is a number: c (3,) widens it
    t = np.cos(a @ M + v)            # a @ M is (4,): v (2, 4) adds an axis
    return np.sum(s) + np.sum(t * t)


def test_a_vector_product_widened_by_broadcasting_gets_its_adjoint_summed():
    rng = np.random.default_rng(6)
    args = (rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3),
            rng.standard_normal((3, 4)), rng.standard_normal((2, 4)))
    check(widened_dot, args, (0, 1, 2, 3, 4))


def widened_batch(A, B, C, v, c):
    s = np.tanh(A @ B + C)           # (2, 3, 5), widened to (6, 2, 3, 5) by C
    t = np.sin(A @ v + c)            # (2, 3), widened to (4, 2, 3) by c
    return np.sum(s * s) + np.sum(t)


def test_a_batched_product_widened_by_broadcasting_gets_its_adjoint_summed():
    rng = np.random.default_rng(7)
    args = (rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)),
            rng.standard_normal((6, 1, 1, 5)), rng.standard_normal(4), rng.standard_normal((4, 1, 3)))
    check(widened_batch, args, (0, 1, 2, 3, 4))


def grows(x, y, W):
    for i in range(3):
        x = np.concatenate([x, x]) * W[i]
    return np.sum(y * y)


def test_a_zero_gradient_has_the_shape_the_argument_had_on_entry():
    # the output does not depend on x, which the loop doubles from 2 to 16
    # entries: its gradient is zeros of x's shape on entry, so the restores
    # that bring x back are kept although the reverse sweep reads no value
    rng = np.random.default_rng(8)
    x, y, W = rng.standard_normal(2), rng.standard_normal(3), np.ones((3, 1))
    dx, dy = pullback.grad(grows, wrt=(0, 1))(x, y, W)
    np.testing.assert_array_equal(dx, np.zeros(2))
    np.testing.assert_allclose(dy, 2.0 * y)
