"""Build code by quoting Python with holes, so a pass reads like what it emits.

    quote("x = stack.pop()", x="pos", stack="iteration_stack")
    quote("d = d + g", d="dx", g=node)            # a hole filled with an expression
    quote_expr("np.shape(v)", v=node)             # an expression, not a statement
    quote("for i in reversed(range(n)):\\n    body", body=statements)

A hole is a name in the quoted text. Its filling may be:

- a ``str``: a name (its load or store context kept from the quote);
- a gast expression node: put in place of the name (copied, so one node is
  never in two places of a tree);
- a list of statements: spliced where the name stands alone as a statement;
- a number, bool or None: that literal;
- a tuple or list of those (in an expression): a gast tuple or list.

Names of the quoted text that are not holes stay as written (``np``,
``reversed``). Each text is parsed once per process; every call returns new
nodes. ``quote`` returns one statement, or a list when the text has several.
"""
import functools
import textwrap

import gast

from pullback.code.astutil import clone, make_name


def quote(text, **holes):
    """The statement (or list of statements) ``text`` with its holes filled."""
    body = _filled(_parsed(text), holes)
    return body[0] if len(body) == 1 else body


def quote_block(text, **holes):
    """Like :func:`quote`, always a list of statements."""
    return _filled(_parsed(text), holes)


def quote_expr(text, **holes):
    """The expression ``text`` with its holes filled."""
    statement = quote(text, **holes)
    if not isinstance(statement, gast.Expr):
        raise ValueError(f"not an expression: {text!r}")
    return statement.value


def to_node(value, ctx=None):
    """A gast node for a hole's filling (see the module docstring)."""
    if isinstance(value, str):
        return make_name(value, ctx)
    if isinstance(value, gast.AST):
        return clone(value)
    if value is None or isinstance(value, (bool, int, float, complex)):
        return gast.Constant(value=value, kind=None)
    if isinstance(value, (tuple, list)):
        kind = gast.Tuple if isinstance(value, tuple) else gast.List
        return kind(elts=[to_node(v, ctx) for v in value], ctx=ctx or gast.Load())
    raise TypeError(f"cannot quote {value!r}")


@functools.lru_cache(maxsize=None)
def _parsed_module(text):
    tree = gast.parse(_dedent(text))
    for node in gast.walk(tree):    # a line of the quote is no line of the user's file
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            node.__dict__.pop(attribute, None)
    return tree


def _parsed(text):
    return clone(_parsed_module(text).body)


def _dedent(text):
    return textwrap.dedent(text).strip("\n")


def _filled(statements, holes):
    out = []
    for stmt in statements:
        if (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Name)
                and isinstance(holes.get(stmt.value.id), list)
                and all(isinstance(s, gast.stmt) for s in holes[stmt.value.id])):
            out += holes[stmt.value.id]          # a block spliced in (not copied)
            continue
        out.append(_Fill(holes).visit(stmt))
    return out


class _Fill(gast.NodeTransformer):
    def __init__(self, holes):
        self.holes = holes

    def visit_Name(self, node):
        if node.id not in self.holes:
            return node
        return to_node(self.holes[node.id], node.ctx)

    def generic_visit(self, node):
        # statement lists inside compound statements can take spliced blocks
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(node, field, _filled(block, self.holes))
        for field, value in gast.iter_fields(node):
            if field in ("body", "orelse", "finalbody") and isinstance(value, list) \
                    and value and isinstance(value[0], gast.stmt):
                continue
            if isinstance(value, list):
                setattr(node, field, [self.visit(v) if isinstance(v, gast.AST) else v for v in value])
            elif isinstance(value, gast.AST):
                setattr(node, field, self.visit(value))
        return node
