"""Finite-difference specs for templates/containers.py (merged into tests/rule_spec_table.py):
fields of named tuples and dataclasses, and a dict's items, values, get and dict(pairs).

Each case builds the container in the expression and reads a scalar of the result.
"""
import operator

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
    # the reverse sweep's step for p.w (templates/runtime.py: second order)
    containers.scatter_field: Spec(
        "np.sum(runtime.containers.scatter_field(np.linalg.slogdet(w), 'logabsdet', g)[1] * 3.0)",
        (Arg("w", POSITIVE, diff=False), Arg("g")), (
            Case(((3, 3), None)),
            Case(((2, 2), None), expr="np.sum(runtime.containers.scatter_field("
                                      "np.linalg.slogdet(w), 'sign', g)[0] * g)"),
        )),
    # a | b of dicts (of masks it carries no derivative)
    # (written as a call: the rule table's tests find the function an expression calls)
    operator.or_: Spec("operator.or_(dict(a=x, c=x), dict(b=y, c=y * 2.0))['c']", (X, Y), (
        Case(((3,), (3,))),
        Case(((3,), (2, 3)), expr="operator.or_(dict(a=x), dict(b=y))['b']"),
        Case(((3,), (3,)), expr="operator.or_(dict(a=x), dict(b=y * x))['a']"),
    )),
    # x.copy(): of its own type (np.copy's spec is the array case)
    containers.copy_method: Spec("runtime.containers.copy_method(x) * 2.0", (X,), (
        Case(((3,),)),
        Case(((3,), (3,)), expr="runtime.containers.copy_method(dict(a=x, b=y))['b'] * x",
             args=(X, Y)),
        Case(((2,), (2,)), expr="np.sum(np.array(runtime.containers.copy_method([x, y])) ** 2)",
             args=(X, Y)),
    )),
}
