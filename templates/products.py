"""Adjoints of products of arrays: dot, outer, inner, tensordot, einsum and friends.

(The ``@`` operator and np.matmul live with the arithmetic operators.) The
index bookkeeping of the larger rules is in ``pullback.runtime.products``.

Tangents: a product is linear in each operand, so its tangent is the product
with one operand replaced by its tangent, one statement per operand. dot,
tensordot and einsum keep leading direction axes (``batched=True``) through
helpers of ``pullback.runtime.tangent_reductions``.
"""
import numpy as np

from pullback.rules import adjoint, d, rank
from pullback.runtime import dot_grad_lhs, dot_grad_rhs, matmul_grad_lhs, matmul_grad_rhs
from pullback.runtime.products import (cross_grad_a, cross_grad_b, einsum_grads, inner_grad_a,
                                       inner_grad_b, kron_grad_a, kron_grad_b, matvec_grad_matrix,
                                       matvec_grad_vector, tensordot_grad_a, tensordot_grad_b,
                                       vdot_grad, vecdot_grad, vecmat_grad_matrix,
                                       vecmat_grad_vector)
from pullback.runtime.tangent_reductions import (tangent_dot_lhs, tangent_dot_rhs, tangent_einsum,
                                                 tangent_tensordot_lhs, tangent_tensordot_rhs)
from pullback.tangent_rules import tangent

SHAPE = "array"             # one array, or a number (rules.SHAPES)


@adjoint(np.dot, shape="product")
def dot(y, a, b):
    d[a] = dot_grad_lhs(d[y], a, b)
    d[b] = dot_grad_rhs(d[y], a, b)


@tangent(np.dot, batched=True)
def dot_tangent(y, a, b):
    d[y] = tangent_dot_lhs(d[a], a, b)
    d[y] += tangent_dot_rhs(a, d[b], b)


@adjoint(np.outer, shape="outer")
def outer(out, a, b):
    if rank(a) == 1 and rank(b) == 1:       # two vectors: nothing flattened
        d[a] = d[out] @ b
        d[b] = a @ d[out]
    else:
        d[a] = np.reshape(np.dot(d[out], np.ravel(b)), np.shape(a))
        d[b] = np.reshape(np.dot(np.ravel(a), d[out]), np.shape(b))


@tangent(np.outer)
def outer_tangent(out, a, b):
    d[out] = np.outer(d[a], b)
    d[out] += np.outer(a, d[b])


if hasattr(np.linalg, "outer"):     # NumPy >= 2.0
    @adjoint(np.linalg.outer)
    def linalg_outer(out, x1, x2):
        d[x1] = np.dot(d[out], x2)
        d[x2] = np.dot(x1, d[out])

    @tangent(np.linalg.outer)
    def linalg_outer_tangent(out, x1, x2):
        d[out] = np.linalg.outer(d[x1], x2)
        d[out] += np.linalg.outer(x1, d[x2])


@adjoint(np.inner)
def inner(out, a, b):
    d[a] = inner_grad_a(d[out], a, b)
    d[b] = inner_grad_b(d[out], a, b)


@tangent(np.inner)
def inner_tangent(out, a, b):
    d[out] = np.inner(d[a], b)
    d[out] += np.inner(a, d[b])


@adjoint(np.vdot)
def vdot(out, a, b):
    d[a] = vdot_grad(d[out], b, a)
    d[b] = vdot_grad(d[out], a, b)


@tangent(np.vdot)
def vdot_tangent(out, a, b):
    d[out] = np.vdot(d[a], b)
    d[out] += np.vdot(a, d[b])


@adjoint(np.tensordot)
def tensordot(out, a, b, axes=2):
    d[a] = tensordot_grad_a(d[out], a, b, axes)
    d[b] = tensordot_grad_b(d[out], a, b, axes)


@tangent(np.tensordot, batched=True)
def tensordot_tangent(out, a, b, axes=2):
    d[out] = tangent_tensordot_lhs(d[a], a, b, axes)
    d[out] += tangent_tensordot_rhs(a, d[b], b, axes)


if hasattr(np.linalg, "tensordot"):     # NumPy >= 2.0
    @adjoint(np.linalg.tensordot)
    def linalg_tensordot(out, x1, x2, axes=2):
        d[x1] = tensordot_grad_a(d[out], x1, x2, axes)
        d[x2] = tensordot_grad_b(d[out], x1, x2, axes)

    @tangent(np.linalg.tensordot, batched=True)
    def linalg_tensordot_tangent(out, x1, x2, axes=2):
        d[out] = tangent_tensordot_lhs(d[x1], x1, x2, axes)
        d[out] += tangent_tensordot_rhs(x1, d[x2], x2, axes)


@adjoint(np.einsum, shape="contracted")
def einsum(out, subscripts, *operands, optimize=False):
    # Explicit ('ij,jk->ik') and implicit ('ij,jk') subscripts, ellipses,
    # repeated letters within an operand ('ii->i'), letters summed in one operand.
    # optimize= only picks the order of the products: the value, and so the
    # adjoint, is the same.
    d[operands] = einsum_grads(d[out], subscripts, operands)


@tangent(np.einsum, batched=True)
def einsum_tangent(out, subscripts, *operands, optimize=False):
    # one einsum per operand that moves, with its tangent in its place
    d[out] = tangent_einsum(subscripts, operands, d[operands])


@adjoint(np.kron)
def kron(out, a, b):
    d[a] = kron_grad_a(d[out], a, b)
    d[b] = kron_grad_b(d[out], a, b)


@tangent(np.kron)
def kron_tangent(out, a, b):
    d[out] = np.kron(d[a], b)
    d[out] += np.kron(a, d[b])


@adjoint(np.cross)
def cross(c, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[a] = cross_grad_a(d[c], a, b, axisa, axisb, axisc, axis)
    d[b] = cross_grad_b(d[c], a, b, axisa, axisb, axisc, axis)


@tangent(np.cross)
def cross_tangent(c, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[c] = np.cross(d[a], b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)
    d[c] += np.cross(a, d[b], axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


if hasattr(np.linalg, "cross"):     # NumPy >= 2.0
    @adjoint(np.linalg.cross)
    def linalg_cross(c, x1, x2, axis=-1):
        d[x1] = cross_grad_a(d[c], x1, x2, -1, -1, -1, axis)
        d[x2] = cross_grad_b(d[c], x1, x2, -1, -1, -1, axis)

    @tangent(np.linalg.cross)
    def linalg_cross_tangent(c, x1, x2, axis=-1):
        d[c] = np.linalg.cross(d[x1], x2, axis=axis)
        d[c] += np.linalg.cross(x1, d[x2], axis=axis)


if hasattr(np.linalg, "matmul"):     # NumPy >= 2.0
    @adjoint(np.linalg.matmul)
    def linalg_matmul(z, x1, x2):
        d[x1] = matmul_grad_lhs(d[z], x1, x2)
        d[x2] = matmul_grad_rhs(d[z], x1, x2)

    @tangent(np.linalg.matmul)
    def linalg_matmul_tangent(z, x1, x2):
        d[z] = np.linalg.matmul(d[x1], x2)
        d[z] += np.linalg.matmul(x1, d[x2])


if hasattr(np.linalg, "vecdot"):     # NumPy >= 2.0
    @adjoint(np.linalg.vecdot)
    def linalg_vecdot(out, x1, x2, axis=-1):
        d[x1] = vecdot_grad(d[out], x2, x1, axis)
        d[x2] = vecdot_grad(d[out], x1, x2, axis)

    @tangent(np.linalg.vecdot)
    def linalg_vecdot_tangent(out, x1, x2, axis=-1):
        d[out] = np.linalg.vecdot(d[x1], x2, axis=axis)
        d[out] += np.linalg.vecdot(x1, d[x2], axis=axis)


# NumPy 2 gufuncs (absent from older NumPy: registered only where they exist).
if hasattr(np, "vecdot"):
    @adjoint(np.vecdot)
    def vecdot(out, x1, x2, axis=-1):
        d[x1] = vecdot_grad(d[out], x2, x1, axis)
        d[x2] = vecdot_grad(d[out], x1, x2, axis)

    @tangent(np.vecdot)
    def vecdot_tangent(out, x1, x2, axis=-1):
        d[out] = np.vecdot(d[x1], x2, axis=axis)
        d[out] += np.vecdot(x1, d[x2], axis=axis)

if hasattr(np, "matvec"):
    @adjoint(np.matvec)
    def matvec(out, x1, x2):
        d[x1] = matvec_grad_matrix(d[out], x1, x2)
        d[x2] = matvec_grad_vector(d[out], x1, x2)

    @tangent(np.matvec)
    def matvec_tangent(out, x1, x2):
        d[out] = np.matvec(d[x1], x2)
        d[out] += np.matvec(x1, d[x2])

if hasattr(np, "vecmat"):
    @adjoint(np.vecmat)
    def vecmat(out, x1, x2):
        d[x1] = vecmat_grad_vector(d[out], x1, x2)
        d[x2] = vecmat_grad_matrix(d[out], x1, x2)

    @tangent(np.vecmat)
    def vecmat_tangent(out, x1, x2):
        d[out] = np.vecmat(d[x1], x2)
        d[out] += np.vecmat(x1, d[x2])
