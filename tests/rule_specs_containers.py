"""Finite-difference specs for templates/containers.py (merged into tests/rule_spec_table.py):
fields of named tuples and dataclasses, and a dict's items, values, get and dict(pairs).

Each case builds the container in the expression and reads a scalar of the result.
"""
from rule_spec_kit import POSITIVE, Arg, Case, Spec

from pullback.runtime import containers

X, Y = Arg("x"), Arg("y")
_PAIR = "dict(a=x, b=y)"

SPEC = {
    containers.field: Spec("np.sum(runtime.containers.field(np.linalg.slogdet(x), 'logabsdet'))",
                           (Arg("x", POSITIVE),), (
        Case(((3, 3),), expr="np.sum(runtime.containers.field(np.linalg.slogdet(x + 3.0 * np.eye(3)),"
                             " 'logabsdet'))"),
    )),
    containers.dict_items: Spec(f"np.sum(runtime.containers.dict_items({_PAIR})[1][1])", (X, Y), (
        Case(((3,), (2, 3))),
        Case((None, (2,)), expr=f"np.sum(runtime.containers.dict_items({_PAIR})[0][1] * "
                                f"runtime.containers.dict_items({_PAIR})[1][1])"),
    )),
    containers.dict_values: Spec(f"np.sum(runtime.containers.dict_values({_PAIR})[0] ** 2)", (X, Y), (
        Case(((3,), (2, 3))),
        Case(((2,), (2,)), expr=f"np.sum(runtime.containers.dict_values({_PAIR})[1] * y)"),
    )),
    containers.dict_get: Spec(f"np.sum(runtime.containers.dict_get({_PAIR}, 'a', y))", (X, Y), (
        Case(((3,), (3,))),
        Case(((3,), (3,)), expr=f"np.sum(runtime.containers.dict_get({_PAIR}, 'c', y * x))"),
        Case(((2, 3), None), expr=f"np.sum(runtime.containers.dict_get({_PAIR}, 'b', 1.0) * x)"),
    )),
    containers.dict_from_pairs: Spec("np.sum(runtime.containers.dict_from_pairs([('a', x), ('b', y)])['b'])",
                                     (X, Y), (
        Case(((3,), (2, 3))),
        Case(((3,), (3,)), expr=f"np.sum(runtime.containers.dict_from_pairs({_PAIR})['a'] * y)"),
        Case(((3,), (3,)), expr="np.sum(runtime.containers.dict_from_pairs([('a', x), ('a', y)])['a'])"),
    )),
}
