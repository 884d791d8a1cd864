"""code/quote.py and code/annotations.py: building code by quoting Python with holes."""
import ast

import gast
import pytest

from pullback.backend.emit import to_ast
from pullback.code.annotations import ANNOTATIONS, copy_annotations, mark
from pullback.code.astutil import clone
from pullback.code.quote import quote, quote_block, quote_expr


def text(node):
    body = node if isinstance(node, list) else [node]
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=to_ast(body), type_ignores=[])))


def test_names_fill_holes_in_load_and_store_context():
    stmt = quote("x = stack.pop()", x="pos", stack="iteration_stack")
    assert text(stmt) == "pos = iteration_stack.pop()"
    assert isinstance(stmt.targets[0].ctx, gast.Store)
    assert isinstance(stmt.value.func.value.ctx, gast.Load)


def test_expressions_literals_and_tuples_fill_holes():
    g = quote_expr("a * 2.0", a="h")
    assert text(quote("d = d + g", d="dx", g=g)) == "dx = dx + h * 2.0"
    assert text(quote("t = v", t="t", v=(None, 1.5, "p"))) == "t = (None, 1.5, p)"


def test_a_node_is_copied_never_shared():
    g = quote_expr("a + b")
    first, second = quote("x = g", g=g), quote("y = g", g=g)
    assert first.value is not g and second.value is not first.value


def test_a_block_is_spliced_into_a_loop_body():
    body = [quote("y = 1"), quote("z = y")]
    loop = quote("for i in reversed(range(n)):\n    body\n    w = i", i="_", n="steps", body=body)
    assert text(loop) == "for _ in reversed(range(steps)):\n    y = 1\n    z = y\n    w = _"


def test_several_statements_and_quote_block():
    assert len(quote("a = 1\nb = 2")) == 2
    assert len(quote_block("a = 1")) == 1


def test_names_that_are_not_holes_stay():
    assert text(quote("x = np.shape(v)", x="s")) == "s = np.shape(v)"


def test_a_quoted_node_carries_no_position_of_the_quote():
    stmt = quote("x = 1")
    assert getattr(stmt, "lineno", None) is None


def test_quote_refuses_what_it_cannot_quote():
    with pytest.raises(TypeError):
        quote("x = v", v=object())
    with pytest.raises(ValueError):
        quote_expr("x = 1")


def test_annotations_are_declared_and_survive_cloning():
    stmt = mark(quote("x = 1"), sweep="reverse", line=7, keep=True)
    copy = clone(stmt)
    assert (copy.pb_sweep, copy.pb_line, copy.pb_keep) == ("reverse", 7, True)
    other = copy_annotations(stmt, quote("y = 2"))
    assert other.pb_sweep == "reverse"
    with pytest.raises(KeyError):
        mark(stmt, undeclared=1)
    assert all(name.startswith("pb_") for name in ANNOTATIONS)
