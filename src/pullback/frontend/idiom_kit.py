"""What the rewrites of Python idioms share (frontend/desugar_python.py): a walk
over every statement that lets a rewrite of an expression put statements on
the lines before it, where that evaluates the same things in the same cases.

    y = max(xs, key=k) * 2.0    ->    order = ...          (hoisted)
                                      y = xs[order] * 2.0

A hoisted statement runs once, before its statement: it is refused where the
expression runs a different number of times (a ``while`` test, a lambda, a
comprehension, one side of ``a if c else b`` or of ``and``/``or``).
"""
import gast

from pullback.code.astutil import make_name
from pullback.errors import UnsupportedSyntax, refuse

_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp)


def located(new, old):
    """``new`` (a node or list of statements) placed at ``old``'s line, every node of it."""
    for stmt in new if isinstance(new, list) else [new]:
        for node in gast.walk(stmt):
            for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                if getattr(node, attr, None) is None and getattr(old, attr, None) is not None:
                    setattr(node, attr, getattr(old, attr))
        if getattr(old, "pb_line", None) is not None:
            stmt.pb_line = old.pb_line
    return new


def assign(name, value, at):
    """``name = value``, at ``at``'s line."""
    return located(gast.Assign(targets=[make_name(name, gast.Store())], value=value,
                               type_comment=None), at)


def rewrite_expressions(tree, rewrite, location):
    """Apply ``rewrite(node, site)`` to every expression of ``tree``'s statements
    (innermost first); it returns a replacement node, or None to keep ``node``.
    ``site.hoist(stmts, what)`` puts statements before the current statement,
    refused (naming ``what``) where the expression is not evaluated exactly once."""
    tree.body = _block(tree.body, rewrite, location)
    return tree


def _block(stmts, rewrite, location):
    out = []
    for stmt in stmts:
        site = _Site(stmt, location)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(stmt, field, _block(block, rewrite, location))
        if not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
            _Rewriter(rewrite, site).visit_statement(stmt)
        out += site.before + [stmt]
    return out


class _Site:
    """The statement being rewritten, and what goes before it."""

    def __init__(self, stmt, location):
        self.stmt, self.location, self.before = stmt, location, []
        self.deferred = None        # the node that makes the current expression run other than once

    def hoist(self, stmts, what, node):
        if self.deferred is not None:
            raise refuse(UnsupportedSyntax, f"{what} inside {_describe(self.deferred)} is not "
                         "supported", node, self.location,
                         "Compute it on a line of its own before this statement.")
        self.before += located(list(stmts), self.stmt)


def _describe(node):
    if isinstance(node, gast.Lambda):
        return "a lambda"
    if isinstance(node, _COMPREHENSIONS):
        return "a comprehension"
    if isinstance(node, gast.IfExp):
        return "a conditional expression"
    if isinstance(node, gast.BoolOp):
        return "'and'/'or'"
    return "a while loop's test"


class _Rewriter:
    """The expressions of one statement (not the blocks it holds), innermost first."""

    def __init__(self, rewrite, site):
        self.rewrite, self.site = rewrite, site

    def visit_statement(self, stmt):
        for field in stmt._fields:
            if field in ("body", "orelse", "finalbody"):
                continue
            deferred = stmt if isinstance(stmt, gast.While) and field == "test" else None
            self._field(stmt, field, deferred)

    def _field(self, node, field, deferred):
        value = getattr(node, field, None)
        if isinstance(value, list):
            setattr(node, field, [self.visit(v, deferred) if isinstance(v, gast.expr) else
                                  self._children(v, deferred) for v in value])
        elif isinstance(value, gast.expr):
            setattr(node, field, self.visit(value, deferred))
        elif isinstance(value, gast.AST) and not isinstance(value, (gast.expr_context, gast.stmt)):
            self._children(value, deferred)

    def _children(self, node, deferred):
        if isinstance(node, gast.AST):
            for field in node._fields:
                self._field(node, field, deferred)
        return node

    def visit(self, node, deferred):
        for field in node._fields:
            inner = deferred
            if deferred is None:
                if isinstance(node, (gast.Lambda, *_COMPREHENSIONS)):
                    inner = node
                    if isinstance(node, _COMPREHENSIONS) and field == "generators":
                        self._generators(node, node.generators)
                        continue
                elif isinstance(node, gast.IfExp) and field != "test":
                    inner = node
                elif isinstance(node, gast.BoolOp) and field == "values":
                    node.values = [self.visit(v, None if i == 0 else node)
                                   for i, v in enumerate(node.values)]
                    continue
            self._field(node, field, inner)
        self.site.deferred = deferred
        new = self.rewrite(node, self.site)
        self.site.deferred = None
        return node if new is None else new

    def _generators(self, comprehension, generators):
        """A comprehension's first iterable runs once, where the comprehension is."""
        for i, generator in enumerate(generators):
            generator.iter = self.visit(generator.iter, None if i == 0 else comprehension)
            generator.target = self.visit(generator.target, comprehension)
            generator.ifs = [self.visit(c, comprehension) for c in generator.ifs]
