"""Finite-difference specs for templates/linalg.py (merged into tests/rule_spec_table.py).

Inputs are kept well-conditioned: matrices built inside the expression
(``a + 2.0 * np.eye(3)`` with small entries, ``a @ a.T + 3.0 * np.eye(3)``
for symmetric positive-definite ones), so the finite differences see the same
construction, or raw matrices with a predicate on their conditioning, gaps
between eigenvalues and singular values. Functions returning several arrays
(qr, eigh, svd, slogdet, lstsq) are checked through scalars of their outputs;
for eigenvectors and singular vectors the scalars do not depend on their
signs (``v ** 2``, ``u ** 2``).
"""
import numpy as np

from rule_spec_kit import REAL, Arg, Case, Domain, Spec

SMALL = Domain(-0.5, 0.5)       # a + 2 I: singular values in [0.5, 3.5] for 3 x 3
A = Arg("a")
AS = Arg("a", SMALL)
B = Arg("b")
C = Arg("c", REAL, diff=False)  # a constant weight for a scalar of the outputs


def _mT(x):
    return np.swapaxes(x, -1, -2)


def _min_gap(values):
    values = np.sort(values, axis=-1)
    return np.min(np.diff(values, axis=-1)) if values.shape[-1] > 1 else np.inf


def _conditioned(a, *rest):
    """Raw square matrices comfortably invertible."""
    return bool(np.all(np.linalg.cond(a) < 12.0))


def _full_rank(a, *rest):
    s = np.linalg.svd(a, compute_uv=False)
    return bool(np.all(s[..., -1] > 0.4) and np.all(s[..., 0] / s[..., -1] < 12.0))


def _distinct_singular(a, *rest):
    s = np.linalg.svd(a, compute_uv=False)
    return _full_rank(a) and bool(_min_gap(s) > 0.3)


def _spd_gaps(a, *rest):
    """Distinct eigenvalues of a @ a.T + 3 I."""
    return bool(_min_gap(np.linalg.eigvalsh(np.matmul(a, _mT(a)))) > 0.3)


def _triangle_gaps(uplo):
    """Distinct eigenvalues of the symmetric matrix eigh sees in a raw matrix."""
    return lambda a, *rest: bool(_min_gap(np.linalg.eigvalsh(a, UPLO=uplo)) > 0.3)


def _power_safe(a, *rest):
    return _conditioned(a) and bool(np.all(np.linalg.norm(a, 2, axis=(-2, -1)) < 3.0))


_SPD = "a @ a.T + 3.0 * np.eye(3)"
_SPD_BATCH = "a @ np.swapaxes(a, -1, -2) + 3.0 * np.eye(3)"
_EYE6 = "np.reshape(2.0 * np.eye(6), {})"

SPEC = {
    np.linalg.inv: Spec("np.linalg.inv(a + 2.0 * np.eye(3))", (AS,), (
        Case(((3, 3),)),
        Case(((4, 3, 3),)),
        Case(((2, 2),), expr="np.linalg.inv(a + 2.0 * np.eye(2))"),
        Case(((3, 3),), expr="np.linalg.inv(a)", args=(A,), valid=_conditioned),
        Case(((2, 3, 3),), expr="np.linalg.inv(a)", args=(A,), valid=_conditioned),
        Case(((3, 3),), expr="np.linalg.inv(a @ a + 2.0 * np.eye(3))"),
    )),
    np.linalg.solve: Spec("np.linalg.solve(a + 2.0 * np.eye(3), b)", (AS, B), (
        Case(((3, 3), (3,))),
        Case(((3, 3), (3, 2))),
        Case(((4, 3, 3), (3,))),
        Case(((4, 3, 3), (4, 3, 2))),
        Case(((3, 3), (4, 3, 2))),
        Case(((4, 3, 3), (3, 2))),
        Case(((1, 3, 3), (4, 3, 2))),
        Case(((3, 3), (3,)), expr="np.linalg.solve(a, b)", args=(A, B), valid=_conditioned),
        Case(((3, 3),), expr="np.linalg.solve(a + 2.0 * np.eye(3), a)", args=(AS,)),
        Case(((3, 3), (3,)), expr="np.linalg.solve(a + 2.0 * np.eye(3), c)", args=(AS, C)),
    )),
    np.linalg.det: Spec("np.linalg.det(a)", (A,), (
        Case(((3, 3),), valid=_conditioned),
        Case(((4, 3, 3),), valid=_conditioned),
        Case(((2, 2),), valid=_conditioned),
        Case(((1, 1),), valid=_conditioned),
        Case(((3, 3),), expr="np.linalg.det(a + 2.0 * np.eye(3))", args=(AS,)),
    )),
    np.linalg.slogdet: Spec("np.sum(np.linalg.slogdet(a)[1])", (A,), (
        Case(((3, 3),), valid=_conditioned),
        Case(((4, 3, 3),), valid=_conditioned),
        Case(((3, 3),), expr="np.sum(np.linalg.slogdet(a)[0] * np.linalg.slogdet(a)[1])",
             valid=_conditioned),
        Case(((3, 3),), expr="np.sum(np.linalg.slogdet(a + 2.0 * np.eye(3))[1])", args=(AS,)),
    )),
    np.linalg.cholesky: Spec(f"np.linalg.cholesky({_SPD})", (A,), (
        Case(((3, 3),)),
        Case(((3, 3),), expr=f"np.linalg.cholesky({_SPD}, upper=True)"),
        Case(((2, 3, 3),), expr=f"np.linalg.cholesky({_SPD_BATCH})"),
        # Raw inputs: NumPy reads the lower (upper=True: upper) triangle only.
        Case(((3, 3),), expr="np.linalg.cholesky(a + 3.0 * np.eye(3))", args=(AS,)),
        Case(((2, 3, 3),), expr="np.linalg.cholesky(a + 3.0 * np.eye(3), upper=True)",
             args=(AS,)),
    )),
    np.linalg.qr: Spec("np.sum(np.linalg.qr(a)[0] * c)", (A, C), (
        Case(((4, 3), (4, 3)), valid=_full_rank),
        Case(((3, 3), (3, 3)), valid=_full_rank),
        Case(((3, 3), (3, 3)), expr="np.sum(np.linalg.qr(a)[1] * c)", valid=_full_rank),
        Case(((4, 3), (3, 3)), expr="np.sum(np.linalg.qr(a)[1] * c)", valid=_full_rank),
        Case(((2, 4, 3), (4, 3)), valid=_full_rank),
        Case(((4, 3), (4, 3), (3, 3)),
             expr="np.sum(np.linalg.qr(a)[0] * c) + np.sum(np.linalg.qr(a)[1] * e)",
             args=(A, C, Arg("e", REAL, diff=False)), valid=_full_rank),
        Case(((3, 4), (3, 3)), valid=_full_rank),
        Case(((3, 4), (3, 4)), expr="np.sum(np.linalg.qr(a)[1] * c)", valid=_full_rank),
        Case(((4, 3),), expr="np.linalg.qr(a, mode='r')", args=(A,), valid=_full_rank),
        Case(((3, 4),), expr="np.linalg.qr(a, mode='r')", args=(A,), valid=_full_rank),
        Case(((2, 4, 3),), expr="np.linalg.qr(a, mode='r')", args=(A,), valid=_full_rank),
    )),
    np.linalg.eigh: Spec(f"np.sum(np.linalg.eigh({_SPD})[0] * c)", (A, C), (
        Case(((3, 3), (3,)), valid=_spd_gaps),
        Case(((3, 3), (3, 3)), expr=f"np.sum(np.linalg.eigh({_SPD})[1] ** 2 * c)",
             valid=_spd_gaps),
        Case(((3, 3), (3,)), expr=f"np.sum(np.abs(np.linalg.eigh({_SPD})[1][:, 0]) * c)",
             valid=lambda a, c: _spd_gaps(a) and bool(np.all(np.abs(
                 np.linalg.eigh(np.matmul(a, _mT(a)))[1][:, 0]) > 0.05))),
        Case(((3, 3), (3,), (3, 3)),
             expr=f"np.sum(np.linalg.eigh({_SPD})[0] * c) + np.sum(np.linalg.eigh({_SPD})[1] ** 2 * e)",
             args=(A, C, Arg("e", REAL, diff=False)), valid=_spd_gaps),
        Case(((2, 3, 3), (2, 3, 3)), expr=f"np.sum(np.linalg.eigh({_SPD_BATCH})[1] ** 2 * c)",
             valid=lambda a, c: all(_spd_gaps(m) for m in a)),
        # Raw inputs: NumPy reads one triangle.
        Case(((3, 3), (3, 3)), expr="np.sum(np.linalg.eigh(a)[1] ** 2 * c)",
             valid=_triangle_gaps("L")),
        Case(((3, 3), (3,)), expr="np.sum(np.linalg.eigh(a, UPLO='U')[0] * c)",
             valid=_triangle_gaps("U")),
        Case(((3, 3), (3, 3)), expr="np.sum(np.linalg.eigh(a, 'U')[1] ** 2 * c)",
             valid=_triangle_gaps("U")),
    )),
    np.linalg.eigvalsh: Spec(f"np.linalg.eigvalsh({_SPD})", (A,), (
        Case(((3, 3),), valid=_spd_gaps),
        Case(((2, 3, 3),), expr=f"np.linalg.eigvalsh({_SPD_BATCH})",
             valid=lambda a: all(_spd_gaps(m) for m in a)),
        Case(((3, 3),), expr="np.linalg.eigvalsh(a)", valid=_triangle_gaps("L")),
        Case(((3, 3),), expr="np.linalg.eigvalsh(a, UPLO='U')", valid=_triangle_gaps("U")),
    )),
    np.linalg.svd: Spec("np.sum(np.linalg.svd(a, full_matrices=False)[1] * c)", (A, C), (
        Case(((4, 3), (3,)), valid=_distinct_singular),
        Case(((4, 3), (4, 3)), expr="np.sum(np.linalg.svd(a, full_matrices=False)[0] ** 2 * c)",
             valid=_distinct_singular),
        Case(((4, 3), (3, 3)), expr="np.sum(np.linalg.svd(a, full_matrices=False)[2] ** 2 * c)",
             valid=_distinct_singular),
        Case(((3, 5), (3, 3)), expr="np.sum(np.linalg.svd(a, full_matrices=False)[0] ** 2 * c)",
             valid=_distinct_singular),
        Case(((3, 5), (3, 5)), expr="np.sum(np.linalg.svd(a, full_matrices=False)[2] ** 2 * c)",
             valid=_distinct_singular),
        Case(((3, 3), (3, 3)), expr="np.sum(np.linalg.svd(a)[0] ** 2 * c)",
             valid=_distinct_singular),
        Case(((2, 4, 3), (2, 3, 3)),
             expr="np.sum(np.linalg.svd(a, full_matrices=False)[2] ** 2 * c)",
             valid=lambda a, c: all(_distinct_singular(m) for m in a)),
        # u[:, :1] * vt[:1] does not depend on the signs of the vectors either.
        Case(((4, 3), (4, 3)), expr="np.sum(np.linalg.svd(a, full_matrices=False)[0][:, :1] "
                                    "* np.linalg.svd(a, full_matrices=False)[2][:1] * c)",
             valid=_distinct_singular),
        # full_matrices=True with only the singular values used.
        Case(((4, 3), (3,)), expr="np.sum(np.linalg.svd(a)[1] * c)", valid=_distinct_singular),
        Case(((4, 3),), expr="np.linalg.svd(a, compute_uv=False)", args=(A,),
             valid=_distinct_singular),
        Case(((2, 3, 5),), expr="np.linalg.svd(a, compute_uv=False)", args=(A,),
             valid=lambda a: all(_distinct_singular(m) for m in a)),
    )),
    np.linalg.pinv: Spec("np.linalg.pinv(a)", (A,), (
        Case(((4, 3),), valid=_full_rank),
        Case(((3, 4),), valid=_full_rank),
        Case(((3, 3),), valid=_full_rank),
        Case(((2, 4, 3),), valid=lambda a: all(_full_rank(m) for m in a)),
        Case(((3, 3),), expr="np.linalg.pinv(a + 2.0 * np.eye(3), hermitian=True)", args=(AS,)),
    )),
    np.linalg.lstsq: Spec("np.sum(np.linalg.lstsq(a, b)[0] * c)", (A, B, C), (
        Case(((5, 3), (5,), (3,)), valid=_full_rank),
        Case(((5, 3), (5, 2), (3, 2)), valid=_full_rank),
        Case(((3, 5), (3,), (5,)), valid=_full_rank),
        Case(((3, 3), (3, 2), (3, 2)), valid=_full_rank),
        Case(((5, 3), (5, 2), (2,)), expr="np.sum(np.linalg.lstsq(a, b)[1] * c)",
             valid=_full_rank),
        Case(((5, 3), (5,)), expr="np.sum(np.linalg.lstsq(a, b, rcond=None)[0])",
             args=(A, B), valid=_full_rank),
    )),
    np.linalg.matrix_power: Spec("np.linalg.matrix_power(a, 3)", (A,), (
        Case(((3, 3),), valid=_power_safe),
        Case(((3, 3),), expr="np.linalg.matrix_power(a, 0)"),
        Case(((3, 3),), expr="np.linalg.matrix_power(a, 1)"),
        Case(((3, 3),), expr="np.linalg.matrix_power(a, 2)"),
        Case(((2, 3, 3),), expr="np.linalg.matrix_power(a, 5)", valid=_power_safe),
        Case(((3, 3),), expr="np.linalg.matrix_power(a + 2.0 * np.eye(3), -1)", args=(AS,)),
        Case(((2, 3, 3),), expr="np.linalg.matrix_power(a + 2.0 * np.eye(3), -2)", args=(AS,)),
        Case(((3, 3),), expr="np.linalg.matrix_power(a, n=2)"),
    )),
    np.linalg.multi_dot: Spec("np.linalg.multi_dot([a, b, c])", (A, B, Arg("c")), (
        Case(((2, 3), (3, 4), (4, 2))),
        Case(((3,), (3, 4), (4,))),
        Case(((2, 3), (3, 4)), expr="np.linalg.multi_dot([a, b])", args=(A, B)),
        Case(((3,), (3,)), expr="np.linalg.multi_dot([a, b])", args=(A, B)),
        Case(((2, 3), (3, 4), (4, 2), (2,)), expr="np.linalg.multi_dot([a, b, c, e])",
             args=(A, B, Arg("c"), Arg("e"))),
        Case(((3, 3), (3, 2)), expr="np.linalg.multi_dot([a, a, b])", args=(A, B)),
        Case(((2, 3), (3, 3), (3, 4)), expr="np.linalg.multi_dot((a, c, b))", args=(A, C, B)),
    )),
    np.linalg.tensorinv: Spec(f"np.linalg.tensorinv(a + {_EYE6.format((2, 3, 6))})", (AS,), (
        Case(((2, 3, 6),)),
        Case(((6, 2, 3),), expr=f"np.linalg.tensorinv(a + {_EYE6.format((6, 2, 3))}, ind=1)"),
        Case(((2, 3, 3, 2),), expr=f"np.linalg.tensorinv(a + {_EYE6.format((2, 3, 3, 2))}, 2)"),
    )),
    np.linalg.tensorsolve: Spec(f"np.linalg.tensorsolve(a + {_EYE6.format((2, 3, 6))}, b)",
                                (AS, B), (
        Case(((2, 3, 6), (2, 3))),
        Case(((6, 2, 3), (2, 3)), expr="np.linalg.tensorsolve(a + np.transpose("
                                       f"{_EYE6.format((2, 3, 6))}, (2, 0, 1)), b, axes=(0,))"),
        Case(((6, 6), (6,)), expr="np.linalg.tensorsolve(a + 2.0 * np.eye(6), b)"),
    )),
}

if hasattr(np.linalg, "svdvals"):   # NumPy >= 2.0
    SPEC[np.linalg.svdvals] = Spec("np.linalg.svdvals(x)", (Arg("x"),), (
        Case(((4, 3),), valid=_distinct_singular),
        Case(((3, 5),), valid=_distinct_singular),
        Case(((2, 3, 3),), valid=lambda x: all(_distinct_singular(m) for m in x)),
    ))

if hasattr(np.linalg, "vector_norm"):   # NumPy >= 2.0: np.linalg.norm's rules, other axes
    _X = (Arg("x", Domain(0.2, 2.0, signed=True)),)   # away from 0, no ties of |x| (floats)

    def _norms(function, variants):
        return tuple(Case((shape,), expr=f"np.linalg.{function}(x{text})", args=_X)
                     for shape, text in variants)

    SPEC[np.linalg.vector_norm] = Spec("np.linalg.vector_norm(x)", _X, _norms("vector_norm", [
        ((5,), ""), ((3, 4), ""), ((2, 3, 4), ""), ((), ""), ((3, 4), ", keepdims=True"),
    ] + [(shape, f", ord={ord}{text}") for ord in ("2", "1", "np.inf", "-np.inf", "3", "0.5",
                                                   "-2", "0")
         for shape, text in (((5,), ""), ((3, 4), ""), ((3, 4), ", axis=1"),
                             ((3, 4), ", axis=0, keepdims=True"), ((2, 3, 4), ", axis=(0, 2)"),
                             ((2, 3, 4), ", axis=(-1, 0), keepdims=True"),
                             ((2, 3, 4), ", axis=(0, 1, 2)"), ((2, 3, 4), ", keepdims=True"))]
        + [((3, 4), ", axis=-1, ord=np.inf, keepdims=True")]))
    SPEC[np.linalg.matrix_norm] = Spec("np.linalg.matrix_norm(x)", _X, _norms("matrix_norm", [
        ((3, 4), ""), ((2, 3, 4), ""), ((3, 3), ", keepdims=True"),
    ] + [(shape, f", ord={ord}{text}") for ord in ("'fro'", "'nuc'", "2", "-2", "1", "-1",
                                                   "np.inf", "-np.inf")
         for shape, text in (((3, 4), ""), ((4, 3), ", keepdims=True"), ((2, 3, 4), ""),
                             ((2, 4, 3), ", keepdims=True"), ((2, 2, 3, 3), ""))]))
