"""The adjoint of ``a @ b`` and ``np.dot(a, b)`` written out where the
operands' ranks are known (transform/expand.py, ``_plain_product``):
``g @ b.T``, ``a.T @ g``, ``g[:, None] * b``, ``b @ g``, ``a[:, None] * g``,
``g * b`` for two vectors; the helpers stay where ranks are not known. Each
gradient is checked against central differences."""
import numpy as np
import pytest

import pullback
from reference import central_difference, checked_source


def product_loss(a, b, c):
    return np.sum(np.tanh(a @ b + c) ** 2)


def broadcast_product(a, b, c):
    """The product's adjoint comes from a sum with a larger ``c``: it is summed
    to the product's shape first."""
    return np.sum(np.sin((a @ b)[None] + c))


def product_of_a_list(a, b):
    """``b`` arrives as a list: its rank is not known, the helpers stay."""
    return np.sum(np.cos(a @ np.asarray(b)))


RNG = np.random.default_rng(9)
M, N, K = 4, 3, 5


@pytest.mark.parametrize("shapes, written", [
    (((M, K), (K, N), (N,)), ["@ b.T", "a.T @"]),
    (((M, K), (K,), (M,)), ["[:, None] * b", "a.T @"]),
    (((K,), (K, N), (N,)), ["b @ ", "a[:, None] *"]),
    (((M, K), (K, N), (M, 1)), ["@ b.T", "a.T @"]),
    (((1, K), (K, 1), (1, 1)), ["@ b.T", "a.T @"]),
], ids=["matrix-matrix", "matrix-vector", "vector-matrix", "column-bias", "ones"])
def test_known_ranks_write_the_product_out(shapes, written):
    args = tuple(RNG.standard_normal(s) for s in shapes)
    source = checked_source(product_loss, args, (0, 1, 2))
    reverse = source[source.index("# reverse sweep"):]
    assert "matmul_grad" not in reverse, source
    for text in written:
        assert text in reverse, (text, source)


def test_two_vectors_scale_each_other():
    args = (RNG.standard_normal(K), RNG.standard_normal(K), 0.5)
    source = checked_source(product_loss, args, (0, 1, 2))
    reverse = source[source.index("# reverse sweep"):]
    assert "matmul_grad" not in reverse and " * b" in reverse and " * a" in reverse, source


def dot_loss(a, b, c):
    return np.sum(np.tanh(np.dot(a, b) + c) ** 2) + 0.5 * np.dot(c, c)


@pytest.mark.parametrize("shapes", [((M, K), (K, N), (N,)), ((M, K), (K,), (M,)),
                                    ((K,), (K, N), (N,)), ((K,), (K,), (3,))],
                         ids=["matrix-matrix", "matrix-vector", "vector-matrix", "vectors"])
def test_np_dot_of_known_ranks_is_written_out(shapes):
    args = tuple(RNG.standard_normal(s) for s in shapes)
    source = checked_source(dot_loss, args, (0, 1, 2))
    reverse = source[source.index("# reverse sweep"):]
    assert "dot_grad" not in reverse and "matmul_grad" not in reverse, source


def test_np_dot_of_three_axes_keeps_the_helper():
    args = (RNG.standard_normal((2, M, K)), RNG.standard_normal((K, N)), RNG.standard_normal(N))
    source = checked_source(dot_loss, args, (0, 1, 2))
    assert "dot_grad_lhs" in source, source


@pytest.mark.parametrize("shapes", [((M, K), (K, N), (2, M, N)), ((M, K), (K,), (3, M))])
def test_an_adjoint_from_a_broadcast_is_summed_first(shapes):
    args = tuple(RNG.standard_normal(s) for s in shapes)
    checked_source(broadcast_product, args, (0, 1, 2))


def test_unknown_ranks_keep_the_helpers():
    a, b = RNG.standard_normal((M, K)), RNG.standard_normal((K, N)).tolist()
    grad = pullback.grad(product_of_a_list, wrt=0)
    np.testing.assert_allclose(grad(a, b), central_difference(product_of_a_list, (a, b), 0),
                               rtol=1e-6, atol=1e-8)
    assert "matmul_grad_lhs" in pullback.source(grad)


def test_float32_operands_keep_their_dtype():
    a = RNG.standard_normal((M, K)).astype(np.float32)
    b = RNG.standard_normal((K, N)).astype(np.float32)
    ga, gb = pullback.grad(lambda a, b: np.sum(a @ b), wrt=(0, 1))(a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float32
    np.testing.assert_allclose(ga, np.ones((M, N)) @ b.T, rtol=1e-5)
    np.testing.assert_allclose(gb, a.T @ np.ones((M, N)), rtol=1e-5)
