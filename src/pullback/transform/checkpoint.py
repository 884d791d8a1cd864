"""Stage 5b, last: checkpointed loops keep a few snapshots of their state, not every step.

A loop marked by frontend/checkpoints.py runs in the forward sweep in segments
(``checkpoint_segments``: about √n of about √n steps), without the pushes the
stacks pass put in it, keeping the loop's state at the start of each segment. The
reverse sweep takes the segments from last to first: it restores the segment's
state, runs the segment again with the pushes, then the segment's reverse steps,
which pop them. The stacks hold one segment at a time; the forward sweep runs twice.
With ``snapshots=k`` the segments follow the binomial schedule for k states
(runtime/checkpointing.py), whose reverse sweep also runs ahead to take snapshots.

The state is what a step may read before assigning it (``_exposed``): the values
an earlier step or the code before the loop made. Of those, the ones the loop never
assigns are kept too where the code after the loop assigns them again. Snapshots
hold references, as the stacks do, so a loop that changes a value in place it did
not make in the same step is refused, as is a change in place after the loop of a
value the loop touches: the recomputed steps would read the changed value.
"""
import gast

from pullback.code.annotations import mark
from pullback.code.astutil import clone, loads, stores, walk, walk_statements
from pullback.code.quote import quote, quote_block, quote_expr
from pullback.errors import InternalError, UnsupportedSyntax, refuse

# generated code shows these as comments (backend/emit.py renders them)
_COMMENT = "\0pullback-comment:"

# the methods that change their object in place (NumPy's in-place forms are
# subscript writes by now: frontend/own_arguments.py)
_CHANGING_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "sort",
                               "reverse", "update", "setdefault", "popitem", "add", "discard",
                               "fill", "resize", "put", "itemset", "__setitem__"})


def checkpoint_loops(sweeps, namer, runtime_name, stacks, defined):
    """Checkpoint the loops marked ``pb_checkpoint`` in ``sweeps`` (after the stacks
    pass: ``stacks`` maps variables to the stacks it made; ``defined``, the names
    bound when the forward sweep starts: parameters, and those it sets to None).

    Returns the names the reverse sweep now assigns besides its pops (the output's
    value must be kept before it: ``Sweeps.value_name``), and the stacks it makes
    (the forward sweep need not).
    """
    loops = [s for s in walk_statements(sweeps.forward)
             if isinstance(s, gast.For) and getattr(s, "pb_checkpoint", None) is not None]
    pushed = frozenset(stacks.values())
    rebound, made_in_reverse = set(), set()
    for loop in loops:
        reverse = _reverse_loop(sweeps.reverse, loop.pb_checkpoint)
        if reverse is None:         # no derivative flows through it: nothing is pushed
            if any(_push_onto(s, pushed) for s in walk_statements(loop.body)):
                raise InternalError("a checkpointed loop pushes values no reverse loop pops")
            continue
        if getattr(loop, "pb_counter", None) is not None:
            raise InternalError("a checkpointed loop may leave early (frontend/checkpoints.py "
                                "refuses break and return)")
        state, own = _checkpoint(loop, reverse, sweeps, namer, runtime_name, pushed, defined)
        rebound |= set(state) | set(stores(gast.Module(body=loop.body, type_ignores=[])))
        made_in_reverse |= set(own)
    return rebound, made_in_reverse


def _checkpoint(loop, reverse, sweeps, namer, runtime_name, pushed, defined):
    """Rewrite ``loop`` and its ``reverse`` in ``sweeps``; returns the loop's state
    and the stacks the reverse sweep makes."""
    made = set(stores(gast.Module(body=loop.body, type_ignores=[])))
    plain = _without_pushes(clone(loop.body), pushed)      # the forward sweep's steps
    exposed = {}            # what a step of the user's loop reads from before it
    _exposed(plain, {loop.target.id}, exposed)
    _refuse_changes_in_place(loop, exposed, sweeps.forward, pushed)
    read = loads(gast.Module(body=reverse.body, type_ignores=[]))
    loop.body = _needed_for(loop.body, read, pushed)       # the steps run again
    exposed = {}
    _exposed(loop.body, {loop.target.id}, exposed)
    after = _stores_after(sweeps.forward, loop)
    state = [n for n in exposed if n in made or n in after]
    unbound = [n for n in state if n not in _defined_before(sweeps.forward, loop, set(defined))]
    names = {base: namer.fresh(base) for base in ("steps", "segments", "segment", "snapshots")}
    schedule = _Schedule(loop.pb_checkpoint.snapshots if state else None, runtime_name, namer)
    own = _own_stacks(loop, reverse, sweeps, pushed)
    kept = _names_outside(loop, reverse, sweeps) | set(state) | {loop.target.id}
    _rename_temporaries(loop.body, loop.body + reverse.body, kept, namer)
    if schedule.binomial:       # the steps run to take a snapshot: what makes the state
        schedule.advance = _needed_for(clone(plain), set(state), pushed)
        _rename_temporaries(schedule.advance, schedule.advance, kept, namer)
    sweeps.forward = _replaced(sweeps.forward, loop,
                               _forward(loop, plain, state, unbound, names, schedule))
    created = [_marked(quote("stack = []", stack=stack), "reverse", reverse.pb_line)
               for stack in own]
    if not any(stmt is reverse for stmt in sweeps.reverse):    # made at the top level:
        sweeps.reverse, created = created + sweeps.reverse, []   # merge_stacks looks there
    sweeps.reverse = _replaced(sweeps.reverse, reverse,
                               created + _reverse(loop, reverse, state, names, schedule))
    return state, own


def _names_outside(loop, reverse, sweeps):
    """The names the sweeps read or assign outside ``loop`` and its ``reverse``."""
    inside = {id(s) for s in walk_statements([loop, reverse])}
    outside = set()
    for stmt in walk_statements(sweeps.forward + sweeps.reverse):
        if id(stmt) not in inside:
            outside.update(n for part in _own_parts(stmt) for n in loads(part) + stores(part))
    return outside


def _own_parts(stmt):
    """What a statement holds besides its nested blocks."""
    match stmt:
        case gast.If(test=test) | gast.While(test=test):
            return [test]
        case gast.For(target=target, iter=steps):
            return [target, steps]
    return [stmt]


def _rename_temporaries(steps, stmts, kept, namer):
    """The temporaries of a copy of the steps (pullback's names ``steps`` assign,
    none of ``kept``) get names of their own in ``stmts``: each then has one
    assignment, which the optimizer may inline into its reader
    (``x = np.tanh(1.1 * x + 0.1)``)."""
    temporaries = {stmt.targets[0].id for stmt in walk_statements(steps)
                   if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                   and getattr(stmt, "pb_saved", None) is None}
    renamed = {name: namer.fresh(name) for name in sorted(temporaries - namer.user - kept)}
    for node in walk(gast.Module(body=stmts, type_ignores=[])):
        if isinstance(node, gast.Name) and node.id in renamed:
            node.id = renamed[node.id]


def _own_stacks(loop, reverse, sweeps, stacks):
    """The stacks only ``loop`` pushes onto and only its ``reverse`` pops: the
    reverse sweep makes them, for they are filled and emptied there (a vjp's
    backward function then has them, and its optimizer may merge them)."""
    own = {s.value.func.value.id for s in walk_statements(loop.body) if _push_onto(s, stacks)}
    inside = {id(s) for s in walk_statements([loop, reverse])}
    for stmt in walk_statements(sweeps.forward + sweeps.reverse):
        if id(stmt) not in inside:
            own -= {n for part in _own_parts(stmt) for n in loads(part)}
    return sorted(own)


def _needed_for(body, read, stacks):
    """``body`` (run again in the reverse sweep) without the assignments whose
    values neither its pushes nor ``read`` (the names the reverse steps read)
    need, in this step or a later one: after the segment's reverse steps, its
    state comes from the next snapshot, and what the code before the loop
    reads from it from the pops."""
    needed = set(read)
    removable = [s for s in walk_statements(body) if _plain_assignment(s)]
    for stmt in walk_statements(body):
        if not _plain_assignment(stmt):
            parts = {gast.If: lambda s: s.test, gast.While: lambda s: s.test,
                     gast.For: lambda s: s.iter}.get(type(stmt))
            needed.update(loads(parts(stmt) if parts else stmt))
    kept, changed = set(), True
    while changed:
        changed = False
        for stmt in removable:
            if id(stmt) not in kept and needed & set(stores(stmt)):
                kept.add(id(stmt))
                needed.update(loads(stmt))
                changed = True
    dropped = {id(s) for s in removable if id(s) not in kept}
    return _without(body, dropped)


def _plain_assignment(stmt):
    """An assignment to names only (no subscript or attribute written)."""
    return isinstance(stmt, gast.Assign) and all(
        isinstance(n, gast.Name) or (isinstance(n, gast.Tuple) and all(
            isinstance(e, gast.Name) for e in n.elts)) for n in stmt.targets)


def _without(stmts, dropped):
    out = []
    for stmt in stmts:
        if id(stmt) in dropped:
            continue
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                new = _without(block, dropped)
                setattr(stmt, field, new or ([mark(gast.Pass(), sweep="forward")]
                                             if field == "body" else []))
        out.append(stmt)
    return out


class _Schedule:
    """Where the segments come from: about √n of about √n steps (``snapshots``
    None), or the binomial schedule for that many states (``advance``: the steps
    that make the state, run to take a snapshot in the reverse sweep)."""

    def __init__(self, snapshots, runtime_name, namer):
        self.binomial, self.snapshots = snapshots is not None, snapshots
        self.advance = None
        if self.binomial:
            self.segments = runtime_name("binomial_segments")
            self.reverse = runtime_name("binomial_reverse")
            self.flag = namer.fresh("advance")
        else:
            self.segments = runtime_name("checkpoint_segments")

    def segments_call(self, steps):
        count = f", {self.snapshots}" if self.binomial else ""
        return quote_expr(f"segments_of(steps{count})", segments_of=self.segments, steps=steps)


def _forward(loop, plain, state, unbound, names, schedule):
    """The loop in segments, keeping the state at the start of each, pushing nothing."""
    line = loop.pb_line
    kind = "the binomial schedule's segments" if schedule.binomial else "each segment"
    made = [_comment(f"checkpointed loop: the forward sweep keeps the state at the start of "
                     f"{kind}, not the values of each step")]
    made += [quote("name = None", name=name) for name in unbound]    # read only once set
    made += quote_block("""
        steps = iterable
        segments = schedule
        """, steps=names["steps"], iterable=loop.iter, segments=names["segments"],
        schedule=schedule.segments_call(names["steps"]))
    if state:
        made.append(quote("snapshots = []", snapshots=names["snapshots"]))
    made += quote_block("""
        for segment in segments:
            keep
            for target in steps[segment]:
                body
        """, keep=[quote("snapshots.append(state)", snapshots=names["snapshots"],
                         state=_state_value(state))] if state else [],
        **_holes(loop, names, body=plain))
    return [_marked(stmt, "forward", line) for stmt in made]


def _reverse(loop, reverse, state, names, schedule):
    """Segment after segment, last first: its state back, its steps again with
    their pushes, then their reverse steps (the binomial schedule: and the
    snapshots it takes on the way)."""
    line = reverse.pb_line
    reverse.iter = quote_expr("reversed(steps[segment])", steps=names["steps"],
                              segment=names["segment"])
    rerun = _marked(quote("""
        for target in steps[segment]:
            body
        """, **_holes(loop, names, body=loop.body)), "forward", line)
    holes = dict(segment=names["segment"], segments=names["segments"], rerun=[rerun],
                 reverse=[reverse], comment=[_comment(
                     "its state at the segment's start, its steps again keeping what their "
                     "reverse reads, then their reverse")],
                 restore=[quote("state = snapshots.pop()", state=_state_value(state, gast.Store()),
                                snapshots=names["snapshots"])] if state else [])
    if not schedule.binomial:
        made = quote_block("""
            for segment in reversed(segments):
                comment
                restore
                rerun
                reverse
            """, **holes)
        return [_marked(stmt, "reverse", line) for stmt in made]
    advance = _marked(quote("""
        for target in steps[segment]:
            body
        """, **_holes(loop, names, body=schedule.advance)), "forward", line)
    made = quote_block("""
        for segment, flag in moves:
            if flag:
                note
                state_at_start = snapshots[-1]
                advance
                snapshots.append(state_at_end)
            else:
                comment
                restore
                rerun
                reverse
        """, moves=quote_expr(f"binomial_reverse(steps, {schedule.snapshots})",
                              binomial_reverse=schedule.reverse, steps=names["steps"]),
        flag=schedule.flag, state_at_start=_state_value(state, gast.Store()),
        state_at_end=_state_value(state), snapshots=names["snapshots"],
        advance=[advance], note=[_comment("from the latest snapshot to the start of a later "
                                          "segment, whose state it keeps")], **holes)
    return [_marked(stmt, "reverse", line) for stmt in made]


def _holes(loop, names, body):
    return dict(segments=names["segments"], segment=names["segment"], steps=names["steps"],
                snapshots=names["snapshots"], target=loop.target.id, body=body)


def _state_value(state, ctx=None):
    if len(state) == 1:
        return gast.Name(id=state[0], ctx=ctx or gast.Load(), annotation=None, type_comment=None)
    return gast.Tuple(elts=[gast.Name(id=n, ctx=ctx or gast.Load(), annotation=None,
                                      type_comment=None) for n in state], ctx=ctx or gast.Load())


def _marked(stmt, sweep, line):
    """``stmt`` and the statements in it that have no sweep yet, marked as of ``sweep``."""
    for inner in walk_statements([stmt]):
        if getattr(inner, "pb_sweep", None) is None:
            mark(inner, sweep=sweep, line=line)
    return stmt


def _comment(text):
    return gast.Expr(value=gast.Constant(value=_COMMENT + text, kind=None))


def _reverse_loop(stmts, checkpoint):
    """The reverse sweep's ``for t in reversed(range(...))`` of the checkpointed loop:
    its ``range(...)`` is a copy of the forward loop's, marked alike."""
    for stmt in walk_statements(stmts):
        match stmt:
            case gast.For(iter=gast.Call(func=gast.Name(id="reversed"), args=[steps])) \
                    if getattr(steps, "pb_checkpoint", None) is checkpoint:
                return stmt
    return None


def _push_onto(stmt, stacks):
    """Is ``stmt`` ``stack.append(value)`` for one of ``stacks``?"""
    match stmt:
        case gast.Expr(value=gast.Call(func=gast.Attribute(value=gast.Name(id=stack),
                                                           attr="append"))):
            return stack in stacks
    return False


def _without_pushes(stmts, stacks):
    return _without(stmts, {id(s) for s in walk_statements(stmts) if _push_onto(s, stacks)})


def _replaced(stmts, old, new):
    """``stmts`` with the statement ``old`` (at any depth) replaced by the list ``new``."""
    out = []
    for stmt in stmts:
        if stmt is old:
            out += new
            continue
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                setattr(stmt, field, _replaced(block, old, new))
        out.append(stmt)
    return out


def _exposed(stmts, defined, found):
    """Add to ``found`` (a dict used as an ordered set) the names ``stmts`` may read
    before assigning them, given the names ``defined`` before; return the names
    assigned on every path through them."""
    defined = set(defined)
    for stmt in stmts:
        match stmt:
            case gast.If(test=test, body=body, orelse=orelse):
                _note(loads(test), defined, found)
                defined |= _exposed(body, defined, found) & _exposed(orelse, defined, found)
            case gast.For(target=target, iter=steps, body=body, orelse=orelse):
                _note(loads(steps), defined, found)
                _exposed(body, defined | set(stores(target)), found)     # may run no step
                _exposed(orelse, defined, found)
            case gast.While(test=test, body=body, orelse=orelse):
                _note(loads(test), defined, found)
                _exposed(body, defined, found)
                _exposed(orelse, defined, found)
            case _:
                _note(loads(stmt), defined, found)
                defined |= set(stores(stmt))
    return defined


def _note(names, defined, found):
    for name in names:
        if name not in defined:
            found.setdefault(name, None)


def _defined_before(stmts, loop, defined):
    """The names certainly bound when ``loop`` starts (it is in ``stmts`` or in one
    of their branches, in no other loop), given ``defined`` at the start of ``stmts``."""
    found = _find_defined(stmts, loop, set(defined))
    if found is None:
        raise InternalError("a checkpointed loop is not where the forward sweep's branches lead")
    return found


def _find_defined(stmts, loop, defined):
    for stmt in stmts:
        if stmt is loop:
            return defined
        if isinstance(stmt, gast.If):
            for block in (stmt.body, stmt.orelse):
                found = _find_defined(block, loop, set(defined))
                if found is not None:
                    return found
        defined = _exposed([stmt], defined, {})
    return None


def _after(stmts, loop):
    """The statements that run after ``loop`` (those of its block and of the blocks
    around it that follow it; a later branch's both sides), nested ones included."""
    inside = {id(s) for s in walk_statements([loop])}
    seen = False
    for stmt in walk_statements(stmts):
        if stmt is loop:
            seen = True
        elif seen and id(stmt) not in inside:
            yield stmt


def _stores_after(stmts, loop):
    """The names the statements after ``loop`` assign."""
    names = set()
    for stmt in _after(stmts, loop):
        match stmt:
            case gast.For(target=target):
                names.update(stores(target))
            case gast.If() | gast.While():
                pass
            case _:
                names.update(stores(stmt))
    return names


def _changes_in_place(stmts, ignore):
    """``(name, statement)`` for each change in place under ``stmts``: ``y[i] = v``,
    ``y.a = v``, ``ys.append(v)`` (not the pushes onto ``ignore``, the stacks)."""
    for stmt in walk_statements(stmts):
        for part in _own_parts(stmt):
            for node in walk(part):
                match node:
                    case gast.Subscript(ctx=gast.Store()) | gast.Attribute(ctx=gast.Store()):
                        root = node.value
                    case gast.Call(func=gast.Attribute(value=gast.Name() as root, attr=method)) \
                            if method in _CHANGING_METHODS and root.id not in ignore:
                        pass
                    case _:
                        continue
                while isinstance(root, (gast.Subscript, gast.Attribute)):
                    root = root.value
                if isinstance(root, gast.Name):
                    yield root.id, stmt


def _refuse_changes_in_place(loop, exposed, forward, stacks):
    """Refuse a step changing in place a value it did not make, and code after the
    loop changing in place a value the loop reads or makes."""
    checkpoint = loop.pb_checkpoint
    for name, stmt in _changes_in_place(loop.body, stacks):
        if name in exposed:
            raise refuse(UnsupportedSyntax, f"a checkpointed loop may not change {name} in place "
                         f"(a value an earlier step or the code before the loop made): its "
                         f"snapshots keep references", _at(stmt), checkpoint.location,
                         f"Make a new value instead ({name} = ... or np.concatenate), or remove "
                         f"pullback.checkpoint from the loop.")
    touched = set(loads(loop)) | set(stores(loop))
    for stmt in _after(forward, loop):
        for name, where in _changes_in_place([stmt], stacks):
            if name in touched:
                raise refuse(UnsupportedSyntax, f"{name} is changed in place after a "
                             f"checkpointed loop that reads or makes it: the reverse sweep "
                             f"recomputes the loop's steps", _at(where), checkpoint.location,
                             f"Copy {name} before changing it ({name} = {name}.copy()), or "
                             f"remove pullback.checkpoint from the loop.")


def _at(stmt):
    """A node at ``stmt``'s user line, for the error's excerpt."""
    if getattr(stmt, "lineno", None) is not None:
        return stmt
    node = gast.Pass()
    node.lineno = getattr(stmt, "pb_line", None)
    return node
