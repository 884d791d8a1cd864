"""Finite-difference specs for templates/builtins.py (merged into tests/rule_spec_table.py)."""
from rule_spec_kit import Arg, Case, Domain, Spec

APART = Domain(0.2, 2.0, signed=True)

SPEC = {
    max: Spec("max(x, y)", (Arg("x"), Arg("y")), (
        Case((None, None)), Case((None,), expr="max(x, 0.5)", args=(Arg("x", APART),)),
        Case((None, None), expr="max(x * y, y)"),
    ), valid=lambda x, y: abs(x - y) > 0.05),
    min: Spec("min(x, y)", (Arg("x"), Arg("y")), (
        Case((None, None)), Case((None,), expr="min(x, -0.5)", args=(Arg("x", APART),)),
    ), valid=lambda x, y: abs(x - y) > 0.05),
    list: Spec("np.array(list(x)) * 2.0", (Arg("x"),), (Case(((3,),)), Case(((2, 3),)))),
    tuple: Spec("np.stack(tuple(x)) ** 2", (Arg("x"),), (Case(((3, 2),)),)),
}
