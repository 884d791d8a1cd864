"""Stage 3, resolve: which rule (or other kind of operation) each normalized
statement resolves to, its operands bound to the rule's parameters, and the
refusal recorded for a call without a rule.

Each test normalizes and resolves a tiny function (tests/analysis/ankit.py)
and looks at the operation of the statement assigning one name.
"""
import math
import operator

import gast
import numpy as np
import pytest

from ankit import analyse
from pullback.errors import NoDerivativeRule

xp = np                                 # a module under another name
act = np.tanh                           # a function under another name
opaque = np.vectorize(lambda v: v * 2.0, otypes=[float])


def calls(x, w):
    a = np.tanh(x)
    b = xp.tanh(x)
    c = act(x)
    d = math.sin(w)
    return a + b + c + d


def test_a_call_resolves_to_its_rule_under_any_name():
    tree = analyse(calls)
    for name in ("a", "b", "c"):
        operation = tree.operation(name)
        assert operation.kind == "rule" and np.tanh in operation.rule.targets, name
    assert tree.operation("d").rule.targets == (math.sin,)


def test_the_operands_are_bound_to_the_rules_parameters():
    bound = analyse(calls).operation("a").bound
    assert list(bound) == ["x"] and isinstance(bound["x"], gast.Name) and bound["x"].id == "x"


def operators(x, y):
    p = x * y
    q = -x
    r = x @ y
    return p + q + r


def test_operators_resolve_to_the_rules_of_their_functions():
    tree = analyse(operators)
    assert operator.mul in tree.operation("p").rule.targets
    assert operator.neg in tree.operation("q").rule.targets
    assert operator.matmul in tree.operation("r").rule.targets


def keywords(x):
    s = np.sum(x, axis=1, keepdims=True)
    m = x.mean(axis=0)
    t = x.T
    return np.sum(s) + np.sum(m) + np.sum(t)


def test_keyword_arguments_and_defaults_are_bound():
    bound = analyse(keywords).operation("s").bound
    assert bound["axis"].value == 1 and bound["keepdims"].value is True
    assert bound["dtype"].value is None         # a default the call left out


def test_a_method_and_an_attribute_resolve_to_the_functions_they_stand_for():
    tree = analyse(keywords)
    method = tree.operation("m")
    assert np.mean in method.rule.targets and method.bound["a"].id == "x"
    assert method.bound["axis"].value == 0
    assert np.transpose in tree.operation("t").rule.targets


def plain(x, i):
    y = x
    z = x[i]
    pair = (x, y)
    return z + pair[0]


def test_copies_subscripts_and_tuples_are_their_own_kinds():
    tree = analyse(plain)
    assert tree.operation("y").kind == "copy" and tree.operation("y").sources == ("x",)
    assert tree.operation("z").kind == "subscript"
    assert tree.operation("pair").kind == "pack"


def writes(x, v):
    y = np.zeros(3)
    y[0] = v
    ys = []
    ys.append(x)
    return np.sum(y) + ys[0]


def test_item_assignment_and_append_change_their_target():
    tree = analyse(writes)
    setitem = [tree.operations[id(s)] for s in tree.statements("y")
               if tree.operations[id(s)].kind == "setitem"]
    assert len(setitem) == 1 and setitem[0].target == "y"
    appended = [tree.operations[id(s)] for s in tree.statements("ys")
                if tree.operations[id(s)].kind == "append"]
    assert len(appended) == 1 and "x" in appended[0].sources


def constants(x):
    f = np.floor(x)
    g = x > 0.5
    z = np.zeros(3)
    return np.sum(x * f * g) + np.sum(z)


def test_functions_without_a_derivative_are_constants():
    tree = analyse(constants)
    assert {tree.operation(n).kind for n in ("f", "g", "z")} == {"constant"}


def unknown(x):
    k = opaque(x)
    return np.sum(k)


def test_a_call_without_a_rule_is_recorded_with_its_refusal_never_guessed():
    operation = analyse(unknown).operation("k")
    assert operation.kind == "opaque"
    assert isinstance(operation.refusal, NoDerivativeRule)
    assert "k = opaque(x)" in str(operation.refusal)       # it points at the user's line
    with pytest.raises(NoDerivativeRule):
        raise operation.refusal
