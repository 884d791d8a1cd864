"""Adjoints of NumPy's linalg functions (see docs/templates.md).

The formulas are the classic reverse-mode results for matrix functions (Giles
2008, "An extended collection of matrix derivative results"; Murray 2016 for
Cholesky; Townsend 2016 for the SVD); the helpers that carry them out live in
``pullback.runtime.linalg``. Functions returning several arrays (qr, eigh,
svd, slogdet, lstsq) receive the adjoint of their result as a list with one
entry per output (zeros for outputs the code does not use).

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
                                     svdvals_grad, tensorinv_grad, tensorsolve_grads)


@adjoint(np.linalg.inv)
def inv(y, a):
    d[a] = inv_grad(d[y], y)


@adjoint(np.linalg.solve)
def solve(x, a, b):
    gb = solve_grad_b(d[x], a, b)
    d[b] = unbroadcast(gb, b)
    d[a] = solve_grad_a(gb, a, b, x)


@adjoint(np.linalg.det)
def det(y, a):
    d[a] = det_grad(d[y], a, y)


@adjoint(np.linalg.slogdet)
def slogdet(y, a):
    # y = (sign, logabsdet): only logabsdet carries a derivative.
    d[a] = slogdet_grad(d[y], a)


@adjoint(np.linalg.cholesky)
def cholesky(l, a, upper=False):
    d[a] = cholesky_grad(d[l], l, upper)


@adjoint(np.linalg.qr)
def qr(y, a, mode="reduced"):
    d[a] = qr_grad(d[y], a, y, mode)


@adjoint(np.linalg.eigh)
def eigh(y, a, UPLO="L"):
    d[a] = eigh_grad(d[y], y, UPLO)


@adjoint(np.linalg.eigvalsh)
def eigvalsh(w, a, UPLO="L"):
    d[a] = eigvalsh_grad(d[w], a, UPLO)


@adjoint(np.linalg.svd)
def svd(y, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] = svd_grad(d[y], a, y, full_matrices, compute_uv, hermitian)


if hasattr(np.linalg, "svdvals"):     # NumPy >= 2.0
    @adjoint(np.linalg.svdvals)
    def svdvals(s, x):
        d[x] = svdvals_grad(d[s], x)


@adjoint(np.linalg.pinv)
def pinv(y, a, rcond=None, hermitian=False, rtol=None):
    d[a] = pinv_grad(d[y], a, y, hermitian)


@adjoint(np.linalg.lstsq)
def lstsq(y, a, b, rcond=None):
    # Through the solution y[0] and the residuals y[1]; full rank.
    grads = lstsq_grads(d[y], a, b, y)
    d[a] = grads[0]
    d[b] = grads[1]


@adjoint(np.linalg.matrix_power)
def matrix_power(y, a, n):
    d[a] = matrix_power_grad(d[y], a, n)


@adjoint(np.linalg.multi_dot)
def multi_dot(y, arrays):
    d[arrays] = multi_dot_grads(d[y], arrays)


@adjoint(np.linalg.tensorinv)
def tensorinv(y, a, ind=2):
    d[a] = tensorinv_grad(d[y], a, y, ind)


@adjoint(np.linalg.tensorsolve)
def tensorsolve(x, a, b, axes=None):
    grads = tensorsolve_grads(d[x], a, b, x, axes)
    d[a] = grads[0]
    d[b] = grads[1]
