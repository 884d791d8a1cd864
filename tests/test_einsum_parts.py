"""The adjoints of np.einsum written out where the operands' shapes are known
(transform/einsum_parts.py), and the run-time helper kept where they are not.
Each gradient against central differences; the source says which path it took.
"""
import numpy as np
import pytest

import pullback
from reference import central_difference, checked_general_source, checked_source

rng = np.random.default_rng(7)
A, B, S = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(4, 4))
x, y, z = rng.normal(size=3), rng.normal(size=4), rng.normal(size=4)
BATCH = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 5))


def matrix_product(a, b):
    return np.sum(np.tanh(np.einsum("ij,jk->ik", a, b)))


def bilinear(v, m, w):
    return np.einsum("i,ij,j->", v, m, w) ** 2


def dot(v, w):
    return np.sin(np.einsum("i,i->", v, w))


def outer(v, w):
    return np.sum(np.einsum("i,j->ij", v, w) ** 2)


def transposed_out(a, b):
    return np.sum(np.einsum("ij,jk->ki", a, b) * np.arange(15.0).reshape(5, 3))


def batched(p, q):
    return np.sum(np.einsum("bij,bjk->bik", p, q) ** 2)


def same_operand_twice(s):
    return np.sum(np.einsum("ij,jk->ik", s, s) ** 2)


def constant_operand(a):
    return np.sum(np.cos(np.einsum("ij,jk->ik", a, np.ones((4, 2)))))


def with_optimize(v, m, w):
    return np.einsum("i,ij,j->", v, m, w, optimize=True) + np.sum(
        np.einsum("ij,jk->ik", m.T, m, optimize="greedy") ** 2)


# kept on the helper: a letter only one operand carries, three terms, an ellipsis,
# a repeated letter, a length-1 axis broadcast against a longer one
def summed_within(a, b):
    return np.einsum("ij,jk->", a, b) ** 2


def chain(a, b, c):
    return np.sum(np.einsum("ij,jk,kl->il", a, b, c) ** 2)


def ellipsis(p, q):
    return np.sum(np.einsum("...ij,...jk->...ik", p, q) ** 2)


def trace(s):
    return np.einsum("ii->", s) ** 2


def broadcast_letter(a, v):
    return np.sum(np.einsum("ij,j->i", a, v) ** 2)


WRITTEN = [
    (matrix_product, (A, B), (0, 1)),
    (bilinear, (x, A, y), (0, 1, 2)),
    (dot, (y, z), (0, 1)),
    (outer, (x, y), (0, 1)),
    (transposed_out, (A, B), (0, 1)),
    (batched, BATCH, (0, 1)),
    (same_operand_twice, (S,), 0),
    (constant_operand, (A,), 0),
    (with_optimize, (y, S, z), (0, 1, 2)),
]
KEPT = [
    (summed_within, (A, B), (0, 1)),
    (chain, (A, B, rng.normal(size=(5, 2))), (0, 1, 2)),
    (ellipsis, BATCH, (0, 1)),
    (trace, (S,), 0),
    (broadcast_letter, (A[:, :1], y), (0, 1)),
]


def _code(source):
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("f, args, wrt", WRITTEN, ids=[c[0].__name__ for c in WRITTEN])
def test_each_adjoint_is_its_own_einsum(f, args, wrt):
    code = _code(checked_source(f, args, wrt))
    assert "einsum_grads" not in code and "np.einsum(" in code, code


@pytest.mark.parametrize("f, args, wrt", KEPT, ids=[c[0].__name__ for c in KEPT])
def test_the_helper_stays_where_shapes_or_subscripts_need_it(f, args, wrt):
    code = _code(checked_source(f, args, wrt))
    assert "einsum_grads" in code, code


@pytest.mark.parametrize("f, args, wrt", WRITTEN[:3], ids=[c[0].__name__ for c in WRITTEN[:3]])
def test_the_general_derivative_keeps_the_helper(f, args, wrt):
    assert "einsum_grads" in _code(checked_general_source(f, args, wrt))


def test_only_the_wanted_adjoints_are_computed():
    code = _code(checked_source(bilinear, (x, A, y), 1))
    assert code.count("np.einsum(") == 2, code     # the value's and A's: not x's or y's


def test_a_scalar_result_scales_the_einsum_of_the_others():
    code = _code(checked_source(bilinear, (x, A, y), 1))
    assert "np.einsum('i,j->ij', v, w)" in code, code


def test_second_derivatives_through_the_written_adjoints():
    # f = sum(tanh(A B)): its gradient (1 - t**2) B^T, t = tanh(A B), changes along
    # V by (-2 t (1 - t**2) (V B)) B^T (derived by hand)
    V = rng.normal(size=A.shape)
    t = np.tanh(A @ B)
    expected = (-2 * t * (1 - t ** 2) * (V @ B)) @ B.T
    got = pullback.hessian(matrix_product, wrt=0)(A, B)
    np.testing.assert_allclose(np.tensordot(got, V, axes=2), expected, rtol=1e-10, atol=1e-12)
