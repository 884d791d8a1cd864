"""Stage 5: facts about loops the reverse transformer needs.

Which names a loop may assign more than once, the iteration counters of
loops the reverse sweep cannot replay from a range, and the test of a
desugared ``while``.
"""
import gast

from pullback.analysis.shapes import ShapeFacts, _elementwise_shape, elementwise
from pullback.code.astutil import breaks, loads, make_name, walk, walk_statements
from pullback.frontend.parsing import parameter_names
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




def changed_in_place(stmts):
    """Names whose value ``stmts`` may change in place: ``y[i] = v``,
    ``y.attr = v``, ``ys.append(v)`` (any method call on the name)."""
    changed = set()
    for stmt in stmts:
        for node in walk(stmt):
            match node:
                case gast.Subscript(value=gast.Name(id=name), ctx=gast.Store()) | \
                        gast.Attribute(value=gast.Name(id=name), ctx=gast.Store()) | \
                        gast.Call(func=gast.Attribute(value=gast.Name(id=name))):
                    changed.add(name)
    return changed


def first_jump(stmts):
    """The index of the first statement of a loop body that may leave the
    iteration early (break, continue, return; an inner loop's own break and
    continue do not), else ``len(stmts)``."""
    return next((i for i, s in enumerate(stmts) if _jumps(s)), len(stmts))


def _jumps(stmt):
    match stmt:
        case gast.Break() | gast.Continue() | gast.Return():
            return True
        case gast.For() | gast.While():
            return any(isinstance(n, gast.Return) for n in walk(stmt))
        case gast.If():
            return any(_jumps(s) for s in stmt.body + stmt.orelse)
    return False


def loop_shape_facts(tree, forward, operations, scalars, facts):
    """``facts`` (a ShapeFacts of values assigned once per call) with what is
    known of values assigned once per iteration of a ``for`` loop.

    A value assigned at one place in the function, a statement of the loop
    body itself before any break, continue or return, and not read in the
    body before it (not carried from one iteration to the next) nor changed
    in place, holds one value per iteration. Such a value made by an
    elementwise rule from operands of one shape (values of the same kind
    assigned before it in the same body, values assigned once per call, and
    numbers) has their shape in that iteration: ``power = diff ** 2`` has
    ``diff``'s. Both are restored together in the reverse step, so the reverse
    sweep may ask ``diff`` for ``power``'s shape. For the transformer only:
    the optimizer, which moves reads across restores, keeps ``facts``.
    """
    sites = {}
    for node in walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            sites[node.id] = sites.get(node.id, 0) + 1
    for name in parameter_names(tree):
        sites[name] = sites.get(name, 0) + 1
    once_per_call = {name for name, count in sites.items() if count == 1} - _looped(tree)
    extended = ShapeFacts(facts, facts.fits)
    for loop in walk_statements(forward):
        if not isinstance(loop, gast.For):
            continue
        body = loop.body[:first_jump(loop.body)]
        changed = changed_in_place(loop.body)
        fixed, read = set(once_per_call), set()
        for stmt in body:
            match stmt:
                case gast.Assign(targets=[gast.Name(id=target)]) if sites.get(target) == 1 \
                        and target not in read and target not in changed:
                    operation = operations.get(id(stmt))
                    if operation is not None and operation.kind == "rule" \
                            and elementwise(operation.rule):
                        _elementwise_shape(target, operation.bound, extended, fixed, scalars)
                    fixed.add(target)
            read.update(loads(stmt))
    return extended


def _looped(tree):
    """Names assigned inside a loop or a branch (or as a loop's target)."""
    looped = set()
    for stmt in walk_statements(tree.body):
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            for inner in walk_statements(stmt.body + stmt.orelse):
                looped.update(n.id for n in walk(inner) if isinstance(n, gast.Name)
                              and isinstance(n.ctx, gast.Store))
            if isinstance(stmt, gast.For):
                looped.update(n.id for n in walk(stmt.target) if isinstance(n, gast.Name))
    return looped
