"""Finite-difference specs for templates/scipy_linalg.py (merged into
tests/rule_spec_table.py); empty without SciPy, whose rules are then left out
of the table too (pullback.rules.OPTIONAL_FAMILIES).

Matrices are built well-conditioned inside the expression, as in
rule_specs_linalg.py: ``a + 3.0 * np.eye(3)`` with small entries (raw inputs:
the solves and factorizations read one triangle of them), ``a @ a.T + 3 I``
for symmetric positive-definite ones.
"""
try:
    import scipy.linalg
except ImportError:         # the scipy extra is not installed
    scipy = None

from rule_spec_kit import REAL, Arg, Case, Domain, Spec

SMALL = Domain(-0.5, 0.5)
A, AS, B = Arg("a"), Arg("a", SMALL), Arg("b")
C = Arg("c", REAL, diff=False)          # a constant weight for a scalar of the outputs
_SPD = "a @ a.T + 3.0 * np.eye(3)"
_RAW = "a + 3.0 * np.eye(3)"


def _specs():
    linalg = scipy.linalg
    return {
        linalg.solve_triangular: Spec(f"scipy.linalg.solve_triangular({_RAW}, b)", (AS, B), (
            Case(((3, 3), (3,))),
            Case(((3, 3), (3, 2))),
            Case(((3, 3), (3, 2)), expr=f"scipy.linalg.solve_triangular({_RAW}, b, lower=True)"),
            Case(((3, 3), (3,)), expr=f"scipy.linalg.solve_triangular({_RAW}, b, trans=1)"),
            Case(((3, 3), (3, 2)),
                 expr=f"scipy.linalg.solve_triangular({_RAW}, b, trans='T', lower=True)"),
            Case(((3, 3), (3,)),
                 expr=f"scipy.linalg.solve_triangular({_RAW}, b, unit_diagonal=True)"),
            Case(((3, 3), (3,)), expr=f"scipy.linalg.solve_triangular({_RAW}, b, 2, True, True)"),
            Case(((3, 3),), expr=f"scipy.linalg.solve_triangular({_RAW}, a)", args=(AS,)),
        )),
        linalg.solve: Spec(f"scipy.linalg.solve({_RAW}, b)", (AS, B), (
            Case(((3, 3), (3,))),
            Case(((3, 3), (3, 2))),
            Case(((3, 3), (3, 2)), expr=f"scipy.linalg.solve({_RAW}, b, transposed=True)"),
            Case(((3, 3), (3,)), expr=f"scipy.linalg.solve({_RAW}, b, assume_a='sym')"),
            Case(((3, 3), (3, 2)),
                 expr=f"scipy.linalg.solve({_RAW}, b, lower=True, assume_a='pos')"),
            Case(((3, 3), (3,)), expr=f"scipy.linalg.solve({_SPD}, b, assume_a='pos')",
                 args=(A, B)),
            Case(((3, 3),), expr=f"scipy.linalg.solve({_RAW}, a, assume_a='gen')", args=(AS,)),
        )),
        linalg.cholesky: Spec(f"scipy.linalg.cholesky({_SPD})", (A,), (
            Case(((3, 3),)),
            Case(((3, 3),), expr=f"scipy.linalg.cholesky({_SPD}, lower=True)"),
            # raw inputs: LAPACK reads the upper (lower=True: lower) triangle only
            Case(((3, 3),), expr=f"scipy.linalg.cholesky({_RAW})", args=(AS,)),
            Case(((3, 3),), expr=f"scipy.linalg.cholesky({_RAW}, lower=True)", args=(AS,)),
        )),
        linalg.cho_factor: Spec(f"np.sum(scipy.linalg.cho_factor({_RAW})[0] * c)", (AS, C), (
            Case(((3, 3), (3, 3))),
            Case(((3, 3), (3, 3)),
                 expr=f"np.sum(scipy.linalg.cho_factor({_RAW}, lower=True)[0] * c)"),
            Case(((3, 3), (3, 3)), expr=f"np.sum(scipy.linalg.cho_factor({_SPD})[0] * c)",
                 args=(A, C)),
        )),
        linalg.cho_solve: Spec(f"scipy.linalg.cho_solve(scipy.linalg.cho_factor({_RAW}), b)",
                               (AS, B), (
            Case(((3, 3), (3,))),
            Case(((3, 3), (3, 2))),
            Case(((3, 3), (3, 2)), expr="scipy.linalg.cho_solve(scipy.linalg.cho_factor("
                                        f"{_RAW}, lower=True), b)"),
            Case(((3, 3), (3,)), expr=f"scipy.linalg.cho_solve(scipy.linalg.cho_factor({_SPD}), b)",
                 args=(A, B)),
            Case(((3, 3), (3,)), expr=f"scipy.linalg.cho_solve((a, False), b)",
                 args=(Arg("a", Domain(1.0, 2.0)), B)),
            Case(((3, 3), (3, 3)), expr=f"scipy.linalg.cho_solve((a, True), b)",
                 args=(Arg("a", Domain(1.0, 2.0)), Arg("b", REAL, diff=False))),
        )),
        linalg.expm: Spec("scipy.linalg.expm(a)", (A,), (
            Case(((3, 3),)),
            Case(((1, 1),)),
            Case(((2, 3, 3),)),
            Case(((3, 3),), expr="scipy.linalg.expm(a @ a.T)", args=(AS,)),
            Case(((4, 4),), expr="scipy.linalg.expm(np.triu(a))"),
        )),
    }


SPEC = {} if scipy is None else _specs()
