"""Finite-difference specs for templates/shape.py (merged into tests/test_rules.py)."""
import builtins

import numpy as np

from rule_spec_kit import Arg, Case, Spec

SPEC = {
    np.reshape: Spec("np.reshape(a, (4, 3))", (Arg("a"),), (
        Case(((3, 4),)), Case(((12,),)), Case(((3, 4),), expr="np.reshape(a, -1)"),
        Case(((3, 4),), expr="a.reshape(2, 6)"), Case(((3, 4),), expr="a.reshape((6, 2))"))),
    np.ravel: Spec("np.ravel(a)", (Arg("a"),), (Case(((3, 4),)), Case(((2, 3, 2),)),
                                                  Case(((3, 4),), expr="a.ravel()"))),
    np.squeeze: Spec("np.squeeze(a)", (Arg("a"),), (Case(((3, 1, 4),)),
                                                      Case(((1, 3, 1),), expr="np.squeeze(a, axis=0)"))),
    np.transpose: Spec("np.transpose(a)", (Arg("a"),), (
        Case(((3, 4),)), Case(((2, 3, 4),)), Case(((2, 3, 4),), expr="np.transpose(a, (1, 2, 0))"),
        Case(((3, 4),), expr="a.T"), Case(((2, 3, 4),), expr="a.transpose((2, 0, 1))"))),
    np.copy: Spec("np.copy(a)", (Arg("a"),), (Case(((3, 4),)), Case(((3, 4),), expr="a.copy()"))),
    np.stack: Spec("np.stack([a, b, a * b])", (Arg("a"), Arg("b")), (
        Case(((3,), (3,))), Case(((2, 3), (2, 3)), expr="np.stack((a, b), axis=1)"),
        Case(((2, 3), (2, 3)), expr="np.stack([a, b], -1)"))),
    np.array: Spec("np.array([a, b * 2.0])", (Arg("a"), Arg("b")), (
        Case(((3,), (3,))), Case((None, None)), Case(((2, 2), (2, 2))))),
    np.asarray: Spec("np.asarray([a, b])", (Arg("a"), Arg("b")), (Case(((3,), (3,))),)),
    builtins.sum: Spec("sum([a, b, a * b])", (Arg("a"), Arg("b")), (
        Case(((3,), (3,))), Case((None, None)), Case(((3,), None)),
        Case(((3, 2),), expr="sum(a)", args=(Arg("a"),)),
        Case(((3,), (3,)), expr="sum([a, b], 1.0)"),
        Case(((3,), (3,)), expr="sum([a, a * a], b)"))),
}
