"""Stage 5: facts about loops the reverse transformer needs.

Which names a loop may assign more than once, the iteration counters of
loops the reverse sweep cannot replay from a range, and the test of a
desugared ``while``.
"""
import gast

from pullback.code.astutil import breaks, make_name, walk
from pullback.transform.nodes import marked


def assigned_in_loops(tree):
    """Names a loop may assign more than once, or assigned at several sites."""
    sites = {}
    in_loop = set()

    def visit(stmts, looping):
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                name = stmt.targets[0].id
                sites[name] = sites.get(name, 0) + 1
                if looping:
                    in_loop.add(name)
            if isinstance(stmt, (gast.For, gast.While)):
                if isinstance(stmt, gast.For):
                    in_loop.add(stmt.target.id)
                visit(stmt.body, True)
            elif isinstance(stmt, gast.If):
                visit(stmt.body, looping)
                visit(stmt.orelse, looping)

    visit(tree.body, False)
    return in_loop | {name for name, count in sites.items() if count > 1}


def add_loop_counters(stmts, namer, nested=False):
    """Count the iterations of loops the reverse sweep cannot replay from a range.

    ``while True`` loops and ``for`` loops that may break get ``n = 0`` before
    and ``n = n + 1`` at the top of the body; the loop node remembers ``n``.
    """
    out = []
    for stmt in stmts:
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                inner = nested or isinstance(stmt, (gast.For, gast.While))
                setattr(stmt, field_name, add_loop_counters(block, namer, inner))
        counted = isinstance(stmt, gast.While) or (isinstance(stmt, gast.For) and breaks(stmt.body))
        if counted:
            counter = namer.fresh("n_iter")
            line = getattr(stmt, "pb_line", None)
            init = marked(gast.Assign(targets=[make_name(counter, gast.Store())],
                                     value=gast.Constant(value=0, kind=None), type_comment=None),
                         line, "forward")
            step = marked(gast.Assign(targets=[make_name(counter, gast.Store())],
                                     value=gast.BinOp(left=make_name(counter), op=gast.Add(),
                                                      right=gast.Constant(value=1, kind=None)),
                                     type_comment=None), line, "forward")
            init.pb_counter = "init-nested" if nested else "init"
            step.pb_counter = "step"
            stmt.body.insert(0, step)
            stmt.pb_counter = counter
            out += [init, stmt]
        else:
            out.append(stmt)
    return out



def exit_test(loop):
    """For a desugared ``while True: ...; if cond: B else: break`` whose B
    never breaks or continues: (the statements before the ``if``, the ``if``)."""
    *test, condition = loop.body
    if not isinstance(condition, gast.If) or not isinstance(condition.test, gast.Name) \
            or not condition.orelse or not isinstance(condition.orelse[-1], gast.Break):
        return None
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in condition.body + test
           for n in walk(s)):
        return None
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in condition.orelse[:-1]
           for n in walk(s)):
        return None
    return test, condition



def count_stores(stmts):
    counts = {}
    for stmt in stmts:
        for node in walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
    return counts


