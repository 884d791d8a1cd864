"""Stage 5b: save what the reverse sweep reads before the forward sweep overwrites it.

The reverse transformer leaves a ``Restore`` marker wherever a variable
assigned more than once gets an earlier value back. Here each marker whose
variable the reverse sweep reads becomes a pop, and the forward sweep gets
the matching push: just before the statement that overwrote the value, or,
for the value a loop iteration ends with (an ``after`` marker), just after
the iteration's last assignment of it, popped at the start of the matching
reverse step. The other markers disappear. Stacks are plain lists named for
what they hold (``x_stack``), so only values the adjoint reads are ever
kept; a value it reads only for its shape and dtype (``unbroadcast(g, x)``)
is read from what it was made of where a loop step has that anyway
(``pos[:, None, :]`` for a view of ``pos``, ``vel`` for ``dt * vel``), else
kept as ``shape_only(x)``, which holds no data.
"""
import itertools

import gast
import numpy

from pullback.runtime.declare import helper_facts

from pullback.code.annotations import mark
from pullback.code.astutil import clone, loads, stores, walk
from pullback.code.quote import quote, quote_expr
from pullback.transform.reverse import Restore, index_value
from pullback.transform.views import view_readers


def _reads(stmts):
    names = set()
    for stmt in stmts:
        if not isinstance(stmt, Restore):
            names.update(loads(stmt))
    return names


def shape_arguments(node, imports):
    """``(call, position, dtype)`` for every argument of a call in ``node``
    that its helper declares it reads only for its shape (``runtime.declare``;
    ``dtype``: and its dtype)."""
    for call in walk(node):
        match call:
            case gast.Call(func=gast.Name(id=name)):
                helper = imports.get(name)
                known = getattr(helper, "__module__", "").startswith("pullback.runtime")
            case gast.Call(func=gast.Attribute(value=gast.Name(id=owner), attr=attribute)):
                helper = getattr(imports.get(owner), attribute, None)
                known = imports.get(owner) is numpy
            case _:
                continue
        facts = helper_facts(helper) if known else None
        for i in facts.shape_only if facts else ():
            if i < len(call.args):
                yield call, i, facts.dtype


def shape_reads(node, imports):
    """The names ``node`` reads only for their shape and dtype: bare-name
    arguments its helper declares it reads only for their shape, and the
    values such an argument indexes with literals (``pos[:, None, :]``)."""
    found = set()
    for call, i, _ in shape_arguments(node, imports):
        argument = call.args[i]
        while isinstance(argument, gast.Subscript) and not loads(argument.slice):
            argument = argument.value
        if isinstance(argument, gast.Name):
            found.add(id(argument))
    return found


def share_iteration_shapes(stmts, sources, imports, restored=frozenset(), step=((), ()),
                           anywhere=None):
    """Shape reads of values a loop iteration computed, read from what they
    are made of (``unbroadcast(g, part)`` -> ``unbroadcast(g, pos[:, None, :])``
    for ``part = pos[:, None, :]``), so that the value itself need not be kept.

    ``sources`` (``loops.shape_sources``) says what holds a value's shape in
    the reverse of its loop body: only a read inside the reverse step that
    restores the value (its body holds the value's restore), before that
    restore (after it, the value is an earlier iteration's: the zero adjoint
    a step ends with reads it), and not where the step reads the value whole
    anyway. Of the candidates, the first one whose names the step reads
    anyway, else the last; where the helper reads the dtype too, only an
    exact one. A value of the same shape (``exact`` None: another of the
    value's class) only where it too holds this step's value: a value the
    step restores, before its restore, or one no step restores.
    """
    if anywhere is None:        # the values some reverse step restores
        anywhere = {s.name for s in walk_restores(stmts)}
    for stmt in stmts:
        match stmt:
            case Restore(name=name, after=False):
                restored = restored - {name}     # from here on it holds an earlier value
            case Restore():
                continue
            case gast.For() | gast.While():
                inner = {s.name for s in stmt.body if isinstance(s, Restore)}
                share_iteration_shapes(stmt.body, sources, imports, restored | inner,
                                       _step_reads(stmt.body, imports) if inner & set(sources)
                                       else step, anywhere)
            case gast.If():
                share_iteration_shapes(stmt.body, sources, imports, restored, step, anywhere)
                share_iteration_shapes(stmt.orelse, sources, imports, restored, step, anywhere)
            case _ if restored:
                for call, i, dtype in list(shape_arguments(stmt, imports)):
                    match call.args[i]:
                        case gast.Name(id=name) if name in restored and name in sources \
                                and name not in step[1]:
                            fits = [e for e, exact in sources[name] if exact or not dtype
                                    if exact is not None or e.id in restored or e.id not in anywhere]
                            chosen = _chosen_source(fits, step)
                            if chosen is not None:
                                call.args[i] = clone(chosen)


def walk_restores(stmts):
    """The Restore markers in ``stmts``, in loops and branches too."""
    for stmt in stmts:
        if isinstance(stmt, Restore):
            yield stmt
        for field in ("body", "orelse"):
            yield from walk_restores(getattr(stmt, field, None) or [])


def _chosen_source(fits, step):
    """Of the expressions holding a value's shape, the first whose names the
    reverse step ``step`` (``_step_reads``) reads whole anyway, else the first
    whose names it reads, else the last one the value is made of (the others
    are values of the same shape, no better than the value itself)."""
    fits = [(expression, set(loads(expression))) for expression in fits]
    for reads in (step[1], step[0]):
        chosen = next((e for e, names in fits if names <= reads), None)
        if chosen is not None:
            return chosen
    made_of = [e for e, _ in fits if not isinstance(e, gast.Name)]
    return made_of[-1] if made_of else None


def _step_reads(stmts, imports):
    """The names ``stmts`` read, and those of them read for more than their shape."""
    read, whole = set(), set()
    for stmt in stmts:
        if isinstance(stmt, Restore):
            continue
        only_shape = shape_reads(stmt, imports)
        for node in walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                read.add(node.id)
                if id(node) not in only_shape:
                    whole.add(node.id)
    return read, whole


class _Reads:
    """The reverse sweep's statements numbered in execution order: where each
    name is read (and whether only for its shape), and for each restore the
    span of positions whose reads it serves."""

    def __init__(self, imports):
        self.imports = imports
        self.counter = itertools.count()
        self.reads = {}         # name -> [(position, shape only)]
        self.restores = []      # [restore, start, end]: it serves reads start < p < end
        self.position = {}      # id(restore) -> its position
        self.numbered = []      # (name, position) of every restore but the after ones
        self.blocks = []        # (spans, first position, end) of each block numbered
        self.in_loop = {}       # id(restore) -> is it inside a loop

    def note(self, node, position):
        only_shape = shape_reads(node, self.imports)
        for sub in walk(node):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
                self.reads.setdefault(sub.id, []).append((position, id(sub) in only_shape))

    def block(self, stmts, loop_start=None):
        """Number ``stmts``. A restore inside a loop serves every read from
        the start of its outermost loop on (later iterations run the loop
        body again). Where a reverse step can start with its own pop of a
        variable (an ``after`` restore), that pop serves the reads up to the
        next restore of the variable, and the restore of the value the
        iteration started with is not kept: unless something reads that
        value (``pos = pos + v`` with ``pos`` read for the step's earlier
        lines, or a read after the loop); then the variable keeps only that
        restore, which serves the step before as well: one copy per iteration."""
        spans = []
        begin = None
        for stmt in stmts:
            position = next(self.counter)
            begin = position if begin is None else begin
            match stmt:
                case Restore():
                    self.position[id(stmt)] = position
                    self.in_loop[id(stmt)] = loop_start is not None or stmt.last_step
                    if not stmt.after:
                        self.numbered.append((stmt.name, position))
                    if stmt.index is not None:      # the pop y[i] = ... reads i there
                        self.note(stmt.index, position)
                    start = loop_start if loop_start is not None else position
                    spans.append([stmt, None if stmt.after else start, float("inf")])
                case gast.For() | gast.While():
                    if isinstance(stmt, gast.For):
                        self.note(stmt.iter, position)
                    self.block(stmt.body, loop_start if loop_start is not None else position)
                case gast.If():
                    self.note(stmt.test, position)
                    self.block(stmt.body, loop_start)
                    self.block(stmt.orelse, loop_start)
                case _:
                    self.note(stmt, position)
        self.blocks.append((spans, begin, next(self.counter)))
        self.restores += spans

    def decide(self):
        """Once every read is known: which ``after`` restores a step keeps."""
        for spans, begin, end in self.blocks:
            self._decide(spans, begin, end)

    def _decide(self, spans, begin, end):
        # values whose restore to the start of the iteration something reads:
        # the rest of the step, or code outside the loop (the value before it)
        carried = {restore.name for restore, start, _ in spans if restore.first_in_step
                   and any(self.position[id(restore)] < p < end or (start < p and not begin <= p < end)
                           for p, _ in self.reads.get(restore.name, ()))}
        for span in spans:
            restore = span[0]
            if restore.after and restore.name in carried:
                # the value its iteration started with is read: its restore serves
                # the reads of the step before too (no second copy)
                span[1:] = [0, 0]
            elif restore.after:     # up to the next restore of the variable in this step
                span[1] = self.position[id(restore)]
                later = [p for name, p in self.numbered
                         if name == restore.name and span[1] < p < end]   # nested ones too
                span[2] = min(later, default=float("inf"))
            elif restore.first_in_step and restore.name not in carried:
                span[1:] = [0, 0]               # nothing reads it


def _needed_restores(sweeps, imports):
    """The restores something in the reverse sweep reads after (in their span),
    and for each name the reads that restored values serve."""
    numbered = _Reads(imports)
    numbered.block(sweeps.reverse)
    end = next(numbered.counter)
    reads = numbered.reads
    for gradient in sweeps.gradients:
        for name in loads(gradient):
            reads.setdefault(name, []).append((end, False))
    # a view's data read needs what is put back into a part of its array (views.py)
    viewed = {base: [p for view in views for p, only in reads.get(view, ()) if not only]
              for base, views in view_readers(sweeps.forward).items()}
    numbered.decide()
    needed = []
    mates = shared_saves(numbered.restores)
    changed = True
    while changed:          # a restored element's index must itself be available
        changed = False
        for restore, start, stop in numbered.restores:
            parts = viewed.get(restore.name, ()) if restore.index is not None else ()
            if restore not in needed and (any(start < p < stop for p, _ in reads.get(restore.name, ()))
                                          or any(start < p < stop for p in parts)
                                          or any(m in needed for m in mates.get(id(restore), ()))):
                needed.append(restore)
                if restore.index is not None:
                    for name in loads(restore.index):
                        reads.setdefault(name, []).append((start + 1, False))
                changed = True
    # names whose every read after their first restore needs only the shape
    first = {}
    for restore, start, _ in numbered.restores:
        if restore in needed:
            first[restore.name] = min(first.get(restore.name, start), start)
    whole = {restore.name for restore in needed if restore.index is not None or restore.append}
    for restore in needed:
        restore.in_loop = numbered.in_loop[id(restore)]
    shapes = {name for name, start in first.items() if name not in whole
              and all(only for p, only in reads.get(name, ()) if p > start)}
    return needed, shapes, mates


def shared_saves(spans):
    """id(restore) -> the other restores given back from the same save: a
    loop's last iteration, undone on its own (``Restore.last_step``,
    ``exits.py``), gives back what the same push saved as the full steps do.
    One push serves them all, so all pop where one is needed."""
    groups = {}
    for restore, _, _ in spans:
        key = (id(restore.site), restore.name, restore.after, restore.append)
        groups.setdefault(key, []).append(restore)
    return {id(r): [m for m in group if m is not r] for group in groups.values()
            if len(group) > 1 and any(m.last_step for m in group) for r in group}


def insert_stacks(sweeps, namer, runtime_name, params):
    """Turn Restore markers into pops and pushes.

    Outside loops a value is saved at most once: it is kept in a name
    (``y_before = y`` ... ``y = y_before``), not on a stack. Returns the
    stacks' names, the variables a push may read before the forward sweep
    first assigns them (they start as None), and the variables given back.
    """
    if getattr(sweeps, "shape_sources", None):
        share_iteration_shapes(sweeps.reverse, sweeps.shape_sources, sweeps.imports)
    needed, shapes, mates = _needed_restores(sweeps, sweeps.imports)
    stacks, holders = {}, {}
    before, after = {}, {}
    pushed = set()
    for restore in needed:
        if restore.append or id(restore) in pushed:
            continue
        pushed.update(id(m) for m in mates.get(id(restore), ()))
        # a push several pops undo is paired with none (merge_stacks leaves it)
        pair = None if id(restore) in mates else id(restore)
        if restore.index is not None and _may_add_a_key(restore, sweeps.dicts):
            # d["key"] = v may add the key: what is saved says whether it was there
            saved = quote_expr("saved_item(v, i)", saved_item=runtime_name("saved_item"),
                               v=restore.name, i=restore.index)
        elif restore.index is not None:
            saved = quote_expr("copy_of(v[i])", copy_of=runtime_name("copy_of"), v=restore.name,
                               i=restore.index)
        elif restore.name in shapes:
            saved = quote_expr("shape_only(v)", shape_only=runtime_name("shape_only"),
                               v=restore.name)
        else:
            saved = quote_expr("v", v=restore.name)
        if restore.index is None and not restore.in_loop:
            holder = holders[id(restore)] = namer.fresh(restore.name + "_before")
            push = mark(quote("holder = value", holder=holder, value=saved),
                        line=getattr(restore.site, "pb_line", None), sweep="forward",
                        pair=id(restore))
        else:
            stack = stacks.setdefault(restore.name, namer.fresh(restore.name + "_stack"))
            push = quote("stack.append(value)", stack=stack, value=saved)
            mark(push, line=getattr(restore.site, "pb_line", None), sweep="forward",
                 pair=pair)             # the pop that undoes it has the same mark
        (after if restore.after else before).setdefault(id(restore.site), []).append(push)
    sweeps.forward = _with_pushes(sweeps.forward, before, after)
    keyed = {id(r) for r in needed if r.index is not None and _may_add_a_key(r, sweeps.dicts)}
    sweeps.reverse = _with_pops(sweeps.reverse, set(map(id, needed)), stacks, holders,
                                set(mates), runtime_name, keyed)
    unbound = []
    for restore in needed:
        if restore.after or restore.append or restore.index is not None \
                or restore.name in params or restore.name in unbound:
            continue
        marker = holders.get(id(restore), stacks.get(restore.name))
        if not _assigned_before_push(sweeps.forward, restore.name, marker):
            unbound.append(restore.name)
    given_back = {restore.name for restore in needed if not restore.append}
    return stacks, unbound, given_back


def _assigned_before_push(block, name, marker):
    """Is ``name`` assigned before every push onto ``marker`` (a stack, or the
    name holding a value saved outside loops): by a statement of the block
    holding the push (or of a block around it) before it?"""
    def pushes(stmt):
        return marker in loads(stmt) or marker in stores(stmt)

    for stmt in block:
        if isinstance(stmt, gast.Assign) and not pushes(stmt) and any(
                isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)
                for target in stmt.targets for n in walk(target)):
            return True
        if pushes(stmt):
            inner = [b for b in (getattr(stmt, "body", None), getattr(stmt, "orelse", None))
                     if isinstance(b, list) and any(pushes(s) for s in b)]
            return bool(inner) and isinstance(stmt, (gast.If, gast.For, gast.While)) and all(
                _assigned_before_push(b, name, marker) for b in inner)
    return False


def _with_pushes(stmts, before, after):
    out = []
    for stmt in stmts:
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                setattr(stmt, field_name, _with_pushes(block, before, after))
        out.extend(before.get(id(stmt), ()))
        out.append(stmt)
        out.extend(after.get(id(stmt), ()))
    return out


def _may_add_a_key(restore, dicts):
    """``d[k] = v`` where ``d`` may be a dict, which the write may give a new key:
    a key written in the code (``d["W"]``), or a name's value as the index of a
    name that may hold a dict (reverse.dict_names)."""
    index = restore.index
    if isinstance(index, gast.Constant):
        return isinstance(index.value, str)
    return isinstance(index, gast.Name) and restore.name in dicts


def _pop(restore, stacks, holders, runtime_name, keyed):
    """The statement giving ``restore``'s variable its saved value back."""
    if id(restore) in holders:
        return quote("v = holder", v=restore.name, holder=holders[id(restore)])
    if restore.append:
        return quote("v.pop()", v=restore.name)
    if restore.index is not None and id(restore) in keyed:
        return quote("restore_item(v, i, stack.pop())", v=restore.name, i=restore.index,
                     stack=stacks[restore.name], restore_item=runtime_name("restore_item"))
    if restore.index is not None:
        return quote("v[i] = stack.pop()", v=restore.name, i=restore.index,
                     stack=stacks[restore.name])
    return quote("v = stack.pop()", v=restore.name, stack=stacks[restore.name])


def _with_pops(stmts, needed, stacks, holders, unpaired, runtime_name, keyed):
    out = []
    for stmt in stmts:
        if isinstance(stmt, Restore):
            if id(stmt) in needed:
                pop = mark(_pop(stmt, stacks, holders, runtime_name, keyed), sweep="reverse",
                           line=getattr(stmt.site, "pb_line", None))
                out.append(mark(pop, pair=None if id(stmt) in unpaired else id(stmt)))
            continue
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                new = _with_pops(block, needed, stacks, holders, unpaired, runtime_name, keyed)
                if field_name == "body" and not new:
                    new = [gast.Pass()]
                setattr(stmt, field_name, new)
        out.append(stmt)
    return out


__all__ = ["insert_stacks", "index_value"]
