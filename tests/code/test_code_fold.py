"""code/fold.py: constant folding on tiny statements (before -> after)."""
import ast

import gast
import pytest

from pullback.code.fold import fold_constants_in


def folded(source):
    body = fold_constants_in(gast.parse(source).body)
    return ast.unparse(gast.gast_to_ast(gast.Module(body=body, type_ignores=[])))


@pytest.mark.parametrize("before, after", [
    ("y = 2.0 * 3.0", "y = 6.0"),
    ("y = x ** 1", "y = x"),
    ("y = -(-a)", "y = a"),
    ("y = x + -a * b", "y = x - a * b"),
    ("y = literal(2.0)", "y = True"),
    ("y = literal(x)", "y = False"),
    ("if True:\n    y = a\nelse:\n    y = b", "y = a"),
    # a template's condition, once literal() is answered
    ("y = f(a) if (False or n is None) and (False or b is None) and True else g(a)",
     "y = f(a) if n is None and b is None else g(a)"),
    ("y = True and x", "y = x"),
    ("y = False or x", "y = x"),
    # both branches the same, the test pure: the branch
    ("y = f(a) if n is None and not b is None else f(a)", "y = f(a)"),
])
def test_folds(before, after):
    assert folded(before) == after


@pytest.mark.parametrize("source", [
    "y = x and True",                       # x may be an array or 0: not a bool
    "y = x or False",
    "y = a < b and True",                   # an array comparison is not a bool
    "y = f(a) if a < b else f(a)",          # the test may raise (arrays: ambiguous truth)
    "y = f(a) if n is None else g(a)",      # different branches
    "y = 1.0 / 0.0",                        # raises when folded: left as written
])
def test_leaves_alone(source):
    assert folded(source) == source
