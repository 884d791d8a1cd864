"""Stage 2b, loops: comprehensions become loops, every ``for`` runs over
``range(...)``, every ``while`` is ``while True`` ending in a tested ``break``.

desugar_comprehensions  ``ys = [f(v) for v in xs]`` -> a loop appending to ``ys``
desugar_for             ``for v in xs`` -> ``for i in range(loop_length(xs)): v = xs[i]``
desugar_while           ``while t:`` -> ``while True: cond = t; if cond: ... else: break``
"""
import gast

from pullback.code.astutil import make_name
from pullback.code.quote import quote_expr
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.blocks import Renamer, is_builtin_call, map_blocks, quoted, sets


# -- comprehensions -----------------------------------------------------------

def desugar_comprehensions(tree, namer, location):
    """Hoist list comprehensions and generator expressions into loops.

    ``ys = [f(v) for v in xs if v > 0]`` becomes ``ys = []`` and a loop that
    appends; a comprehension nested in the element is hoisted inside the loop.
    """
    def hoist(stmt):
        before = []

        class Hoist(gast.NodeTransformer):
            def visit_ListComp(self, node):
                return self._loop(node)

            def visit_IfExp(self, node):        # a comprehension in a branch runs only there
                for part in (node.body, node.orelse):
                    _refuse_conditional(part, node, location)
                return self.generic_visit(node)

            def visit_BoolOp(self, node):       # and/or: the later operands may not run
                for part in node.values[1:]:
                    _refuse_conditional(part, node, location)
                return self.generic_visit(node)

            def visit_GeneratorExp(self, node):
                return self._loop(node)

            def _loop(self, node):
                first = node.generators[0]
                first.iter = self.visit(first.iter)      # evaluated where the comprehension is
                result = namer.fresh("items")
                before.extend(quoted("items = []", stmt, items=result))
                rename = Renamer(_comprehension_names(node, namer, location))
                append, = quoted("items.append(element)", stmt, items=result,
                                 element=rename.visit(node.elt))
                inner = hoist(append)                   # comprehensions inside the element
                for generator in reversed(node.generators):
                    for condition in reversed(generator.ifs):
                        inner = quoted("if condition:\n    inner", stmt,
                                       condition=rename.visit(condition), inner=inner)
                    iterator = generator.iter if generator is first else rename.visit(generator.iter)
                    inner = quoted("for target in iterator:\n    inner", stmt,
                                   target=rename.visit(generator.target), iterator=iterator,
                                   inner=inner)
                before.extend(inner)
                return make_name(result)

        stmt = Hoist().visit(stmt)
        return before + [stmt]

    tree.body = map_blocks(tree.body, hoist)
    return tree


def _refuse_conditional(part, node, location):
    """A comprehension that Python runs only on one side of ``a if c else b``,
    ``and`` or ``or``: hoisted before the statement it would always run (and
    raise, or change what it appends to), so it is refused."""
    if any(isinstance(n, (gast.ListComp, gast.GeneratorExp)) for n in gast.walk(part)):
        raise refuse(UnsupportedSyntax, "a comprehension inside a conditional expression "
                     "('a if c else b', 'and', 'or') would run even where Python skips it",
                     part, location, "Compute it in an if statement: 'if c: ys = [...]' "
                     "'else: ys = ...'.")


def _comprehension_names(node, namer, location):
    """Fresh names for the variables a comprehension binds (they do not leak in Python 3)."""
    renames = {}
    for generator in node.generators:
        if generator.is_async:
            raise refuse(UnsupportedSyntax, "async comprehensions are not differentiable",
                         node, location, "Use a plain loop.")
        for n in gast.walk(generator.target):
            if isinstance(n, gast.Name):
                renames[n.id] = namer.fresh(n.id)
    return renames


# -- for loops ----------------------------------------------------------------

def desugar_for(tree, namer, local_names):
    """Make every ``for`` loop iterate over ``range(...)``.

    ``for v in xs`` becomes ``for i in range(loop_length(xs)): v = xs[i]``;
    enumerate, zip and reversed (nested too) become index arithmetic, so the
    reverse sweep can walk the same indices backwards.
    """
    def rewrite(stmt):
        if not isinstance(stmt, gast.For):
            return [stmt]
        before = []
        if is_builtin_call(stmt.iter, "range", local_names) and isinstance(stmt.target, gast.Name):
            # range(n) is evaluated once: if the body rebinds n, keep the value it had
            for k, argument in enumerate(stmt.iter.args):
                if isinstance(argument, gast.Name) and sets(stmt, argument.id):
                    kept = namer.fresh(argument.id + "_at_start")
                    before += quoted("kept = argument", stmt, kept=kept, argument=argument)
                    stmt.iter.args[k] = make_name(kept)
            return before + [stmt]
        index = namer.fresh("i")
        length, item = _iteration(stmt.iter, before, namer, local_names, stmt)
        loop = quoted("""
            for i in range(length):
                target = item
                body
            else:
                orelse
            """, stmt, i=index, length=length, target=stmt.target, item=item(make_name(index)),
            body=stmt.body, orelse=stmt.orelse)
        return before + loop

    tree.body = map_blocks(tree.body, rewrite)
    return tree


def _iteration(node, before, namer, local_names, stmt):
    """How to walk ``node`` by index: (its length, index -> the item there)."""
    def named(value, base):
        if isinstance(value, gast.Name) and not sets(stmt, value.id):
            return value
        name = namer.fresh(base)
        before.extend(quoted("name = value", stmt, name=name, value=value))
        return make_name(name)

    def builtin(name):
        return is_builtin_call(node, name, local_names) and not node.keywords and node.args

    if builtin("enumerate"):
        length, inner = _iteration(node.args[0], before, namer, local_names, stmt)
        start = node.args[1] if len(node.args) > 1 else None

        def item(index):
            count = index if start is None else quote_expr("index + start", index=index, start=start)
            return quote_expr("(count, item)", count=count, item=inner(index))
        return length, item
    if builtin("zip"):
        parts = [_iteration(a, before, namer, local_names, stmt) for a in node.args]
        length = parts[0][0] if len(parts) == 1 else gast.Call(
            func=make_name("min"), args=[length for length, _ in parts], keywords=[])
        return named(length, "n_items"), lambda index: quote_expr(
            "items", items=tuple(item(index) for _, item in parts))
    if is_builtin_call(node, "reversed", local_names) and len(node.args) == 1:
        seq = named(node.args[0], "seq")
        last = named(quote_expr("loop_length(seq) - 1", seq=seq), "last")
        return quote_expr("loop_length(seq)", seq=seq), lambda index: quote_expr(
            "seq[last - index]", seq=seq, last=last, index=index)
    seq = named(node, "seq")
    return quote_expr("loop_length(seq)", seq=seq), lambda index: quote_expr(
        "seq[index]", seq=seq, index=index)


# -- while loops --------------------------------------------------------------

def desugar_while(tree, namer):
    """``while t: body`` -> ``while True: cond = t; if cond: body else: break``.

    The test is evaluated once per iteration like in Python, and the loop's
    exit becomes a ``break`` in tail position, like any other.
    """
    def rewrite(stmt):
        match stmt:
            case gast.While(test=gast.Constant(value=True)):     # already the desugared form
                return [stmt]
            case gast.While():
                return quoted("""
                    while True:
                        cond = test
                        if cond:
                            body
                        else:
                            orelse
                            break
                    """, stmt, cond=namer.fresh("cond"), test=stmt.test, body=stmt.body,
                    orelse=stmt.orelse)
        return [stmt]

    tree.body = map_blocks(tree.body, rewrite)
    return tree
