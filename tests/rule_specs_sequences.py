"""Finite-difference specs for templates/sequences.py (merged into tests/rule_spec_table.py):
``x + y`` and ``x * y`` where an operand may be a list or a tuple, which join and
repeat sequences and add and multiply numbers and arrays (runtime/sequence_arithmetic.py).
"""
from rule_spec_kit import Arg, Case, Spec

from pullback.runtime import sequence_arithmetic

X, Y = Arg("x"), Arg("y")
_ADD = "runtime.sequence_arithmetic.sequence_add"
_MUL = "runtime.sequence_arithmetic.sequence_mul"
_WEIGH = "np.array([1.0, 2.0, 3.0, 5.0])"

SPEC = {
    sequence_arithmetic.sequence_add: Spec(f"{_ADD}((x, y))", (X, Y), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case(((), (3,))),
        Case(((2,), (3,)), expr=f"np.array({_ADD}(([x[0], y[0]], [x[1], y[2]]))) * {_WEIGH}"),
        Case(((2,), (3,)), expr=f"np.array({_ADD}(((x[0] * y[1],), (y[2], x[1], x[0])))) * {_WEIGH}"),
        Case(((2,), (3,)), expr=f"{_ADD}(([x[0]], [y[0], x[1]]))[2] * y"),
    )),
    sequence_arithmetic.sequence_mul: Spec(f"{_MUL}((x, y))", (X, Y), (
        Case(((3, 4), (3, 4))),
        Case(((3, 4), (4,))),
        Case(((), (3,))),
        Case(((2,), (3,)), expr=f"np.array({_MUL}(([x[0], y[1]], 2))) * {_WEIGH}"),
        Case(((2,), (3,)), expr=f"np.array({_MUL}((2, (x[1] * y[0], y[2])))) * {_WEIGH}"),
        Case(((2,), (3,)), expr=f"{_MUL}(([x[0] * y[1]], 3))[1] * y"),
    )),
}

_GRAD = "runtime.sequence_arithmetic.sequence_add_grad"
SPEC[sequence_arithmetic.sequence_add_grad] = Spec(f"{_GRAD}(x, (y, y))[0] * 2.0", (X, Y), (
    Case(((3, 4), (4,))),
    Case(((3, 4), (3, 4)), expr=f"{_GRAD}(x, (y, y))[1] * y"),
    Case(((3,), (3,)), expr=f"np.array({_GRAD}(x, ([y[0]], [y[1], y[2]]))[1]) * y[1:]"),
))

_MGRAD = "runtime.sequence_arithmetic.sequence_mul_grad"
SPEC[sequence_arithmetic.sequence_mul_grad] = Spec(f"{_MGRAD}(x, (y, y))[0] * 2.0", (X, Y), (
    Case(((3, 4), (4,))),
    Case(((3, 4), (3, 4)), expr=f"{_MGRAD}(x, (y, 2.0 * y))[1] * y"),
    Case(((3,), (3,)), expr=f"np.array({_MGRAD}(x, ([y[0]], 3))[0]) * y[1:2]"),
    Case(((), (3,)), expr=f"{_MGRAD}(x, (y[0], y))[0] * {_MGRAD}(x, (y[0], y))[1]"),
))

_T = "runtime.sequence_arithmetic.sequence_add_grad_transpose"
SPEC[sequence_arithmetic.sequence_add_grad_transpose] = Spec(
    f"{_T}((x, y), np.zeros((3, 4)), (x, y)) * 2.0", (Arg("x"), Arg("y")), (
        Case(((3, 4), (4,))),
        Case(((3,), (3,)), expr=f"np.array({_T}(([x[0]], [y[1], x[2]]), x, ([x[0]], [y[0], y[1]]))) * y"),
    ))
_AT = "runtime.sequence_arithmetic.sequence_add_tangent"
SPEC[sequence_arithmetic.sequence_add_tangent] = Spec(f"{_AT}((x, y), (x, y)) * 2.0", (X, Y), (
    Case(((3, 4), (4,))),
    Case(((3,), (3,)), expr=f"np.array({_AT}(([x[0]], [y[1], x[2]]), ([x[0]], [y[0], y[1]]))) * y"),
))
