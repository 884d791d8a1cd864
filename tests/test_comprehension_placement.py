"""Comprehensions are hoisted into loops before their statement (desugar_loops.py):
where Python runs one only on one side of ``a if c else b``, ``and`` or ``or``,
hoisting would run it always (here: divide by zero on the branch not taken), so
it is refused, naming the construct. Where Python always runs it (a while
test, a lambda's body, a loop's else, the test of a conditional), the gradient
matches central differences."""
import numpy as np
import pytest

import pullback
from reference import central_difference
from pullback.errors import UnsupportedSyntax


def _fd(f, x):
    return central_difference(f, (x,), 0)


def in_a_branch_not_taken(x):
    xs = [x[0], 0.0]
    ys = [1.0 / v for v in xs] if all(v != 0 for v in xs) else xs
    return ys[0] + ys[1] * x[1]


def after_or(x):
    return x[0] > 0 or sum([v * v for v in x]) > 1.0


def test_a_comprehension_in_a_conditional_expression_is_refused():
    with pytest.raises(UnsupportedSyntax, match="comprehension inside a conditional"):
        pullback.grad(in_a_branch_not_taken)(np.array([0.3, -1.2]))
    with pytest.raises(UnsupportedSyntax, match="comprehension inside a conditional"):
        pullback.grad(after_or)(np.array([0.3, -1.2]))


def in_a_while_test(x):
    s = 0.0
    k = 0
    while sum([v * v for v in x]) * k < 20.0:
        s = s + x[0] * k
        k = k + 1
    return s


def in_a_lambda(x):
    f = lambda c: sum([v * c for v in x])
    return f(2.0) + f(x[0])


def in_a_loop_else(x):
    s = 0.0
    for i in range(2):
        s = s + x[i]
    else:
        s = s + sum([v * v for v in x])
    return s


@pytest.mark.parametrize("f", [in_a_while_test, in_a_lambda, in_a_loop_else],
                         ids=lambda f: f.__name__)
def test_a_comprehension_python_always_runs(f):
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(pullback.grad(f)(x), _fd(f, x), atol=1e-6)
