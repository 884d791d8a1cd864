"""Run-time helpers of the linear-algebra tangent (forward-mode) rules in
templates/linalg.py; their adjoint twins are in ``pullback.runtime.linalg``.

Every helper takes the primal values it needs and the tangent of the
argument (``da``, ``db``: shaped like the argument) and returns the tangent
of the result. Those of the rules declared ``batched`` also take a batch of
directions (extra leading axes, kept): they work on the last two axes only,
with broadcasting matrix products and solves. The formulas are the classic forward-mode
results (M. B. Giles, "An extended collection of matrix derivative results
for forward and reverse mode algorithmic differentiation", 2008; I. Murray,
"Differentiation of the Cholesky decomposition", 2016; J. Townsend,
"Differentiating the singular value decomposition", 2016), real case only.
Each is the transpose of its adjoint twin: where the adjoint assumes
something (full rank, distinct eigenvalues) the tangent assumes the same.

Routines that read one triangle of their input (``cholesky``, ``eigh``,
``eigvalsh``, ``svd``/``pinv`` with ``hermitian=True``) differentiate the
symmetric matrix they see: the tangent of the input is made symmetric from
the same triangle first.

Functions returning several arrays (``qr``, ``eigh``, ``svd``,
``slogdet``, ``lstsq``) get a tuple of tangents, one per output.
"""
import numpy as np

from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import (as_array, is_foreign_array, like_array, refuse_other_meaning,
                                     size_of, zeros_like, zeros_of)
from pullback.runtime.linalg import (power_sum, _diag_embed, _diagonal, _eye, _float_dtype, _mT,
                                     _reciprocal_gaps, _solve_vector,
                                     _symmetric_from_triangle)

__all__ = [
    "solve_jvp_b", "solve_jvp_a", "det_jvp", "slogdet_jvp", "cholesky_jvp", "qr_jvp",
    "eigh_jvp", "eigvalsh_jvp", "svd_jvp", "svdvals_jvp", "pinv_jvp",
    "lstsq_jvp_a", "lstsq_jvp_b", "add_tangents", "matrix_power_jvp",
    "multi_dot_jvp", "tensorinv_jvp", "tensorsolve_jvp_a", "tensorsolve_jvp_b",
]


def _tied_quietly():
    """A pair of tied eigenvalues (singular values) has no eigenvector
    tangent: ``1 / 0`` gives inf, and nan where it meets a zero, in the
    entries it reaches, as the adjoint does. A tangent nobody reads
    (eigenvectors when only eigenvalues are used) must not warn."""
    return np.errstate(divide="ignore", invalid="ignore")


def _right_solve(x, r):
    """``x r^{-1}`` for (stacks of) square ``r``."""
    return _mT(np.linalg.solve(_mT(r), _mT(x)))


# -- inverses, solves, determinants ------------------------------------------------

def _lift(t, value, ndim):
    """The tangent ``t`` of ``value`` with axes of length one inserted after
    its leading direction axes (if any), to ``ndim`` axes of its own: stacks
    of matrices then broadcast against others from the right."""
    batch = np.shape(t)[:np.ndim(t) - np.ndim(value)]
    return np.reshape(t, batch + (1,) * (ndim - np.ndim(value)) + np.shape(value))


def solve_jvp_b(a, db, b, x):
    """``solve(a, db)``: the tangent of ``x = solve(a, b)`` along ``b``."""
    if _solve_vector(a, b):
        return np.linalg.solve(a, _lift(db, b, np.ndim(x))[..., None])[..., 0]
    return np.linalg.solve(a, _lift(db, b, np.ndim(x)))


def solve_jvp_a(a, da, b, x):
    """``-solve(a, da x)``: the tangent of ``x = solve(a, b)`` along ``a``."""
    vector = _solve_vector(a, b)
    xm = as_array(x)[..., None] if vector else as_array(x)
    dx = -np.linalg.solve(a, np.matmul(_lift(da, a, np.ndim(xm)), xm))
    return dx[..., 0] if vector else dx


def _log_det_tangent(a, da):
    """``trace(a^{-1} da)``, for (stacks of) square matrices."""
    return np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)


def det_jvp(a, da, y):
    """Tangent of ``y = det(a)``: ``y trace(a^{-1} da)``."""
    return as_array(y) * _log_det_tangent(a, da)


def slogdet_jvp(a, da, y):
    """Tangent of ``(sign, logabsdet) = slogdet(a)``: the sign is piecewise
    constant, ``logabsdet`` moves by ``trace(a^{-1} da)``."""
    logdet = as_array(_log_det_tangent(a, da), dtype=_float_dtype(y[1]))
    return zeros_like(logdet), logdet


def _lower_phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - 0.5 * _diag_embed(_diagonal(x))


def cholesky_jvp(l, da, upper=False):
    """Tangent of ``l = cholesky(a, upper=upper)`` (Murray 2016):
    ``L Phi(L^{-1} dA L^{-T})`` for the lower factor ``L``, with ``dA`` the
    symmetric tangent NumPy sees (it reads the lower, ``upper``: upper,
    triangle of ``a``)."""
    refuse_other_meaning("np.linalg.cholesky", l, da)
    da = _symmetric_from_triangle(da, "U" if upper else "L")
    lower = _mT(l) if upper else as_array(l)
    inner = np.linalg.solve(lower, _mT(np.linalg.solve(lower, da)))    # L^{-1} dA L^{-T}
    dl = np.matmul(lower, _lower_phi(inner))
    return _mT(dl) if upper else dl


# -- decompositions ----------------------------------------------------------------

def _qr_tangent_tall(q, r, da):
    """Tangents ``(dq, dr)`` of reduced factors ``a = q r`` with m >= n:
    ``q^T dq`` is skew and ``dr r^{-1}`` upper triangular."""
    c = _right_solve(np.matmul(_mT(q), da), r)              # q^T da r^{-1}
    lower = np.tril(c, -1)
    omega = lower - _mT(lower)                               # q^T dq
    dr = np.matmul(_mT(q), da) - np.matmul(omega, r)
    dq = _right_solve(da - np.matmul(q, dr), r)
    return dq, dr


def qr_jvp(a, da, y, mode="reduced"):
    """Tangent of ``np.linalg.qr(a, mode)`` for modes 'reduced' and 'r' (and
    'complete' when it coincides with 'reduced', m <= n): a pair ``(dq,
    dr)``, or ``dr`` alone for mode 'r'."""
    a = as_array(a)
    rows, cols = a.shape[-2:]
    if mode == "r":
        q, r = np.linalg.qr(a)
    elif mode == "reduced" or (mode == "complete" and rows <= cols):
        q, r = y
    else:
        raise NotDifferentiable(f"pullback differentiates np.linalg.qr in modes 'reduced' and 'r', "
                                  f"not {mode!r} (for this shape)")
    if rows >= cols:
        dq, dr = _qr_tangent_tall(q, r, da)
    else:
        # Wide: a = [x z], r = [u v] with x = q u square and z = q v.
        dq, du = _qr_tangent_tall(q, r[..., :rows], da[..., :rows])
        dv = np.matmul(_mT(q), da[..., rows:] - np.matmul(dq, r[..., rows:]))
        dr = np.concatenate([du, dv], axis=-1)
    return dr if mode == "r" else (dq, dr)


def eigh_jvp(y, da, UPLO="L"):
    """Tangent of ``(w, v) = eigh(a, UPLO)`` for distinct eigenvalues: with
    ``m = v^T dA v``, ``dw = diag(m)`` and ``dv = v (F o m)``,
    ``F[i, j] = 1 / (w[j] - w[i])``."""
    w, v = y
    m = np.matmul(np.matmul(_mT(v), _symmetric_from_triangle(da, UPLO)), v)
    with _tied_quietly():
        dv = np.matmul(v, _reciprocal_gaps(w) * m)
    return _diagonal(m).copy(), dv


def eigvalsh_jvp(a, da, UPLO="L"):
    """Tangent of ``w = eigvalsh(a, UPLO)``: ``diag(v^T dA v)``."""
    _, v = np.linalg.eigh(a, UPLO=UPLO)
    return np.sum(v * np.matmul(_symmetric_from_triangle(da, UPLO), v), axis=-2)


def _svd_factors_tangent(u, s, vt, da):
    """Townsend's SVD tangent with reduced factors ``u (m, k), s (k), vt
    (k, n)``: ``(du, ds, dvt)``."""
    rows, cols, k = u.shape[-2], vt.shape[-1], s.shape[-1]
    v = _mT(vt)
    p = np.matmul(np.matmul(_mT(u), da), v)                  # u^T da v
    ds = _diagonal(p).copy()
    s_row, s_col = s[..., None, :], s[..., :, None]
    with _tied_quietly():
        f = _reciprocal_gaps(s * s)
        du = np.matmul(u, f * (p * s_row + s_col * _mT(p)))
        dv = np.matmul(v, f * (s_col * p + _mT(p) * s_row))
        if rows > k:
            du = du + np.matmul(da - np.matmul(u, np.matmul(_mT(u), da)), v) / s_row
        if cols > k:
            dv = dv + np.matmul(_mT(da) - np.matmul(v, np.matmul(vt, _mT(da))), u) / s_row
    return du, ds, _mT(dv)


def _pad_unknown(t, full, axis):
    """The tangent of a full_matrices factor: the extra singular vectors span
    an arbitrary basis of the complement (the adjoint refuses a gradient
    reaching them), so their tangent is unknown: nan."""
    extra = full.shape[axis] - t.shape[axis]
    if extra == 0:
        return t
    shape = list(t.shape)
    shape[axis] = extra
    return np.concatenate([t, like_array(np.full(shape, np.nan, dtype=t.dtype), t)], axis=axis)


def svd_jvp(a, da, y, full_matrices=True, compute_uv=True, hermitian=False):
    """Tangent of ``np.linalg.svd`` for distinct nonzero singular values:
    ``(du, ds, dvt)``, or ``ds`` when ``compute_uv`` is false."""
    if not compute_uv:
        return svdvals_jvp(a, da, hermitian)
    if hermitian:
        da = _symmetric_from_triangle(da)
    u, s, vt = y
    k = s.shape[-1]
    du, ds, dvt = _svd_factors_tangent(u[..., :, :k], s, vt[..., :k, :], da)
    return _pad_unknown(du, u, -1), ds, _pad_unknown(dvt, vt, -2)


def svdvals_jvp(a, da, hermitian=False):
    """Tangent of the singular values of ``a``: ``diag(u^T da v)``."""
    if hermitian:
        da = _symmetric_from_triangle(da)
    u, _, vt = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    return np.sum(u * np.matmul(da, _mT(vt)), axis=-2)


def pinv_jvp(a, da, x, hermitian=False):
    """Tangent of ``x = pinv(a)`` for full-rank ``a`` (Golub and Pereyra)::

        -x da x + x x^T da^T (I - a x) + (I - x a) da^T x^T x
    """
    a, x = as_array(a), as_array(x)
    if hermitian:
        a, da = _symmetric_from_triangle(a), _symmetric_from_triangle(da)
    rows, cols = a.shape[-2:]
    xt, dat = _mT(x), _mT(da)
    dx = -np.matmul(np.matmul(x, da), x)
    dx = dx + np.matmul(np.matmul(x, xt), np.matmul(dat, _eye(rows, x) - np.matmul(a, x)))
    dx = dx + np.matmul(np.matmul(_eye(cols, x) - np.matmul(x, a), dat), np.matmul(xt, x))
    return dx


def lstsq_jvp_a(a, da, b, y):
    """Tangent of ``(x, residuals, rank, s) = lstsq(a, b)`` along ``a``, for
    full-rank ``a``: ``x = pinv(a) b``; at the minimum the residuals move
    only through ``-da x`` (their derivative through ``x`` vanishes)."""
    a, b = as_array(a), as_array(b)
    x, residuals, rank, s = y
    vector = b.ndim == 1
    bm = b[:, None] if vector else b
    xm = as_array(x)[:, None] if vector else as_array(x)
    dx = np.matmul(pinv_jvp(a, da, np.linalg.pinv(a)), bm)
    dres = _residuals_tangent(a, b, y, -np.matmul(da, xm))
    ds = svdvals_jvp(a, da)
    return dx[:, 0] if vector else dx, dres, _zero_rank(rank), ds


def lstsq_jvp_b(a, db, b, y):
    """Tangent of ``(x, residuals, rank, s) = lstsq(a, b)`` along ``b``:
    ``pinv(a) db``; the residuals move through ``db`` only (at the minimum)."""
    a, db = as_array(a), as_array(db)
    x, residuals, rank, s = y
    vector = np.ndim(b) == 1
    dbm = db[:, None] if vector else db
    dx = np.matmul(np.linalg.pinv(a), dbm)
    dres = _residuals_tangent(a, b, y, dbm)
    ds = zeros_of(np.shape(s), _float_dtype(s), s, db)
    return dx[:, 0] if vector else dx, dres, _zero_rank(rank), ds


def _residuals_tangent(a, b, y, moved):
    """``2 sum((b - a x) * moved)`` by column: the residuals' tangent when
    ``b - a x`` moves by ``moved`` with ``x`` held (empty residuals: none)."""
    residuals = y[1]
    if not size_of(residuals):
        return zeros_of(np.shape(residuals), _float_dtype(residuals), residuals, moved)
    b = as_array(b)
    bm = b[:, None] if b.ndim == 1 else b
    xm = as_array(y[0])[:, None] if b.ndim == 1 else as_array(y[0])
    return 2.0 * np.sum((bm - np.matmul(a, xm)) * moved, axis=0)


def _zero_rank(rank):
    return np.zeros(np.shape(rank))


def add_tangents(t, u):
    """Two tangents of a tuple result added output by output."""
    return tuple(p + q for p, q in zip(t, u))


def matrix_power_jvp(a, da, n):
    """Tangent of ``matrix_power(a, n)``: ``sum_k a^k da a^(n-1-k)``;
    negative ``n`` through ``inv(a)``, whose tangent is ``-inv da inv``."""
    n = int(n)
    if n == 0:
        return zeros_of(np.shape(da), _float_dtype(a), a, da)
    if n > 0:
        return power_sum(as_array(a), da, n)
    inverse = np.linalg.inv(a)
    return power_sum(inverse, -np.matmul(np.matmul(inverse, da), inverse), -n)


def multi_dot_jvp(arrays, tangents, y):
    """Tangent of ``multi_dot(arrays)``: one product per array, that array
    replaced by its tangent (a constant's tangent, all zeros, is skipped)."""
    total = zeros_of(np.shape(y), _float_dtype(y), y)
    for i, t in enumerate(tangents):
        if not is_foreign_array(t) and not np.any(t):     # (another library's: not asked)
            continue
        total = total + np.linalg.multi_dot(list(arrays[:i]) + [t] + list(arrays[i + 1:]))
    return total


def tensorinv_jvp(a, da, y, ind=2):
    """Tangent of ``y = tensorinv(a, ind)``: the matrix inverse's ``-y da y``
    on the reshaped operands (leading direction axes of ``da`` kept)."""
    rows = int(np.prod(np.shape(a)[:ind]))
    batch = np.shape(da)[:np.ndim(da) - np.ndim(a)]
    inverse = np.reshape(y, (-1, rows))
    dm = np.reshape(da, batch + (rows, -1))
    return np.reshape(-np.matmul(np.matmul(inverse, dm), inverse), batch + np.shape(y))


def _moved(a, axes):
    """``a`` with ``axes`` moved to the end, as tensorsolve does."""
    if axes is None:
        return as_array(a)
    ndim = np.ndim(a)
    moved = [m % ndim for m in axes]
    order = [k for k in range(ndim) if k not in moved] + moved
    return np.transpose(a, order)


def _solve_matrix(a, b, axes):
    """The square matrix tensorsolve solves with."""
    return np.reshape(_moved(a, axes), (int(size_of(b)), -1))


def tensorsolve_jvp_a(a, da, b, x, axes=None):
    """Tangent of ``x = tensorsolve(a, b, axes)`` along ``a``: ``-solve(A, dA x)``
    on the reshaped operands."""
    rhs = np.matmul(_solve_matrix(da, b, axes), np.ravel(x))
    return np.reshape(-np.linalg.solve(_solve_matrix(a, b, axes), rhs), np.shape(x))


def tensorsolve_jvp_b(a, db, b, x, axes=None):
    """Tangent of ``x = tensorsolve(a, b, axes)`` along ``b``: ``solve(A, db)``."""
    return np.reshape(np.linalg.solve(_solve_matrix(a, b, axes), np.ravel(db)), np.shape(x))
