"""Finite-difference specs for templates/scipy_special.py (merged into
tests/rule_spec_table.py); empty without SciPy, whose rules are then left out
of the table too (pullback.rules.OPTIONAL_FAMILIES).

Domains keep away from the poles of gammaln, digamma and polygamma (positive
arguments, and negative ones between two poles), from logit's ends, and from
xlogy's y = 0; xlogy at x == 0 is checked by hand in tests/test_scipy_rules.py.
"""
try:
    import scipy.special
except ImportError:         # the scipy extra is not installed
    scipy = None

from rule_spec_kit import (POSITIVE, REAL, UNARY_SHAPES, WIDE, Arg, Case, Domain, Spec,
                           _reduction_cases, binary, unary)

UNIT_OPEN = Domain(0.05, 0.95)          # logit: the open interval (0, 1)
BETWEEN_POLES = Domain(-1.8, -1.2)      # gammaln, digamma: between the poles at -2 and -1
A, B = Arg("a"), Arg("b", POSITIVE)


def _axis_cases(template):
    cases = []
    for shape, axes in (((3, 4), (None, 0, 1, -1, (0, 1))), ((2, 3, 4), (None, 1, (0, 2))),
                        ((5,), (None, 0))):
        for axis in axes:
            cases.append(Case((shape,), (("axis", axis),)))
    return tuple(cases) + (Case(((3, 4),), expr=template.replace(", axis={axis}", "")),)


def _specs():
    special = scipy.special
    return {
        special.erf: unary("scipy.special.erf(x)", WIDE),
        special.erfc: unary("scipy.special.erfc(x)", WIDE),
        special.gammaln: Spec("scipy.special.gammaln(x)", (Arg("x", POSITIVE),),
                              tuple(Case((s,)) for s in UNARY_SHAPES) + (
            Case(((3, 4),), args=(Arg("x", BETWEEN_POLES),)),)),
        special.digamma: Spec("scipy.special.digamma(x)", (Arg("x", POSITIVE),),
                              tuple(Case((s,)) for s in UNARY_SHAPES) + (
            Case(((3, 4),), args=(Arg("x", BETWEEN_POLES),)),
            Case(((3,),), expr="scipy.special.psi(x)"),)),
        special.polygamma: Spec("scipy.special.polygamma(1, x)", (Arg("x", POSITIVE),), (
            Case(((3, 4),)), Case((None,)),
            Case(((3, 4),), expr="scipy.special.polygamma(2, x)"),
            Case(((3, 4),), expr="scipy.special.polygamma(0, x)"),
            Case(((3, 4),), args=(Arg("x", BETWEEN_POLES),)),
        )),
        special.expit: unary("scipy.special.expit(x)", WIDE),
        special.logit: unary("scipy.special.logit(x)", UNIT_OPEN),
        special.xlogy: binary("scipy.special.xlogy(x, y)", dx=REAL, dy=POSITIVE, same=POSITIVE),
        special.logsumexp: Spec("scipy.special.logsumexp(a, axis={axis}, keepdims={keepdims})",
                                (A,), tuple(_reduction_cases()) + (
            Case(((3, 4),), expr="scipy.special.logsumexp(a)"),
            Case((None,), expr="scipy.special.logsumexp(a)"),
            Case(((3, 4), (3, 4)), expr="scipy.special.logsumexp(a, axis=1, b=b)", args=(A, B)),
            Case(((3, 4), (4,)), expr="scipy.special.logsumexp(a, axis=0, b=b)", args=(A, B)),
            Case(((4,), (3, 4)), expr="scipy.special.logsumexp(a, axis=-1, b=b, keepdims=True)",
                 args=(A, B)),
            Case(((3, 4), (3, 1)), expr="scipy.special.logsumexp(a, b=b)", args=(A, B)),
            Case(((3, 4), (3, 4)), expr="scipy.special.logsumexp(a, axis=(0, 1), b=b)",
                 args=(A, Arg("b", POSITIVE, diff=False))),
            Case(((3, 4),), expr="scipy.special.logsumexp(a, axis=1, b=2.0)"),
        )),
        special.softmax: Spec("scipy.special.softmax(x, axis={axis})", (Arg("x"),),
                              _axis_cases("scipy.special.softmax(x, axis={axis})")),
        special.log_softmax: Spec("scipy.special.log_softmax(x, axis={axis})", (Arg("x"),),
                                  _axis_cases("scipy.special.log_softmax(x, axis={axis})")),
    }


SPEC = {} if scipy is None else _specs()
