"""Stage 5b: save what the reverse sweep reads before the forward sweep overwrites it.

The reverse transformer leaves a ``Restore`` marker wherever a variable
assigned more than once gets its earlier value back. Here each marker whose
variable the reverse sweep reads becomes a pop, and the forward statement
that overwrote the value gets the matching push just before it; the other
markers disappear. Stacks are plain lists named for what they hold
(``x_stack``), so only values the adjoint reads are ever kept; a value it
reads only for its shape and dtype (``unbroadcast(g, x)``) is kept as
``shape_only(x)``, which holds no data.
"""
import gast
import numpy

from pullback.runtime.declare import helper_facts

from pullback.code.astutil import clone, loads, make_name, walk
from pullback.transform.reverse import Restore, index_value


def _restores(stmts):
    for stmt in stmts:
        if isinstance(stmt, Restore):
            yield stmt
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                yield from _restores(block)


def _reads(stmts):
    names = set()
    for stmt in stmts:
        if not isinstance(stmt, Restore):
            names.update(loads(stmt))
    return names


def _method(owner, method, *args):
    return gast.Call(func=gast.Attribute(value=make_name(owner), attr=method, ctx=gast.Load()),
                     args=list(args), keywords=[])


def _line(node, like, sweep):
    node.pb_line = getattr(like, "pb_line", None)
    node.pb_sweep = sweep
    return node


def shape_reads(node, imports):
    """The names ``node`` reads only for their shape and dtype: bare-name
    arguments its helper declares it reads only for their shape (``runtime.declare``)."""
    found = set()
    for call in walk(node):
        if not isinstance(call, gast.Call):
            continue
        func = call.func
        if isinstance(func, gast.Name):
            helper = imports.get(func.id)
            known = getattr(helper, "__module__", "").startswith("pullback.runtime")
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            helper = getattr(imports.get(func.value.id), func.attr, None)
            known = imports.get(func.value.id) is numpy
        else:
            continue
        positions = helper_facts(helper).shape_only if known else ()
        for i in positions:
            if i < len(call.args) and isinstance(call.args[i], gast.Name):
                found.add(id(call.args[i]))
    return found


def _note_reads(node, position, reads, imports):
    """Record each name ``node`` loads at ``position``, with whether the read
    needs only the value's shape."""
    only_shape = shape_reads(node, imports)
    for sub in walk(node):
        if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
            reads.setdefault(sub.id, []).append((position, id(sub) in only_shape))


def _positions(stmts, restores, reads, counter, imports, loop_start=None):
    """Number the reverse sweep's statements in execution order; note where
    each name is read, and from where each restore must look for readers (the
    start of its outermost loop: later iterations run the loop body again)."""
    for stmt in stmts:
        position = next(counter)
        if isinstance(stmt, Restore):
            restores.append((stmt, loop_start if loop_start is not None else position))
            continue
        if isinstance(stmt, (gast.For, gast.While)):
            if isinstance(stmt, gast.For):
                _note_reads(stmt.iter, position, reads, imports)
            _positions(stmt.body, restores, reads, counter, imports,
                       loop_start if loop_start is not None else position)
            continue
        if isinstance(stmt, gast.If):
            _note_reads(stmt.test, position, reads, imports)
            _positions(stmt.body, restores, reads, counter, imports, loop_start)
            _positions(stmt.orelse, restores, reads, counter, imports, loop_start)
            continue
        _note_reads(stmt, position, reads, imports)


def insert_stacks(sweeps, namer, runtime_name, params):
    """Turn Restore markers into pops and pushes; return the stacks' names.

    A restore is kept only if something in the reverse sweep reads the
    variable after it (or anywhere in the loop it belongs to).
    """
    import itertools
    restores, reads = [], {}
    counter = itertools.count()
    _positions(sweeps.reverse, restores, reads, counter, sweeps.imports)
    end = next(counter)
    for gradient in sweeps.gradients:
        for name in loads(gradient):
            reads.setdefault(name, []).append((end, False))
    needed = []
    changed = True
    while changed:          # a restored element's index must itself be available
        changed = False
        for restore, start in restores:
            if restore not in needed and any(p > start for p, _ in reads.get(restore.name, ())):
                needed.append(restore)
                if restore.index is not None:
                    for name in loads(restore.index):
                        reads.setdefault(name, []).append((start + 1, False))
                changed = True
    # names whose every read after their first restore needs only the shape
    first = {}
    for restore, start in restores:
        if restore in needed:
            first[restore.name] = min(first.get(restore.name, start), start)
    whole = {restore.name for restore in needed if restore.index is not None or restore.append}
    shapes = {name for name, start in first.items() if name not in whole
              and all(only for p, only in reads.get(name, ()) if p > start)}
    stacks = {}
    pushes = {}
    for restore in needed:
        if restore.append:
            continue
        stack = stacks.setdefault(restore.name, namer.fresh(restore.name + "_stack"))
        if restore.index is not None:
            saved = gast.Call(func=make_name(runtime_name("copy_of")), args=[gast.Subscript(
                value=make_name(restore.name), slice=clone(restore.index), ctx=gast.Load())],
                keywords=[])
        elif restore.name in shapes:
            saved = gast.Call(func=make_name(runtime_name("shape_only")),
                              args=[make_name(restore.name)], keywords=[])
        else:
            saved = make_name(restore.name)
        push = _line(gast.Expr(value=_method(stack, "append", saved)), restore.site, "forward")
        push.pb_pair = id(restore)      # the pop that undoes it has the same mark
        pushes.setdefault(id(restore.site), []).append(push)
    sweeps.forward = _with_pushes(sweeps.forward, pushes)
    sweeps.reverse = _with_pops(sweeps.reverse, set(map(id, needed)), stacks)
    overwritten = [name for name in stacks if name not in params]
    return stacks, overwritten


def _with_pushes(stmts, pushes):
    out = []
    for stmt in stmts:
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                setattr(stmt, field_name, _with_pushes(block, pushes))
        out.extend(pushes.get(id(stmt), ()))
        out.append(stmt)
    return out


def _with_pops(stmts, needed, stacks):
    out = []
    for stmt in stmts:
        if isinstance(stmt, Restore):
            if id(stmt) not in needed:
                continue
            if stmt.append:
                pop = gast.Expr(value=_method(stmt.name, "pop"))
            elif stmt.index is not None:
                pop = gast.Assign(targets=[gast.Subscript(value=make_name(stmt.name),
                                                          slice=clone(stmt.index), ctx=gast.Store())],
                                  value=_method(stacks[stmt.name], "pop"), type_comment=None)
            else:
                pop = gast.Assign(targets=[make_name(stmt.name, gast.Store())],
                                  value=_method(stacks[stmt.name], "pop"), type_comment=None)
            pop.pb_pair = id(stmt)
            out.append(_line(pop, stmt.site, "reverse"))
            continue
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                new = _with_pops(block, needed, stacks)
                if field_name == "body" and not new:
                    new = [gast.Pass()]
                setattr(stmt, field_name, new)
        out.append(stmt)
    return out


__all__ = ["insert_stacks", "index_value"]
