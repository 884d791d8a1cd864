"""Three optimizer passes first written for one benchmark workload each, as general rules.

skip_zero_first_step (Kepler), fuse_product_sums and share_shape_references
(the MLP) on programs that are not benchmark workloads: for each pass, three
or more programs (different operations, loops and shapes) where the
generated source shows the rewrite, one near miss where it must not fire,
and every gradient against central finite differences in float64. "Shows
the rewrite" is decided by generating the same derivative with the pass
replaced by one that changes nothing: the difference is the pass's doing.
"""
import ast
import re

import numpy as np
import pytest

import pullback
from pullback import pipeline
from pullback.backend import cache
from pullback.optimize import fuse_product_sums, share_shape_references, skip_zero_first_step
from reference import central_difference


def unchanged(fn, facts):
    return fn


def generated(function, args, wrt, tmp_path, without=None):
    """(source, gradient) of ``pullback.grad(function, wrt)`` at ``args``, made
    afresh (own cache directory, nothing in memory), with the optimizer pass
    ``without`` replaced by one that changes nothing."""
    index = pipeline.OPTIMIZER.index(without) if without else None
    if without:
        pipeline.OPTIMIZER[index] = unchanged
    folder = tmp_path / (without.__name__ if without else "every-pass")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULLBACK_CACHE_DIR", str(folder))
        try:
            cache.memory_forget(function)
            gradient = pullback.grad(function, wrt=wrt)
            value = gradient(*args)
            text = pullback.source(gradient)
        finally:
            if without:
                pipeline.OPTIMIZER[index] = without
            cache.memory_forget(function)
    return text, value


def check_gradient(function, args, wrt, gradient):
    """Every entry against central differences of ``function`` (float64)."""
    indices = (wrt,) if isinstance(wrt, int) else wrt
    values = (gradient,) if isinstance(wrt, int) else gradient
    for index, value in zip(indices, values):
        expected = central_difference(function, args, index)
        assert np.shape(value) == np.shape(expected), (index, np.shape(value), np.shape(expected))
        # tight: a Newton loop's last steps hardly move its derivative (checked: 1e-6 let a
        # wrong first step through; right gradients agree to about 1e-10 here, zeros to
        # the differences' rounding, about 1e-10 of the largest entry)
        np.testing.assert_allclose(value, expected, rtol=1e-7, atol=1e-8 * max(1.0, np.max(np.abs(expected))),
                                   err_msg=f"argument {index}")


def both(function, args, wrt, tmp_path, optimizer_pass):
    """The source without ``optimizer_pass`` and with it; the gradient (with it) checked."""
    without, _ = generated(function, args, wrt, tmp_path, without=optimizer_pass)
    source, gradient = generated(function, args, wrt, tmp_path)
    check_gradient(function, args, wrt, gradient)
    return without, source


def body(source):
    """The generated function's text from its ``def`` (not the header comments)."""
    return source[source.index("def "):]


# --------------------------------------------------------------------------- skip_zero_first_step
# A loop's last forward step computes a value only the loop's test reads: its
# adjoint is zero entering the reverse loop, and the first reverse step skips
# the terms that add multiples of it.

def cubic_roots(c):
    """A Newton ``while`` inside a ``for``: roots of x**3 - c x - 1 - 0.05 k."""
    total = 0.0
    for k in range(20):
        x = 1.0 + 0.1 * k
        r = x ** 3 - c * x - 1.0 - 0.05 * k
        while abs(r) > 1e-12:
            x = x - r / (3.0 * x ** 2 - c)
            r = x ** 3 - c * x - 1.0 - 0.05 * k
        total = total + x
    return total


def cosine_fixed_point(p):
    """A fixed-point ``while`` at the top level, trigonometric: x = cos(p x)."""
    x = 0.5
    r = np.cos(p * x) - x
    while abs(r) > 1e-12:
        x = x + r / (1.0 + p * np.sin(p * x))
        r = np.cos(p * x) - x
    return x * x


def sphere_projection(v, c):
    """Array state, a number as the residual: scale x until |x|**2 = c."""
    x = v
    r = np.sum(x * x) - c
    while abs(r) > 1e-12:
        x = x * (1.0 - 0.5 * r / (r + c))
        r = np.sum(x * x) - c
    return np.sum(x * v)


def relaxation(p):
    """Five relaxation steps, counted by the loop's test; the residual is read
    by the next step only (not converged: every step's terms count)."""
    x = 1.0
    r = np.sin(x) - p * x
    n = 0
    while n < 5:
        x = x - 0.5 * r
        r = np.sin(x) - p * x
        n = n + 1
    return x


def relaxation_and_residual(p):
    """The near miss: the residual is read after the loop too, so its adjoint
    is not zero entering the reverse loop."""
    x = 1.0
    r = np.sin(x) - p * x
    n = 0
    while n < 5:
        x = x - 0.5 * r
        r = np.sin(x) - p * x
        n = n + 1
    return x + 10.0 * r


def guarded_first_steps(source):
    """The loops ``for step in range(n):`` whose body has an ``if step:``."""
    return [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.For)
            and isinstance(node.target, ast.Name) and any(
                isinstance(inner, ast.If) and isinstance(inner.test, ast.Name) and inner.test.id == node.target.id
                for inner in node.body)]


@pytest.mark.parametrize("function, args, wrt", [
    (cubic_roots, (0.7,), 0),
    (cosine_fixed_point, (0.7,), 0),
    (sphere_projection, (np.array([0.3, 0.5, 0.2]), 2.0), (0, 1)),
    (relaxation, (0.3,), 0),
], ids=["newton-in-for", "trig-fixed-point", "array-state", "counted-relaxation"])
def test_skip_zero_first_step_fires_on_loops_whose_last_value_only_the_test_reads(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, skip_zero_first_step)
    assert not guarded_first_steps(without)
    assert guarded_first_steps(source), body(source)


def test_skip_zero_first_step_leaves_a_loop_whose_residual_is_read_after_it(tmp_path):
    without, source = both(relaxation_and_residual, (0.3,), 0, tmp_path, skip_zero_first_step)
    assert not guarded_first_steps(source)
    assert body(source) == body(without)


# --------------------------------------------------------------------------- fuse_product_sums
# It fires where the derivative does not know a product's shape: the shape
# analysis then keeps ``unbroadcast(g, m)`` (see the module's docstring).

def reshaped_rows(p, W, b, k):
    """A product of a matrix whose number of rows is a runtime value."""
    X = np.reshape(p, (k, -1))
    return np.sum(np.exp(-(X @ W + b) ** 2))


def growing_state(W, B, h):
    """A loop whose state changes rank: (3,) on the first step, (2, 3) after."""
    for t in range(4):
        h = np.tanh(h @ W + B)
    return np.sum(h * h)


def solved_then_product(A, y, x, c):
    """A product of np.linalg.solve's result, then log1p."""
    S = np.linalg.solve(A, y)
    return np.sum(np.log1p((S @ x + c) ** 2))


def stacked_in_a_branch(W, x, c, stacked):
    """A branch joining a 1-D and a 2-D operand."""
    if stacked:
        x = x[None, :] * np.ones((2, 1))
    return np.sum(np.tanh(x @ W + c))


def product_also_multiplied(p, W, b, k):
    """The near miss: the product's adjoint has a second term (it is read twice)."""
    X = np.reshape(p, (k, -1))
    M = X @ W
    return np.sum(np.exp(-(M + b) ** 2) * M)


def summed_products(source):
    """The names ``m`` of ``m = a @ b`` that an ``unbroadcast(g, m)`` reads."""
    products = set(re.findall(r"^\s*(\w+) = \w+ @ \w+\s*$", source, re.M))
    return {m for m in products if re.search(rf"unbroadcast\([^()]*, {m}\)", source)}


@pytest.mark.parametrize("function, args, wrt", [
    (reshaped_rows, (np.linspace(0.0, 1.0, 12), 0.1 * np.arange(1.0, 9.0).reshape(4, 2), np.array([0.5, -0.2]), 3),
     (0, 1, 2)),
    (growing_state, (0.1 * np.eye(3) + 0.05, np.full((2, 3), 0.2), np.array([0.3, -0.1, 0.2])), (0, 1, 2)),
    (solved_then_product, (2.0 * np.eye(3) + 0.1, np.linspace(0.1, 1.2, 12).reshape(3, 4),
                           np.array([0.2, -0.1, 0.3, 0.1]), np.array([0.5, 0.1, -0.3])), (0, 1, 2, 3)),
    (stacked_in_a_branch, (0.1 * np.arange(12.0).reshape(3, 4), np.array([0.2, -0.3, 0.1]),
                           np.array([0.5, 0.1, -0.2, 0.3]), True), (0, 1, 2)),
], ids=["runtime-reshape", "rank-changing-loop", "linalg-solve", "branch"])
def test_fuse_product_sums_hands_the_helpers_the_unsummed_adjoint(function, args, wrt, tmp_path):
    without, source = both(function, args, wrt, tmp_path, fuse_product_sums)
    fused = summed_products(body(without))
    assert fused, ("fuse_product_sums has nothing to do here any more: the derivative knows the product's "
                   "shape; pick a program whose shapes it cannot know\n" + body(without))
    assert not summed_products(body(source))
    for m in fused:       # the product is no longer kept, nor named apart
        assert not re.search(rf"\b{m}\b", body(source)), body(source)


def test_fuse_product_sums_leaves_a_product_whose_adjoint_has_another_term(tmp_path):
    args = (np.linspace(0.0, 1.0, 12), 0.1 * np.arange(1.0, 9.0).reshape(4, 2), np.array([0.5, -0.2]), 3)
    without, source = both(product_also_multiplied, args, (0, 1, 2), tmp_path, fuse_product_sums)
    assert re.search(r"unbroadcast\([^\n]*, M\)", body(source))
    assert body(source) == body(without)


# --------------------------------------------------------------------------- share_shape_references

def softplus_readout(W, b, v, X, y):
    """A softplus layer and a linear read-out: the layer's input is read for its shape."""
    h = np.log1p(np.exp(X @ W + b))
    return np.sum((h @ v - y) ** 2)


def sigmoid_then_sine(W, V, X):
    """A sigmoid, a sine of a product, and a transposed parameter."""
    h = 1.0 / (1.0 + np.exp(-(X @ W)))
    g = np.sin(h @ V)
    return np.sum(g @ V.T)


def scaled_exponential(A, s, t):
    """A broadcast scaling, then the product of its exponential with a vector."""
    B = A * s
    C = np.exp(B) @ t
    return np.sum(C * C)


def linear_chain(W, V, x):
    """The near miss: ``x @ W`` is read only for its shape, but no kept value has it."""
    return np.sum((x @ W) @ V)


def forward_names(source):
    """The names the forward sweep assigns."""
    forward = source[source.index("# forward sweep"):source.index("# reverse sweep")]
    return set(re.findall(r"^\s*(\w+)(?:, \w+)* = ", forward, re.M))


def reverse_reads(source):
    """The names the reverse sweep's code mentions (not its comments)."""
    code = re.sub(r"#.*", "", source[source.index("# reverse sweep"):])
    return set(re.findall(r"[A-Za-z_]\w*", code))


@pytest.mark.parametrize("function, args, wrt", [
    (softplus_readout, (0.1 * np.arange(12.0).reshape(3, 4), np.array([0.2, -0.1, 0.3, 0.1]),
                        np.array([0.3, 0.1, -0.2, 0.4]), np.linspace(-1.0, 1.0, 15).reshape(5, 3).tolist(),
                        np.linspace(0.0, 1.0, 5)), (0, 1, 2)),
    (sigmoid_then_sine, (0.1 * np.arange(12.0).reshape(3, 4), 0.05 * np.arange(16.0).reshape(4, 4),
                         np.linspace(-1.0, 1.0, 15).reshape(5, 3).tolist()), (0, 1)),
], ids=["softplus", "sigmoid-sine"])
def test_share_shape_references_reads_a_value_kept_anyway(function, args, wrt, tmp_path):
    """The data ``X`` arrives as a list of rows: no array kind says its shape,
    so the products' adjoints stay the general helpers, which read operands
    for their shape. (With arrays, the helpers become ``g @ W.T`` and
    ``X.T @ g``, which read nothing for its shape: the pass is subsumed.)"""
    without, source = both(function, args, wrt, tmp_path, share_shape_references)
    swapped = (reverse_reads(body(without)) - reverse_reads(body(source))) & forward_names(body(without))
    assert swapped, "share_shape_references changed no value the reverse sweep reads\n" + body(without)
    for name in swapped:     # a temporary of the forward sweep is then not kept, nor named apart
        if name not in function.__code__.co_varnames:
            assert not re.search(rf"\b{name}\b", body(source)), body(source)


def test_known_shapes_subsume_the_pass(tmp_path):
    """With arrays of known ranks the pass finds nothing left to do: the
    product's adjoint is written out (``dC[:, None] * t`` for the 2-D
    ``np.exp(B)`` times the vector ``t``; ``exp.T @ dC``), reading no value for
    its shape, and ``np.exp(A * s)`` has the parameter A's shape (the array
    kinds say the 1-D s broadcasts into it)."""
    args = (0.1 * np.arange(12.0).reshape(3, 4), np.array([0.2, -0.1, 0.3, 0.1]),
            np.array([0.3, 0.1, -0.2, 0.4]))
    without, source = both(scaled_exponential, args, (0, 1, 2), tmp_path, share_shape_references)
    assert without == source
    assert "matmul_grad" not in body(source) and "dC[:, None] * t" in body(source), body(source)


def test_share_shape_references_keeps_a_reference_with_no_twin(tmp_path):
    # x a list of rows: no rank known for x @ W, whose adjoint keeps the helper
    args = (0.1 * np.arange(12.0).reshape(3, 4), 0.2 * np.arange(8.0).reshape(4, 2),
            np.linspace(-1.0, 1.0, 15).reshape(5, 3).tolist())
    without, source = both(linear_chain, args, 0, tmp_path, share_shape_references)
    assert re.search(r"matmul_grad_lhs\([^\n]*, matmul, V\)", body(source))
    assert body(source) == body(without)
