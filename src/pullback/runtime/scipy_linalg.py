"""Run-time helpers of the scipy.linalg rules (templates/scipy_linalg.py).

This module imports without SciPy (every module of pullback.runtime is read
for its helpers); its helpers are only called by code differentiating SciPy
calls, so SciPy is there when they run. Matrices are real, on the last two
axes.

* ``solve_triangular`` reads one triangle of ``a`` (not its diagonal with
  ``unit_diagonal``): the gradient of ``a`` lives there.
* ``cho_factor`` returns ``(c, lower)``: the factor in one triangle of ``c``,
  ``a``'s own entries in the other (LAPACK leaves them), so the gradient of
  that other triangle passes to ``a`` unchanged. ``cho_solve`` reads the
  factor's triangle only.
* ``expm``: the adjoint and the tangent are Frechet derivatives, read from the
  upper-right block of the exponential of a block matrix (Mathias 1996):
  ``expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]]``, and the
  adjoint of ``G`` is ``L(A^T, G)``.
"""
import functools

import numpy as np

from pullback.runtime import NotDifferentiable
from pullback.runtime.arrays import as_array, foreign_among, refuse_array
from pullback.runtime.declare import helper
from pullback.runtime.linalg import cholesky_grad
from pullback.runtime.tangent_linalg import cholesky_jvp



def _linalg(*arrays):
    """scipy.linalg, imported the first time a helper runs (only code
    differentiating SciPy calls calls them, so SciPy is there; importing it
    with every runtime module cost each first transformation about 0.3 s).
    Refused for ``arrays`` of another library: SciPy would convert them to NumPy."""
    foreign = foreign_among(*arrays) if arrays else None
    if foreign is not None:
        refuse_array(foreign, "The derivative of a scipy.linalg function (it calls scipy.linalg, "
                              "which reads its arguments as NumPy arrays)")
    import scipy.linalg
    return scipy.linalg

__all__ = ["solve_triangular_grad_b", "solve_triangular_grad_a", "solve_triangular_jvp_a",
           "cho_factor_grad", "cho_factor_jvp", "cho_solve_grad_b", "cho_solve_grad_c",
           "cho_solve_jvp_c", "expm_frechet_block", "solve_grad_b", "solve_grad_a",
           "solve_jvp_b", "solve_jvp_a"]


def _mT(m):
    return np.swapaxes(m, -1, -2)


def _outer(u, x):
    """``u x^T`` for the columns (or the one vector) of a solve's right-hand side."""
    u, x = as_array(u), as_array(x)
    return np.multiply.outer(u, x) if u.ndim == 1 else np.matmul(u, _mT(x))


def _transposed(trans):
    """Does ``trans`` (0/'N', 1/'T', 2/'C') ask for a solve with ``a^T``?"""
    if trans in (0, "N", "n"):
        return False
    if trans in (1, 2, "T", "C", "t", "c"):
        return True
    raise ValueError(f"trans={trans!r} is not one of 0, 1, 2, 'N', 'T', 'C'")


def _triangle(m, lower, unit_diagonal=False):
    """The entries of ``m`` in the triangle ``lower`` names (less its diagonal)."""
    shift = bool(unit_diagonal)
    return np.tril(m, -shift) if lower else np.triu(m, shift)


# -- solve_triangular ------------------------------------------------------------------

@helper(returns_new=True)
def solve_triangular_grad_b(g, a, trans=0, lower=False, unit_diagonal=False):
    """Adjoint of ``b`` in ``x = solve_triangular(a, b, trans, lower, unit_diagonal)``:
    the solve with the other transposition, ``op(a)^{-T} g``."""
    return _linalg(a, g).solve_triangular(a, g, trans=0 if _transposed(trans) else 1,
                                         lower=lower, unit_diagonal=unit_diagonal)


@helper(returns_new=True)
def solve_triangular_grad_a(gb, x, trans=0, lower=False, unit_diagonal=False):
    """Adjoint of ``a`` given ``gb`` (solve_triangular_grad_b): ``-gb x^T``
    (transposed with ``trans``), on the triangle the solve reads."""
    grad = -_outer(gb, x)
    return _triangle(_mT(grad) if _transposed(trans) else grad, lower, unit_diagonal)


@helper(returns_new=True)
def solve_triangular_jvp_a(a, da, x, trans=0, lower=False, unit_diagonal=False):
    """Tangent of ``x`` along ``da``: ``-op(a)^{-1} op(da) x``, ``da`` read on
    the triangle the solve reads."""
    da = _triangle(da, lower, unit_diagonal)
    moved = np.matmul(_mT(da) if _transposed(trans) else da, x)
    return -_linalg(a, moved).solve_triangular(a, moved, trans=trans, lower=lower,
                                          unit_diagonal=unit_diagonal)


# -- cho_factor, cho_solve, solve --------------------------------------------------------

@helper(returns_new=True)
@functools.cache
def _keeps_other_triangle():
    """Does this SciPy's cho_factor leave ``a``'s entries in the triangle it does
    not factor (SciPy 1.17 does; 1.18 writes zeros there)? Asked once, of a
    matrix whose other triangle is not zero."""
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    c, _ = _linalg().cho_factor(a)
    return bool(c[1, 0] == a[1, 0])


def _other_triangle(m, lower):
    """The part of ``m`` cho_factor passes through from ``a`` (none where it zeroes it)."""
    if not _keeps_other_triangle():
        return np.zeros_like(m)
    return np.triu(m, 1) if lower else np.tril(m, -1)


def cho_factor_grad(g, y):
    """Adjoint of ``a`` in ``y = (c, lower) = cho_factor(a, lower)``: the
    factor's gradient (Murray 2016, on the triangle LAPACK reads), and the
    other triangle's gradient as it is where SciPy keeps ``a`` there."""
    c, lower = y
    gc = as_array(g[0] if isinstance(g, (list, tuple)) else g, dtype=np.result_type(c, 1.0))
    factor = cholesky_grad(_triangle(gc, lower), _triangle(c, lower), upper=not lower)
    return factor + _other_triangle(gc, lower)


def cho_factor_jvp(da, y):
    """Tangent ``(dc, 0)`` of ``(c, lower) = cho_factor(a, lower)`` along ``da``."""
    c, lower = y
    dc = cholesky_jvp(_triangle(c, lower), da, upper=not lower)
    return dc + _other_triangle(da, lower), 0.0


@helper(returns_new=True)
def cho_solve_grad_b(g, c_and_lower):
    """Adjoint of ``b`` in ``x = cho_solve((c, lower), b)``: ``A^{-1} g``."""
    return _linalg(c_and_lower[0], g).cho_solve(c_and_lower, g)


def _factor(c_and_lower):
    c, lower = c_and_lower
    return _triangle(as_array(c), lower), lower


@helper(new_list=True)
def cho_solve_grad_c(gb, c_and_lower, x):
    """Adjoint of ``(c, lower)`` in ``x = cho_solve((c, lower), b)``, given
    ``gb`` (cho_solve_grad_b): with ``G = -gb x^T`` the gradient of
    ``A = U^T U`` (``L L^T``), ``U (G + G^T)`` (``(G + G^T) L``) on the
    factor's triangle; the flag gets none."""
    factor, lower = _factor(c_and_lower)
    grad = -_outer(gb, x)
    grad = grad + _mT(grad)
    return [_triangle(np.matmul(grad, factor) if lower else np.matmul(factor, grad), lower), 0.0]


def cho_solve_jvp_c(dc_and_lower, c_and_lower, x):
    """Tangent of ``x = cho_solve((c, lower), b)`` along ``dc``: ``-A^{-1} dA x``,
    ``dA = dU^T U + U^T dU`` (``dL L^T + L dL^T``) from the factor's triangle."""
    factor, lower = _factor(c_and_lower)
    dfactor = _triangle(as_array(dc_and_lower[0]), lower)
    if lower:
        da = np.matmul(dfactor, _mT(factor)) + np.matmul(factor, _mT(dfactor))
    else:
        da = np.matmul(_mT(dfactor), factor) + np.matmul(_mT(factor), dfactor)
    return -_linalg(factor, da, x).cho_solve(c_and_lower, np.matmul(da, x))


_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "her", "pos", "symmetric", "hermitian", "positive definite")


def _solve_kind(assume_a):
    if assume_a in _GENERAL or assume_a in _SYMMETRIC:
        return assume_a in _SYMMETRIC
    raise NotDifferentiable(f"pullback differentiates scipy.linalg.solve with assume_a None, "
                            f"'gen', 'sym', 'her' or 'pos', not {assume_a!r}; call "
                            f"scipy.linalg.solve_triangular for a triangular matrix")


def _symmetric_grad(grad, lower):
    """The gradient of a symmetric matrix read from one triangle: each
    off-diagonal entry stands for two."""
    folded = grad + _mT(grad)
    diagonal = np.einsum("...ii->...i", grad)
    out = np.tril(folded) if lower else np.triu(folded)
    idx = np.arange(grad.shape[-1])
    out[..., idx, idx] = diagonal
    return out


def _solve(a, b, lower, assume_a, transposed):
    """``op(a)^{-1} b`` as scipy.linalg.solve computes it (its default assume_a,
    None since SciPy 1.16, is 'gen' before)."""
    if _solve_kind(assume_a):
        return _linalg(a, b).solve(a, b, lower=lower, assume_a=assume_a)
    return _linalg(a, b).solve(a, b, transposed=transposed)


@helper(returns_new=True)
def solve_grad_b(g, a, lower=False, assume_a=None, transposed=False):
    """Adjoint of ``b`` in ``x = scipy.linalg.solve(a, b, ...)``: ``op(a)^{-T} g``."""
    return _solve(a, g, lower, assume_a, not transposed)


@helper(returns_new=True)
def solve_grad_a(gb, x, lower=False, assume_a=None, transposed=False):
    """Adjoint of ``a`` given ``gb`` (solve_grad_b): ``-gb x^T`` (transposed
    with ``transposed``); with a symmetric ``assume_a``, on the triangle read."""
    grad = -_outer(gb, x)
    if _solve_kind(assume_a):
        return _symmetric_grad(grad, lower)
    return _mT(grad) if transposed else grad


@helper(returns_new=True)
def solve_jvp_b(a, db, lower=False, assume_a=None, transposed=False):
    """Tangent of ``x = scipy.linalg.solve(a, b, ...)`` along ``db``: ``op(a)^{-1} db``."""
    return _solve(a, db, lower, assume_a, transposed)


@helper(returns_new=True)
def solve_jvp_a(a, da, x, lower=False, assume_a=None, transposed=False):
    """Tangent of ``x`` along ``da``: ``-op(a)^{-1} op(da) x``; with a symmetric
    ``assume_a``, ``da`` read on one triangle, as the solve reads ``a``."""
    if _solve_kind(assume_a):
        da = _triangle(da, lower)
        da = da + _mT(_triangle(da, lower, True))      # the symmetric matrix the solve sees
    elif transposed:
        da = _mT(da)
    return -_solve(a, np.matmul(da, x), lower, assume_a, transposed)


# -- expm --------------------------------------------------------------------------------

@helper(returns_new=True)
def expm_frechet_block(a, e):
    """The Frechet derivative ``L(a, e)`` of expm at ``a`` along ``e``: the
    upper-right block of ``expm([[a, e], [0, a]])`` (batched over leading axes).
    The adjoint of ``g`` is ``L(a^T, g)``; the tangent along ``da`` is ``L(a, da)``."""
    linalg = _linalg(a, e)
    a, e = as_array(a), as_array(e)
    n = a.shape[-1]
    shape = np.broadcast_shapes(a.shape, e.shape)
    block = np.zeros(shape[:-2] + (2 * n, 2 * n), dtype=np.result_type(a, e, 1.0))
    block[..., :n, :n] = a
    block[..., n:, n:] = a
    block[..., :n, n:] = e
    return linalg.expm(block)[..., :n, n:]
