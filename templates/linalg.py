"""Adjoints and tangents of NumPy's linalg functions (see docs/templates.md).

The formulas are the classic reverse- and forward-mode results for matrix
functions (Giles 2008, "An extended collection of matrix derivative results";
Murray 2016 for Cholesky; Townsend 2016 for the SVD); the helpers that carry
them out live in ``pullback.runtime.linalg`` (adjoints, ``*_grad``) and
``pullback.runtime.tangent_linalg`` (tangents, ``*_jvp``). Functions
returning several arrays (qr, eigh, svd, slogdet, lstsq) receive the adjoint
of their result as a list with one entry per output (zeros for outputs the
code does not use), and give a tuple of tangents, one per output. Tangent
rules working on the last two axes only (matrix products and solves that
broadcast) are declared batched.

Conditions where the derivative exists: invertible matrices (inv, solve,
det, slogdet, negative matrix_power), distinct eigenvalues (eigh) and distinct
nonzero singular values (svd), full rank (pinv, lstsq). cholesky, eigh and
eigvalsh read one triangle of their input (``UPLO``, ``upper``); their
gradients live on that triangle (see pullback.runtime.linalg).
"""
import numpy as np

from pullback.rules import adjoint, d
from pullback.runtime import unbroadcast
from pullback.runtime.linalg import (cholesky_grad, det_grad, eigh_grad, eigvalsh_grad, inv_grad,
                                     lstsq_grads, matrix_power_grad, multi_dot_grads, pinv_grad,
                                     qr_grad, slogdet_grad, solve_grad_a, solve_grad_b, svd_grad,
                                     svdvals_grad, tensorinv_grad, tensorsolve_grads,
                                     vector_norm_grad)
from pullback.runtime.reductions import norm_grad
from pullback.runtime.tangent_reductions import tangent_axes
from pullback.runtime.tangent_shape import tangent_array
from pullback.runtime.tangent_linalg import (add_tangents, cholesky_jvp, det_jvp, eigh_jvp,
                                             eigvalsh_jvp, lstsq_jvp_a, lstsq_jvp_b,
                                             matrix_power_jvp, multi_dot_jvp, pinv_jvp, qr_jvp,
                                             slogdet_jvp, solve_jvp_a, solve_jvp_b, svd_jvp,
                                             svdvals_jvp, tensorinv_jvp, tensorsolve_jvp_a,
                                             tensorsolve_jvp_b)
from pullback.runtime.tangents import zeros_tangent
from pullback.tangent_rules import tangent


@adjoint(np.linalg.inv)
def inv(y, a):
    d[a] = inv_grad(d[y], y)


@tangent(np.linalg.inv, batched=True)
def inv_tangent(y, a):
    # -y da y; matmul keeps leading direction axes
    d[y] = -(y @ d[a] @ y)


@adjoint(np.linalg.solve)
def solve(x, a, b):
    gb = solve_grad_b(d[x], a, b)
    d[b] = unbroadcast(gb, b)
    d[a] = solve_grad_a(gb, a, b, x)


@tangent(np.linalg.solve, batched=True)
def solve_tangent(x, a, b):
    # solve(a, db - da x)
    d[x] = solve_jvp_b(a, d[b], b, x)
    d[x] += solve_jvp_a(a, d[a], b, x)


@adjoint(np.linalg.det)
def det(y, a):
    d[a] = det_grad(d[y], a, y)


@tangent(np.linalg.det, batched=True)
def det_tangent(y, a):
    d[y] = det_jvp(a, d[a], y)


@adjoint(np.linalg.slogdet)
def slogdet(y, a):
    # y = (sign, logabsdet): only logabsdet carries a derivative.
    d[a] = slogdet_grad(d[y], a)


@tangent(np.linalg.slogdet, batched=True)
def slogdet_tangent(y, a):
    d[y] = slogdet_jvp(a, d[a], y)


@adjoint(np.linalg.cholesky)
def cholesky(l, a, upper=False):
    d[a] = cholesky_grad(d[l], l, upper)


@tangent(np.linalg.cholesky, batched=True)
def cholesky_tangent(l, a, upper=False):
    d[l] = cholesky_jvp(l, d[a], upper)


@adjoint(np.linalg.qr)
def qr(y, a, mode="reduced"):
    d[a] = qr_grad(d[y], a, y, mode)


@tangent(np.linalg.qr, batched=True)
def qr_tangent(y, a, mode="reduced"):
    d[y] = qr_jvp(a, d[a], y, mode)


@adjoint(np.linalg.eigh)
def eigh(y, a, UPLO="L"):
    d[a] = eigh_grad(d[y], y, UPLO)


@tangent(np.linalg.eigh, batched=True)
def eigh_tangent(y, a, UPLO="L"):
    d[y] = eigh_jvp(y, d[a], UPLO)


@adjoint(np.linalg.eigvalsh)
def eigvalsh(w, a, UPLO="L"):
    d[a] = eigvalsh_grad(d[w], a, UPLO)


@tangent(np.linalg.eigvalsh, batched=True)
def eigvalsh_tangent(w, a, UPLO="L"):
    d[w] = eigvalsh_jvp(a, d[a], UPLO)


@adjoint(np.linalg.svd)
def svd(y, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] = svd_grad(d[y], a, y, full_matrices, compute_uv, hermitian)


@tangent(np.linalg.svd, batched=True)
def svd_tangent(y, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[y] = svd_jvp(a, d[a], y, full_matrices, compute_uv, hermitian)


if hasattr(np.linalg, "svdvals"):     # NumPy >= 2.0
    @adjoint(np.linalg.svdvals)
    def svdvals(s, x):
        d[x] = svdvals_grad(d[s], x)

    @tangent(np.linalg.svdvals, batched=True)
    def svdvals_tangent(s, x):
        d[s] = svdvals_jvp(x, d[x])


@adjoint(np.linalg.pinv)
def pinv(y, a, rcond=None, hermitian=False, rtol=None):
    d[a] = pinv_grad(d[y], a, y, hermitian)


@tangent(np.linalg.pinv, batched=True)
def pinv_tangent(y, a, rcond=None, hermitian=False, rtol=None):
    d[y] = pinv_jvp(a, d[a], y, hermitian)


@adjoint(np.linalg.lstsq)
def lstsq(y, a, b, rcond=None):
    # Through the solution y[0] and the residuals y[1]; full rank.
    grads = lstsq_grads(d[y], a, b, y)
    d[a] = grads[0]
    d[b] = grads[1]


@tangent(np.linalg.lstsq)
def lstsq_tangent(y, a, b, rcond=None):
    # one tangent per output (x, residuals, rank, s), each argument's part added in
    parts = zeros_tangent(y)
    parts = add_tangents(parts, lstsq_jvp_a(a, d[a], b, y))
    parts = add_tangents(parts, lstsq_jvp_b(a, d[b], b, y))
    d[y] = parts


@adjoint(np.linalg.matrix_power)
def matrix_power(y, a, n):
    d[a] = matrix_power_grad(d[y], a, n)


@tangent(np.linalg.matrix_power, batched=True)
def matrix_power_tangent(y, a, n):
    d[y] = matrix_power_jvp(a, d[a], n)


@adjoint(np.linalg.multi_dot)
def multi_dot(y, arrays):
    d[arrays] = multi_dot_grads(d[y], arrays)


@tangent(np.linalg.multi_dot)
def multi_dot_tangent(y, arrays):
    d[y] = multi_dot_jvp(arrays, d[arrays], y)


@adjoint(np.linalg.tensorinv)
def tensorinv(y, a, ind=2):
    d[a] = tensorinv_grad(d[y], a, y, ind)


@tangent(np.linalg.tensorinv, batched=True)
def tensorinv_tangent(y, a, ind=2):
    d[y] = tensorinv_jvp(a, d[a], y, ind)


@adjoint(np.linalg.tensorsolve)
def tensorsolve(x, a, b, axes=None):
    grads = tensorsolve_grads(d[x], a, b, x, axes)
    d[a] = grads[0]
    d[b] = grads[1]


@tangent(np.linalg.tensorsolve)
def tensorsolve_tangent(x, a, b, axes=None):
    d[x] = tensorsolve_jvp_b(a, d[b], b, x, axes)
    d[x] += tensorsolve_jvp_a(a, d[a], b, x, axes)


# -- the Array API norms (NumPy 2): np.linalg.norm's rules (templates/reductions.py)
# with their conventions: ties of the inf-norms split evenly, 0 at x = 0.

if hasattr(np.linalg, "vector_norm"):
    @adjoint(np.linalg.vector_norm, shape="reduction")
    def vector_norm(y, x, *, keepdims=False, ord=2, axis=None):
        d[x] = vector_norm_grad(d[y], x, y, ord, axis, keepdims)

    @tangent(np.linalg.vector_norm, batched=True)
    def vector_norm_tangent(y, x, *, keepdims=False, ord=2, axis=None):
        gradient = vector_norm_grad(np.ones_like(y), x, y, ord, axis, keepdims)
        d[y] = np.sum(tangent_array(d[x], x) * gradient, axis=tangent_axes(x, axis),
                      keepdims=keepdims)

    # The norm of each matrix of a stack: over the last two axes.
    @adjoint(np.linalg.matrix_norm, shape="array")
    def matrix_norm(y, x, *, keepdims=False, ord="fro"):
        d[x] = norm_grad(d[y], x, y, ord, (-2, -1), keepdims)

    @tangent(np.linalg.matrix_norm, batched=True)
    def matrix_norm_tangent(y, x, *, keepdims=False, ord="fro"):
        gradient = norm_grad(np.ones_like(y), x, y, ord, (-2, -1), keepdims)
        d[y] = np.sum(tangent_array(d[x], x) * gradient, axis=(-2, -1), keepdims=keepdims)
