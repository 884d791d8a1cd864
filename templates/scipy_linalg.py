"""Adjoints and tangents of scipy.linalg's solves, Cholesky factors and matrix
exponential (the scipy extra: ``pip install pullback[scipy]``; without SciPy
this family is left out of the rule table, pullback.rules.OPTIONAL_FAMILIES).

The helpers carrying the formulas are in ``pullback.runtime.scipy_linalg``:
a solve ``x = op(a)^{-1} b`` gives ``b`` the gradient ``op(a)^{-T} g`` and
``a`` the gradient ``-op(gb x^T)``, restricted to what the solve reads (one
triangle for solve_triangular and the symmetric kinds of ``assume_a``).
``cho_solve(cho_factor(a), b)`` is differentiated with respect to ``a`` and
``b``: ``cho_factor``'s result ``(c, lower)`` gets a list of gradients, the
flag none. ``expm``'s derivatives are Frechet derivatives, computed from the
exponential of a block matrix (Mathias 1996).
"""
import numpy as np
import scipy.linalg

from pullback.rules import adjoint, d
from pullback.runtime.linalg import cholesky_grad
from pullback.runtime.scipy_linalg import (cho_factor_grad, cho_factor_jvp, cho_solve_grad_b,
                                           cho_solve_grad_c, cho_solve_jvp_c,
                                           expm_frechet_block, solve_grad_a, solve_grad_b,
                                           solve_jvp_a, solve_jvp_b, solve_triangular_grad_a,
                                           solve_triangular_grad_b, solve_triangular_jvp_a)
from pullback.runtime.tangent_linalg import cholesky_jvp
from pullback.tangent_rules import tangent

SHAPE = "array"         # one array; cho_factor (a tuple) declares "other"


@adjoint(scipy.linalg.solve_triangular)
def solve_triangular(x, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    gb = solve_triangular_grad_b(d[x], a, trans, lower, unit_diagonal)
    d[b] = gb
    d[a] = solve_triangular_grad_a(gb, x, trans, lower, unit_diagonal)


@tangent(scipy.linalg.solve_triangular)
def solve_triangular_tangent(x, a, b, trans=0, lower=False, unit_diagonal=False,
                             overwrite_b=False, check_finite=True):
    d[x] = scipy.linalg.solve_triangular(a, d[b], trans, lower, unit_diagonal)
    d[x] += solve_triangular_jvp_a(a, d[a], x, trans, lower, unit_diagonal)


@adjoint(scipy.linalg.solve)
def solve(x, a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    gb = solve_grad_b(d[x], a, lower, assume_a, transposed)
    d[b] = gb
    d[a] = solve_grad_a(gb, x, lower, assume_a, transposed)


@tangent(scipy.linalg.solve)
def solve_tangent(x, a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
                  assume_a=None, transposed=False):
    d[x] = solve_jvp_b(a, d[b], lower, assume_a, transposed)
    d[x] += solve_jvp_a(a, d[a], x, lower, assume_a, transposed)


@adjoint(scipy.linalg.cholesky)
def cholesky(c, a, lower=False, overwrite_a=False, check_finite=True):
    d[a] = cholesky_grad(d[c], c, not lower)


@tangent(scipy.linalg.cholesky)
def cholesky_tangent(c, a, lower=False, overwrite_a=False, check_finite=True):
    d[c] = cholesky_jvp(c, d[a], not lower)


@adjoint(scipy.linalg.cho_factor, shape="other")
def cho_factor(y, a, lower=False, overwrite_a=False, check_finite=True):
    d[a] = cho_factor_grad(d[y], y)


@tangent(scipy.linalg.cho_factor)
def cho_factor_tangent(y, a, lower=False, overwrite_a=False, check_finite=True):
    d[y] = cho_factor_jvp(d[a], y)


@adjoint(scipy.linalg.cho_solve)
def cho_solve(x, c_and_lower, b, overwrite_b=False, check_finite=True):
    gb = cho_solve_grad_b(d[x], c_and_lower)
    d[b] = gb
    d[c_and_lower] = cho_solve_grad_c(gb, c_and_lower, x)


@tangent(scipy.linalg.cho_solve)
def cho_solve_tangent(x, c_and_lower, b, overwrite_b=False, check_finite=True):
    d[x] = scipy.linalg.cho_solve(c_and_lower, d[b])
    d[x] += cho_solve_jvp_c(d[c_and_lower], c_and_lower, x)


@adjoint(scipy.linalg.expm)
def expm(y, A):
    d[A] = expm_frechet_block(np.swapaxes(A, -1, -2), d[y])


@tangent(scipy.linalg.expm)
def expm_tangent(y, A):
    d[y] = expm_frechet_block(A, d[A])
