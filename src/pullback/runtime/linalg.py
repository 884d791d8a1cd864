"""Run-time helpers of the linear-algebra rules (templates/linalg.py); the
products' helpers are in ``pullback.runtime.products``.

Generated derivative code imports these. Every helper takes the adjoint of
the result (``g``) and the primal values it needs and returns a gradient
with the shape of the argument it belongs to. The formulas are the classic reverse-mode
results for matrix functions (M. B. Giles, "An extended collection of matrix
derivative results for forward and reverse mode algorithmic
differentiation", 2008; I. Murray, "Differentiation of the Cholesky
decomposition", 2016; J. Townsend, "Differentiating the singular value
decomposition", 2016), real case only.

Functions that return several arrays (``np.linalg.qr``, ``eigh``, ``svd``,
``slogdet``, ``lstsq``) receive their result adjoint as a list with one
entry per output; an entry for an output the user did not use is zeros (an
array, or the number 0.0).

LAPACK-backed symmetric routines (``cholesky``, ``eigh``, ``eigvalsh``, and
``svd``/``pinv`` with ``hermitian=True``) read one triangle of their input
only. Their gradients are those of the function NumPy computes: zero on the
triangle that is never read, and the off-diagonal entries of the triangle
that is read count twice (each stands for two entries of the symmetric
matrix). For a matrix built symmetrically (``b @ b.T``, ``(c + c.T) / 2``)
this gives the same gradients with respect to ``b`` or ``c`` as the
symmetric convention.
"""
import numpy as np

from pullback.runtime import NotDifferentiable, unbroadcast
from pullback.runtime.arrays import (as_array, eye_of, is_foreign_array, like_array, refuse_array,
                                     refuse_other_meaning, size_of, zeros_like, zeros_of)
from pullback.runtime.reductions import (_floats, _from_last, _to_last, _vector_norm_grad,
                                         reduced_axes, restore_axes)

__all__ = [
    "inv_grad", "solve_grad_b", "solve_grad_a", "det_grad", "slogdet_grad", "cholesky_grad",
    "qr_grad", "eigh_grad", "eigvalsh_grad", "svd_grad", "svdvals_grad", "pinv_grad",
    "lstsq_grads", "matrix_power_grad", "multi_dot_grads", "tensorinv_grad",
    "tensorsolve_grads", "vector_norm_grad",
]


# -- small shared steps ------------------------------------------------------------

def _mT(x):
    """The matrix transpose of (a stack of) matrices."""
    return np.swapaxes(x, -1, -2)


def _is_zero(g):
    """An adjoint entry that is the number zero (an output nobody used)."""
    return g is None or (isinstance(g, (int, float)) and not isinstance(g, bool) and g == 0)


def _entry(g, like):
    """Entry ``g`` of a tuple result's adjoint as an array shaped like ``like``."""
    if _is_zero(g):
        return zeros_of(np.shape(like), _float_dtype(like), like)
    return as_array(g)


def _cotangent(g, like):
    """``g`` as an array; a Python number takes the floating dtype of ``like``
    (so float32 computations stay float32)."""
    if isinstance(g, (int, float)):
        return like_array(g, like, dtype=_float_dtype(like))
    return as_array(g)


def _float_dtype(x):
    dtype = as_array(x).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _eye(n, like):
    return eye_of(n, _float_dtype(like), like)


def _diag_embed(v):
    """(..., n) -> (..., n, n) with ``v`` on the diagonal."""
    v = as_array(v)
    return v[..., :, None] * _eye(v.shape[-1], v)


def _diagonal(m):
    return np.diagonal(m, axis1=-2, axis2=-1)


def _read_triangle(grad, uplo="L"):
    """The gradient of a function that reads only one triangle of its input.

    ``grad`` is the gradient with respect to the symmetric matrix the routine
    sees; each off-diagonal entry of the triangle read stands for two entries
    of it, the other triangle for none.
    """
    both = grad + _mT(grad)
    diagonal = _diag_embed(_diagonal(grad))
    if str(uplo).upper() == "U":
        return np.triu(both, 1) + diagonal
    return np.tril(both, -1) + diagonal


def _symmetric_from_triangle(a, uplo="L"):
    """The symmetric matrix a LAPACK routine sees when it reads one triangle."""
    if str(uplo).upper() == "U":
        return np.triu(a) + _mT(np.triu(a, 1))
    return np.tril(a) + _mT(np.tril(a, -1))


def _reciprocal_gaps(values):
    """F[i, j] = 1 / (values[j] - values[i]) off the diagonal, 0 on it."""
    gaps = values[..., None, :] - values[..., :, None]
    eye = eye_of(values.shape[-1], bool, values)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, gaps)).astype(_float_dtype(values))


# -- inverses, solves, determinants ------------------------------------------------

def inv_grad(g, y):
    """Adjoint of ``y = inv(a)``: ``-y^T g y^T``."""
    yt = _mT(y)
    return -np.matmul(np.matmul(yt, g), yt)


_NUMPY_2 = int(np.__version__.split(".")[0]) >= 2


def _solve_vector(a, b):
    """Does ``solve(a, b)`` treat ``b`` as (a stack of) vectors? NumPy 2: when
    ``b`` is 1-D; before: when ``b`` has one dimension fewer than ``a``."""
    return np.ndim(b) == 1 if _NUMPY_2 else np.ndim(b) == np.ndim(a) - 1


def solve_grad_b(g, a, b):
    """The adjoint of ``b`` in ``x = solve(a, b)`` before broadcasting is undone:
    ``solve(a^T, g)`` (the template sums it back to ``b``'s shape)."""
    if _solve_vector(a, b):
        return np.linalg.solve(_mT(a), as_array(g)[..., None])[..., 0]
    return np.linalg.solve(_mT(a), g)


def solve_grad_a(gb, a, b, x):
    """Adjoint of ``a`` in ``x = solve(a, b)``: ``-gb x^T``, given ``gb`` from
    :func:`solve_grad_b`."""
    if _solve_vector(a, b):
        grad = -gb[..., :, None] * as_array(x)[..., None, :]
    else:
        grad = -np.matmul(gb, _mT(x))
    return unbroadcast(grad, a)


def det_grad(g, a, y):
    """Adjoint of ``y = det(a)``: ``g y a^{-T}``."""
    scale = (_cotangent(g, a) * as_array(y))[..., None, None]
    return scale * _mT(np.linalg.inv(a))


def slogdet_grad(g, a):
    """Adjoint of ``(sign, logabsdet) = slogdet(a)``: ``g_logabsdet a^{-T}``
    (the sign is piecewise constant)."""
    glog = g[1]
    if _is_zero(glog):
        return zeros_of(np.shape(a), _float_dtype(a), a)
    return as_array(glog)[..., None, None] * _mT(np.linalg.inv(a))


def _lower_phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - 0.5 * _diag_embed(_diagonal(x))


def cholesky_grad(g, l, upper=False):
    """Adjoint of ``l = cholesky(a, upper=upper)`` (Murray 2016).

    With ``S = L^{-T} Phi(L^T g) L^{-1}`` the gradient for a symmetric
    perturbation is ``(S + S^T) / 2``; NumPy reads the lower (``upper``:
    upper) triangle of ``a`` only, which that gradient is folded onto.
    """
    refuse_other_meaning("np.linalg.cholesky", l)
    if upper:
        l, g = _mT(l), _mT(as_array(g))
    l_inv = np.linalg.inv(l)
    p = _lower_phi(np.matmul(_mT(l), g))
    s = np.matmul(np.matmul(_mT(l_inv), p), l_inv)
    grad = _lower_phi(s + _mT(s))
    return _mT(grad) if upper else grad


# -- decompositions ----------------------------------------------------------------

def _copyltu(m):
    """The lower triangle of ``m`` mirrored onto the upper one."""
    return np.tril(m, -1) + _mT(np.tril(m))


def _qr_grad_tall(q, r, gq, gr):
    """QR adjoint for m >= n (reduced factors)."""
    m = np.matmul(r, _mT(gr)) - np.matmul(_mT(gq), q)
    b = gq + np.matmul(q, _copyltu(m))
    return _mT(np.linalg.solve(r, _mT(b)))      # b r^{-T}


def qr_grad(g, a, y, mode="reduced"):
    """Adjoint of ``np.linalg.qr(a, mode)`` for modes 'reduced' and 'r' (and
    'complete' when it coincides with 'reduced', m <= n)."""
    a = as_array(a)
    rows, cols = a.shape[-2:]
    if mode == "r":
        q, r = np.linalg.qr(a)
        gq, gr = zeros_like(q, dtype=_float_dtype(q)), _entry(g, r)
    elif mode == "reduced" or (mode == "complete" and rows <= cols):
        q, r = y
        gq, gr = _entry(g[0], q), _entry(g[1], r)
    else:
        raise NotDifferentiable(f"pullback differentiates np.linalg.qr in modes 'reduced' and 'r', "
                                  f"not {mode!r} (for this shape)")
    if rows >= cols:
        return _qr_grad_tall(q, r, gq, gr)
    # Wide: a = [x y], r = [u v] with x = q u square and y = q v.
    y_part, u, gu, gv = a[..., rows:], r[..., :rows], gr[..., :rows], gr[..., rows:]
    gx = _qr_grad_tall(q, u, gq + np.matmul(y_part, _mT(gv)), gu)
    gy = np.matmul(q, gv)
    return np.concatenate([gx, gy], axis=-1)


def eigh_grad(g, y, UPLO="L"):
    """Adjoint of ``(w, v) = eigh(a, UPLO)`` for distinct eigenvalues:
    ``v (diag(gw) + F o (v^T gv)) v^T`` with ``F[i, j] = 1 / (w[j] - w[i])``,
    symmetrised and folded onto the triangle NumPy reads."""
    w, v = y
    gw, gv = g[0], g[1]
    inner = zeros_of(np.shape(v), _float_dtype(v), v)
    if not _is_zero(gw):
        inner = inner + _diag_embed(gw)
    if not _is_zero(gv):
        inner = inner + _reciprocal_gaps(w) * np.matmul(_mT(v), gv)
    grad = np.matmul(np.matmul(v, inner), _mT(v))
    return _read_triangle(0.5 * (grad + _mT(grad)), UPLO)


def eigvalsh_grad(g, a, UPLO="L"):
    """Adjoint of ``w = eigvalsh(a, UPLO)``: ``v diag(g) v^T`` on the triangle read."""
    _, v = np.linalg.eigh(a, UPLO=UPLO)
    grad = np.matmul(v * as_array(g)[..., None, :], _mT(v))
    return _read_triangle(grad, UPLO)


def _svd_grad_factors(u, s, vt, gu, gs, gvt):
    """Townsend's SVD adjoint with reduced factors ``u (m, k), s (k), vt (k, n)``."""
    rows, cols = u.shape[-2], vt.shape[-1]
    k = s.shape[-1]
    v = _mT(vt)
    inner = _diag_embed(gs) if gs is not None else zeros_of(s.shape + (k,), _float_dtype(s), s)
    grad = None
    if gu is not None or gvt is not None:
        f = _reciprocal_gaps(s * s)
    if gu is not None:
        ut_gu = np.matmul(_mT(u), gu)
        inner = inner + (f * (ut_gu - _mT(ut_gu))) * s[..., None, :]
    if gvt is not None:
        gv = _mT(gvt)
        vt_gv = np.matmul(vt, gv)
        inner = inner + s[..., :, None] * (f * (vt_gv - _mT(vt_gv)))
    grad = np.matmul(np.matmul(u, inner), vt)
    if gu is not None and rows > k:
        grad = grad + np.matmul((gu - np.matmul(u, ut_gu)) / s[..., None, :], vt)
    if gvt is not None and cols > k:
        grad = grad + np.matmul(u, (gvt - np.matmul(np.matmul(gvt, v), vt)) / s[..., :, None])
    return grad


def _trim(g, like, k, axis):
    """An adjoint of a full_matrices factor cut to its first k vectors (the
    others span an arbitrary basis: no gradient may reach them)."""
    if _is_zero(g):
        return None
    g = as_array(g)
    index = [slice(None)] * g.ndim
    index[axis] = slice(k, None)
    if g.shape[axis] > k and is_foreign_array(g):     # asking would compute a lazy array
        refuse_array(g, "The gradient of np.linalg.svd(..., full_matrices=True) of a non-square "
                        "matrix (whether a gradient reaches its extra singular vectors, which "
                        "have none, is checked on the values)", "Use full_matrices=False.")
    if g.shape[axis] > k and np.any(g[tuple(index)] != 0):
        raise NotDifferentiable("the gradient of np.linalg.svd(..., full_matrices=True) of a "
                                  "non-square matrix does not exist for the extra singular "
                                  "vectors; use full_matrices=False")
    index[axis] = slice(None, k)
    return g[tuple(index)]


def svd_grad(g, a, y, full_matrices=True, compute_uv=True, hermitian=False):
    """Adjoint of ``np.linalg.svd`` for distinct nonzero singular values."""
    if not compute_uv:
        return svdvals_grad(g, a, hermitian)
    u, s, vt = y
    k = s.shape[-1]
    gu = _trim(g[0], u, k, -1)
    gs = None if _is_zero(g[1]) else as_array(g[1])
    gvt = _trim(g[2], vt, k, -2)
    grad = _svd_grad_factors(u[..., :, :k], s, vt[..., :k, :], gu, gs, gvt)
    return _read_triangle(grad) if hermitian else grad


def svdvals_grad(g, a, hermitian=False):
    """Adjoint of the singular values ``s`` of ``a``: ``u diag(g) v^T``."""
    u, _, vt = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    grad = np.matmul(u * as_array(g)[..., None, :], vt)
    return _read_triangle(grad) if hermitian else grad


def pinv_grad(g, a, x, hermitian=False):
    """Adjoint of ``x = pinv(a)`` for full-rank ``a`` (Golub and Pereyra)::

        -x^T g x^T + (I - a x) g^T x x^T + x^T x g^T (I - x a)
    """
    a = as_array(a)
    if hermitian:
        a = _symmetric_from_triangle(a)
    x, g = as_array(x), as_array(g)
    rows, cols = a.shape[-2:]
    xt, gt = _mT(x), _mT(g)
    grad = -np.matmul(np.matmul(xt, g), xt)
    grad = grad + np.matmul(np.matmul(_eye(rows, x) - np.matmul(a, x), gt), np.matmul(x, xt))
    grad = grad + np.matmul(np.matmul(np.matmul(xt, x), gt), _eye(cols, x) - np.matmul(x, a))
    return _read_triangle(grad) if hermitian else grad


def lstsq_grads(g, a, b, y):
    """Adjoints ``(da, db)`` of ``x, residuals, rank, s = lstsq(a, b)`` for
    full-rank ``a``, through ``x`` (= pinv(a) b) and ``residuals``."""
    a, b = as_array(a), as_array(b)
    x, residuals = y[0], y[1]
    vector = b.ndim == 1
    bm = b[:, None] if vector else b
    xm = as_array(x)[:, None] if vector else as_array(x)
    da = zeros_of(a.shape, _float_dtype(a), a, b)
    db = zeros_of(bm.shape, _float_dtype(b), a, b)
    if not _is_zero(g[0]):
        gx = as_array(g[0])
        gx = gx[:, None] if vector else gx
        p = np.linalg.pinv(a)
        da = da + pinv_grad(np.matmul(gx, bm.T), a, p)
        db = db + np.matmul(p.T, gx)
    if not _is_zero(g[1]) and size_of(residuals) and size_of(g[1]):
        # At the minimum the residual's derivative through x vanishes.
        weighted = 2.0 * (bm - np.matmul(a, xm)) * as_array(g[1])
        da = da - np.matmul(weighted, xm.T)
        db = db + weighted
    return da, (db[:, 0] if vector else db)


def power_sum(a, d, n):
    """``sum_k a^k d a^(n-1-k)`` for ``n >= 1``: how ``a^n`` moves along ``d``
    (and, with ``a^T`` for ``a``, the adjoint of that)."""
    powers = [None, a]
    for _ in range(2, n):
        powers.append(np.matmul(powers[-1], a))
    total = None
    for k in range(n):
        term = d if k == 0 else np.matmul(powers[k], d)
        term = term if n - 1 - k == 0 else np.matmul(term, powers[n - 1 - k])
        total = term if total is None else total + term
    return total


def _power_grad(g, a, n):
    return power_sum(_mT(a), g, n)


def matrix_power_grad(g, a, n):
    """Adjoint of ``matrix_power(a, n)``: ``sum_k (a^T)^k g (a^T)^(n-1-k)``;
    negative ``n`` through ``inv(a)``."""
    n = int(n)
    g = np.broadcast_to(as_array(like_array(g, a)), np.shape(a))
    if n == 0:
        return zeros_of(np.shape(a), _float_dtype(a), a)
    if n > 0:
        return _power_grad(g, as_array(a), n)
    inverse = np.linalg.inv(a)
    return inv_grad(_power_grad(g, inverse, -n), inverse)


def multi_dot_grads(g, arrays):
    """Adjoints of ``multi_dot(arrays)``, one per array (the first may be a
    row vector and the last a column vector, given as 1-D arrays)."""
    shapes = [np.shape(x) for x in arrays]
    mats = [as_array(x) for x in arrays]
    if mats[0].ndim == 1:
        mats[0] = mats[0][None, :]
    if mats[-1].ndim == 1:
        mats[-1] = mats[-1][:, None]
    g = np.reshape(_cotangent(g, mats[0]), (mats[0].shape[0], mats[-1].shape[1]))
    count = len(mats)
    suffix = [None] * count
    for i in range(count - 2, -1, -1):
        suffix[i] = mats[i + 1] if suffix[i + 1] is None else np.matmul(mats[i + 1], suffix[i + 1])
    grads = []
    left = g
    for i in range(count):
        grad = left if suffix[i] is None else np.matmul(left, suffix[i].T)
        grads.append(np.reshape(grad, shapes[i]))
        left = np.matmul(mats[i].T, left)
    return grads


def tensorinv_grad(g, a, y, ind=2):
    """Adjoint of ``y = tensorinv(a, ind)``: the matrix-inverse adjoint on the
    reshaped operands."""
    a = as_array(a)
    rows = int(np.prod(a.shape[:ind]))
    inverse = np.reshape(y, (-1, rows))
    return np.reshape(inv_grad(np.reshape(g, inverse.shape), inverse), a.shape)


def tensorsolve_grads(g, a, b, x, axes=None):
    """Adjoints ``(da, db)`` of ``x = tensorsolve(a, b, axes)``."""
    a = as_array(a)
    if axes is not None:
        moved = list(axes)
        order = [k for k in range(a.ndim) if k not in [m % a.ndim for m in moved]]
        order += [m % a.ndim for m in moved]
        a_moved = np.transpose(a, order)
    else:
        order, a_moved = list(range(a.ndim)), a
    rows = int(size_of(b))
    matrix = np.reshape(a_moved, (rows, -1))
    x_flat = np.ravel(x)
    gb = np.linalg.solve(matrix.T, np.ravel(g))
    da_moved = np.reshape(-gb[:, None] * x_flat[None, :], a_moved.shape)
    return np.transpose(da_moved, np.argsort(order)), np.reshape(gb, np.shape(b))


def vector_norm_grad(g, x, y, ord=2, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)``:
    one vector norm over all the axes of ``axis`` together (None: every axis),
    with np.linalg.norm's vector conventions (``norm_grad``: ties of the inf-norms
    split evenly, 0 at x = 0)."""
    x = _floats(x)
    axes = reduced_axes(axis, x.ndim)
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    flat, moved_shape = _to_last(x, axes)

    def along_last(value):          # a result-shaped value beside ``flat``'s slices
        kept_value = np.broadcast_to(restore_axes(value, x.ndim, axes, keepdims), kept)
        return np.reshape(_to_last(kept_value, axes)[0], flat.shape[:-1] + (1,))

    grad = _vector_norm_grad(along_last(g), flat, along_last(y), ord, flat.ndim - 1, True)
    return _from_last(np.broadcast_to(grad, flat.shape), moved_shape, axes)
