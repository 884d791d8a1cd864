"""Derivatives of the linear-algebra gradient helpers (``pullback.runtime.linalg``):
what the rules of templates/runtime_reductions.py call, so that a gradient
calling ``inv_grad``, ``solve_grad_b``, ``det_grad``, ``cholesky_grad``, ... is
itself differentiable (hessian, hvp, grad of grad). The naming is
``pullback.runtime.second_order``'s, which imports these back.
"""
import numpy as np

from pullback.runtime import unbroadcast, zeros_adjoint
from pullback.runtime.arrays import (as_array, is_foreign_array, like_array, number_or_array,
                                     zeros_of)
from pullback.runtime.linalg import (_diagonal, _float_dtype, _is_zero, _lower_phi, _mT,
                                     _read_triangle, _reciprocal_gaps, _solve_vector,
                                     _symmetric_from_triangle)

__all__ = [
    "inv_grad_wrt_y",
    "inv_grad_wrt_y_adjoint",
    "solve_grad_b_adjoint",
    "solve_grad_b_wrt_a",
    "solve_grad_b_wrt_a_adjoint",
    "solve_grad_a_adjoint",
    "det_grad_adjoint",
    "det_grad_wrt_a",
    "cholesky_grad_wrt_l",
    "cholesky_grad_adjoint",
    "slogdet_grad_adjoint",
    "slogdet_grad_wrt_a",
    "eigvalsh_grad_adjoint",
    "eigvalsh_grad_wrt_a",
    "matrix_power_grad_wrt_a",
]


# -- inverses, solves, determinants ----------------------------------------------------

def inv_grad_wrt_y(g, y, t):
    """Derivative of ``inv_grad(g, y) = -y^T g y^T`` with respect to ``y`` along ``t``."""
    yt, tt = _mT(y), _mT(t)
    return -(np.matmul(np.matmul(tt, g), yt) + np.matmul(np.matmul(yt, g), tt))


def inv_grad_wrt_y_adjoint(g, y, u):
    """Adjoint of :func:`inv_grad_wrt_y`: ``-(g y^T u^T + u^T y^T g)``."""
    ut, yt = _mT(u), _mT(y)
    return unbroadcast(-(np.matmul(np.matmul(g, yt), ut) + np.matmul(np.matmul(ut, yt), g)), y)


def _as_matrix(v, vector):
    return as_array(v)[..., None] if vector else as_array(v)


def _from_matrix(m, vector):
    return m[..., 0] if vector else m


def solve_grad_b_adjoint(u, a, b):
    """Adjoint of ``solve_grad_b(g, a, b) = solve(a^T, g)`` with respect to ``g``: ``solve(a, u)``."""
    vector = _solve_vector(a, b)
    return _from_matrix(np.linalg.solve(a, _as_matrix(u, vector)), vector)


def solve_grad_b_wrt_a(g, a, b, t):
    """Derivative of ``solve(a^T, g)`` with respect to ``a`` along ``t``: ``-solve(a^T, t^T r)``."""
    vector = _solve_vector(a, b)
    r = np.linalg.solve(_mT(a), _as_matrix(g, vector))
    return _from_matrix(-np.linalg.solve(_mT(a), np.matmul(_mT(t), r)), vector)


def solve_grad_b_wrt_a_adjoint(g, a, b, u):
    """Adjoint of :func:`solve_grad_b_wrt_a`: ``-r (a^{-1} u)^T``, summed to ``a``'s shape."""
    vector = _solve_vector(a, b)
    r = np.linalg.solve(_mT(a), _as_matrix(g, vector))
    p = np.linalg.solve(a, _as_matrix(u, vector))
    return unbroadcast(-np.matmul(r, _mT(p)), a)


def solve_grad_a_adjoint(u, gb, a, b, x):
    """Adjoints ``(d gb, d x)`` of ``solve_grad_a(gb, a, b, x) = -gb x^T``
    (summed to ``a``'s shape): ``-u x`` and ``-u^T gb``."""
    vector = _solve_vector(a, b)
    gm, xm = _as_matrix(gb, vector), _as_matrix(x, vector)
    batch = np.broadcast_shapes(gm.shape[:-2], xm.shape[:-2])
    full = np.broadcast_to(u, batch + (gm.shape[-2], xm.shape[-2]))
    dgb = _from_matrix(-np.matmul(full, xm), vector)
    dx = _from_matrix(-np.matmul(_mT(full), gm), vector)
    return unbroadcast(dgb, gb), unbroadcast(dx, x)


def det_grad_adjoint(u, a, other):
    """Adjoint of ``det_grad(g, a, y) = g y a^{-T}`` with respect to ``g``
    (``other`` is y) or to ``y`` (``other`` is g): ``sum(u * other * a^{-T})``."""
    total = np.sum(as_array(u) * _mT(np.linalg.inv(a)), axis=(-2, -1)) * as_array(other)
    return float(total) if np.ndim(total) == 0 and not isinstance(total, np.ndarray) \
        and not is_foreign_array(total) else total


def det_grad_wrt_a(g, a, y, t):
    """Derivative of ``g y a^{-T}`` with respect to ``a`` along ``t``:
    ``-g y a^{-T} t^T a^{-T}``; a symmetric map, so also its own adjoint."""
    it = _mT(np.linalg.inv(a))
    scale = (as_array(g) * as_array(y))[..., None, None]
    return -scale * np.matmul(np.matmul(it, _mT(t)), it)


# -- Cholesky -----------------------------------------------------------------------------

def _cholesky_parts(g, l, upper):
    if upper:
        l, g = _mT(l), _mT(as_array(g))
    l_inv = np.linalg.inv(l)
    s = np.matmul(np.matmul(_mT(l_inv), _lower_phi(np.matmul(_mT(l), g))), l_inv)
    return l, as_array(g), l_inv, s


def cholesky_grad_wrt_l(g, l, t, upper=False):
    """Derivative of ``cholesky_grad(g, l, upper)`` with respect to ``l`` along ``t``:
    with ``S = L^{-T} Phi(L^T g) L^{-1}`` the gradient is ``Phi(S + S^T)``, and
    ``dS = -L^{-T} t^T S + L^{-T} Phi(t^T g) L^{-1} - S t L^{-1}``."""
    l, g, l_inv, s = _cholesky_parts(g, l, upper)
    t = _mT(t) if upper else as_array(t)
    ds = -np.matmul(np.matmul(_mT(l_inv), _mT(t)), s) \
        + np.matmul(np.matmul(_mT(l_inv), _lower_phi(np.matmul(_mT(t), g))), l_inv) \
        - np.matmul(np.matmul(s, t), l_inv)
    grad = _lower_phi(ds + _mT(ds))
    return _mT(grad) if upper else grad


def cholesky_grad_adjoint(u, g, l, upper=False):
    """Adjoints ``(d g, d l)`` of ``cholesky_grad(g, l, upper)`` for the cotangent ``u``."""
    l, g, l_inv, s = _cholesky_parts(g, l, upper)
    u = _mT(u) if upper else as_array(u)
    w = _lower_phi(u)
    w = w + _mT(w)                                   # the adjoint of S -> Phi(S + S^T)
    z = _lower_phi(np.matmul(np.matmul(l_inv, w), _mT(l_inv)))
    dg = np.matmul(l, z)
    dl = -np.matmul(np.matmul(s + _mT(s), w), _mT(l_inv)) + np.matmul(g, _mT(z))
    if upper:
        dg, dl = _mT(dg), _mT(dl)
    return dg.astype(_float_dtype(g), copy=False), dl


# -- log-determinants, symmetric eigenvalues, powers ------------------------------------

def slogdet_grad_adjoint(u, g, a):
    """Adjoint of ``slogdet_grad(g, a) = g[1] a^{-T}`` with respect to the list
    ``g``: nothing for the sign, ``sum(u * a^{-T})`` for the log."""
    dlog = np.sum(as_array(u) * _mT(np.linalg.inv(a)), axis=(-2, -1))
    return [zeros_adjoint(g[0]), number_or_array(dlog) if isinstance(g[1], float) else dlog]


def slogdet_grad_wrt_a(g, a, t):
    """Derivative of ``slogdet_grad(g, a)`` with respect to ``a`` along ``t`` (its own adjoint)."""
    if _is_zero(g[1]):
        return zeros_of(np.shape(a), _float_dtype(a), a, t)
    return det_grad_wrt_a(g[1], a, 1.0, t)


def eigvalsh_grad_adjoint(u, a, UPLO="L"):
    """Adjoint of ``eigvalsh_grad(g, a, UPLO)`` with respect to ``g``:
    ``diag(v^T S(u) v)``, S the symmetric matrix the triangle stands for."""
    _, v = np.linalg.eigh(a, UPLO=UPLO)
    return _diagonal(np.matmul(np.matmul(_mT(v), _symmetric_from_triangle(u, UPLO)), v))


def eigvalsh_grad_wrt_a(g, a, t, UPLO="L"):
    """Derivative of ``eigvalsh_grad(g, a, UPLO)`` with respect to ``a`` along
    ``t`` (distinct eigenvalues): ``v (M o K) v^T`` on the triangle read, with
    ``M = v^T S(t) v`` and ``K[i, j] = (g[j] - g[i]) / (w[j] - w[i])``
    (0 on the diagonal). A symmetric map: its own adjoint."""
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    g = as_array(g)
    k = _reciprocal_gaps(w) * (g[..., None, :] - g[..., :, None])
    m = np.matmul(np.matmul(_mT(v), _symmetric_from_triangle(t, UPLO)), v)
    return _read_triangle(np.matmul(np.matmul(v, m * k), _mT(v)), UPLO)


def matrix_power_grad_wrt_a(g, a, t, n):
    """Derivative of ``matrix_power_grad(g, a, n)`` with respect to ``a`` along
    ``t`` (its own adjoint). That gradient is the derivative of ``X -> X^n`` at
    ``a^T`` along ``g``; this is the mixed second derivative along ``g`` and
    ``t^T``: the corner block of a power of the matrix of the dual number
    ``a^T + e1 g + e2 t^T`` (e1^2 = e2^2 = 0), exact, negative ``n`` included."""
    b = _mT(as_array(a))
    g = np.broadcast_to(like_array(g, b), b.shape)
    t = _mT(np.broadcast_to(like_array(t, b), b.shape))
    m = b.shape[-1]
    dtype = np.result_type(b, g, t, 1.0)
    blocks = {(0, 0): b, (1, 1): b, (2, 2): b, (3, 3): b, (0, 1): g, (2, 3): g, (0, 2): t,
              (1, 3): t}
    if is_foreign_array(b):         # joined, not written into zeros
        zero = zeros_of(b.shape, dtype, b)
        big = np.concatenate([np.concatenate([blocks.get((i, j), zero) for j in range(4)], axis=-1)
                              for i in range(4)], axis=-2).astype(dtype, copy=False)
    else:
        big = np.zeros(b.shape[:-2] + (4 * m, 4 * m), dtype=dtype)
        for (i, j), block in blocks.items():
            big[..., i * m:(i + 1) * m, j * m:(j + 1) * m] = block
    return np.linalg.matrix_power(big, int(n))[..., :m, 3 * m:]
